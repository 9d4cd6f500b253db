"""Agencies the services look up by what they are; the administrators' lists of agencies and
users."""

from __future__ import annotations

from sqlalchemy import select

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.user import User
from referrals.queries.paging import Numbered, numbered


def police_desk() -> Agency | None:
    """The police referrals desk itself (its hours are the desk's working time; its notice
    address receives the desk's own notices)."""
    found: Agency | None = db.session.scalar(
        select(Agency)
        .where(Agency.kind == AgencyKind.POLICE_DESK, Agency.active.is_(True))
        .order_by(Agency.id)
        .limit(1)
    )
    return found


def active_choices(*, partners_only: bool = False, schools: bool = True) -> list[tuple[str, str]]:
    """Active agencies as (id, "Name (CODE)") for a select, by name; ``partners_only`` leaves
    out the police desk itself, ``schools=False`` the schools."""
    stmt = select(Agency.id, Agency.name, Agency.code).where(Agency.active.is_(True))
    if partners_only:
        stmt = stmt.where(Agency.kind != AgencyKind.POLICE_DESK)
    if not schools:
        stmt = stmt.where(Agency.kind != AgencyKind.SCHOOL)
    rows = db.session.execute(stmt.order_by(Agency.name))
    return [(str(a.id), f"{a.name} ({a.code})") for a in rows]


def school_by_urn(urn: str) -> Agency | None:
    found: Agency | None = db.session.scalar(
        select(Agency).where(Agency.school_urn == urn, Agency.kind == AgencyKind.SCHOOL)
    )
    return found


def listing(kind: AgencyKind | None, page: int, page_size: int) -> Numbered[Agency]:
    """Every agency (of one kind, if given), by kind and name, a numbered page at a time."""
    statement = select(Agency)
    if kind is not None:
        statement = statement.where(Agency.kind == kind)
    return numbered(statement.order_by(Agency.kind, Agency.name, Agency.id), page, page_size)


def users(page: int, page_size: int) -> Numbered[User]:
    """Every user, by role and e-mail address, a numbered page at a time."""
    return numbered(select(User).order_by(User.role, User.email, User.id), page, page_size)
