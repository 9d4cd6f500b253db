"""Running an access report (``queries/access.py``): each run is itself a consultation of the
trail, recorded with what was asked, so the next report on the same record shows it."""

from __future__ import annotations

from referrals.models.audit import AuditKind
from referrals.queries import access
from referrals.services import audit
from referrals.services.actors import Actor


def who_saw(
    actor: Actor, subject: access.Subject, *, before: int | None, page_size: int
) -> access.AccessPage:
    page = access.who_saw(subject, before=before, page_size=page_size)
    audit.record(
        actor,
        AuditKind.CONSULTATION,
        "access.who_saw",
        subject.kind,
        subject.id,
        detail={"asked": subject.label},
    )
    return page


def what_user_saw(
    actor: Actor, asked: access.UserPeriod, *, before: int | None, page_size: int
) -> access.AccessPage:
    page = access.what_user_saw(asked, before=before, page_size=page_size)
    audit.record(
        actor,
        AuditKind.CONSULTATION,
        "access.user_saw",
        "user",
        asked.user_id,
        detail={"first": asked.first.isoformat(), "last": asked.last.isoformat()},
    )
    return page
