"""The delivery outbox: each planned message to each recipient with how it stands, the mark of
how far the log was planned, and the subscriptions the planner reads.

Synchronous, like the rest of the store: the hub calls it from worker threads, never from the
event loop. A message is recorded (`plan`) before anything tries to send it, in the same
transaction as the mark, so a crash between an event's commit and its planning is made good
by planning again from the mark, and never plans a message twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from warroom.core.recipients import Subscription
from warroom.store.engine import is_sqlite
from warroom.store.errors import StoreError
from warroom.store.schema import AttemptRow, DeliveryRow, PlannedRow, SubscriptionRow

STATES = ("queued", "retrying", "sent", "failed")
"""How a delivery stands: waiting for its first attempt, for another, done, or given up."""

WAITING = ("queued", "retrying")
"""The states of a delivery that is still to be attempted."""


@dataclass(frozen=True)
class Planned:
    """A message to one recipient, as the planner makes it (not yet recorded)."""

    seq: int
    incident: str
    update: int
    channel: str
    recipient: str
    delivery: str
    body: str
    subject: str = ""
    question: int | None = None


S = TypeVar("S", bound=Select[Any])

ATTEMPTED = ("sent", "retrying", "failed")
"""The states an attempt ends in (`queued` is a delivery no attempt was made of yet)."""

HISTORY = 20
"""The most attempts of one delivery told back: the latest ones (the retry policy caps them)."""


@dataclass(frozen=True)
class Attempt:
    """One attempt of a delivery and how it ended."""

    number: int
    at: datetime
    state: str
    """`sent`, `retrying` (it failed; another follows) or `failed` (it failed; given up)."""
    error: str = ""


@dataclass(frozen=True)
class Delivery:
    """A recorded delivery and how it stands."""

    id: int
    seq: int
    incident: str
    update: int
    question: int | None
    channel: str
    recipient: str
    delivery: str
    subject: str
    body: str
    state: str
    attempts: int
    next_at: float
    error: str
    changed_at: datetime
    history: tuple[Attempt, ...] = ()
    """Its latest attempts, oldest first (read with an incident's deliveries, and told back
    by `Deliveries.record`; empty where only the state matters, as when picking what is due)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row.id),
        seq=int(row.seq),
        incident=row.incident,
        update=int(row.update_number),
        question=row.question,
        channel=row.channel,
        recipient=row.recipient,
        delivery=row.delivery,
        subject=row.subject,
        body=row.body,
        state=row.state,
        attempts=int(row.attempts),
        next_at=float(row.next_at),
        error=row.error,
        changed_at=datetime.fromisoformat(row.changed_at),
    )


