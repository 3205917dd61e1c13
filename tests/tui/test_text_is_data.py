"""Text is data in the terminal client: an old log holding escape sequences, control characters
and markup in every text field is shown as text, in every screen and dialog that shows it, with
no crash, no markup read, no action run, and no control character on screen; in a time zone far
from UTC, with a note dated year 1 and an ETA in year 9999."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

from client.screens.answer import AnswerScreen
from client.screens.choice import ChoiceScreen
from client.screens.lobby import LobbyScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from client.widgets.impact_panel import ImpactPanel
from tests.kit.hostile import (
    ALL_AT_ONCE,
    HOSTILE,
    MARKUP,
    hostile_incident,
    wrapped,
)
from tests.kit.tui import FakeConnection, rendered, replay, running, settled, until
from warroom.core import events as e
from warroom.core import protocol
from warroom.core.domain import EVERYONE, Role
from warroom.core.text import first_hidden, visible


def frames_of(events: list[e.Event]) -> list[protocol.ServerFrameType]:
    """A replay of `events`, as the incident manager receives it."""
    return replay(events=[protocol.EventFrame(seq=n, event=ev) for n, ev in enumerate(events, 1)])


@pytest.fixture(autouse=True)
def local_zone() -> Iterator[str]:
    """Far east of UTC, where a year-1 or year-9999 time cannot be converted to local time."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"
    time.tzset()
    try:
        yield "Pacific/Kiritimati"
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call of Textual's screenshot hooks (which write files), recorded instead."""
    calls: list[str] = []
    for hook in ("save_screenshot", "deliver_screenshot", "action_screenshot"):
        monkeypatch.setattr(App, hook, lambda *args, hook=hook, **kwargs: calls.append(hook))
    return calls


def screen_text(app: App[Any]) -> str:
    """Everything on screen now, widget by widget."""
    widgets: list[Widget] = [app.screen, *app.screen.walk_children(Widget)]
    return "\n".join(rendered(widget) for widget in widgets if widget.display)


def assert_shown_as_text(app: App[Any], name: str) -> str:
    text = screen_text(app)
    assert first_hidden(text, "\n") is None, "a control character reached the screen"
    # The start of the text, as typed (markup) or with its control characters made visible.
    assert visible(wrapped(name))[:16] in text
    return text


async def _tour(pilot: Pilot[None], name: str) -> None:
    app = pilot.app
    room = assert_shown_as_text(app, name)
    if name in MARKUP:
        assert HOSTILE[name] in room, "markup was read instead of shown"
    # A click on the impact statement (where a [@click] would have been planted) runs nothing.
    await pilot.click(ImpactPanel, offset=(4, 2))
    # The open question, in the incident manager's answer dialog.
    await pilot.press("5", "enter")
    await until(pilot, lambda: isinstance(app.screen, AnswerScreen), "the answer dialog")
    assert_shown_as_text(app, name)
    await pilot.press("escape")
    # The applications, in the apps dialog.
    await pilot.press("p")
    await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the apps dialog")
    assert_shown_as_text(app, name)
    await pilot.press("escape")
    # The timeline filtered by an application: its name is in the panel's title.
    await pilot.press("2", "f", "f", "f", "f")
    await settled(pilot)
    assert_shown_as_text(app, name)
    # The lobby: titles and applications.
    await pilot.press("q")
    await until(pilot, lambda: isinstance(app.screen, LobbyScreen), "the lobby")
    await settled(pilot)
    assert first_hidden(screen_text(app), "\n") is None


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_text_in_every_field_shows_as_text(
    fake: FakeConnection, writes: list[str], name: str
) -> None:
    frames = frames_of(hostile_incident(1, wrapped(name)))
    async with running(fake, incident="INC-1", frames=frames) as pilot:
        await _tour(pilot, name)
        assert pilot.app.is_running
    assert writes == [], "text ran an action that writes a file"


def _for_everyone(event: e.Event) -> e.Event:
    """`event` shown to every stakeholder, and a question asked by the stakeholder sam."""
    if isinstance(event, e.QuestionAsked):
        return dataclasses.replace(event, actor="sam")
    if isinstance(event, e.ImpactUpdated | e.NoteAdded | e.ActionAdded | e.MitigationAdded):
        return dataclasses.replace(event, audience=EVERYONE)
    return event


async def test_a_stakeholder_room_shows_hostile_text_as_text(fake: FakeConnection) -> None:
    events = [_for_everyone(event) for event in hostile_incident(1, ALL_AT_ONCE)]
    frames = [protocol.EventFrame(seq=n, event=ev) for n, ev in enumerate(events, 1)]
    stakeholder = replay(user="sam", role=Role.STAKEHOLDER, groups=("exec",), events=frames)
    async with running(fake, incident="INC-1", frames=stakeholder) as pilot:
        await until(
            pilot, lambda: isinstance(pilot.app.screen, StakeholderRoomScreen), "their room"
        )
        await settled(pilot)
        text = screen_text(pilot.app)
        assert first_hidden(text, "\n") is None, "a control character reached the screen"
        assert visible(wrapped("osc-title")) in text and wrapped("markup-close") in text
