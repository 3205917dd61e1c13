"""What the server says back: pending commands, acks, refusals and conflicts, live events, and the
link going down and coming back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.pilot import Pilot
from textual.widgets import Button, TextArea

from client.screens.conflict import ConflictScreen
from client.screens.impact import ImpactScreen
from client.screens.war_room import WarRoomScreen
from client.state import Link
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    ANA,
    BOB,
    CLOCK,
    ROOM,
    FakeConnection,
    Step,
    app_of,
    later,
    messages,
    paste,
    rendered,
    replay,
    running,
    settled,
    shown,
    submitted,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import Confidence
from warroom.core.rejections import EtaConflict, ImpactConflict

THEIRS = ImpactConflict(version=2, statement="theirs", customer_facing=False, updated_by="bob")


def _link(pilot: Pilot[None]) -> str:
    return shown(pilot.app.screen.query_one("#link"))


async def _note(
    pilot: Pilot[None], fake: FakeConnection, text: str = "Pods restarted", count: int = 1
) -> protocol.Submit:
    await pilot.press("n")
    await paste(pilot, text)
    await pilot.press("ctrl+s")
    return await submitted(pilot, fake, count)


# Pending commands and the server's answers -----------------------------------------------------


async def test_a_command_shows_as_sending_until_its_ack(fake):
    async with running(fake) as pilot:
        submit = await _note(pilot, fake)
        fake.push(protocol.Ack(id="someone-else-s", seq=22))
        await settled(pilot)
        assert _link(pilot) == "● online  morgan (incident-manager)  ⧗ sending 1: note"
        fake.push(*later(Step(ANA, 30, submit.command)), protocol.Ack(id=submit.id, seq=22))
        await settled(pilot)
        assert _link(pilot) == "● online  morgan (incident-manager)"
        assert ("information", "", "Done: note") in messages(pilot.app)
        assert app_of(pilot).state.pending == {}


async def test_a_refusal_is_notified_with_its_reason(fake):
    async with running(fake) as pilot:
        submit = await _note(pilot, fake)
        reason = "a user with role responder may not add notes"
        fake.push(protocol.RejectedFrame(id=submit.id, code="forbidden", message=reason))
        await settled(pilot)
        assert ("error", "Refused: note", reason) in messages(pilot.app)
        assert "sending" not in _link(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)


async def _stale_impact(pilot: Pilot[None], fake: FakeConnection) -> protocol.Submit:
    """Open the impact form on v1, let bob save v2 meanwhile, save 'mine' on v1: refused."""
    await pilot.press("i")
    fake.push(*later(Step(BOB, 29, c.SetImpact(incident=ROOM, statement="theirs", base_version=1))))
    await pilot.pause()
    await pilot.press("f7")  # select all: the paste replaces the statement
    await paste(pilot, "mine")
    await pilot.press("ctrl+s")
    submit = await submitted(pilot, fake)
    assert submit.command == c.SetImpact(
        incident=ROOM, statement="mine", customer_facing=True, base_version=1, audience="all"
    )
    message = "the impact statement of INC-2 changed since version 1: version 2 by bob is current"
    fake.push(
        protocol.RejectedFrame(id=submit.id, code="conflict", message=message, current=THEIRS)
    )
    await settled(pilot)
    return submit


async def test_a_conflict_shows_both_versions_and_k_keeps_mine(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        screen = pilot.app.screen
        assert isinstance(screen, ConflictScreen)
        assert shown(screen.query_one("#theirs")) == "theirs"
        assert shown(screen.query_one("#mine")) == "mine"
        assert [b.id for b in screen.query(Button)] == ["keep-mine", "take-theirs", "merge"]
        await pilot.press("k")
        submit = await submitted(pilot, fake, 2)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    assert submit.command == c.SetImpact(
        incident=ROOM, statement="mine", customer_facing=True, base_version=2, audience="all"
    )


async def test_a_conflict_m_merges_both_texts_in_the_impact_form(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        await pilot.press("m")
        screen = pilot.app.screen
        assert isinstance(screen, ImpactScreen)
        assert screen.query_one("#statement", TextArea).text == "theirs\nmine"
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake, 2)
    # Their text and version, your flags (customer-facing, to all): the merge is yours to save.
    assert submit.command == c.SetImpact(
        incident=ROOM,
        statement="theirs\nmine",
        customer_facing=True,
        base_version=2,
        audience="all",
    )


async def test_a_conflict_t_takes_theirs_and_sends_nothing(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        await pilot.press("t")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert len(fake.submits) == 1
        impact = rendered(pilot.app.screen.query_one("#impact-body"))
        assert "internal impact only  v2  to internal" in impact
        assert any(line.startswith("theirs ") for line in impact.splitlines())


async def test_an_eta_conflict_cannot_be_merged_but_can_be_kept(fake):
    async with running(fake) as pilot:
        await pilot.press("e")
        await pilot.press(*"+1h", "ctrl+s")
        submit = await submitted(pilot, fake)
        current = EtaConflict(
            version=2, eta=datetime(2026, 11, 27, 15, 10, tzinfo=UTC), confidence=None, set_by="bob"
        )
        fake.push(
            protocol.RejectedFrame(
                id=submit.id, code="conflict", message="the ETA changed", current=current
            )
        )
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConflictScreen)
        assert shown(screen.query_one("#theirs")) == "2026-11-27 15:10"  # local time (TZ=UTC)
        assert screen.check_action("resolve", ("merge",)) is False
        assert [b.id for b in screen.query(Button)] == ["keep-mine", "take-theirs"]
        await pilot.press("m")
        await settled(pilot)
        assert pilot.app.screen is screen
        await pilot.press("k")
        kept = await submitted(pilot, fake, 2)
    assert kept.command == c.SetEta(
        incident=ROOM, eta=CLOCK + timedelta(hours=1), confidence=Confidence.MEDIUM, base_version=2
    )


# Live events -----------------------------------------------------------------------------------


async def test_a_live_event_shows_without_a_key_press_and_only_once(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        progress = pilot.app.screen.query_one(ProgressPanel)
        assert (timeline.row_count, progress.row_count) == (19, 4)
        note, other, action = later(
            Step(ANA, 29, c.AddNote(incident=ROOM, text="Error rate back to normal")),
            Step(ANA, 29, c.AddNote(incident=ROOM, text="Monitoring")),
            Step(BOB, 29, c.AddAction(incident=ROOM, text="Close the status page entry")),
        )
        fake.push(note)
        await settled(pilot)
        assert timeline.row_count == 20
        assert "note N5: Error rate back to normal" in str(timeline.get_row_at(19)[2])
        fake.push(note)
        await settled(pilot)
        assert timeline.row_count == 20
        assert str(timeline.border_title) == "2 Timeline (all, 20)"
        fake.push(note, other, action)
        await settled(pilot)
        assert (timeline.row_count, progress.row_count) == (22, 5)


async def test_a_live_pin_marks_the_note_and_a_backdated_note_is_sorted_into_place(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        assert str(timeline.get_row_at(0)[2]).startswith("note N2:")
        early = c.AddNote(
            incident=ROOM, text="First alert", occurred_at=CLOCK - timedelta(minutes=50)
        )
        pin = c.PinNote(incident=ROOM, note=2, pinned=True)
        fake.push(*later(Step(BOB, 29, pin), Step(ANA, 29, early)))
        await settled(pilot)
        assert str(timeline.get_row_at(0)[2]) == "note N5: First alert"
        assert str(timeline.get_row_at(1)[2]).startswith("★ note N2:")


# The link ----------------------------------------------------------------------------------------


async def test_a_dropped_link_shows_offline_and_holds_commands(fake):
    async with running(fake) as pilot:
        fake.push(protocol.Presence(incident=ROOM, users=("ana",)))
        await settled(pilot)
        fake.drop("connection lost; reconnecting")
        await settled(pilot)
        assert app_of(pilot).state.link is Link.OFFLINE
        assert _link(pilot).startswith("✕ OFFLINE")
        assert "connection lost; reconnecting" in _link(pilot)
        assert "in room: -" in shown(pilot.app.screen.query_one("#header"))
        await pilot.press("n")
        await paste(pilot, "Written offline")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert fake.submits == []
        assert ("warning", "", "note: offline, will be sent on reconnect") in messages(pilot.app)
        assert "⧗ sending 1: note" in _link(pilot)
        fake.up()
        await settled(pilot)
        assert _link(pilot).startswith("… connecting")
        assert "connecting to ws://hub" in _link(pilot)
        assert "OFFLINE" not in _link(pilot)


async def test_after_a_reconnect_pending_commands_are_sent_again_with_the_same_ids(fake):
    async with running(fake) as pilot:
        online = await _note(pilot, fake, "Sent before the drop")
        fake.drop()
        await settled(pilot)
        await pilot.press("n")
        await paste(pilot, "Written offline")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert len(fake.submits) == 1
        before = len(fake.sent)
        fake.up()
        fake.push(*replay(events=[]))
        await settled(pilot)
        resent = fake.sent[before:]
        assert resent[0] == protocol.View(incident=ROOM)
        # The room is read again: what happened while the link was down is in no summary.
        assert isinstance(resent[1], protocol.Read) and resent[1].incident == ROOM
        submits = [frame for frame in resent if isinstance(frame, protocol.Submit)]
        offline_id = next(key for key in app_of(pilot).state.pending if key != online.id)
        assert [frame.id for frame in submits] == [online.id, offline_id]
        assert resent[2:] == submits
        notes = [f.command for f in submits if isinstance(f.command, c.AddNote)]
        assert [note.text for note in notes] == ["Sent before the drop", "Written offline"]
        assert _link(pilot).startswith("● online  morgan (incident-manager)  ⧗ sending 2")
