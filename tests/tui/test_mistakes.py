"""One-key mistakes are caught: resolving, changing the severity, making an incident private or
public and quitting ask first; the status picker starts on the next status; ? and Esc close the
keys panel; declaring opens the new incident; hints fit the role; stale data dims while
offline; a resolved incident's ETA is never overdue."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console
from textual.widgets import HelpPanel, OptionList, TextArea

from client.render import eta_text
from client.screens.confirm import ConfirmScreen
from client.screens.entry import EntryScreen
from client.screens.lobby import LobbyScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.impact_panel import render_impact
from tests.kit.tui import (
    ANA,
    CAROL,
    NOW,
    ROOM,
    Step,
    later,
    paste,
    play,
    rendered,
    replay,
    running,
    settled,
    shown,
    stakeholder_replay,
    submitted,
    until,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import Role, Severity, Status


async def test_resolving_asks_first_and_n_or_esc_keep_it_open(fake):
    async with running(fake) as pilot:
        for cancel in ("n", "escape", "enter"):  # Enter presses the focused No
            await pilot.press("s", "down", "enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
            assert "Resolve INC-2?" in shown(pilot.app.screen.query_one(".form-title"))
            await pilot.press(cancel)
            await until(pilot, lambda: isinstance(pilot.app.screen, WarRoomScreen), "the room")
        assert fake.submits == []
        await pilot.press("s", "down", "enter", "y")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeStatus(incident=ROOM, status=Status.RESOLVED)


async def test_a_resolved_incidents_status_picker_starts_on_reopening(fake):
    async with running(fake, incident="INC-1") as pilot:
        await pilot.press("s")
        options = pilot.app.screen.query_one(OptionList)
        assert options.highlighted == 0  # investigating: reopen
        await pilot.press("enter")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeStatus(incident="INC-1", status=Status.INVESTIGATING)


async def test_the_severity_changes_only_once_confirmed(fake):
    async with running(fake) as pilot:
        await pilot.press("v", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "from SEV1 to SEV2" in shown(pilot.app.screen.query_one(".form-title"))
        await pilot.press("escape")
        await settled(pilot)
        assert fake.submits == []
        await pilot.press("v", "enter", "y")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeSeverity(incident=ROOM, severity=Severity.SEV2)


async def test_making_an_incident_private_asks_first(fake):
    async with running(fake) as pilot:
        await pilot.press("I", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "Make INC-2 private?" in shown(pilot.app.screen.query_one(".form-title"))
        await pilot.press("n")
        await settled(pilot)
        assert fake.submits == []


async def test_ctrl_c_asks_before_quitting(fake):
    async with running(fake) as pilot:
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen) and pilot.app.is_running
        await pilot.press("ctrl+c", "y")
        await until(pilot, lambda: not pilot.app.is_running, "the app to end")


async def test_ctrl_c_copies_a_selection_instead_of_quitting(fake):
    async with running(fake) as pilot:
        await pilot.press("2", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "the entry")
        body = pilot.app.screen.query_one("#body", TextArea)
        body.focus()
        await pilot.press("shift+end", "ctrl+c")
        await settled(pilot)
        assert isinstance(pilot.app.screen, EntryScreen), "no quit question over a selection"
        assert pilot.app.clipboard and pilot.app.clipboard in body.text


async def test_question_mark_and_escape_close_the_keys_panel(fake):
    async with running(fake) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.query(HelpPanel), "the keys")
        await pilot.press("question_mark")
        await until(pilot, lambda: not pilot.app.screen.query(HelpPanel), "the keys closed")
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.query(HelpPanel), "the keys")
        await pilot.press("escape")
        await until(pilot, lambda: not pilot.app.screen.query(HelpPanel), "the keys closed")
        assert isinstance(pilot.app.screen, WarRoomScreen)


async def test_declaring_from_the_lobby_opens_the_new_incident(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d")
        await paste(pilot, "Search returns nothing")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(pilot.app.screen, LobbyScreen)
        assert isinstance(submit.command, c.DeclareIncident)
        (declared,) = later(Step(ANA, 31, submit.command))
        fake.push(declared, protocol.Ack(id=submit.id, seq=declared.seq))

        # The room opens under the offer to alert stakeholders (see test_comms.py).
        def rooms() -> list[WarRoomScreen]:
            return [s for s in pilot.app.screen_stack if isinstance(s, WarRoomScreen)]

        await until(pilot, rooms, "the new room")
        assert [room.incident_id for room in rooms()] == ["INC-3"]


async def test_a_stakeholder_is_never_told_to_press_a_key_they_do_not_have(fake):
    async with running(fake, incident=None, frames=stakeholder_replay(CAROL)) as pilot:
        assert "Press d" not in shown(pilot.app.screen.query_one("#empty"))
    world, _ = play([Step(ANA, 0, c.DeclareIncident(title="Quiet", severity=Severity.SEV3))])
    incident = world.incident("INC-1")
    assert incident is not None
    theirs = _text(render_impact(incident, numbered=False, hints=False))
    assert "press" not in theirs and "internal" not in theirs and "to internal" not in theirs
    ours = _text(render_impact(incident))
    assert "press i" in ours and "internal impact only" in ours


async def test_an_observer_sees_no_press_i_hint(fake):
    frames = replay(user="olga", role=Role.OBSERVER)
    async with running(fake, incident="INC-1", frames=frames) as pilot:
        impact = rendered(pilot.app.screen.query_one("#impact-body"))
        assert "No impact statement yet." in impact and "press" not in impact


async def test_stale_data_is_dimmed_while_offline(fake):
    async with running(fake) as pilot:
        screen = pilot.app.screen
        assert not screen.has_class("-stale")
        fake.drop()
        await until(pilot, lambda: screen.has_class("-stale"), "dimmed")
        fake.push(*replay())
        await until(pilot, lambda: not screen.has_class("-stale"), "bright again")


def test_a_resolved_incidents_passed_eta_is_not_overdue():
    steps = [
        Step(ANA, 0, c.DeclareIncident(title="Slow", severity=Severity.SEV3)),
        Step(ANA, 1, c.SetEta(incident="INC-1", eta=NOW + timedelta(minutes=10), base_version=0)),
        Step(ANA, 5, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED)),
    ]
    world, _ = play(steps)
    resolved = world.incident("INC-1")
    assert resolved is not None
    later_on = NOW + timedelta(hours=2)
    assert eta_text(resolved, later_on).plain == "ETA was 14:10"
    open_world, _ = play(steps[:2])
    still_open = open_world.incident("INC-1")
    assert still_open is not None
    assert "passed" in eta_text(still_open, later_on).plain


def _text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


async def test_the_footer_shows_first_the_keys_the_role_needs_most(fake):
    async with running(fake) as pilot:
        keys = [b.key for _, b, enabled, _ in pilot.app.screen.active_bindings.values() if b.show]
        assert keys[:5] == ["question_mark", "n", "s", "i", "e"]
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        active = pilot.app.screen.active_bindings.values()
        keys = [b.key for _, b, enabled, _ in active if b.show and enabled]
        assert keys[:5] == ["question_mark", "n", "a", "w", "i"]
        greyed = [b.key for _, b, enabled, _ in active if b.show and not enabled]
        assert greyed and list(pilot.app.screen.active_bindings)[-len(greyed) :] == greyed
