"""A screen that an opaque one covers paints nothing: the room under the replay, the lobby under a
room. Textual repaints a covered screen's changes on the screen over it too, so a room kept
live (its clocks tick every second) would repaint the replay's whole screen. It shows what it
missed as soon as it shows again; under a dialog, which lets it show through, it stays live."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from client.screens.note import NoteScreen
from client.screens.replay import ReplayScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    ANA,
    BOB,
    ROOM,
    FakeConnection,
    Step,
    cursor_row,
    later,
    replay,
    running,
    settled,
)
from warroom.core import commands as c


class _Counted:
    """Counts a screen's paints (`_compositor_refresh`) and layouts (`_refresh_layout`)."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.paints = 0
        self.layouts = 0
        paint, lay_out = screen._compositor_refresh, screen._refresh_layout

        def painted() -> None:
            self.paints += 1
            paint()

        def laid_out(*args: Any, **kwargs: Any) -> None:
            self.layouts += 1
            lay_out(*args, **kwargs)

        screen._compositor_refresh = painted  # type: ignore[method-assign]
        screen._refresh_layout = laid_out  # type: ignore[method-assign]


def _note(text: str) -> list[Any]:
    return list(later(Step(ANA, 40, c.AddNote(incident=ROOM, text=text))))


async def test_the_room_under_the_replay_paints_nothing_and_shows_what_it_missed_after() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        room = pilot.app.screen
        assert isinstance(room, WarRoomScreen)
        timeline = room.query_one("#timeline", TimelinePanel)
        rows = timeline.row_count
        await pilot.press("H")
        await settled(pilot)
        assert isinstance(pilot.app.screen, ReplayScreen) and room.covered()
        counted = _Counted(room)
        assert fake.sink is not None
        fake.sink.frames_received(_note("the gateway is back in eu-west"))
        await settled(pilot)
        room._tick()  # the room's clocks, as they tick every second
        await settled(pilot)
        assert counted.paints == 0
        assert timeline.row_count == rows  # not shown yet: nothing of the room shows
        await pilot.press("escape")
        await settled(pilot)
        assert room.is_current and not room.covered()
        assert timeline.row_count == rows + 1
        assert "the gateway is back in eu-west" in cursor_row(timeline)


async def test_the_room_under_a_dialog_shows_through_it_and_stays_live() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        room = pilot.app.screen
        timeline = room.query_one("#timeline", TimelinePanel)
        rows = timeline.row_count
        await pilot.press("n")
        await settled(pilot)
        assert isinstance(pilot.app.screen, NoteScreen)
        assert isinstance(room, WarRoomScreen) and not room.covered()
        assert fake.sink is not None
        fake.sink.frames_received(_note("arrived while typing"))
        await settled(pilot)
        assert timeline.row_count == rows + 1
        assert "arrived while typing" in cursor_row(timeline)


async def _replay_of_many_actions(pilot: Pilot[Any], fake: FakeConnection) -> ReplayScreen:
    text = "check the payments gateway's error codes in the logs of every region"
    steps = [
        Step(BOB, 30 + n / 100, c.AddAction(incident=ROOM, text=f"{text} ({n})", owner="bob"))
        for n in range(60)
    ]
    assert fake.sink is not None
    fake.sink.frames_received(list(later(*steps)))
    await settled(pilot)
    await pilot.press("H")
    await settled(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


async def test_stepping_through_a_replay_lays_the_screen_out_never() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        screen = await _replay_of_many_actions(pilot, fake)
        progress = screen.panels().query_one("#progress", ProgressPanel)
        counted = _Counted(screen)
        actions = progress.row_count
        assert progress.show_vertical_scrollbar  # more actions than the panel shows
        for _ in range(20):  # each step back takes an action away
            await pilot.press("left")
            await settled(pilot)
        assert progress.row_count == actions - 20
        assert counted.layouts == 0
        assert counted.paints >= 20  # each step painted
