"""What a person needs from a form's markup, checked on the HTML a page really sends.

axe-core does not see a ``fieldset`` whose ``legend`` is missing (bare "Yes / No" rows); a person
does. :func:`problems` lists, for one page: a fieldset without a non-empty legend, an input
without a label, a label, ``aria-describedby`` or error-summary link that points at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "image", "reset"}


@dataclass
class _Fieldset:
    line: int
    legend: str | None = None


@dataclass
class _Page(HTMLParser):
    ids: set[str] = field(default_factory=set)
    label_for: list[tuple[str, int]] = field(default_factory=list)
    described_by: list[tuple[str, int]] = field(default_factory=list)
    anchors: list[tuple[str, int]] = field(default_factory=list)
    inputs: list[tuple[str, str, bool, int]] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.fieldsets: list[_Fieldset] = []
        self.in_summary = 0
        self.legend_depth: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if a.get("id"):
            self.ids.add(a["id"])
        for ref in a.get("aria-describedby", "").split():
            self.described_by.append((ref, line))
        if tag == "label" and a.get("for"):
            self.label_for.append((a["for"], line))
        if "govuk-error-summary" in a.get("class", "").split():
            self.in_summary = len(self.stack) + 1
        if tag == "a" and self.in_summary and a.get("href", "").startswith("#"):
            self.anchors.append((a["href"][1:], line))
        if tag == "fieldset":
            self.fieldsets.append(_Fieldset(line))
        if tag == "legend" and self.fieldsets:
            self.fieldsets[-1].legend = self.fieldsets[-1].legend or ""
            self.legend_depth = len(self.stack) + 1
        kind = a.get("type", "text") if tag == "input" else tag
        if tag in ("input", "select", "textarea") and kind not in UNLABELLED_TYPES:
            named = bool(a.get("aria-label") or a.get("aria-labelledby"))
            self.inputs.append(
                (a.get("id", ""), a.get("name", ""), named or "label" in self.stack, line)
            )
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if self.in_summary and len(self.stack) < self.in_summary:
                self.in_summary = 0
            if self.legend_depth is not None and len(self.stack) < self.legend_depth:
                self.legend_depth = None
            if top == "fieldset" and self.fieldsets:
                done = self.fieldsets.pop()
                if not (done.legend or "").strip():
                    self.found.append(f"line {done.line}: a fieldset without a legend")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.legend_depth is not None and self.fieldsets:
            self.fieldsets[-1].legend = (self.fieldsets[-1].legend or "") + data


def problems(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    page.close()
    found = list(page.found)
    labelled = {target for target, _ in page.label_for}
    for target, line in page.label_for:
        if target not in page.ids:
            found.append(f"line {line}: a label for #{target}, which is not on the page")
    for ref, line in page.described_by:
        if ref not in page.ids:
            found.append(f"line {line}: aria-describedby names #{ref}, which is not on the page")
    for ref, line in page.anchors:
        if ref not in page.ids:
            found.append(
                f"line {line}: the error summary links to #{ref}, which is not on the page"
            )
    for input_id, name, named, line in page.inputs:
        if not named and input_id not in labelled:
            found.append(f"line {line}: the input {name or input_id!r} has no label")
    return found
