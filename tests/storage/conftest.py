"""Fixtures of the storage suites: one event store per backend, and real events to put in it
(`LogBuilder`, in `log_builder.py`).

`store_url` runs every test that uses it against SQLite (a real file) and, when
`WARROOM_TEST_POSTGRES` holds an admin URL, against a fresh PostgreSQL database per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.storage.log_builder import LogBuilder
from warroom.store import Store, open_engine

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


@pytest.fixture
def log_builder() -> LogBuilder:
    """A fresh `LogBuilder` over an empty world."""
    return LogBuilder()
