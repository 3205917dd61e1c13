"""Stakeholder communication in the terminal: the composer (U), the alert offered after a
declaration or a raise to SEV1/SEV2, the countdown to the next update, the updates sent with
their delivery (D), and the questions' triage (age, OVERDUE, m merges, u promotes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, OptionList, TextArea
from textual.widgets._footer import FooterKey

from client.screens.choice import ChoiceScreen
from client.screens.composer import ComposerScreen
from client.screens.confirm import ConfirmScreen
from client.screens.deliveries import DeliveriesScreen
from client.screens.entry import EntryScreen
from client.screens.lobby import LobbyScreen
from client.screens.prompt import PromptScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from client.screens.updates import UpdatesScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.audience_picker import AudiencePicker
from client.widgets.keyed_table import KeyedTable
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.updates_panel import UpdatesPanel
from tests.kit.tui import (
    CAROL,
    CLOCK,
    MORGAN,
    NOW,
    ROOM,
    FakeConnection,
    Step,
    cursor_row,
    later,
    paste,
    play,
    replay,
    running,
    seed_events,
    seed_world,
    settled,
    shown,
    stakeholder_replay,
    submitted,
    until,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.domain import IncidentState, Role, Severity, Status, UpdateKind
from warroom.core.messages import body, subject
from warroom.core.updates import Draft, compose, promoted

PARTS = ("summary", "impact", "timeline", "progress", "mitigation")


def _room() -> IncidentState:
    incident = seed_world().incident(ROOM)
    assert incident is not None
    return incident


def _parts(screen: Screen[Any]) -> dict[str, str]:
    return {part: screen.query_one(f"#{part}", TextArea).text for part in PARTS}


def _drafted(draft: Draft) -> dict[str, str]:
    return {part: getattr(draft, part) for part in PARTS}


def _footer(screen: Screen[Any]) -> dict[str, bool]:
    return {key.description: not key.has_class("-disabled") for key in screen.query(FooterKey)}


async def _composer(pilot: Pilot[None]) -> ComposerScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ComposerScreen), "the composer")
    screen = pilot.app.screen
    assert isinstance(screen, ComposerScreen)
    await settled(pilot)
    return screen


# The composer ------------------------------------------------------------------------------------


async def test_U_opens_the_composer_drafted_for_all_and_ctrl_s_publishes_it(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        draft = compose(_room(), "all", CLOCK, DEFAULT_CADENCE)
        assert _parts(screen) == _drafted(draft)
        picker = screen.query_one("#audience", AudiencePicker)
        # An update goes to stakeholders: the war room itself is no choice.
        assert [str(o.prompt) for o in picker.options] == [
            "all stakeholders", "group exec", "group support",
        ]  # fmt: skip
        assert picker.audience == "all"
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        fake.push(protocol.Ack(id=submit.id, seq=999))
        await settled(pilot)
        assert any(n.message == "Done: publish an update" for n in pilot.app._notifications)
    assert submit.command == draft.command(ROOM)


async def test_U_is_greyed_for_a_responder_and_hidden_from_an_observer(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        assert screen.check_action("compose", ()) is None
        assert _footer(screen)["Update"] is False
        assert _footer(screen)["Updates sent"] is True
        await pilot.press("U")
        await settled(pilot)
        assert pilot.app.screen is screen
    observer = FakeConnection()
    async with running(observer, frames=replay(user="olga", role=Role.OBSERVER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        assert screen.check_action("compose", ()) is False
        assert "Update" not in _footer(screen)
        await pilot.press("U")
        await settled(pilot)
        assert observer.submits == []


async def test_another_audience_drafts_the_parts_again(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        picker = screen.query_one("#audience", AudiencePicker)
        picker.focus()
        await pilot.press("home", "down", "space")  # group exec: all is unticked
        await until(pilot, lambda: screen.audience == "exec", "the draft for exec")
        assert picker.audience == "exec"
        assert _parts(screen) == _drafted(compose(_room(), "exec", CLOCK, DEFAULT_CADENCE))
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command.audience == "exec"  # type: ignore[union-attr]


async def test_another_audience_asks_before_replacing_edits(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        await paste(pilot, "Edited by hand. ")
        edited = screen.query_one("#summary", TextArea).text
        picker = screen.query_one("#audience", AudiencePicker)
        picker.focus()
        await pilot.press("home", "down", "space")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("n")  # keep my text
        await settled(pilot)
        assert pilot.app.screen is screen
        assert screen.audience == "exec"
        assert screen.query_one("#summary", TextArea).text == edited
        await pilot.press("down", "space")  # and support: asked again, this time drafted again
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: screen.audience == "exec,support", "the draft for both")
        expected = compose(_room(), "exec,support", CLOCK, DEFAULT_CADENCE)
        assert _parts(screen) == _drafted(expected)


async def test_f2_previews_exactly_what_the_audience_receives(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the preview")
        preview = pilot.app.screen
        assert isinstance(preview, EntryScreen)
        draft = compose(_room(), "all", CLOCK, DEFAULT_CADENCE)
        room = _room()
        heading = subject(room.id, room.title, room.severity, draft, 1)
        assert preview.query_one("#body", TextArea).text == f"Subject: {heading}\n\n{body(draft)}"
        assert heading == "[SEV1] INC-2 update U1: Checkout failing for EU customers"
        await pilot.press("escape")
        await settled(pilot)
        assert pilot.app.screen is screen
        assert fake.submits == []


async def test_a_refused_update_opens_again_with_the_text_and_the_reason(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        await paste(pilot, "Hand-written: ")
        typed = _parts(screen)
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        reason = "the update is 70000 characters long; the limit is 64000"
        fake.push(protocol.RejectedFrame(id=submit.id, code="invalid", message=reason))
        again = await _composer(pilot)
        assert again is not screen
        assert _parts(again) == typed
        assert shown(again.query_one("#form-error")) == reason
        await pilot.press("ctrl+s")
        resent = await submitted(pilot, fake, 2)
    assert resent.command == submit.command


async def test_an_empty_update_stays_open_with_the_reason(fake):
    async with running(fake) as pilot:
        await pilot.press("U")
        screen = await _composer(pilot)
        for part in PARTS:
            screen.query_one(f"#{part}", TextArea).load_text("  ")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert pilot.app.screen is screen
        assert shown(screen.query_one("#form-error")).startswith("the update is empty")
        assert fake.submits == []


# The alert offered -------------------------------------------------------------------------------


async def test_declaring_offers_the_alert_and_yes_opens_it_for_all(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d")
        await paste(pilot, "Search returns nothing")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(submit.command, c.DeclareIncident)
        fake.push(protocol.Ack(id=submit.id, seq=99), *later(Step(MORGAN, 29, submit.command)))
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the offer")
        offer = pilot.app.screen
        assert isinstance(offer, ConfirmScreen)
        assert offer.question == "Send the initial alert to stakeholders?"
        await pilot.press("y")
        screen = await _composer(pilot)
        assert screen.draft.kind is UpdateKind.ALERT
        assert screen.audience == "all"
        assert screen.query_one("#summary", TextArea).text.startswith(
            "We are responding to a SEV2 incident: Search returns nothing."
        )
        await pilot.press("ctrl+s")
        sent = await submitted(pilot, fake, 2)
    assert isinstance(sent.command, c.PublishUpdate)
    assert (sent.command.incident, sent.command.kind) == ("INC-3", UpdateKind.ALERT)


async def test_a_responder_who_declares_is_offered_no_alert(fake):
    async with running(fake, incident=None, frames=replay("ana", Role.RESPONDER)) as pilot:
        await pilot.press("d")
        await paste(pilot, "Search returns nothing")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(submit.command, c.DeclareIncident)
        fake.push(protocol.Ack(id=submit.id, seq=99), *later(Step(MORGAN, 29, submit.command)))
        await until(pilot, lambda: isinstance(pilot.app.screen, WarRoomScreen), "the room")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)


async def _change_severity(pilot: Pilot[None], fake: FakeConnection, to: Severity) -> None:
    before = len(fake.submits)
    await pilot.press("v")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "the severities")
    pilot.app.screen.query_one("#choices", OptionList).highlighted = list(Severity).index(to)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
    await pilot.press("y")
    submit = await submitted(pilot, fake, before + 1)
    assert submit.command == c.ChangeSeverity(incident=ROOM, severity=to)
    fake.push(protocol.Ack(id=submit.id, seq=99))
    await settled(pilot)


@pytest.mark.parametrize("raised", [Severity.SEV1, Severity.SEV2])
async def test_raising_to_sev1_or_sev2_offers_the_alert_and_lowering_does_not(fake, raised):
    lowered = later(Step(MORGAN, 25, c.ChangeSeverity(incident=ROOM, severity=Severity.SEV3)))
    async with running(fake, frames=replay(events=[*seed_events(), *lowered])) as pilot:
        await _change_severity(pilot, fake, Severity.SEV4)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        await _change_severity(pilot, fake, raised)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the offer")
        await pilot.press("y")
        screen = await _composer(pilot)
        assert screen.draft.kind is UpdateKind.ALERT
        assert screen.audience == "all"


# The countdown -----------------------------------------------------------------------------------


async def test_the_header_says_the_update_is_overdue_then_counts_down_after_one(fake):
    async with running(fake) as pilot:
        header = pilot.app.screen.query_one("#header")
        # SEV1: an update every 15 minutes from the declaration at 14:00; it is 14:30.
        assert "update to all OVERDUE by 15:00" in shown(header)
        update = c.PublishUpdate(incident=ROOM, audience="all", summary="Rolling back.")
        fake.push(*later(Step(MORGAN, 25, update)))
        await settled(pilot)
        assert "next update to all in 10:00 (14:40)" in shown(header)
        assert "OVERDUE" not in shown(header)


async def test_a_resolved_incident_owes_no_update(fake):
    resolved = later(Step(MORGAN, 25, c.ChangeStatus(incident=ROOM, status=Status.RESOLVED)))
    async with running(fake, frames=replay(events=[*seed_events(), *resolved])) as pilot:
        header = shown(pilot.app.screen.query_one("#header"))
        assert "update" not in header


# The updates sent and their delivery ------------------------------------------------------------

DeliveryState = Literal["queued", "sent", "retrying", "failed"]


def _delivery(
    recipient: str,
    state: DeliveryState,
    attempts: int,
    error: str = "",
    history: tuple[protocol.AttemptPart, ...] = (),
) -> protocol.DeliveryFrame:
    channel: Literal["email", "webhook"] = "webhook" if recipient.startswith("http") else "email"
    return protocol.DeliveryFrame(
        incident=ROOM, update=1, channel=channel, recipient=recipient, state=state,
        attempts=attempts, error=error, at=NOW + timedelta(minutes=26), history=history,
    )  # fmt: skip


def _attempt(number: int, error: str) -> protocol.AttemptPart:
    at = NOW + timedelta(minutes=25 + number)
    return protocol.AttemptPart(number=number, at=at, state="retrying", error=error)


DELIVERIES = (
    _delivery("cto@example.com", "sent", 1),
    _delivery("ops@example.com", "sent", 1),
    _delivery(
        "https://hooks.example.com/x",
        "retrying",
        2,
        "HTTP 503 from hooks.example.com",
        (
            _attempt(1, "connection refused by hooks.example.com"),
            _attempt(2, "HTTP 503 from hooks.example.com"),
        ),
    ),
)


async def test_D_lists_the_updates_with_their_delivery_and_enter_shows_each_recipient(fake):
    update = c.PublishUpdate(incident=ROOM, audience="all", summary="Rolling back.")
    async with running(fake) as pilot:
        await pilot.press("D")
        await until(pilot, lambda: isinstance(pilot.app.screen, UpdatesScreen), "the updates")
        panel = pilot.app.screen.query_one("#updates", UpdatesPanel)
        assert "No update sent yet" in cursor_row(panel)
        fake.push(*later(Step(MORGAN, 25, update)))
        await settled(pilot)
        assert (
            cursor_row(panel)
            == "U1  14:25 5m ago  update  all  morgan  no deliveries  Rolling back."
        )
        fake.push(*DELIVERIES)
        await settled(pilot)
        assert "2 sent · 1 retrying" in cursor_row(panel)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, DeliveriesScreen), "details")
        table = pilot.app.screen.query_one("#deliveries", KeyedTable)
        rows = [
            "  ".join(str(cell) for cell in table.get_row_at(n)) for n in range(table.row_count)
        ]
        assert rows == [
            "email  cto@example.com  sent  1  -  14:26",
            "email  ops@example.com  sent  1  -  14:26",
            "webhook  https://hooks.example.com/x  retrying  2  HTTP 503 from hooks.example.com"
            "  14:26",
        ]
        # Enter on the hook: every attempt and how it ended, not only the last one's error.
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the attempts")
        body = pilot.app.screen.query_one("#body", TextArea).text
        assert body.splitlines() == [
            "attempt 1  14:26  retrying  connection refused by hooks.example.com",
            "attempt 2  14:27  retrying  HTTP 503 from hooks.example.com",
        ]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DeliveriesScreen), "details")
        await pilot.press("escape", "escape")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)


# Triage ------------------------------------------------------------------------------------------

TEN_MINUTES: dict[str, int | None] = {"response": 600}
"""A response target of ten minutes: Q2 (asked 12 minutes ago) is overdue, Q3 (10) not yet."""


async def test_open_questions_show_their_age_and_overdue_oldest_first(fake):
    async with running(fake, frames=replay(cadence=TEN_MINUTES)) as pilot:
        panel = pilot.app.screen.query_one("#questions", QuestionsPanel)
        rows = panel.ordered_keys
        assert rows == ["Q2", "Q3", "Q1"]
        cells = ["  ".join(str(c) for c in panel.get_row_at(n)) for n in range(3)]
        assert cells[0] == "Q2  12m  carol: OVERDUE Do we need to notify the regulator?"
        assert cells[1].startswith("Q3  10m  dave: OPEN What should we tell")


async def test_m_merges_the_selected_question_into_the_one_named(fake):
    async with running(fake) as pilot:
        await pilot.press("5", "down", "m")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "the prompt")
        prompt = pilot.app.screen
        await paste(pilot, "Q9")
        await pilot.press("enter")
        await settled(pilot)
        assert pilot.app.screen is prompt
        assert shown(prompt.query_one("#form-error")) == "INC-2 has no question Q9"
        prompt.query_one("#value", Input).value = "q2"
        await pilot.press("enter")
        submit = await submitted(pilot, fake)
        assert submit.command == c.MergeQuestion(incident=ROOM, question=3, into=2)
        fake.push(protocol.Ack(id=submit.id, seq=99), *later(Step(MORGAN, 29, submit.command)))
        await settled(pilot)
        panel = pilot.app.screen.query_one("#questions", QuestionsPanel)
        merged = "  ".join(str(c) for c in panel.get_row("Q3"))
        assert merged.endswith("(merged into Q2)")


async def test_u_promotes_an_answered_question_into_an_update(fake):
    async with running(fake) as pilot:
        await pilot.press("5", "u")  # Q2 is open: nothing to promote
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        await pilot.press("end", "u")
        screen = await _composer(pilot)
        draft = promoted(_room(), 1, "all")
        assert _parts(screen) == _drafted(draft)
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == draft.command(ROOM)
    assert submit.command.question == 1


async def test_merge_and_promote_are_greyed_for_a_responder(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        await pilot.press("5")
        panel = pilot.app.screen.query_one("#questions", QuestionsPanel)
        assert panel.check_action("merge", ()) is None
        assert panel.check_action("promote", ()) is None
        footer = _footer(pilot.app.screen)
        assert footer["Merge into…"] is False and footer["Promote to update"] is False
        await pilot.press("m", "end", "u")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []


# The stakeholder's room --------------------------------------------------------------------------


async def test_a_stakeholder_reads_the_updates_sent_to_them_and_when_the_next_is_due(fake):
    steps = [
        Step(MORGAN, 21, c.PublishUpdate(incident=ROOM, audience="all", summary="First.")),
        Step(MORGAN, 24, c.PublishUpdate(incident=ROOM, audience="support", summary="Not hers.")),
        Step(MORGAN, 25, c.PublishUpdate(incident=ROOM, audience="exec", summary="Second.")),
    ]
    play(steps, seed_world())  # the steps hold
    async with running(fake, frames=stakeholder_replay(CAROL, steps)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, StakeholderRoomScreen)
        assert "next update expected by 14:40" in shown(screen.query_one("#header"))
        panel = screen.query_one("#updates", UpdatesPanel)
        rows = ["  ".join(str(c) for c in panel.get_row_at(n)) for n in range(panel.row_count)]
        assert rows == ["14:25 5m ago  update  Second.", "14:21 9m ago  update  First."]
        await pilot.press("6", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the update")
        assert pilot.app.screen.query_one("#body", TextArea).text == "Summary\nSecond.\n"
        assert not isinstance(pilot.app.screen, LobbyScreen)
