"""The client's switchboards: the key-to-command table and the timeline's application filter.

Each key of `ACTION_COMMANDS` names an action the war room has, so no key escapes the role
check by a misspelt name (`check_action` lets unknown actions through); the application filter
answers for every event type and refuses one outside the union.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from client.entry_text import event_body
from client.screens.war_room import ACTION_COMMANDS, WarRoomScreen
from client.widgets.timeline_rows import apps_of
from warroom.core import commands as c
from warroom.core import events as e

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

_FILLERS: dict[str, Any] = {
    "incident": "INC-1",
    "actor": "ines",
    "at": NOW,
    "occurred_at": NOW,
    "eta": NOW,
    "app": "payments",
    "user": "eve",
    "entry": "N1",
    "audience": "all",
}


def sample(kind: type) -> e.Event:
    """An instance of event class `kind`: the filter reads only `apps` and `app`."""
    required = {
        f.name: _FILLERS.get(f.name, 1)
        for f in dataclasses.fields(kind)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    event: e.Event = kind(**required)
    return event


@pytest.mark.parametrize("action", sorted(ACTION_COMMANDS))
def test_each_key_action_is_one_the_war_room_has(action: str) -> None:
    assert callable(getattr(WarRoomScreen, f"action_{action}", None))
    assert ACTION_COMMANDS[action] in c.COMMAND_TYPES


@pytest.mark.parametrize("kind", e.EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_the_application_filter_answers_for_every_event_type(kind: type) -> None:
    event = sample(kind)
    named = ("payments",) if isinstance(event, e.AppAdded | e.AppRemoved) else ()
    assert apps_of(event) == named
    if isinstance(event, e.IncidentDeclared | e.MitigationAdded):
        assert apps_of(dataclasses.replace(event, apps=("web", "api"))) == ("web", "api")


def test_the_application_filter_refuses_an_event_outside_the_union() -> None:
    unknown: Any = object()
    with pytest.raises(AssertionError):
        apps_of(unknown)


@pytest.mark.parametrize("kind", e.EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_the_reading_view_answers_for_every_event_type(kind: type) -> None:
    event_body(sample(kind))  # a type the match forgot would fail its assert_never


def test_the_reading_view_refuses_an_event_outside_the_union() -> None:
    unknown: Any = object()
    with pytest.raises(AssertionError):
        event_body(unknown)
