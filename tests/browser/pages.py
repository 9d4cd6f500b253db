"""Page objects: what a person sees and does, kept out of the journeys themselves."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import one_time_code


class SignInPage:
    def __init__(self, page: Page, base: str, app: Flask | None = None) -> None:
        self.page, self.base, self.app = page, base, app

    def password(self, email: str, password: str) -> None:
        self.page.goto(f"{self.base}/sign-in")
        self.page.get_by_label("E-mail address").fill(email)
        self.page.get_by_role("textbox", name="Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()

    def code(self, code: str) -> None:
        expect(self.page.get_by_role("heading", name="Your second factor")).to_be_visible()
        self.page.get_by_label("Code").fill(code)
        self.page.get_by_role("button", name="Continue").click()

    def sign_in(self, email: str, password: str, code: str | None = None) -> None:
        """Password, then the second factor: the code given, or a fresh recovery code (any
        number of sign-ins in one 30-second step can each have one)."""
        self.password(email, password)
        if code is None:
            assert self.app is not None, "give a code, or the app to make a recovery code with"
            code = one_time_code(self.app, email)
        self.code(code)


class IntakePage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> None:
        self.page.get_by_role("link", name="Log an incident").first.click()
        expect(self.page.get_by_role("heading", name="Log an incident")).to_be_visible()

    def date(self, prefix: str, day: str, month: str, year: str) -> None:
        self.page.locator(f"#{prefix}-day").fill(day)
        self.page.locator(f"#{prefix}-month").fill(month)
        self.page.locator(f"#{prefix}-year").fill(year)

    def incident(self, reference: str) -> None:
        p = self.page
        p.get_by_label("Police reference").fill(reference)
        self.date("occurred_date", "20", "11", "2026")
        p.get_by_label("Time of the incident").fill("21:30")
        self.date("received_date", "20", "11", "2026")
        p.get_by_label("Time the desk received it").fill("23:05")
        p.get_by_label("Borough where it happened").select_option(label="Lambeth")
        p.get_by_label("Location").fill("4 Example Road, London")
        p.get_by_label("What happened, in brief").fill("Synthetic browser journey.")
        p.locator("#risk_actuarial-2").check()  # Medium

    def adult(self, index: int, given: str, family: str) -> None:
        p = self.page
        p.locator(f"#adults-{index}-role").check()  # Adult victim
        p.locator(f"#adults-{index}-given_name").fill(given)
        p.locator(f"#adults-{index}-family_name").fill(family)

    def child(self, index: int, given: str, family: str, dob: tuple[str, str, str]) -> None:
        p, c = self.page, f"#children-{index}"
        p.locator(f"{c}-given_name").fill(given)
        p.locator(f"{c}-family_name").fill(family)
        self.date(f"children-{index}-date_of_birth", *dob)
        p.locator(f"{c}-lives_there").check()  # Yes: the incident's address, so no boxes for it
        expect(p.locator(f"{c}-address")).to_be_hidden()
        p.locator(f"{c}-present-2").check()  # No
        p.locator(f"{c}-spoken_to-2").check()  # No
        p.locator(f"{c}-known_to_social_care-3").check()  # Not known

    def tab_to(self, selector: str, limit: int = 80) -> None:
        """Press Tab until ``selector`` has focus, as a keyboard user would (fails if it never
        does: the field cannot be reached by keyboard, or comes out of order)."""
        target = self.page.locator(selector)
        for _ in range(limit):
            if target.evaluate("el => el === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{selector} was not reached by Tab")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)

    def add_child(self) -> None:
        self.page.get_by_role("button", name="Add another child").click()

    def submit(self) -> None:
        self.page.get_by_role("button", name="Log incident", exact=True).last.click()
