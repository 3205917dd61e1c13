"""How fast the war room commits commands, beside how fast raw sqlite3 inserts the same rows.

Three measurements on fresh SQLite files in one temporary folder, in one run:

1. warroom: the real write path. A `Store` and a started `Sequencer`; N `AddNote` commands
   are all submitted from asyncio at once (all in flight), then awaited. Timed from the first
   submit to the last ack; each command's latency runs from its submit to its result. The
   garbage collector runs as `warroom serve` runs it (`server.app.spare_the_collector`, and
   what is alive before the sequencer starts frozen out of its passes).
2. raw sqlite3: the stdlib driver on a file in WAL with synchronous=FULL, tables created with
   the store's own schema, inserting the very rows the first run committed (events and
   commands), one transaction per group of the sequencer's typical group size.

3. the store alone: `EventLog.append` on the same rows in the same batches, to tell the
   persistence layer's overhead from the rest of the write path.
4. hub: the whole hub, `warroom serve --port 0` (a process of its own) on a fresh store: the
   same N notes submitted over websockets by this process (encoded beforehand; at most
   `PER_WRITER` per connection, so no connection meets the submit rate limit), all in flight,
   timed from the first submit to the last ack.
5. bare acks: the same clients and frames against a bare `websockets` server that only reads each
   submit (`json.loads`) and acks it (`bench._bare --acks`): no decision, no store, no commit.
   What the stack alone costs a command acknowledged over a websocket: the ceiling of the hub's
   figure on this machine, whatever warroom does.

`ratio` is warroom_commands_per_s / raw_sqlite3_rows_per_s (1.0: no overhead over raw inserts).

For each number of incidents the notes go to (`--incidents`, one and ten by default), one
untimed warroom run gives the rows and the group size the other two reuse; then `--repeat`
rounds run the four on fresh files, the order reversed every other round. The round of median
warroom throughput gives the detail, and every round's throughputs are listed under `rounds`.
Figures, per incident count: warroom's commands/s beside raw sqlite3's and the store's rows/s,
and the hub's beside raw sqlite3's and the bare acks'.

With `--before PATH` (a checkout of another revision), its hub takes the same notes too, in the
same rounds (`before`, beside the hub's figure).

Run: `python -m bench.store [--quick] [--commands N] [--incidents 1,10] [--batch B] [--repeat R]
[--before PATH]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy

from bench import _bare
from bench._kit import alternate, dial, figure, main, percentile, serve
from server.app import spare_the_collector
from server.sequencer import MAX_BATCH, Accepted, Committed, Sequencer
from warroom.core.commands import AddNote, DeclareIncident
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.protocol import load_event
from warroom.store import Pending, Store, open_engine

DEFAULT_COMMANDS = 20_000
DEFAULT_INCIDENTS = (1, 10)
"""Notes go to one incident, then are spread over ten."""
QUICK = ("--commands", "200", "--repeat", "1")
PER_WRITER = 1000
"""Notes one hub connection submits (its burst allowance is 2,000)."""

MANAGER = Actor("bench", Role.INCIDENT_MANAGER)
NOTE = (
    "checked pod {n}: still 502s from the payments gateway after the rollback; "
    "logs attached to the ticket"
)


@contextlib.contextmanager
def _collected_as_served() -> Iterator[None]:
    """Within the block, the garbage collector as `warroom serve` sets it: what is alive now
    frozen out of its passes, the youngest generation collected every `YOUNG_THRESHOLD`
    allocations."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    spare_the_collector()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def _warroom(path: Path, commands: int, incidents: int) -> dict[str, Any]:
    """Commit `commands` notes through the sequencer, as the hub runs it; time them."""
    with _collected_as_served():
        return await _sequenced(path, commands, incidents)


async def _sequenced(path: Path, commands: int, incidents: int) -> dict[str, Any]:
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


