"""Exports of the desk's lists to CSV and XLSX: pseudonymised as on screen, streamed (rows are
read a page at a time and written as they come; an XLSX is built row by row in a temporary file
by xlsxwriter's constant-memory mode and then streamed), every cell that a spreadsheet could take
for a formula defused, and each export one audit event of kind disclosure with its filter and
row count (OWASP's CSV injection guidance: a leading = + - @ tab or carriage return)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import xlsxwriter

from referrals import clock
from referrals.models.audit import AuditEvent, AuditKind
from referrals.queries.paging import Cursor, Page
from referrals.services import audit
from referrals.services.actors import Actor

T = TypeVar("T")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500  # rows read from the database at a time
CHUNK = 64 * 1024


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        if self is Format.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value: object) -> str:
    """A value as a cell's text, never something a spreadsheet would run."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.shown(value)
    if isinstance(value, date):
        return clock.shown_date(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def pages(fetch: Callable[[Cursor | None], Page[T]]) -> Iterator[list[T]]:
    """Every page of a keyset-paged list, one after another."""
    cursor: Cursor | None = None
    while True:
        page = fetch(cursor)
        yield page.items
        if page.older is None:
            return
        cursor = page.older


def stream(fmt: Format, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    if fmt is Format.CSV:
        yield from _csv(header, rows)
    else:
        yield from _xlsx(header, rows)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken() -> bytes:
        written = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return written

    writer.writerow([cell(h) for h in header])
    yield "\ufeff".encode() + taken()  # the BOM: Excel reads UTF-8
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if n % BATCH == 0:
            yield taken()
    if buffer.tell():
        yield taken()


def _xlsx(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
        sheet = book.add_worksheet("Export")
        bold = book.add_format({"bold": True})
        for col, name in enumerate(header):
            sheet.write_string(0, col, cell(name), bold)
        for r, row in enumerate(rows, 1):
            for col, value in enumerate(row):
                sheet.write_string(r, col, cell(value))  # always text, never a formula
        book.close()
        with open(path, "rb") as built:
            while chunk := built.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def record(actor: Actor, name: str, fmt: Format, filters: dict[str, Any], rows: int) -> AuditEvent:
    """The export as one disclosure: what list, in what form, with which filter, how many rows."""
    return audit.record(
        actor,
        AuditKind.DISCLOSURE,
        f"export.{name}",
        "export",
        name,
        recipients=[actor.label],
        detail={"format": fmt.value, "filters": filters, "rows": rows},
    )
