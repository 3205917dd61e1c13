"""The post-mortem and the replay in the terminal client: `R` shows the report `warroom report`
writes (user text as text), `H` replays the room (step, key moments, play), and neither sends
a command."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import pytest
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Markdown

from client.app import WarRoomApp
from client.screens.replay import SPEEDS, ReplayScreen
from client.screens.report import ReportScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.keyed_table import KeyedTable
from client.widgets.line_table import LineTable
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    MORGAN,
    ROOM,
    SIZE,
    FakeConnection,
    Step,
    app_of,
    connect,
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
from warroom.core import protocol
from warroom.core.disclosure import Sealer
from warroom.core.domain import Actor, Role, World
from warroom.core.policy import disclosed, preview_actor, visible_part
from warroom.core.reducer import apply
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
        assert screen.position == moments[-2]  # back to the one before the latest
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
        assert screen.panels().query_one(ProgressPanel).row_count == seen_actions
        assert screen.panels().query_one(TimelinePanel).row_count == len(received)
        # Stepping keeps the log's positions: the same moment for every viewer.
        await pilot.press("home")
        await settled(pilot)
        assert screen.position == 1
        await pilot.press("a")  # back to the room as the war room saw it
        await settled(pilot)
        await pilot.press("end")
        await settled(pilot)
        assert screen.audience is None
        assert screen.panels().query_one(ProgressPanel).row_count == internal_actions
    assert fake.submits == []


OLGA = Actor("olga", Role.OBSERVER)


def _holds(app: WarRoomApp, count: int) -> bool:
    """True once the open room's log holds `count` events."""
    return len(app.state.log) == count


def _panels(screen: Screen[Any]) -> dict[str, object]:
    """What every panel of a room shows, as text: the header, the impact statement, the
    timeline's title and rows, and the rows of progress, mitigation and questions."""
    view: Widget = screen.panels() if isinstance(screen, ReplayScreen) else screen

    def rows(selector: str) -> list[list[str]]:
        table = view.query_one(selector)
        assert isinstance(table, LineTable), table
        return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]

    timeline = view.query_one("#timeline", TimelinePanel)
    return {
        # Who was in the room is not in the log: the replay says nothing of it.
        "header": shown(screen.query_one("#header")).replace("  in room: -", ""),
        # As laid out: padding and wrapping show, the blank cells to the right do not.
        "impact": "\n".join(
            line.rstrip() for line in rendered(view.query_one("#impact-body")).split("\n")
        ).rstrip(),
        # The live room's title starts with the key that jumps to it (2).
        "timeline title": str(timeline.border_title).removeprefix("2 "),
        "timeline": rows("#timeline"),
        "progress": rows("#progress"),
        "mitigation": rows("#mitigation"),
        "questions": rows("#questions"),
    }


@pytest.mark.parametrize("who", [MORGAN, OLGA], ids=["incident-manager", "observer"])
async def test_each_step_of_the_replay_shows_every_panel_as_the_live_room_did(
    who: Actor,
) -> None:
    """The room is followed live, one event at a time with the clock at that event, and every
    panel noted; then each position of the replay must show exactly that."""
    fake = FakeConnection()
    frames = [frame for frame in seed_events() if frame.event.incident == ROOM]
    clock: list[datetime] = [frames[0].event.at]
    app = WarRoomApp(connection=fake, incident=ROOM, clock=lambda: clock[0])
    async with app.run_test(size=SIZE) as pilot:
        await connect(pilot, fake, replay(user=who.name, role=who.role, events=frames[:1]))
        live = [_panels(pilot.app.screen)]
        for count, frame in enumerate(frames[1:], 2):
            clock[0] = frame.event.at
            fake.push(frame)
            await until(pilot, partial(_holds, app, count), "the event")
            await settled(pilot)
            live.append(_panels(pilot.app.screen))
        assert live[-1]["progress"] and live[-1]["questions"]  # the room fills up
        await pilot.press("H")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReplayScreen) and len(screen._log) == len(live)
        for position in [*range(len(live), 0, -1), *range(1, len(live) + 1)]:
            screen.show_position(position)
            await settled(pilot)
            then = _panels(screen)
            was = live[position - 1]
            incident = screen._replayer.incident_at(position, ROOM)
            assert incident is not None
            if who is MORGAN and not incident.impact.statement:
                # Before there is a statement the live room tells the incident manager which
                # key sets it; the replay, where no key edits anything, does not.
                was, then = {**was, "impact": ""}, {**then, "impact": ""}
            assert then == was, position
    assert fake.submits == []


