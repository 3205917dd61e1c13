"""The event log: one append-only table of events with a gapless global `seq`, and the ids of the
commands that caused them.

Synchronous: the server appends from one writer thread (group commit, SQLAlchemy Core inserts on
the hot path) and reads from worker threads, never from the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from warroom.core import protocol
from warroom.core.events import Envelope, Event
from warroom.store import chain
from warroom.store.errors import DuplicateCommand, StoreError
from warroom.store.schema import CommandRow, EventRow


@dataclass(frozen=True)
class Pending:
    """A decided command ready to be committed: its id and its events, already numbered."""

    actor: str
    command_id: str
    events: Sequence[tuple[int, Event, str]]
    """(seq, event, encoded event) for each event the command caused."""
    digest: str = ""
    """What the command was (see `CommandRow.digest`), to tell a retry from a reused id."""


@dataclass(frozen=True)
class Recorded:
    """A committed command: the seq of its last event and its digest ("" if not kept)."""

    last_seq: int
    digest: str


class EventLog:
    """The log of one database (its schema prepared: see `warroom.store.schema.prepare`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tip: tuple[int, str] | None = None
        """(seq, hash) of the newest event this log committed: the next one chains to it."""

    def head(self) -> int:
        """The seq of the newest event (0 for an empty log)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(col(EventRow.seq)))).scalar()
        return int(value or 0)

    def append(
        self, batch: Sequence[Pending], guard: Callable[[Connection], None] | None = None
    ) -> None:
        """Commit the events and command ids of `batch` in one transaction.

        `guard`, if given, runs inside the transaction after the inserts, when the transaction
        holds the database's write lock: whatever it raises rolls the batch back and is raised.

        Raises:
            DuplicateCommand: if the batch repeats a committed command id or seq; nothing of the
                batch was committed.
            StoreError: if the transaction failed otherwise; nothing of the batch was committed.
        """
        event_rows: list[dict[str, Any]] = []
        command_rows: list[dict[str, Any]] = []
        tip: tuple[int, str] | None = None
        for pending in batch:
            for seq, item, encoded in pending.events:
                tip = (
                    seq,
                    chain.link(self._hash_before(seq) if tip is None else tip[1], seq, encoded),
                )
                event_rows.append(
                    {
                        "seq": seq,
                        "incident": item.incident,
                        "type": item.type,
                        "actor": item.actor,
                        "at": item.at.isoformat(),
                        "data": encoded,
                        "hash": tip[1],
                    }
                )
            command_rows.append(
                {
                    "actor": pending.actor,
                    "id": pending.command_id,
                    "last_seq": pending.events[-1][0],
                    "digest": pending.digest,
                }
            )
        try:
            with self.engine.begin() as connection:
                if event_rows:
                    connection.execute(insert(EventRow), event_rows)
                if command_rows:
                    connection.execute(insert(CommandRow), command_rows)
                if guard is not None:
                    guard(connection)
        except IntegrityError as error:
            raise DuplicateCommand(f"the log refused the batch: {error.orig}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"the log could not commit the batch: {error}") from None
        if tip is not None:
            self._tip = tip

    def _hash_before(self, seq: int) -> str:
        """The hash event `seq` chains to: the last one committed here, or read once."""
        if self._tip is not None and self._tip[0] == seq - 1:
            return self._tip[1]
        try:
            with self.engine.connect() as connection:
                found = chain.hash_at(connection, seq - 1)
        except SQLAlchemyError as error:
            raise StoreError(f"the log could not read the hash of seq {seq - 1}: {error}") from None
        if found is None:
            raise StoreError(f"the log has no seq {seq - 1} to chain seq {seq} to")
        return found

    def verify(self) -> chain.Verdict:
        """Walk the hash chain from the first event; see `warroom.store.chain.check`."""
        return chain.check(self.engine)

    def find_command(self, actor: str, command_id: str) -> int | None:
        """The last seq of an already committed command, or None."""
        found = self.recorded(actor, command_id)
        return None if found is None else found.last_seq

    def recorded(self, actor: str, command_id: str) -> Recorded | None:
        """An already committed command, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(col(CommandRow.last_seq), col(CommandRow.digest)).where(
                    col(CommandRow.actor) == actor, col(CommandRow.id) == command_id
                )
            ).first()
        return None if row is None else Recorded(int(row[0]), str(row[1] or ""))

    def read_raw(
        self, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[tuple[int, str]]:
        """(seq, encoded event) of the events after `after` (and up to `upto`), in order."""
        query = (
            select(col(EventRow.seq), col(EventRow.data))
            .where(col(EventRow.seq) > after)
            .order_by(col(EventRow.seq))
        )
        if upto is not None:
            query = query.where(col(EventRow.seq) <= upto)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [(int(seq), str(data)) for seq, data in connection.execute(query)]

    def read_raw_back(self, before: int, limit: int, after: int = 0) -> list[tuple[int, str]]:
        """(seq, encoded event) of up to `limit` events before `before` (and after `after`),
        newest first."""
        query = (
            select(col(EventRow.seq), col(EventRow.data))
            .where(col(EventRow.seq) < before, col(EventRow.seq) > after)
            .order_by(col(EventRow.seq).desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [(int(seq), str(data)) for seq, data in connection.execute(query)]

    def read_incident(
        self, incident: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[tuple[int, str]]:
        """(seq, encoded event) of `incident`'s events after `after` (and up to `upto`), in order.

        Served by the index on `events.incident`: the cost follows the incident's size, not the
        log's."""
        query = (
            select(col(EventRow.seq), col(EventRow.data))
            .where(col(EventRow.incident) == incident, col(EventRow.seq) > after)
            .order_by(col(EventRow.seq))
        )
        if upto is not None:
            query = query.where(col(EventRow.seq) <= upto)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [(int(seq), str(data)) for seq, data in connection.execute(query)]

    def read(self, after: int = 0, limit: int | None = None) -> list[Envelope]:
        """The events after `after`, decoded, in order."""
        return [
            Envelope(seq=seq, event=protocol.load_event(data))
            for seq, data in self.read_raw(after, limit)
        ]
