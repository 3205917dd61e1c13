"""Lists a user sends are bounded where they enter, like texts: refused with a reason, and
nothing changes. Whatever a user sends, every event (and every frame that carries it) stays
small."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warroom.core import commands as c
from warroom.core.decide import decide
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.inputs import MAX_APPS, MAX_GROUPS, MAX_TEXT, MAX_TITLE
from warroom.core.reducer import replay
from warroom.core.rejections import Rejected

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)


def _apps(count: int) -> tuple[str, ...]:
    return tuple(f"app-{n}" for n in range(count))


def _world(apps: int) -> World:
    declare = c.DeclareIncident(title="Checkout down", severity=Severity.SEV1, apps=_apps(apps))
    return replay(decide(World(), declare, IM, NOW))


def _refused(world: World, command: c.Command) -> Rejected:
    with pytest.raises(Rejected) as refused:
        decide(world, command, IM, NOW)
    assert refused.value.code == "invalid"
    assert len(refused.value.message) < 200
    return refused.value


def test_the_bounds_are_sane() -> None:
    assert 20 <= MAX_APPS <= 200 and 8 <= MAX_GROUPS <= 100
    assert MAX_TITLE <= 500 and MAX_TEXT <= 16_000


def test_an_incident_names_a_bounded_number_of_applications() -> None:
    many = c.DeclareIncident(title="x", severity=Severity.SEV2, apps=_apps(6500))
    assert "at most" in _refused(World(), many).message
    full = _world(MAX_APPS)
    assert len(full.incident("INC-1").apps) == MAX_APPS  # type: ignore[union-attr]
    _refused(full, c.AddApp(incident="INC-1", app="one-more"))
    _refused(full, c.AddMitigation(incident="INC-1", text="reroute", apps=_apps(MAX_APPS + 1)))
    decide(_world(MAX_APPS - 1), c.AddApp(incident="INC-1", app="the-last"), IM, NOW)


def test_an_audience_names_a_bounded_number_of_groups() -> None:
    world = _world(1)
    groups = ",".join(f"g{n}" for n in range(MAX_GROUPS + 1))
    refused = _refused(world, c.AddNote(incident="INC-1", text="hi", audience=groups))
    assert f"at most {MAX_GROUPS}" in refused.message
    _refused(world, c.ChangeAudience(incident="INC-1", entry="N1", audience="," * 10_000))
    enough = ",".join(f"g{n}" for n in range(MAX_GROUPS))
    decide(world, c.AddNote(incident="INC-1", text="hi", audience=enough), IM, NOW)
