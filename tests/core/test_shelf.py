"""Property tests: an incident's header (`summary.shelve`) gives every viewer the lobby summary
its whole state gives them, and nothing folds into or decides against a header."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given

from tests.core.test_replay_hypothesis import (
    EXEC,
    IM,
    OBSERVER,
    PROPERTY,
    RESPONDER,
    SUPPORT,
    drive,
    steps,
)
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.domain import Actor, Role, Shelved, ShelvedIncident, Status
from warroom.core.policy import disclosed
from warroom.core.reducer import apply
from warroom.core.summary import shelve, summarize, summarize_each

VIEWERS = (
    IM,
    RESPONDER,
    OBSERVER,
    EXEC,
    SUPPORT,
    Actor("both", Role.STAKEHOLDER, frozenset({"exec", "support"})),
    Actor("nobody", Role.STAKEHOLDER),
)


@PROPERTY
@given(steps)
def test_a_header_summarizes_as_the_whole_state_for_every_viewer(
    sequence: list[tuple[Actor, c.Command]],
) -> None:
    run = drive(sequence)
    for world in run.worlds[:: max(1, len(run.worlds) // 8)] + run.worlds[-1:]:
        for incident in world.incidents.values():
            header = shelve(incident)
            assert isinstance(header, ShelvedIncident)
            assert len(header.notes) == len(header.questions) == len(header.updates) == 0
            assert shelve(header) is header
            for viewer in VIEWERS:
                assert summarize(header, viewer) == summarize(incident, viewer)
            assert summarize_each(header, VIEWERS) == summarize_each(incident, VIEWERS)


def test_nothing_folds_into_or_is_decided_against_a_header() -> None:
    run = drive([(IM, c.DeclareIncident(title="Disk", severity="SEV2"))])  # type: ignore[arg-type]
    world = run.worlds[-1]
    header = shelve(world.incidents["INC-1"])
    shelved = world.__class__(
        incidents=world.incidents.set("INC-1", header), declared=world.declared
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    note = e.NoteAdded(incident="INC-1", actor="ines", at=now, note=1, text="x", occurred_at=now)
    with pytest.raises(Shelved):
        apply(shelved, note)
    with pytest.raises(Shelved):
        decide(shelved, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED), IM, now)
    with pytest.raises(Shelved):
        disclosed(EXEC, note, shelved)
    # The war room's view of an event needs the header alone.
    assert disclosed(IM, note, shelved) == note
