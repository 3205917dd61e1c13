"""What folding an event costs as one incident grows, beside reading and decoding its rows raw.

For each size N (`--sizes`, 1,000, 10,000 and 100,000 by default) a SQLite store in a temporary
folder is written with `EventLog.append` (as `bench.read` does): INC-1 declared, then N notes to
it, one in four to all, the rest internal. Then, all CPU time of this process
(`time.process_time`), medians of `--repeat` runs:

- whole_log: side by side, alternated (the baseline first in odd runs, second in even ones):
  - baseline: the stdlib `sqlite3` reading the rows' `data` in seq order and `json.loads` of
    each: the least any restart has to do;
  - fold: `replay` of the N + 1 events, decoded beforehand (the fold alone);
  - restart: what a hub's restart did with them before snapshots: `EventLog.read` (the rows
    read and decoded) and `replay`.
- resume (after those, beside the same baseline): a hub's restart from the snapshot it leaves
  of the incident at the head (`server.snapshots.restore`: the snapshot read and decoded, no
  event after it to fold).
  `fold_ratio` and `restart_ratio` are those times over the baseline's.
- per_event: from the incident folded with N notes, `--events` more events applied one after
  the other (each run from the same world), in µs of CPU per event:
  - note: a note added (N + 1, N + 2 ...);
  - pin: a note already held pinned (one spread over the N, in turn), an entry changed in place;
  - pin_view: the same on a stakeholder's view of the incident, which holds only the notes to
    all, so that note n no longer sits at place n;
  - snapshot: writing the incident's snapshot once those events were folded since the last was
    written, as the hub's snapshot thread does (`Encoder.encode` and `Snapshots.save`: only the
    pages with a new entry), over the number of events: what snapshots add to each event;
  - snapshot_whole: the same with every page encoded and written again, as a snapshot was
    written when it was one text (the baseline of the `snapshot written` figure).

The goal is a per-event cost that does not grow with N, and a fold of the whole log within a
small factor of the baseline. Figures, per size: the restart and the fold beside the baseline.

Run: `python -m bench.fold [--quick] [--sizes 1000,10000,100000] [--events M] [--repeat R]`;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench._kit import cpu, figure, main
from bench.read import INCIDENT, MANAGER, NOTE, _fill
from server.snapshots import restore
from warroom.core import events as e
from warroom.core import snapshots
from warroom.core.domain import IncidentState, Severity, World
from warroom.core.reducer import apply, replay
from warroom.store import EventLog, Snapshot, Store, open_engine

QUICK = ("--sizes", "1000", "--events", "200", "--repeat", "1")
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SIZES = (1_000, 10_000, 100_000)
AUDIENCES = ("all", "internal", "internal", "internal")
"""Note n goes to `AUDIENCES[n % 4]`: a stakeholder's view holds one note in four."""


def _note(number: int) -> e.NoteAdded:
    at = T0 + timedelta(seconds=number)
    return e.NoteAdded(
        incident=INCIDENT,
        actor=MANAGER,
        at=at,
        note=number,
        text=NOTE.format(n=number),
        occurred_at=at,
        audience=AUDIENCES[number % len(AUDIENCES)],
    )


def _log(notes: int) -> Iterator[tuple[int, e.Event]]:
    """(seq, event) of INC-1's declaration and its `notes` notes."""
    yield (
        1,
        e.IncidentDeclared(
            incident=INCIDENT,
            actor=MANAGER,
            at=T0,
            title="bench incident",
            severity=Severity.SEV2,
            apps=("checkout",),
            manager=MANAGER,
        ),
    )
    for number in range(1, notes + 1):
        yield number + 1, _note(number)


