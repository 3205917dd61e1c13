"""Snapshots of incidents: an incident's folded state as JSON, and the world resumed from such
states and the events after them, equal to `replay` of the whole log.

An incident's state depends on its own events alone (`apply` changes the incident an event
names, and counts declarations), so a snapshot of each incident at some seq of the log, plus each
incident's events after its own snapshot, fold to the world a full replay folds to. What holds a
snapshot (the store) decides whether it is still a true picture of its log; this module only
writes and reads the state and folds the rest.

A snapshot is written in parts, so that writing one again costs what changed since, not what the
incident holds: each collection that grows with the log (notes, actions, workarounds, questions,
updates, ETA revisions) is cut into pages of `PAGE` entries, each page JSON of its own and named
by the SHA-256 of its text; the rest of the state is one JSON text (the head) that names the
pages of each collection in order. An `Encoder` keeps what it last wrote of one incident: a page
whose entries are the very objects it encoded last time (the persistent collections share them
from one state to the next) is named again, not encoded again, so only the pages with a new or
changed entry are new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from itertools import islice
from operator import is_
from typing import Any, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError

from warroom.core.domain import IncidentState, World, evolve
from warroom.core.events import Event
from warroom.core.persistent import Map, Vector
from warroom.core.reducer import replay, restore

FORMAT = 2
"""The version of a snapshot's JSON and of the fold it holds. Raise it whenever `IncidentState`
(or anything in it) changes shape, `apply` folds an event differently, or the parts a snapshot is
written in change: snapshots of another format are ignored and their incidents folded again from
the log."""

PAGE = 512
"""Entries of a collection in one page of a snapshot."""


@dataclass(frozen=True)
class _Head:
    """The head of a snapshot."""

    pages: dict[str, list[str]]
    """For each paged collection, the names of its pages in order."""
    state: IncidentState
    """The state with every paged collection empty."""


@dataclass(frozen=True)
class _Paged:
    """A collection of `IncidentState` written in pages."""

    name: str
    kind: type[Vector[Any]]
    items: TypeAdapter[list[Any]]


@cache
def _head() -> TypeAdapter[_Head]:
    # Built on first use: a program that never reads a snapshot does not pay for the schema.
    return TypeAdapter(_Head)


@cache
def _paged() -> tuple[_Paged, ...]:
    """Every field of `IncidentState` that is a persistent sequence: each is written in pages."""
    hints = get_type_hints(IncidentState)
    found = []
    for one in fields(IncidentState):
        hint = hints[one.name]
        kind = get_origin(hint) or hint
        if isinstance(kind, type) and issubclass(kind, Vector):
            (item,) = get_args(hint)
            found.append(_Paged(one.name, kind, TypeAdapter(list[item])))  # type: ignore[valid-type]
    return tuple(found)


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    """Whether two pages hold the very same objects (not equal ones: identical, in C)."""
    return len(old) == len(new) and all(map(is_, old, new))


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Encoded:
    """An incident's snapshot as written: its head and the pages it names."""

    state: str
    """The head: the state without its paged collections, and the names of their pages."""
    names: tuple[str, ...]
    """The name (SHA-256 of the text) of every page the head names, in order."""
    pages: dict[str, str] = field(default_factory=dict)
    """The text of pages by name: every page, or, from an `Encoder` that wrote this incident
    before, those it did not write last time."""


@dataclass
class _Page:
    items: tuple[object, ...]
    name: str


class Encoder:
    """Writes the states of one incident, one after another, as snapshots: a page whose entries
    are the very objects it held last time is named again, not encoded again (see the module's
    docstring). Not thread-safe: one thread uses it.
    """

    def __init__(self) -> None:
        self._pages: dict[str, list[_Page]] = {}
        """Each paged collection's pages as last encoded."""

    def encode(self, incident: IncidentState) -> Encoded:
        """The snapshot of `incident`, with the text of the pages new since the last."""
        names: dict[str, list[str]] = {}
        fresh: dict[str, str] = {}
        emptied: dict[str, object] = {}
        for paged in _paged():
            collection: Vector[Any] = getattr(incident, paged.name)
            kept = self._pages.get(paged.name, [])
            pages: list[_Page] = []
            entries = iter(collection)
            for place in range(0, len(collection), PAGE):
                items = tuple(islice(entries, PAGE))
                at = place // PAGE
                old = kept[at] if at < len(kept) else None
                if old is None or not _same(old.items, items):
                    text = paged.items.dump_json(list(items)).decode()
                    old = _Page(items, _name(text))
                    fresh[old.name] = text
                pages.append(old)
            self._pages[paged.name] = pages
            names[paged.name] = [page.name for page in pages]
            emptied[paged.name] = paged.kind()
        head = _head().dump_json(_Head(names, evolve(incident, **emptied)))
        every = tuple(name for of in names.values() for name in of)
        return Encoded(head.decode(), every, fresh)


def encode(incident: IncidentState) -> Encoded:
    """The snapshot of `incident`, with the text of every page it names."""
    return Encoder().encode(incident)


def decode(state: str | bytes, pages: Mapping[str, str]) -> IncidentState:
    """The incident `encode` wrote, from its head and its pages by name.

    Raises:
        ValueError: if `state` is not the head of an incident's snapshot, or a page it names is
            missing or not the JSON of its entries (a damaged snapshot).
    """
    try:
        head = _head().validate_json(state)
        made: dict[str, object] = {}
        for paged in _paged():
            items: list[Any] = []
            for name in head.pages.get(paged.name, ()):
                text = pages.get(name)
                if text is None:
                    raise ValueError(f"not an incident's snapshot: its page {name} is missing")
                items += paged.items.validate_json(text)
            made[paged.name] = paged.kind(items)
    except ValidationError as error:
        raise ValueError(f"not an incident's snapshot: {error.error_count()} errors") from None
    return evolve(head.state, **made)


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
