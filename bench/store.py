"""How fast the war room commits commands, beside how fast raw sqlite3 inserts the same rows.

Three measurements on fresh SQLite files in one temporary folder, in one run:

1. warroom: the real write path. A `Store` and a started `Sequencer`; N `AddNote` commands
   are all submitted from asyncio at once (all in flight), then awaited. Timed from the first
   submit to the last ack; each command's latency runs from its submit to its result.
2. raw sqlite3: the stdlib driver on a file in WAL with synchronous=FULL, tables created with
   the store's own schema, inserting the very rows the first run committed (events and
   commands), one transaction per group of the sequencer's typical group size.

3. the store alone: `EventLog.append` on the same rows in the same batches, to tell the
   persistence layer's overhead from the rest of the write path.

`ratio` is warroom_commands_per_s / raw_sqlite3_rows_per_s (1.0: no overhead over raw inserts).

Each round does both on fresh files; the round of median warroom throughput is reported, and
every round's two throughputs are listed under `rounds`.

Run: `python -m bench.store [--commands N] [--incidents K] [--batch B] [--repeat R]`; prints one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy

from server.sequencer import MAX_BATCH, Accepted, Committed, Sequencer
from warroom.core.commands import AddNote, DeclareIncident
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.protocol import load_event
from warroom.store import Pending, Store, open_engine

DEFAULT_COMMANDS = 20_000
DEFAULT_INCIDENTS = 10
"""Notes are spread over this many incidents (one incident's notes are copied on every fold)."""

MANAGER = Actor("bench", Role.INCIDENT_MANAGER)
NOTE = (
    "checked pod {n}: still 502s from the payments gateway after the rollback; "
    "logs attached to the ticket"
)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _warroom(path: Path, commands: int, incidents: int) -> dict[str, Any]:
    """Commit `commands` notes through the sequencer; time them."""
    store = Store(open_engine(f"sqlite:///{path}"))
    groups: list[int] = []

    def publish(committed: Sequence[Committed], world: World) -> None:
        groups.append(len(committed))

    store.users.add(MANAGER.name, MANAGER.role)  # the sequencer acts only for known users
    sequencer = Sequencer(store.log, store.users, World(), 0, publish)
    sequencer.start()
    try:
        for number in range(1, incidents + 1):
            declared = await sequencer.submit(
                MANAGER,
                f"declare-{number}",
                DeclareIncident(title=f"bench {number}", severity=Severity.SEV2),
            )
            if not isinstance(declared, Accepted):
                raise RuntimeError(f"declaring an incident was refused: {declared}")
        groups.clear()
        notes = [
            AddNote(incident=f"INC-{i % incidents + 1}", text=NOTE.format(n=i))
            for i in range(commands)
        ]
        ids = [f"note-{i}" for i in range(commands)]
        latencies = [0.0] * commands
        clock = time.perf_counter

        def record(index: int, submitted: float) -> Any:
            return lambda _future: latencies.__setitem__(index, clock() - submitted)

        started = clock()
        futures = []
        for index, note in enumerate(notes):
            submitted = clock()
            future = sequencer.submit(MANAGER, ids[index], note)
            future.add_done_callback(record(index, submitted))
            futures.append(future)
        outcomes = await asyncio.gather(*futures)
        elapsed = clock() - started
    finally:
        await asyncio.to_thread(sequencer.stop)
        store.close()
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Accepted)]
    if refused:
        raise RuntimeError(f"{len(refused)} commands were refused, e.g. {refused[0]}")
    return {
        "elapsed_s": elapsed,
        "commands_per_s": commands / elapsed,
        "latencies": latencies,
        "groups": groups,
    }


def _committed_rows(
    path: Path, skip: int
) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The schema of the store's log tables and the rows of the notes (after `skip` events)."""
    connection = sqlite3.connect(path)
    try:
        schema = [
            sql
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name IN ('events', 'commands') "
                "AND sql IS NOT NULL AND type != 'trigger' ORDER BY type DESC"
            )
        ]
        events = connection.execute(
            "SELECT seq, incident, type, actor, at, data, hash FROM events WHERE seq > ?"
            " ORDER BY seq",
            (skip,),
        ).fetchall()
        commands = connection.execute(
            "SELECT actor, id, last_seq, digest FROM commands WHERE last_seq > ? ORDER BY last_seq",
            (skip,),
        ).fetchall()
    finally:
        connection.close()
    return schema, events, commands


