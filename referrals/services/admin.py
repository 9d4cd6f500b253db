"""Administrators' changes to agencies and users. Every change is audited as an alteration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from sqlalchemy import func, select

from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.user import Role, User
from referrals.reference import BOROUGHS
from referrals.security import passwords
from referrals.services import audit, auth
from referrals.services.actors import Actor
from referrals.services.errors import InvalidInput

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\-]{1,39}$")


@dataclass
class AgencyInput:
    code: str
    name: str
    kind: AgencyKind | None
    borough_code: str = ""
    school_urn: str = ""
    notice_email: str = ""
    active: bool = True
    duty_manager_email: str = ""
    work_start: str = "09:00"
    work_end: str = "17:00"
    school_day_start: str = ""


@dataclass
class UserInput:
    email: str
    display_name: str
    role: Role | None
    agency_id: int | None = None
    active: bool = True


def _validate_agency(data: AgencyInput, existing: Agency | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = data.code.strip().upper()
    if not CODE_PATTERN.match(code):
        errors["code"] = "Code must be 2 to 40 capital letters, digits or -, like CSC-E09000022"
    elif db.session.scalar(
        select(Agency.id).where(Agency.code == code, Agency.id != (existing.id if existing else 0))
    ):
        errors["code"] = f"Another agency already has the code {code}"
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = "Enter the agency's name (200 characters or fewer)"
    if data.kind is None:
        errors["kind"] = "Choose the kind of agency"
    if data.borough_code and data.borough_code not in BOROUGHS:
        errors["borough_code"] = "Choose a London borough"
    if data.kind is not None and data.kind is not AgencyKind.POLICE_DESK and not data.borough_code:
        errors["borough_code"] = "Choose the borough this agency serves"
    urn = data.school_urn.strip()
    if data.kind is AgencyKind.SCHOOL:
        if not re.fullmatch(r"\d{6}", urn):
            errors["school_urn"] = "A school needs its 6-digit URN"
        elif db.session.scalar(
            select(Agency.id).where(
                Agency.school_urn == urn, Agency.id != (existing.id if existing else 0)
            )
        ):
            errors["school_urn"] = f"Another school already has URN {urn}"
    elif urn:
        errors["school_urn"] = "Only a school or setting has a URN: clear it or choose School"
    for name in ("notice_email", "duty_manager_email"):
        value = getattr(data, name).strip()
        if value and (not EMAIL_PATTERN.match(value) or len(value) > 254):
            errors[name] = "Enter an e-mail address like duty@example.org"
    start, end = _clock_time(data.work_start), _clock_time(data.work_end)
    if start is None:
        errors["work_start"] = "Enter the time the working day starts, like 09:00"
    if end is None:
        errors["work_end"] = "Enter the time the working day ends, like 17:00"
    elif start is not None and end <= start:
        errors["work_end"] = "The working day must end after it starts"
    if data.school_day_start.strip():
        if data.kind is not AgencyKind.SCHOOL:
            errors["school_day_start"] = "Only a school or setting has a school day start"
        elif _clock_time(data.school_day_start) is None:
            errors["school_day_start"] = "Enter the time the school day starts, like 08:30"
    return errors


def _clock_time(text: str) -> time | None:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", text or "")
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _apply_agency(agency: Agency, data: AgencyInput) -> None:
    assert data.kind is not None
    agency.code = data.code.strip().upper()
    agency.name = data.name.strip()
    agency.kind = data.kind
    agency.borough_code = data.borough_code or None
    agency.school_urn = data.school_urn.strip() if data.kind is AgencyKind.SCHOOL else None
    agency.notice_email = data.notice_email.strip().lower() or None
    agency.duty_manager_email = data.duty_manager_email.strip().lower() or None
    agency.active = data.active
    agency.work_start = _clock_time(data.work_start) or time(9, 0)
    agency.work_end = _clock_time(data.work_end) or time(17, 0)
    agency.school_day_start = _clock_time(data.school_day_start) if data.school_day_start else None


def create_agency(actor: Actor, data: AgencyInput) -> Agency:
    errors = _validate_agency(data, None)
    if errors:
        raise InvalidInput(errors)
    agency = Agency()
    _apply_agency(agency, data)
    db.session.add(agency)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "agency.created",
        "agency",
        agency.id,
        detail={"code": agency.code, "kind": agency.kind.value},
    )
    return agency


def update_agency(actor: Actor, agency: Agency, data: AgencyInput) -> Agency:
    errors = _validate_agency(data, agency)
    if errors:
        raise InvalidInput(errors)
    _apply_agency(agency, data)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "agency.updated",
        "agency",
        agency.id,
        detail={"code": agency.code, "active": agency.active},
    )
    return agency


def _validate_user(data: UserInput, existing: User | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    email = auth.normalise_email(data.email)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = "Enter an e-mail address like name@example.org"
    elif db.session.scalar(
        select(User.id).where(
            func.lower(User.email) == email, User.id != (existing.id if existing else 0)
        )
    ):
        errors["email"] = "A user with this e-mail address already exists"
    if not data.display_name.strip() or len(data.display_name) > 120:
        errors["display_name"] = "Enter the user's name (120 characters or fewer)"
    if data.role is None:
        errors["role"] = "Choose a role"
    agency = db.session.get(Agency, data.agency_id) if data.agency_id else None
    if data.agency_id and agency is None:
        errors["agency_id"] = "Choose an agency from the list"
    elif data.role is Role.PARTNER and (agency is None or agency.kind is AgencyKind.POLICE_DESK):
        errors["agency_id"] = "A partner user belongs to one partner agency: choose it"
    elif (
        data.role is not None
        and data.role is not Role.PARTNER
        and agency is not None
        and (agency.kind is not AgencyKind.POLICE_DESK)
    ):
        errors["agency_id"] = "Only partner users belong to a partner agency"
    return errors


def create_user(actor: Actor, data: UserInput, password: str) -> User:
    errors = _validate_user(data, None)
    try:
        passwords.check_policy(password, email=data.email)
    except passwords.PasswordPolicyError as exc:
        errors["password"] = str(exc)
    if errors:
        raise InvalidInput(errors)
    assert data.role is not None
    user = User(
        email=auth.normalise_email(data.email),
        display_name=data.display_name.strip(),
        password_hash=passwords.hash_password(password),
        role=data.role,
        agency_id=data.agency_id,
        active=data.active,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "user.created",
        "user",
        user.id,
        detail={"role": user.role.value, "agency": user.agency_id},
    )
    return user


def update_user(actor: Actor, user: User, data: UserInput, new_password: str = "") -> User:
    errors = _validate_user(data, user)
    if new_password:
        try:
            passwords.check_policy(new_password, email=data.email)
        except passwords.PasswordPolicyError as exc:
            errors["password"] = str(exc)
    if errors:
        raise InvalidInput(errors)
    assert data.role is not None
    access_changed = (
        user.role is not data.role
        or user.agency_id != data.agency_id
        or (user.active and not data.active)
        or bool(new_password)
    )
    user.email = auth.normalise_email(data.email)
    user.display_name = data.display_name.strip()
    user.role = data.role
    user.agency_id = data.agency_id
    user.active = data.active
    if new_password:
        user.password_hash = passwords.hash_password(new_password)
    db.session.flush()
    if access_changed:
        # A role change, a move of agency, a disable or a reset ends every open session now.
        auth.end_all_sessions(user.id, "access_changed")
    audit.record(
        actor,
        AuditKind.ALTERATION,
        "user.updated",
        "user",
        user.id,
        detail={
            "role": user.role.value,
            "agency": user.agency_id,
            "active": user.active,
            "sessions_ended": access_changed,
        },
    )
    return user
