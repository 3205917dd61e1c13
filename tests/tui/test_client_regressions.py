"""Client behaviours that once went wrong: each test states what a user should see."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Label

from client.app import WarRoomApp
from client.screens.eta import EtaScreen
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    BOB,
    MORGAN,
    NOW,
    ROOM,
    FakeConnection,
    Step,
    connect,
    cursor_row,
    later,
    replay,
    running,
    seed_events,
    settled,
    shown,
    submitted,
)
from warroom.core import commands as c
from warroom.core.domain import ActionState, Confidence


async def test_editing_only_the_confidence_keeps_an_eta_of_another_day(fake):
    """The ETA form shows the current ETA as HH:MM and reads it back as today: an ETA for
    tomorrow 10:00 becomes today 10:00 (in the past) when only the confidence is changed."""
    tomorrow = NOW + timedelta(hours=20)  # Nov 28 10:00 UTC; the clock says Nov 27 14:30
    eta = later(Step(MORGAN, 29, c.SetEta(incident=ROOM, eta=tomorrow, base_version=1)))
    async with running(fake, frames=replay(events=[*seed_events(), *eta])) as pilot:
        await pilot.press("e")
        assert isinstance(pilot.app.screen, EtaScreen)
        await pilot.press("tab", "enter", "down", "enter", "ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.SetEta(
        incident=ROOM, eta=tomorrow, confidence=Confidence.HIGH, base_version=2
    )


async def test_a_live_reorder_keeps_the_cursor_on_the_same_action(fake):
    """Rows are re-sorted under a cursor that keeps its index: when another responder starts
    A4, the cursor that was on A2 lands on A4 and x drops the wrong action."""
    async with running(fake) as pilot:
        await pilot.press("3", "down")
        progress = pilot.app.screen.query_one(ProgressPanel)
        assert cursor_row(progress).startswith("A2")
        started = c.ChangeActionState(incident=ROOM, action=4, state=ActionState.IN_PROGRESS)
        fake.push(*later(Step(BOB, 29, started)))
        await settled(pilot)
        await pilot.press("x")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeActionState(incident=ROOM, action=2, state=ActionState.DROPPED)


async def test_a_backdated_live_note_keeps_the_cursor_on_the_same_note(fake):
    """Same with the timeline: a backdated note sorts in above the cursor, the cursor stays at
    its index, and space pins another note than the one the user was on."""
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        await pilot.press("home", "down")
        assert "note N1:" in cursor_row(timeline)
        early = c.AddNote(incident=ROOM, text="First alert", occurred_at=NOW - timedelta(hours=1))
        fake.push(*later(Step(BOB, 29, early)))
        await settled(pilot)
        await pilot.press("space")
        submit = await submitted(pilot, fake)
    assert submit.command == c.PinNote(incident=ROOM, note=1, pinned=False)


async def test_after_midnight_the_timeline_dates_yesterday_s_entries():
    """Times of today show as HH:MM, others with their date; but rows already shown keep the
    'today' of when they were added, so after midnight yesterday's 14:20 and today's 00:05 read
    as the same day."""
    fake = FakeConnection()
    now = [NOW + timedelta(minutes=30)]
    app = WarRoomApp(connection=fake, incident=ROOM, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await connect(pilot, fake)
        timeline = app.screen.query_one(TimelinePanel)
        assert str(timeline.get_row_at(0)[0]) == "13:45"
        now[0] = NOW + timedelta(hours=10, minutes=10)  # Nov 28 00:10
        fake.push(*later(Step(BOB, 605, c.AddNote(incident=ROOM, text="After midnight"))))
        await settled(pilot)
        times = [str(timeline.get_row_at(row)[0]) for row in range(timeline.row_count)]
    assert times[0] == "Nov27 13:45", times
    assert times[-1] == "00:05", times


async def test_the_eta_form_shows_which_version_it_edits(fake):
    """The ETA form's first label is wider than the form and does not wrap: '..., editing v1'
    is cut to '..., editin' (the form error line had the same problem, fixed in cb096d2)."""
    async with running(fake) as pilot:
        await pilot.press("e")
        label = pilot.app.screen.query_one(".form-fields Label", Label)
        assert str(label.content).endswith("editing v1")
        fields = pilot.app.screen.query_one(".form-fields")
        assert label.region.right <= fields.content_region.right, (label.region, fields.region)


async def test_the_timeline_detail_describes_the_highlighted_entry(fake):
    """The line under the timeline follows RowHighlighted, which is sent when rows are added,
    not when a re-sort (backdated notes) brings another row under the cursor: on opening the
    war room the cursor is on N2 (13:45) but the detail describes the declaration (14:00)."""
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        await pilot.press("home")
        await settled(pilot)
        assert "note N2:" in cursor_row(timeline)
        detail = shown(pilot.app.screen.query_one("#timeline-detail"))
        assert "note N2" in detail, detail


async def test_the_timeline_follows_new_entries_unless_the_user_moved_up(fake):
    """Like tail -f: the room opens on the newest entry and follows what arrives; a user who
    moved up to read is left where they are."""
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        assert timeline.cursor_row == timeline.row_count - 1
        first, second = later(
            Step(BOB, 29, c.AddNote(incident=ROOM, text="newest news")),
            Step(BOB, 29, c.AddNote(incident=ROOM, text="even newer")),
        )
        fake.push(first)
        await settled(pilot)
        assert "newest news" in cursor_row(timeline)
        await pilot.press("up", "up")
        reading = cursor_row(timeline)
        fake.push(second)
        await settled(pilot)
        assert cursor_row(timeline) == reading
        assert "even newer" in str(timeline.get_row_at(timeline.row_count - 1)[2])
