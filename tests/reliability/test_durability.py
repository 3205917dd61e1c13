"""The hub serves only a database that keeps every commit: SQLite with synchronous=FULL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from server.app import run
from warroom.store import Store, StoreError, open_engine


def test_every_sqlite_connection_reports_synchronous_full(tmp_path: Path) -> None:
    store = Store(open_engine(str(tmp_path / "w.db")))
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        store.check_durable()
    finally:
        store.close()


def _weakened(path: Path) -> Engine:
    """The war room's engine, with something after it lowering the durability."""
    engine = open_engine(str(path))

    def lower(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA synchronous=NORMAL")

    event.listen(engine, "connect", lower)
    return engine


async def test_the_hub_refuses_to_serve_below_synchronous_full(tmp_path: Path) -> None:
    store = Store(_weakened(tmp_path / "w.db"))
    listening: list[str] = []
    try:
        with pytest.raises(StoreError, match=r"synchronous=NORMAL.*needs synchronous=FULL"):
            await asyncio.wait_for(run(store, "127.0.0.1", 0, listening.append), 10)
    finally:
        store.close()
    assert listening == []
