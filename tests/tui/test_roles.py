"""Keys a role may not use: hidden for an observer, greyed for a stakeholder (and for a responder
where only the incident manager may act)."""

from __future__ import annotations

from textual.widgets._footer import FooterKey
from tui_kit import ROOM, replay, running, settled, shown

from client.screens.war_room import ACTION_COMMANDS, WarRoomScreen
from warroom import commands as c
from warroom.domain import Role

EDIT_KEYS = ("n", "i", "e", "s", "v", "a", "w", "p", "space")
"""The war room's edit keys visible with the timeline focused."""


def _footer(screen) -> dict[str, bool]:
    """The footer's keys: description -> enabled."""
    return {key.description: not key.has_class("-disabled") for key in screen.query(FooterKey)}


async def test_an_observer_sees_no_edit_key_and_the_banner(fake):
    async with running(fake, frames=replay(user="olga", role=Role.OBSERVER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        for action in ACTION_COMMANDS:
            assert screen.check_action(action, ()) is False, action
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


async def test_a_stakeholder_sees_the_edit_keys_greyed(fake):
    frames = replay(user="carol", role=Role.STAKEHOLDER, groups=("exec",))
    async with running(fake, frames=frames) as pilot:
        screen = pilot.app.screen
        for action in ACTION_COMMANDS:
            # A stakeholder may ask questions (Q); every other edit is greyed out.
            expected = True if action == "ask" else None
            assert screen.check_action(action, ()) is expected, action
        active = screen.active_bindings
        assert all(not active[key].enabled for key in EDIT_KEYS)
        footer = _footer(screen)
        assert footer["Note"] is False
        assert footer["Filter"] is True
        assert not screen.query_one("#observer").display
        await pilot.press("n", "s")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []


async def test_a_responder_may_edit_but_not_answer_questions(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        screen = pilot.app.screen
        assert screen.check_action("note", ()) is True
        assert screen.check_action("advance_action", ()) is True
        assert screen.check_action("answer", ()) is None
        assert screen.check_action("dismiss_question", ()) is None
        await pilot.press("5", "enter", "x")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert fake.submits == []


async def test_an_incident_manager_may_use_every_key(fake):
    async with running(fake) as pilot:
        screen = pilot.app.screen
        assert all(screen.check_action(action, ()) is True for action in ACTION_COMMANDS)
        assert shown(screen.query_one("#link")) == "● online  morgan (incident-manager)"
        assert pilot.app.screen.incident_id == ROOM


async def test_a_stakeholder_asks_a_question_with_shift_q(fake):
    frames = replay(user="carol", role=Role.STAKEHOLDER, groups=("exec",))
    async with running(fake, frames=frames) as pilot:
        await pilot.press("Q")
        await settled(pilot)
        await pilot.press(*"When is it fixed?", "enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    (submit,) = fake.submits
    assert submit.command == c.AskQuestion(incident=ROOM, text="When is it fixed?")
