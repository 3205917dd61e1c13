"""What a replay's step costs: a 10,000-event room scrubbed from start to end, back, and by jumps.

The room is one incident played through `decide` and `apply`: notes (every fifth to all, every
fiftieth pinned), actions and their progress, workarounds, status and ETA changes. A
`warroom.core.replaying.Replayer` then serves the room at each position, side by side:

- forward: position 0, 1, 2 ... N, as the scrubber steps right (and as play does);
- backward: N ... 0, as it steps left: each step folds from the nearest kept world below;
- jumps: the same number of positions in random order (a seeded shuffle), as a drag would;
- forward_exec: forward as the exec group received it (`Replayer(events, viewer)`).

Opening a replayer folds the log once (`open_ms`, as a replay screen pays once when it opens).
Each step after that is timed alone: the world at that position and the incident as the viewer
may see it. The goal is at most 50 ms a step, worst case (`max_ms`; `over_goal` counts the
steps past it: on a busy machine a few are the scheduler's, not the fold's).

Each of `--repeat` rounds scrubs every way on a fresh replayer, the order reversed every other
round; each way's numbers are from its round of median p99. Figures: each way's p99 step beside
forward's.

`screen` is what a person waits for: the terminal client (`WarRoomApp`, headless at 120x36, on
a fake connection handed the same room) opens the war room, `H` opens the replay screen
(`open_ms`), and each key is measured from the press until the app is idle again (Textual's
`Pilot.press` and `pause`: every panel updated, laid out and rendered; the terminal write is
not included): `--screen-steps` presses each of right from the middle, left from the end, `]`
from the start, and a key the screen ignores (`idle_key`: what the test driver costs alone).
Each key has two numbers: `cpu_ms`, the CPU the process spent on it (the work of the step: on
an idle machine the step takes that long), and `wall_ms`, the wall clock, which adds the
driver's own waits for idleness (a few sleeps of some milliseconds each: `idle_key`'s wall
is nearly all of them) and, on a busy machine, the time other processes held the CPU. The
screen runs once a round (`--repeat`); its figures are each round's median CPU of a step each
way beside the idle key's, and its detail is the first round's. `--screen-steps 0` leaves it
out.

Run: `python -m bench.replay [--quick] [--events N] [--every K] [--seed S] [--repeat R]
[--screen-steps S]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._kit import figure, main
from warroom.core import commands as c
from warroom.core.decide import decide
from warroom.core.domain import ActionState, Actor, Confidence, Role, Severity, Status, World
from warroom.core.events import Event
from warroom.core.policy import preview_actor
from warroom.core.reducer import apply
from warroom.core.replaying import SNAPSHOT_EVERY, Replayer

QUICK = ("--events", "300", "--repeat", "1", "--screen-steps", "1")
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MANAGER = Actor("morgan", Role.INCIDENT_MANAGER)
INCIDENT = "INC-1"
GOAL_MS = 50.0
STATUSES = (Status.IDENTIFIED, Status.MONITORING, Status.INVESTIGATING)


def _command(n: int, world: World) -> c.Command:
    """The `n`th command after the declaration: mostly notes, with the other kinds mixed in."""
    incident = world.incidents[INCIDENT]
    if n % 97 == 0:
        status = STATUSES[(n // 97) % len(STATUSES)]
        if status is incident.status:
            status = STATUSES[(n // 97 + 1) % len(STATUSES)]
        return c.ChangeStatus(incident=INCIDENT, status=status)
    if n % 89 == 0:
        eta = T0 + timedelta(minutes=n)
        return c.SetEta(incident=INCIDENT, eta=eta, confidence=Confidence.MEDIUM,
                        base_version=incident.eta_version)  # fmt: skip
    if n % 31 == 0:
        return c.AddAction(incident=INCIDENT, text=f"step {n}", owner="ana", audience="all")
    if n % 37 == 0 and incident.actions:
        action = incident.actions[(n // 37) % len(incident.actions)]
        if action.state is ActionState.NEXT:
            return c.ChangeActionState(incident=INCIDENT, action=action.id,
                                       state=ActionState.IN_PROGRESS)  # fmt: skip
    if n % 53 == 0:
        return c.AddMitigation(incident=INCIDENT, text=f"workaround {n}", audience="all")
    audience = "all" if n % 5 == 0 else "internal"
    text = f"note {n}: checked the payments gateway again, still 502s " + "x" * 60
    return c.AddNote(incident=INCIDENT, text=text, pinned=n % 50 == 0, audience=audience)


def room(events: int) -> list[Event]:
    """One incident of `events` events."""
    world = World()
    log: list[Event] = []
    declare = c.DeclareIncident(title="Checkout failing", severity=Severity.SEV1)
    n = 0
    command: c.Command = declare
    while len(log) < events:
        for event in decide(world, command, MANAGER, T0 + timedelta(seconds=n)):
            world = apply(world, event)
            log.append(event)
        n += 1
        command = _command(n, world)
    return log[:events]


def _steps(replayer: Replayer, positions: Sequence[int]) -> dict[str, float | int]:
    times = []
    for position in positions:
        started = time.perf_counter()
        replayer.incident_at(position, INCIDENT)
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {
        "steps": len(times),
        "mean_ms": round(statistics.fmean(times), 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 3),
        "max_ms": round(ordered[-1], 3),
        "over_goal": sum(1 for spent in times if spent > GOAL_MS),
    }


def _summary(keys: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Each key's (CPU, wall) milliseconds, summarised; `over_goal` counts CPU past the goal."""
    cpu = sorted(spent for spent, _ in keys)
    wall = sorted(waited for _, waited in keys)
    return {
        "steps": len(keys),
        "cpu_ms": [round(spent, 1) for spent, _ in keys],
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "cpu_max_ms": round(cpu[-1], 1),
        "wall_median_ms": round(statistics.median(wall), 1),
        "wall_max_ms": round(wall[-1], 1),
        "over_goal": sum(1 for spent in cpu if spent > GOAL_MS),
    }


