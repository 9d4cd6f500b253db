"""Administrators' changes to agencies and users. Every change is audited as an alteration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from sqlalchemy import func, select

from referrals.db import text_limit
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditKind
from referrals.models.user import Role, TokenPurpose, User
from referrals.narrowing import given
from referrals.profiles import profile
from referrals.reference import BOROUGHS
from referrals.security import passwords
from referrals.services import account_links, audit, auth, factors
from referrals.services.actors import Actor
from referrals.services.errors import DomainError, InvalidInput

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"[0-9 +()\-]{6,30}")
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
    work_start: str = ""
    work_end: str = ""
    school_day_start: str = ""
    contact_phone: str = ""


@dataclass
class UserInput:
    email: str
    display_name: str
    role: Role | None
    agency_id: int | None = None
    active: bool = True


@dataclass
class Taken:
    """Codes and URNs already in use, when many agencies are checked at once (one query each
    instead of two per agency)."""

    codes: set[str]
    urns: set[str]

    @classmethod
    def load(cls) -> Taken:
        rows = db.session.execute(select(Agency.code, Agency.school_urn)).all()
        return cls({code for code, _ in rows}, {urn for _, urn in rows if urn})


def _code_taken(code: str, existing: Agency | None, taken: Taken | None) -> bool:
    if taken is not None:
        return code in taken.codes
    return bool(
        db.session.scalar(
            select(Agency.id).where(
                Agency.code == code, Agency.id != (existing.id if existing else 0)
            )
        )
    )


def _urn_taken(urn: str, existing: Agency | None, taken: Taken | None) -> bool:
    if taken is not None:
        return urn in taken.urns
    return bool(
        db.session.scalar(
            select(Agency.id).where(
                Agency.school_urn == urn, Agency.id != (existing.id if existing else 0)
            )
        )
    )


def _validate_agency(
    data: AgencyInput, existing: Agency | None, taken: Taken | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = data.code.strip().upper()
    limit = text_limit(Agency.code)
    if not CODE_PATTERN.match(code) or len(code) > limit:
        errors["code"] = (
            f"Code must be 2 to {limit} capital letters, digits or -, like CSC-E09000022"
        )
    elif _code_taken(code, existing, taken):
        errors["code"] = f"Another agency already has the code {code}"
    limit = text_limit(Agency.name)
    if not data.name.strip() or len(data.name) > limit:
        errors["name"] = f"Enter the agency's name ({limit} characters or fewer)"
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
        elif _urn_taken(urn, existing, taken):
            errors["school_urn"] = f"Another school already has URN {urn}"
    elif urn:
        errors["school_urn"] = "Only a school or setting has a URN: clear it or choose School"
    for name in ("notice_email", "duty_manager_email"):
        value = getattr(data, name).strip()
        if value and (
            not EMAIL_PATTERN.match(value) or len(value) > text_limit(Agency.notice_email)
        ):
            errors[name] = "Enter an e-mail address like duty@example.org"
    phone = data.contact_phone.strip()
    if phone and (
        not PHONE_PATTERN.fullmatch(phone) or len(phone) > text_limit(Agency.contact_phone)
    ):
        errors["contact_phone"] = "Enter a phone number using digits, spaces, + ( ) or -"
    defaults = profile(data.kind or AgencyKind.OTHER)
    start = _clock_time(data.work_start) if data.work_start.strip() else defaults.work_start
    end = _clock_time(data.work_end) if data.work_end.strip() else defaults.work_end
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
    agency.code = data.code.strip().upper()
    agency.name = data.name.strip()
    agency.kind = given(data.kind, "kind")
    agency.borough_code = data.borough_code or None
    agency.school_urn = data.school_urn.strip() if agency.kind is AgencyKind.SCHOOL else None
    agency.notice_email = data.notice_email.strip().lower() or None
    agency.duty_manager_email = data.duty_manager_email.strip().lower() or None
    agency.active = data.active
    defaults = profile(agency.kind)
    agency.work_start = _clock_time(data.work_start) or defaults.work_start
    agency.work_end = _clock_time(data.work_end) or defaults.work_end
    agency.school_day_start = _clock_time(data.school_day_start) if data.school_day_start else None
    agency.contact_phone = data.contact_phone.strip() or None


def create_agency(actor: Actor, data: AgencyInput) -> Agency:
    return create_agencies(actor, [data], None)[0]


def create_agencies(
    actor: Actor, inputs: list[AgencyInput], taken: Taken | None = None
) -> list[Agency]:
    """Create agencies, each checked as one would be, written with one flush and audited one
    event each. ``taken`` (codes and URNs in use, loaded once) makes thousands cheap."""
    made = []
    for data in inputs:
        errors = _validate_agency(data, None, taken)
        if errors:
            raise InvalidInput(errors)
        agency = Agency()
        _apply_agency(agency, data)
        db.session.add(agency)
        made.append(agency)
        if taken is not None:
            taken.codes.add(agency.code)
            if agency.school_urn:
                taken.urns.add(agency.school_urn)
    db.session.flush()
    with audit.together():
        for agency in made:
            audit.record(
                actor,
                AuditKind.ALTERATION,
                "agency.created",
                "agency",
                agency.id,
                detail={"code": agency.code, "kind": agency.kind.value},
            )
    return made


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
    if not EMAIL_PATTERN.match(email) or len(email) > text_limit(User.email):
        errors["email"] = "Enter an e-mail address like name@example.org"
    elif db.session.scalar(
        select(User.id).where(
            func.lower(User.email) == email, User.id != (existing.id if existing else 0)
        )
    ):
        errors["email"] = "A user with this e-mail address already exists"
    limit = text_limit(User.display_name)
    if not data.display_name.strip() or len(data.display_name) > limit:
        errors["display_name"] = f"Enter the user's name ({limit} characters or fewer)"
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


def create_user(actor: Actor, data: UserInput, password: str | None) -> User:
    """A user with this password, or (``None``) with none yet: see :func:`invite_user`."""
    errors = _validate_user(data, None)
    if password is not None:
        try:
            passwords.check_policy(password, email=data.email)
        except passwords.PasswordPolicyError as exc:
            errors["password"] = str(exc)
    if errors:
        raise InvalidInput(errors)
    user = User(
        email=auth.normalise_email(data.email),
        display_name=data.display_name.strip(),
        password_hash=passwords.hash_password(password) if password else passwords.NO_PASSWORD,
        role=given(data.role, "role"),
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


def invite_user(actor: Actor, data: UserInput) -> User:
    """Create the user with no password and e-mail them a single-use link to set their own
    (nobody else ever knows it); they enrol a second factor straight after."""
    user = create_user(actor, data, None)
    account_links.issue(actor, user, TokenPurpose.INVITATION)
    return user


def send_invitation(actor: Actor, user: User) -> None:
    """A fresh invitation link (the earlier one stops working), e.g. when the first expired."""
    if not user.active:
        raise DomainError("This user is not active: make them active first")
    account_links.issue(actor, user, TokenPurpose.INVITATION)


def reset_factors(actor: Actor, user: User) -> None:
    """A user lost their second factor: every factor and recovery code goes, every session of
    theirs ends, and they enrol a new factor at their next sign-in."""
    factors.clear_all(user.id)
    auth.end_all_sessions(user.id, "factors_reset")
    audit.record(actor, AuditKind.SECURITY, "factor.reset", "user", user.id)


def update_user(actor: Actor, user: User, data: UserInput) -> User:
    """Change a user's details. Nobody sets another person's password: see
    :func:`send_invitation` and the user's own reset link."""
    errors = _validate_user(data, user)
    if errors:
        raise InvalidInput(errors)
    role = given(data.role, "role")
    access_changed = (
        user.role is not role
        or user.agency_id != data.agency_id
        or (user.active and not data.active)
        or auth.normalise_email(data.email) != user.email
    )
    user.email = auth.normalise_email(data.email)
    user.display_name = data.display_name.strip()
    user.role = role
    user.agency_id = data.agency_id
    user.active = data.active
    db.session.flush()
    if access_changed:
        # A role change, a move of agency, a disable or a new address ends every session now.
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
