"""The log as one audience received it: each event disclosed as the hub's fan-out discloses it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from warroom.core import events as e
from warroom.core.domain import Actor, World
from warroom.core.policy import disclosed
from warroom.core.reducer import apply


def disclosed_each(events: Iterable[e.Event], viewer: Actor) -> Iterator[e.Event | None]:
    """For each event, what `viewer` receives of it (None: nothing), judged as the hub's
    fan-out judges it: against the world the event has just been folded into."""
    world = World()
    for event in events:
        world = apply(world, event)
        yield disclosed(viewer, event, world)


def seen_by(events: Iterable[e.Event], viewer: Actor) -> list[e.Event]:
    """The events `viewer` receives of `events`, as they receive them."""
    return [shown for shown in disclosed_each(events, viewer) if shown is not None]
