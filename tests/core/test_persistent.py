"""Entries, and a world's map of incidents, change as the tuples and dicts they replace did, and
leave the value they were made from as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.core.domain import Note, find_index
from warroom.core.persistent import Entries, Map

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _entry(number: int, text: str = "") -> Note:
    return Note(id=number, text=text, author="ana", occurred_at=T0, recorded_at=T0)


def _always(entry: Note) -> Callable[[Note], Note]:
    return lambda _: entry


def _keeping(number: int) -> Callable[[Note], bool]:
    return lambda entry: entry.id % 3 != number % 3


def _index(model: tuple[Note, ...], number: int) -> int:
    return next((i for i, entry in enumerate(model) if entry.id == number), -1)


def _put(model: tuple[Note, ...], entry: Note) -> tuple[Note, ...]:
    index = _index(model, entry.id)
    if index >= 0:
        return (*model[:index], entry, *model[index + 1 :])
    return (*model, entry)


def _put_in_order(model: tuple[Note, ...], entry: Note) -> tuple[Note, ...]:
    index = _index(model, entry.id)
    if index >= 0:
        return (*model[:index], entry, *model[index + 1 :])
    return tuple(sorted((*model, entry), key=lambda item: item.id))


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["put", "in-order", "append", "change", "keep"]), st.integers(1, 40)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 40), unique=True, max_size=20), OPERATIONS)
def test_entries_change_as_the_tuples_they_replace_did(
    start: list[int], operations: list[tuple[str, int]]
) -> None:
    model = tuple(_entry(number) for number in start)
    entries = Entries(model)
    for step, (operation, number) in enumerate(operations):
        entry = _entry(number, f"step {step}")
        held = _index(model, number) >= 0
        previous, previous_model = entries, model
        if operation == "put":
            model, entries = _put(model, entry), entries.put(entry)
        elif operation == "in-order":
            model, entries = _put_in_order(model, entry), entries.put_in_order(entry)
        elif operation == "append" and not held:
            model, entries = (*model, entry), entries.appended(entry)
        elif operation == "change":
            changed = entries.changed(number, _always(entry))
            assert (changed is not None) is held
            if changed is not None:
                model, entries = _put(model, entry), changed
        elif operation == "keep":
            kept = _keeping(number)
            model, entries = tuple(filter(kept, model)), entries.kept(kept)
        assert tuple(previous) == previous_model  # the old one is as it was
        assert tuple(entries) == model and len(entries) == len(model)
        assert entries[1:-1] == model[1:-1] and tuple(reversed(entries)) == model[::-1]
        assert entries == Entries(model) and hash(entries) == hash(Entries(model))
        for probe in range(42):
            assert entries.index_of(probe) == _index(model, probe)
            assert find_index(entries, probe) == find_index(model, probe)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers()), max_size=30))
def test_a_map_changes_as_a_dict_copied_on_every_change_did(sets: list[tuple[str, int]]) -> None:
    model: dict[str, int] = {}
    mapping: Map[str, int] = Map()
    for key, value in sets:
        before, held = mapping, dict(model)
        model, mapping = {**model, key: value}, mapping.set(key, value)
        assert list(before.items()) == list(held.items())  # the old one is as it was
        assert list(mapping.items()) == list(model.items())  # in the order keys came, as a dict
        assert list(mapping.values()) == list(model.values()) and list(mapping) == list(model)
        assert mapping == model and mapping == Map(model) and hash(mapping) == hash(Map(model))
        assert mapping.get(key) == value and mapping.get("z") is None and "z" not in mapping
