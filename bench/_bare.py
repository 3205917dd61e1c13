"""The bare stack the hub is measured against: a `websockets` server and nothing of warroom's.

It speaks just enough of the protocol for the benchmarks' clients, which run the same code
against it and against `warroom serve`:

- `hello`: with `--log DB`, every event of that SQLite log (read and encoded once, at start)
  is sent, one `event` frame per event, or with `--batch` in `events` frames of up to
  `BATCH_BYTES` each; then `synced`. The connection then receives every broadcast.
- `submit` of a note: with `--durable DB`, one row inserted and committed (WAL,
  synchronous=FULL) before anything is sent; then the note's `event` frame is broadcast to every
  connection that said hello (`websockets.broadcast`, one encoding) and the sender acked.
- with `--acks`, `submit` of any command is only read (`json.loads`) and acked, nothing else:
  what the stack itself costs a command a hub acknowledges (a websocket frame read, a JSON
  object parsed, an ack encoded and written).

Run: `python -m bench._bare [--durable DB] [--log DB [--batch]] [--acks]`; prints
`bare: serving ws://HOST:PORT ` once it listens, and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench._kit import Listening

BATCH_BYTES = 512 * 1024
"""The most a batched catch-up frame carries (the hub's frames stay well under 1 MiB)."""

SERVING = re.compile(r"^bare: serving (ws://\S+) ")


def _frames(db: Path, batch: bool) -> tuple[list[str], int]:
    """The log's events as frames, and its head."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT seq, data FROM events ORDER BY seq").fetchall()
    finally:
        connection.close()
    head = rows[-1][0] if rows else 0
    if not batch:
        return [f'{{"type":"event","v":1,"seq":{seq},"event":{data}}}' for seq, data in rows], head
    frames: list[str] = []
    items: list[str] = []
    size = 0
    for seq, data in rows:
        item = f'{{"seq":{seq},"event":{data}}}'
        if items and size + len(item) > BATCH_BYTES:
            frames.append('{"type":"events","v":1,"events":[' + ",".join(items) + "]}")
            items, size = [], 0
        items.append(item)
        size += len(item) + 1
    if items:
        frames.append('{"type":"events","v":1,"events":[' + ",".join(items) + "]}")
    return frames, head


class Bare:
    """The server's state: who listens, the log it replays, the file it commits to."""

    def __init__(
        self, frames: list[str], head: int, durable: Path | None, acks: bool = False
    ) -> None:
        self.frames = frames
        self.acks = acks
        self.seq = head
        self.listening: set[ServerConnection] = set()
        self.db: sqlite3.Connection | None = None
        if durable is not None:
            self.db = sqlite3.connect(durable, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, data)")

    async def handle(self, connection: ServerConnection) -> None:
        try:
            async for message in connection:
                frame: dict[str, Any] = json.loads(message)
                match frame.get("type"):
                    case "hello":
                        for replayed in self.frames:
                            await connection.send(replayed)
                        await connection.send(f'{{"type":"synced","v":1,"head":{self.seq}}}')
                        self.listening.add(connection)
                    case "submit" if self.acks:
                        await self.ack(connection, frame)
                    case "submit":
                        await self.submit(connection, frame)
                    case _:
                        await connection.send('{"type":"error","v":1,"code":"unknown"}')
        finally:
            self.listening.discard(connection)

    async def ack(self, connection: ServerConnection, frame: dict[str, Any]) -> None:
        """Acknowledge a submitted command, and do nothing else with it."""
        self.seq += 1
        await connection.send(
            json.dumps({"type": "ack", "v": 1, "id": frame["id"], "seq": self.seq})
        )

    async def submit(self, connection: ServerConnection, frame: dict[str, Any]) -> None:
        command = frame["command"]
        self.seq += 1
        at = datetime.now(UTC).isoformat()
        event = {
            "type": "note.added",
            "incident": command["incident"],
            "actor": "bench",
            "at": at,
            "note": self.seq,
            "text": command["text"],
            "occurred_at": at,
            "audience": command.get("audience", "internal"),
            "pinned": False,
        }
        data = json.dumps(event, separators=(",", ":"))
        if self.db is not None:
            self.db.execute("INSERT INTO events (seq, data) VALUES (?, ?)", (self.seq, data))
        broadcast(self.listening, f'{{"type":"event","v":1,"seq":{self.seq},"event":{data}}}')
        ack = json.dumps({"type": "ack", "v": 1, "id": frame["id"], "seq": self.seq})
        await connection.send(ack)


async def _serve(bare: Bare) -> None:
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(bare.handle, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"bare: serving ws://127.0.0.1:{port} ", flush=True)
        await stop


def start(log: Path, *options: str) -> Listening:
    """A bare server in a process of its own, with these options; its stderr goes to `log`."""
    return Listening([sys.executable, "-m", "bench._bare", *options], SERVING, log)


def run(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._bare", description=__doc__)
    parser.add_argument("--durable", type=Path, help="commit each note to this SQLite file")
    parser.add_argument("--log", type=Path, help="replay this SQLite log on hello")
    parser.add_argument("--batch", action="store_true", help="many events per replayed frame")
    parser.add_argument("--acks", action="store_true", help="only acknowledge what is submitted")
    args = parser.parse_args(argv)
    frames, head = _frames(args.log, args.batch) if args.log else ([], 0)
    asyncio.run(_serve(Bare(frames, head, args.durable, args.acks)))


if __name__ == "__main__":
    run(sys.argv[1:])