class Deliveries:
    """The outbox of one database (its schema prepared: see `warroom.store.schema.prepare`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def planned_upto(self) -> int:
        """The seq up to which every event's deliveries were planned (0: none yet)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(col(PlannedRow.upto))).scalar()
        return int(value or 0)

    def plan(self, planned: Sequence[Planned], upto: int) -> list[Delivery]:
        """Record `planned` as queued and the mark at `upto`, in one transaction; return the
        deliveries recorded now (one already recorded for the same seq, channel and recipient
        is left as it is). The mark never moves back.

        Raises:
            StoreError: if the transaction failed; nothing of it was recorded.
        """
        now = _now()
        try:
            with self.engine.begin() as connection:
                current = connection.execute(
                    select(col(PlannedRow.upto)).with_for_update()
                ).scalar()
                if current is None:
                    connection.execute(insert(PlannedRow), [{"id": 1, "upto": upto}])
                elif upto > current:
                    connection.execute(update(PlannedRow).values(upto=upto))
                seqs = sorted({item.seq for item in planned})
                taken = {
                    (int(seq), channel, recipient)
                    for seq, channel, recipient in connection.execute(
                        select(
                            col(DeliveryRow.seq),
                            col(DeliveryRow.channel),
                            col(DeliveryRow.recipient),
                        ).where(col(DeliveryRow.seq).in_(seqs))
                    )
                }
                rows = [
                    {
                        "seq": item.seq,
                        "incident": item.incident,
                        "update_number": item.update,
                        "question": item.question,
                        "channel": item.channel,
                        "recipient": item.recipient,
                        "delivery": item.delivery,
                        "subject": item.subject,
                        "body": item.body,
                        "state": "queued",
                        "attempts": 0,
                        "next_at": now.timestamp(),
                        "error": "",
                        "changed_at": now.isoformat(),
                    }
                    for item in planned
                    if (item.seq, item.channel, item.recipient) not in taken
                ]
                if not rows:
                    return []
                connection.execute(insert(DeliveryRow), rows)
                recorded = connection.execute(
                    select(DeliveryRow)
                    .where(col(DeliveryRow.seq).in_(seqs))
                    .order_by(col(DeliveryRow.id))
                ).all()
        except SQLAlchemyError as error:
            raise StoreError(
                f"the outbox could not record the planned deliveries: {error}"
            ) from None
        fresh = {(row["seq"], row["channel"], row["recipient"]) for row in rows}
        return [
            _delivery(row) for row in recorded if (row.seq, row.channel, row.recipient) in fresh
        ]

    def due(
        self, now: float, limit: int, skip: Iterable[int] = (), recipients: Iterable[str] = ()
    ) -> list[Delivery]:
        """Up to `limit` deliveries waiting for an attempt due by `now`, the longest waiting
        first, leaving out the ids in `skip` (attempts under way) and the deliveries to
        `recipients` (those an attempt is under way to)."""
        with self.engine.connect() as connection:
            rows = connection.execute(_due(now, limit, skip, recipients)).all()
        return [_delivery(row) for row in rows]

    def claim(
        self,
        now: float,
        limit: int,
        lease: float,
        skip: Iterable[int] = (),
        recipients: Iterable[str] = (),
    ) -> list[Delivery]:
        """Up to `limit` due deliveries (as `due`) for this hub alone to attempt.

        On PostgreSQL several hubs send from one outbox: the rows are taken with `FOR UPDATE
        SKIP LOCKED` and leased, their next attempt put `lease` seconds away in the same
        transaction, so no other hub takes them meanwhile. The attempt's outcome replaces the
        lease (`record`); a hub that dies during it leaves the delivery to be attempted again
        once the lease ends (at least once, as after a restart). A SQLite outbox has one hub,
        which keeps its own attempts apart (`skip`, `recipients`): nothing is leased.

        Raises:
            StoreError: if the transaction failed; nothing was claimed.
        """
        if is_sqlite(self.engine):
            return self.due(now, limit, skip, recipients)
        query = _due(now, limit, skip, recipients).with_for_update(skip_locked=True)
        try:
            with self.engine.begin() as connection:
                rows = connection.execute(query).all()
                if rows:
                    connection.execute(
                        update(DeliveryRow)
                        .where(col(DeliveryRow.id).in_([row.id for row in rows]))
                        .values(next_at=now + lease)
                    )
        except SQLAlchemyError as error:
            raise StoreError(f"the outbox could not claim deliveries: {error}") from None
        return [_delivery(row) for row in rows]

    def release(self, ids: Iterable[int], at: float) -> None:
        """Give back the lease of claimed deliveries not attempted after all: due again `at`.

        Raises:
            StoreError: if the update failed (the lease then ends by itself).
        """
        wanted = sorted(set(ids))
        if not wanted:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(DeliveryRow)
                    .where(col(DeliveryRow.id).in_(wanted), col(DeliveryRow.state).in_(WAITING))
                    .values(next_at=at)
                )
        except SQLAlchemyError as error:
            raise StoreError(f"the outbox could not give deliveries back: {error}") from None

    def next_attempt(
        self, skip: Iterable[int] = (), recipients: Iterable[str] = ()
    ) -> float | None:
        """When the soonest waiting delivery is due, leaving out the ids in `skip` and the
        deliveries to `recipients` (None: nothing waits)."""
        query = _leaving_out(
            select(func.min(col(DeliveryRow.next_at))).where(col(DeliveryRow.state).in_(WAITING)),
            skip,
            recipients,
        )
        with self.engine.connect() as connection:
            value = connection.execute(query).scalar()
        return None if value is None else float(value)

    def record(
        self, ident: int, state: str, attempts: int, next_at: float = 0.0, error: str = ""
    ) -> Delivery:
        """Record the outcome of an attempt (or a decision not to make one); return it.

        Raises:
            StoreError: for an unknown id or state, or a failed transaction.
        """
        if state not in STATES:
            raise StoreError(f"unknown delivery state {state!r}")
        values = {
            "state": state,
            "attempts": attempts,
            "next_at": next_at,
            "error": error,
            "changed_at": _now().isoformat(),
        }
        try:
            with self.engine.begin() as connection:
                before = connection.execute(
                    select(col(DeliveryRow.attempts)).where(col(DeliveryRow.id) == ident)
                ).scalar()
                connection.execute(
                    update(DeliveryRow).where(col(DeliveryRow.id) == ident).values(**values)
                )
                row = connection.execute(
                    select(DeliveryRow).where(col(DeliveryRow.id) == ident)
                ).first()
                if row is not None and state in ATTEMPTED and attempts > (before or 0):
                    # An attempt was made (not a decision to make none, such as an incident
                    # made private): its outcome joins the history, never replaced.
                    attempt = {"delivery": ident, "number": attempts, "state": state}
                    attempt |= {"at": values["changed_at"], "error": error}
                    connection.execute(insert(AttemptRow), [attempt])
                history = _histories(connection, [ident])
        except SQLAlchemyError as error:
            raise StoreError(f"the outbox could not record delivery {ident}: {error}") from None
        if row is None:
            raise StoreError(f"there is no delivery {ident}")
        return replace(_delivery(row), history=history.get(ident, ()))

    def of_incident(self, incident: str, limit: int = 1000) -> list[Delivery]:
        """The newest `limit` deliveries of `incident`, oldest first."""
        query = (
            select(DeliveryRow)
            .where(col(DeliveryRow.incident) == incident)
            .order_by(col(DeliveryRow.id).desc())
            .limit(limit)
        )
        return self._with_histories(query)

    def newest(self, limit: int) -> list[Delivery]:
        """The newest `limit` deliveries of every incident, oldest first."""
        return self._with_histories(
            select(DeliveryRow).order_by(col(DeliveryRow.id).desc()).limit(limit)
        )

    def _with_histories(self, newest_first: Select[DeliveryRow]) -> list[Delivery]:
        with self.engine.connect() as connection:
            rows = connection.execute(newest_first).all()
            histories = _histories(connection, [int(row.id) for row in rows])
        return [
            replace(_delivery(row), history=histories.get(int(row.id), ()))
            for row in reversed(rows)
        ]


