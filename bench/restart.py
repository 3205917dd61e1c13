"""Restart: how long `warroom serve` takes from its start to serving a log of N events, beside a
process that only reads the same rows and decodes their JSON.

For each size (`--sizes`, 10,000 and 100,000 events by default) two SQLite stores are written
with `EventLog.append`: `one`, every event in INC-1 (declared, then notes), and `spread`, the
events spread over `--incidents` incidents (100). For each store, alternated, `--repeat` times
after one untimed run of each (none when `--repeat` is 1), every one a fresh process timed by
wall clock from its start:

- warroom: `warroom serve --port 0` until it prints that it serves (then it is stopped), on
  the store with the snapshots a hub writes: the store is served once, untimed, before any run
  (a hub snapshots an incident every 1,000 of its events, when it is resolved, and as it stops);
- refold: the same, with the snapshots deleted before each start: every incident folded from
  its first event, as a hub did before snapshots (and as the first start of an older log does);
- raw: `python -c` reading every row's `data` with the stdlib `sqlite3`, in seq order, and
  `json.loads` of each, until it exits: the least a restart has to do;
- empty_hub: `warroom serve` on a store with no event (its users only): what starting costs
  whatever the log holds (the interpreter, the imports, the listening socket).

Run: `python -m bench.restart [--quick] [--sizes 10000,100000] [--shapes one,spread]
[--incidents K] [--repeat R]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench._kit import alternate, figure, main, serve, wall
from bench.fold import _log
from bench.read import _events, _fill
from warroom.core.domain import Role
from warroom.core.events import Event
from warroom.store import Store, open_engine

QUICK = ("--sizes", "300", "--shapes", "one", "--repeat", "1")
SIZES = (10_000, 100_000)
RAW = (
    "import json, sqlite3, sys\n"
    "rows = sqlite3.connect(sys.argv[1]).execute('SELECT data FROM events ORDER BY seq')\n"
    "print(len([json.loads(data) for (data,) in rows]))\n"
)


def _store(db: Path, events: Iterator[tuple[int, Event]] | None) -> None:
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        store.users.add("bench", Role.INCIDENT_MANAGER)
        if events is not None:
            _fill(store.log, events, 10_000)
    finally:
        store.close()


def _hub(db: Path, log: Path, before: Callable[[], None] | None = None) -> Callable[[], float]:
    def started() -> float:
        if before is not None:
            before()
        server = serve(db, log)
        server.close()
        return server.start_s

    return started


def _forget_snapshots(db: Path) -> Callable[[], None]:
    def forget() -> None:
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM snapshots")
            connection.execute("DELETE FROM snapshot_pages")
        connection.close()

    return forget


def _raw(db: Path, events: int) -> Callable[[], float]:
    def read() -> None:
        done = subprocess.run(
            [sys.executable, "-c", RAW, str(db)], capture_output=True, text=True, check=True
        )
        if int(done.stdout) != events:
            raise RuntimeError(f"the raw read found {done.stdout.strip()} events, not {events}")

    return lambda: wall(read)


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.restart", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="events per store")
    parser.add_argument("--incidents", type=int, default=100, help="incidents of `spread`")
    parser.add_argument("--shapes", default="one,spread", help="`one`, `spread` or both")
    parser.add_argument("--repeat", type=int, default=3, help="timed starts of each side")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = []
    with tempfile.TemporaryDirectory(prefix="warroom-bench-restart-") as name:
        folder = Path(name)
        empty = folder / "empty.db"
        _store(empty, None)
        for size in sizes:
            for shape in args.shapes.split(","):
                db = folder / f"{shape}-{size}.db"
                if shape == "one":
                    events = _log(size - 1)
                else:
                    per = [0] * (args.incidents + 1)
                    events = _events(1, size, args.incidents, size // args.incidents, per)
                _store(db, events)
                _hub(db, folder / "hub.log")()  # the snapshots a hub leaves
                sides = {
                    "warroom": _hub(db, folder / "hub.log"),
                    "refold": _hub(db, folder / "hub.log", _forget_snapshots(db)),
                    "raw": _raw(db, size),
                    "empty_hub": _hub(empty, folder / "empty.log"),
                }
                samples = alternate(sides, args.repeat, warm_up=args.repeat > 1)
                where = "in one incident" if shape == "one" else f"over {args.incidents} incidents"
                figures.append(
                    figure(f"restart to serving, {size} events {where}", "s", samples, "warroom")
                )
    return {"bench": "restart", "repeat": args.repeat, "sizes": sizes, "figures": figures}


if __name__ == "__main__":
    main(run, QUICK)
