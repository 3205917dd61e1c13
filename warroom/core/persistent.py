"""Persistent collections for the parts of the state that grow with the log (the incidents of a
world; an incident's notes, actions, questions, ETA revisions ...): a change makes a new value
that shares all but a few nodes with the old one, in time that does not grow with the size, and
leaves the old value as it was, so that `apply` stays pure without copying.

They are typed wrappers over `pyrsistent` and, for hashed look-ups, `immutables` (a HAMT: the
structure of `contextvars`, whose cost barely grows with the size where pyrsistent's `PMap` grew
to a millisecond a change at 100,000 keys); no other module imports either. `Vector` and
`Entries` wrap a `PVector` (a 32-way trie: reading, appending and replacing an item cost
O(log32 n)) and read as any `Sequence`: index, `len`, iteration, slices (a slice is a plain
tuple). Two of them are equal when they hold equal items in the same order; neither is ever equal
to a tuple or list (compare `tuple(entries)`). As JSON (pydantic) they are lists. `Map` reads as
any `Mapping`, in insertion order as a dict does, and equals a dict of the same items.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, ValuesView
from collections.abc import Sequence as SequenceABC
from collections.abc import Set as SetABC
from itertools import pairwise
from typing import Any, Protocol, Self, TypeVar, get_args, overload

import immutables
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema
from pyrsistent import PVector, pvector

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class Numbered(Protocol):
    """An entry numbered from 1 within its incident (note, action, workaround, question)."""

    @property
    def id(self) -> int: ...


NumberedT = TypeVar("NumberedT", bound=Numbered)


class Vector(SequenceABC[T]):
    """An immutable sequence that grows by `appended` without copying what it holds."""

    __slots__ = ("_items",)

    _items: PVector[T]

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items = pvector(items)

    @classmethod
    def _of(cls, items: PVector[T]) -> Self:
        made = object.__new__(cls)
        made._items = items
        return made

    def appended(self, item: T) -> Vector[T]:
        """This sequence with `item` at the end."""
        return Vector._of(self._items.append(item))

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._items[index])
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._items)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Vector)
        return self._items is other._items or self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._items)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """As JSON, a list of the items (what a tuple of them was before)."""
        item = (*get_args(source), Any)[0]
        items = core_schema.list_schema(handler.generate_schema(item))
        return core_schema.no_info_after_validator_function(
            cls,
            items,
            serialization=core_schema.plain_serializer_function_ser_schema(
                list, return_schema=items
            ),
        )


def _number(entry: Numbered) -> int:
    return entry.id


def _places(entries: Iterable[Numbered]) -> immutables.Map[int, int]:
    return immutables.Map({entry.id: index for index, entry in enumerate(entries)})


def _in_order(entries: Iterable[Numbered]) -> bool:
    return all(one.id < next_one.id for one, next_one in pairwise(entries))


class Entries(Vector[NumberedT]):
    """Numbered entries, each number held once, in the order the reducer placed them.

    Entry n is found in O(log n): on the full log it sits at index n - 1; in a partial view (a
    stakeholder's) the entries are still in number order, and found by bisection. Only a view
    given an entry out of order (a question they never saw asked, answered to them) indexes its
    entries by number (`_places`), once, and keeps that index from then on.
    """

    __slots__ = ("_places",)

    _places: immutables.Map[int, int] | None
    """Index of every entry by number; None while the entries are in number order."""

    def __init__(self, entries: Iterable[NumberedT] = ()) -> None:
        super().__init__(entries)
        self._places = None if _in_order(self._items) else _places(self._items)

    @classmethod
    def _made(
        cls, items: PVector[NumberedT], places: immutables.Map[int, int] | None
    ) -> Entries[NumberedT]:
        made: Entries[NumberedT] = cls._of(items)
        made._places = places
        return made

    def index_of(self, number: int) -> int:
        """The index of the entry numbered `number`, or -1 if this view does not hold it."""
        items = self._items
        index = number - 1
        if 0 <= index < len(items) and items[index].id == number:
            return index
        if self._places is not None:
            return self._places.get(number, -1)
        index = bisect_left(items, number, key=_number)
        return index if index < len(items) and items[index].id == number else -1

    def kept(self, keep: Callable[[NumberedT], bool]) -> Entries[NumberedT]:
        """The entries `keep` is true of, in the same order (a part of a view, as another
        viewer may see it)."""
        items = pvector(filter(keep, self._items))
        return Entries._made(items, None if self._places is None else _places(items))

    def appended(self, item: NumberedT) -> Entries[NumberedT]:
        """These entries and `item` after them, whatever its number (the caller knows this
        view does not hold it)."""
        items = self._items.append(item)
        places = self._places
        if places is not None:
            places = places.set(item.id, len(items) - 1)
        elif len(items) > 1 and items[-2].id >= item.id:
            places = _places(items)  # out of order from now on: index them all, once
        return Entries._made(items, places)

    def changed(
        self, number: int, change: Callable[[NumberedT], NumberedT]
    ) -> Entries[NumberedT] | None:
        """Entry `number` replaced by `change(entry)` (which keeps its number), the others as
        they were; None if this view does not hold it."""
        index = self.index_of(number)
        if index < 0:
            return None
        entry = change(self._items[index])
        if entry.id != number:
            raise ValueError(f"entry {number} cannot be renumbered {entry.id}")
        return Entries._made(self._items.set(index, entry), self._places)

    def put(self, entry: NumberedT) -> Entries[NumberedT]:
        """These entries with `entry` in the place of the one of its number, or after them."""
        items = self._items
        # On the full log a new entry's number is always the highest: one comparison, no search.
        if self._places is not None or (items and items[-1].id >= entry.id):
            replaced = self.changed(entry.id, lambda _: entry)
            if replaced is not None:
                return replaced
        return self.appended(entry)

    def put_in_order(self, entry: NumberedT) -> Entries[NumberedT]:
        """These entries with `entry` in the place of the one of its number, or placed in
        number order (the whole view sorted by number, if it was not)."""
        replaced = self.changed(entry.id, lambda _: entry)
        if replaced is not None:
            return replaced
        items = self._items
        if self._places is not None:
            return Entries(sorted((*items, entry), key=_number))
        at = bisect_left(items, entry.id, key=_number)
        if at == len(items):
            return self.appended(entry)
        # A view shown an entry it could not see until now: the one change that copies (O(n)).
        return Entries._made(items[:at].append(entry).extend(items[at:]), None)


class Map(Mapping[K, V]):
    """An immutable mapping, in the order its keys were first set (as a dict's), that changes by
    `set` without copying what it holds.

    The values sit in a `PVector` in that order, found through a HAMT of their places: setting
    a key already held replaces one item (the index is shared as it is); a new key appends one.
    """

    __slots__ = ("_pairs", "_places")

    _pairs: PVector[tuple[K, V]]
    _places: immutables.Map[K, int]

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._pairs = pvector((items or {}).items())
        self._places = immutables.Map({key: place for place, (key, _) in enumerate(self._pairs)})

    def set(self, key: K, value: V) -> Map[K, V]:
        """This mapping with `key` mapped to `value`."""
        made: Map[K, V] = object.__new__(Map)
        place = self._places.get(key)
        if place is None:
            made._pairs = self._pairs.append((key, value))
            made._places = self._places.set(key, len(self._pairs))
        else:
            made._pairs = self._pairs.set(place, (key, value))
            made._places = self._places
        return made

    def __getitem__(self, key: K) -> V:
        return self._pairs[self._places[key]][1]

    def __iter__(self) -> Iterator[K]:
        return (key for key, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def items(self) -> ItemsView[K, V]:
        return _Items(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        if isinstance(other, Map) and self._pairs is other._pairs:
            return True
        return dict(self._pairs) == dict(other.items())

    def __hash__(self) -> int:
        return hash(frozenset(self._pairs))

    def __repr__(self) -> str:
        return f"Map({dict(self._pairs)!r})"


class Set(SetABC[T]):
    """An immutable set that grows by `added` without copying what it holds."""

    __slots__ = ("_items",)

    _items: immutables.Map[T, None]

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items = immutables.Map((item, None) for item in items)

    def added(self, item: T) -> Set[T]:
        """This set with `item` in it."""
        made: Set[T] = object.__new__(Set)
        made._items = self._items.set(item, None)
        return made

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"Set({set(self._items)!r})"


class _Values(ValuesView[V]):
    _mapping: Map[Any, V]

    def __iter__(self) -> Iterator[V]:
        return (value for _, value in self._mapping._pairs)


class _Items(ItemsView[K, V]):
    _mapping: Map[K, V]

    def __iter__(self) -> Iterator[tuple[K, V]]:
        return iter(self._mapping._pairs)
