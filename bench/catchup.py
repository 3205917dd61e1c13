"""Catch-up: how long a client that says hello from 0 takes to hold the whole log, beside a bare
`websockets` server sending one frame per event and one sending them batched.

Two logs are written to SQLite stores with `EventLog.append` (as `bench.fold` does: INC-1
declared, then notes to it): `--one` events (10,000 by default) caught up by one client, and
`--many` events (1,000) caught up by `--clients` clients (100) at once. Each log is served by
three processes side by side: `warroom serve --port 0` on it; `bench._bare --log` on it (the
rows read and encoded at start, then sent one `event` frame per event on hello: `bare`);
and the same with `--batch` (many events per frame: `bare_batched`); with `--before PATH`, a
fourth: the hub of another checkout (`before`). The clients, in this
process and the same code for all three, connect, say hello from 0, decode every frame and
count the events in it, until `synced`; a sample is the wall time from the first connect to
the last client synced, and every client must have counted every event. Alternated,
`--repeat` samples of each side after one untimed one (none when `--repeat` is 1). When
`--one` and `--many` are equal (the quick run), one log and its three servers serve both.

Run: `python -m bench.catchup [--one N] [--many M] [--clients C] [--repeat R] [--before PATH]`;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import _bare
from bench._kit import Listening, alternate, dial, figure, main, serve, wall
from bench.fold import _log
from bench.read import _fill
from warroom.core.domain import Role
from warroom.store import Store, open_engine

QUICK = ("--one", "200", "--many", "200", "--clients", "4", "--repeat", "1")
PER_USER = 30


async def _catch_up(url: str, token: str) -> int:
    """Hello from 0 until synced; the number of events received."""
    connection = await dial(url, token)
    try:
        await connection.send(json.dumps({"v": 1, "type": "hello", "cursor": 0}))
        events = 0
        while True:
            frame = json.loads(await connection.recv())
            match frame["type"]:
                case "event":
                    events += 1
                case "events":
                    events += len(frame["events"])
                case "synced":
                    return events
                case _:
                    pass
    finally:
        await connection.close()


def _sample(url: str, tokens: Sequence[str], expected: int) -> Callable[[], float]:
    async def together() -> None:
        counts = await asyncio.gather(*(_catch_up(url, token) for token in tokens))
        if any(count != expected for count in counts):
            raise RuntimeError(f"{url}: clients caught up {sorted(set(counts))}, not {expected}")

    return lambda: wall(lambda: asyncio.run(together()))


def _log_db(db: Path, notes: int, clients: int) -> list[str]:
    """INC-1 and its `notes` notes in a store, and managers enough for `clients`; the tokens."""
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        _fill(store.log, _log(notes), 10_000)
        users = [
            store.users.add(f"im{n}", Role.INCIDENT_MANAGER)
            for n in range(math.ceil(clients / PER_USER))
        ]
    finally:
        store.close()
    return [users[n // PER_USER] for n in range(clients)]


def _case(
    folder: Path, events: int, clients: Sequence[int], repeat: int, before: Path | None = None
) -> list[dict[str, list[float]]]:
    """The samples of each side for each number of `clients` catching up `events` events at
    once, on one log served by the three servers (four with `before`: another checkout's hub)."""
    db = folder / f"catchup-{events}.db"
    tokens = _log_db(db, events - 1, max(clients))
    copy = folder / f"catchup-{events}-before.db"  # one hub to a SQLite database
    shutil.copyfile(db, copy)
    servers: dict[str, Listening] = {}
    try:
        servers["warroom"] = serve(db, folder / f"warroom-{events}.log")
        servers["bare"] = _bare.start(folder / f"bare-{events}.log", "--log", str(db))
        servers["bare_batched"] = _bare.start(
            folder / f"batched-{events}.log", "--log", str(db), "--batch"
        )
        if before is not None:
            servers["before"] = serve(copy, folder / f"before-{events}.log", before)
        taken = []
        for count in clients:
            sides = {name: _sample(s.url, tokens[:count], events) for name, s in servers.items()}
            taken.append(alternate(sides, repeat, warm_up=repeat > 1))
        return taken
    finally:
        for server in servers.values():
            server.close()


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.catchup", description=__doc__)
    parser.add_argument("--one", type=int, default=10_000, help="events caught up by one client")
    parser.add_argument("--many", type=int, default=1_000, help="events caught up by many")
    parser.add_argument("--clients", type=int, default=100, help="clients catching up at once")
    parser.add_argument("--repeat", type=int, default=3, help="timed samples of each side")
    parser.add_argument(
        "--before", type=Path, help="a checkout of another revision: its hub measured beside"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-catchup-") as name:
        folder = Path(name)
        if args.one == args.many:
            # One log serves both (the quick run): its three servers start once.
            one, many = _case(folder, args.one, [1, args.clients], args.repeat, args.before)
        else:
            (one,) = _case(folder, args.one, [1], args.repeat, args.before)
            (many,) = _case(folder, args.many, [args.clients], args.repeat, args.before)
    return {
        "bench": "catchup",
        "repeat": args.repeat,
        "figures": [
            figure(f"catch-up of {args.one} events, 1 client", "s", one, "warroom"),
            figure(
                f"catch-up of {args.many} events, {args.clients} clients at once",
                "s",
                many,
                "warroom",
            ),
        ],
    }


if __name__ == "__main__":
    main(run, QUICK)
