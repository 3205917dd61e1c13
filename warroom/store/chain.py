"""The hash chain over the event log, and the triggers that keep the log append-only.

Each event row keeps `hash = SHA-256(previous hash, seq, encoded event)`, the first one chained
to `GENESIS`: a row changed, removed or inserted behind the hub's back breaks every link after
it, and `check` names the first broken one. The database itself refuses UPDATE and DELETE on
the events table (SQLite: triggers that abort; PostgreSQL: a trigger function).

Written in plain SQL on the `events` table, so the schema's upgrade steps can use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

GENESIS = "0" * 64
"""The hash the first event is chained to."""

PAGE = 5000
"""Rows read at a time when the chain is walked."""


def link(previous: str, seq: int, encoded: str) -> str:
    """The hash of event `seq` (encoded as the log keeps it) after the event hashed `previous`."""
    return hashlib.sha256(f"{previous}\n{seq}\n{encoded}".encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What walking the chain found: `broken` is None if every link holds."""

    count: int
    """Events checked (up to the first broken link)."""
    head: int
    """The seq of the last event checked."""
    head_hash: str
    broken: str | None = None
    """One sentence: which seq and why."""


def _rows(connection: Connection, after: int = 0) -> Iterator[tuple[int, str, str]]:
    while True:
        page = connection.execute(
            text("SELECT seq, data, hash FROM events WHERE seq > :after ORDER BY seq LIMIT :page"),
            {"after": after, "page": PAGE},
        ).all()
        for seq, data, stored in page:
            yield int(seq), str(data), str(stored or "")
        if len(page) < PAGE:
            return
        after = int(page[-1][0])


def check(engine: Engine) -> Verdict:
    """Walk the whole log in one read transaction and check every link."""
    previous, expected, count = GENESIS, 1, 0
    with engine.connect() as connection:
        for seq, data, stored in _rows(connection):
            if seq != expected:
                why = "is missing" if seq > expected else "is out of order"
                return Verdict(count, expected - 1, previous, f"seq {expected} {why}")
            if stored != link(previous, seq, data):
                before = f" and the hash of seq {seq - 1}" if seq > 1 else ""
                why = f"seq {seq}: its hash does not match its contents{before}"
                return Verdict(count, seq - 1, previous, why)
            previous, expected, count = stored, seq + 1, count + 1
    return Verdict(count, expected - 1, previous)


def hash_at(connection: Connection, seq: int) -> str | None:
    """The hash of event `seq` (`GENESIS` for 0), or None if there is no such event."""
    if seq == 0:
        return GENESIS
    value = connection.execute(text("SELECT hash FROM events WHERE seq = :seq"), {"seq": seq})
    found = value.scalar()
    return None if found is None else str(found)


def link_unhashed(connection: Connection) -> None:
    """Give every event made before the chain existed its hash, in order (an upgrade step)."""
    previous = GENESIS
    updates: list[dict[str, object]] = []
    for seq, data, stored in _rows(connection):
        if not stored:
            stored = link(previous, seq, data)
            updates.append({"seq": seq, "hash": stored})
        previous = stored
    if updates:
        connection.execute(text("UPDATE events SET hash = :hash WHERE seq = :seq"), updates)


_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN "
    "SELECT RAISE(ABORT, 'the event log is append-only: an event cannot be changed'); END",
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN "
    "SELECT RAISE(ABORT, 'the event log is append-only: an event cannot be deleted'); END",
)

_POSTGRES = (
    "CREATE OR REPLACE FUNCTION warroom_events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = "
    "'the event log is append-only: ' || TG_OP || ' refused'; END $$",
    "DROP TRIGGER IF EXISTS events_append_only ON events",
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION warroom_events_append_only()",
    "DROP TRIGGER IF EXISTS events_no_truncate ON events",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION warroom_events_append_only()",
)


def append_only(connection: Connection) -> None:
    """Make the events table refuse UPDATE and DELETE (idempotent: an upgrade step too)."""
    statements = _SQLITE if connection.dialect.name == "sqlite" else _POSTGRES
    for statement in statements:
        connection.exec_driver_sql(statement)
