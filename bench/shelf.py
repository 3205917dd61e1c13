"""Shelf: the memory `warroom serve` holds of a log of resolved incidents, when it shelves them
(their headers alone in memory, the default) beside when it keeps every one whole.

One SQLite store holds `--incidents` incidents (100) of `--events` events each (1,000): each
declared, then notes to every audience, then resolved. It is served once, untimed, so that it
holds the snapshots a hub leaves (one per resolved incident). Then, alternated, `--repeat` times
(after one unmeasured round when `--repeat` is above 1), each a fresh process:

- shelved: `warroom serve` with the default `[memory] shelve_after`: a restart reads each
  resolved incident's snapshot and keeps its header;
- whole: the same with `shelve_after = "never"`: every incident's whole state in memory, as a
  hub did before the shelf;
- empty_hub: `warroom serve` on a store with no event (its users only): what any hub holds.

Each gives the hub's RSS (`/proc/PID/status`, VmRSS) once it prints that it serves, and the
time from its start to then.

Run: `python -m bench.shelf [--quick] [--incidents K] [--events N] [--repeat R]`; prints one
JSON object.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench._kit import SERVING, Listening, alternate, figure, main, mb, memory, warroom_command
from bench.read import AUDIENCES, MANAGER, NOTE, T0
from bench.restart import _store
from warroom.core import events as e
from warroom.core.domain import Severity, Status

QUICK = ("--incidents", "10", "--events", "100", "--repeat", "1")


def _resolved(incidents: int, events: int) -> Iterator[tuple[int, e.Event]]:
    """`incidents` incidents of `events` events each, one after the other: declared, noted to
    every audience in turn, resolved."""
    seq = 0
    for number in range(1, incidents + 1):
        incident = f"INC-{number}"
        for index in range(events):
            seq += 1
            at = T0 + timedelta(seconds=seq)
            if index == 0:
                yield seq, e.IncidentDeclared(
                    incident=incident, actor=MANAGER, at=at, title=f"bench incident {number}",
                    severity=Severity.SEV2, apps=("checkout",), manager=MANAGER,
                )  # fmt: skip
            elif index == events - 1:
                yield seq, e.StatusChanged(
                    incident=incident, actor=MANAGER, at=at, status=Status.RESOLVED,
                    previous=Status.INVESTIGATING,
                )  # fmt: skip
            else:
                yield seq, e.NoteAdded(
                    incident=incident, actor=MANAGER, at=at, note=index,
                    text=NOTE.format(n=seq), occurred_at=at,
                    audience=AUDIENCES[seq % len(AUDIENCES)],
                )  # fmt: skip


def _config(folder: Path, shelve_after: str) -> Path:
    path = folder / f"shelve-{shelve_after}.toml"
    path.write_text(f'[memory]\nshelve_after = "{shelve_after}"\n', encoding="utf-8")
    return path


def _hub(
    db: Path, config: Path, log: Path, taken: dict[str, list[float]], name: str
) -> Callable[[], float]:
    """A fresh hub on `db` with `config`: its RSS in MB once it serves (its start time kept in
    `taken`)."""

    def started() -> float:
        argv = [*warroom_command(), "serve", "--host", "127.0.0.1", "--port", "0"]
        server = Listening([*argv, "--db", str(db), "--config", str(config)], SERVING, log)
        try:
            rss, _ = memory(server.proc.pid)
        finally:
            server.close()
        taken.setdefault(name, []).append(server.start_s)
        return mb(rss)

    return started


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.shelf", description=__doc__)
    parser.add_argument("--incidents", type=int, default=100, help="resolved incidents")
    parser.add_argument("--events", type=int, default=1000, help="events of each incident")
    parser.add_argument("--repeat", type=int, default=3, help="measured starts of each side")
    args = parser.parse_args(argv)
    if args.events < 3:
        parser.error("--events must be at least 3: a declaration, a note and the resolution")
    with tempfile.TemporaryDirectory(prefix="warroom-bench-shelf-") as name:
        folder = Path(name)
        db, empty = folder / "resolved.db", folder / "empty.db"
        _store(db, _resolved(args.incidents, args.events))
        _store(empty, None)
        shelving, never = _config(folder, "10m"), _config(folder, "never")
        log = folder / "hub.log"
        _hub(db, never, log, {}, "")()  # the snapshots a hub leaves of each resolved incident
        starts: dict[str, list[float]] = {}
        sides = {
            "shelved": _hub(db, shelving, log, starts, "shelved"),
            "whole": _hub(db, never, log, starts, "whole"),
            "empty_hub": _hub(empty, shelving, log, starts, "empty_hub"),
        }
        rss = alternate(sides, args.repeat, warm_up=args.repeat > 1)
        if args.repeat > 1:  # the unmeasured round's start times
            starts = {side: times[1:] for side, times in starts.items()}
    where = f"{args.incidents} resolved incidents x {args.events} events"
    return {
        "bench": "shelf",
        "repeat": args.repeat,
        "incidents": args.incidents,
        "events": args.events,
        "figures": [
            figure(f"hub RSS after a restart, {where}", "MB", rss, "shelved"),
            figure(f"time to serving, {where}", "s", starts, "shelved"),
        ],
    }


if __name__ == "__main__":
    main(run, QUICK)
