"""A list sent as a file: recorded as one disclosure, then streamed with the request's context
kept open while its rows are read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

from referrals import clock
from referrals.services import exports
from referrals.web.requests import actor


def download(
    fmt: str,
    listing: str,
    filters: dict[str, str],
    count: int,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> Response:
    """``listing`` (like "desk_queue") under ``filters``, ``count`` rows, as CSV or XLSX."""
    form = exports.Format(fmt)
    exports.record(actor(), listing, form, filters, count)
    name = "-".join([listing.replace("_", "-"), *filters.values(), f"{clock.now():%Y-%m-%d}"])
    response = Response(
        stream_with_context(exports.stream(form, header, rows)), mimetype=form.media_type
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{form.value}"'
    response.headers["Cache-Control"] = "no-store"
    return response
