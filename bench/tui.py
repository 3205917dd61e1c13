"""How fast the terminal client paints, renders a long timeline, and shows a live event.

Three measurements:

1. first paint: an embedded hub (`server.embedded.EmbeddedHub`) on a SQLite file in a temporary
   folder, seeded with the demo incident; `warroom join URL INC-2 --token T` is started in a
   detached 120x36 tmux pane (a private tmux server, as the end-to-end tests run clients:
   `tests.kit.tmux`) and timed from the spawn until `tmux capture-pane` shows the incident's
   title and "● online" (polled every 20 ms). The first frame (anything on screen) is timed too.
   Repeated; the median and every run are reported.
2. render: in-process, the pure core (`decide`/`apply`) plays N notes into one incident as
   `protocol.EventFrame`s; `WarRoomApp(...).run_test(size=(120, 36))` on that incident, with a
   fake connection, is handed Welcome + the frames + Synced in batches of 500 (as the real
   connection hands a replay over), and timed until the Timeline panel holds every entry (the
   declaration and the N notes) and a `pilot.pause()` has returned. The growth of the peak
   resident set size over that render is reported (VmHWM on Linux, else `ru_maxrss`).
3. event to panel: in the same kind of app, once synced, one note event is handed over every
   1/rate s (one frame at a time, as the real connection does once live) for the given seconds;
   each event's latency runs from the hand-over to the first moment a 1 ms poller on the app's
   loop sees the Timeline panel's row count include it. Measured on a small room
   (`event_to_panel_ms`) and on a room that already holds N entries (`event_to_panel_ms_10k`).
   Beside the percentiles: how late the pusher itself ran (the loop was busy), Python's gen-2
   garbage collections during the run, and what the run left alive after a full collection
   (objects and detached widgets per event, resident memory growth).

The app runs headless in (2) and (3): layout and rendering are included, the terminal write is
not. (2) and each run of (3) get a fresh interpreter (`--part`), so no run's memory or garbage
skews another, nor what `python -m bench` ran before; the quick run (`--same-process`) runs them
in its own, one after another, as a smoke test of the harness rather than a measurement.

With `--repeat R`, (2) runs R times and (3) R times on each room, the two rooms in turn, the
order reversed every other round; the detail is from the first run of each. Figures: the first
paint, the render, and the p99 event to panel in the room of N entries beside the small room's.

Run: `python -m bench.tui [--quick] [--paint-runs P] [--entries N] [--rate HZ] [--seconds S]
[--repeat R]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import textual

from bench._kit import figure, main, percentile
from tests.kit.harness import isolated_env
from tests.kit.tmux import HEIGHT, ONLINE, TMUX, WIDTH, Pane, Tmux
from tests.kit.tui import FakeConnection
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import decide
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.reducer import apply

QUICK = ("--paint-runs", "1", "--entries", "200", "--seconds", "0.4", "--same-process")
ROOT = Path(__file__).resolve().parent.parent
PAINT_POLL = 0.02
PAINT_TIMEOUT = 30.0
REPLAY_BATCH = 500
"""As `client.connection.REPLAY_BATCH`: frames handed over at once while replaying."""
SMALL_ROOM = 20
"""Notes in the room of the first latency run."""

INCIDENT = "INC-1"
BENCH_USER = Actor("bench", Role.INCIDENT_MANAGER)
NOTE = "checked pod {n}: still 502s from the payments gateway after the rollback"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# 1. First paint of `warroom join` in tmux --------------------------------------------------------


async def _title(url: str, token: str, incident: str) -> str:
    from warroom.core.reducer import replay
    from warroom.net.remote import Remote

    async with await Remote.open(url, token) as remote:
        log = await remote.sync(0)
    state = replay(item.event for item in log).incident(incident)
    if state is None:
        raise RuntimeError(f"the seeded hub has no {incident}")
    return state.title


def _paint_once(tmux: Tmux, join: Callable[[], Pane], title: str) -> dict[str, float]:
    """Start the client (`join` opens its pane); time its first frame and its first full paint."""
    started = time.perf_counter()
    pane = join()
    first_frame: float | None = None
    try:
        while True:
            screen = pane.capture()
            elapsed = time.perf_counter() - started
            if first_frame is None and screen.text.strip():
                first_frame = elapsed
            if title in screen and ONLINE in screen:
                return {"paint_s": elapsed, "frame_s": first_frame or elapsed}
            if elapsed > PAINT_TIMEOUT:
                raise RuntimeError(
                    f"no paint within {PAINT_TIMEOUT}s; the pane shows:\n{screen.text}"
                )
            time.sleep(PAINT_POLL)
    finally:
        tmux.run("kill-session", "-t", pane.target)


def first_paint(runs: int) -> dict[str, Any]:
    """Time `warroom join` from spawn to the war room on screen, `runs` times."""
    from server.embedded import EmbeddedHub
    from warroom.cli.demo import create_users, seed
    from warroom.store import Store, open_engine

    if TMUX is None:
        return {"skipped": "tmux is not installed"}
    with tempfile.TemporaryDirectory(prefix="warroom-bench-tui-") as name:
        folder = Path(name)
        store = Store(open_engine(str(folder / "bench.db")))
        hub = EmbeddedHub(store)
        tmux = Tmux()
        try:
            users = create_users(store, "im")
            url = hub.start()
            incident = asyncio.run(seed(url, users))
            token = users.tokens["im"]
            title = asyncio.run(_title(url, token, incident))
            env = isolated_env(folder)
            # A session that idles keeps the tmux server up: no run pays for starting it.
            tmux.spawn("keeper", ["sleep", "3600"], env)
            timings = [
                _paint_once(
                    tmux, partial(tmux.join, f"paint{run}", url, token, env, incident), title
                )
                for run in range(runs)
            ]
        finally:
            tmux.close()
            hub.stop()
            store.close()
    paints = [t["paint_s"] for t in timings]
    frames = [t["frame_s"] for t in timings]
    return {
        "median": round(statistics.median(paints), 3),
        "all": [round(value, 3) for value in paints],
        "first_frame_median": round(statistics.median(frames), 3),
        "first_frame_all": [round(value, 3) for value in frames],
        "incident": incident,
        "poll_s": PAINT_POLL,
    }


# 2 and 3. The app in-process, fed by a fake connection -------------------------------------------


class _Log:
    """Plays commands through the pure core, as the hub would, into numbered event frames."""

    def __init__(self) -> None:
        self.world = World()
        self.seq = 0

    def play(self, command: c.Command, now: datetime) -> list[protocol.EventFrame]:
        frames = []
        for event in decide(self.world, command, BENCH_USER, now):
            self.world = apply(self.world, event)
            self.seq += 1
            frames.append(protocol.EventFrame(seq=self.seq, event=event))
        return frames


def _room(log: _Log, notes: int, start: datetime) -> list[protocol.EventFrame]:
    """INC-1 declared at `start` and `notes` notes after it, one every 100 ms."""
    declare = c.DeclareIncident(title="Bench: checkout failing", severity=Severity.SEV2)
    frames = log.play(declare, start)
    for number in range(notes):
        note = c.AddNote(incident=INCIDENT, text=NOTE.format(n=number))
        frames += log.play(note, start + timedelta(milliseconds=100 * (number + 1)))
    return frames


def _replay_batches(
    log: _Log, frames: list[protocol.EventFrame]
) -> list[list[protocol.ServerFrameType]]:
    welcome = protocol.Welcome(user=BENCH_USER.name, role=BENCH_USER.role.value, head=log.seq)
    everything: list[protocol.ServerFrameType] = [welcome, *frames, protocol.Synced(head=log.seq)]
    return [
        everything[start : start + REPLAY_BATCH]
        for start in range(0, len(everything), REPLAY_BATCH)
    ]


def _peak_rss_mb() -> float:
    """The peak resident set size of this process so far.

    On Linux from VmHWM, the high-water mark of this program's own memory: `ru_maxrss` carries
    over the parent's peak through fork and exec, so a child of a big process would read 0 growth.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _rss_mb() -> float | None:
    """The resident set size now (Linux only)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _detached_widgets() -> int:
    """Widgets still alive (after a full collection) that are no longer in any DOM."""
    from textual.widget import Widget

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Widget) and not o.is_attached)


async def _open_app(fake: FakeConnection) -> tuple[Any, Any, Any]:
    """Start the app on INC-1's war room; return (app, context manager, pilot)."""
    from client.app import WarRoomApp
    from client.launch import spare_the_collector

    spare_the_collector()  # as `warroom join` does before its app runs
    app = WarRoomApp(connection=fake, incident=INCIDENT)
    context = app.run_test(size=(WIDTH, HEIGHT))
    pilot = await context.__aenter__()
    deadline = time.perf_counter() + 30
    while fake.sink is None:
        if time.perf_counter() > deadline:
            raise RuntimeError("the app never ran its connection")
        await asyncio.sleep(0.001)
    await pilot.pause()
    return app, context, pilot


