"""Several hubs on one PostgreSQL database: how long an event takes to reach another hub's
client, and how many commands the war room commits with one, two or three hubs.

Real `warroom serve` processes on a fresh database of the PostgreSQL server named by `--db` or
`WARROOM_TEST_POSTGRES` (an admin URL: a database is made and dropped for each configuration);
without one the result is `{"skipped": "no PostgreSQL"}`.

1. Delay: a responder on hub A adds notes at `--rate` a second; an observer on A and one on B
   note when each arrives. `same_hub_ms` and `cross_hub_ms` run from the submit to the arrival.
2. Throughput: `--clients` clients, spread over the hubs, each keep `--window` commands in
   flight until `--commands` in all are acknowledged; commands/s from the first submit to the
   last ack, with 1, 2 and 3 hubs on PostgreSQL (`--counts`; the quick run: 2), beside one hub
   on a SQLite file.

The clients run in this process, on one core of their own at most: on a small machine they and
the hubs share the cores, which bounds what is measured.

Run: `python -m bench.hubs [--db URL] [--rate R] [--notes N] [--commands N] [--clients C]
[--counts 1,2,3]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench._kit import START_TIMEOUT, dial, figure, main
from tests.kit.harness import Hub, free_port, isolated_env
from tests.kit.postgres import postgres_database
from warroom.core.domain import Role
from warroom.store import Store, open_engine

RESPONDERS = 12
"""Users made on every database (one per throughput client, at most)."""


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(_percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


def _users(url: str) -> dict[str, str]:
    store = Store(open_engine(url))
    try:
        tokens = {"alice": store.users.add("alice", Role.INCIDENT_MANAGER)}
        tokens["oscar"] = store.users.add("oscar", Role.OBSERVER)
        for n in range(RESPONDERS):
            tokens[f"r{n}"] = store.users.add(f"r{n}", Role.RESPONDER)
        return tokens
    finally:
        store.close()


@contextlib.contextmanager
def _hubs(root: Path, database: str, count: int, token: str) -> Iterator[list[Hub]]:
    """`count` running `warroom serve` processes on `database`, stopped afterwards."""
    env = isolated_env(root)
    hubs: list[Hub] = []
    try:
        for n in range(count):
            (root / f"hub{n}").mkdir()
            hub = Hub(root / f"hub{n}", env, database=database)
            hub.start_timeout = START_TIMEOUT
            hub.token = token
            hubs.append(hub)
            hub.start(free_port(), expect_token=False)
        yield hubs
    finally:
        for hub in hubs:
            hub.close()


async def _submit(connection: ClientConnection, ident: str, command: dict[str, Any]) -> None:
    await connection.send(json.dumps({"v": 1, "type": "submit", "id": ident, "command": command}))


def _note(text: str) -> dict[str, Any]:
    return {"type": "note.add", "incident": "INC-1", "text": text}


async def _declare(url: str, token: str) -> None:
    connection = await dial(url, token)
    try:
        declare = {"type": "incident.declare", "title": "Bench", "severity": "SEV2"}
        await _submit(connection, "declare", declare)
        while json.loads(await connection.recv())["type"] != "ack":
            pass
    finally:
        await connection.close()


async def _watch(connection: ClientConnection, arrived: dict[str, float], count: int) -> None:
    await connection.send(json.dumps({"v": 1, "type": "hello", "cursor": None}))
    while len(arrived) < count:
        frame = json.loads(await connection.recv())
        if frame["type"] == "event" and frame["event"]["type"] == "note.added":
            arrived.setdefault(frame["event"]["text"], time.perf_counter())


async def _delay(
    hubs: list[Hub], tokens: dict[str, str], rate: float, notes: int
) -> dict[str, Any]:
    a, b = hubs[0].url, hubs[1].url
    same, cross = await dial(a, tokens["oscar"]), await dial(b, tokens["oscar"])
    writer = await dial(a, tokens["r0"])
    arrived_same: dict[str, float] = {}
    arrived_cross: dict[str, float] = {}
    watchers = [
        asyncio.create_task(_watch(same, arrived_same, notes)),
        asyncio.create_task(_watch(cross, arrived_cross, notes)),
    ]
    await asyncio.sleep(0.5)  # both watchers streaming
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for n in range(notes):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        text = f"delay {n}"
        sent[text] = time.perf_counter()
        await _submit(writer, f"d{n}", _note(text))
    await asyncio.wait_for(asyncio.gather(*watchers), 60)
    for connection in (same, cross, writer):
        await connection.close()
    same_ms = [(arrived_same[t] - sent[t]) * 1000 for t in sent]
    cross_ms = [(arrived_cross[t] - sent[t]) * 1000 for t in sent]
    return {
        "rate_per_s": rate,
        "notes": notes,
        "same_hub_ms": _summary(same_ms),
        "cross_hub_ms": _summary(cross_ms),
        "cross_minus_same_p99_ms": round(
            _percentile(cross_ms, 0.99) - _percentile(same_ms, 0.99), 2
        ),
    }


async def _client(url: str, token: str, name: str, count: int, window: int) -> None:
    connection = await dial(url, token)
    slots = asyncio.Semaphore(window)

    async def send() -> None:
        for n in range(count):
            await slots.acquire()
            await _submit(connection, f"{name}-{n}", _note(f"{name} {n}"))

    sender = asyncio.create_task(send())
    acked = 0
    try:
        while acked < count:
            frame = json.loads(await connection.recv())
            if frame["type"] in ("ack", "rejected"):
                assert frame["type"] == "ack", frame
                acked += 1
                slots.release()
    finally:
        sender.cancel()
        await connection.close()


async def _throughput(
    hubs: list[Hub], tokens: dict[str, str], commands: int, clients: int, window: int
) -> dict[str, Any]:
    await _declare(hubs[0].url, tokens["alice"])
    each = commands // clients
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _client(hubs[n % len(hubs)].url, tokens[f"r{n}"], f"r{n}", each, window)
            for n in range(clients)
        )
    )
    elapsed = time.perf_counter() - started
    return {
        "hubs": len(hubs),
        "commands": each * clients,
        "elapsed_s": round(elapsed, 3),
        "commands_per_s": round(each * clients / elapsed, 1),
    }


QUICK = ("--notes", "20", "--commands", "100", "--clients", "2", "--counts", "2")


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.hubs")
    parser.add_argument(
        "--db",
        default=os.environ.get("WARROOM_TEST_POSTGRES", ""),
        help="an admin URL of a PostgreSQL server (default: WARROOM_TEST_POSTGRES)",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="notes a second (delay)")
    parser.add_argument("--notes", type=int, default=500, help="notes timed (delay)")
    parser.add_argument("--commands", type=int, default=6000, help="commands (throughput)")
    parser.add_argument("--clients", type=int, default=6, help="clients (throughput)")
    parser.add_argument("--window", type=int, default=16, help="commands in flight per client")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the delay measure")
    parser.add_argument(
        "--counts", default="1,2,3", help="how many hubs share the database (throughput)"
    )
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.counts.split(",")]
    if not counts or min(counts) < 1:
        parser.error("--counts must name positive numbers of hubs")
    result: dict[str, Any] = {"bench": "hubs", "python": platform.python_version()}
    clients = min(args.clients, RESPONDERS)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-hubs-") as folder:
        root = Path(folder)
        sqlite = root / "sqlite.db"
        tokens = _users(f"sqlite:///{sqlite}")
        with _hubs(root / "sqlite", str(sqlite), 1, tokens["alice"]) as hubs:
            on_sqlite = asyncio.run(_throughput(hubs, tokens, args.commands, clients, args.window))
        rates = {"sqlite_1_hub": [float(on_sqlite["commands_per_s"])]}
        if not args.db:
            # Without PostgreSQL only the single hub is measured: the one SQLite allows.
            result["figures"] = [
                figure("committed commands/s", "commands/s", rates, "sqlite_1_hub", "higher")
            ]
            return {**result, "skipped": "no PostgreSQL: one hub on SQLite only"}
        delays: list[dict[str, Any]] = []
        with postgres_database(args.db) as url:
            tokens = _users(url)
            with _hubs(root / "delay", url, 2, tokens["alice"]) as hubs:
                asyncio.run(_declare(hubs[0].url, tokens["alice"]))
                for _ in range(max(1, args.repeat)):
                    delays.append(asyncio.run(_delay(hubs, tokens, args.rate, args.notes)))
        result["delay"] = delays[len(delays) // 2]
        throughput: list[dict[str, Any]] = []
        for count in counts:
            with postgres_database(args.db) as url:
                tokens = _users(url)
                with _hubs(root / f"pg{count}", url, count, tokens["alice"]) as hubs:
                    measured = asyncio.run(
                        _throughput(hubs, tokens, args.commands, clients, args.window)
                    )
                    throughput.append({"database": "postgresql", **measured})
                    rates[f"postgresql_{count}_hubs"] = [float(measured["commands_per_s"])]
        throughput.append({"database": "sqlite", **on_sqlite})
    p99s = {
        side: [float(each[f"{side}_ms"]["p99"]) for each in delays]
        for side in ("cross_hub", "same_hub")
    }
    result["figures"] = [
        figure("note delay p99 at 50 notes/s, observer on another hub", "ms", p99s, "cross_hub"),
        *(
            figure(
                f"committed commands/s, {count} hub{'s' if count > 1 else ''} on PostgreSQL",
                "commands/s",
                {
                    f"postgresql_{count}_hubs": rates[f"postgresql_{count}_hubs"],
                    **{"sqlite_1_hub": rates["sqlite_1_hub"]},
                },
                f"postgresql_{count}_hubs",
                "higher",
            )
            for count in counts
        ),
    ]
    result["throughput"] = throughput
    result["clients"] = clients
    result["window"] = args.window
    return result


if __name__ == "__main__":
    main(run, QUICK)
