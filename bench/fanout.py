"""Fan-out: how long a note takes to reach every one of N clients, beside a bare `websockets`
broadcast server, without and with a durable commit before it broadcasts; and what the hub's
memory costs, at start and per idle connection.

For each N (`--clients`, 10, 100 and 1,000 by default) three servers run side by side, each a
process of its own: `warroom serve --port 0` on a fresh SQLite store (one incident; responders
enough that no user holds more than 30 connections), and two `bench._bare` servers (the bare
stack: `bare` broadcasts at once, `bare_durable` commits a row to SQLite, WAL and
synchronous=FULL, first). Each gets N clients (websocket connections that say hello for live
events only and decode every frame) and a writer connection, all in this process, the same
code for all three. Then, alternated, `--repeat` rounds on each: the writer submits notes at
`rate` a second for `--seconds`, and each note's submit-to-all time runs from its submit to the
moment the last of the N clients received it; a round's sample is its p99. The rate is 100 a
second, or less at large N so that the clients' process receives at most `FRAMES_PER_S`
frames a second (the clients, not the server, would be measured otherwise).

Memory, from the servers' /proc: RSS after start before any connection (`base`), and its growth
once the N clients are connected and idle, per connection, beside the bare server's.

Run: `python -m bench.fanout [--clients 10,100,1000] [--seconds S] [--repeat R]`; prints one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench import _bare
from bench._kit import Listening, dial, figure, main, memory, percentile, serve
from warroom.core.domain import Role
from warroom.store import Store, open_engine

QUICK = ("--clients", "5", "--seconds", "0.3", "--repeat", "1")
CLIENTS = (10, 100, 1000)
FRAMES_PER_S = 5000
MAX_RATE = 100.0
PER_USER = 30
"""Connections per responder (the hub allows 32 per user)."""
CONNECT_AT_ONCE = 50
ROUND_TIMEOUT = 120.0


class Round:
    """One timed run on one server: when each note was sent and last received."""

    def __init__(self, number: int, notes: int, clients: int) -> None:
        self.number = number
        self.sent = [0.0] * notes
        self.last = [0.0] * notes
        self.left = notes * clients
        self.done = asyncio.Event()

    def received(self, note: int) -> None:
        self.last[note] = time.monotonic()
        self.left -= 1
        if self.left == 0:
            self.done.set()


class Side:
    """A server, its writer and its N clients."""

    def __init__(self, name: str, server: Listening, writer: str, readers: list[str]) -> None:
        self.name = name
        self.server = server
        self.writer_token = writer
        self.reader_tokens = readers
        self.writer: ClientConnection | None = None
        self.clients: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.round: Round | None = None

    async def _client(self, token: str) -> ClientConnection:
        connection = await dial(self.server.url, token)
        await connection.send(json.dumps({"v": 1, "type": "hello", "cursor": None}))
        while json.loads(await connection.recv())["type"] != "synced":
            pass
        self.tasks.append(asyncio.create_task(self._watch(connection)))
        return connection

    async def _watch(self, connection: ClientConnection) -> None:
        async for message in connection:
            frame = json.loads(message)
            if frame["type"] != "event" or frame["event"]["type"] != "note.added":
                continue
            _, number, note = frame["event"]["text"].split()
            current = self.round
            if current is not None and int(number) == current.number:
                current.received(int(note))

    async def open(self, clients: int) -> None:
        tokens = [self.reader_tokens[n // PER_USER] for n in range(clients)]
        for start in range(0, clients, CONNECT_AT_ONCE):
            chunk = tokens[start : start + CONNECT_AT_ONCE]
            self.clients += await asyncio.gather(*(self._client(t) for t in chunk))

    async def open_writer(self) -> None:
        """The writer's connection, opened when it is about to submit (the hub closes one that
        says nothing for seconds)."""
        self.writer = await dial(self.server.url, self.writer_token)
        self.tasks.append(asyncio.create_task(self._drain(self.writer)))

    @staticmethod
    async def _drain(connection: ClientConnection) -> None:
        async for _ in connection:
            pass

    async def submit(self, command: dict[str, Any]) -> None:
        assert self.writer is not None
        frame = {"v": 1, "type": "submit", "id": uuid.uuid4().hex, "command": command}
        await self.writer.send(json.dumps(frame))

    async def timed_round(self, number: int, rate: float, seconds: float) -> float:
        """Submit notes at `rate` for `seconds`; the p99 of their submit-to-all times, in ms."""
        notes = max(1, round(rate * seconds))
        current = self.round = Round(number, notes, len(self.clients))
        started = time.monotonic()
        for note in range(notes):
            await asyncio.sleep(max(0.0, started + note / rate - time.monotonic()))
            current.sent[note] = time.monotonic()
            text = f"fan {number} {note}"
            await self.submit({"type": "note.add", "incident": "INC-1", "text": text})
        try:
            await asyncio.wait_for(current.done.wait(), ROUND_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"{self.name}: {current.left} deliveries never arrived") from None
        self.round = None
        delays = [(b - a) * 1000 for a, b in zip(current.sent, current.last, strict=True)]
        return percentile(delays, 0.99)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for connection in [*self.clients, *([self.writer] if self.writer else [])]:
            await connection.close()
        self.server.close()


def _users(db: Path, readers: int) -> tuple[str, list[str]]:
    """A fresh store with an incident manager and `readers` responders; their tokens."""
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        manager = store.users.add("manager", Role.INCIDENT_MANAGER)
        tokens = [store.users.add(f"r{n}", Role.RESPONDER) for n in range(readers)]
    finally:
        store.close()
    return manager, tokens


def _rss(side: Side) -> int:
    return memory(side.server.proc.pid)[0]


async def _clients(
    folder: Path, clients: int, rate: float, seconds: float, repeat: int
) -> dict[str, Any]:
    users = math.ceil(clients / PER_USER)
    manager, readers = _users(folder / "warroom.db", users)
    sides = [
        Side("warroom", serve(folder / "warroom.db", folder / "warroom.log"), manager, readers),
        Side("bare", _bare.start(folder / "bare.log"), "-", ["-"] * users),
        Side(
            "bare_durable",
            _bare.start(folder / "durable.log", "--durable", str(folder / "durable.db")),
            "-",
            ["-"] * users,
        ),
    ]
    try:
        await asyncio.sleep(0.5)
        base = {side.name: _rss(side) for side in sides}
        for side in sides:
            await side.open(clients)
        await asyncio.sleep(1.0)
        grown = {side.name: _rss(side) - base[side.name] for side in sides}
        for side in sides:
            await side.open_writer()
        declare = {"type": "incident.declare", "title": "Checkout down", "severity": "SEV2"}
        await sides[0].submit(declare)
        await sides[0].timed_round(0, rate, 0.05)  # the incident exists and all are warm
        for side in sides[1:]:
            await side.timed_round(0, rate, 0.05)
        p99s: dict[str, list[float]] = {side.name: [] for side in sides}
        for number in range(1, repeat + 1):
            for side in sides if number % 2 else sides[::-1]:
                p99s[side.name].append(await side.timed_round(number, rate, seconds))
    finally:
        for side in sides:
            await side.close()
    return {"p99s": p99s, "base": base, "grown": grown}


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)))
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each round submits")
    parser.add_argument("--repeat", type=int, default=3, help="rounds on each server")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.clients.split(",")]
    figures: list[dict[str, Any]] = []
    detail: dict[str, Any] = {}
    for clients in counts:
        rate = min(MAX_RATE, FRAMES_PER_S / clients)
        with tempfile.TemporaryDirectory(prefix="warroom-bench-fanout-") as folder:
            measured = asyncio.run(_clients(Path(folder), clients, rate, args.seconds, args.repeat))
        name = f"fan-out submit-to-all p99, {clients} clients at {rate:g} notes/s"
        figures.append(figure(name, "ms", measured["p99s"], "warroom"))
        detail[str(clients)] = {"rate_per_s": rate, **measured}
    largest = detail[str(max(counts))]
    base = {side: [largest["base"][side] / 2**20] for side in ("warroom", "bare")}
    per = {side: [largest["grown"][side] / max(counts) / 1024] for side in ("warroom", "bare")}
    figures.append(figure("server RSS at start, no connection", "MB", base, "warroom"))
    figures.append(
        figure(f"server RSS per idle connection, {max(counts)} clients", "KiB", per, "warroom")
    )
    return {
        "bench": "fanout",
        "clients": counts,
        "seconds": args.seconds,
        "repeat": args.repeat,
        "frames_per_s_budget": FRAMES_PER_S,
        "figures": figures,
        "detail": detail,
    }


if __name__ == "__main__":
    main(run, QUICK)
