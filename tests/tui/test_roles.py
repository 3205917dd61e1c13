"""Keys a role may not use: hidden for an observer, greyed for a responder where only the
incident manager may act; a stakeholder gets a room of their own, with a question box."""

from __future__ import annotations

import re
from typing import Any

from textual.screen import Screen
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from client.screens.stakeholder_room import StakeholderRoomScreen
from client.screens.war_room import ACTION_COMMANDS, REQUEST_COMMANDS, WarRoomScreen
from client.widgets.keyed_table import KeyedTable
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.requests import offered
from tests.kit.tui import CAROL, ROOM, rendered, replay, running, settled, shown, stakeholder_replay
from warroom.core import commands as c
from warroom.core.domain import Role

EDIT_KEYS = ("n", "i", "e", "s", "v", "a", "w", "p", "space")
"""The war room's edit keys visible with the timeline focused."""


def _footer(screen: Screen[Any]) -> dict[str, bool]:
    """The footer's keys: description -> enabled."""
    return {key.description: not key.has_class("-disabled") for key in screen.query(FooterKey)}


async def test_an_observer_sees_no_edit_key_and_the_banner(fake):
    async with running(fake, frames=replay(user="olga", role=Role.OBSERVER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        for action in ACTION_COMMANDS:
            assert screen.check_action(action, ()) is False, action
        for request in REQUEST_COMMANDS:
            assert screen.offers(request) is False, request
        active = screen.active_bindings
        assert [key for key in EDIT_KEYS if key in active] == []
        assert {"f", "q", "1", "question_mark"} <= set(active)
        footer = _footer(screen)
        assert "Note" not in footer
        assert "Pin/unpin" not in footer
        assert footer.get("Filter") is True
        banner, link = screen.query_one("#observer"), screen.query_one("#link")
        assert banner.display
        assert "OBSERVER: read only" in shown(banner)
        assert shown(link) == "● online  olga (observer)"
        # Both used to be docked at the top, on the same line: the banner hid the link state.
        assert not link.region.overlaps(banner.region), (link.region, banner.region)


async def test_an_observer_pressing_edit_keys_sends_nothing(fake):
    async with running(fake, frames=replay(user="olga", role=Role.OBSERVER)) as pilot:
        await pilot.press("n", "i", "space")
        await pilot.press("3", "enter", "o", "x")
        await pilot.press("5", "enter", "x")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []


async def test_a_stakeholder_gets_the_stakeholder_room_without_edit_keys(fake):
    async with running(fake, frames=stakeholder_replay(CAROL)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, StakeholderRoomScreen)
        actions = {active.binding.action for active in screen.active_bindings.values()}
        assert not actions & set(ACTION_COMMANDS)
        # A read-only room handles none of the panels' requests, so none of their keys shows.
        for panel in ("#impact", "#timeline", "#progress", "#mitigation", "#questions"):
            for request in REQUEST_COMMANDS:
                assert offered(screen.query_one(panel), request) is False, (panel, request)
        footer = _footer(screen)
        assert "Note" not in footer and "Pin/unpin" not in footer and "Filter" not in footer
        assert footer["Ask a question"] is True
        await pilot.press("n", "s", "space", "5", "enter", "x")
        await settled(pilot)
        assert isinstance(pilot.app.screen, StakeholderRoomScreen)
        assert fake.submits == []


async def test_a_stakeholder_sees_no_entry_numbers_and_only_their_own_questions(fake):
    async with running(fake, frames=stakeholder_replay(CAROL)) as pilot:
        await settled(pilot)
        screen = pilot.app.screen
        timeline = rendered(screen.query_one("#timeline"))
        assert "Status page updated" in timeline  # a note to all
        assert "Rollback" not in timeline  # internal
        assert not re.search(r"\b[NAMQ]\d+\b", timeline)
        questions = screen.query_one("#questions", KeyedTable)
        asked = [str(questions.get_row_at(i)[-1]) for i in range(questions.row_count)]
        assert any("Is this on the status page?" in q and "Yes, since" in q for q in asked)
        assert not any("dave" in q for q in asked)  # another asker's question never came
        assert screen.query_one("#questions").border_title == "5 Your questions"


async def test_a_responder_may_edit_but_not_answer_questions(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        assert screen.check_action("note", ()) is True
        assert screen.offers(ProgressPanel.AdvanceRequested) is True
        assert screen.offers(QuestionsPanel.AnswerRequested) is None
        assert screen.offers(QuestionsPanel.DismissRequested) is None
        await pilot.press("5", "enter", "x")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []


async def test_an_incident_manager_may_use_every_key(fake):
    async with running(fake) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        assert all(screen.check_action(action, ()) is True for action in ACTION_COMMANDS)
        assert all(screen.offers(request) is True for request in REQUEST_COMMANDS)
        assert shown(screen.query_one("#link")) == "● online  morgan (incident-manager)"
        assert screen.incident_id == ROOM


async def test_a_stakeholder_asks_in_the_question_box(fake):
    async with running(fake, frames=stakeholder_replay(CAROL)) as pilot:
        await pilot.press("Q")
        await settled(pilot)
        box = pilot.app.screen.query_one("#ask", Input)
        assert box.has_focus
        # Every letter goes into the box, q and Q too: none is taken for a key.
        await pilot.press(*"Quick q: when is it fixed?", "enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, StakeholderRoomScreen)
        assert box.value == ""
        await pilot.press("enter")  # an empty box sends nothing
        await settled(pilot)
    (submit,) = fake.submits
    assert submit.command == c.AskQuestion(incident=ROOM, text="Quick q: when is it fixed?")


async def test_joining_a_room_directly_as_a_stakeholder_swaps_in_the_stakeholder_room(fake):
    # The room opens before the hub says who the user is: the war room first, swapped on welcome.
    async with running(fake, frames=stakeholder_replay(CAROL)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, StakeholderRoomScreen) and screen.incident_id == ROOM
        await pilot.press("q")
        await settled(pilot)
        assert not isinstance(pilot.app.screen, StakeholderRoomScreen | WarRoomScreen)
