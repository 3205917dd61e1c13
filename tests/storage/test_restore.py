"""A restored database is a log of its own on every backend: the identity its hub gives clients
changes with a restore (so they start over) and stays the same across restarts (so they resume)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.kit.postgres import POSTGRES_ADMIN_URL
from tests.kit.postgres import postgres_database as _database
from tests.storage.log_builder import LogBuilder
from warroom.core.commands import DeclareIncident
from warroom.core.domain import Actor, Role, Severity
from warroom.store import Store, open_engine
from warroom.store.backup import backup

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)


def _declare(store: Store, log_builder: LogBuilder) -> None:
    declared = DeclareIncident(title="Checkout down", severity=Severity.SEV1)
    store.log.append([log_builder.pending(MANAGER, "d1", declared)])


def _identity(url: str) -> tuple[str, int]:
    opened = Store(open_engine(url))
    try:
        return opened.log_identity(), opened.log.verify().count
    finally:
        opened.close()


def test_the_identity_survives_a_restart(store_url: str, log_builder: LogBuilder) -> None:
    first = Store(open_engine(store_url))
    try:
        _declare(first, log_builder)
        before = first.log_identity()
    finally:
        first.close()
    assert len(before) == 16 and int(before, 16) >= 0
    assert _identity(store_url) == (before, 1)


def test_a_sqlite_backup_restored_is_another_log(tmp_path: Path, log_builder: LogBuilder) -> None:
    url = f"sqlite:///{tmp_path / 'warroom.db'}"
    live = Store(open_engine(url))
    try:
        _declare(live, log_builder)
        before = live.log_identity()
        backup(live.engine, tmp_path / "copy.db")
    finally:
        live.close()
    # The README's restore: the hub stopped, the copy put in the database's place.
    shutil.copyfile(tmp_path / "copy.db", tmp_path / "warroom.db")
    after, count = _identity(url)
    assert count == 1
    assert after != before


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server")
@pytest.mark.parametrize("how", ["clean", "new-database"])
def test_a_postgres_dump_restored_is_another_log(
    tmp_path: Path, log_builder: LogBuilder, how: str
) -> None:
    for tool in ("pg_dump", "pg_restore"):
        assert shutil.which(tool), f"{tool} is installed with PostgreSQL"
    with _database(POSTGRES_ADMIN_URL) as url:
        live = Store(open_engine(url))
        try:
            _declare(live, log_builder)
            before = live.log_identity()
        finally:
            live.close()
        dump = tmp_path / "warroom.dump"
        subprocess.run(["pg_dump", "--format=custom", "-f", str(dump), url], check=True)
        if how == "clean":
            restore = ["pg_restore", "--clean", "--if-exists", "-d", url, str(dump)]
            subprocess.run(restore, check=True, capture_output=True)
            after, count = _identity(url)
        else:
            with _database(POSTGRES_ADMIN_URL) as other:
                restore = ["pg_restore", "-d", other, str(dump)]
                subprocess.run(restore, check=True, capture_output=True)
                after, count = _identity(other)
        assert count == 1
        assert after != before
