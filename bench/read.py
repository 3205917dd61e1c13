"""What `warroom show INC` costs when it folds the whole log, beside reading the one incident.

A SQLite store in a temporary folder is written directly with `EventLog.append`, in batches of
`--batch` events: INC-1 ... INC-K declared, then notes spread over them. The incident shown,
INC-1, holds `--incident-events` events interleaved with the others'. A real hub
(`warroom serve --port 0`, a subprocess) serves it; this process is the client, as the incident
manager. Side by side, alternated, `--repeat` times each after one untimed run of each:

- whole_log: `show` as it was: hello from 0, every event the user may see received and decoded,
  the whole log folded with `replay`, the incident's page rendered and printed;
- one_incident: `show` as it is, `warroom.cli.main(["show", INC, ...])` in this process (output to
  a buffer): a `read` of that incident alone, folded, rendered and printed.

Both are timed from the start of the call to the last line printed; the interpreter's start is
not in either (`cli_process_s` times the whole `warroom show INC` process for the new way, beside
`warroom --help` for the interpreter and imports alone). Both ways must print the same JSON for
the incident (`same_output`).

Then the store grows: the same run is made with half of `--events` in the log, then with all of
them; only the other incidents grow in between (INC-1 is the same), so `growth` shows what the
other incidents' size costs each way.

Figure: `show` of the one incident beside the whole log's, at the larger log.

Run: `python -m bench.read [--quick] [--events N] [--incidents K] [--incident-events M]
[--repeat R]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._kit import figure, main, serve, summary, wall, warroom_command
from warroom import cli
from warroom.core import events as e
from warroom.core import json_forms, protocol
from warroom.core.domain import Actor, Role, Severity
from warroom.core.policy import visible_part
from warroom.core.reducer import replay
from warroom.core.views import incident_page
from warroom.net.remote import Remote
from warroom.store import EventLog, Pending, Store, open_engine

INCIDENT = "INC-1"
MANAGER = "bench"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NOTE = (
    "checked pod {n}: still 502s from the payments gateway after the rollback; "
    "logs attached to the ticket"
)
AUDIENCES = ("internal", "internal", "all", "exec")
QUICK = ("--events", "500", "--incidents", "10", "--incident-events", "50", "--repeat", "1")


# The store ----------------------------------------------------------------------------------------


def _events(
    first_seq: int, count: int, incidents: int, ours: int, notes: list[int]
) -> Iterator[tuple[int, e.Event]]:
    """`count` events numbered from `first_seq`: at seq 1 to K the K declarations, then notes
    spread over the incidents, of which `ours` go to INC-1, evenly. `notes` counts each
    incident's notes so far (it is updated)."""
    declarations = max(0, min(count, incidents - first_seq + 1))
    stride = (count - declarations) // ours if ours else 0
    for offset in range(count):
        seq = first_seq + offset
        at = T0 + timedelta(seconds=seq)
        if seq <= incidents:
            yield (
                seq,
                e.IncidentDeclared(
                    incident=f"INC-{seq}",
                    actor=MANAGER,
                    at=at,
                    title=f"bench incident {seq}",
                    severity=Severity.SEV2,
                    apps=("checkout",),
                    manager=MANAGER,
                ),
            )
            continue
        index = offset - declarations
        if stride and index % stride == 0 and index // stride < ours:
            number = 1
        else:
            number = 2 + index % (incidents - 1)
        notes[number] += 1
        yield (
            seq,
            e.NoteAdded(
                incident=f"INC-{number}",
                actor=MANAGER,
                at=at,
                note=notes[number],
                text=NOTE.format(n=seq),
                occurred_at=at,
                audience=AUDIENCES[seq % len(AUDIENCES)],
            ),
        )


def _fill(store: EventLog, numbered: Iterator[tuple[int, e.Event]], batch: int) -> None:
    """Append the events in batches of `batch` rows: one transaction each."""
    chunk: list[tuple[int, e.Event, str]] = []
    for seq, event in numbered:
        chunk.append((seq, event, protocol.event_json(event)))
        if len(chunk) == batch:
            store.append([Pending(MANAGER, f"bench-{seq}", chunk)])
            chunk = []
    if chunk:
        store.append([Pending(MANAGER, f"bench-{chunk[-1][0]}", chunk)])


def _counts(db: Path) -> dict[str, int]:
    connection = sqlite3.connect(db)
    try:
        total, ours = connection.execute(
            "SELECT count(*), sum(incident = ?) FROM events", (INCIDENT,)
        ).fetchone()
    finally:
        connection.close()
    return {"events": int(total), "incident_events": int(ours), "other_events": total - ours}


# The two ways -------------------------------------------------------------------------------------


async def _whole_log(url: str, token: str, incident_id: str) -> tuple[list[str], dict[str, Any]]:
    """`show` as it was: the whole log received and folded; its lines and the incident's JSON."""
    async with await Remote.open(url, token) as remote:
        log = await remote.sync(0)
        welcome = remote.welcome
    assert welcome is not None
    me = Actor(welcome.user, Role(welcome.role), frozenset(welcome.groups))
    world = replay(item.event for item in log)
    incident = world.incident(incident_id)
    assert incident is not None
    incident = visible_part(incident, me)
    lines = list(incident_page(incident, log, datetime.now(UTC)))
    return lines, {"incident": json_forms.incident_data(incident)}


