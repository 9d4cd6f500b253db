"""Every page, as each role, in Chromium: nothing scrolls sideways at 320 px (WCAG 1.4.10), and
axe-core (from npm) finds no serious or critical violation. axe runs in a context that bypasses
the CSP, since its script is injected; the reflow is measured in an ordinary one."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, ViewportSize

from referrals.extensions import db
from referrals.models.agency import Agency
from referrals.models.user import Role
from tests.browser.pages import SignInPage
from tests.factories import PASSWORD, make_user
from tests.route_walk import paths

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
NARROW: ViewportSize = {"width": 320, "height": 720}
# Pages that take a token or end the session: walked by their own journeys.
SKIP = {"auth.sign_out", "auth.invitation", "auth.reset_password"}


# The Design System keeps aria-expanded on radios that reveal a question, knowingly (screen
# readers announce it; alphagov/govuk-frontend#979 lists axe's complaint as a known issue):
# that one finding is set aside, every other is reported.
AXE_RUN = """async () => {
  const known = (v, n) => v.id === 'aria-allowed-attr'
    && /govuk-radios__input/.test(n.html) && /aria-expanded/.test(n.html)
    && n.any.concat(n.all, n.none).every(c => /aria-expanded/.test(c.message))
  const found = (await axe.run(document, {resultTypes: ['violations']})).violations
  return found
    .filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => ({...v, nodes: v.nodes.filter(n => !known(v, n))}))
    .filter(v => v.nodes.length)
    .map(v => `${v.id}: ${v.help} (${v.nodes.length}x, ${v.nodes[0].target})`)
}"""
# The innermost element that reaches past the viewport, to say what to fix.
WIDEST = """() => {
  const limit = document.documentElement.clientWidth + 1
  const over = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > limit || e.scrollWidth > limit)
  const inner = over.filter(e => !over.some(o => o !== e && e.contains(o)))
  return inner.slice(0, 3).map(e => e.tagName.toLowerCase()
    + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ')[0] : '')
    + ' "' + (e.textContent || '').trim().slice(0, 40) + '"').join('; ')
}"""


def _pages(app: Flask, world: dict[str, int]) -> list[str]:
    return [
        path
        for endpoint, path, methods in paths(app, world)
        if "GET" in methods and endpoint not in SKIP and endpoint != "health.healthz"
    ]


def _signed_in(
    browser: Browser, app: Flask, base: str, email: str, *, bypass_csp: bool = False
) -> Page:
    context = browser.new_context(viewport=NARROW, bypass_csp=bypass_csp)
    page = context.new_page()
    SignInPage(page, base, app).sign_in(email, PASSWORD)
    return page


def _user(app: Flask, role: Role | None, world: dict[str, int]) -> str | None:
    if role is None:
        return None
    with app.app_context():
        agency = db.session.get(Agency, world["school_id"]) if role is Role.PARTNER else None
        email = make_user(role=role, agency=agency).email
        db.session.commit()
    return email


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "signed_out")
def test_every_page_reflows_at_320_px_and_passes_axe(
    app: Flask, live_server: str, browser: Browser, world: dict[str, int], role: Role | None
) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make assets` installs it from npm")
    email = _user(app, role, world)
    if email is None:
        plain = browser.new_context(viewport=NARROW).new_page()
        checked = browser.new_context(viewport=NARROW, bypass_csp=True).new_page()
    else:
        plain = _signed_in(browser, app, live_server, email)
        checked = _signed_in(browser, app, live_server, email, bypass_csp=True)
    wide: list[str] = []
    violations: list[str] = []
    seen = 0
    try:
        for path in _pages(app, world):
            response = plain.goto(f"{live_server}{path}")
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            seen += 1
            width = plain.evaluate("document.documentElement.scrollWidth")
            if width > NARROW["width"]:
                widest = plain.evaluate(WIDEST)
                wide.append(f"{path} ({response.status}): {width} px wide, from {widest}")
            if response.status != 200:
                continue
            checked.goto(f"{live_server}{path}")
            checked.add_script_tag(path=str(AXE))
            found = checked.evaluate(AXE_RUN)
            violations.extend(f"{path}: {v}" for v in found)
    finally:
        plain.context.close()
        checked.context.close()
    assert seen > 10
    assert wide + violations == [], "\n".join(wide + violations)