ERIN = Actor("erin", Role.STAKEHOLDER, frozenset({"exec"}))
"""A member of the exec group who asked nothing: she sees what the group is shown."""


def _stakeholder_panels(screen: Screen[Any]) -> dict[str, object]:
    """What a stakeholder's room shows (`_panels`, with the updates sent to them); titles
    differ by the keys that jump to a panel and by whose updates they are."""
    view: Widget = screen.panels() if isinstance(screen, ReplayScreen) else screen
    seen = _panels(screen)
    seen["timeline title"] = str(seen["timeline title"]).removeprefix("2 ")
    updates = view.query_one("#updates", KeyedTable)
    seen["updates"] = [
        [str(cell) for cell in updates.get_row_at(i)] for i in range(updates.row_count)
    ]
    return seen


async def test_replaying_as_a_group_shows_what_a_member_of_it_received_live():
    """Erin of the exec group follows the room live in her own room, the hub's way: each event
    disclosed to her against the room it was folded into, its numbers disguised. Wherever she
    received something, the war room's replay as exec shows every panel as she had it."""
    sealer = Sealer(b"tui-replay-secret-0123456789abcdef")
    frames = [frame for frame in seed_events() if frame.event.incident == ROOM]
    world = World()
    received: list[tuple[int, protocol.EventFrame]] = []
    for position, frame in enumerate(frames, 1):
        world = apply(world, frame.event)
        shown_to_her = disclosed(ERIN, frame.event, world)
        if shown_to_her is not None:
            assert isinstance(frame.seq, int)
            sealed = sealer.event(shown_to_her)
            received.append(
                (position, protocol.EventFrame(seq=sealer.cursor(frame.seq), event=sealed))
            )
    assert 1 < len(received) < len(frames)  # the seeded room keeps some from exec
    clock: list[datetime] = [frames[0].event.at]
    fake = FakeConnection()
    theirs: dict[int, dict[str, object]] = {}
    app = WarRoomApp(connection=fake, incident=ROOM, clock=lambda: clock[0])
    async with app.run_test(size=SIZE) as pilot:
        first_position, first = received[0]
        welcome = protocol.Welcome(
            user=ERIN.name, role=ERIN.role.value, groups=("exec",), head=first.seq
        )
        await connect(pilot, fake, [welcome, first, protocol.Synced(head=first.seq)])
        assert isinstance(pilot.app.screen, StakeholderRoomScreen)
        theirs[first_position] = _stakeholder_panels(pilot.app.screen)
        for count, (position, frame) in enumerate(received[1:], 2):
            clock[0] = frames[position - 1].event.at
            fake.push(frame)
            await until(pilot, partial(_holds, app, count), "the event")
            await settled(pilot)
            theirs[position] = _stakeholder_panels(pilot.app.screen)
    assert theirs[max(theirs)]["updates"]  # an update reached her

    fake = FakeConnection()
    async with running(fake, frames=replay(events=frames)) as pilot:
        await pilot.press("H")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("a")
        await settled(pilot)
        await pilot.press("down", "enter")  # group exec
        await settled(pilot)
        assert screen.audience == "exec"
        for position, was in theirs.items():
            screen.show_position(position)
            await settled(pilot)
            assert _stakeholder_panels(screen) == was, position
    assert fake.submits == []
