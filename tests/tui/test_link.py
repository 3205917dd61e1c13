"""What the server says back: pending commands, acks, refusals and conflicts, live events, and the
link going down and coming back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.pilot import Pilot
from textual.widgets import Button, Input, TextArea

from client.screens.confirm import ConfirmScreen
from client.screens.conflict import ConflictScreen
from client.screens.eta import EtaScreen
from client.screens.impact import ImpactScreen
from client.screens.note import NoteScreen
from client.screens.prompt import PromptScreen
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
    type_text,
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


async def test_a_refused_note_opens_again_with_what_was_typed_and_the_reason(fake):
    async with running(fake) as pilot:
        submit = await _note(pilot, fake)
        reason = "the note is longer than 4000 characters"
        fake.push(protocol.RejectedFrame(id=submit.id, code="invalid", message=reason))
        await settled(pilot)
        assert ("error", "Refused: note", reason) in messages(pilot.app)
        assert app_of(pilot).state.pending == {}
        form = pilot.app.screen
        assert isinstance(form, NoteScreen)
        assert form.query_one("#text", TextArea).text == "Pods restarted"
        assert rendered(form.query_one("#form-error")).strip() == reason
        await pilot.press("ctrl+s")  # sent again, as typed
        again = await submitted(pilot, fake, 2)
    assert again.command == submit.command


async def test_a_refused_prompt_opens_again_with_what_was_typed_and_the_reason(fake):
    async with running(fake) as pilot:
        await pilot.press("p")
        await pilot.press("enter")  # + add an application…
        await type_text(pilot, "ledger")
        await pilot.press("enter")
        submit = await submitted(pilot, fake)
        reason = "an incident names at most 50 applications"
        fake.push(protocol.RejectedFrame(id=submit.id, code="invalid", message=reason))
        await settled(pilot)
        assert ("error", "Refused: add ledger", reason) in messages(pilot.app)
        prompt = pilot.app.screen
        assert isinstance(prompt, PromptScreen)
        assert prompt.query_one("#value", Input).value == "ledger"
        assert rendered(prompt.query_one("#form-error")).strip() == reason
        await pilot.press("enter")  # sent again, as typed
        again = await submitted(pilot, fake, 2)
    assert again.command == submit.command == c.AddApp(incident=ROOM, app="ledger")


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


async def test_a_conflict_shows_every_field_of_both_versions_and_k_keeps_mine(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        screen = pilot.app.screen
        assert isinstance(screen, ConflictScreen)
        assert shown(screen.query_one("#differs")) == "Differs: text, customer-facing, audience"
        assert shown(screen.query_one("#theirs")).splitlines() == [
            "≠ text: theirs",
            "≠ customer-facing: no",
            "≠ audience: internal",
        ]
        assert shown(screen.query_one("#mine")).splitlines() == [
            "≠ text: mine",
            "≠ customer-facing: yes",
            "≠ audience: all",
        ]
        assert [b.id for b in screen.query(Button)] == ["keep-mine", "take-theirs", "merge"]
        await pilot.press("k")
        submit = await submitted(pilot, fake, 2)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    assert submit.command == c.SetImpact(
        incident=ROOM, statement="mine", customer_facing=True, base_version=2, audience="all"
    )


async def test_a_conflict_shows_both_sides_as_plain_text(fake):
    markup = ImpactConflict(
        version=2, statement="[bold red]x[/] [link=http://e.vil]y[/]", customer_facing=False,
        updated_by="[b]bob[/b]", audience="internal",
    )  # fmt: skip
    async with running(fake) as pilot:
        await pilot.press("i", "f7")
        await paste(pilot, "[i]mine[/i]")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        fake.push(
            protocol.RejectedFrame(id=submit.id, code="conflict", message="[u]m", current=markup)
        )
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConflictScreen)
        assert "≠ text: [bold red]x[/] [link=http://e.vil]y[/]" in shown(
            screen.query_one("#theirs")
        )
        assert "≠ text: [i]mine[/i]" in shown(screen.query_one("#mine"))
        whole = "\n".join(shown(part) for part in screen.query(".version Static"))
        assert "[bold red]x[/]" in whole and "Theirs (v2, [b]bob[/b])" in whole


async def test_esc_on_a_conflict_asks_before_it_drops_my_edit(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        dialog = pilot.app.screen
        await pilot.press("escape")
        await settled(pilot)
        ask = pilot.app.screen
        assert isinstance(ask, ConfirmScreen)
        assert shown(ask.query_one(".form-title")) == "Discard what you typed?"
        await pilot.press("n")  # no: back to both versions, nothing lost
        await settled(pilot)
        assert pilot.app.screen is dialog
        await pilot.press("escape", "y")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert len(fake.submits) == 1


async def test_a_merge_keeps_what_is_there_unless_i_changed_it(fake):
    async with running(fake) as pilot:
        await _stale_impact(pilot, fake)
        await pilot.press("m")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ImpactScreen)
        # Both changed the text: both are kept, to edit. Only bob changed the flags (I left
        # them as they were at v1): his stay.
        assert screen.query_one("#statement", TextArea).text == "theirs\nmine"
        await pilot.press("escape")  # the merge holds my edit: Esc asks before it drops it
        await settled(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settled(pilot)
        assert isinstance(pilot.app.screen, ImpactScreen)
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake, 2)
    assert submit.command == c.SetImpact(
        incident=ROOM,
        statement="theirs\nmine",
        customer_facing=False,
        base_version=2,
        audience="internal",
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


async def test_an_eta_conflict_compares_eta_and_confidence_and_merges_what_i_changed(fake):
    async with running(fake) as pilot:
        await pilot.press("e")
        await pilot.press(*"+1h", "ctrl+s")  # my ETA; the confidence left as it was (medium)
        submit = await submitted(pilot, fake)
        current = EtaConflict(
            version=2, eta=datetime(2026, 11, 27, 15, 10, tzinfo=UTC),
            confidence=Confidence.HIGH, set_by="bob",
        )  # fmt: skip
        fake.push(
            protocol.RejectedFrame(
                id=submit.id, code="conflict", message="the ETA changed", current=current
            )
        )
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConflictScreen)
        assert shown(screen.query_one("#theirs")).splitlines() == [
            "≠ ETA: 2026-11-27 15:10",  # local time (TZ=UTC)
            "≠ confidence: high",
        ]
        assert shown(screen.query_one("#mine")).splitlines() == [
            "≠ ETA: 2026-11-27 15:30",
            "≠ confidence: medium",
        ]
        await pilot.press("m")
        await settled(pilot)
        form = pilot.app.screen
        assert isinstance(form, EtaScreen)
        await pilot.press("ctrl+s")
        merged = await submitted(pilot, fake, 2)
    # My ETA (I changed it), their confidence (I did not).
    assert merged.command == c.SetEta(
        incident=ROOM, eta=CLOCK + timedelta(hours=1), confidence=Confidence.HIGH, base_version=2
    )


async def test_an_eta_conflict_can_be_kept(fake):
    async with running(fake) as pilot:
        await pilot.press("e")
        await pilot.press(*"+1h", "ctrl+s")
        submit = await submitted(pilot, fake)
        current = EtaConflict(version=2, eta=None, confidence=None, set_by=None)
        fake.push(
            protocol.RejectedFrame(id=submit.id, code="conflict", message="m", current=current)
        )
        await settled(pilot)
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
