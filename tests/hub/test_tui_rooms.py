"""The terminal client against a real hub: its lobby holds the summaries of what the user may
see, and a room folded from a read is the incident the whole log folded to, for every role;
live events after the read join it once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from client.app import WarRoomApp
from client.connection import WebSocketConnection
from tests.hub.test_summaries import SEEN, _world, seen
from tests.kit.tui import room_read
from tests.kit.wire import TIMEOUT, Hub, note, submit
from warroom.core.reducer import replay
from warroom.net.remote import Remote


async def _poll(condition: Callable[[], object], what: str) -> None:
    """Let the app and the hub run until `condition()` holds (a bounded poll, TIMEOUT)."""
    for _ in range(int(TIMEOUT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("role", sorted(SEEN))
async def test_the_room_is_the_incident_the_whole_log_folds_to_for_every_role(
    hub: Hub, role: str
) -> None:
    private = await _world(hub)
    async with await Remote.open(hub.url, hub.tokens[role]) as remote:
        whole = replay(item.event for item in await remote.sync(0))
    incident = private if role == "responder" else "INC-1"
    app = WarRoomApp(WebSocketConnection([hub.url], hub.tokens[role]), incident=incident)
    async with app.run_test(size=(120, 40)):
        await _poll(lambda: app.state.synced and room_read(app), "the room read")
        assert set(app.state.summaries) == seen(role, private)
        assert app.state.world.incident(incident) == whole.incident(incident)
        assert set(app.state.world.incidents) == {incident}
        manager = await hub.connect("manager")
        await submit(manager, note("after the read", incident, audience="all"))
        await _poll(lambda: _count(app, "after the read") == 1, "the live note")
        await submit(manager, note("and one more", incident, audience="all"))
        await _poll(lambda: _count(app, "and one more") == 1, "the second note")
        assert _count(app, "after the read") == 1
        summary = app.state.summaries[incident]
        folded = app.state.world.incident(incident)
        assert folded is not None and summary.notes >= 2


async def test_an_uninvited_user_opening_a_private_room_sees_it_is_not_theirs(hub: Hub) -> None:
    private = await _world(hub)
    app = WarRoomApp(WebSocketConnection([hub.url], hub.tokens["uninvited"]), incident=private)
    async with app.run_test(size=(120, 40)):
        await _poll(lambda: app.state.synced and app.state.gone(private), "the refusal")
        assert private not in app.state.summaries and app.state.world.incidents == {}


def _count(app: WarRoomApp, text: str) -> int:
    return [getattr(item.event, "text", None) for item in app.state.log].count(text)
