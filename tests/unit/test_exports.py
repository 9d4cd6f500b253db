"""``referrals/services/exports.py``: no cell a spreadsheet would run; CSV streamed in chunks."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from referrals.services import exports


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+44 20 7946 0000", "-2", "@SUM(A1:A2)", "\tx", "\rx", '=HYPERLINK("http://x")'],
)
def test_a_value_a_spreadsheet_would_run_is_text(value: str) -> None:
    assert exports.cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Synthetic", "REF-000001", "a=b", "", " =x"])
def test_other_values_are_kept_as_they_are(value: str) -> None:
    assert exports.cell(value) == value


def test_times_are_shown_as_on_the_pages_and_none_is_empty() -> None:
    assert exports.cell(datetime(2026, 11, 21, 16, 14, tzinfo=UTC)) == "21 Nov 2026 16:14"
    assert exports.cell(None) == ""
    assert exports.cell(3) == "3"


def test_csv_is_streamed_in_chunks_and_reads_back() -> None:
    rows = ([f"row {n}", "=bad"] for n in range(1, 1201))
    chunks = list(exports.stream(exports.Format.CSV, ["Name", "Value"], rows))
    assert len(chunks) >= 3  # the header, then a chunk per 500 rows
    text = b"".join(chunks).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text)))
    assert read[0] == ["Name", "Value"] and len(read) == 1201
    assert read[1200] == ["row 1200", "'=bad"]
