"""The schema version and its upgrades, on every backend: a fresh database, one made before
versions existed, one newer than the code, a step that fails, and several processes at once."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from tests.storage.log_builder import LogBuilder
from warroom.core.commands import AddNote, DeclareIncident
from warroom.core.domain import Actor, Role, Severity
from warroom.core.events import Envelope
from warroom.core.sshkeys import PublicKey
from warroom.store import (
    CURRENT_VERSION,
    UPGRADES,
    Snapshot,
    Store,
    StoreError,
    Upgrade,
    open_engine,
)
from warroom.store.schema import DATA_TABLES, prepare, version_of
from warroom.store.users import token_hash

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)

# The oldest layout the code ever made (before SSH keys and secrets), as its create_all did.
OLDEST_LAYOUT = [
    "CREATE TABLE events (seq INTEGER NOT NULL, incident VARCHAR NOT NULL, type VARCHAR NOT NULL,"
    " actor VARCHAR NOT NULL, at VARCHAR NOT NULL, data VARCHAR NOT NULL, PRIMARY KEY (seq))",
    "CREATE INDEX ix_events_incident ON events (incident)",
    "CREATE TABLE commands (actor VARCHAR NOT NULL, id VARCHAR NOT NULL,"
    " last_seq INTEGER NOT NULL, PRIMARY KEY (actor, id))",
    'CREATE TABLE users (name VARCHAR NOT NULL, role VARCHAR NOT NULL, "groups" VARCHAR NOT NULL,'
    " token_hash VARCHAR NOT NULL, created_at VARCHAR NOT NULL, revoked_at VARCHAR,"
    " PRIMARY KEY (name))",
    "CREATE UNIQUE INDEX ix_users_token_hash ON users (token_hash)",
]

KEY = PublicKey(
    algorithm="ssh-ed25519",
    blob="AAAAC3NzaC1lZDI1NTE5AAAAIHN0b3JhZ2UtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
    comment="ana@laptop",
    fingerprint="SHA256:storage-test",
)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on an empty database, not prepared."""
    opened = open_engine(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


def _version(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return version_of(connection)


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _run(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _insert(engine: Engine, statement: str, rows: list[dict[str, object]]) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), rows)


def _upgraded_at(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT upgraded_at FROM schema_version").scalar())


def _recording(done: list[int]) -> tuple[Upgrade, ...]:
    """Today's steps and two more, each noting its version in `done` when it runs."""

    def step(version: int) -> Callable[[Connection], None]:
        return lambda _connection: done.append(version)

    return (*UPGRADES, *(Upgrade(v, f"step {v}", step(v)) for v in (NEXT, NEXT + 1)))


NEXT = CURRENT_VERSION + 1
"""The version of a step added after today's."""


def test_the_steps_are_numbered_from_1_in_order() -> None:
    assert [step.version for step in UPGRADES] == list(range(1, len(UPGRADES) + 1))
    assert UPGRADES[-1].version == CURRENT_VERSION


def test_a_fresh_database_gets_every_table_and_the_current_version(engine: Engine) -> None:
    assert _version(engine) is None

    Store(engine).close()

    assert _version(engine) == CURRENT_VERSION
    assert {table.name for table in DATA_TABLES} | {"schema_version"} <= _tables(engine)


def test_a_database_made_before_versions_is_upgraded_and_keeps_its_rows(
    engine: Engine, log_builder: LogBuilder
) -> None:
    _run(engine, *OLDEST_LAYOUT)
    declared = log_builder.pending(
        MANAGER, "c1", DeclareIncident(title="x", severity=Severity.SEV2)
    )
    noted = log_builder.pending(MANAGER, "c2", AddNote(incident="INC-1", text="kept"))
    rows = [(seq, event, encoded) for p in (declared, noted) for seq, event, encoded in p.events]
    _insert(
        engine,
        "INSERT INTO events (seq, incident, type, actor, at, data)"
        " VALUES (:seq, :incident, :type, :actor, :at, :data)",
        [
            {
                "seq": seq,
                "incident": event.incident,
                "type": event.type,
                "actor": event.actor,
                "at": event.at.isoformat(),
                "data": encoded,
            }
            for seq, event, encoded in rows
        ],
    )
    _run(engine, "INSERT INTO commands (actor, id, last_seq) VALUES ('alice', 'c2', 2)")
    _insert(
        engine,
        'INSERT INTO users (name, role, "groups", token_hash, created_at)'
        " VALUES ('alice', 'incident-manager', '', :hash, '2025-01-01T00:00:00+00:00')",
        [{"hash": token_hash("wr_old-token")}],
    )
    assert _version(engine) == 0

    store = Store(engine)
    try:
        assert _version(engine) == CURRENT_VERSION
        assert store.log.read() == [Envelope(seq, event) for seq, event, _ in rows]
        assert store.log.find_command("alice", "c2") == 2
        # The upgrade chained the old events and made the log append-only.
        verdict = store.log.verify()
        assert (verdict.broken, verdict.count, verdict.head) == (None, 2, 2)
        with pytest.raises(DBAPIError, match="append-only"):
            _run(engine, "DELETE FROM events WHERE seq = 2")
        assert store.users.authenticate("wr_old-token") == MANAGER
        # The tables the old code did not have yet work at once.
        store.users.add_ssh_key("alice", KEY)
        assert [key.fingerprint for key in store.users.ssh_keys("alice")] == [KEY.fingerprint]
        assert len(store.secrets.get("disclosure")) == 32
        store.log.append([log_builder.pending(MANAGER, "c3", AddNote(incident="INC-1", text="on"))])
        assert [seq for seq, _ in store.log.read_raw()] == [1, 2, 3]
    finally:
        store.close()


def test_a_database_of_the_last_layout_before_versions_keeps_its_secret(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in DATA_TABLES:
            table.create(connection)
    _run(engine, "INSERT INTO secrets (name, value) VALUES ('disclosure', '" + "ab" * 32 + "')")

    store = Store(engine)
    try:
        # Stakeholders' cursors were sealed with it: they must still open.
        assert store.secrets.get("disclosure") == bytes.fromhex("ab" * 32)
        assert _version(engine) == CURRENT_VERSION
    finally:
        store.close()


def test_reopening_a_current_database_changes_nothing(store_url: str) -> None:
    first = Store(open_engine(store_url))
    token = first.users.add("alice", Role.INCIDENT_MANAGER)
    stamped = _upgraded_at(first.engine)
    first.close()

    again = Store(open_engine(store_url))
    try:
        assert _version(again.engine) == CURRENT_VERSION
        assert _upgraded_at(again.engine) == stamped
        assert again.users.authenticate(token) == MANAGER
    finally:
        again.close()


def test_steps_run_in_order_once_each_from_the_version_found(engine: Engine) -> None:
    _run(engine, *OLDEST_LAYOUT)
    done: list[int] = []

    prepare(engine, _recording(done))
    assert done == [NEXT, NEXT + 1]  # the steps before are today's own
    assert _version(engine) == NEXT + 1

    prepare(engine, _recording(done))
    assert done == [NEXT, NEXT + 1]  # at the last version already: nothing runs


def test_a_database_at_an_older_version_gets_only_the_later_steps(engine: Engine) -> None:
    prepare(engine)  # today's version
    done: list[int] = []

    prepare(engine, _recording(done))

    assert done == [NEXT, NEXT + 1]
    assert _version(engine) == NEXT + 1


def test_a_fresh_database_runs_no_step(engine: Engine) -> None:
    done: list[int] = []

    prepare(engine, _recording(done))

    assert done == []  # the tables are made as they are now
    assert _version(engine) == NEXT + 1


def test_a_newer_database_is_refused_and_left_alone(store_url: str) -> None:
    Store(open_engine(store_url)).close()
    newer = CURRENT_VERSION + 1
    engine = open_engine(store_url)
    _run(engine, f"UPDATE schema_version SET version = {newer}")
    engine.dispose()

    with pytest.raises(StoreError, match=f"schema version {newer}, newer than this warroom") as e:
        Store(open_engine(store_url))
    assert "upgrade warroom" in str(e.value)

    engine = open_engine(store_url)
    try:
        assert _version(engine) == newer
    finally:
        engine.dispose()


def test_a_failed_step_leaves_the_database_as_it_was(engine: Engine) -> None:
    prepare(engine)

    def half_done(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        connection.exec_driver_sql("INSERT INTO half_done (x) VALUES (1)")
        raise RuntimeError("disk on fire")

    steps = (*UPGRADES, Upgrade(NEXT, "a new table", half_done))
    with pytest.raises(
        StoreError, match=rf"from schema version {CURRENT_VERSION} to {NEXT} .*disk on fire"
    ):
        prepare(engine, steps)

    # One transaction, DDL included: nothing of the step is left, not even its table.
    assert "half_done" not in _tables(engine)
    assert _version(engine) == CURRENT_VERSION


def test_processes_opening_a_fresh_database_at_once_all_succeed(store_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait()
            Store(open_engine(store_url)).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    engine = open_engine(store_url)
    try:
        assert _version(engine) == CURRENT_VERSION
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT count(*) FROM schema_version").scalar()
        assert rows == 1
    finally:
        engine.dispose()


def test_a_database_of_version_6_gets_the_snapshots_tables_and_keeps_its_log(
    engine: Engine, log_builder: LogBuilder
) -> None:
    # A database as version 6 left it: every table of today but the snapshots'.
    store = Store(engine)
    store.log.append(
        [log_builder.pending(MANAGER, "c1", DeclareIncident(title="x", severity=Severity.SEV2))]
    )
    _run(
        engine,
        "DROP TABLE snapshots",
        "DROP TABLE snapshot_pages",
        "UPDATE schema_version SET version = 6",
    )
    assert not {"snapshots", "snapshot_pages"} & _tables(engine)

    upgraded = Store(engine)
    try:
        assert _version(engine) == 8 == CURRENT_VERSION
        assert {"snapshots", "snapshot_pages"} <= _tables(engine)
        assert [seq for seq, _ in upgraded.log.read_raw()] == [1]
        page = {hashlib.sha256(b"[]").hexdigest(): "[]"}
        snapshot = Snapshot("INC-1", 1, "{}", page)
        assert upgraded.snapshots.save(snapshot, log="l", format=1, names=list(page))
        assert upgraded.snapshots.load(log="l", format=1, upto=1) == {"INC-1": snapshot}
    finally:
        upgraded.close()


def test_a_database_of_version_7_gets_the_pages_of_snapshots(
    engine: Engine, log_builder: LogBuilder
) -> None:
    Store(engine).log.append(
        [log_builder.pending(MANAGER, "c1", DeclareIncident(title="x", severity=Severity.SEV2))]
    )
    _run(engine, "DROP TABLE snapshot_pages", "UPDATE schema_version SET version = 7")

    upgraded = Store(engine)
    try:
        assert _version(engine) == 8
        assert "snapshot_pages" in _tables(engine)
        assert upgraded.snapshots.save(Snapshot("INC-1", 1, "{}"), log="l", format=1)
    finally:
        upgraded.close()
