"""Backups that restore (a backup is only as good as its restore, so each is tried):
``flask backup create PATH`` and ``backup restore PATH``.

A backup holds the whole database: every table, the sealed identities as ciphertext, the audit
chain and its triggers, the schema version. It holds **no key**: without the same
``ENCRYPTION_KEYS``, ``LINKAGE_KEY`` and ``AUDIT_KEY`` nothing sealed opens and the audit chain
cannot be verified, so keep the keys apart from the backups, as safely.

SQLite is copied with SQLite's online backup API: a consistent snapshot while the desk runs.
PostgreSQL is dumped with ``pg_dump`` in its custom format and restored with ``pg_restore``
(the client tools must be installed, of the server's major version or newer). A restore goes
only into an empty database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why and what to do."""


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("this SQLite database has no file to back up")
    return Path(url.database)


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq's own variables, so that no password appears on a command line."""
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[name] = str(value)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools of the server's version "
            "or newer (Debian: apt install postgresql-client) and try again"
        )
    return found


def _run(command: list[str], url: URL) -> None:
    done = subprocess.run(  # noqa: S603 - a fixed tool and our own arguments, no shell
        command, env=_pg_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[:2000]}")


def _copy_sqlite(source_uri: str, target_path: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write."""
    source = sqlite3.connect(source_uri, uri=True)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def create(database_url: str, path: Path) -> int:
    """Write a backup of the database to ``path`` (which must not exist); return its size."""
    if path.exists():
        raise BackupError(f"{path} exists already: choose a new file name (nothing was written)")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(_sqlite_file(url).resolve().as_uri(), path)
    elif url.get_backend_name() == "postgresql":
        try:
            _run(
                [
                    _tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={path}",
                ],
                url,
            )
        except BackupError:
            path.unlink(missing_ok=True)
            raise
    else:
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    return path.stat().st_size


def _is_empty(database_url: str) -> bool:
    engine = sa.create_engine(database_url)
    try:
        return not sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(database_url: str, path: Path) -> None:
    """Restore the backup at ``path`` into the (empty) database at ``database_url``."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{path} is not a backup of a SQLite desk")
    if backend == "postgresql" and not head.startswith(PG_MAGIC):
        raise BackupError(f"{path} is not a pg_dump backup (custom format) of a PostgreSQL desk")
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"restoring into {backend} is not supported")
    if not _is_empty(database_url):
        raise BackupError(
            "the database is not empty: a restore goes into an empty database only, so that "
            "nothing is mixed or overwritten (create a new database and point DATABASE_URL at it)"
        )
    if backend == "sqlite":
        _copy_sqlite(path.resolve().as_uri() + "?mode=ro", _sqlite_file(url))
        return
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={url.database}",
            str(path),
        ],
        url,
    )
