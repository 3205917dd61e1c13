"""Property tests: a world resumed from snapshots of its incidents, taken at random points of a
random log, and the events after them, is the world `replay` folds from the first event, and
goes on folding to the same worlds.
"""

from __future__ import annotations

import hashlib
import json
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from tests.core.test_replay_hypothesis import IM, PROPERTY, Run, drive, steps
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core import snapshots
from warroom.core.domain import Actor, IncidentState, Severity, World
from warroom.core.reducer import apply, replay

PRIVATE = [
    (IM, c.DeclareIncident(title="Leak", severity=Severity.SEV1, private=True, suffix="K7Q3XZ")),
    (IM, c.DeclareIncident(title="Fraud", severity=Severity.SEV2, private=True, suffix="A1B2C3")),
]
"""Private declarations (named by the hub: the suffix is given), to count apart."""

logs = st.tuples(
    steps, st.lists(st.sampled_from(PRIVATE), max_size=2, unique_by=lambda p: p[1].suffix)
).map(lambda parts: [*parts[0][:4], *parts[1], *parts[0][4:]])
points = st.lists(st.integers(min_value=-1, max_value=200), min_size=6, max_size=6)
"""For each incident (in order of declaration) the number of events folded into its snapshot
(taken modulo the log's length), or -1: no snapshot."""


def _through_json(state: IncidentState) -> IncidentState:
    """`state` written as a snapshot and read back, as the store keeps it."""
    written = snapshots.encode(state)
    assert set(written.pages) == set(written.names)
    return snapshots.decode(written.state, written.pages)


def _order(events: list[e.Event]) -> list[str]:
    order: dict[str, None] = {}
    for event in events:
        order.setdefault(event.incident, None)
    return list(order)


def _resumed(run: Run, upto: int, taken: list[int]) -> World:
    """The world of the first `upto` events, from snapshots of its incidents after `taken[i]`
    events (each at most `upto`) and the events of each incident after its snapshot."""
    events = run.events[:upto]
    order = _order(events)
    after: dict[str, int] = {}
    states: list[IncidentState] = []
    for incident, point in zip(order, taken, strict=False):
        at = point % (upto + 1) if point >= 0 else -1
        state = run.worlds[at].incident(incident) if at >= 0 else None
        if state is None:
            continue  # no snapshot, or one from before it was declared: there is none
        states.append(_through_json(state))
        after[incident] = at
    tail = [
        event for index, event in enumerate(events, start=1) if index > after.get(event.incident, 0)
    ]
    return snapshots.resume(order, states, tail)


def _same(resumed: World, replayed: World) -> None:
    assert resumed == replayed
    # Equality of worlds ignores the order of their incidents; a replay's order is the
    # declarations', and everything that lists incidents follows it.
    assert list(resumed.incidents) == list(replayed.incidents)
    assert (resumed.declared, resumed.declared_private) == (
        replayed.declared,
        replayed.declared_private,
    )


@PROPERTY
@given(logs, points, st.integers(min_value=0, max_value=10_000))
def test_resuming_from_snapshots_equals_replaying_from_zero(
    sequence: list[tuple[Actor, c.Command]], taken: list[int], cut: int
) -> None:
    run = drive(sequence)
    upto = cut % (len(run.events) + 1)

    resumed = _resumed(run, upto, taken)

    _same(resumed, replay(run.events[:upto]))
    _same(resumed, run.worlds[upto])
    # The restored incidents go on as the folded ones: the rest of the log folds onto the
    # resumed world to the world of the whole log, after each event.
    world = resumed
    for index, event in enumerate(run.events[upto:], start=upto + 1):
        world = apply(world, event)
        _same(world, run.worlds[index])


@PROPERTY
@given(logs)
def test_every_incident_survives_its_json(sequence: list[tuple[Actor, c.Command]]) -> None:
    run = drive(sequence)
    for world in run.worlds:
        for incident in world.incidents.values():
            assert _through_json(incident) == incident