ROWS_DEADLINE = 120.0
"""How long the timeline may take to show the rows it was handed (then the bench fails)."""


async def _wait_rows(timeline: Any, rows: int) -> None:
    deadline = time.perf_counter() + ROWS_DEADLINE
    while timeline.row_count < rows:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the timeline holds {timeline.row_count} rows, not {rows}")
        await asyncio.sleep(0.002)


async def _render(entries: int) -> dict[str, Any]:
    from client.widgets.timeline_panel import TimelinePanel

    log = _Log()
    started_at = (
        datetime.now(UTC) - timedelta(milliseconds=100 * (entries + 1)) - timedelta(hours=1)
    )
    built = time.perf_counter()
    batches = _replay_batches(log, _room(log, entries, started_at))
    build_s = time.perf_counter() - built
    fake = FakeConnection()
    app, context, pilot = await _open_app(fake)
    try:
        timeline = app.screen.query_one("#timeline", TimelinePanel)
        gc.collect()
        rss_before = _peak_rss_mb()
        started = time.perf_counter()
        for batch in batches:
            fake.push(*batch)
        await _wait_rows(timeline, log.seq)
        rows_s = time.perf_counter() - started
        await pilot.pause()
        elapsed = time.perf_counter() - started
        rss_delta = _peak_rss_mb() - rss_before
        rows = timeline.row_count
    finally:
        await context.__aexit__(None, None, None)
    return {
        "render_10k_s": round(elapsed, 3),
        "render_10k_rows_s": round(rows_s, 3),
        "render_10k_rows": rows,
        "render_10k_rss_mb": round(rss_delta, 1),
        "render_10k_build_events_s": round(build_s, 3),
    }


