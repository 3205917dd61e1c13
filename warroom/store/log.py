"""The event log: one append-only table of events with a gapless global `seq`, and the ids of the
commands that caused them.

Synchronous: the server appends from one writer thread (group commit, the rows handed to the
driver's `executemany` as tuples on the hot path) and reads from worker threads, never from the
event loop.

A SQLite log has one writer (one hub: `warroom.store.hub_lock`). A PostgreSQL log may have one
per hub: each writes in a turn (`EventLog.turn`), one transaction that holds an advisory lock
from before it reads what the others committed until it commits, so the log keeps one order and
a gapless seq whichever hub writes, and tells every hub (`NOTIFY` on `CHANNEL`) of its new head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from warroom.core import protocol
from warroom.core.events import Envelope, Event
from warroom.store import chain
from warroom.store.engine import driver_marks, is_sqlite
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


CHANNEL = "warroom_log"
"""The channel a PostgreSQL writer `NOTIFY`s with its new head once it commits."""

WRITER_LOCK = 0x7761726C  # "warl": distinct from the schema upgrade's lock
"""The key of the transaction-level advisory lock every writer of a PostgreSQL log holds."""

Guard = Callable[[Connection], None]

_INCIDENTS_A_QUERY = 200
"""How many incidents `EventLog.read_since` reads in one query."""


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

    @property
    def shared(self) -> bool:
        """Whether other hubs may write this log too (PostgreSQL), so a writer catches up on
        what they committed before it decides anything (SQLite: one hub, never)."""
        return not is_sqlite(self.engine)

    def append(self, batch: Sequence[Pending], guard: Guard | None = None) -> None:
        """Commit the events and command ids of `batch` in one transaction.

        `guard`, if given, runs inside the transaction after the inserts, when the transaction
        holds the database's write lock: whatever it raises rolls the batch back and is raised.

        Raises:
            DuplicateCommand: if the batch repeats a committed command id or seq; nothing of the
                batch was committed.
            StoreError: if the transaction failed otherwise; nothing of the batch was committed.
        """
        event_rows, command_rows, tip = self._rows(batch, self._hash_before)
        try:
            with self.engine.begin() as connection:
                _insert(connection, event_rows, command_rows)
                if guard is not None:
                    guard(connection)
        except IntegrityError as error:
            raise DuplicateCommand(f"the log refused the batch: {error.orig}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"the log could not commit the batch: {error}") from None
        if tip is not None:
            self._tip = tip

    @contextmanager
    def turn(self, head: int) -> Iterator[Turn]:
        """A writer's turn at the log, for a writer whose newest event is `head`: what other
        hubs committed since (`Turn.newer`), then at most one `Turn.append`, committed when the
        block ends.

        On SQLite (one hub) nothing is read and the append commits at once, as `append` does.
        On PostgreSQL the turn is one transaction: it takes the writers' advisory lock, reads
        the events after `head` with the chain's tip, and on leaving the block `NOTIFY`s the new
        head and commits, which releases the lock. Whatever the block raises rolls it back.

        Raises:
            DuplicateCommand: if the append repeats a committed command id or seq.
            StoreError: if the database failed; nothing of the turn was committed.
        """
        if not self.shared:
            yield Turn(self, None, [], None)
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
                rows = connection.execute(
                    text("SELECT seq, data, hash FROM events WHERE seq > :head ORDER BY seq"),
                    {"head": head},
                ).all()
                newer = [(int(seq), str(data)) for seq, data, _ in rows]
                if rows:
                    tip: tuple[int, str] = (int(rows[-1][0]), str(rows[-1][2]))
                elif self._tip is not None and self._tip[0] == head:
                    tip = self._tip  # a committed event's hash never changes
                else:
                    found = chain.hash_at(connection, head)
                    if found is None:
                        raise StoreError(f"the log has no seq {head}: it is behind this hub")
                    tip = (head, found)
                turn = Turn(self, connection, newer, tip)
                yield turn
                if turn.tip is not None:
                    connection.execute(
                        text("SELECT pg_notify(:channel, :head)"),
                        {"channel": CHANNEL, "head": str(turn.tip[0])},
                    )
        except IntegrityError as error:
            raise DuplicateCommand(f"the log refused the batch: {error.orig}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"the log could not commit the batch: {error}") from None
        if turn.tip is not None:
            self._tip = turn.tip

    @staticmethod
    def _rows(
        batch: Sequence[Pending], hash_before: Callable[[int], str]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], tuple[int, str] | None]:
        """The rows of `batch`'s events (chained from `hash_before` of the first) and commands,
        in the columns' order of `_EVENT_INSERT` and `_COMMAND_INSERT`, and the (seq, hash) of
        its last event (None: no event)."""
        event_rows: list[tuple[Any, ...]] = []
        command_rows: list[tuple[Any, ...]] = []
        link = chain.link
        tip: tuple[int, str] | None = None
        for pending in batch:
            for seq, item, encoded in pending.events:
                tip = (seq, link(hash_before(seq) if tip is None else tip[1], seq, encoded))
                event_rows.append(
                    (
                        seq,
                        item.incident,
                        item.type,
                        item.actor,
                        item.at.isoformat(),
                        encoded,
                        tip[1],
                    )
                )
            command_rows.append(
                (pending.actor, pending.command_id, pending.events[-1][0], pending.digest)
            )
        return event_rows, command_rows, tip

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

    def incidents(self, upto: int) -> list[str]:
        """Every incident with an event up to seq `upto`, in the order of their first events
        (their declarations)."""
        first = func.min(col(EventRow.seq))
        query = (
            select(col(EventRow.incident), first)
            .where(col(EventRow.seq) <= upto)
            .group_by(col(EventRow.incident))
            .order_by(first)
        )
        with self.engine.connect() as connection:
            return [str(incident) for incident, _ in connection.execute(query)]

    def read_since(self, after: Mapping[str, int], upto: int) -> list[tuple[int, str]]:
        """(seq, encoded event) of each incident's events after its seq in `after` (0: all
        of them) and up to `upto`, in seq order.

        Served by the index on `events.incident`, a few hundred incidents a query: the cost
        follows the events read, not the log's length."""
        rows: list[tuple[int, str]] = []
        pairs = list(after.items())
        with self.engine.connect() as connection:
            for start in range(0, len(pairs), _INCIDENTS_A_QUERY):
                chunk = pairs[start : start + _INCIDENTS_A_QUERY]
                query = select(col(EventRow.seq), col(EventRow.data)).where(
                    or_(
                        *(
                            and_(col(EventRow.incident) == incident, col(EventRow.seq) > seq)
                            for incident, seq in chunk
                        )
                    ),
                    col(EventRow.seq) <= upto,
                )
                rows.extend((int(seq), str(data)) for seq, data in connection.execute(query))
        rows.sort()
        return rows

    def read(self, after: int = 0, limit: int | None = None) -> list[Envelope]:
        """The events after `after`, decoded, in order."""
        return [
            Envelope(seq=seq, event=protocol.load_event(data))
            for seq, data in self.read_raw(after, limit)
        ]


