"""A local SMTP server for development and tests (aiosmtpd): every message is kept as a file."""

from __future__ import annotations

import itertools
import time
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class FolderHandler:
    """Writes each message to ``folder`` as ``<time>-<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._counter):05d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted"


def start(folder: Path, *, port: int = 8025, host: str = "127.0.0.1") -> Controller:
    controller = Controller(FolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def read(folder: Path) -> list[Message]:
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
