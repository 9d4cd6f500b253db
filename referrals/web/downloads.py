"""A list sent as a file: recorded as one disclosure, then streamed with the request's context
kept open while its rows are read. Each row names the record it shows; a batch's records are
written as touched by the export (and committed) before the batch is written out, so the access
reports know every record an export disclosed, and nothing leaves without that record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from flask import Response, stream_with_context

from referrals import clock
from referrals.extensions import db
from referrals.services import audit, exports
from referrals.web.requests import actor

# A row of an export: the record it shows, as (record type, id), or None for a figure.
Row = tuple[tuple[str, object] | None, Sequence[object]]


def download(
    fmt: str,
    listing: str,
    filters: dict[str, str],
    count: int,
    header: Sequence[str],
    rows: Iterable[Row],
) -> Response:
    """``listing`` (like "desk_queue") under ``filters``, ``count`` rows, as CSV or XLSX."""
    form = exports.Format(fmt)
    seq = exports.record(actor(), listing, form, filters, count).seq
    name = "-".join([listing.replace("_", "-"), *filters.values(), f"{clock.now():%Y-%m-%d}"])
    response = Response(
        stream_with_context(exports.stream(form, header, touching(seq, rows))),
        mimetype=form.media_type,
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{form.value}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def touching(seq: int, rows: Iterable[Row]) -> Iterator[Sequence[object]]:
    """The rows' cells, each batch's records written as touched by event ``seq`` first."""
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == exports.BATCH:
            yield from _recorded(seq, batch)
            batch = []
    yield from _recorded(seq, batch)


def _recorded(seq: int, batch: list[Row]) -> Iterator[Sequence[object]]:
    touched = [record for record, _ in batch if record is not None]
    if touched:
        audit.touch(seq, touched)
        db.session.commit()  # after the response began: its own unit of work, per batch
    for _, cells in batch:
        yield cells
