"""Every switchboard over events and commands handles every member of the unions.

`decide`, `apply`, the stakeholder filter, the sealer and `describe` each end in
`assert_never`, so mypy refuses a missing case; these tests prove the same at run time. The
samples must cover every member of `Command` and `Event` (read from the unions, so a new member
without a sample fails here), each switchboard handles each sample for real (a command is
decided, an event changes the world), and a type outside the unions is refused rather than
passed through a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import pytest
from pydantic import TypeAdapter

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core import policy, protocol
from warroom.core.decide import decide
from warroom.core.disclosure import Sealer
from warroom.core.domain import (
    ActionState,
    Actor,
    MitigationState,
    Role,
    Severity,
    Status,
    World,
)
from warroom.core.policy import visible_to
from warroom.core.reducer import apply
from warroom.core.views import describe

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
STAKEHOLDER = Actor("eve", Role.STAKEHOLDER, frozenset({"exec"}))
SEALER = Sealer(b"k" * 32)
INC = "INC-1"


def _room() -> World:
    """An incident with one of each entry (N1, A1, M1, Q1 and its duplicate Q2), an impact and an
    ETA."""
    setup: list[tuple[c.Command, Actor]] = [
        (c.DeclareIncident(title="Checkout failing", severity=Severity.SEV2, apps=("web",)), IM),
        (c.AddNote(incident=INC, text="first note"), IM),
        (c.AddAction(incident=INC, text="roll back"), IM),
        (c.AddMitigation(incident=INC, text="pay by invoice", apps=("web",)), IM),
        (c.AskQuestion(incident=INC, text="when is it fixed?"), STAKEHOLDER),
        (c.AskQuestion(incident=INC, text="when will it work?"), STAKEHOLDER),
        (c.SetImpact(incident=INC, statement="cards fail", base_version=0), IM),
        (c.SetEta(incident=INC, eta=NOW + timedelta(hours=1), base_version=0), IM),
    ]
    world = World()
    for command, actor in setup:
        for event in decide(world, command, actor, NOW):
            world = apply(world, event)
    return world


ROOM = _room()

COMMANDS: list[c.Command] = [
    c.DeclareIncident(title="Search slow", severity=Severity.SEV3),
    c.ChangeStatus(incident=INC, status=Status.IDENTIFIED),
    c.ChangeSeverity(incident=INC, severity=Severity.SEV1),
    c.SetImpact(incident=INC, statement="cards fail in the EU", base_version=1, audience="all"),
    c.SetEta(incident=INC, eta=NOW + timedelta(hours=2), base_version=1),
    c.AddApp(incident=INC, app="payments"),
    c.RemoveApp(incident=INC, app="web"),
    c.AddNote(incident=INC, text="second note", audience="all"),
    c.PinNote(incident=INC, note=1),
    c.AddAction(incident=INC, text="page the bank", owner="bob"),
    c.ChangeActionState(incident=INC, action=1, state=ActionState.DONE),
    c.AssignAction(incident=INC, action=1, owner="bob"),
    c.AddMitigation(incident=INC, text="retry later", apps=("web",)),
    c.ChangeMitigationState(incident=INC, mitigation=1, state=MitigationState.VERIFIED),
    c.AskQuestion(incident=INC, text="is my data safe?"),
    c.AnswerQuestion(incident=INC, question=1, text="within the hour", audience="all"),
    c.DismissQuestion(incident=INC, question=1, reason="asked twice"),
    c.MergeQuestion(incident=INC, question=2, into=1),
    c.PublishUpdate(incident=INC, audience="all", summary="we are on it"),
    c.ChangeAudience(incident=INC, entry="N1", audience="exec"),
    c.ChangePrivacy(incident=INC, private=True),
    c.ChangeAccess(incident=INC, user="eve"),
]
"""One command of each type, each valid against `ROOM`."""

EVENTS: list[e.Event] = [event for command in COMMANDS for event in decide(ROOM, command, IM, NOW)]
"""One event of each type, as `decide` makes them from `COMMANDS`."""


def _members(union: Any) -> set[type]:
    (members, _) = get_args(union)
    return set(get_args(members))


def _name(sample: object) -> str:
    return type(sample).__name__


def test_the_samples_cover_every_command_and_event_type() -> None:
    assert {type(command) for command in COMMANDS} == _members(c.Command)
    assert {type(event) for event in EVENTS} == _members(e.Event)
    assert len(COMMANDS) == len(c.COMMAND_TYPES) and len(EVENTS) == len(e.EVENT_TYPES)
    assert set(c.COMMAND_TYPES) == _members(c.Command)
    assert set(e.EVENT_TYPES) == _members(e.Event)


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_decide_handles_every_command(command: c.Command) -> None:
    (event,) = decide(ROOM, command, IM, NOW)
    assert event.actor == IM.name


@pytest.mark.parametrize("event", EVENTS, ids=_name)
def test_apply_folds_every_event(event: e.Event) -> None:
    after = apply(ROOM, event)
    assert after != ROOM  # folded, not let through as unknown
    incident = after.incident(event.incident)
    assert incident is not None and incident.updated_at == event.at


@pytest.mark.parametrize("event", EVENTS, ids=_name)
def test_the_stakeholder_filter_decides_every_event(event: e.Event) -> None:
    world = apply(ROOM, event)
    assert visible_to(IM, event, world) is True
    assert visible_to(STAKEHOLDER, event, world) in (True, False)


@pytest.mark.parametrize("event", EVENTS, ids=_name)
def test_the_sealer_handles_every_event(event: e.Event) -> None:
    sealed = SEALER.event(event)
    assert type(sealed) is type(event)
    assert (sealed.incident, sealed.actor, sealed.at) == (event.incident, event.actor, event.at)


@pytest.mark.parametrize("event", EVENTS, ids=_name)
def test_describe_has_a_sentence_for_every_event(event: e.Event) -> None:
    for numbered in (True, False):
        line = describe(event, numbered=numbered)
        assert line and line != event.type


def test_the_policy_tables_name_every_command_type() -> None:
    assert set(policy.RULES) == set(c.COMMAND_TYPES)
    assert set(policy._WHAT) == set(c.COMMAND_TYPES)


# Outside the unions ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Unheard(e.EventBase):
    """An event no switchboard knows (as a new event would be before its cases are written)."""

    type: Literal["unheard.of"] = "unheard.of"
    note: int = 1


@dataclass(frozen=True, kw_only=True)
class Unasked:
    """A command no switchboard knows."""

    type: Literal["unasked.for"] = "unasked.for"
    incident: str = INC


UNHEARD: Any = Unheard(incident=INC, actor="ines", at=NOW)


@pytest.mark.parametrize(
    "switchboard",
    [
        lambda: apply(ROOM, UNHEARD),
        lambda: visible_to(STAKEHOLDER, UNHEARD, ROOM),
        lambda: SEALER.event(UNHEARD),
        lambda: describe(UNHEARD),
    ],
    ids=["apply", "visible_to", "sealer", "describe"],
)
def test_an_unknown_event_is_refused_not_passed_through(switchboard: Any) -> None:
    with pytest.raises(AssertionError):
        switchboard()


def test_an_unknown_command_is_refused() -> None:
    unasked: Any = Unasked()
    with pytest.raises(AssertionError):
        decide(ROOM, unasked, IM, NOW)


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_each_command_is_encoded_to_the_very_bytes_of_its_union(command: c.Command) -> None:
    # A command's bytes are digested to tell a retry from a reused id: encoding it with its own
    # type's adapter must not change one byte of what the union wrote.
    assert protocol.command_json(command) == TypeAdapter(c.Command).dump_json(command)


@pytest.mark.parametrize("event", EVENTS, ids=_name)
def test_each_event_is_encoded_to_the_very_bytes_of_its_union(event: e.Event) -> None:
    # An event's bytes are chained into the log's hashes (and stored, and sent) as written.
    assert protocol.event_json(event).encode() == TypeAdapter(e.Event).dump_json(event)
