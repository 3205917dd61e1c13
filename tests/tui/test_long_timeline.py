"""A long timeline lays out only what is on screen: its rows' cells are made as they come into
view, so a room of thousands of entries costs a screenful a change, and a new entry does not lay
the screen out again. Moving through it behaves as a table does (keys, page keys, a click), and
whatever an entry holds shows on its one line, cut with an ellipsis, never obeyed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    ANA,
    MORGAN,
    ROOM,
    FakeConnection,
    Step,
    app_of,
    cursor_row,
    later,
    rendered,
    replay,
    running,
    settled,
)
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core import protocol

ENTRIES = 2_000


def _notes(count: int, more: int = 0) -> list[protocol.ServerFrameType]:
    """`count` notes after the seed; with `more`, the `more` notes after those alone."""
    steps = [
        Step(ANA, 30 + n / 100, c.AddNote(incident=ROOM, text=f"entry {n}"))
        for n in range(count + more)
    ]
    frames = later(*steps)
    return [*frames[count:]] if more else [*frames]


class _Counted:
    """Counts the rows whose cells a timeline makes."""

    def __init__(self, timeline: TimelinePanel) -> None:
        self.made = 0
        made = timeline.cells

        def cells(key: str, row: Any) -> Any:
            self.made += 1
            return made(key, row)

        timeline.cells = cells  # type: ignore[method-assign]


async def _long_room(pilot: Pilot[Any], fake: FakeConnection) -> TimelinePanel:
    assert fake.sink is not None
    fake.sink.frames_received(_notes(ENTRIES))
    await settled(pilot)
    timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
    assert timeline.row_count > ENTRIES
    return timeline


async def test_a_long_timeline_makes_the_cells_of_what_is_on_screen_only() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        counted = _Counted(timeline)
        assert fake.sink is not None
        fake.sink.frames_received(_notes(ENTRIES))
        await settled(pilot)
        screenful = timeline.size.height
        assert timeline.row_count > ENTRIES
        # Each paint makes at most a screenful; a couple of paints happen on the way.
        assert 0 < counted.made <= 4 * screenful, (counted.made, screenful)
        assert f"entry {ENTRIES - 1}" in cursor_row(timeline)  # it follows the newest
        counted.made = 0
        rows = timeline.row_count
        fake.sink.frames_received(_notes(ENTRIES, more=1))
        await settled(pilot)
        assert timeline.row_count == rows + 1
        assert f"entry {ENTRIES}" in cursor_row(timeline)
        # The new row, and the row the cursor left: the others are drawn as they were.
        assert 0 < counted.made <= 3, (counted.made, screenful)


async def test_a_new_entry_does_not_lay_the_screen_out_again() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        await _long_room(pilot, fake)
        screen = pilot.app.screen
        layouts = 0
        lay_out = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            nonlocal layouts
            layouts += 1
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]
        assert fake.sink is not None
        rows = pilot.app.screen.query_one("#timeline", TimelinePanel).row_count
        for n in range(5):
            fake.sink.frames_received(_notes(ENTRIES + n, more=1))
            await settled(pilot)
        assert pilot.app.screen.query_one("#timeline", TimelinePanel).row_count == rows + 5
        assert layouts == 0


async def test_keys_page_and_click_move_the_cursor_and_keep_it_in_view() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        timeline = await _long_room(pilot, fake)
        await pilot.press("2", "home")
        assert timeline.cursor_row == 0 and round(timeline.scroll_y) == 0
        shown = timeline.size.height - 1  # the header takes a line
        await pilot.press("pagedown")
        assert timeline.cursor_row == shown
        assert round(timeline.scroll_y) <= timeline.cursor_row < round(timeline.scroll_y) + shown
        await pilot.press("end")
        assert timeline.cursor_row == timeline.row_count - 1
        assert f"entry {ENTRIES - 1}" in rendered(timeline)
        await pilot.press("k", "k")
        assert timeline.cursor_row == timeline.row_count - 3
        # A click on the third row on screen (under the border and the header) puts the
        # cursor there.
        await pilot.click(TimelinePanel, offset=(10, 4))
        assert timeline.cursor_row == round(timeline.scroll_y) + 2
        detail = pilot.app.screen.query_one("#timeline-detail")
        await settled(pilot)
        assert cursor_row(timeline).split("  ")[-1].split(":")[0] in rendered(detail)


async def test_an_entry_shows_on_one_line_cut_with_an_ellipsis_and_nothing_obeyed() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        # Refused when typed; a hub of another version (or a hostile one) may still send it.
        text = "first line\nsecond line \x1b[31mred\x07 " + "word " * 40
        (frame,) = later(Step(ANA, 40, c.AddNote(incident=ROOM, text="placeholder")))
        assert isinstance(frame.event, e.NoteAdded)
        frame = replace(frame, event=replace(frame.event, text=text))
        assert fake.sink is not None
        fake.sink.frames_received([frame])
        await settled(pilot)
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        lines = rendered(timeline).split("\n")
        row = next(line for line in lines if "first line" in line)
        assert "second line" in row  # joined on its one line
        assert row.rstrip(" │").endswith("…")  # cut at the panel's edge
        assert "\x1b" not in row and "\x07" not in row
        assert app_of(pilot).state.log[-1].event.text == text  # type: ignore[union-attr]


async def test_a_row_drawn_before_is_drawn_again_when_its_pin_changes() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay()) as pilot:
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        assert "note N4:" in rendered(timeline)
        assert "★ note N4:" not in rendered(timeline)
        (pin,) = later(Step(MORGAN, 40, c.PinNote(incident=ROOM, note=4)))
        assert fake.sink is not None
        fake.sink.frames_received([pin])
        await settled(pilot)
        # The note's row is the same row (its event did not change); its star is today's pin.
        assert "★ note N4:" in rendered(timeline)
        (unpin,) = later(
            Step(MORGAN, 40, c.PinNote(incident=ROOM, note=4)),
            Step(MORGAN, 41, c.PinNote(incident=ROOM, note=4, pinned=False)),
        )[1:]
        fake.sink.frames_received([unpin])
        await settled(pilot)
        assert "★ note N4:" not in rendered(timeline)
