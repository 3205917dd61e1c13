"""The database's tables, and the schema version with the ordered upgrades that reach it.

A database records its schema version in the one-row table `schema_version`. `prepare` brings a
database to the version of this code: a fresh one gets every table and the current version; an
older one (version 0: made before versions existed, with no version table) gets each upgrade step
after its version, in order; a newer one is refused. Everything happens in one transaction that
holds the database's write lock from its start (DDL included: SQLite and PostgreSQL both roll it
back), so two processes opening the same database at once upgrade it one after the other, and a
failed step leaves the database as it was.

Adding a step: change the models below, append an `Upgrade` with the next version to `UPGRADES`,
and make the step look before it acts (a table may already be in the new shape, made from the
models by the first step on a database older than the table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlmodel import Field, SQLModel, col

from warroom.store import chain
from warroom.store.engine import describe, is_sqlite
from warroom.store.errors import StoreError


class EventRow(SQLModel, table=True):
    """One event of the log. Rows are only ever inserted."""

    __tablename__ = "events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    incident: str = Field(index=True)
    type: str
    actor: str
    at: str
    data: str
    hash: str = ""
    """SHA-256 over the previous event's hash, this seq and `data` (`warroom.store.chain`)."""


class CommandRow(SQLModel, table=True):
    """A committed command, so a retried command id is applied once."""

    __tablename__ = "commands"

    actor: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    last_seq: int
    digest: str = ""
    """SHA-256 of the command as decided, so a reused id with another command is told apart
    ("" for commands committed before digests were kept)."""


class SecretRow(SQLModel, table=True):
    """A server secret, made once (e.g. the key that seals stakeholders' cursors)."""

    __tablename__ = "secrets"

    name: str = Field(primary_key=True)
    value: str


class UserRow(SQLModel, table=True):
    """A user and the hash of their token (the token itself is never stored)."""

    __tablename__ = "users"

    name: str = Field(primary_key=True)
    role: str
    groups: str = ""
    token_hash: str = Field(index=True, unique=True)
    created_at: str
    revoked_at: str | None = None
    email: str | None = None
    """Where the user is told their question was answered (None: nowhere)."""


class SshKeyRow(SQLModel, table=True):
    """An SSH public key that logs its user in to the SSH gateway (one key, one user)."""

    __tablename__ = "ssh_keys"

    fingerprint: str = Field(primary_key=True)
    """`SHA256:...` of the key blob."""
    user: str = Field(index=True)
    algorithm: str
    blob: str = Field(unique=True)
    """The key's wire form, base64: what a client offers at login."""
    comment: str = ""
    created_at: str


class DeliveryRow(SQLModel, table=True):
    """One message to one recipient (an update, or an asker's answer), planned before any
    attempt, with how its delivery stands."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("seq", "channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    """The log position of the event the message tells of."""
    incident: str = Field(index=True)
    update_number: int = 0
    """The update (`U3` is 3); 0 for the email telling an asker their question was answered."""
    question: int | None = None
    channel: str
    """`email` or `webhook`."""
    recipient: str
    delivery: str
    """The stable id a receiver drops a duplicate by (`warroom.core.recipients.delivery_id`)."""
    subject: str = ""
    body: str
    """What is sent: an email's plain text, or a webhook's JSON, rendered once when planned."""
    state: str = Field(index=True)
    """`queued`, `retrying`, `sent` or `failed`."""
    attempts: int = 0
    next_at: float = 0.0
    """When the next attempt is due (seconds since the epoch)."""
    error: str = ""
    """Why the last attempt failed, as a sentence ("" if none did)."""
    changed_at: str
    """When the state last changed (ISO 8601, UTC)."""


class AttemptRow(SQLModel, table=True):
    """One attempt to deliver a message, and how it ended: the history under a delivery's
    latest state."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery: int = Field(index=True)
    """The `DeliveryRow.id` attempted."""
    number: int
    """1 for the first attempt, 2 for the next..."""
    at: str
    """When it ended (ISO 8601, UTC)."""
    state: str
    """`sent`, `retrying` (it failed; another follows) or `failed` (it failed; given up)."""
    error: str = ""
    """Why it failed, as a sentence ("" if it did not)."""


class PlannedRow(SQLModel, table=True):
    """How far the log was planned for delivery: one row, id 1."""

    __tablename__ = "delivery_plan"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    upto: int
    """Every event up to this seq has had its deliveries planned."""


