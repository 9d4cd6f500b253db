""" "Needs the desk": partners' answers waiting on the desk, with one obvious action each."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from referrals import clock
from referrals.models.referral import Referral
from referrals.profiles import decline_label, outcome_label
from referrals.queries import needs_desk
from referrals.queries.paging import Cursor
from referrals.runtime import runtime
from referrals.security.access import requires
from referrals.security.permissions import Permission
from referrals.services import exports
from referrals.web.downloads import Row, download
from referrals.web.requests import enum_arg

bp = Blueprint("needs", __name__, url_prefix="/desk/needs")


@bp.route("/export.<any(csv, xlsx):fmt>")
@requires(Permission.MANAGE_REFERRALS)
def export(fmt: str) -> Response:
    """One section of "Needs the desk", oldest first, every page, as CSV or XLSX."""
    section = enum_arg("section", needs_desk.Section) or needs_desk.Section.DECLINES

    def rows() -> Iterator[Row]:
        fetch = partial(needs_desk.listing, section, page_size=exports.BATCH)
        for items in exports.pages(lambda cursor: fetch(after=cursor)):
            for r in items:
                yield (
                    ("referral", r.id),
                    [
                        r.reference,
                        r.incident.police_reference,
                        r.subject.person.pseudonym,
                        r.agency.name,
                        *_since(section, r),
                    ],
                )

    header = ["Referral", "Police reference", "Pseudonym", "Agency", "Since", "What"]
    count = needs_desk.counts().of(section)
    return download(fmt, "needs_the_desk", {"section": section.value}, count, header, rows())


def _since(section: needs_desk.Section, r: Referral) -> tuple[object, str]:
    if section is needs_desk.Section.DECLINES:
        return r.declined_at, decline_label(r.agency.kind, r.decline_category)
    if section is needs_desk.Section.QUESTIONS:
        return r.question_open_since, "A question waits for an answer"
    return r.decided_at, outcome_label(r.agency.kind, r.decision)


@bp.route("/")
@requires(Permission.MANAGE_REFERRALS)
def listing() -> str:
    """Each section oldest first; ``?section=...&after=...`` pages through one section."""
    paging = enum_arg("section", needs_desk.Section)
    after = Cursor.decode(request.args.get("after"))
    size = runtime().settings.page_size
    sections = {
        section: needs_desk.listing(
            section, after=after if section is paging else None, page_size=size
        )
        for section in needs_desk.Section
    }
    return render_template(
        "desk/needs.html",
        sections=sections,
        counts=needs_desk.counts(),
        now=clock.now(),
    )