def _old_show(url: str, token: str) -> str:
    lines, _ = asyncio.run(_whole_log(url, token, INCIDENT))
    out = io.StringIO()
    for line in lines:
        print(line, file=out)
    return out.getvalue()


def _new_show(url: str, token: str, *extra: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["show", INCIDENT, "--url", url, "--token", token, *extra])
    if code != 0:
        raise RuntimeError(f"warroom show {INCIDENT} exited {code}")
    return out.getvalue()


def _process(argv: Sequence[str], repeat: int) -> list[float]:
    """Wall times of a whole `warroom` process, interpreter start included."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def _measure(db: Path, token: str, repeat: int, log: Path, processes: bool) -> dict[str, Any]:
    """Both ways against a fresh hub on `db`."""
    server = serve(db, log)
    try:
        url = server.url
        _old_show(url, token)  # untimed: first connection, imports, caches
        _new_show(url, token)
        old: list[float] = []
        new: list[float] = []
        for round_ in range(repeat):
            if round_ % 2 == 0:
                old.append(wall(lambda: _old_show(url, token)))
            new.append(wall(lambda: _new_show(url, token)))
            if round_ % 2 == 1:
                old.append(wall(lambda: _old_show(url, token)))
        _, whole = asyncio.run(_whole_log(url, token, INCIDENT))
        same = json.loads(_new_show(url, token, "--json")) == whole
        result: dict[str, Any] = {
            **_counts(db),
            "hub_start_s": round(server.start_s, 2),
            "whole_log_s": summary(old),
            "one_incident_s": summary(new),
            "speedup_median": round(statistics.median(old) / statistics.median(new), 1),
            "one_incident": new,
            "whole_log": old,
            "same_output": same,
        }
        if processes:
            show = [*warroom_command(), "show", INCIDENT, "--url", url, "--token", token]
            result["cli_process_s"] = summary(_process(show, repeat))
            result["cli_help_process_s"] = summary(_process([*warroom_command(), "--help"], repeat))
        return result
    finally:
        server.close()


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Build the stores, run both ways at both sizes, and return the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.read", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=100_000, help="events in the larger log")
    parser.add_argument("--incidents", type=int, default=200, help="incidents in the log")
    parser.add_argument(
        "--incident-events", type=int, default=500, help="events of the incident shown"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each way per size")
    parser.add_argument("--batch", type=int, default=10_000, help="events per append")
    args = parser.parse_args(argv)
    half = args.events // 2
    if args.incidents < 2 or args.repeat < 1 or args.incident_events < 1:
        parser.error("--incidents must be at least 2, --repeat and --incident-events positive")
    if half < args.incidents + args.incident_events:
        parser.error("--events is too small for that many incidents and incident events")

    with tempfile.TemporaryDirectory(prefix="warroom-bench-read-") as folder:
        db = Path(folder) / "read.db"
        store = Store(open_engine(f"sqlite:///{db}"))
        notes = [0] * (args.incidents + 1)
        ours = args.incident_events - 1  # its notes; the declaration is the other event
        try:
            token = store.users.add(MANAGER, Role.INCIDENT_MANAGER)
            started = time.perf_counter()
            _fill(store.log, _events(1, half, args.incidents, ours, notes), args.batch)
            build_half = time.perf_counter() - started
        finally:
            store.close()
        smaller = _measure(db, token, args.repeat, Path(folder) / "hub-1.log", processes=False)
        store = Store(open_engine(f"sqlite:///{db}"))
        try:
            started = time.perf_counter()
            # Only the other incidents grow: INC-1 takes no part in the second half.
            more = _events(half + 1, args.events - half, args.incidents, 0, notes)
            _fill(store.log, more, args.batch)
            build_rest = time.perf_counter() - started
        finally:
            store.close()
        larger = _measure(db, token, args.repeat, Path(folder) / "hub-2.log", processes=True)

    def ratio(way: str) -> float:
        return round(float(larger[way]["median"]) / float(smaller[way]["median"]), 2)

    pair = {"one_incident": larger.pop("one_incident"), "whole_log": larger.pop("whole_log")}
    del smaller["one_incident"], smaller["whole_log"]
    name = f"warroom show of one incident, {larger['events']} events in the log"
    return {
        "bench": "read",
        "figures": [figure(name, "s", pair, "one_incident")],
        "incident": INCIDENT,
        "incidents": args.incidents,
        "repeat": args.repeat,
        "build_s": round(build_half + build_rest, 2),
        "larger": larger,
        "smaller": smaller,
        "growth": {
            "other_events": [smaller["other_events"], larger["other_events"]],
            "whole_log_median_ratio": ratio("whole_log_s"),
            "one_incident_median_ratio": ratio("one_incident_s"),
            "is": "median at the larger log / median at the smaller log; INC-1 is the same",
        },
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main(run, QUICK)