class SubscriptionRow(SQLModel, table=True):
    """A stakeholder group or a single address that hears of incidents affecting an app."""

    __tablename__ = "subscriptions"

    subscriber: str = Field(primary_key=True)
    """A stakeholder group, or an email address (it holds `@`)."""
    app: str = Field(primary_key=True)
    created_at: str


class SnapshotRow(SQLModel, table=True):
    """An incident's state folded up to a seq of the log (`warroom.core.snapshots`): one row
    per incident, the newest written. A projection, never the truth: a row that does not match
    the log it sits beside is ignored (`warroom.store.snapshots`)."""

    __tablename__ = "snapshots"

    incident: str = Field(primary_key=True)
    seq: int
    """The incident's state is the fold of its events up to this seq."""
    hash: str
    """The chain hash of event `seq` when the snapshot was taken: another log's differs."""
    log: str
    """The identity of the log it was taken of (`Store.log_identity`)."""
    format: int
    """`warroom.core.snapshots.FORMAT` of the code that wrote it."""
    state: str
    """The incident's state as JSON: since format 2, its head, which names its pages."""
    digest: str
    """SHA-256 of `state`, so a damaged row is told from a true one."""
    written_at: str
    """When it was written (ISO 8601, UTC)."""


class SnapshotPageRow(SQLModel, table=True):
    """A page of an incident's snapshot (some of one collection's entries, as JSON), named by the
    SHA-256 of its text: a snapshot written again names the pages that did not change, and only
    the new ones are written. A page no snapshot names is deleted when its incident's next
    snapshot is kept."""

    __tablename__ = "snapshot_pages"

    incident: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    """SHA-256 of `state`."""
    state: str


class SchemaVersionRow(SQLModel, table=True):
    """The schema version of the database: one row, id 1."""

    __tablename__ = "schema_version"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int
    upgraded_at: str
    """When the database reached this version (ISO 8601, UTC)."""


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel for table=True
    assert isinstance(table, Table)
    return table


DATA_TABLES: tuple[Table, ...] = tuple(
    _table(model)
    for model in (
        EventRow,
        CommandRow,
        SecretRow,
        UserRow,
        SshKeyRow,
        DeliveryRow,
        PlannedRow,
        SubscriptionRow,
        AttemptRow,
        SnapshotRow,
        SnapshotPageRow,
    )
)
"""Every table but the version's, as the models define them now."""


@dataclass(frozen=True)
class Upgrade:
    """One step of the schema's history."""

    version: int
    """The version a database is at once this step is done."""
    summary: str
    apply: Callable[[Connection], None]
    """Runs inside the upgrade's transaction; idempotent (it looks before it acts)."""


def _first_layout(connection: Connection) -> None:
    # Databases made before versions have events, commands and users; older ones lack ssh_keys
    # or secrets, which their code made on first open: make what is missing.
    for table in DATA_TABLES:
        table.create(connection, checkfirst=True)


def _command_digests(connection: Connection) -> None:
    if "digest" in {column["name"] for column in inspect(connection).get_columns("commands")}:
        return
    connection.exec_driver_sql("ALTER TABLE commands ADD COLUMN digest VARCHAR NOT NULL DEFAULT ''")


def _hash_chain(connection: Connection) -> None:
    if "hash" not in {column["name"] for column in inspect(connection).get_columns("events")}:
        connection.exec_driver_sql("ALTER TABLE events ADD COLUMN hash VARCHAR NOT NULL DEFAULT ''")
    chain.link_unhashed(connection)


def _delivery(connection: Connection) -> None:
    for table in (_table(DeliveryRow), _table(PlannedRow), _table(SubscriptionRow)):
        table.create(connection, checkfirst=True)
    if "email" not in {column["name"] for column in inspect(connection).get_columns("users")}:
        connection.exec_driver_sql("ALTER TABLE users ADD COLUMN email VARCHAR")
    if connection.execute(select(col(PlannedRow.upto))).first() is None:
        # The updates already in the log were published before anything delivered them: sending
        # them now, late and all at once, would tell stakeholders nothing true.
        head = connection.execute(select(func.max(col(EventRow.seq)))).scalar()
        connection.execute(insert(PlannedRow), [{"id": 1, "upto": int(head or 0)}])