@PROPERTY
@given(logs, st.integers(min_value=1, max_value=4))
def test_an_encoder_writes_again_only_the_pages_that_changed(
    sequence: list[tuple[Actor, c.Command]], page: int
) -> None:
    run = drive(sequence)
    encoders: dict[str, snapshots.Encoder] = {}
    held: dict[str, dict[str, str]] = {}
    with patch.object(snapshots, "PAGE", page):
        for world in run.worlds:
            for incident in world.incidents.values():
                encoder = encoders.setdefault(incident.id, snapshots.Encoder())
                written = encoder.encode(incident)
                # Every page it names it gave now or gave before.
                pages = held.setdefault(incident.id, {})
                assert set(written.names) <= set(pages) | set(written.pages)
                pages.update(written.pages)
                assert snapshots.decode(written.state, pages) == incident
                # The same state again: nothing new to write, and the very same snapshot.
                again = encoder.encode(incident)
                assert again.pages == {}
                assert (again.state, again.names) == (written.state, written.names)
                # Each page holds `page` entries or fewer, and an incident written afresh has
                # the same pages: what is written does not depend on what was written before.
                whole = snapshots.encode(incident)
                assert (whole.state, whole.names) == (written.state, written.names)
                assert all(len(json.loads(text)) <= page for text in whole.pages.values())


def test_a_note_added_or_changed_makes_one_page_new() -> None:
    run = drive([(IM, c.DeclareIncident(title="Busy", severity=Severity.SEV2))])
    world = run.worlds[-1]
    incident = world.incidents["INC-1"]
    at = incident.declared_at
    encoder = snapshots.Encoder()
    with patch.object(snapshots, "PAGE", 10):
        for number in range(1, 26):
            world = apply(
                world,
                e.NoteAdded(
                    incident="INC-1", actor="al", at=at, note=number, text="n", occurred_at=at
                ),
            )
        first = encoder.encode(world.incidents["INC-1"])
        assert len(first.names) == len(first.pages) == 3  # notes 1-10, 11-20, 21-25
        world = apply(
            world, e.NotePinned(incident="INC-1", actor="al", at=at, note=14, pinned=True)
        )
        pinned = encoder.encode(world.incidents["INC-1"])
        assert len(pinned.pages) == 1 and pinned.names[0] == first.names[0]
        assert pinned.names[1] != first.names[1] and pinned.names[2] == first.names[2]
        world = apply(
            world,
            e.NoteAdded(incident="INC-1", actor="al", at=at, note=26, text="n", occurred_at=at),
        )
        added = encoder.encode(world.incidents["INC-1"])
        assert list(added.pages) == [added.names[2]] and added.names[:2] == pinned.names[:2]
        pages = {**first.pages, **pinned.pages, **added.pages}
        assert snapshots.decode(added.state, pages) == world.incidents["INC-1"]


def test_a_damaged_snapshot_is_refused_with_a_value_error() -> None:
    noted = (IM, c.AddNote(incident="INC-PK7Q3XZ", text="Rotated the keys"))
    incident = replay(drive([*PRIVATE, noted]).events).incidents["INC-PK7Q3XZ"]
    assert len(incident.notes) == 1
    written = snapshots.encode(incident)
    text, pages = written.state, written.pages

    assert snapshots.decode(text, pages) == incident
    for damaged in (text[: len(text) // 2], text.replace('"SEV1"', '"SEV9"'), "", "null"):
        with pytest.raises(ValueError, match="not an incident's snapshot"):
            snapshots.decode(damaged, pages)
    name = written.names[0]
    for pages_damaged in ({}, {**pages, name: "[{}]"}, {**pages, name: "{"}):
        with pytest.raises(ValueError, match="not an incident's snapshot"):
            snapshots.decode(text, pages_damaged)


SHAPES = {1: "991da82a45d79fd7", 2: "991da82a45d79fd7"}
"""The digest of `IncidentState`'s JSON schema at each snapshot format."""


def test_the_snapshot_format_changes_with_the_shape_of_an_incident() -> None:
    schema = TypeAdapter(IncidentState).json_schema()
    shape = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()[:16]
    # A new field, or a field of another type, makes older snapshots unreadable or wrong:
    # raise snapshots.FORMAT, and record the new shape here beside it.
    assert SHAPES.get(snapshots.FORMAT) == shape
