"""How many queries each hot page costs (``referrals/web``, ``referrals/api``): a page's count is
pinned, and it does not grow with the household, the message thread or the number of rows.

Each page is read twice: first in a small world (one incident, one child, one adult, one
message), then after a bigger household (four children, three adults, six messages) and four
more incidents have arrived. Detail pages are read for the small record and then for the big
one; lists are read again as they are. Either way the count must not change: a page that grows a
query per row, per person or per message fails here, whatever the budget says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import Agency, AgencyKind
from referrals.models.api_client import ApiClientKind
from referrals.models.incident import Incident, IncidentPerson, PersonRole
from referrals.models.person import Person
from referrals.models.referral import Referral
from referrals.models.user import Role
from tests.factories import (
    LAMBETH,
    adult,
    child,
    counted,
    front_doors,
    load,
    log_incident,
    make_agency,
    make_api_client,
    make_user,
    send_incident,
    sign_in,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
URN = "940001"


@dataclass(frozen=True)
class Household:
    incident: int
    police_reference: str
    pseudonym: str
    front_door_referral: int
    school_referral: int


class World:
    """A front door, a school, a user of each role, and households logged and sent."""

    def __init__(self, app: Flask) -> None:
        clock.freeze(NOW)
        self.app = app
        self.doors = front_doors(app, LAMBETH)
        with app.app_context():
            door = db.session.get(Agency, self.doors[f"csc-{LAMBETH}"])
            school = make_agency(kind=AgencyKind.SCHOOL, urn=URN, borough=LAMBETH)
            self.emails = {
                "desk": make_user(role=Role.DESK_OFFICER).email,
                "front_door": make_user(role=Role.PARTNER, agency=door).email,
                "school": make_user(role=Role.PARTNER, agency=school).email,
                "supervisor": make_user(role=Role.SUPERVISOR).email,
                "auditor": make_user(role=Role.AUDITOR).email,
            }
            db.session.commit()
        _, self.api_token = make_api_client(
            app, ApiClientKind.PARTNER, agency_id=self.doors[f"csc-{LAMBETH}"]
        )
        self.clients: dict[str, FlaskClient] = {}
        self.csrf: dict[str, str] = {}
        for role, email in self.emails.items():
            client = app.test_client()
            self.csrf[role] = sign_in(client, email)
            self.clients[role] = client

    def household(self, children: int, adults: int, messages: int) -> Household:
        incident = log_incident(
            self.app,
            children=[
                child(
                    given_name=f"Synthchild{n}",
                    date_of_birth=date(2012 + n, 3, 1 + n),
                    school_urn=URN,
                )
                for n in range(children)
            ],
            adults=[
                adult(
                    given_name=f"Synthadult{n}",
                    role=PersonRole.SUSPECT if n == 0 else PersonRole.VICTIM,
                )
                for n in range(adults)
            ],
        )
        send_incident(self.app, incident)
        with self.app.app_context():
            referrals = db.session.scalars(
                select(Referral).where(Referral.incident_id == incident).order_by(Referral.id)
            ).all()
            door = next(r.id for r in referrals if r.agency_id == self.doors[f"csc-{LAMBETH}"])
            school = next(r.id for r in referrals if r.agency.kind is AgencyKind.SCHOOL)
            reference = load(Incident, incident).police_reference
            pseudonym = db.session.scalars(
                select(Person.pseudonym)
                .join(IncidentPerson, IncidentPerson.person_id == Person.id)
                .where(IncidentPerson.incident_id == incident)
            ).first()
        for n in range(messages):
            who, path = (
                ("front_door", f"/portal/referrals/{door}/messages")
                if n % 2 == 0
                else ("desk", f"/desk/referrals/{door}/reply")
            )
            answer = self.clients[who].post(
                path, data={"csrf_token": self.csrf[who], "body": f"Synthetic message {n}."}
            )
            assert answer.status_code in (302, 303), answer.text
        assert pseudonym is not None
        return Household(incident, reference, pseudonym, door, school)

    def pages(self, house: Household) -> list[tuple[str, str]]:
        """(role, path) for every hot page, naming this household's records."""
        return [
            # First: the incident page marks the front door's referrals viewed, all together.
            ("front_door", f"/portal/incidents/{house.incident}"),
            ("desk", "/desk/"),
            ("desk", "/desk/needs/"),
            ("desk", "/desk/before-school"),
            ("desk", f"/desk/incidents/{house.incident}"),
            ("desk", f"/desk/referrals/{house.front_door_referral}"),
            ("desk", f"/desk/search?q={house.police_reference}"),
            ("front_door", "/portal/"),
            ("front_door", f"/portal/referrals/{house.front_door_referral}"),
            ("front_door", "/portal/search?q=Synthchild0 Testwood"),
            ("school", "/portal/"),
            ("school", f"/portal/referrals/{house.school_referral}"),
            ("supervisor", "/supervisor/"),
            ("supervisor", "/supervisor/reports/?period=this_quarter"),
            ("supervisor", "/retention/"),
            ("auditor", f"/audit/access?by=person&record={house.pseudonym}"),
            ("auditor", f"/audit/access?by=incident&record={house.police_reference}"),
            ("api", "/api/v1/referrals"),
        ]

    def cost(self, role: str, path: str) -> int:
        with counted(self.app) as statements:
            if role == "api":
                answer = self.app.test_client().get(
                    path, headers={"Authorization": f"Bearer {self.api_token}"}
                )
            else:
                answer = self.clients[role].get(path)
        assert answer.status_code == 200, (role, path, answer.status_code)
        return len(statements)