class _GcPauses:
    """Times Python's gen-2 collections while installed."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)


async def _latency(base: int, rate: float, seconds: float) -> dict[str, Any]:
    from client.widgets.timeline_panel import TimelinePanel

    interval = 1 / rate
    count = max(1, round(seconds * rate))
    log = _Log()
    now = datetime.now(UTC)
    room = _room(log, base, now - timedelta(hours=1, milliseconds=100 * (base + 1)))
    batches = _replay_batches(log, room)
    live = [
        log.play(
            c.AddNote(incident=INCIDENT, text=f"live note {number}"),
            now + timedelta(milliseconds=number * interval * 1000),
        )[0]
        for number in range(count)
    ]
    fake = FakeConnection()
    app, context, pilot = await _open_app(fake)
    clock: Callable[[], float] = time.perf_counter
    try:
        timeline = app.screen.query_one("#timeline", TimelinePanel)
        for batch in batches:
            fake.push(*batch)
        await _wait_rows(timeline, len(room))
        await pilot.pause()
        shown_before = timeline.row_count
        pushed = [0.0] * count
        seen = [0.0] * count

        async def watch() -> None:
            got = 0
            while got < count:
                now_rows = timeline.row_count - shown_before
                if now_rows > got:
                    moment = clock()
                    for index in range(got, min(now_rows, count)):
                        seen[index] = moment
                    got = now_rows
                await asyncio.sleep(0.001)

        detached_before = _detached_widgets()
        objects_before = len(gc.get_objects())
        rss_before = _rss_mb()
        pauses = _GcPauses()
        gc.callbacks.append(pauses)
        watcher = asyncio.create_task(watch())
        late = 0.0
        try:
            started = clock()
            for index, frame in enumerate(live):
                due = started + index * interval
                wait = due - clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                pushed[index] = clock()
                late = max(late, pushed[index] - due)
                fake.push(frame)
            await asyncio.wait_for(watcher, 60)
        finally:
            gc.callbacks.remove(pauses)
        detached = _detached_widgets() - detached_before
        retained = len(gc.get_objects()) - objects_before
        rss_after = _rss_mb()
    finally:
        await context.__aexit__(None, None, None)
    latencies = [(done - push) * 1000 for push, done in zip(pushed, seen, strict=True)]
    return {
        "room_entries": len(room),
        "events": count,
        "rate_per_s": rate,
        "p50": round(percentile(latencies, 0.50), 2),
        "p95": round(percentile(latencies, 0.95), 2),
        "p99": round(percentile(latencies, 0.99), 2),
        "max": round(max(latencies), 2),
        "mean": round(statistics.fmean(latencies), 2),
        "pusher_max_late_ms": _ms(late),
        "gc_gen2": {
            "count": len(pauses.pauses),
            "max_ms": _ms(max(pauses.pauses, default=0.0)),
            "total_ms": _ms(sum(pauses.pauses)),
        },
        "objects_retained_per_event": round(retained / count, 1),
        "detached_widgets_retained": detached,
        "rss_growth_mb": (
            None if rss_before is None or rss_after is None else round(rss_after - rss_before, 1)
        ),
    }


# Running ---------------------------------------------------------------------------------------


def _part(name: str, args: argparse.Namespace, base: int = 0) -> dict[str, Any]:
    """Run one in-process part in a fresh interpreter (in this one with `--same-process`);
    return its results."""
    if args.same_process:
        return _run_part(argparse.Namespace(**{**vars(args), "part": name, "base": base}))
    command = [
        sys.executable, "-m", "bench.tui", "--part", name, "--base", str(base),
        "--entries", str(args.entries), "--rate", str(args.rate), "--seconds", str(args.seconds),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.tui --part {name} failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _run_part(args: argparse.Namespace) -> dict[str, Any]:
    if args.part == "render":
        return asyncio.run(_render(args.entries))
    return asyncio.run(_latency(args.base, args.rate, args.seconds))


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its results."""
    parser = argparse.ArgumentParser(prog="python -m bench.tui", description=__doc__.split("\n")[0])
    parser.add_argument("--paint-runs", type=int, default=3, help="first-paint repetitions")
    parser.add_argument("--entries", type=int, default=10_000, help="notes in the long timeline")
    parser.add_argument("--rate", type=float, default=50.0, help="live events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long events arrive")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the render and latencies")
    parser.add_argument("--part", choices=["render", "latency"], help=argparse.SUPPRESS)
    parser.add_argument("--base", type=int, default=SMALL_ROOM, help=argparse.SUPPRESS)
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run (2) and (3) in this interpreter, one after another: a smoke run's shortcut, "
        "whose memory and garbage figures each part's predecessors skew",
    )
    args = parser.parse_args(argv)
    if min(args.paint_runs, args.entries) < 1 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--paint-runs, --entries, --rate and --seconds must be positive")
    if args.part:
        return _run_part(args)

    started = time.perf_counter()
    paint = first_paint(args.paint_runs)
    renders = [_part("render", args) for _ in range(args.repeat)]
    rooms: dict[int, list[dict[str, Any]]] = {SMALL_ROOM: [], args.entries: []}
    for round_ in range(args.repeat):
        for base in list(rooms) if round_ % 2 == 0 else list(rooms)[::-1]:
            rooms[base].append(_part("latency", args, base))
    render, latency, latency_10k = renders[0], rooms[SMALL_ROOM][0], rooms[args.entries][0]
    p99 = {
        f"room_{args.entries}": [run["p99"] for run in rooms[args.entries]],
        f"room_{SMALL_ROOM}": [run["p99"] for run in rooms[SMALL_ROOM]],
    }
    figures = [
        figure(
            f"event to panel p99 at {args.rate:g} events/s, room of {args.entries} entries",
            "ms",
            p99,
            f"room_{args.entries}",
        ),
        figure(
            f"render of {args.entries} entries",
            "s",
            {"warroom": [run["render_10k_s"] for run in renders]},
            "warroom",
        ),
    ]
    if "all" in paint:
        figures.insert(0, figure("first paint in tmux", "s", {"warroom": paint["all"]}, "warroom"))
    return {
        "bench": "tui",
        "figures": figures,
        "first_paint_s": paint,
        **render,
        "event_to_panel_ms": latency,
        "event_to_panel_ms_10k": latency_10k,
        "entries": args.entries,
        "terminal": f"{WIDTH}x{HEIGHT}",
        "elapsed_s": round(time.perf_counter() - started, 1),
        "textual": textual.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main(run, QUICK)
