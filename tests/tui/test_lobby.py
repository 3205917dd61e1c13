"""The lobby's keys and filters: open, declare, search, the three selects, help and quit."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import HelpPanel, Input, Select
from textual.widgets._select import SelectOverlay

from client.screens.declare import DeclareScreen
from client.screens.lobby import LobbyScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.keyed_table import KeyedTable
from tests.kit.tui import (
    BOB,
    Step,
    connect,
    later,
    make_app,
    messages,
    paste,
    replay,
    running,
    settled,
    shown,
    submitted,
    type_text,
    until,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import Role, Severity


def _ids(pilot: Pilot[None]) -> list[str]:
    table = pilot.app.screen.query_one("#incidents", KeyedTable)
    return table.ordered_keys


def _row(pilot: Pilot[None], key: str) -> list[str]:
    table = pilot.app.screen.query_one("#incidents", KeyedTable)
    return [str(cell) for cell in table.get_row(key)]


async def test_the_lobby_lists_every_incident_newest_first(fake):
    async with running(fake, incident=None) as pilot:
        assert isinstance(pilot.app.screen, LobbyScreen)
        assert _ids(pilot) == ["INC-2", "INC-1"]
        assert _row(pilot, "INC-2") == [
            "INC-2",
            " SEV1 ",
            "identified",
            "Checkout failing for EU customers",
            "checkout, payments",
            "30m ago",
            "2 open",
        ]
        assert _row(pilot, "INC-1")[2:] == [
            "resolved",
            "Database failover: order history stale",
            "orders",
            "3h 30m ago",
            "-",
        ]
        assert shown(pilot.app.screen.query_one("#link")) == "● online  morgan (incident-manager)"
        assert not pilot.app.screen.query_one("#empty").display


async def test_the_lobby_says_when_it_is_loading_and_when_there_is_nothing(fake):
    app = make_app(fake)
    async with app.run_test() as pilot:
        await until(pilot, lambda: fake.sink is not None, "the connection to start")
        empty = app.screen.query_one("#empty")
        assert shown(empty) == "Loading incidents…"
        fake.push(protocol.Welcome(user="morgan", role="incident-manager", head=0))
        fake.push(protocol.Synced(head=0))
        await until(pilot, lambda: app.state.synced, "sync")
        await settled(pilot)
        assert empty.display
        assert shown(empty) == "No incidents yet. Press d to declare one."


async def test_a_new_incident_appears_without_a_key_press(fake):
    async with running(fake, incident=None) as pilot:
        declared = c.DeclareIncident(title="Login slow", severity=Severity.SEV3, apps=("sso",))
        fake.push(*later(Step(BOB, 28, declared)))
        await settled(pilot)
        assert _ids(pilot) == ["INC-3", "INC-2", "INC-1"]


async def test_enter_opens_the_war_room_under_the_cursor(fake):
    async with running(fake, incident=None) as pilot:
        assert fake.views == [protocol.View(incident=None)]
        await pilot.press("down", "enter")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        assert screen.incident_id == "INC-1"
        assert fake.views[-1] == protocol.View(incident="INC-1")


async def test_d_declares_an_incident(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d")
        screen = pilot.app.screen
        assert isinstance(screen, DeclareScreen)
        assert screen.query_one("#severity", Select).value is Severity.SEV2
        await paste(pilot, "Search returns nothing")
        await pilot.press("tab", "enter", "up", "enter", "tab")
        await paste(pilot, "search, ui")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        assert isinstance(pilot.app.screen, LobbyScreen)
        fake.push(protocol.Ack(id=submit.id, seq=99))
        await settled(pilot)
        assert ("information", "", "Declared: Search returns nothing") in messages(pilot.app)
    assert submit.command == c.DeclareIncident(
        title="Search returns nothing", severity=Severity.SEV1, apps=("search", "ui")
    )


async def test_a_refused_declaration_opens_again_with_what_was_typed(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d")
        await paste(pilot, "Search returns nothing")
        await pilot.press("tab", "tab")
        await paste(pilot, "search")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        reason = "there is an incident INC-9 already"
        fake.push(protocol.RejectedFrame(id=submit.id, code="conflict", message=reason))
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DeclareScreen)
        assert shown(screen.query_one("#form-error")) == reason
        assert screen.query_one("#title", Input).value == "Search returns nothing"
        assert screen.query_one("#apps", Input).value == "search"
        await pilot.press("ctrl+s")
        again = await submitted(pilot, fake, 2)
    assert again.command == submit.command


async def test_declare_without_a_title_stays_open(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d", "ctrl+s")
        await settled(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DeclareScreen)
        assert shown(screen.query_one("#form-error")) == "the title is empty"
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(pilot.app.screen, LobbyScreen)
        assert fake.submits == []


async def test_slash_searches_live_and_escape_clears(fake):
    async with running(fake, incident=None) as pilot:
        screen = pilot.app.screen
        await pilot.press("slash")
        search = screen.query_one("#search", Input)
        assert pilot.app.focused is search
        await type_text(pilot, "stal")
        assert _ids(pilot) == ["INC-1"]
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        assert _ids(pilot) == ["INC-2", "INC-1"]
        await type_text(pilot, "apac")  # found in INC-2's impact statement
        assert _ids(pilot) == ["INC-2"]
        await type_text(pilot, "x")
        assert _ids(pilot) == []
        empty = screen.query_one("#empty")
        assert empty.display
        assert shown(empty) == "No incident matches these filters. Press Esc to clear them."
        await pilot.press("escape")
        assert search.value == ""
        assert _ids(pilot) == ["INC-2", "INC-1"]
        assert pilot.app.focused is screen.query_one("#incidents")


async def _pick(pilot: Pilot[None], select_id: str, label: str) -> None:
    """Tab from the search box to a select, open it and move down to `label`."""
    order = ["status", "severity", "app-filter"]
    await pilot.press("slash", *["tab"] * (order.index(select_id) + 1), "enter")
    overlay = pilot.app.screen.query_one(f"#{select_id} SelectOverlay", SelectOverlay)
    for _ in range(overlay.option_count):
        if str(overlay.get_option_at_index(overlay.highlighted or 0).prompt) == label:
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"no option {label!r} in #{select_id}")
    await pilot.press("enter")


async def test_the_status_and_severity_filters(fake):
    async with running(fake, incident=None) as pilot:
        await _pick(pilot, "status", "resolved")
        assert _ids(pilot) == ["INC-1"]
        await _pick(pilot, "status", "identified")
        assert _ids(pilot) == ["INC-2"]
        await _pick(pilot, "severity", "SEV3")
        assert _ids(pilot) == []


async def test_the_application_filter_lists_every_application(fake):
    async with running(fake, incident=None) as pilot:
        select = pilot.app.screen.query_one("#app-filter", Select)
        assert [str(prompt) for prompt, _ in select._options[1:]] == [
            "checkout",
            "orders",
            "payments",
        ]
        await _pick(pilot, "app-filter", "orders")
        assert _ids(pilot) == ["INC-1"]
        await pilot.press("escape")
        await pilot.press("escape")
        assert _ids(pilot) == ["INC-2", "INC-1"]


async def test_question_mark_lists_the_keys_and_q_quits(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert pilot.app.screen.query(HelpPanel)
        app = pilot.app
        assert app.is_running
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0


async def test_the_lobby_hides_declare_from_an_observer(fake):
    frames = replay(user="olga", role=Role.OBSERVER)
    async with running(fake, incident=None, frames=frames) as pilot:
        screen = pilot.app.screen
        assert screen.check_action("declare", ()) is False
        assert "d" not in screen.active_bindings
        assert screen.query_one("#observer").display
        await pilot.press("d")
        await settled(pilot)
        assert isinstance(pilot.app.screen, LobbyScreen)
        assert fake.submits == []


async def test_the_lobby_waits_for_the_role_before_offering_declare(fake):
    app = make_app(fake)
    async with app.run_test() as pilot:
        await until(pilot, lambda: fake.sink is not None, "the connection to start")
        assert app.screen.check_action("declare", ()) is None
        await connect(pilot, fake)
        assert app.screen.check_action("declare", ()) is True


async def test_the_mouse_opens_a_war_room_and_cancels_a_form(fake):
    async with running(fake, incident=None) as pilot:
        table = pilot.app.screen.query_one("#incidents", KeyedTable)
        # The first click highlights a row, a second click on it opens it (as Enter does).
        await pilot.click(KeyedTable, offset=(2, 2))
        await pilot.click(KeyedTable, offset=(2, 2))
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
        assert pilot.app.screen.incident_id == str(table.get_row_at(1)[0])
        await pilot.press("n")
        await settled(pilot)
        await pilot.click("#cancel")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    assert fake.submits == []