# The most queries each page may cost on either engine (SQLite's count includes its BEGIN
# IMMEDIATE; the first API call of a client also notes when it was last used). Measured, then
# pinned: a page that needs more has grown, and this says by how much.
BUDGET = {
    ("front_door", "/portal/incidents/{}"): 10,
    ("desk", "/desk/"): 5,
    ("desk", "/desk/needs/"): 7,
    ("desk", "/desk/before-school"): 5,
    ("desk", "/desk/incidents/{}"): 9,
    ("desk", "/desk/referrals/{}"): 10,
    ("desk", "/desk/search"): 4,
    ("front_door", "/portal/"): 9,
    ("front_door", "/portal/referrals/{}"): 13,
    ("front_door", "/portal/search"): 8,
    ("school", "/portal/"): 9,
    ("school", "/portal/referrals/{}"): 15,
    ("supervisor", "/supervisor/"): 12,
    # A period reads its whole weeks from the roll-ups and each end's days from the daily
    # tallies: up to three spans of four sums each, whatever the number of rows.
    ("supervisor", "/supervisor/reports/"): 19,
    ("supervisor", "/retention/"): 5,
    ("auditor", "/audit/access"): 16,
    ("api", "/api/v1/referrals"): 13,
}


def _shape(path: str) -> str:
    """A page's name without its ids and query: "/desk/incidents/{}"."""
    return "/".join("{}" if part.isdigit() else part for part in path.split("?")[0].split("/"))


def test_no_hot_page_grows_a_query_per_row_person_or_message(app: Flask) -> None:
    world = World(app)
    small = world.household(children=1, adults=1, messages=1)
    tasks.count_reports(app)
    before = {(role, _shape(path)): world.cost(role, path) for role, path in world.pages(small)}
    big = world.household(children=4, adults=3, messages=6)
    for _ in range(4):
        world.household(children=2, adults=1, messages=1)
    tasks.count_reports(app)
    after = {(role, _shape(path)): world.cost(role, path) for role, path in world.pages(big)}
    grown = {key: (before[key], after[key]) for key in before if after[key] > before[key]}
    assert not grown, f"pages whose query count grew (small world, big world): {grown}"
    over = {
        key: max(before[key], after[key])
        for key in before
        if max(before[key], after[key]) > BUDGET[key]
    }
    assert not over, f"pages over their budget of queries: {over}"
    assert before.keys() == BUDGET.keys()
