"""The supervisors' reports: a period and filters, figures per week, borough and agency with
charts beside their tables, the desk's own deadlines, and every table as CSV or XLSX."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField

from referrals import clock
from referrals.extensions import db
from referrals.models.agency import Agency, AgencyKind
from referrals.models.incident import RiskGrade
from referrals.queries import agencies, reports
from referrals.queries.agencies import active_choices
from referrals.queries.reports import Figures, Report, ReportFilters
from referrals.reference import BOROUGHS, borough_choices
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.web import charts
from referrals.web.downloads import download
from referrals.web.forms import DayMonthYearField, Radios, enum_or_none, error_list, options

bp = Blueprint("reports", __name__, url_prefix="/supervisor/reports")


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    period = RadioField(
        "Period",
        widget=Radios(),
        choices=options(list(reports.PERIODS)),
        default="last_4_weeks",
        validate_choice=False,
    )
    first = DayMonthYearField("First day", description="For example, 1 9 2026")
    last = DayMonthYearField("Last day", description="For example, 30 11 2026")
    borough = SelectField("Borough", widget=GovSelect(), validate_choice=False)
    kind = SelectField("Kind of agency", widget=GovSelect(), validate_choice=False)
    agency = SelectField("Agency", widget=GovSelect(), validate_choice=False)
    school = StringField(
        "One school",
        description="Its URN, 6 digits; schools are otherwise counted together per borough",
        widget=GovTextInput(),
    )
    risk = SelectField("Risk", widget=GovSelect(), validate_choice=False)


URN = re.compile(r"\d{6}")
PARTNER_KINDS = [k for k in AgencyKind if k is not AgencyKind.POLICE_DESK]


def _form() -> tuple[ReportForm, ReportFilters | None]:
    """The form as asked (the last 4 weeks when nothing is asked) and its filters, or None with
    the form's errors set."""
    form = ReportForm(formdata=request.args if request.args else None)
    form.borough.choices = options([("", "All boroughs"), *borough_choices()])
    form.kind.choices = options([("", "Every kind"), *((k.value, k.label) for k in PARTNER_KINDS)])
    # Schools are chosen by URN: a list of every London school would be most of the page.
    form.agency.choices = options(
        [("", "Every agency"), *active_choices(partners_only=True, schools=False)]
    )
    form.risk.choices = options([("", "Any risk"), *((g.value, g.label) for g in RiskGrade)])
    form.validate()  # the date boxes' own errors: a date that is not a date
    today = clock.london_today()
    period = form.period.data or "last_4_weeks"
    first: date | None
    last: date | None
    if period == "custom":
        first, last = form.first.data, form.last.data
        if first is None and not form.first.errors:
            form.first.errors = ["Enter the first day of the period"]
        if last is None and not form.last.errors:
            form.last.errors = ["Enter the last day of the period"]
        if first and last and last < first:
            form.last.errors = ["The last day must be the same as or after the first day"]
        elif first and last and last - first > reports.LONGEST_PERIOD:
            form.last.errors = ["Choose a period of at most 2 years"]
    elif period in dict(reports.PERIODS):
        first, last = reports.period_dates(period, today)
        # The date boxes are hidden unless "Dates I choose" is chosen: what they hold then
        # is not asked for, and no error of theirs stands.
        form.first.errors, form.last.errors = [], []
    else:
        form.period.errors = ["Choose a period"]
        first = last = None
    agency = _agency(form)
    borough = form.borough.data or ""
    if borough and borough not in BOROUGHS:
        form.borough.errors = ["Choose a borough from the list"]
    kind = enum_or_none(AgencyKind, form.kind.data)
    if form.kind.data and kind not in PARTNER_KINDS:
        form.kind.errors = ["Choose a kind of agency from the list"]
    risk = enum_or_none(RiskGrade, form.risk.data)
    if form.risk.data and risk is None:
        form.risk.errors = ["Choose a risk from the list"]
    if any(f.errors for f in form) or first is None or last is None:
        return form, None
    return form, ReportFilters(first, last, borough or None, kind, agency, risk)