def _raw(db: Path) -> int:
    """The baseline: every row's data read with the stdlib driver and decoded as JSON."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT data FROM events ORDER BY seq")
        return len([json.loads(data) for (data,) in rows])
    finally:
        connection.close()


def _whole_log(
    db: Path, log: EventLog, events: Sequence[e.Event], repeat: int
) -> tuple[dict[str, Any], World]:
    """Time the baseline, the fold and the restart, alternated; the world the fold made."""
    baseline: list[float] = []
    fold: list[float] = []
    restart: list[float] = []
    folded: list[World] = []

    def folding() -> None:
        folded.append(replay(events))

    def restarting() -> None:
        replay(item.event for item in log.read())

    for run in range(repeat):
        if run % 2 == 0:
            baseline.append(cpu(lambda: _raw(db)))
        fold.append(cpu(folding))
        restart.append(cpu(restarting))
        if run % 2 == 1:
            baseline.append(cpu(lambda: _raw(db)))
    base = statistics.median(baseline)
    result = {
        "baseline_s": round(base, 4),
        "fold_s": round(statistics.median(fold), 4),
        "restart_s": round(statistics.median(restart), 4),
        "fold_ratio": round(statistics.median(fold) / base, 1),
        "restart_ratio": round(statistics.median(restart) / base, 1),
        "samples": {"restart": restart, "fold": fold, "raw": baseline},
    }
    return result, folded[-1]


def _per_event(world: World, events: Sequence[e.Event], repeat: int) -> float:
    """Median µs of CPU per event of folding `events` into `world`, one after the other."""

    def fold() -> None:
        state = world
        for event in events:
            state = apply(state, event)

    return round(statistics.median(cpu(fold) for _ in range(repeat)) / len(events) * 1e6, 2)


def _snapshot(
    store: Store, seq: int, world: World, added: Sequence[e.Event], repeat: int, whole: bool
) -> list[float]:
    """CPU seconds per event, each run, of writing INC-1's snapshot once `added` were folded
    after the last one was written of `world`, as the hub's snapshot thread writes it (encoded
    and saved at `seq`); `whole`: every page encoded again, as when each snapshot was one text."""
    after = world
    for event in added:
        after = apply(after, event)
    log_id = store.log_identity()

    def write(encoder: snapshots.Encoder, state: IncidentState) -> None:
        written = encoder.encode(state)
        snapshot = Snapshot(INCIDENT, seq, written.state, written.pages)
        store.snapshots.save(snapshot, log=log_id, format=snapshots.FORMAT, names=written.names)

    samples = []
    for _ in range(repeat):
        encoder = snapshots.Encoder()
        write(encoder, world.incidents[INCIDENT])  # the last snapshot, untimed
        if whole:
            encoder = snapshots.Encoder()
        samples.append(cpu(partial(write, encoder, after.incidents[INCIDENT])) / len(added))
    return samples


def _pins(notes: int, count: int, held: Callable[[int], bool]) -> list[e.Event]:
    """`count` pins of notes spread over the `notes` (only those `held`), pinned then not."""
    numbers = [n for n in range(1, notes + 1) if held(n)]
    step = max(1, len(numbers) // count)
    chosen = (numbers[(i * step) % len(numbers)] for i in range(count))
    at = T0 + timedelta(seconds=notes + 1)
    return [
        e.NotePinned(incident=INCIDENT, actor=MANAGER, at=at, note=n, pinned=i % 2 == 0)
        for i, n in enumerate(chosen)
    ]


def _size(folder: Path, notes: int, count: int, repeat: int) -> dict[str, Any]:
    db = folder / f"fold-{notes}.db"
    store = Store(open_engine(f"sqlite:///{db}"))
    numbered = list(_log(notes))
    _fill(store.log, iter(numbered), 10_000)
    events = [event for _, event in numbered]
    whole, world = _whole_log(db, store.log, events, repeat)
    # The restart of a hub from the snapshot it leaves of the incident at the head.
    log_id = store.log_identity()
    written = snapshots.encode(world.incidents[INCIDENT])
    store.snapshots.save(
        Snapshot(INCIDENT, len(events), written.state, written.pages),
        log=log_id,
        format=snapshots.FORMAT,
        names=written.names,
    )
    resumed = [cpu(lambda: restore(store, log_id)) for _ in range(repeat)]
    whole["resume_s"] = round(statistics.median(resumed), 4)
    whole["resume_ratio"] = round(statistics.median(resumed) / whole["baseline_s"], 2)
    whole["samples"]["resume"] = resumed
    store.close()

    def to_all(number: int) -> bool:
        return AUDIENCES[number % len(AUDIENCES)] == "all"

    # A stakeholder's view: what the hub sends them of this log (the notes to all).
    view = replay(
        event for event in events if not isinstance(event, e.NoteAdded) or to_all(event.note)
    )
    added = [_note(number) for number in range(notes + 1, notes + count + 1)]
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        rewritten = {
            side: _snapshot(store, len(events), world, added, repeat, side == "whole")
            for side in ("paged", "whole")
        }
    finally:
        store.close()
    return {
        "notes": notes,
        "events": len(events),
        "whole_log": whole,
        "per_event_us": {
            "note": _per_event(world, added, repeat),
            "pin": _per_event(world, _pins(notes, count, lambda _: True), repeat),
            "pin_view": _per_event(view, _pins(notes, count, to_all), repeat),
            "snapshot": round(statistics.median(rewritten["paged"]) * 1e6, 2),
            "snapshot_whole": round(statistics.median(rewritten["whole"]) * 1e6, 2),
        },
        "snapshot_samples": rewritten,
    }


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.fold")
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in SIZES),
        help="comma-separated numbers of notes the incident holds",
    )
    parser.add_argument("--events", type=int, default=1_000, help="events timed per size")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each measure")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="warroom-bench-fold-") as folder:
        results = [_size(Path(folder), notes, args.events, args.repeat) for notes in sizes]
    figures = []
    for size in results:
        samples = size["whole_log"].pop("samples")
        for side in ("restart", "fold", "resume"):
            figures.append(
                figure(
                    f"{side} of one incident of {size['notes']} notes (CPU)",
                    "s",
                    {side: samples[side], "raw": samples["raw"]},
                    side,
                )
            )
    for size in results:
        per_event = {
            side: [seconds * 1e6 for seconds in samples]
            for side, samples in size.pop("snapshot_samples").items()
        }
        figures.append(
            figure(
                f"snapshot written after {args.events} events, {size['notes']} notes (CPU/event)",
                "µs",
                per_event,
                "paged",
            )
        )
    return {
        "bench": "fold",
        "python": platform.python_version(),
        "clock": "process_time",
        "repeat": args.repeat,
        "figures": figures,
        "sizes": results,
    }


if __name__ == "__main__":
    main(run, QUICK)
