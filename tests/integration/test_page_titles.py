"""Every page's title names its record or tab, so two pages a person has open in two browser tabs
(or hears announced by a screen reader) are never called the same; and every date a page shows is
in one of the two formats people read ("3 September 2018", "21 Nov 2026 16:14"), never ISO."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask

from referrals.models.user import Role
from referrals.queries.referrals import InboxTab
from tests.route_walk import client_as, paths

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MARKUP = re.compile(r"<script.*?</script>|<template.*?</template>|<[^>]+>", re.S)


def _visible_text(html: str) -> str:
    return unescape(MARKUP.sub(" ", html))


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "signed_out")
def test_titles_name_their_page_and_dates_are_not_iso(
    app: Flask, world: dict[str, int], role: Role | None
) -> None:
    client = client_as(app, role, world)
    titles: dict[str, str] = {}
    same: list[str] = []
    iso: list[str] = []
    tabs = [f"/portal/?tab={tab.value}" for tab in InboxTab if tab is not InboxTab.NEW]  # default
    for path in [p for _e, p, methods in paths(app, world) if "GET" in methods] + tabs:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        title = " ".join(TITLE.search(response.text).group(1).split())  # type: ignore[union-attr]
        if title in titles and titles[title] != path:
            same.append(f"{path} and {titles[title]}: {title!r}")
        titles.setdefault(title, path)
        iso.extend(f"{path}: {m}" for m in ISO_DATE.findall(_visible_text(response.text)))
    assert titles, "no page answered"
    assert same == [], "\n".join(same)
    assert iso == [], "\n".join(iso)
