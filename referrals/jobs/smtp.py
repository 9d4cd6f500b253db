"""Sending one outbox row over SMTP (host, port, STARTTLS, credentials from configuration)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from config import MailSettings
from referrals.models.outbox import OutboxMessage


def build(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    return email


def send(settings: MailSettings, message: OutboxMessage) -> None:
    """Raises :class:`smtplib.SMTPException` or :class:`OSError` on failure."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(build(message, settings.sender))