async def _through_hub(url: str, commands: int, incidents: int, token: str) -> float:
    """Submit `commands` notes over websockets, all in flight; commands/s to the last ack."""
    writers = [await dial(url, token) for _ in range(math.ceil(commands / PER_WRITER))]
    try:

        def submit(ident: str, command: dict[str, Any]) -> str:
            return json.dumps({"v": 1, "type": "submit", "id": ident, "command": command})

        async def acked(connection: Any, count: int) -> None:
            while count:
                frame = json.loads(await connection.recv())
                if frame["type"] == "ack":
                    count -= 1
                elif frame["type"] in ("rejected", "error"):
                    raise RuntimeError(f"the hub refused a command: {frame}")

        for number in range(1, incidents + 1):
            declare = {"type": "incident.declare", "title": f"bench {number}", "severity": "SEV2"}
            await writers[0].send(submit(f"declare-{number}", declare))
            await acked(writers[0], 1)
        frames = [
            submit(
                f"note-{i}",
                {
                    "type": "note.add",
                    "incident": f"INC-{i % incidents + 1}",
                    "text": NOTE.format(n=i),
                },
            )
            for i in range(commands)
        ]
        shares = [frames[start : start + PER_WRITER] for start in range(0, commands, PER_WRITER)]

        async def write(connection: Any, share: list[str]) -> None:
            for frame in share:
                await connection.send(frame)

        started = time.perf_counter()
        await asyncio.gather(
            *(write(c, share) for c, share in zip(writers, shares, strict=True)),
            *(acked(c, len(share)) for c, share in zip(writers, shares, strict=True)),
        )
        return commands / (time.perf_counter() - started)
    finally:
        for connection in writers:
            await connection.close()


def _hub(folder: Path, commands: int, incidents: int, tree: Path | None = None) -> float:
    """A fresh `warroom serve` taking the notes over websockets (with `tree`, the hub of that
    checkout); its commands/s."""
    db = folder / "hub.db"
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        token = store.users.add(MANAGER.name, MANAGER.role)
    finally:
        store.close()
    server = serve(db, folder / "hub.log", tree)
    try:
        return asyncio.run(_through_hub(server.url, commands, incidents, token))
    finally:
        server.close()


def _bare_acks(folder: Path, commands: int, incidents: int) -> float:
    """A bare `websockets` server that only acks each submit; the same notes' commands/s."""
    server = _bare.start(folder / "bare.log", "--acks")
    try:
        return asyncio.run(_through_hub(server.url, commands, incidents, token="bare"))
    finally:
        server.close()


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
        "--incidents",
        default=",".join(map(str, DEFAULT_INCIDENTS)),
        help="comma-separated numbers of incidents the notes go to",
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
    parser.add_argument(
        "--before", type=Path, help="a checkout of another revision: its hub measured beside"
    )
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.incidents.split(",")]
    if min(args.commands, args.repeat, *counts) < 1 or args.batch < 0:
        parser.error("--commands, --incidents and --repeat must be positive, --batch not negative")
    by_incidents = {
        str(incidents): _incidents(args.commands, incidents, args.batch, args.repeat, args.before)
        for incidents in counts
    }
    return {
        "bench": "store",
        "commands": args.commands,
        "figures": [one for result in by_incidents.values() for one in result.pop("figures")],
        "by_incidents": by_incidents,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
    }