def _agency(form: ReportForm) -> Agency | None:
    chosen = form.agency.data or ""
    urn = (form.school.data or "").strip()
    if chosen and urn:
        form.school.errors = ["Choose an agency or a school, not both"]
        return None
    if urn:
        school = agencies.school_by_urn(urn) if URN.fullmatch(urn) else None
        if school is None:
            form.school.errors = [
                f"No school with URN {urn} is known to the desk: a URN is 6 digits"
                if URN.fullmatch(urn)
                else "Enter the school's URN, 6 digits, like 100001"
            ]
        return school
    if not chosen:
        return None
    agency = db.session.get(Agency, int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
    if agency is None or agency.kind in (AgencyKind.POLICE_DESK, AgencyKind.SCHOOL):
        form.agency.errors = ["Choose an agency from the list"]
        return None
    return agency


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


Column = tuple[str, Callable[[Figures], object]]
REFERRAL_COLUMNS: list[Column] = [
    ("Sent", lambda f: f.sent),
    ("Acknowledged on time", lambda f: f.ack_on_time),
    ("Acknowledged late", lambda f: f.ack_late),
    ("Overdue, not acknowledged", lambda f: f.overdue),
    ("On time", lambda f: percent(f.on_time_rate)),
    ("Half acknowledged", lambda f: f.percentile("ack", 0.5)),
    ("90% acknowledged", lambda f: f.percentile("ack", 0.9)),
    ("Half decided", lambda f: f.percentile("decide", 0.5)),
    ("90% decided", lambda f: f.percentile("decide", 0.9)),
    ("Declined", lambda f: f.declined),
]
DESK_COLUMNS: list[Column] = [
    ("Received", lambda f: f.received),
    ("Sent", lambda f: f.sent),
    ("Sent after the triage deadline", lambda f: f.triage_late),
    ("Not sent, triage overdue", lambda f: f.triage_overdue),
    ("Triage on time", lambda f: percent(f.triage_on_time_rate)),
    ("A child at school (Encompass)", lambda f: f.share_due),
    ("Shared after the school day began", lambda f: f.share_late),
    ("Encompass on time", lambda f: percent(f.share_on_time_rate)),
]
# Each table of the page: (its caption, its first column's header, its rows, its columns).
Table = tuple[str, str, Callable[[Report], Sequence[Figures]], list[Column]]
TABLES: dict[str, Table] = {
    "weeks": ("Week by week", "Week beginning", lambda r: r.weeks, REFERRAL_COLUMNS),
    "boroughs": ("Per borough", "Borough", lambda r: r.boroughs, REFERRAL_COLUMNS),
    "agencies": ("Per agency", "Agency", lambda r: r.agencies, REFERRAL_COLUMNS),
    "desk": ("The desk's own deadlines", "Borough", lambda r: r.desk_boroughs, DESK_COLUMNS),
}
ANSWERS = ("answers", "Decisions and declines")


@bp.route("/")
@requires(Permission.SUPERVISE)
def index() -> str | tuple[str, int]:
    form, filters = _form()
    if filters is None:
        return render_template(
            "supervisor/reports.html",
            form=form,
            shown=None,
            figures=None,
            errors=error_list(form, {}),
        ), 400
    return render_template(
        "supervisor/reports.html", form=form, shown=filters, figures=_figures(filters), errors=[]
    )


def _figures(filters: reports.ReportFilters) -> Markup:
    """The report's figures as HTML: rendered once per report and its links' arguments, and
    kept until the tallies move (as the report itself is)."""
    args = request.args.to_dict(flat=False)  # the date boxes repeat their name
    tallies = reports.counted(filters)
    key = tallies.key
    if key is not None:
        key = (*key, tuple(sorted((name, tuple(v)) for name, v in args.items())))
    found: Markup | None = reports.kept("figures").get(key) if key is not None else None
    if found is not None:
        return found
    report = reports.report(filters, tallies)
    made = Markup(  # noqa: S704 (rendered by Jinja with autoescape, as the page itself is)
        render_template(
            "supervisor/_report_figures.html",
            report=report,
            charts=_charts(report),
            tables=TABLES,
            args=args,
            percent=percent,
            zip=zip,
        )
    )
    if key is not None:
        reports.kept("figures").put(key, made)
    return made


@bp.route("/export.<any(csv, xlsx):fmt>")
@requires(Permission.SUPERVISE)
def export(fmt: str) -> Response | tuple[str, int]:
    """One table of the report, as on the page, as CSV or XLSX."""
    name = request.args.get("table", "")
    form, filters = _form()
    if filters is None or (name not in TABLES and name != ANSWERS[0]):
        if filters is not None:
            form.period.errors = ["Choose a table of the report to download"]
        return render_template(
            "supervisor/reports.html",
            form=form,
            shown=None,
            figures=None,
            errors=error_list(form, {}),
        ), 400
    report = reports.report(filters)
    if name == ANSWERS[0]:
        header = ["Answer", "Outcome or reason", "Referrals"]
        rows: list[list[object]] = [
            *(["Decision", label, n] for label, n in report.decisions),
            *(["Decline", label, n] for label, n in report.declines),
        ]
    else:
        _caption, first, figures_of, columns = TABLES[name]
        header = [first, *(title for title, _ in columns)]
        rows = [[f.label, *(value(f) for _, value in columns)] for f in figures_of(report)]
    figures = ((None, row) for row in rows)  # counts: no record is touched
    return download(fmt, f"report_{name}", filters.chosen(), len(rows), header, figures)


def _charts(report: Report) -> dict[str, charts.Chart]:
    # "w/c 2 Nov 2026" under a bar is "2 Nov"
    weeks = [
        (" ".join(f.label.split()[1:3]), f.on_time_rate, percent(f.on_time_rate))
        for f in report.weeks
    ]
    rated = [(label, rate, shown) for label, rate, shown in weeks if rate is not None]
    waits = report.distribution("ack")
    breaches = [(f.label, f.breaches, str(f.breaches)) for f in report.boroughs if f.breaches]
    lowest = min(rated, key=lambda w: w[1], default=None)
    return {
        "weeks": charts.vertical(
            "chart-weeks",
            "Acknowledged on time, week by week",
            (
                f"The share of referrals acknowledged by their due time in each of {len(rated)} "
                f"weeks; the lowest was {lowest[2]} in the week beginning {lowest[0]}. "
                "The table below gives each week's figures."
                if lowest
                else "No acknowledgement fell due in this period."
            ),
            [(label, rate or 0.0, shown) for label, rate, shown in rated],
            maximum=1.0,
        ),
        "waits": charts.vertical(
            "chart-waits",
            "Time from sending to acknowledgement",
            f"How many of the {sum(n for _, n in waits)} acknowledged referrals were "
            "acknowledged within each time. The table below gives the same counts.",
            [(label.removeprefix("within "), n, str(n)) for label, n in waits],
        ),
        "breaches": charts.horizontal(
            "chart-breaches",
            "Breaches by borough",
            (
                f"Referrals acknowledged late or still overdue, per borough, most first: "
                f"{breaches[0][0]} has the most, {breaches[0][1]}. The table below gives each "
                "borough's figures."
                if breaches
                else "No referral in this period was acknowledged late or is overdue."
            ),
            breaches,
        ),
    }
