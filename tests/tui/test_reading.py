"""Every entry reads whole: Enter on the timeline and r on the other panels open it in a
scrollable, copyable view; the impact statement scrolls; / searches the timeline; a user reading
further up is told what arrived below; a new stakeholder question is announced to the incident
manager and counted in the header."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import TextArea

from client.screens.entry import EntryScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    ANA,
    BOB,
    CAROL,
    MORGAN,
    ROOM,
    Step,
    cursor_row,
    later,
    messages,
    paste,
    replay,
    running,
    settled,
    shown,
    stakeholder_replay,
    type_text,
    until,
)
from warroom.core import commands as c
from warroom.core.domain import Role

LOG = "\n".join(
    [
        "kubectl logs payments-gateway-7f9c --since=10m",
        "2026-11-27T14:21:07Z ERROR acquirer timeout after 30000ms card=[REDACTED] [bold]x[/]",
        "2026-11-27T14:21:09Z ERROR acquirer timeout after 30000ms retry=3",
        "\tat Gateway.charge(Gateway.java:212)",
        *(f"2026-11-27T14:22:{n:02}Z WARN queue depth {n * 100}" for n in range(30)),
        "the very last line of the log",
    ]
)


def _body(pilot: Pilot[None]) -> str:
    screen = pilot.app.screen
    assert isinstance(screen, EntryScreen), f"{screen!r} is not the reading view"
    return screen.query_one("#body", TextArea).text


async def test_enter_on_a_timeline_row_opens_the_whole_note_as_plain_text(fake):
    async with running(fake) as pilot:
        fake.push(*later(Step(ANA, 29, c.AddNote(incident=ROOM, text=LOG))))
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        await until(pilot, lambda: "kubectl" in cursor_row(timeline), "the cursor on the log")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the entry")
        body = _body(pilot)
        # Every line, markup and all, as typed; nothing cut at the panel's edge.
        assert LOG in body
        assert "[bold]x[/]" in body and body.endswith("the very last line of the log")
        assert "ana" in shown(pilot.app.screen.query_one(".form-title"))
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, WarRoomScreen)


async def test_r_reads_an_action_a_workaround_and_a_question_whole(fake):
    async with running(fake) as pilot:
        for panel, moves, wanted in (
            ("3", (), "Roll back payments-gateway deploy 4812"),
            ("4", (), "Route EU card payments through the US acquirer"),
            ("5", ("end",), "Is this on the status page?\n\n→ answered by morgan"),
        ):
            await pilot.press(panel, *moves, "r")
            await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the entry")
            assert wanted in _body(pilot)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(pilot.app.screen, WarRoomScreen), "the room")


async def test_a_stakeholder_reads_an_answer_without_numbers_or_audiences(fake):
    async with running(fake, frames=stakeholder_replay(CAROL)) as pilot:
        await pilot.press("5", "r")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the entry")
        heading = shown(pilot.app.screen.query_one(".form-title"))
        assert "Q" not in heading.split()[0] and "to all" not in _body(pilot)


async def test_a_long_impact_statement_scrolls_and_reads_whole(fake):
    statement = " ".join(f"Region {n} cannot pay by card." for n in range(60))
    async with running(fake, size=(80, 24)) as pilot:
        fake.push(
            *later(
                Step(MORGAN, 29, c.SetImpact(incident=ROOM, statement=statement, base_version=1))
            )
        )
        impact = pilot.app.screen.query_one("#impact", ImpactPanel)
        await until(pilot, lambda: impact.max_scroll_y > 0, "a statement taller than the panel")
        await pilot.press("1", "down", "down")
        await until(pilot, lambda: impact.scroll_y > 0, "the statement scrolled")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the entry")
        assert statement in _body(pilot)


async def test_slash_narrows_the_timeline_as_you_type_and_esc_clears_it(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        everything = timeline.row_count
        await pilot.press("2", "slash")
        await type_text(pilot, "ROLLB")
        await until(pilot, lambda: timeline.row_count == 1, "one match")
        assert "Rollback at 60%" in cursor_row(timeline)
        await pilot.press("enter")
        assert pilot.app.focused is timeline
        assert "/ROLLB" in str(timeline.border_title)
        await pilot.press("escape")
        await until(pilot, lambda: timeline.row_count == everything, "every entry back")
        assert "/" not in str(timeline.border_title)
        # Esc in the box clears it too.
        await pilot.press("slash")
        await paste(pilot, "nothing matches this")
        await until(pilot, lambda: timeline.row_count == 0, "no match")
        await pilot.press("escape")
        await until(pilot, lambda: timeline.row_count == everything, "every entry back")
        assert pilot.app.focused is timeline


async def test_new_entries_below_are_counted_until_the_reader_is_back_at_the_bottom(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one("#timeline", TimelinePanel)
        await pilot.press("2", "home")
        one, two, three = later(
            Step(BOB, 29, c.AddNote(incident=ROOM, text="one")),
            Step(BOB, 29.5, c.AddNote(incident=ROOM, text="two")),
            Step(BOB, 29.7, c.AddNote(incident=ROOM, text="three")),
        )
        fake.push(one, two)
        await until(pilot, lambda: timeline.unseen == 2, "two unseen entries")
        assert "2 new below" in str(timeline.border_subtitle)
        assert timeline.cursor_row == 0
        await pilot.press("end")
        await until(pilot, lambda: not timeline.border_subtitle, "the marker cleared")
        # Following the newest again: the next entry is followed, not counted.
        fake.push(three)
        await until(pilot, lambda: "three" in cursor_row(timeline), "the cursor follows")
        assert timeline.unseen == 0


async def test_a_new_question_is_announced_and_counted_for_the_incident_manager(fake):
    async with running(fake) as pilot:
        header = pilot.app.screen.query_one("#header", IncidentHeader)
        assert "2 open questions" in shown(header)
        fake.push(*later(Step(CAROL, 29, c.AskQuestion(incident=ROOM, text="Refunds [b]when[/]?"))))
        await until(pilot, lambda: "3 open questions" in shown(header), "the count")
        assert any("Refunds [b]when[/]?" in text for _, _, text in messages(pilot.app))
        await settled(pilot)


async def test_a_responder_gets_no_question_alert(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        header = pilot.app.screen.query_one("#header", IncidentHeader)
        fake.push(*later(Step(CAROL, 29, c.AskQuestion(incident=ROOM, text="Refunds?"))))
        await settled(pilot)
        await settled(pilot)
        assert "open question" not in shown(header)
        assert not any("Refunds?" in text for _, _, text in messages(pilot.app))
