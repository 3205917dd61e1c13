"""Frames that arrive while the client is busy are folded together and painted once: a client
that falls behind catches up in one step instead of painting every frame in turn. What the
hub says between frames (the link dropped, start over) keeps its place among them."""

from __future__ import annotations

from client.app import WarRoomApp
from client.state import Link
from tests.kit.tui import (
    ANA,
    ROOM,
    FakeConnection,
    Step,
    app_of,
    later,
    replay,
    running,
    seed_events,
    settled,
)
from warroom.core import commands as c
from warroom.core import protocol


def _notes(count: int) -> list[protocol.EventFrame]:
    steps = [
        Step(ANA, 30 + n / 10, c.AddNote(incident=ROOM, text=f"burst {n}")) for n in range(count)
    ]
    return later(*steps)


def _texts(app: WarRoomApp) -> list[str]:
    return [
        text for item in app.state.log if isinstance(text := getattr(item.event, "text", None), str)
    ]


async def test_a_burst_of_frames_is_folded_in_one_step() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        app = app_of(pilot)
        await settled(pilot)
        updates = 0

        def counted(_: object) -> None:
            nonlocal updates
            updates += 1

        app.watch(app, "state", counted, init=False)
        assert fake.sink is not None
        frames = _notes(40)
        for frame in frames:  # one frame at a time, as the link hands them over once live
            fake.sink.frames_received([frame])
        await settled(pilot)
        assert [t for t in _texts(app) if t.startswith("burst ")] == [
            f"burst {n}" for n in range(40)
        ]
        assert updates == 1, f"{updates} state changes for one burst of 40 frames"
        # Once handled, the next frame is a batch of its own.
        fake.sink.frames_received([_notes(41)[40]])
        await settled(pilot)
        assert _texts(app)[-1] == "burst 40" and updates == 2


async def test_a_start_over_between_frames_keeps_its_place() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        app = app_of(pilot)
        await settled(pilot)
        assert fake.sink is not None
        (note,) = _notes(1)
        fake.sink.frames_received([note])
        fake.sink.forget()  # the hub: what you may see changed, start over
        fake.sink.link_changed(Link.OFFLINE, "connection lost; reconnecting")
        fake.sink.link_changed(Link.ONLINE, "")
        # The new welcome and everything again: folded after the forgetting, not before it.
        fake.push(*replay(events=[*seed_events(), note]))
        await settled(pilot)
        assert app.state.synced and app.state.link is Link.ONLINE
        assert _texts(app).count("burst 0") == 1
