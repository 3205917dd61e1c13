"""The log's tamper evidence on every backend: the hash chain, its check, and a database that
refuses to change or delete an event."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from tests.storage.log_builder import LogBuilder
from warroom.core.commands import AddNote, DeclareIncident
from warroom.core.domain import Actor, Role, Severity
from warroom.store import Store
from warroom.store.chain import GENESIS, link

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)


def _fill(store: Store, log_builder: LogBuilder, notes: int = 4) -> None:
    batch = [log_builder.pending(MANAGER, "d", DeclareIncident(title="x", severity=Severity.SEV2))]
    store.log.append(batch)
    for number in range(notes):  # one batch each, then one batch of several
        store.log.append(
            [
                log_builder.pending(
                    MANAGER, f"n{number}", AddNote(incident="INC-1", text=f"{number}")
                )
            ]
        )
    store.log.append(
        [
            log_builder.pending(MANAGER, f"m{n}", AddNote(incident="INC-1", text="m"))
            for n in range(3)
        ]
    )


def _sql(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def _disable_guard(engine: Engine) -> None:
    """What someone with the database's owner rights could do: drop the log's protection."""
    if engine.dialect.name == "sqlite":
        _sql(engine, "DROP TRIGGER events_no_update")
        _sql(engine, "DROP TRIGGER events_no_delete")
    else:
        _sql(engine, "ALTER TABLE events DISABLE TRIGGER events_append_only")


def test_each_event_is_chained_to_the_one_before(store: Store, log_builder: LogBuilder) -> None:
    _fill(store, log_builder)

    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, data, hash FROM events ORDER BY seq")).all()
    previous = GENESIS
    for seq, data, stored in rows:
        assert stored == link(previous, seq, data)
        previous = stored
    verdict = store.log.verify()
    assert (verdict.broken, verdict.count, verdict.head, verdict.head_hash) == (
        None,
        8,
        8,
        previous,
    )


def test_an_empty_log_verifies(store: Store) -> None:
    verdict = store.log.verify()
    assert (verdict.broken, verdict.count, verdict.head) == (None, 0, 0)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET data = 'x' WHERE seq = 2", "DELETE FROM events WHERE seq = 8"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_event(
    store: Store, log_builder: LogBuilder, statement: str
) -> None:
    _fill(store, log_builder)

    with pytest.raises(DBAPIError, match="append-only"):
        _sql(store.engine, statement)

    assert [seq for seq, _ in store.log.read_raw()] == list(range(1, 9))
    assert store.log.verify().broken is None


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        (
            'UPDATE events SET data = replace(data, \'"text":"2"\', \'"text":"z"\') WHERE seq = 4',
            "seq 4: its hash does not match its contents and the hash of seq 3",
        ),
        ("DELETE FROM events WHERE seq = 5", "seq 5 is missing"),
        (
            "UPDATE events SET hash = 'f' || substr(hash, 2) WHERE seq = 1",
            "seq 1: its hash does not match its contents",
        ),
    ],
    ids=["changed", "removed", "rehashed"],
)
def test_verify_names_the_first_broken_link(
    store: Store, log_builder: LogBuilder, statement: str, broken: str
) -> None:
    _fill(store, log_builder)
    _disable_guard(store.engine)

    _sql(store.engine, statement)

    assert store.log.verify().broken == broken
