"""Folding shares the state it folds into: the old world is left as it was, and what a fold
allocates does not grow with the incident's size.

The second is checked by what `apply` allocates (tracemalloc), not by how long it takes: copying
the notes of an incident holding N of them allocates N pointers' worth, whatever the machine.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from warroom.core import events as e
from warroom.core.domain import Severity, World, find_index
from warroom.core.reducer import apply, replay

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
INC = "INC-1"
SMALL, LARGE = 100, 20_000
MOST_A_FOLD_ALLOCATES = 16 * 1024
"""Bytes: a few trie nodes and the new values; a copy of LARGE pointers is ten times this."""


def _declared() -> e.IncidentDeclared:
    return e.IncidentDeclared(
        incident=INC, actor="ana", at=T0, title="Checkout down", severity=Severity.SEV1
    )


def _note(number: int, audience: str = "internal") -> e.NoteAdded:
    at = T0 + timedelta(seconds=number)
    return e.NoteAdded(
        incident=INC,
        actor="ana",
        at=at,
        note=number,
        text=f"note {number}",
        occurred_at=at,
        audience=audience,
    )


def _pin(number: int) -> e.NotePinned:
    return e.NotePinned(incident=INC, actor="ana", at=T0, note=number, pinned=True)


def _room(notes: int, held: Callable[[int], bool] = lambda _: True) -> World:
    return replay([_declared(), *(_note(n) for n in range(1, notes + 1) if held(n))])


def _allocated(world: World, event: e.Event) -> int:
    """Peak bytes allocated while folding `event` into `world`."""
    tracemalloc.start()
    try:
        apply(world, event)  # the first call may allocate caches of its own: not counted
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        apply(world, event)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_a_fold_leaves_the_world_it_folded_into_as_it_was() -> None:
    before = _room(SMALL)
    incident = before.incidents[INC]
    notes = tuple(incident.notes)
    after = apply(apply(before, _note(SMALL + 1)), _pin(3))
    assert before.incidents[INC] is incident and tuple(incident.notes) == notes
    assert not incident.notes[2].pinned and after.incidents[INC].notes[2].pinned
    assert before == _room(SMALL)  # equal to a world folded afresh, not only to itself
    # The new notes hold the old ones, the very same values, then the new one.
    folded = after.incidents[INC].notes
    assert len(folded) == SMALL + 1
    assert all(old is new for old, new in zip(notes, folded[:SMALL], strict=True) if old.id != 3)
    assert folded[-1].id == SMALL + 1


def test_what_a_fold_allocates_does_not_grow_with_the_incident() -> None:
    small, large = _room(SMALL), _room(LARGE)
    for event_of in (_note, _pin):  # a note added; one changed in place (the SMALLth: held)
        grown = _allocated(large, event_of(LARGE + 1 if event_of is _note else SMALL))
        assert grown < MOST_A_FOLD_ALLOCATES
        assert grown <= _allocated(small, event_of(SMALL + 1 if event_of is _note else SMALL)) * 2


def test_a_partial_view_changes_an_entry_in_place_without_copying_the_others() -> None:
    # A stakeholder's view holds the notes to them only: note n is no longer at index n - 1.
    view = _room(LARGE, held=lambda n: n % 3 == 0)
    incident = view.incidents[INC]
    assert find_index(incident.notes, 3 * 1000) == 999 and find_index(incident.notes, 4) == -1
    assert _allocated(view, _pin(3 * 1000)) < MOST_A_FOLD_ALLOCATES
    assert _allocated(view, _pin(4)) < MOST_A_FOLD_ALLOCATES  # not held: nothing changes
    assert apply(view, _pin(4)) is view
