"""Snapshots of incidents: an incident's folded state as JSON, and the world resumed from such
states and the events after them, equal to `replay` of the whole log.

An incident's state depends on its own events alone (`apply` changes the incident an event
names, and counts declarations), so a snapshot of each incident at some seq of the log, plus each
incident's events after its own snapshot, fold to the world a full replay folds to. What holds a
snapshot (the store) decides whether it is still a true picture of its log; this module only
writes and reads the state and folds the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from pydantic import TypeAdapter, ValidationError

from warroom.core.domain import IncidentState, World, evolve
from warroom.core.events import Event
from warroom.core.persistent import Map
from warroom.core.reducer import replay, restore

FORMAT = 1
"""The version of a snapshot's JSON and of the fold it holds. Raise it whenever `IncidentState`
(or anything in it) changes shape, or `apply` folds an event differently: snapshots of another
format are ignored and their incidents folded again from the log."""


@cache
def _adapter() -> TypeAdapter[IncidentState]:
    # Built on first use: a program that never reads a snapshot does not pay for the schema.
    return TypeAdapter(IncidentState)


def encode(incident: IncidentState) -> str:
    """The incident's whole state as JSON text."""
    return _adapter().dump_json(incident).decode()


def decode(text: str | bytes) -> IncidentState:
    """The incident `encode` wrote.

    Raises:
        ValueError: if `text` is not the JSON of an incident's state (a damaged snapshot).
    """
    try:
        return _adapter().validate_json(text)
    except ValidationError as error:
        raise ValueError(f"not an incident's snapshot: {error.error_count()} errors") from None


def resume(
    order: Sequence[str], snapshots: Iterable[IncidentState], tail: Iterable[Event]
) -> World:
    """The world of a log from snapshots of some of its incidents and the events after them.

    Args:
        order: every incident of the log, in the order they were declared (the order the world
            holds them in, as a full replay would).
        snapshots: the state of some incidents, each at some seq of the log.
        tail: in seq order, each event of an incident after its snapshot's seq, and every event
            of an incident without a snapshot.
    """
    world = World()
    for incident in snapshots:
        world = restore(world, incident)
    world = replay(tail, world)
    held = list(world.incidents)
    if held == list(order):
        return world
    # Incidents restored from snapshots came in before those declared in the tail: put them in
    # the order of their declarations, as a replay from the first event would have.
    places = {incident: place for place, incident in enumerate(order)}
    ranked = sorted(held, key=lambda incident: places.get(incident, len(places)))
    return evolve(world, incidents=Map({key: world.incidents[key] for key in ranked}))
