"""Plain JSON data of the core's values, as `--json` output and exports print them.

The wire's frames are `warroom.core.protocol`'s; these are the shapes a person or a script reads:
an event, the current value a stale edit met, an incident's whole state, and an incident's
summary as `warroom list` prints it.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter

from warroom.core.domain import IncidentState
from warroom.core.events import Event
from warroom.core.rejections import Conflict

# Built when first used: a process that prints no JSON (the hub, `warroom note`) never pays for
# them.


@functools.cache
def _events() -> TypeAdapter[Event]:
    return TypeAdapter(Event)


def event_data(event: Event) -> dict[str, Any]:
    """An event as plain JSON data (for `--json` output and exports)."""
    result: dict[str, Any] = _events().dump_python(event, mode="json")
    return result


@functools.cache
def _conflicts() -> TypeAdapter[Conflict]:
    return TypeAdapter(Conflict)


def conflict_data(conflict: Conflict) -> dict[str, Any]:
    """A conflict's current value as plain JSON data, as `--json` prints it: the fields alone,
    without the tag the wire needs to tell an impact from an ETA."""
    result: dict[str, Any] = _conflicts().dump_python(conflict, mode="json", exclude={"type"})
    return result


@functools.cache
def _incidents() -> TypeAdapter[IncidentState]:
    return TypeAdapter(IncidentState)


def incident_data(incident: IncidentState) -> dict[str, Any]:
    """An incident's whole state as plain JSON data (for `show --json` and exports)."""
    result: dict[str, Any] = _incidents().dump_python(incident, mode="json")
    return result
