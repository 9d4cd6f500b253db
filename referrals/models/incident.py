"""Incidents and the people in each household."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.db import Base, UTCDateTime, borough_code, created_at, enum_type, intpk, sealed
from referrals.models.agency import Agency
from referrals.models.person import Person


class RiskGrade(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(RiskGrade).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def tag_class(self) -> str:
        return {
            "high": "govuk-tag--red",
            "medium": "govuk-tag--orange",
            "standard": "govuk-tag--grey",
        }[self.value]


class IncidentStatus(StrEnum):
    LOGGED = "logged"  # recorded, not yet routed to partners
    ROUTED = "routed"  # referrals sent, waiting on partners
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "logged": "Logged, not yet sent",
            "routed": "Waiting on partners",
            "closed": "All partners responded",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "logged": "govuk-tag--blue",
            "routed": "govuk-tag--yellow",
            "closed": "govuk-tag--green",
        }[self.value]


class PersonRole(StrEnum):
    VICTIM = "victim"
    SUSPECT = "suspect"
    OTHER_ADULT = "other_adult"
    CHILD = "child"

    @property
    def label(self) -> str:
        return {
            "victim": "Adult victim",
            "suspect": "Suspect",
            "other_adult": "Other adult",
            "child": "Child",
        }[self.value]


ADULT_ROLES = (PersonRole.VICTIM, PersonRole.SUSPECT, PersonRole.OTHER_ADULT)


class DeskClock(StrEnum):
    """The desk's own deadlines on an incident."""

    TRIAGE = "triage"
    SHARE_BY = "share_by"  # Operation Encompass: share before the child's next school day

    @property
    def label(self) -> str:
        return {"triage": "Triage", "share_by": "Operation Encompass share-by"}[self.value]


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_queue", "received_at", "id"),
        Index("ix_incidents_borough_queue", "borough_code", "received_at", "id"),
        Index("ix_incidents_risk_queue", "risk_grade", "received_at", "id"),
        Index("ix_incidents_status_queue", "status", "received_at", "id"),
        Index("ix_incidents_triage", "status", "triage_due_at", "id"),
        Index("ix_incidents_routed", "routed_at"),
        Index("ix_incidents_amended", "amended_at"),
        # Retention: due for review some years after the incident, or on the date a reviewer set.
        Index("ix_incidents_occurred", "occurred_at", "id"),
        Index("ix_incidents_review", "review_on", "id"),
    )

    id: Mapped[intpk]
    police_reference: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    borough_code: Mapped[borough_code]
    location_sealed_id: Mapped[str] = sealed(300)
    summary_sealed_id: Mapped[str] = sealed(4000)
    risk_actuarial: Mapped[RiskGrade] = mapped_column(enum_type(RiskGrade, "risk_actuarial"))
    risk_judgement: Mapped[RiskGrade | None] = mapped_column(enum_type(RiskGrade, "risk_judgement"))
    risk_rationale_sealed_id: Mapped[str | None] = sealed(2000)
    # The grade that governs: the actuarial grade, or the judgement where it raises it.
    risk_grade: Mapped[RiskGrade] = mapped_column(enum_type(RiskGrade, "risk_grade"))
    status: Mapped[IncidentStatus] = mapped_column(
        enum_type(IncidentStatus, "status"), default=IncidentStatus.LOGGED
    )
    child_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(20))  # "desk" or "import"
    # One incident per submission: a double click, a refresh or a retried import finds this.
    submission_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    # The desk's own clocks, from the moment the desk received the notification. Triage: by the
    # police desk's deadline policy for the grade. Share by (Operation Encompass): the start of
    # the next school day of the earliest school among the children; NULL with no child at school.
    triage_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    share_by_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the desk sent the referrals, and whether that was after each clock: the desk's own
    # breach is recorded here, never hidden by the partners' later due times.
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triage_late: Mapped[bool] = mapped_column(Boolean, default=False)
    share_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each desk clock escalates to the supervisors once: claimed by setting these from NULL.
    triage_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    share_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last amendment after logging (a sibling added, a detail corrected), for markers.
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The next retention review, set when a reviewer retains the incident; NULL until then, when
    # the review falls due RETENTION_YEARS after the incident occurred.
    review_on: Mapped[date | None] = mapped_column(Date)

    people: Mapped[list[IncidentPerson]] = relationship(
        back_populates="incident", order_by="IncidentPerson.position"
    )

    @property
    def children(self) -> list[IncidentPerson]:
        return [p for p in self.people if p.role is PersonRole.CHILD]

    @property
    def adults(self) -> list[IncidentPerson]:
        return [p for p in self.people if p.role is not PersonRole.CHILD]


class IncidentPerson(Base):
    """A person's part in one incident, with what was recorded about them there.

    The identity (name, date of birth, address, phone) is sealed per incident, because a child's
    address may change between incidents; the pseudonym lives on :class:`Person`.
    """

    __tablename__ = "incident_people"
    __table_args__ = (UniqueConstraint("incident_id", "person_id"),)

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[PersonRole] = mapped_column(enum_type(PersonRole, "role"))
    # The sealed identity is JSON of these fields, each limited as here.
    IDENTITY_LIMITS = {"given_name": 100, "family_name": 100, "address": 300, "phone": 30}

    identity_sealed_id: Mapped[str] = sealed()
    age_band: Mapped[str] = mapped_column(String(12))
    borough_code: Mapped[borough_code | None]
    lives_there: Mapped[bool | None] = mapped_column(Boolean)
    present: Mapped[bool | None] = mapped_column(Boolean)
    present_where_sealed_id: Mapped[str | None] = sealed(300)
    spoken_to: Mapped[bool | None] = mapped_column(Boolean)
    voice_sealed_id: Mapped[str | None] = sealed(2000)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    home_educated: Mapped[bool] = mapped_column(Boolean, default=False)
    known_to_social_care: Mapped[bool | None] = mapped_column(Boolean)
    # Earlier incidents of the same person in the 12 months before this one (a pseudonym match).
    seen_before_count: Mapped[int] = mapped_column(Integer, default=0)
    # A person added after the incident was logged: when the desk learned of them (their
    # referrals' clocks start there), and when their referrals were sent. NULL for the
    # household as first logged, which was routed with the incident.
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="people")
    person: Mapped[Person] = relationship(lazy="joined")
    school: Mapped[Agency | None] = relationship(lazy="joined")


class IncidentAmendment(Base):
    """A change to an incident after it was logged, recorded by what it touched, never by the
    values: partners holding a referral see that the incident was amended, within what their
    kind may see. The reason and the old and new values' place are in the audit trail."""

    __tablename__ = "incident_amendments"

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    # The person the change is about; NULL for the incident's own details.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("incident_people.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    what: Mapped[str] = mapped_column(String(40))  # "person_added", "person_corrected"...
    # What a partner could see changed: disclosure field names, comma separated.
    fields: Mapped[str] = mapped_column(String(300))
