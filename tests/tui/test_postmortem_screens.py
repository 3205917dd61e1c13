"""The post-mortem and the replay in the terminal client: `R` shows the report `warroom report`
writes (user text as text), `H` replays the room (step, key moments, play), and neither sends
a command."""

from __future__ import annotations

from textual.widgets import Markdown

from client.screens.replay import SPEEDS, ReplayScreen
from client.screens.report import ReportScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    MORGAN,
    ROOM,
    Step,
    app_of,
    later,
    rendered,
    replay,
    running,
    seed_events,
    settled,
    shown,
    until,
)
from warroom.core import commands as c
from warroom.core.policy import preview_actor, visible_part
from warroom.core.reducer import replay as fold
from warroom.core.replaying import disclosed_each
from warroom.core.report import report

HOSTILE = "[@click=app.quit]x[/] `tick` <b>bold</b> *star*"


async def test_R_shows_the_post_mortem_of_the_log_and_esc_goes_back(fake):
    pinned = later(Step(MORGAN, 29, c.AddNote(incident=ROOM, text=HOSTILE, pinned=True)))
    async with running(fake, frames=replay(events=[*seed_events(), *pinned])) as pilot:
        await pilot.press("R")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReportScreen)
        state = app_of(pilot).state
        assert screen.document == report((item.event for item in state.log), ROOM, state.cadence)
        # The hostile note is in the document, escaped, and drawn as the words it is.
        markdown = screen.query_one("#report", Markdown)
        assert "\\[@click=app.quit\\]x\\[/\\] \\`tick\\` \\<b\\>bold\\</b\\> \\*star\\*" in (
            screen.document
        )
        await pilot.press("end")
        await settled(pilot)
        drawn = "\n".join(rendered(block) for block in markdown.query("MarkdownParagraph"))
        assert HOSTILE in drawn
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert pilot.app.is_running  # the [@click=app.quit] ran nothing
    assert fake.submits == []


async def test_H_replays_the_room_step_by_step_and_sends_nothing(fake):
    async with running(fake) as pilot:
        await pilot.press("H")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReplayScreen)
        events = [item.event for item in app_of(pilot).state.log if item.event.incident == ROOM]
        last = len(events)
        assert screen.position == last  # it opens on the room as it is

        def actions() -> int:
            return screen.query_one(ProgressPanel).row_count

        def timeline() -> int:
            return screen.query_one(TimelinePanel).row_count

        def folded(position: int) -> int:
            incident = fold(events[:position]).incident(ROOM)
            assert incident is not None
            return len(incident.actions)

        assert actions() == folded(last)
        await pilot.press("home")
        await settled(pilot)
        assert screen.position == 1 and timeline() == 1 and actions() == 0
        assert "event 1 of" in shown(screen.query_one("#scrubber"))
        for _ in range(5):
            await pilot.press("right")
        await settled(pilot)
        assert screen.position == 6 and actions() == folded(6)
        await pilot.press("left")
        await settled(pilot)
        assert screen.position == 5 and actions() == folded(5)
        # Key moments: each jump lands on one, in order, then on the latest event.
        moments = []
        await pilot.press("home")
        for _ in range(len(events)):
            await pilot.press("right_square_bracket")
            await settled(pilot)
            moments.append(screen.position)
            if screen.position == last:
                break
        assert moments == sorted(set(moments)) and moments[-1] == last
        assert len(moments) > 2
        await pilot.press("left_square_bracket")
        await settled(pilot)
        assert screen.position == moments[-2] or screen.position in moments
        # Play runs on by itself, faster with +, and stops at the latest event.
        await pilot.press("home", "plus", "plus", "plus", "plus", "plus")
        assert SPEEDS[screen.speed] == 32
        # At 32 a second the few events may all be played before the next look: the speed is
        # read above, the playing and its stop below.
        await pilot.press("space")
        for _ in range(100):  # 19 events at 32 a second: well within 5 s
            if screen.position == last and "paused" in shown(screen.query_one("#scrubber")):
                break
            await pilot.pause(0.05)
        assert screen.position == last and "paused" in shown(screen.query_one("#scrubber"))
        await pilot.press("home", "space")
        await until(pilot, lambda: screen.position > 1, "the replay to play on")
        await pilot.press("space")
        await settled(pilot)
        paused = screen.position
        assert "paused" in shown(screen.query_one("#scrubber"))
        # The panels' keys do nothing here: the replay is read only.
        await pilot.press("enter", "x", "o", "u", "space", "space", "n", "s")
        await settled(pilot)
        assert isinstance(pilot.app.screen, ReplayScreen)
        await pilot.press("q")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert paused > 1
    assert fake.submits == []


async def test_a_replays_the_room_as_an_audience_received_it(fake):
    async with running(fake) as pilot:
        await pilot.press("H")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReplayScreen)
        events = [item.event for item in app_of(pilot).state.log if item.event.incident == ROOM]
        everyone = preview_actor("all")
        received = [shown for shown in disclosed_each(events, everyone) if shown is not None]
        incident = fold(events).incident(ROOM)
        assert incident is not None
        internal_actions = len(incident.actions)
        seen_actions = len(visible_part(incident, everyone).actions)
        assert seen_actions < internal_actions  # the seeded room keeps some from stakeholders
        await pilot.press("a")
        await settled(pilot)
        await pilot.press("enter")  # the first choice: all stakeholders
        await settled(pilot)
        assert screen.audience == "all"
        assert "as all saw it" in shown(screen.query_one("#replay-banner"))
        assert screen.query_one(ProgressPanel).row_count == seen_actions
        assert screen.query_one(TimelinePanel).row_count == len(received)
        # Stepping keeps the log's positions: the same moment for every viewer.
        await pilot.press("home")
        await settled(pilot)
        assert screen.position == 1
        await pilot.press("a")  # back to the room as the war room saw it
        await settled(pilot)
        await pilot.press("end")
        await settled(pilot)
        assert screen.audience is None
        assert screen.query_one(ProgressPanel).row_count == internal_actions
    assert fake.submits == []