def _attempts(connection: Connection) -> None:
    _table(AttemptRow).create(connection, checkfirst=True)


def _snapshots(connection: Connection) -> None:
    _table(SnapshotRow).create(connection, checkfirst=True)


def _pages(connection: Connection) -> None:
    _table(SnapshotPageRow).create(connection, checkfirst=True)


UPGRADES: tuple[Upgrade, ...] = (
    Upgrade(1, "the event log, commands, users, SSH keys and secrets", _first_layout),
    Upgrade(2, "a digest of each committed command", _command_digests),
    Upgrade(3, "a hash chain over the events", _hash_chain),
    Upgrade(4, "events that refuse updates and deletes", chain.append_only),
    Upgrade(5, "the delivery outbox, its plan, subscriptions and users' email", _delivery),
    Upgrade(6, "each delivery attempt and how it ended", _attempts),
    Upgrade(7, "snapshots of incidents, so a restart folds only what came after", _snapshots),
    Upgrade(8, "snapshots written in pages, so writing one again writes what changed", _pages),
)
"""Every step, in order of version (1, 2, ...)."""

CURRENT_VERSION = UPGRADES[-1].version
"""The schema version this code reads and writes."""

_LOCK_KEY = 0x77617272  # "warr": PostgreSQL's advisory lock around an upgrade


def prepare(engine: Engine, upgrades: Sequence[Upgrade] = UPGRADES) -> None:
    """Bring the database to the last version of `upgrades` (see the module's docstring).

    Raises:
        StoreError: if the database cannot be reached, is newer than `upgrades` know, or a step
            fails (the database is then left as it was).
    """
    target = upgrades[-1].version
    where = describe(engine)
    try:
        with engine.connect() as connection:
            found = version_of(connection)
        _check_not_newer(found, target, where)
        if found == target:
            return  # the usual case: no write lock taken
        with _exclusive(engine) as connection:
            found = version_of(connection)  # again: another process may have upgraded it
            _check_not_newer(found, target, where)
            if found is None:
                for table in (*DATA_TABLES, _table(SchemaVersionRow)):
                    table.create(connection, checkfirst=True)
                chain.append_only(connection)
            elif found < target:
                _table(SchemaVersionRow).create(connection, checkfirst=True)
                for step in upgrades:
                    if step.version > found:
                        try:
                            step.apply(connection)
                        except Exception as error:
                            raise StoreError(
                                f"cannot upgrade the database {where} from schema version "
                                f"{found} to {step.version} ({step.summary}): {error}; "
                                "it was left as it was"
                            ) from None
            if found != target:
                _stamp(connection, target)
    except StoreError:
        raise
    except Exception as error:  # the driver's own error types vary
        raise StoreError(f"cannot open the database {where}: {error}") from None


def version_of(connection: Connection) -> int | None:
    """The schema version of the database: 0 if made before versions, None if it is empty."""
    inspector = inspect(connection)
    if inspector.has_table(SchemaVersionRow.__tablename__):
        value = connection.execute(select(col(SchemaVersionRow.version))).scalar()
        return 0 if value is None else int(value)
    if any(inspector.has_table(table.name) for table in DATA_TABLES):
        return 0
    return None


def _check_not_newer(found: int | None, target: int, where: str) -> None:
    if found is not None and found > target:
        raise StoreError(
            f"the database {where} has schema version {found}, newer than this warroom knows "
            f"({target}): upgrade warroom to open it"
        )


def _stamp(connection: Connection, version: int) -> None:
    now = datetime.now(UTC).isoformat()
    changed = connection.execute(
        update(SchemaVersionRow).values(version=version, upgraded_at=now)
    ).rowcount
    if not changed:
        connection.execute(
            insert(SchemaVersionRow), [{"id": 1, "version": version, "upgraded_at": now}]
        )


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the database's write lock from its start; committed if the body
    returns, rolled back if it raises."""
    if not is_sqlite(engine):
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            yield connection
        return
    with engine.connect() as connection:
        # The sqlite3 module begins a transaction only before INSERT, UPDATE or DELETE, so DDL
        # would commit statement by statement: take over, and take the write lock at once.
        driver = connection.connection.driver_connection
        assert driver is not None
        saved = driver.isolation_level
        driver.isolation_level = None
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            driver.isolation_level = saved
