"""What disclosure costs the hub: fan-out of one committed event, with and without stakeholders.

The hub encodes each event once for the war room (the stored JSON wrapped in a frame) and, when
a stakeholder may see it, once more for every stakeholder: the position sealed into an opaque
cursor and the entry numbers disguised (`warroom.core.disclosure`), then encoded again. Side
by side, in one run, per event:

- room: `encode_event` of the stored JSON (the war room's frame; the baseline);
- sealed: the stakeholders' frame (seal the cursor, disguise the event, encode it);
- visible_to: the audience check of one stakeholder (run once per stakeholder actor);
- open_cursor: reading a stakeholder's cursor back on reconnect.

Each round times every pass over the log in turn, the order reversed every other round; a
sample is one pass's time per event. Figure: `sealed` beside `room`.

Run: `python -m bench.disclosure [--quick] [--events N] [--repeat R]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import platform
import statistics
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._kit import alternate, figure, main, wall
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import decide
from warroom.core.disclosure import Sealer
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.events import Event
from warroom.core.policy import visible_to
from warroom.core.reducer import apply

QUICK = ("--events", "500", "--repeat", "2")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MANAGER = Actor("morgan", Role.INCIDENT_MANAGER)
STAKEHOLDER = Actor("erin", Role.STAKEHOLDER, frozenset({"exec"}))


def _log(events: int) -> tuple[World, list[Event]]:
    """One incident with `events` notes, every third one addressed to all."""
    world = World()
    log: list[Event] = []
    declare = c.DeclareIncident(title="Checkout failing", severity=Severity.SEV1)
    for event in decide(world, declare, MANAGER, NOW):
        world = apply(world, event)
        log.append(event)
    for n in range(events - 1):
        audience = "all" if n % 3 == 0 else "internal"
        note = c.AddNote(incident="INC-1", text=f"note {n} " + "x" * 120, audience=audience)
        for event in decide(world, note, MANAGER, NOW + timedelta(seconds=n)):
            world = apply(world, event)
            log.append(event)
    return world, log


def _per_event_us(work: Callable[[], None], count: int) -> Callable[[], float]:
    return lambda: wall(work) / count * 1e6


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.disclosure")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    world, log = _log(args.events)
    encoded = [protocol.event_json(event) for event in log]
    sealer = Sealer(b"bench-disclosure-secret-32-bytes")
    cursors = [sealer.cursor(seq) for seq in range(1, len(log) + 1)]

    def room() -> None:
        for seq, text in enumerate(encoded, 1):
            protocol.encode_event(seq, text)

    def sealed() -> None:
        for seq, event in enumerate(log, 1):
            protocol.encode_event(sealer.cursor(seq), protocol.event_json(sealer.event(event)))

    def check() -> None:
        for event in log:
            visible_to(STAKEHOLDER, event, world)

    def reopen() -> None:
        for cursor in cursors:
            sealer.open_cursor(cursor)

    sides = {
        "room": _per_event_us(room, len(log)),
        "sealed": _per_event_us(sealed, len(log)),
        "visible_to": _per_event_us(check, len(log)),
        "open_cursor": _per_event_us(reopen, len(cursors)),
    }
    samples = alternate(sides, args.repeat)
    us = {name: round(statistics.median(taken), 2) for name, taken in samples.items()}
    room_us, sealed_us = us["room"], us["sealed"]
    pair = {"sealed": samples["sealed"], "room": samples["room"]}
    return {
        "bench": "disclosure",
        "python": platform.python_version(),
        "events": len(log),
        "repeat": args.repeat,
        "figures": [figure("a stakeholder's event frame, per event", "µs", pair, "sealed")],
        "per_event_us": us,
        "sealed_over_room": round(sealed_us / room_us, 1) if room_us else None,
    }


if __name__ == "__main__":
    main(run, QUICK)
