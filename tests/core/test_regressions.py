"""Inputs that once got past the checks: each must now be refused with a typed error."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import decide
from warroom.core.domain import Actor, Impact, Role, Severity, World, evolve
from warroom.core.reducer import replay
from warroom.core.rejections import Rejected
from warroom.core.timeparse import parse_time

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)


def test_clearing_the_owner_of_an_unowned_action_says_so() -> None:
    world = World()
    commands: list[c.Command] = [
        c.DeclareIncident(title="t", severity=Severity.SEV1),
        c.AddAction(incident="INC-1", text="restart"),
    ]
    for cmd in commands:
        world = replay(decide(world, cmd, IM, NOW), world)
    with pytest.raises(Rejected) as info:
        decide(world, c.AssignAction(incident="INC-1", action=1, owner=None), IM, NOW)
    assert info.value.message == "action A1 is already without an owner"


def test_a_lone_surrogate_is_a_bad_frame() -> None:
    # It could never be encoded again, so it must not get as far as decide().
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client(
            '{"type":"submit","v":1,"id":"c1","command":'
            '{"type":"incident.declare","title":"a\\ud800b","severity":"SEV1"}}'
        )
    assert info.value.code == "bad-frame"


@pytest.mark.parametrize("depth", [1_000, 50_000])
def test_deeply_nested_frame_is_a_bad_frame(depth: int) -> None:
    frame = "[" * depth
    assert len(frame.encode()) <= protocol.MAX_FRAME
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client(frame)
    assert info.value.code == "bad-frame"


@pytest.mark.parametrize(
    ("text", "zone"),
    [("+9999999d", UTC), ("+99999999999d", UTC), ("0001-01-01T00:00", ZoneInfo("Europe/Paris"))],
)
def test_out_of_range_time_is_a_value_error(text: str, zone: tzinfo) -> None:
    with pytest.raises(ValueError):
        parse_time(text, NOW, zone)


def test_withdrawing_a_withdrawn_eta_is_invalid_state() -> None:
    world = World()
    commands: list[c.Command] = [
        c.DeclareIncident(title="t", severity=Severity.SEV1),
        c.SetEta(incident="INC-1", eta=datetime(2026, 11, 27, 13, 0, tzinfo=UTC), base_version=0),
        c.SetEta(incident="INC-1", eta=None, base_version=1),
    ]
    for cmd in commands:
        world = replay(decide(world, cmd, IM, NOW), world)
    with pytest.raises(Rejected) as info:
        decide(world, c.SetEta(incident="INC-1", eta=None, base_version=2), IM, NOW)
    assert info.value.code == "invalid-state"


def test_version_must_be_the_integer_1() -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_client('{"type":"hello","v":true}')
    assert info.value.code == "bad-version"


def test_evolve_refuses_a_misspelt_field_and_names_it() -> None:
    impact = Impact(statement="s", version=2)
    assert evolve(impact, version=3, statement="t") == Impact(statement="t", version=3)
    with pytest.raises(TypeError) as info:
        evolve(impact, verison=3)
    assert str(info.value) == "Impact has no field 'verison'"
    with pytest.raises(TypeError) as info:
        evolve(impact, statement="t", audeince="all", versoin=3)
    assert str(info.value) == "Impact has no field 'audeince', 'versoin'"
    assert impact == Impact(statement="s", version=2)
