"""The keyed panels (progress, workarounds, questions, updates, the lobby) wrap their rows and draw
only the lines on screen: a change to one action wraps that row again and nothing else, and lays
nothing else out. A row grows and shrinks where it stands, the cursor stays on the entry chosen
and the whole of its row is kept in view, and no cell is ever read as markup."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from client.widgets.keyed_table import KeyedTable
from client.widgets.progress_panel import ProgressPanel
from tests.kit.tui import (
    ANA,
    BOB,
    MORGAN,
    ROOM,
    FakeConnection,
    Step,
    app_of,
    later,
    rendered,
    replay,
    running,
    settled,
)
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import ActionState

ACTIONS = 300


class _Wrapped:
    """Counts the rows a table wraps (a row's cells are asked for only to wrap it)."""

    def __init__(self, table: KeyedTable) -> None:
        self.made = 0
        made = table.cells

        def cells(key: str, row: Any) -> Any:
            self.made += 1
            return made(key, row)

        table.cells = cells  # type: ignore[method-assign]


class _Layouts:
    """Counts the times the screen is laid out again."""

    def __init__(self, pilot: Pilot[Any]) -> None:
        self.count = 0
        screen = pilot.app.screen
        lay_out = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            self.count += 1
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]


def _actions(count: int) -> list[Step]:
    text = "check the payments gateway's error codes in the logs of every region"
    return [
        Step(BOB, 30 + n / 100, c.AddAction(incident=ROOM, text=f"{text} ({n})", owner="bob"))
        for n in range(count)
    ]


class _Room:
    """The seeded room, and what happens in it after: each step sent to the client once."""

    def __init__(self, fake: FakeConnection) -> None:
        self.fake = fake
        self.steps: list[Step] = []
        self.sent = 0

    async def more(self, pilot: Pilot[Any], *steps: Step) -> None:
        self.steps += steps
        frames = later(*self.steps)
        assert self.fake.sink is not None
        self.fake.sink.frames_received([*frames[self.sent :]])
        self.sent = len(frames)
        await settled(pilot)


async def _long_progress(pilot: Pilot[Any], room: _Room) -> ProgressPanel:
    await room.more(pilot, *_actions(ACTIONS))
    progress = pilot.app.screen.query_one("#progress", ProgressPanel)
    assert progress.row_count > ACTIONS
    return progress


def _advance(action: int, minutes: float) -> Step:
    command = c.ChangeActionState(incident=ROOM, action=action, state=ActionState.IN_PROGRESS)
    return Step(BOB, minutes, command)


def _rows_at(progress: ProgressPanel) -> dict[str, int]:
    """The line each action's row starts on, among the panel's lines with text."""
    lines = [line for line in rendered(progress).split("\n") if line.strip("│ ")]
    return {
        line.split()[1]: n
        for n, line in enumerate(lines)
        if len(line.split()) > 1 and line.split()[1][:1] == "A"
    }


async def test_a_change_to_one_action_wraps_that_row_alone_and_lays_nothing_out() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        room = _Room(fake)
        progress = await _long_progress(pilot, room)
        first = len(app_of(pilot).state.world.incidents[ROOM].actions) - ACTIONS + 1
        # The first change may lay the screen out once (the line under the timeline goes
        # from a note's two lines to an action's one); the ones after it, never.
        await room.more(pilot, _advance(first, 39))
        wrapped = _Wrapped(progress)
        layouts = _Layouts(pilot)
        for n in range(1, 5):
            await room.more(pilot, _advance(first + n, 40 + n))
        assert wrapped.made <= 4, wrapped.made  # each changed row once, no other
        assert layouts.count == 0
        # The five now stand among the actions in progress, before the next steps.
        keys = progress.ordered_keys
        assert keys.index(f"A{first + 4}") < keys.index(f"A{first + 5}")
        assert keys.index(f"A{first + 4}") < keys.index("A2")  # A2 is a next step


async def test_a_row_grows_and_shrinks_where_it_stands_and_the_rows_below_follow() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        room = _Room(fake)
        progress = pilot.app.screen.query_one("#progress", ProgressPanel)
        before = _rows_at(progress)
        owner = "a-rather-long-owner-name-" * 3
        await room.more(
            pilot, Step(MORGAN, 31, c.AssignAction(incident=ROOM, action=1, owner=owner))
        )
        grown = _rows_at(progress)
        assert grown["A1"] == before["A1"]
        assert grown["A2"] - grown["A1"] > before["A2"] - before["A1"]  # A1 took more lines
        assert "a-rather-long" in rendered(progress)
        await room.more(
            pilot, Step(MORGAN, 32, c.AssignAction(incident=ROOM, action=1, owner="bob"))
        )
        assert _rows_at(progress) == before  # as it was


async def test_the_cursor_stays_on_the_chosen_action_and_its_whole_row_in_view() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        room = _Room(fake)
        progress = await _long_progress(pilot, room)
        await pilot.press("3", "home")
        assert progress.cursor_row == 0 and round(progress.scroll_y) == 0
        shown = progress.scrollable_content_region.height - 1  # the header takes a line
        for _ in range(3):
            before = progress.cursor_row
            await pilot.press("pagedown")
            top = round(progress.scroll_y)
            assert progress.cursor_row > before
            start, end = progress._lines()[progress.cursor_row : progress.cursor_row + 2]
            assert top <= start and end <= top + shown, (top, start, end, shown)
        chosen = progress.selected_key
        row = progress.cursor_row
        assert chosen is not None
        # An action moves in progress, above the chosen one: the cursor follows the entry
        # (a row further down), not the row number.
        newest = len(app_of(pilot).state.world.incidents[ROOM].actions)
        await room.more(pilot, _advance(newest, 50))
        assert progress.selected_key == chosen
        assert progress.cursor_row == row + 1
        await pilot.press("end")
        assert progress.cursor_row == progress.row_count - 1
        start, end = progress._lines()[-2:]
        top = round(progress.scroll_y)
        assert top <= start and end <= top + shown


async def test_a_cell_shows_its_text_and_no_markup_is_read_from_it() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        text = "[bold red]not bold[/] [link=http://x]no link[/link] \x1b[31mred\x07 end"
        # Refused when typed; a hub of another version (or a hostile one) may still send it.
        (frame,) = later(Step(ANA, 40, c.AddAction(incident=ROOM, text="placeholder")))
        assert isinstance(frame.event, e.ActionAdded)
        assert fake.sink is not None
        fake.sink.frames_received([replace(frame, event=replace(frame.event, text=text))])
        await settled(pilot)
        progress = pilot.app.screen.query_one("#progress", ProgressPanel)
        key = f"A{frame.event.action}"
        progress.move_cursor(row=progress.get_row_index(key))  # its whole row in view
        await settled(pilot)
        # The action's column, line by line, as drawn on screen.
        lines = rendered(progress).split("\n")
        left = next(line for line in lines if "action (owner)" in line).index("action (owner)")
        start = next(n for n, line in enumerate(lines) if f" {key} " in line)
        end = next(
            (n for n, line in enumerate(lines[start + 1 :], start + 1) if line[1:6].strip()),
            len(lines),
        )
        shown = " ".join(line[left:].strip("│ ") for line in lines[start:end])
        assert "[bold red]not bold[/] [link=http://x]no link[/link]" in shown, shown
        assert "\x1b" not in rendered(progress) and "\x07" not in rendered(progress)
