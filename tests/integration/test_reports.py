"""The supervisors' reports (``queries/reports.py``, ``services/report_tallies.py``,
``web/reports.py``): each figure against a week worked out by hand, the tallies kept up to date
as partners answer, a school counted from its own referrals, the filters, the charts, the
exports, and a bad period refused with a clear error."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referrals import clock
from referrals.extensions import db
from referrals.jobs import tasks
from referrals.models.agency import Agency, AgencyKind
from referrals.models.audit import AuditEvent, AuditKind
from referrals.models.incident import RiskGrade
from referrals.models.referral import Referral
from referrals.models.user import Role
from referrals.queries import reports
from referrals.queries.reports import ReportFilters
from referrals.services import referral_lifecycle as lifecycle
from referrals.services import report_tallies
from referrals.services.actors import Actor
from tests.factories import (
    CSRF,
    LAMBETH,
    SOUTHWARK,
    child,
    counted,
    front_doors,
    load,
    log_incident,
    make_agency,
    send_incident,
    sign_in,
    user_with,
)

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # London is on UTC in November
THURSDAY_NOON = MONDAY + timedelta(days=3, hours=2)
WEEK = {"period": "custom", "first": ["23", "11", "2026"], "last": ["29", "11", "2026"]}


@dataclass
class Week:
    """By hand: Monday 10:00, A (Lambeth, medium) goes to Lambeth's front door and its school;
    B (Southwark, high) to Southwark's front door and MARAC. Tuesday 06:00, C (Lambeth, medium)
    to Lambeth's front door. Due: Monday's the next day at 10:00, Tuesday's on Wednesday.

    - Lambeth front door, A: acknowledged Monday 12:30 (2.5 h: on time, "within 4 h").
    - The school, A: acknowledged Monday 10:10 (10 min: on time, "within 15 min").
    - Southwark front door, B: acknowledged Wednesday 10:00 (48 h: late, "within 2 days"),
      decided "early help" Thursday 10:00 (72 h from sending: "within 3 days").
    - MARAC, B: never answered (overdue on Thursday).
    - Lambeth front door, C: decided "no further action" Tuesday 11:00 (5 h, acknowledged in the
      same step: on time, "within 8 h" for both clocks).
    """

    app: Flask
    lambeth_a: int
    school_a: int
    southwark_b: int
    marac_b: int
    lambeth_c: int
    school: Agency

    def partner(self, referral_id: int) -> Actor:
        with self.app.app_context():
            referral = db.session.get(Referral, referral_id)
            assert referral is not None
            return Actor(user_id=None, label="p", role=Role.PARTNER, agency_id=referral.agency_id)

    def act(self, at: datetime, action: object, *args: object) -> None:
        clock.freeze(at)
        with self.app.app_context():
            action(*args)  # type: ignore[operator]
            db.session.commit()

    def count(self, at: datetime = THURSDAY_NOON) -> int:
        clock.freeze(at)
        return tasks.count_reports(self.app)

    def report(self, **filters: object) -> reports.Report:
        with self.app.app_context():
            agency = filters.pop("agency", None)
            if agency is not None:
                agency = db.session.get(Agency, agency.id)  # type: ignore[attr-defined]
            return reports.report(
                ReportFilters(date(2026, 11, 23), date(2026, 11, 29), agency=agency, **filters)  # type: ignore[arg-type]
            )


@pytest.fixture
def week(app: Flask) -> Week:
    clock.freeze(MONDAY)
    doors = front_doors(app, LAMBETH, SOUTHWARK)
    with app.app_context():
        school = make_agency(kind=AgencyKind.SCHOOL, borough=LAMBETH, urn="912345")
        db.session.commit()
        school_id = school.id
    a = send_incident(app, log_incident(app, children=[child(school_urn="912345")]))
    b = send_incident(
        app,
        log_incident(
            app,
            borough_code=SOUTHWARK,
            risk_actuarial=RiskGrade.HIGH,
            children=[child(borough_code=SOUTHWARK)],
        ),
    )
    clock.freeze(MONDAY + timedelta(hours=20))
    c = send_incident(app, log_incident(app))
    with app.app_context():
        agency_of = {r: load(Referral, r).agency_id for r in a + b + c}
        school = load(Agency, school_id)
        db.session.expunge(school)
    by_agency = {v: k for k, v in agency_of.items() if k in a + b}
    w = Week(
        app,
        lambeth_a=by_agency[doors[f"csc-{LAMBETH}"]],
        school_a=by_agency[school_id],
        southwark_b=by_agency[doors[f"csc-{SOUTHWARK}"]],
        marac_b=by_agency[doors[f"marac-{SOUTHWARK}"]],
        lambeth_c=c[0],
        school=school,
    )
    assert len(a) == 2 and len(b) == 2 and len(c) == 1, (a, b, c)
    w.act(
        MONDAY + timedelta(hours=2, minutes=30),
        lifecycle.acknowledge,
        w.partner(w.lambeth_a),
        w.lambeth_a,
    )
    w.act(MONDAY + timedelta(minutes=10), lifecycle.acknowledge, w.partner(w.school_a), w.school_a)
    w.act(
        MONDAY + timedelta(days=2), lifecycle.acknowledge, w.partner(w.southwark_b), w.southwark_b
    )
    w.act(
        MONDAY + timedelta(days=3),
        lifecycle.decide,
        w.partner(w.southwark_b),
        w.southwark_b,
        "early_help",
        "",
    )
    w.act(
        MONDAY + timedelta(days=1, hours=1),
        lifecycle.decide,
        w.partner(w.lambeth_c),
        w.lambeth_c,
        "no_further_action",
        "",
    )
    return w


def test_each_figure_matches_the_week_worked_out_by_hand(week: Week) -> None:
    assert week.count() > 0
    r = week.report()
    t = r.total
    assert (t.sent, t.ack_on_time, t.ack_late, t.overdue, t.awaiting) == (5, 3, 1, 1, 0)
    assert t.on_time_rate == pytest.approx(3 / 5)
    # acknowledged: 10 min, 2.5 h, 5 h, 48 h -> half within 4 h (2 of 4), 90% within 2 days
    assert (t.percentile("ack", 0.5), t.percentile("ack", 0.9)) == ("within 4 h", "within 2 days")
    # decided: 5 h, 72 h -> half within 8 h, 90% within 3 days
    assert (t.percentile("decide", 0.5), t.percentile("decide", 0.9)) == (
        "within 8 h",
        "within 3 days",
    )
    assert t.decided == 2
    assert sorted(r.decisions) == [("Early help", 1), ("No further action", 1)]
    assert r.declines == []
    assert [w.label for w in r.weeks] == ["w/c 23 Nov 2026"]
    boroughs = {b.label: (b.sent, b.breaches) for b in r.boroughs}
    assert boroughs == {"Lambeth": (3, 0), "Southwark": (2, 2)}
    assert r.boroughs[0].label == "Southwark"  # the most breaches first
    agencies = {a.label: a.sent for a in r.agencies}
    assert agencies["Schools in Lambeth"] == 1  # schools per borough, never one by one
    assert sorted(agencies.values()) == [1, 1, 1, 2]
    # the desk: three incidents received and sent at once; only A's child is at school
    d = r.desk_total
    assert (d.received, d.sent, d.triage_late, d.triage_overdue) == (3, 3, 0, 0)
    assert (d.share_due, d.share_late) == (1, 0)


def test_filters_narrow_every_figure(week: Week) -> None:
    week.count()
    high = week.report(risk=RiskGrade.HIGH).total
    assert (high.sent, high.ack_late, high.overdue) == (2, 1, 1)
    lambeth = week.report(borough=LAMBETH)
    assert (lambeth.total.sent, lambeth.total.breaches) == (3, 0)
    assert lambeth.desk_total.received == 2  # the desk follows the borough filter too
    marac = week.report(kind=AgencyKind.MARAC).total
    assert (marac.sent, marac.overdue) == (1, 1)


def test_one_school_is_counted_from_its_own_referrals(week: Week) -> None:
    week.count()
    r = week.report(agency=week.school)
    assert (r.total.sent, r.total.ack_on_time) == (1, 1)
    assert r.total.percentile("ack", 0.5) == "within 15 min"
    assert [a.label for a in r.agencies] == [week.school.name]


def test_the_tallies_follow_a_late_answer_even_of_an_old_day(week: Week) -> None:
    week.count()
    a_month_on = THURSDAY_NOON + timedelta(days=30)  # 23 Nov is no longer among the recent days
    week.count(a_month_on)
    assert week.report().total.overdue == 1
    week.act(
        a_month_on + timedelta(hours=1),
        lifecycle.acknowledge,
        week.partner(week.marac_b),
        week.marac_b,
    )
    week.count(a_month_on + timedelta(hours=2))
    t = week.report().total
    assert (t.ack_late, t.overdue) == (2, 0)
    assert t.percentile("ack", 0.9) == "over 7 days"


def test_a_report_is_kept_until_the_tallies_move(week: Week) -> None:
    week.count()
    with counted(week.app) as computed:
        first = week.report()
    with counted(week.app) as kept:
        again = week.report()
    (read,) = [s for s in kept if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE aside
    assert "FROM report_state" in read and len(computed) > len(kept)  # the count of refreshes
    assert again.total.counts == first.total.counts and again.total.overdue == 1
    with counted(week.app) as other:
        assert week.report(borough=LAMBETH).total.sent == 3  # other filters: computed
    assert len(other) == len(computed)
    answered = THURSDAY_NOON + timedelta(hours=1)
    week.act(answered, lifecycle.acknowledge, week.partner(week.marac_b), week.marac_b)
    assert week.report().total.overdue == 1  # figures as of the last count, as the page says
    week.count(answered + timedelta(hours=1))
    assert week.report().total.overdue == 0
    with week.app.app_context():  # a disposal recounts its days too: what was kept goes
        _, before = report_tallies.counted()
        report_tallies.recount([date(2026, 11, 23)], THURSDAY_NOON)
        assert report_tallies.counted()[1] == before + 1
        db.session.rollback()


def test_a_recount_changes_nothing_and_two_counts_do_not_double(week: Week) -> None:
    week.count()
    first = week.report().total.counts
    week.count()
    with week.app.app_context():
        report_tallies.forget()
        db.session.commit()
    week.count()
    assert week.report().total.counts == first


def _figures(r: reports.Report) -> tuple[object, ...]:
    return (
        r.total.counts,
        {b.label: b.counts for b in r.boroughs},
        {a.label: a.counts for a in r.agencies},
        sorted(r.decisions),
        sorted(r.declines),
        [(w.label, w.counts) for w in r.weeks],
    )


def test_the_weekly_roll_ups_say_what_the_days_say(
    week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The week of 23 November is read whole from the roll-ups; read from its days instead, and
    with a day either side, every figure is the same, before and after a late answer."""
    week.count()
    a_month_on = THURSDAY_NOON + timedelta(days=30)
    for late_answer in (False, True):
        if late_answer:
            week.act(a_month_on, lifecycle.acknowledge, week.partner(week.marac_b), week.marac_b)
            week.count(a_month_on + timedelta(hours=1))
        from_weeks = [_figures(week.report(**f)) for f in ({}, {"risk": RiskGrade.HIGH})]
        with week.app.app_context():
            wider = _figures(reports.report(ReportFilters(date(2026, 11, 22), date(2026, 11, 30))))
        with monkeypatch.context() as only_days:
            only_days.setattr(
                reports, "spans", lambda first, last: [reports.Span(first, last, weekly=False)]
            )
            from_days = [_figures(week.report(**f)) for f in ({}, {"risk": RiskGrade.HIGH})]
        assert from_weeks == from_days
        assert wider == from_weeks[0]
    assert week.report().total.ack_late == 2  # the late answer reached the roll-up


