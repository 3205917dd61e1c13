"""What was shared is seen: an entry the incident manager shows to a group later appears, with
its content, in that group's room and in the incident manager's preview of it, live and on a
fresh connection; hidden again, it goes from both; a user whose groups change sees the room as
the new groups may, at once (the terminal client against a real hub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot
from websockets.asyncio.client import ClientConnection

from client.app import WarRoomApp
from client.connection import WebSocketConnection
from client.screens.choice import ChoiceScreen
from client.screens.preview import PreviewScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from tests.hub.test_tui_rooms import _poll
from tests.kit.tui import rendered, room_read, settled
from tests.kit.wire import TIMEOUT, Hub, declare, hello, note, receive, send

INC = "INC-1"
PANELS = ("#impact", "#timeline", "#progress", "#mitigation")


def _screen_text(app: WarRoomApp) -> str:
    """What the room's (or the preview's) four panels show now."""
    return "\n".join(rendered(app.screen.query_one(panel)) for panel in PANELS)


_sent = 0


async def _ok(manager: ClientConnection, command: dict[str, Any]) -> None:
    """Submit `command` and wait for its ack, past the live frames (events, presence)."""
    global _sent
    _sent += 1
    ident = f"shared-{_sent}"
    await send(manager, {"type": "submit", "id": ident, "command": command})
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = await receive(manager)
            if frame["type"] in ("ack", "rejected") and frame["id"] == ident:
                assert frame["type"] == "ack", frame
                return


def _rows(app: WarRoomApp) -> list[str]:
    """The timeline's rows as shown (the preview's and the room's frames differ)."""
    lines = rendered(app.screen.query_one("#timeline")).splitlines()[1:-1]
    return [row for line in lines if (row := line.strip("│ "))]


def _audience(entry: str, audience: str) -> dict[str, Any]:
    return {"type": "audience.change", "incident": INC, "entry": entry, "audience": audience}


async def _room(hub: Hub) -> ClientConnection:
    """INC-1 with an impact statement, a note, an action and a workaround, all internal."""
    manager = await hub.connect("manager")
    await hello(manager, None)
    await _ok(manager, declare())
    await _ok(manager, note("IMPACT-N1 rollback half done", INC))
    await _ok(manager, {"type": "action.add", "incident": INC, "text": "ACTION-A1 call the bank"})
    await _ok(manager, {"type": "mitigation.add", "incident": INC, "text": "FIX-M1 pay by invoice"})
    await _ok(
        manager,
        {"type": "impact.set", "incident": INC, "statement": "STATEMENT cards fail",
         "customer_facing": True, "base_version": 0},
    )  # fmt: skip
    return manager


SHARED = ("IMPACT-N1", "ACTION-A1", "FIX-M1", "STATEMENT")


async def _share_all(manager: ClientConnection, audience: str) -> None:
    for entry in ("N1", "A1", "M1", "impact"):
        await _ok(manager, _audience(entry, audience))


@asynccontextmanager
async def _joined(hub: Hub, user: str) -> AsyncIterator[tuple[WarRoomApp, Pilot[None]]]:
    app = WarRoomApp(WebSocketConnection([hub.url], hub.tokens[user]), incident=INC)
    async with app.run_test(size=(160, 50)) as pilot:
        await _poll(lambda: app.state.synced and room_read(app), "the room read")
        await settled(pilot)
        yield app, pilot


async def _shows(
    pilot: Pilot[None], app: WarRoomApp, check: Callable[[str], bool], what: str
) -> None:
    """Let the app run until its panels' text passes `check` (a bounded poll)."""

    async def rendered_now() -> bool:
        await pilot.pause()
        return check(_screen_text(app))

    for _ in range(200):
        if await rendered_now():
            return
    raise AssertionError(f"timed out waiting for {what}:\n{_screen_text(app)}")


async def test_an_entry_shown_to_a_group_later_appears_with_its_content_in_its_room(
    hub: Hub,
) -> None:
    manager = await _room(hub)
    async with _joined(hub, "exec") as (erin, pilot), _joined(hub, "support") as (sam, _):
        assert isinstance(erin.screen, StakeholderRoomScreen)
        assert not any(text in _screen_text(erin) for text in SHARED)
        await _share_all(manager, "exec")
        await _shows(pilot, erin, lambda s: all(t in s for t in SHARED), "the shared entries")
        assert not any(text in _screen_text(sam) for text in SHARED)
        # Hidden again: the content goes at once, and the room says an update was withdrawn.
        await _share_all(manager, "internal")
        await _shows(pilot, erin, lambda s: not any(t in s for t in SHARED), "the withdrawal")
        assert "no longer shown to exec" in rendered(erin.screen.query_one("#timeline"))


async def test_a_fresh_connection_of_the_group_sees_what_was_shared_before_it(hub: Hub) -> None:
    manager = await _room(hub)
    await _share_all(manager, "exec,support")
    await _ok(manager, _audience("A1", "support"))  # A1 leaves exec again
    async with _joined(hub, "exec") as (erin, pilot):
        await _shows(pilot, erin, lambda s: "IMPACT-N1" in s, "the shared note")
        text = _screen_text(erin)
        assert all(t in text for t in ("IMPACT-N1", "FIX-M1", "STATEMENT"))
        assert "ACTION-A1" not in text
        assert "support" not in text  # another group's name never reaches her


async def test_the_preview_shows_what_the_group_receives_live_and_withdrawn(hub: Hub) -> None:
    manager = await _room(hub)
    await _ok(manager, _audience("N1", "exec"))
    async with _joined(hub, "manager") as (app, pilot), _joined(hub, "exec") as (erin, _):
        await pilot.press("P")
        await settled(pilot)
        chooser = app.screen
        assert isinstance(chooser, ChoiceScreen)
        assert [value for _, value in chooser.choices] == ["all", "exec", "support"]
        await pilot.press("down", "enter")  # group exec
        await settled(pilot)
        assert isinstance(app.screen, PreviewScreen)
        await _shows(pilot, app, lambda s: "IMPACT-N1" in s, "the note shown before")
        await _ok(manager, _audience("M1", "exec"))
        await _shows(pilot, app, lambda s: "FIX-M1" in s, "the workaround shown live")
        await _shows(pilot, erin, lambda s: "FIX-M1" in s, "the workaround in her room")
        await _ok(manager, _audience("N1", "internal"))
        await _shows(pilot, app, lambda s: "IMPACT-N1" not in s, "the note withdrawn")
        # The preview is what she has: the same rows in the same order.
        await _shows(pilot, erin, lambda s: "IMPACT-N1" not in s, "the note withdrawn for her")
        assert _rows(app) == _rows(erin)
        assert any("no longer shown to exec" in row for row in _rows(app))


async def test_a_user_whose_groups_change_sees_the_room_as_the_new_groups_may(hub: Hub) -> None:
    manager = await _room(hub)
    await _ok(manager, _audience("N1", "exec"))
    await _ok(manager, _audience("M1", "support"))
    async with _joined(hub, "exec") as (erin, pilot):
        await _shows(pilot, erin, lambda s: "IMPACT-N1" in s and "FIX-M1" not in s, "exec's room")
        hub.store.users.change("erin", groups=["support"])
        await _shows(
            pilot, erin, lambda s: "FIX-M1" in s and "IMPACT-N1" not in s, "support's room"
        )
        assert erin.state.me is not None and erin.state.me.groups == {"support"}
        assert isinstance(erin.screen, StakeholderRoomScreen)