async def _screen(log: Sequence[Event], steps: int) -> dict[str, Any]:
    """The replay screen of the terminal client on `log`, timed key by key."""
    from bench.tui import _open_app, _wait_rows
    from client.screens.replay import ReplayScreen
    from client.widgets.timeline_panel import TimelinePanel
    from tests.kit.tui import FakeConnection
    from warroom.core import protocol

    fake = FakeConnection()
    app, context, pilot = await _open_app(fake)  # INC-1's war room, 120x36, as bench.tui's
    try:
        frames = [protocol.EventFrame(seq=n, event=event) for n, event in enumerate(log, 1)]
        welcome = protocol.Welcome(user=MANAGER.name, role=MANAGER.role.value, head=len(log))
        fake.push(welcome, *frames, protocol.Synced(head=len(log)))
        await _wait_rows(app.screen.query_one("#timeline", TimelinePanel), len(log))
        await pilot.pause()

        async def press(key: str) -> tuple[float, float]:
            cpu, wall = time.process_time(), time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000

        opened = await press("H")
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.position == len(log)
        results: dict[str, Any] = {"open_ms": round(opened[1], 1)}
        results["left_from_the_end"] = _summary([await press("left") for _ in range(steps)])
        screen.show_position(len(log) // 2)
        await pilot.pause()
        results["right_from_the_middle"] = _summary([await press("right") for _ in range(steps)])
        await press("home")
        moments = [await press("right_square_bracket") for _ in range(steps)]
        results["next_moment_from_the_start"] = _summary(moments)
        results["idle_key"] = _summary([await press("x") for _ in range(steps)])
        results["end_ms"] = round((await press("end"))[1], 1)
        results["home_ms"] = round((await press("home"))[1], 1)
    finally:
        await context.__aexit__(None, None, None)
    return results


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.replay")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=SNAPSHOT_EVERY)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every way")
    parser.add_argument("--screen-steps", type=int, default=20)
    args = parser.parse_args(argv)
    log = room(args.events)
    positions = list(range(len(log) + 1))
    shuffled = random.Random(args.seed).sample(positions, len(positions))
    opened: list[float] = []

    def opened_replayer(viewer: Actor | None = None) -> Replayer:
        started = time.perf_counter()
        replayer = Replayer(log, viewer, every=args.every)
        opened.append((time.perf_counter() - started) * 1000)
        return replayer

    ways = {
        # Each scrub on a freshly opened replayer: nothing kept from another's run.
        "forward": lambda: _steps(opened_replayer(), positions),
        "backward": lambda: _steps(opened_replayer(), positions[::-1]),
        "jumps": lambda: _steps(opened_replayer(), shuffled),
        "forward_exec": lambda: _steps(opened_replayer(preview_actor("exec")), positions),
    }
    rounds: dict[str, list[dict[str, float | int]]] = {way: [] for way in ways}
    for round_ in range(args.repeat):
        for way in list(ways) if round_ % 2 == 0 else list(ways)[::-1]:
            rounds[way].append(ways[way]())
    results = {
        way: sorted(taken, key=lambda steps: steps["p99_ms"])[len(taken) // 2]
        for way, taken in rounds.items()
    }
    p99s = {way: [float(steps["p99_ms"]) for steps in taken] for way, taken in rounds.items()}
    figures = [
        figure(f"replay step p99, {way}", "ms", {way: p99s[way], "forward": p99s["forward"]}, way)
        for way in ("backward", "jumps", "forward_exec")
    ]
    worst = max(result["max_ms"] for result in results.values())
    # The screen, once a round: each round's median CPU of a key is one sample of its figure.
    steps = args.screen_steps
    screens = [asyncio.run(_screen(log, steps)) for _ in range(args.repeat)] if steps > 0 else []
    if screens:
        idle = [float(one["idle_key"]["cpu_median_ms"]) for one in screens]
        figures += [
            figure(
                f"replay screen, CPU of a key, {way}",
                "ms",
                {way: [float(one[way]["cpu_median_ms"]) for one in screens], "idle_key": idle},
                way,
            )
            for way in ("left_from_the_end", "right_from_the_middle", "next_moment_from_the_start")
        ]
    screen = screens[0] if screens else None
    return {
        "bench": "replay",
        "python": platform.python_version(),
        "events": len(log),
        "repeat": args.repeat,
        "figures": figures,
        "snapshot_every": args.every,
        "open_ms": round(statistics.fmean(opened), 1),
        "per_step": results,
        "goal_ms": GOAL_MS,
        "worst_step_ms": worst,
        "within_goal": worst <= GOAL_MS,
        "screen": screen,
    }


if __name__ == "__main__":
    main(run, QUICK)