@pytest.fixture
def supervisor(app: Flask) -> FlaskClient:
    clock.freeze(THURSDAY_NOON)  # when the week's tallies are counted
    _, email = user_with(app, Role.SUPERVISOR)
    client = app.test_client()
    sign_in(client, email)
    return client


def test_the_page_shows_charts_beside_their_tables(week: Week, supervisor: FlaskClient) -> None:
    week.count()
    page = supervisor.get("/supervisor/reports/", query_string=WEEK)
    assert page.status_code == 200, page.text[:3000]
    assert "<title>Reports: 23 November 2026 to 29 November 2026" in page.text
    for chart in ("chart-weeks", "chart-waits", "chart-breaches"):
        svg = re.search(rf'<svg[^>]*aria-labelledby="{chart}-title {chart}-desc"', page.text)
        assert svg, chart
        assert f'<title id="{chart}-title">' in page.text
        assert f'<desc id="{chart}-desc">' in page.text
    assert "<script" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert " style=" not in page.text  # the CSP refuses inline styles
    weeks = page.text.split('data-testid="table-weeks"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'govuk-table__cell--numeric">([^<]*)</td>', weeks)
    assert cells[:5] == ["5", "3", "1", "1", "60%"]
    assert "Southwark has the most, 2" in page.text


def test_the_page_from_memory_is_the_page_computed_until_the_tallies_move(
    week: Week, supervisor: FlaskClient
) -> None:
    week.count()
    first = supervisor.get("/supervisor/reports/", query_string=WEEK).text
    with counted(week.app) as statements:
        again = supervisor.get("/supervisor/reports/", query_string=WEEK).text
    # the sign-out form's CSRF token is signed with the real clock's second, so it may differ
    assert CSRF.sub("csrf", again) == CSRF.sub("csrf", first)
    assert CSRF.search(first)  # the masking does mask something
    assert not [s for s in statements if "report_weeks" in s or "report_days" in s]
    lambeth = supervisor.get("/supervisor/reports/", query_string={**WEEK, "borough": LAMBETH})
    assert lambeth.text != first  # other filters: their own figures, and their own links
    assert f"borough={LAMBETH}" in lambeth.text.split('data-testid="table-weeks"', 1)[1]
    answered = THURSDAY_NOON + timedelta(minutes=1)  # within the supervisor's session
    week.act(answered, lifecycle.acknowledge, week.partner(week.marac_b), week.marac_b)
    week.count(answered + timedelta(minutes=1))
    moved = supervisor.get("/supervisor/reports/", query_string=WEEK).text
    summary = moved.split('data-testid="summary"', 1)[1].split("</dl>", 1)[0]
    assert 'Overdue, never acknowledged</dt><dd class="govuk-summary-list__value">0<' in summary


def test_one_school_by_its_urn_on_the_page(week: Week, supervisor: FlaskClient) -> None:
    week.count()
    page = supervisor.get("/supervisor/reports/", query_string={**WEEK, "school": "912345"})
    assert page.status_code == 200
    agencies = page.text.split('data-testid="table-agencies"', 1)[1].split("</table>", 1)[0]
    assert week.school.name in agencies and "Schools in" not in agencies
    summary = page.text.split('data-testid="summary"', 1)[1].split("</dl>", 1)[0]
    assert "Half within 15 min" in summary


def test_hidden_date_boxes_do_not_count_unless_dates_are_chosen(supervisor: FlaskClient) -> None:
    page = supervisor.get(
        "/supervisor/reports/",
        query_string={"period": "this_week", "first": ["x", "", ""], "last": ["", "", ""]},
    )
    assert page.status_code == 200
    assert "There is a problem" not in page.text


def test_the_old_figures_page_leads_to_the_reports(supervisor: FlaskClient) -> None:
    moved = supervisor.get("/supervisor/figures")
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/supervisor/reports/?period=last_4_weeks")


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"period": "custom"}, "first", "Enter the first day of the period"),
        (
            {"period": "custom", "first": ["3", "12", "2026"], "last": ["1", "12", "2026"]},
            "last",
            "The last day must be the same as or after the first day",
        ),
        (
            {"period": "custom", "first": ["1", "1", "2020"], "last": ["1", "12", "2026"]},
            "last",
            "Choose a period of at most 2 years",
        ),
        ({"period": "custom", "first": ["31", "2", "2026"]}, "first", "must be a real date"),
        ({"period": "fortnight"}, "period", "Choose a period"),
        (
            {"period": "custom", "first": ["1", "9", "2026"], "last": ["x", "", ""]},
            "last",
            "Last day must include a month and year",
        ),
        ({"borough": "E09999999"}, "borough", "Choose a borough from the list"),
        ({"agency": "99999"}, "agency", "Choose an agency from the list"),
        ({"risk": "extreme"}, "risk", "Choose a risk from the list"),
        ({"school": "12345"}, "school", "Enter the school&#39;s URN, 6 digits"),
        ({"school": "999999"}, "school", "No school with URN 999999 is known to the desk"),
        ({"school": "999999", "agency": "1"}, "school", "Choose an agency or a school, not both"),
        ({"kind": "police_desk"}, "kind", "Choose a kind of agency from the list"),
    ],
)
def test_a_bad_period_or_filter_is_named(
    supervisor: FlaskClient, args: dict[str, object], field: str, message: str
) -> None:
    page = supervisor.get("/supervisor/reports/", query_string=args)
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert message in page.text
    assert f'href="#{field}' in page.text  # the summary links to the field