def _raw_sqlite3(
    path: Path,
    schema: Sequence[str],
    events: Sequence[tuple[Any, ...]],
    commands: Sequence[tuple[Any, ...]],
    batch: int,
) -> dict[str, Any]:
    """Insert the rows with the stdlib driver, one transaction per `batch` commands; time it."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        for statement in schema:
            connection.execute(statement)
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO events (seq, incident, type, actor, at, data, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                events[start : start + batch],
            )
            connection.executemany(
                "INSERT INTO commands (actor, id, last_seq, digest) VALUES (?, ?, ?, ?)",
                commands[start : start + batch],
            )
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        count = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        if count != len(events):
            raise RuntimeError(f"raw sqlite3 inserted {count} rows, not {len(events)}")
    finally:
        connection.close()
    return {"elapsed_s": elapsed, "rows_per_s": len(events) / elapsed}


def _store_only(
    path: Path,
    events: Sequence[tuple[Any, ...]],
    commands: Sequence[tuple[Any, ...]],
    batch: int,
) -> dict[str, Any]:
    """Append the same rows through `EventLog.append` alone (no decide, no event loop)."""
    store = Store(open_engine(f"sqlite:///{path}"))
    try:
        # Numbered from 1: a fresh log chains its first event to nothing before it.
        pending = [
            Pending(actor, ident, [(number, load_event(event[5]), event[5])], digest)
            for number, (event, (actor, ident, _, digest)) in enumerate(
                zip(events, commands, strict=True), start=1
            )
        ]
        started = time.perf_counter()
        for start in range(0, len(pending), batch):
            store.log.append(pending[start : start + batch])
        elapsed = time.perf_counter() - started
        if store.log.head() != len(events):
            raise RuntimeError("the store did not take every row")
    finally:
        store.close()
    return {"elapsed_s": elapsed, "rows_per_s": len(events) / elapsed}


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.store", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--commands", type=int, default=DEFAULT_COMMANDS, help="notes to commit")
    parser.add_argument(
        "--incidents", type=int, default=DEFAULT_INCIDENTS, help="incidents the notes go to"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="rows per raw sqlite3 transaction (default: the sequencer's median group size)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds; the round of median throughput is reported"
    )
    args = parser.parse_args(argv)
    if min(args.commands, args.incidents, args.repeat) < 1 or args.batch < 0:
        parser.error("--commands, --incidents and --repeat must be positive, --batch not negative")

    rounds = [_round(args.commands, args.incidents, args.batch) for _ in range(args.repeat)]
    # The round of median warroom throughput stands for the run (the machine may be noisy).
    ranked = sorted(rounds, key=lambda r: r["warroom"]["commands_per_s"])
    middle = ranked[len(ranked) // 2]
    warroom, raw, batch = middle["warroom"], middle["raw"], middle["batch"]
    groups: list[int] = warroom["groups"]
    latencies_ms = [seconds * 1000 for seconds in warroom["latencies"]]
    return {
        "bench": "store",
        "commands": args.commands,
        "incidents": args.incidents,
        "warroom_commands_per_s": round(warroom["commands_per_s"], 1),
        "raw_sqlite3_rows_per_s": round(raw["rows_per_s"], 1),
        "ratio": round(warroom["commands_per_s"] / raw["rows_per_s"], 4),
        "ratio_is": "warroom_commands_per_s / raw_sqlite3_rows_per_s",
        "store_append_rows_per_s": round(middle["store"]["rows_per_s"], 1),
        "store_append_ratio": round(middle["store"]["rows_per_s"] / raw["rows_per_s"], 4),
        "store_append_is": "EventLog.append alone on the same rows and batches (the store's "
        "own overhead over raw sqlite3; the rest of the write path is decide, encode, apply "
        "and the hand-over to the event loop)",
        "ack_latency_ms": {
            "p50": round(_percentile(latencies_ms, 0.50), 2),
            "p99": round(_percentile(latencies_ms, 0.99), 2),
            "max": round(max(latencies_ms), 2),
        },
        "in_flight": args.commands,
        "warroom_elapsed_s": round(warroom["elapsed_s"], 3),
        "raw_sqlite3_elapsed_s": round(raw["elapsed_s"], 3),
        "sequencer_groups": {
            "count": len(groups),
            "median": statistics.median(groups),
            "mean": round(statistics.fmean(groups), 1),
            "max": max(groups),
            "limit": MAX_BATCH,
        },
        "raw_sqlite3_batch": batch,
        "repeat": args.repeat,
        "rounds": [
            {
                "warroom_commands_per_s": round(r["warroom"]["commands_per_s"], 1),
                "raw_sqlite3_rows_per_s": round(r["raw"]["rows_per_s"], 1),
            }
            for r in rounds
        ],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
    }


def _round(commands: int, incidents: int, batch: int) -> dict[str, Any]:
    """One warroom measurement and one raw sqlite3 measurement of the same rows."""
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as folder:
        warroom_db = Path(folder) / "warroom.db"
        warroom = asyncio.run(_warroom(warroom_db, commands, incidents))
        schema, events, rows = _committed_rows(warroom_db, skip=incidents)
        if len(events) != commands or len(rows) != commands:
            raise RuntimeError(f"the store holds {len(events)} notes, not {commands}")
        batch = batch or int(statistics.median(warroom["groups"]))
        raw = _raw_sqlite3(Path(folder) / "raw.db", schema, events, rows, batch)
        store = _store_only(Path(folder) / "store.db", events, rows, batch)
    return {"warroom": warroom, "raw": raw, "store": store, "batch": batch}


def main(argv: Sequence[str] | None = None) -> None:
    json.dump(run(argv), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