_EVENT_INSERT = "INSERT INTO events (seq, incident, type, actor, at, data, hash) VALUES ({})"
_COMMAND_INSERT = "INSERT INTO commands (actor, id, last_seq, digest) VALUES ({})"


def _insert(
    connection: Connection,
    event_rows: list[tuple[Any, ...]],
    command_rows: list[tuple[Any, ...]],
) -> None:
    """Insert the rows as the driver takes them, in one `executemany` per table: the rows are
    built here, column by column, and SQLAlchemy's per-row processing of Core parameters was
    most of the cost of an append (half the rows a second of the bare driver). Errors are still
    SQLAlchemy's (`IntegrityError` for a repeated seq or command id)."""
    engine = connection.engine
    if event_rows:
        connection.exec_driver_sql(_EVENT_INSERT.format(driver_marks(engine, 7)), event_rows)
    if command_rows:
        connection.exec_driver_sql(_COMMAND_INSERT.format(driver_marks(engine, 4)), command_rows)


class Turn:
    """One writer's turn at the log (see `EventLog.turn`)."""

    def __init__(
        self,
        log: EventLog,
        connection: Connection | None,
        newer: list[tuple[int, str]],
        tip: tuple[int, str] | None,
    ) -> None:
        self._log = log
        self._connection = connection
        self.newer = newer
        """(seq, encoded event) of the events other hubs committed after the writer's head, in
        order: the writer folds them before it decides anything."""
        self._tip = tip
        self.tip: tuple[int, str] | None = None
        """(seq, hash) of the last event appended in this turn (None: none yet)."""

    def append(self, batch: Sequence[Pending], guard: Guard | None = None) -> None:
        """Append `batch`, numbered from the newest event of `newer` (or the writer's head), as
        `EventLog.append` does; on PostgreSQL it commits with the turn.

        Raises:
            DuplicateCommand: if the batch repeats a committed command id or seq.
            StoreError: if the database failed.
        """
        if self._connection is None:
            self._log.append(batch, guard)
            return
        tip = self._tip
        assert tip is not None

        def hash_before(seq: int) -> str:
            if seq != tip[0] + 1:
                raise StoreError(f"seq {seq} does not follow the log's newest, seq {tip[0]}")
            return tip[1]

        event_rows, command_rows, self.tip = EventLog._rows(batch, hash_before)
        try:
            _insert(self._connection, event_rows, command_rows)
        except IntegrityError as error:
            raise DuplicateCommand(f"the log refused the batch: {error.orig}") from None
        if guard is not None:
            guard(self._connection)
