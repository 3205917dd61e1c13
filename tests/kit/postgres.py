"""Fresh PostgreSQL databases for tests, on the server `WARROOM_TEST_POSTGRES` names (an admin
URL the tests may create and drop databases with)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

POSTGRES_ADMIN_URL = os.environ.get("WARROOM_TEST_POSTGRES", "")
"""An admin URL of a PostgreSQL server the tests may create and drop databases on ("": none)."""


@contextlib.contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """The URL of a new, empty database on `admin_url`'s server, dropped afterwards (the
    connections still open to it too)."""
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
