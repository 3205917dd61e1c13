"""A hub killed with SIGKILL mid-stream loses no acknowledged command (real `warroom serve`)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

from websockets import ConnectionClosed
from websockets.asyncio.client import connect

from tests.kit.harness import WARROOM
from tests.kit.wire import declare, hello, note, receive, send, submit
from warroom.core.domain import Role
from warroom.store import Store, open_engine


def spawn(db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [WARROOM, "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def start(db: Path) -> tuple[subprocess.Popen[str], str]:
    process = spawn(db)
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 15)
    match = re.search(r"ws://[\d.]+:\d+", line)
    assert match, line
    return process, match.group(0)


async def test_sigkill_loses_no_acknowledged_command(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    store = Store(open_engine(str(db)))
    token = store.users.add("manager", Role.INCIDENT_MANAGER)
    store.close()
    headers = {"Authorization": f"Bearer {token}"}

    process, url = await start(db)
    try:
        client = await connect(url, additional_headers=headers, proxy=None, max_size=None)
        await submit(client, declare())
        total = 5000
        texts = {f"k{n}": f"kill test {n}" for n in range(total)}
        for ident, text in texts.items():
            await send(client, {"type": "submit", "id": ident, "command": note(text)})
        acked: dict[str, int] = {}
        async with asyncio.timeout(30):
            while len(acked) < 300:
                frame = await receive(client)
                if frame["type"] == "ack":
                    acked[frame["id"]] = frame["seq"]
        os.kill(process.pid, signal.SIGKILL)
        # Acks already on the wire before the kill count too: they were sent after commit.
        try:
            async with asyncio.timeout(5):
                while True:
                    frame = await receive(client)
                    if frame["type"] == "ack":
                        acked[frame["id"]] = frame["seq"]
        except (ConnectionClosed, TimeoutError):
            pass
        assert 300 <= len(acked) < total, "the kill must land mid-stream"
    finally:
        process.kill()
        process.wait(10)

    process, url = await start(db)
    try:
        reader = await connect(url, additional_headers=headers, proxy=None, max_size=None)
        log = await hello(reader)
        by_seq = {frame["seq"]: frame["event"] for frame in log}
        assert sorted(by_seq) == list(range(1, len(log) + 1))  # still gapless
        for ident, seq in acked.items():
            assert by_seq[seq]["text"] == texts[ident], ident
        await reader.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