def _incidents(
    commands: int, incidents: int, batch: int, repeat: int, before: Path | None = None
) -> dict[str, Any]:
    """The sides, `repeat` rounds, for notes spread over `incidents` (with `before`, the hub
    of that checkout beside this one's)."""
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as name:
        folder = Path(name)
        files = iter(range(1_000_000))
        warm = folder / "warm.db"
        first = asyncio.run(_warroom(warm, commands, incidents))
        schema, events, rows = _committed_rows(warm, skip=incidents)
        if len(events) != commands or len(rows) != commands:
            raise RuntimeError(f"the store holds {len(events)} notes, not {commands}")
        batch = batch or int(statistics.median(first["groups"]))
        runs: list[dict[str, Any]] = []

        def warroom() -> float:
            runs.append(asyncio.run(_warroom(folder / f"w{next(files)}.db", commands, incidents)))
            return float(runs[-1]["commands_per_s"])

        def raw() -> float:
            path = folder / f"r{next(files)}.db"
            return float(_raw_sqlite3(path, schema, events, rows, batch)["rows_per_s"])

        def store() -> float:
            path = folder / f"s{next(files)}.db"
            return float(_store_only(path, events, rows, batch)["rows_per_s"])

        def hub() -> float:
            place = folder / f"h{next(files)}"
            place.mkdir()
            return _hub(place, commands, incidents)

        def bare_acks() -> float:
            place = folder / f"b{next(files)}"
            place.mkdir()
            return _bare_acks(place, commands, incidents)

        def hub_before() -> float:
            place = folder / f"o{next(files)}"
            place.mkdir()
            return _hub(place, commands, incidents, before)

        sides = {
            "warroom": warroom,
            "raw_sqlite3": raw,
            "store_append": store,
            "hub": hub,
            "bare_acks": bare_acks,
            **({"before": hub_before} if before is not None else {}),
        }
        samples = alternate(sides, repeat)
        through = {
            "hub": samples.pop("hub"),
            "raw_sqlite3": samples["raw_sqlite3"],
            "bare_acks": samples.pop("bare_acks"),
            **({"before": samples.pop("before")} if before is not None else {}),
        }
    # The round of median warroom throughput stands for the run (the machine may be noisy).
    middle = sorted(runs, key=lambda r: float(r["commands_per_s"]))[len(runs) // 2]
    groups: list[int] = middle["groups"]
    latencies_ms = [seconds * 1000 for seconds in middle["latencies"]]
    rate = statistics.median(samples["warroom"])
    raw_rate = statistics.median(samples["raw_sqlite3"])
    store_rate = statistics.median(samples["store_append"])
    to = f"notes to {incidents} incident" + ("s" if incidents > 1 else "")
    return {
        "figures": [
            figure(f"durable commands/s, {to}", "commands/s", samples, "warroom", better="higher"),
            figure(
                f"durable commands/s through the hub, {to}",
                "commands/s",
                through,
                "hub",
                better="higher",
            ),
        ],
        "hub_commands_per_s": round(statistics.median(through["hub"]), 1),
        "bare_acks_commands_per_s": round(statistics.median(through["bare_acks"]), 1),
        "bare_acks_is": "a bare websockets server that only reads and acks the same frames (no "
        "decision, no store): the most commands/s the stack lets a hub acknowledge here",
        "incidents": incidents,
        "warroom_commands_per_s": round(rate, 1),
        "raw_sqlite3_rows_per_s": round(raw_rate, 1),
        "ratio": round(rate / raw_rate, 4),
        "ratio_is": "warroom_commands_per_s / raw_sqlite3_rows_per_s",
        "store_append_rows_per_s": round(store_rate, 1),
        "store_append_ratio": round(store_rate / raw_rate, 4),
        "store_append_is": "EventLog.append alone on the same rows and batches (the store's "
        "own overhead over raw sqlite3; the rest of the write path is decide, encode, apply "
        "and the hand-over to the event loop)",
        "ack_latency_ms": {
            "p50": round(percentile(latencies_ms, 0.50), 2),
            "p99": round(percentile(latencies_ms, 0.99), 2),
            "max": round(max(latencies_ms), 2),
        },
        "in_flight": commands,
        "warroom_elapsed_s": round(middle["elapsed_s"], 3),
        "sequencer_groups": {
            "count": len(groups),
            "median": statistics.median(groups),
            "mean": round(statistics.fmean(groups), 1),
            "max": max(groups),
            "limit": MAX_BATCH,
        },
        "raw_sqlite3_batch": batch,
        "rounds": [
            {side: round(taken[index], 1) for side, taken in (samples | through).items()}
            for index in range(repeat)
        ],
    }


if __name__ == "__main__":
    main(run, QUICK)