def test_each_table_exports_as_on_the_page_and_is_audited(
    week: Week, supervisor: FlaskClient
) -> None:
    week.count()
    for table in ("weeks", "boroughs", "agencies", "desk", "answers"):
        response = supervisor.get(
            "/supervisor/reports/export.csv", query_string={**WEEK, "table": table}
        )
        assert response.status_code == 200, table
        assert response.headers["Content-Disposition"].startswith(
            f'attachment; filename="report-{table}-2026-11-23-2026-11-29'
        )
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        if table == "boroughs":
            assert rows[0][:5] == [
                "Borough",
                "Sent",
                "Acknowledged on time",
                "Acknowledged late",
                "Overdue, not acknowledged",
            ]
            assert rows[1][:5] == ["Southwark", "2", "0", "1", "1"]
        if table == "answers":
            assert sorted(rows[1:]) == [
                ["Decision", "Early help", "1"],
                ["Decision", "No further action", "1"],
            ]
    xlsx = supervisor.get(
        "/supervisor/reports/export.xlsx", query_string={**WEEK, "table": "weeks"}
    )
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    with week.app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("export.report_%"))
        ).all()
    assert len(events) == 6
    assert all(e.kind is AuditKind.DISCLOSURE for e in events)
    assert {json.loads(e.detail or "{}")["filters"]["from"] for e in events} == {"2026-11-23"}


def test_an_unknown_table_is_refused(supervisor: FlaskClient) -> None:
    response = supervisor.get("/supervisor/reports/export.csv", query_string={"table": "people"})
    assert response.status_code == 400
    assert "Choose a table of the report to download" in response.text


@pytest.mark.parametrize(
    "role", [Role.DESK_OFFICER, Role.PARTNER, Role.AUDITOR, Role.ADMINISTRATOR]
)
def test_only_supervisors_see_the_reports(app: Flask, role: Role) -> None:
    _, email = user_with(
        app, role, agency_kind=AgencyKind.CHILDRENS_SOCIAL_CARE if role is Role.PARTNER else None
    )
    client = app.test_client()
    sign_in(client, email)
    assert client.get("/supervisor/reports/").status_code == 403
    assert client.get("/supervisor/reports/export.csv?table=weeks").status_code == 403
