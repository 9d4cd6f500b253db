"""The end of the audit chain, anchored where the database cannot rewrite it.

The hash chain proves that no event was edited, removed or moved *within* the chain, but
someone able to bypass the triggers (a database owner) could delete the newest events and the
chain would still verify. So the scheduler writes a checkpoint of the chain's head (sequence,
hash and time, with an HMAC under a key derived from ``AUDIT_KEY``) every few minutes to an
append-only file in ``AUDIT_ANCHOR_DIR`` (and the log). :func:`verify` walks the chain and then
checks it still reaches the latest checkpoint with the same event there: events cut off the
end, or an end rewritten after a cut, are reported.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from referrals import clock
from referrals.extensions import db
from referrals.models.audit import AuditEvent
from referrals.runtime import runtime
from referrals.services import audit
from referrals.services.audit import VerifyResult

log = logging.getLogger(__name__)
FILE_NAME = "anchors.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime

    def line(self, key: bytes) -> str:
        body = {"seq": self.seq, "hash": self.hash, "at": self.at.isoformat()}
        return json.dumps({**body, "mac": _mac(key, body)}, sort_keys=True)


def _key() -> bytes:
    return hmac.new(runtime().audit_key, b"audit-anchor", hashlib.sha256).digest()


def _mac(key: bytes, body: dict[str, object]) -> str:
    text = f"{body['seq']}|{body['hash']}|{body['at']}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _path() -> Path:
    return Path(runtime().settings.audit_anchor_dir) / FILE_NAME


def read() -> tuple[Checkpoint | None, int]:
    """The latest checkpoint that verifies, and how many lines do not."""
    path = _path()
    if not path.exists():
        return None, 0
    key, latest, bad = _key(), None, 0
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(text)
            good = hmac.compare_digest(str(data["mac"]), _mac(key, data))
            point = Checkpoint(
                int(data["seq"]), str(data["hash"]), datetime.fromisoformat(data["at"])
            )
        except (ValueError, KeyError, TypeError):
            good = False
        if not good:
            bad += 1
            continue
        if latest is None or point.seq >= latest.seq:
            latest = point
    return latest, bad


def _head() -> tuple[int, str] | None:
    row = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def write() -> Checkpoint | None:
    """Append a checkpoint of the chain's head, unless the last one already holds it."""
    head = _head()
    if head is None:
        return None
    latest, _ = read()
    if latest is not None and (latest.seq, latest.hash) == head:
        return None
    point = Checkpoint(head[0], head[1], clock.now())
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (point.line(_key()) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("audit anchor: event %d hash %s at %s", point.seq, point.hash, point.at.isoformat())
    return point


def verify() -> VerifyResult:
    """The chain walk (:func:`audit.verify`), then the chain against the latest checkpoint."""
    walked = audit.verify()
    if not walked.ok:
        return walked
    latest, bad = read()
    if bad:
        return VerifyResult(
            walked.checked,
            0,
            f"{bad} line(s) of the anchor file {_path()} do not verify with the audit key: "
            "the file was edited",
        )
    if latest is None:
        return VerifyResult(walked.checked, anchored="no checkpoint written yet")
    end = int(db.session.scalar(select(func.max(AuditEvent.seq))) or 0)
    when = clock.shown(latest.at)
    if end < latest.seq:
        return VerifyResult(
            walked.checked,
            end + 1,
            f"{latest.seq - end} event(s) are missing from the end: the chain ends at event "
            f"{end}, but the checkpoint of {when} saw event {latest.seq}",
        )
    there = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == latest.seq))
    if there != latest.hash:
        return VerifyResult(
            walked.checked,
            latest.seq,
            f"event {latest.seq} is not the event the checkpoint of {when} saw: the end of the "
            "chain was cut off and written again",
        )
    return VerifyResult(
        walked.checked, anchored=f"reaches the checkpoint of {when} (event {latest.seq})"
    )
