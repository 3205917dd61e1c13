"""Backups and restores, end to end: `warroom backup` while the hub writes, `warroom verify`, and
clients of a restored hub that start over instead of silently missing what the restore undid."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.kit.harness import Hub, warroom
from tests.kit.wire import declare, note, receive, send, submit, unbatched
from warroom.store import Store, open_engine


async def _open(hub: Hub) -> ClientConnection:
    return await connect(
        hub.url, additional_headers={"Authorization": f"Bearer {hub.token}"}, proxy=None
    )


async def _notes(hub: Hub, texts: list[str]) -> int:
    """Commit a note for each text; return the last seq."""
    connection = await _open(hub)
    try:
        seq = 0
        for text in texts:
            frame = await submit(connection, note(text))
            assert frame["type"] == "ack", frame
            seq = frame["seq"]
        return seq
    finally:
        await connection.close()


async def _resume(hub: Hub, cursor: int, log: str | None) -> tuple[dict[str, Any], list[int]]:
    """Say hello from `cursor` in `log`: the welcome and the seqs replayed."""
    connection = await _open(hub)
    try:
        await send(connection, {"type": "hello", "cursor": cursor, "log": log})
        welcome = await receive(connection)
        assert welcome["type"] == "welcome", welcome
        seqs: list[int] = []
        while (frame := await receive(connection))["type"] != "synced":
            seqs += [event["seq"] for event in unbatched(frame)]
        return welcome, seqs
    finally:
        await connection.close()


async def test_a_client_ahead_of_a_restored_backup_is_reset_and_replays_it_all(
    hub: Hub, tmp_path: Path
) -> None:
    connection = await _open(hub)
    assert (await submit(connection, declare()))["type"] == "ack"
    await connection.close()
    assert await _notes(hub, [f"before the backup {n}" for n in range(29)]) == 30
    copy = tmp_path / "backup.db"

    backed_up = warroom("backup", str(copy), "--db", str(hub.db), env=hub.env)

    assert backed_up.returncode == 0, backed_up.stderr
    assert backed_up.stdout.strip() == f"backed up 30 events (head seq 30) to {copy}"
    assert await _notes(hub, [f"lost by the restore {n}" for n in range(20)]) == 50
    welcome, seqs = await _resume(hub, 0, None)
    assert seqs == list(range(1, 51))
    log = welcome["log"]
    assert welcome["reset"] is False and len(log) == 16

    # Restore as the README says: stop the hub, copy the file back, start it.
    hub.stop()
    for leftover in (Path(f"{hub.db}-wal"), Path(f"{hub.db}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(copy, hub.db)
    hub.start()
    # The restored log grows past the client's cursor: seq 50 exists again, with other events.
    assert await _notes(hub, [f"after the restore {n}" for n in range(25)]) == 55

    welcome, seqs = await _resume(hub, 50, log)

    assert welcome["reset"] is True
    assert welcome["log"] != log
    assert seqs == list(range(1, 56))
    verified = warroom("verify", "--db", str(hub.db), env=hub.env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("intact: 55 events, head seq 55 (")


def test_verify_names_the_first_broken_link_in_one_line(hub: Hub, tmp_path: Path) -> None:
    hub.ok("declare", "Checkout down", "--severity", "1")
    hub.ok("note", "INC-1", "first")
    hub.ok("note", "INC-1", "second")
    hub.stop()

    with sqlite3.connect(hub.db) as database:  # someone with the file edits it behind its back
        database.execute("DROP TRIGGER events_no_update")
        database.execute("UPDATE events SET data = replace(data, 'first', 'fist') WHERE seq = 2")
    database.close()

    result = warroom("verify", "--db", str(hub.db), env=hub.env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "warroom: the log is broken at seq 2: its hash does not match its contents and the hash "
        "of seq 1"
    ]


def test_backup_refuses_postgresql_and_names_pg_dump(env: dict[str, str], tmp_path: Path) -> None:
    url = "postgresql://nobody@127.0.0.1:1/warroom"

    result = warroom("backup", str(tmp_path / "copy.db"), "--db", url, env=env)

    assert result.returncode == 1
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy.db").exists()


async def test_a_backup_taken_while_the_hub_writes_is_a_consistent_prefix_of_the_log(
    hub: Hub, tmp_path: Path
) -> None:
    connection = await _open(hub)
    assert (await submit(connection, declare()))["type"] == "ack"
    await connection.close()
    writing = asyncio.create_task(_notes(hub, [f"during the backup {n}" for n in range(300)]))
    copy = tmp_path / "backup.db"

    backed_up = await asyncio.to_thread(
        warroom, "backup", str(copy), "--db", str(hub.db), env=hub.env
    )
    head = await writing

    assert backed_up.returncode == 0, backed_up.stderr
    copied, live = Store(open_engine(str(copy))), Store(open_engine(str(hub.db)))
    try:
        verdict = copied.log.verify()
        assert verdict.broken is None
        assert 1 <= verdict.head <= head
        assert copied.log.read_raw() == live.log.read_raw(upto=verdict.head)
        assert backed_up.stdout.strip() == (
            f"backed up {verdict.count} events (head seq {verdict.head}) to {copy}"
        )
        with copied.engine.connect() as database:
            newest = database.exec_driver_sql("SELECT max(last_seq) FROM commands").scalar()
        assert newest == verdict.head  # every command of the copy, and only those, with its events
    finally:
        copied.close()
        live.close()