class Subscriptions:
    """Which groups and addresses hear of which applications' incidents."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, subscriber: str, apps: Sequence[str]) -> list[Subscription]:
        """Subscribe `subscriber` (a checked group or address) to `apps`; return those it did
        not hold already."""
        held = {item.app.casefold() for item in self.all() if item.subscriber == subscriber}
        fresh = [app for app in apps if app.casefold() not in held]
        now = _now().isoformat()
        try:
            with self.engine.begin() as connection:
                if fresh:
                    connection.execute(
                        insert(SubscriptionRow),
                        [
                            {"subscriber": subscriber, "app": app, "created_at": now}
                            for app in fresh
                        ],
                    )
        except IntegrityError:  # the same subscription, made meanwhile by another process
            return []
        return [Subscription(subscriber, app) for app in fresh]

    def remove(self, subscriber: str, apps: Sequence[str]) -> list[Subscription]:
        """Take `subscriber` off `apps`; return the subscriptions that went.

        Raises:
            StoreError: if `subscriber` held none of them.
        """
        wanted = {app.casefold() for app in apps}
        gone = [
            item
            for item in self.all()
            if item.subscriber == subscriber and item.app.casefold() in wanted
        ]
        if not gone:
            listed = ", ".join(apps)
            raise StoreError(f"{subscriber} is not subscribed to {listed}")
        with self.engine.begin() as connection:
            connection.execute(
                delete(SubscriptionRow).where(
                    col(SubscriptionRow.subscriber) == subscriber,
                    col(SubscriptionRow.app).in_([item.app for item in gone]),
                )
            )
        return gone

    def all(self) -> list[Subscription]:
        """Every subscription, by subscriber then application."""
        query = select(SubscriptionRow).order_by(
            col(SubscriptionRow.subscriber), col(SubscriptionRow.app)
        )
        with self.engine.connect() as connection:
            return [Subscription(row.subscriber, row.app) for row in connection.execute(query)]


def _due(
    now: float, limit: int, skip: Iterable[int], recipients: Iterable[str]
) -> Select[DeliveryRow]:
    """The query of `Deliveries.due`: waiting, due by `now`, the longest waiting first, none of
    the ids in `skip` nor to `recipients`."""
    query = (
        select(DeliveryRow)
        .where(col(DeliveryRow.state).in_(WAITING), col(DeliveryRow.next_at) <= now)
        .order_by(col(DeliveryRow.next_at), col(DeliveryRow.id))
        .limit(limit)
    )
    return _leaving_out(query, skip, recipients)


def _leaving_out(query: S, skip: Iterable[int], recipients: Iterable[str]) -> S:
    """`query` without the deliveries whose id is in `skip` or whose recipient in
    `recipients`."""
    busy = sorted(set(skip))
    if busy:
        query = query.where(col(DeliveryRow.id).not_in(busy))
    held = sorted(set(recipients))
    if held:
        query = query.where(col(DeliveryRow.recipient).not_in(held))
    return query


def _histories(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[Attempt, ...]]:
    """The latest `HISTORY` attempts of each delivery in `ids`, oldest first."""
    found: dict[int, list[Attempt]] = {}
    for start in range(0, len(ids), 500):  # within every backend's limit of bound parameters
        query = (
            select(AttemptRow)
            .where(col(AttemptRow.delivery).in_(ids[start : start + 500]))
            .order_by(col(AttemptRow.delivery), col(AttemptRow.number), col(AttemptRow.id))
        )
        for row in connection.execute(query).all():
            attempt = Attempt(row.number, datetime.fromisoformat(row.at), row.state, row.error)
            found.setdefault(int(row.delivery), []).append(attempt)
    return {ident: tuple(attempts[-HISTORY:]) for ident, attempts in found.items()}
