"""Fixtures of the storage suites: one event store per backend, and real events to put in it
(`LogBuilder`, in `log_builder.py`).

`store_url` runs every test that uses it against SQLite (a real file) and, when
`WARROOM_TEST_POSTGRES` holds an admin URL, against a fresh PostgreSQL database per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.storage.log_builder import LogBuilder
from warroom.store import Store, open_engine

BACKENDS = ["sqlite", "postgres"] if POSTGRES_ADMIN_URL else ["sqlite"]
"""Decided at collection time: the PostgreSQL tests exist only when a server is configured."""


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warroom.db'}"
    else:
        with postgres_database() as url:
            yield url


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


@pytest.fixture
def log_builder() -> LogBuilder:
    """A fresh `LogBuilder` over an empty world."""
    return LogBuilder()
