"""Fixtures of the storage suites: one event store per backend, and real events to put in it.

`store_url` runs every test that uses it against SQLite (a real file) and, when
`WARROOM_TEST_POSTGRES` holds an admin URL, against a fresh PostgreSQL database per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from warroom.core import protocol
from warroom.core.commands import Command
from warroom.core.decide import decide
from warroom.core.domain import Actor, World
from warroom.core.events import Event
from warroom.core.reducer import apply
from warroom.store import Pending, Store, open_engine

POSTGRES_ADMIN_URL = os.environ.get("WARROOM_TEST_POSTGRES", "")
"""An admin URL of a PostgreSQL server the tests may create and drop databases on."""

BACKENDS = ["sqlite", "postgres"] if POSTGRES_ADMIN_URL else ["sqlite"]
"""Decided at collection time: the PostgreSQL tests exist only when a server is configured."""


def _postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg  # only needed (and only installed for sure) when PostgreSQL is configured

    name = f"warroom_test_{uuid.uuid4().hex}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        parts = urlsplit(admin_url)
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warroom.db'}"
    else:
        yield from _postgres_database(POSTGRES_ADMIN_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'warroom.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An opened event store on `store_url`, closed afterwards."""
    opened = Store(open_engine(store_url))
    try:
        yield opened
    finally:
        opened.close()


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class LogBuilder:
    """Decides commands against its own world and numbers their events like the sequencer does.

    The events are real (from `warroom.core.decide.decide`), encoded with `protocol.event_json`.
    """

    world: World = field(default_factory=World)
    head: int = 0
    clock: datetime = T0
    events: list[tuple[int, Event, str]] = field(default_factory=list)
    """Every (seq, event, encoded) numbered so far, including those of discarded batches."""

    def pending(self, actor: Actor, command_id: str, command: Command) -> Pending:
        """The command decided, its events numbered from the head on, the world advanced."""
        self.clock += timedelta(seconds=1)
        numbered: list[tuple[int, Event, str]] = []
        for event in decide(self.world, command, actor, self.clock):
            self.head += 1
            numbered.append((self.head, event, protocol.event_json(event)))
            self.world = apply(self.world, event)
        self.events.extend(numbered)
        return Pending(actor.name, command_id, numbered)

    def mark(self) -> tuple[World, int, int]:
        """A point to rewind to (see `rewind`), e.g. before a batch the store will refuse."""
        return self.world, self.head, len(self.events)

    def rewind(self, point: tuple[World, int, int]) -> None:
        """Forget what was decided since `point`."""
        self.world, self.head, count = point
        del self.events[count:]


@pytest.fixture
def log_builder() -> LogBuilder:
    """A fresh `LogBuilder` over an empty world."""
    return LogBuilder()
