"""Every key of the war room and of its panels, driven as a user would, down to the exact command
the hub receives."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import Checkbox, HelpPanel, Input, Label, OptionList, Select, TextArea

from client.screens.action import ActionScreen
from client.screens.answer import AnswerScreen
from client.screens.choice import ChoiceScreen
from client.screens.confirm import ConfirmScreen
from client.screens.eta import EtaScreen
from client.screens.impact import ImpactScreen
from client.screens.lobby import LobbyScreen
from client.screens.mitigation import MitigationScreen
from client.screens.note import NoteScreen
from client.screens.prompt import PromptScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.audience_picker import AudiencePicker
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    BOB,
    CLOCK,
    IMPACT,
    ROOM,
    Step,
    cursor_row,
    later,
    messages,
    paste,
    running,
    settled,
    shown,
    submitted,
    type_text,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import ActionState, Confidence, MitigationState, Severity, Status

# Screen keys: forms ----------------------------------------------------------------------------


async def test_n_adds_a_pinned_backdated_note(fake):
    async with running(fake) as pilot:
        await pilot.press("n")
        assert isinstance(pilot.app.screen, NoteScreen)
        await paste(pilot, "Gateway pods restarted")
        await pilot.press("tab")
        await type_text(pilot, "-15m")
        await pilot.press("tab", "space", "ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    assert submit.command == c.AddNote(
        incident=ROOM,
        text="Gateway pods restarted",
        occurred_at=CLOCK - timedelta(minutes=15),
        pinned=True,
        audience="internal",
    )


async def test_a_note_left_blank_in_time_is_dated_by_the_server_and_goes_to_its_audience(fake):
    async with running(fake) as pilot:
        await pilot.press("n")
        await paste(pilot, "Comms sent")
        await pilot.press("tab", "tab", "tab")
        picker = pilot.app.screen.query_one("#audience", AudiencePicker)
        assert pilot.app.focused is picker
        # The groups there are, the same everywhere; ticking a group unticks internal.
        assert [str(o.prompt) for o in picker.options] == [
            "internal (the war room only)", "all stakeholders", "group exec", "group support",
        ]  # fmt: skip
        await pilot.press("down", "down", "space", "down", "space")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.AddNote(
        incident=ROOM, text="Comms sent", occurred_at=None, pinned=False, audience="exec,support"
    )


async def test_a_note_with_an_unreadable_time_or_no_text_stays_open_with_the_reason(fake):
    async with running(fake) as pilot:
        await pilot.press("n", "ctrl+s")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, NoteScreen)
        assert str(screen.query_one("#form-error", Label).content) == "the note is empty"
        await paste(pilot, "Hi")
        await pilot.press("tab")
        await paste(pilot, "garbage")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert pilot.app.screen is screen
        error = screen.query_one("#form-error", Label)
        assert str(error.content).startswith("cannot read the time 'garbage'")
        assert str(error.content).endswith("or a relative time such as -15m or +2h")
        # The whole reason is on screen: the line wraps inside the form instead of being cut.
        assert error.region.right <= screen.query_one(".form").region.right
        assert error.region.height == 2
        assert fake.submits == []


async def test_escape_or_the_cancel_button_cancel_and_the_save_button_saves(fake):
    async with running(fake) as pilot:
        await pilot.press("n")
        await pilot.press("escape")  # nothing typed: closes at once
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        await pilot.press("n")
        await paste(pilot, "Hm")
        await pilot.press("escape")  # something typed: asks first
        await settled(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settled(pilot)
        form = pilot.app.screen
        assert isinstance(form, NoteScreen)
        assert form.query_one("#text", TextArea).text == "Hm"
        await pilot.press("escape", "y")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        await pilot.press("n")
        await pilot.click("#cancel")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []
        await pilot.press("n")
        await paste(pilot, "Clicked")
        await pilot.click("#save")
        submit = await submitted(pilot, fake)
    assert submit.command == c.AddNote(incident=ROOM, text="Clicked")


async def test_i_edits_the_impact_based_on_the_version_shown(fake):
    newer = later(
        Step(
            BOB,
            25,
            c.SetImpact(incident=ROOM, statement=IMPACT, customer_facing=True, base_version=1),
        )
    )
    async with running(fake) as pilot:
        fake.push(*newer)
        await pilot.pause()
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, ImpactScreen)
        assert "(editing v2)" in str(screen.query_one(".form-fields Label", Label).content)
        assert screen.query_one("#statement", TextArea).text == IMPACT
        assert screen.query_one("#customer", Checkbox).value is True
        await pilot.press("down", "down", "down", "end")  # the end of the soft-wrapped text
        await paste(pilot, " Refunds run.")
        await pilot.press("tab", "space", "tab", "down", "space")  # all stakeholders
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.SetImpact(
        incident=ROOM,
        statement=IMPACT + " Refunds run.",
        customer_facing=False,
        base_version=2,
        audience="all",
    )


async def test_e_sets_the_eta_at_a_time_of_day_with_a_confidence(fake):
    async with running(fake) as pilot:
        await pilot.press("e")
        screen = pilot.app.screen
        assert isinstance(screen, EtaScreen)
        assert screen.query_one("#eta", Input).value == "14:55"
        assert screen.query_one("#confidence", Select).value is Confidence.MEDIUM
        await type_text(pilot, "15:40")
        await pilot.press("tab", "enter", "down", "enter", "ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.SetEta(
        incident=ROOM,
        eta=CLOCK.replace(hour=15, minute=40),
        confidence=Confidence.HIGH,
        base_version=1,
    )


async def test_e_with_none_withdraws_the_eta_and_garbage_is_refused(fake):
    async with running(fake) as pilot:
        await pilot.press("e")
        await paste(pilot, "soonish")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(pilot.app.screen, EtaScreen)
        assert "cannot read the time 'soonish'" in str(
            pilot.app.screen.query_one("#form-error", Label).content
        )
        await pilot.press("ctrl+a", "ctrl+k")
        await paste(pilot, "none")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.SetEta(
        incident=ROOM, eta=None, confidence=Confidence.MEDIUM, base_version=1
    )


async def test_a_adds_an_action_with_an_owner(fake):
    async with running(fake) as pilot:
        await pilot.press("a")
        assert isinstance(pilot.app.screen, ActionScreen)
        await paste(pilot, "Raise acquirer limits")
        await pilot.press("tab")
        await type_text(pilot, "ana")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.AddAction(
        incident=ROOM, text="Raise acquirer limits", owner="ana", audience="internal"
    )


async def test_an_action_without_owner_and_with_a_bad_audience(fake):
    async with running(fake) as pilot:
        await pilot.press("a")
        await paste(pilot, "Write the postmortem")
        await pilot.press("tab", "tab", "space")  # internal unticked: nobody
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(pilot.app.screen, ActionScreen)
        assert "choose who sees it" in str(pilot.app.screen.query_one("#form-error", Label).content)
        await pilot.press("down", "space")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.AddAction(
        incident=ROOM, text="Write the postmortem", owner=None, audience="all"
    )


async def test_w_adds_a_workaround_for_applications(fake):
    async with running(fake) as pilot:
        await pilot.press("w")
        screen = pilot.app.screen
        assert isinstance(screen, MitigationScreen)
        labels = " ".join(str(label.content) for label in screen.query(Label))
        assert "affected: checkout, payments" in labels
        await paste(pilot, "Queue card payments for retry")
        await pilot.press("tab")
        await paste(pilot, "payments, checkout")
        await pilot.press("tab", "down", "space")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.AddMitigation(
        incident=ROOM,
        text="Queue card payments for retry",
        apps=("payments", "checkout"),
        audience="all",
    )


# Screen keys: choices --------------------------------------------------------------------------


async def _choose(pilot: Pilot[None], label: str) -> None:
    """Move the highlight down to `label` and press Enter."""
    options = pilot.app.screen.query_one(OptionList)
    for _ in range(options.option_count):
        highlighted = options.get_option_at_index(options.highlighted or 0)
        if str(highlighted.prompt).startswith(label):
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"no option {label!r}")
    await pilot.press("enter")


async def test_s_starts_on_the_next_status_and_marks_the_current_one(fake):
    """The current status is listed, marked and cannot be chosen; the cursor starts on the next
    one."""
    async with running(fake) as pilot:
        await pilot.press("s")
        screen = pilot.app.screen
        assert isinstance(screen, ChoiceScreen)
        options = screen.query_one(OptionList)
        current = options.get_option_at_index(1)
        assert str(current.prompt) == "identified  (current)"
        assert current.disabled
        assert options.highlighted == 2  # identified: on to monitoring
        await pilot.press("enter")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeStatus(incident=ROOM, status=Status.MONITORING)


async def test_v_changes_the_severity_and_escape_closes_without_choosing(fake):
    async with running(fake) as pilot:
        await pilot.press("v", "down", "escape")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []
        await pilot.press("v")
        screen = pilot.app.screen
        assert isinstance(screen, ChoiceScreen)
        assert screen.title_text == "Severity"
        await _choose(pilot, "SEV2")
        await settled(pilot)
        assert fake.submits == [], "the severity changes only once confirmed"
        await pilot.press("y")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeSeverity(incident=ROOM, severity=Severity.SEV2)


async def test_p_adds_or_removes_an_application_through_the_menu(fake):
    async with running(fake) as pilot:
        await pilot.press("p")
        options = pilot.app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert prompts == ["+ add an application…", "- remove checkout", "- remove payments"]
        await pilot.press("enter")
        screen = pilot.app.screen
        assert isinstance(screen, PromptScreen)
        await pilot.press("enter")  # an empty name is refused in the form
        assert str(screen.query_one("#form-error", Label).content) == "this cannot be empty"
        await type_text(pilot, "ledger")
        await pilot.press("enter")
        added = await submitted(pilot, fake)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        await pilot.press("p")
        await _choose(pilot, "- remove payments")
        removed = await submitted(pilot, fake, 2)
    assert added.command == c.AddApp(incident=ROOM, app="ledger")
    assert removed.command == c.RemoveApp(incident=ROOM, app="payments")


# Screen keys: navigation -----------------------------------------------------------------------


async def test_1_to_5_focus_the_panels(fake):
    async with running(fake) as pilot:
        screen = pilot.app.screen
        assert pilot.app.focused is screen.query_one("#timeline")
        for key, panel in (
            ("1", "impact"),
            ("3", "progress"),
            ("4", "mitigation"),
            ("5", "questions"),
            ("2", "timeline"),
        ):
            await pilot.press(key)
            assert pilot.app.focused is screen.query_one(f"#{panel}"), key


async def test_question_mark_lists_the_keys_and_q_goes_back_to_the_lobby(fake):
    async with running(fake) as pilot:
        assert not pilot.app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        await pilot.pause()
        assert pilot.app.screen.query(HelpPanel)
        assert fake.views[-1] == protocol.View(incident=ROOM)
        await pilot.press("q")
        await settled(pilot)
        assert isinstance(pilot.app.screen, LobbyScreen)
        assert fake.views[-1] == protocol.View(incident=None)


async def test_the_header_shows_the_incident_and_who_is_in_the_room(fake):
    async with running(fake) as pilot:
        header = shown(pilot.app.screen.query_one("#header"))
        assert "INC-2  SEV1  identified  Checkout failing for EU customers" in header
        assert "open 30m  ETA 14:55 (in 25m, medium)  in room: -" in header
        fake.push(protocol.Presence(incident=ROOM, users=("ana", "morgan")))
        await settled(pilot)
        assert "in room: ana, morgan" in shown(pilot.app.screen.query_one("#header"))


async def test_an_incident_that_is_not_visible_says_so(fake):
    async with running(fake, incident="INC-9") as pilot:
        gone = pilot.app.screen.query_one("#gone")
        assert gone.display
        assert shown(gone) == "INC-9 is not (or no longer) visible to you. Press q."
        await pilot.press("n")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)


# Timeline keys ---------------------------------------------------------------------------------


async def test_space_unpins_a_pinned_note_and_pins_an_unpinned_one(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        await pilot.press("home")  # the room opens on the newest entry; go to the oldest
        assert "note N2:" in cursor_row(timeline)  # the earliest (backdated) entry
        await pilot.press("space")
        first = await submitted(pilot, fake)
        await pilot.press("down")
        assert "★ note N1:" in cursor_row(timeline)
        await pilot.press("space")
        second = await submitted(pilot, fake, 2)
    assert first.command == c.PinNote(incident=ROOM, note=2, pinned=True)
    assert second.command == c.PinNote(incident=ROOM, note=1, pinned=False)


async def test_space_on_an_entry_that_is_not_a_note_warns(fake):
    async with running(fake) as pilot:
        await pilot.press("home", "down", "down")
        assert "declared SEV1" in cursor_row(pilot.app.screen.query_one(TimelinePanel))
        await pilot.press("space")
        await settled(pilot)
        assert fake.submits == []
        assert ("warning", "", "Put the cursor on a note to pin it.") in messages(pilot.app)


async def test_f_cycles_the_timeline_filter(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        seen = [(timeline.describe_filter(), timeline.row_count, str(timeline.border_title))]
        for _ in range(5):
            await pilot.press("f")
            seen.append((timeline.describe_filter(), timeline.row_count, ""))
        assert [(kind, rows) for kind, rows, _ in seen] == [
            ("all", 19),
            ("pinned", 2),
            ("notes", 4),
            ("app checkout", 2),
            ("app payments", 2),
            ("all", 19),
        ]
        assert seen[0][2] == "2 Timeline (all, 19)"
        assert str(timeline.border_title) == "2 Timeline (all, 19)"


async def test_the_pinned_filter_follows_live_pins(fake):
    async with running(fake) as pilot:
        timeline = pilot.app.screen.query_one(TimelinePanel)
        await pilot.press("f")
        assert timeline.row_count == 2
        fake.push(*later(Step(BOB, 25, c.PinNote(incident=ROOM, note=4, pinned=True))))
        await settled(pilot)
        assert timeline.row_count == 3
        pinned = [str(timeline.get_row_at(row)[2]) for row in range(timeline.row_count)]
        assert any(what.startswith("★ note N4:") for what in pinned), pinned


# Progress keys ---------------------------------------------------------------------------------


async def test_enter_advances_an_action_next_to_in_progress_to_done(fake):
    async with running(fake) as pilot:
        await pilot.press("3")
        progress = pilot.app.screen.query_one(ProgressPanel)
        assert cursor_row(progress).startswith("A1  in-progress")
        await pilot.press("down")
        assert cursor_row(progress).startswith("A2  next")
        await pilot.press("enter")
        first = await submitted(pilot, fake)
        assert first.command == c.ChangeActionState(
            incident=ROOM, action=2, state=ActionState.IN_PROGRESS
        )
        fake.push(*later(Step(BOB, 25, first.command)))
        await settled(pilot)
        assert cursor_row(progress).startswith("A2  in-progress")
        await pilot.press("enter")
        second = await submitted(pilot, fake, 2)
    assert second.command == c.ChangeActionState(incident=ROOM, action=2, state=ActionState.DONE)


async def test_o_gives_an_action_an_owner_or_takes_it_back(fake):
    async with running(fake) as pilot:
        await pilot.press("3", "o")
        screen = pilot.app.screen
        assert isinstance(screen, PromptScreen)
        assert screen.title_text == "Owner of A1"
        assert screen.query_one("#value", Input).value == "bob"
        await type_text(pilot, "ana")
        await pilot.press("enter")
        first = await submitted(pilot, fake)
        await pilot.press("o", "backspace", "enter")
        second = await submitted(pilot, fake, 2)
    assert first.command == c.AssignAction(incident=ROOM, action=1, owner="ana")
    assert second.command == c.AssignAction(incident=ROOM, action=1, owner=None)


async def test_x_drops_an_action(fake):
    async with running(fake) as pilot:
        await pilot.press("3", "down", "down", "x")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeActionState(incident=ROOM, action=4, state=ActionState.DROPPED)


# Mitigation keys -------------------------------------------------------------------------------


async def test_enter_verifies_and_x_withdraws_a_workaround(fake):
    async with running(fake) as pilot:
        await pilot.press("4")
        mitigation = pilot.app.screen.query_one(MitigationPanel)
        assert cursor_row(mitigation).startswith("M1  verified")
        await pilot.press("x")
        first = await submitted(pilot, fake)
        await pilot.press("down")
        assert cursor_row(mitigation).startswith("M2  proposed")
        await pilot.press("enter")
        second = await submitted(pilot, fake, 2)
    assert first.command == c.ChangeMitigationState(
        incident=ROOM, mitigation=1, state=MitigationState.WITHDRAWN
    )
    assert second.command == c.ChangeMitigationState(
        incident=ROOM, mitigation=2, state=MitigationState.VERIFIED
    )


# Questions keys --------------------------------------------------------------------------------


async def test_enter_answers_the_asker_only_or_publishes_to_an_audience(fake):
    async with running(fake) as pilot:
        await pilot.press("5")
        assert cursor_row(pilot.app.screen.query_one(QuestionsPanel)).startswith("Q2")
        await pilot.press("enter")
        screen = pilot.app.screen
        assert isinstance(screen, AnswerScreen)
        assert shown(screen.query_one(".quoted")) == "Do we need to notify the regulator?"
        await paste(pilot, "Not for this one.")
        await pilot.press("ctrl+s")
        first = await submitted(pilot, fake)
        await pilot.press("down", "enter")
        await paste(pilot, "Refunds go out today.")
        await pilot.press("tab", "down", "down", "down", "down", "space")  # group support
        await pilot.press("ctrl+s")
        second = await submitted(pilot, fake, 2)
    assert first.command == c.AnswerQuestion(
        incident=ROOM, question=2, text="Not for this one.", audience=None
    )
    assert second.command == c.AnswerQuestion(
        incident=ROOM, question=3, text="Refunds go out today.", audience="support"
    )


async def test_x_dismisses_a_question_with_a_reason(fake):
    async with running(fake) as pilot:
        await pilot.press("5", "x")
        screen = pilot.app.screen
        assert isinstance(screen, PromptScreen)
        assert screen.title_text == "Dismiss Q2"
        await paste(pilot, "duplicate of Q1")
        await pilot.press("enter")
        submit = await submitted(pilot, fake)
    assert submit.command == c.DismissQuestion(incident=ROOM, question=2, reason="duplicate of Q1")


async def test_a_question_already_answered_cannot_be_answered_again(fake):
    async with running(fake) as pilot:
        await pilot.press("5", "down", "down")
        assert cursor_row(pilot.app.screen.query_one(QuestionsPanel)).startswith("Q1")
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []
        assert ("warning", "", "Q1 is not open.") in messages(pilot.app)
