"""The replay: at every seq of the scripted incident the replayed room is the room folded live up
to that seq, in whatever order the positions are visited, and as an audience it is what that
audience had received by then."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.kit.postmortem import EVE, INC, SAM, T0, scripted
from warroom.core import events as e
from warroom.core.domain import Actor, IncidentState, World
from warroom.core.policy import disclosed, preview_actor, visible_part
from warroom.core.reducer import apply
from warroom.core.replaying import Replayer, key_moment, recorded_by, seen_by


def _live(events: list[e.Event], viewer: Actor | None) -> list[IncidentState | None]:
    """What a client connected from the start held after each event: the hub folds the event,
    sends what the viewer may receive of it, and the client folds that."""
    hub, client = World(), World()
    held: list[IncidentState | None] = [None]
    for event in events:
        hub = apply(hub, event)
        received = event if viewer is None else disclosed(viewer, event, hub)
        if received is not None:
            client = apply(client, received)
        incident = client.incident(INC)
        if incident is not None and viewer is not None:
            incident = visible_part(incident, viewer)
        held.append(incident)
    return held


VIEWERS = {
    "room": None,
    "exec": preview_actor("exec"),
    "all": preview_actor("all"),
    "eve": EVE,
    "sam": SAM,
}


@pytest.mark.parametrize("every", [1, 4, 64])
@pytest.mark.parametrize("who", sorted(VIEWERS))
def test_every_position_replays_to_the_room_as_it_was_received(who: str, every: int) -> None:
    events = scripted()
    viewer = VIEWERS[who]
    live = _live(events, viewer)
    positions = list(range(len(events) + 1))
    orders = {
        "forward": positions,
        "backward": positions[::-1],
        "scattered": random.Random(every).sample(positions, len(positions)),
    }
    for order, visits in orders.items():
        replayer = Replayer(events, viewer, every=every)
        for position in visits:
            assert replayer.incident_at(position, INC) == live[position], (order, position)
    # The war room's world is the whole fold, not only the one incident.
    replayer = Replayer(events, every=every)
    world = World()
    for position, event in enumerate(events, 1):
        world = apply(world, event)
        assert replayer.state_at(position) == world


def test_a_moment_falls_after_every_event_recorded_by_then() -> None:
    events = scripted()
    replayer = Replayer(events)
    assert replayer.index_at(T0 - timedelta(seconds=1)) == 0
    assert replayer.index_at(T0) == 1  # the declaration, at T0 exactly
    assert replayer.index_at(T0 + timedelta(minutes=1)) == 2  # and the alert
    assert replayer.index_at(T0 + timedelta(days=1)) == len(events)
    # Out of range positions are the ends of the log.
    assert replayer.state_at(-5) == World() and replayer.state_at(10**6) == replayer.state_at(
        len(events)
    )
    # A server clock that went back does not move an event before its predecessors.
    skewed = [*events[:3], _at(events[3], T0 - timedelta(hours=1)), *events[4:]]
    assert recorded_by(skewed, T0 + timedelta(seconds=30)) == 1


def _at(event: e.Event, moment: object) -> e.Event:
    from warroom.core.domain import evolve

    return evolve(event, at=moment)


def test_key_moments_are_the_timelines_and_an_audience_gets_its_own() -> None:
    events = scripted()
    room = Replayer(events).moments()
    assert room == tuple(i + 1 for i, event in enumerate(events) if key_moment(event))
    kinds = {type(events[i - 1]) for i in room}
    assert kinds == {
        e.IncidentDeclared, e.UpdatePublished, e.NoteAdded, e.NotePinned, e.SeverityChanged,
        e.StatusChanged, e.EtaSet,
    }  # fmt: skip
    execs = Replayer(events, preview_actor("exec")).moments()
    # The internal note pinned at 12:06 is no moment of theirs, nor the update to exec alone
    # a moment of support's.
    assert len(execs) < len(room)
    assert set(execs) <= set(room)
    support = Replayer(events, preview_actor("support")).moments()
    assert len(support) == len(execs) - 1
    assert len(seen_by(events, preview_actor("exec"))) < len(events)
