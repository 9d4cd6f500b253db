"""referrals/__init__.py's template environment: each template's globals are one plain dict
(the speed-up), and every global the app registers still reaches a page and an imported macro."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from flask import Flask

from referrals import DeskEnvironment
from referrals.models.agency import AgencyKind
from referrals.profiles import outcome_label


def test_templates_hold_their_globals_as_a_plain_dict(app: Flask) -> None:
    assert isinstance(app.jinja_env, DeskEnvironment)
    globals_ = app.jinja_env.get_template("layout.html").globals
    assert type(globals_) is dict
    for name in ("url_for", "csrf_token", "can", "desk_needs", "borough_name", "outcome_label"):
        assert name in globals_, name


def test_an_imported_macro_still_reads_the_apps_globals(app: Flask) -> None:
    """``_referral_macros.html`` is imported without context: it sees globals only, here
    ``outcome_label``."""
    page = app.jinja_env.from_string(
        '{% from "_referral_macros.html" import answer_text %}{{ answer_text(r) }}'
    )
    referral = SimpleNamespace(
        decided_at=datetime(2026, 11, 20, tzinfo=UTC),
        agency=SimpleNamespace(kind=AgencyKind.SCHOOL),
        decision="support_in_school",
    )
    with app.test_request_context("/"):
        shown = " ".join(page.render(r=referral).split())
    assert shown == f"Decided: {outcome_label(AgencyKind.SCHOOL, 'support_in_school')}"
    assert "support_in_school" not in shown


def test_the_sign_in_page_renders_with_them(app: Flask) -> None:
    response = app.test_client().get("/sign-in")
    assert response.status_code == 200
    assert "Forgotten your password?" in response.text
    assert 'href="/forgot-password"' in response.text
