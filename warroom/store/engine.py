"""The database engine: where the war room's database is, and how a connection to it is set up.

SQLite by default (a file under the user's data directory, WAL, synchronous=FULL), PostgreSQL by
URL. Opening an engine does not connect: the first connection is made when the schema is
checked (`warroom.store.schema.prepare`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, event, make_url
from sqlmodel import create_engine

from warroom.store.errors import StoreError
from warroom.store.files import private_file, private_folder, tighten

BUSY_TIMEOUT_S = 10
"""How long a SQLite connection waits for another's write lock before it gives up."""


def default_url() -> str:
    """The SQLite file under the user's data directory (`WARROOM_DB` overrides it)."""
    configured = os.environ.get("WARROOM_DB")
    if configured:
        return normalise_url(configured)
    folder = Path(platformdirs.user_data_dir("warroom"))
    return f"sqlite:///{folder / 'warroom.db'}"


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL, `postgresql://...` or a plain file path."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


SCHEMES = ("sqlite", "postgresql+psycopg")
"""The databases warroom runs on (after `normalise_url`)."""


def sqlite_file(url: str) -> Path | None:
    """The file a normalised SQLite URL names (None: another database, or SQLite in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def check_supported(url: str) -> None:
    """Refuse a URL of a database warroom does not run on, in one sentence.

    Raises:
        StoreError: naming the scheme and the two that work.
    """
    scheme = url.split("://", 1)[0]
    if scheme not in SCHEMES or (scheme == "sqlite" and not url.startswith("sqlite:///")):
        raise StoreError(
            f"unsupported database URL {scheme}://...: warroom runs on a SQLite file "
            "(a path, or sqlite:///PATH) or on PostgreSQL (postgresql://USER@HOST/DATABASE)"
        )


def open_engine(url: str | None = None) -> Engine:
    """An engine on `url` (normalised; None: `default_url()`), with the war room's settings.

    A SQLite file's folder is made if missing (0700), and the file itself before SQLite opens it,
    owner-only (0600): SQLite gives its -wal and -shm files the main file's mode. An existing file
    that others may read is made owner-only, with a warning. Every SQLite connection runs in WAL
    mode with synchronous=FULL, so an acknowledged append survives a power loss.

    Raises:
        StoreError: if the URL names a database warroom does not run on, or the SQLite file or
            its folder cannot be made.
    """
    normalised = normalise_url(url) if url else default_url()
    check_supported(normalised)
    if not normalised.startswith("sqlite:///"):
        return create_engine(normalised, pool_pre_ping=True)
    path = Path(normalised.removeprefix("sqlite:///"))
    try:
        private_folder(path.parent)
    except OSError as error:
        raise StoreError(f"cannot create the folder {path.parent}: {error}") from None
    database = make_url(normalised).database
    try:
        if database and database != ":memory:":
            _private_database(Path(database))
    except OSError as error:
        raise StoreError(f"cannot create the database {path}: {error}") from None
    engine = create_engine(
        normalised, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_database(path: Path) -> None:
    """The database file, and its -wal and -shm if there are any, owner-only: the incidents and
    the server's secrets are in them."""
    private_file(path)
    for companion in (path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        try:
            descriptor = os.open(companion, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            tighten(descriptor, companion)
        finally:
            os.close(descriptor)


def describe(engine: Engine) -> str:
    """The engine's URL with any password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine's database is SQLite (the other backend is PostgreSQL)."""
    return engine.dialect.name == "sqlite"


def driver_marks(engine: Engine, count: int) -> str:
    """`count` parameter marks, comma-separated, for a statement handed to the driver as it is
    (`exec_driver_sql`): each driver has its own style."""
    return ", ".join(["?" if is_sqlite(engine) else "%s"] * count)


SYNCHRONOUS_FULL = 2
"""SQLite's `PRAGMA synchronous` value for FULL (3 is EXTRA, stronger still)."""


def check_durable(engine: Engine) -> None:
    """Refuse a SQLite connection that could lose a committed transaction on power loss.

    Raises:
        StoreError: if a connection reports `synchronous` below FULL (PostgreSQL: never).
    """
    if not is_sqlite(engine):
        return
    with engine.connect() as connection:
        level = int(connection.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
    if level < SYNCHRONOUS_FULL:
        names = {0: "OFF", 1: "NORMAL"}
        raise StoreError(
            f"the database {describe(engine)} runs with synchronous={names.get(level, level)}, "
            "which can lose acknowledged commands on power loss: warroom needs synchronous=FULL"
        )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        _use_wal(cursor)
        # FULL: in WAL mode NORMAL may lose committed transactions on power loss.
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Put the file in WAL mode (a setting of the file, kept once made).

    Switching a fresh file to WAL needs it to itself, and SQLite answers "database is locked"
    at once, without its busy handler, when another process opens the same fresh file at that
    moment: so the switch is retried until the busy timeout is spent."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
            continue
        if mode is not None and str(mode[0]).lower() == "wal":
            return
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError(f"the database stays in {mode} mode, not WAL")
        time.sleep(0.01)
