"""The label checker finds each thing a person would miss (so that its silence means something)."""

from __future__ import annotations

import pytest

from tests.labels import problems


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<fieldset><legend> </legend><label for=a>A</label><input id=a></fieldset>",
            "without a legend",
        ),
        ("<fieldset><label for=a>A</label><input id=a></fieldset>", "without a legend"),
        ("<input name=q id=q>", "'q' has no label"),
        ("<label for=gone>Gone</label>", "#gone, which is not on the page"),
        (
            "<label>A <input id=a aria-describedby='a-hint'></label>",
            "aria-describedby names #a-hint",
        ),
        ('<div class="govuk-error-summary"><a href="#x">Enter x</a></div>', "links to #x"),
    ],
)
def test_each_problem_is_found(html: str, expected: str) -> None:
    found = problems(html)
    assert any(expected in p for p in found), found


def test_a_labelled_form_passes() -> None:
    html = """
    <div class="govuk-error-summary"><a href="#present">Child 1: say if present</a></div>
    <fieldset aria-describedby="present-hint"><legend><h2>Was the child present?</h2></legend>
      <div id="present-hint">Only if known</div>
      <input type="radio" id="present" name="p"><label for="present">Yes</label>
      <input type="radio" id="present-2" name="p"><label for="present-2">No</label>
    </fieldset>
    <label>Search <input type="search" name="q"></label>
    <input type="hidden" name="csrf_token"><button type="submit">Go</button>"""
    assert problems(html) == []
