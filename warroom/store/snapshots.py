"""Snapshots of incidents beside the log, so that a restart folds only what came after them.

One row per incident (`schema.SnapshotRow`): its state as JSON at a seq, with the chain hash of
the event at that seq, the identity of the log and the format of the code that wrote it; beside
it, the pages the state is written in (`schema.SnapshotPageRow`, see `warroom.core.snapshots`),
each named by the SHA-256 of its text. The log stays the truth: a snapshot is read only if it is
of this log (same identity, and the event at its seq still has the hash it had), of this code's
format, not past the head the reader stands at, and whole (its digest); a page only if its text
still has its name. Any other is ignored, and its incident folded again from the log.

Several hubs of one PostgreSQL log may write the same incident's snapshot: the one of the newest
seq stays, whichever commits last, and none of them fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from warroom.store.engine import is_sqlite
from warroom.store.errors import StoreError
from warroom.store.schema import EventRow, SnapshotPageRow, SnapshotRow

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


@dataclass(frozen=True)
class Snapshot:
    """An incident's state as JSON, folded from its events up to `seq`."""

    incident: str
    seq: int
    state: str
    pages: Mapping[str, str] = field(default_factory=dict)
    """Pages of the state by name (the SHA-256 of their text). Saved: the pages to add; loaded:
    every page held of the incident whose text has its name."""


class _Missing(Exception):
    """A snapshot names a page the database does not hold: it is not written."""


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class Snapshots:
    """The snapshots of one database's incidents (its schema prepared)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(
        self, snapshot: Snapshot, *, log: str, format: int, names: Collection[str] = ()
    ) -> bool:
        """Keep `snapshot` as its incident's, unless one of a newer seq, of the same log and
        format and true of its chain, is kept already; return whether it was written.

        One of the same seq is written again (it mends a damaged row); nothing is written for a
        seq the log does not hold, nor for one naming a page that is neither in `pages` nor held.

        Args:
            names: every page the state is made of (`snapshot.pages` may hold only those not
                written before). Once the snapshot is kept, its incident's other pages are
                deleted.

        Raises:
            StoreError: if the database failed.
        """
        try:
            with self.engine.begin() as connection:
                kept = self._save(connection, snapshot, log=log, format=format)
                if kept:
                    self._keep_pages(connection, snapshot, set(names))
                return kept
        except _Missing:
            return False  # the transaction was rolled back: the snapshot kept is as it was
        except SQLAlchemyError as error:
            what = snapshot.incident
            raise StoreError(f"could not write the snapshot of {what}: {error}") from None

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """An insert into `table` that can update on conflict, in this database's dialect."""
        if is_sqlite(self.engine):
            return sqlite.insert(table)
        # Imported only for PostgreSQL: a SQLite hub does not hold the dialect (2 MB).
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)

    def _keep_pages(self, connection: Connection, snapshot: Snapshot, names: set[str]) -> None:
        """Add the snapshot's new pages and delete the incident's others; raise `_Missing` if a
        page it names is not held."""
        table = SnapshotPageRow.__table__  # type: ignore[attr-defined]  # set by SQLModel
        incident = snapshot.incident
        rows = [
            {"incident": incident, "name": name, "state": text}
            for name, text in snapshot.pages.items()
            if name in names
        ]
        if rows:
            statement = self._insert(table)
            # A page held already is written again: it mends a damaged one.
            upsert = statement.on_conflict_do_update(
                index_elements=[table.c.incident, table.c.name],
                set_={"state": statement.excluded.state},
            )
            connection.execute(upsert, rows)
        connection.execute(
            table.delete().where(table.c.incident == incident, table.c.name.notin_(names))
        )
        held = connection.execute(
            select(func.count()).select_from(table).where(table.c.incident == incident)
        ).scalar()
        if held != len(names):
            raise _Missing(incident)

    def _save(self, connection: Connection, snapshot: Snapshot, *, log: str, format: int) -> bool:
        """Upsert the snapshot's row; whether it was written."""
        found = connection.execute(
            select(col(EventRow.hash)).where(col(EventRow.seq) == snapshot.seq)
        ).first()
        if found is None:
            return False
        row = {
            "incident": snapshot.incident,
            "seq": snapshot.seq,
            "hash": str(found[0]),
            "log": log,
            "format": format,
            "state": snapshot.state,
            "digest": _digest(snapshot.state),
            "written_at": datetime.now(UTC).isoformat(),
        }
        table = SnapshotRow.__table__  # type: ignore[attr-defined]  # set by SQLModel
        statement = self._insert(table).values(row)
        kept = table.c
        # The newest seq wins (the same seq is written again: a damaged row is mended);
        # a row of another log or format, or not true of this chain, is worth nothing.
        newer = (
            (kept.seq <= statement.excluded.seq)
            | (kept.log != statement.excluded.log)
            | (kept.format != statement.excluded.format)
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[kept.incident],
            set_={name: statement.excluded[name] for name in row if name != "incident"},
            where=None if self._untrue(connection, snapshot.incident) else newer,
        )
        # What was written comes back (a row count is not to be trusted on every
        # driver when the conflict's condition leaves the row as it was).
        return connection.execute(upsert.returning(kept.seq)).first() is not None

    @staticmethod
    def _untrue(connection: Connection, incident: str) -> bool:
        """Whether the row kept of `incident` is not true of the log: its seq past the head, or
        the event there of another chain."""
        query = (
            select(col(SnapshotRow.hash), col(EventRow.hash))
            .outerjoin(EventRow, col(EventRow.seq) == col(SnapshotRow.seq))
            .where(col(SnapshotRow.incident) == incident)
        )
        found = connection.execute(query).first()
        return found is not None and found[0] != found[1]

    def load(
        self, *, log: str, format: int, upto: int, incidents: Collection[str] | None = None
    ) -> dict[str, Snapshot]:
        """The snapshots that are true of this log at head `upto`, by incident (see the
        module's docstring); the others are left out. With `incidents`, theirs alone.

        Raises:
            StoreError: if the database failed.
        """
        query = (
            select(
                col(SnapshotRow.incident),
                col(SnapshotRow.seq),
                col(SnapshotRow.state),
                col(SnapshotRow.digest),
            )
            .join(
                EventRow,
                (col(EventRow.seq) == col(SnapshotRow.seq))
                & (col(EventRow.hash) == col(SnapshotRow.hash)),
            )
            .where(
                col(SnapshotRow.log) == log,
                col(SnapshotRow.format) == format,
                col(SnapshotRow.seq) <= upto,
            )
        )
        if incidents is not None:
            query = query.where(col(SnapshotRow.incident).in_(list(incidents)))
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
                pages = self._pages(connection, [str(row[0]) for row in rows])
        except SQLAlchemyError as error:
            raise StoreError(f"could not read the snapshots: {error}") from None
        return {
            str(incident): Snapshot(str(incident), int(seq), str(state), pages.get(incident, {}))
            for incident, seq, state, digest in rows
            if _digest(str(state)) == digest
        }

    @staticmethod
    def _pages(connection: Connection, incidents: list[str]) -> dict[str, dict[str, str]]:
        """The pages held of `incidents` whose text has its name, by incident and name."""
        if not incidents:
            return {}
        query = select(
            col(SnapshotPageRow.incident), col(SnapshotPageRow.name), col(SnapshotPageRow.state)
        ).where(col(SnapshotPageRow.incident).in_(incidents))
        found: dict[str, dict[str, str]] = {}
        for incident, name, state in connection.execute(query):
            if _digest(str(state)) == name:
                found.setdefault(str(incident), {})[str(name)] = str(state)
        return found
