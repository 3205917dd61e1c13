"""Online backups of a SQLite war room, each a log of its own once restored.

`backup` copies the database with SQLite's backup API while the hub goes on writing: the copy is
one consistent snapshot. The copy then gets a new log identity (the `log` secret), so a hub
started on it after a restore tells every client that its cursor belongs to another log, and the
client starts over instead of silently missing what the restore took away.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, text

from warroom.store import chain
from warroom.store.engine import is_sqlite, open_engine
from warroom.store.errors import StoreError

LOG_SECRET = "log"
"""The name of the secret that identifies a log (see `warroom.store.Secrets`)."""


def log_identity(engine: Engine, secret: bytes) -> str:
    """Which log the database of `engine` holds, as 16 hex digits, from its `log` secret.

    On PostgreSQL a restore (`pg_restore`, into a new database or with `--clean`) brings the
    secret back unchanged but makes the events table anew: its object id is part of the identity,
    so the clients of a restored hub are told to start over there too.
    """
    if is_sqlite(engine):
        return secret.hex()[:16]
    with engine.connect() as connection:
        table = connection.execute(text("SELECT 'events'::regclass::oid")).scalar_one()
    return hashlib.sha256(secret + f"/events/{table}".encode()).hexdigest()[:16]


POSTGRES = (
    "a PostgreSQL war room is backed up with PostgreSQL's own tools: "
    "pg_dump --format=custom DATABASE > FILE (restore with pg_restore)"
)


def backup(engine: Engine, target: Path) -> chain.Verdict:
    """Copy the SQLite database of `engine` to the new file `target`; return the copy's chain.

    Raises:
        StoreError: for PostgreSQL (use pg_dump), an existing `target`, or a failed copy (the
            partial copy is removed).
    """
    if not is_sqlite(engine):
        raise StoreError(POSTGRES)
    source_path = engine.url.database
    assert source_path is not None
    if target.exists():
        raise StoreError(f"{target} exists: choose a new file for the backup")
    try:
        source = sqlite3.connect(source_path, timeout=10)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
                with copy:
                    copy.execute("DELETE FROM secrets WHERE name = ?", (LOG_SECRET,))
                    copy.execute(
                        "INSERT INTO secrets (name, value) VALUES (?, ?)",
                        (LOG_SECRET, secrets.token_hex(32)),
                    )
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise StoreError(f"cannot back up to {target}: {error}") from None
    copied = open_engine(str(target))
    try:
        return chain.check(copied)
    finally:
        copied.dispose()
