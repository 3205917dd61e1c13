"""The disguises of `warroom.core.disclosure`: cursors that open only under their secret, entry
numbers that are a permutation (two entries never share a number) and count nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.disclosure import ENTRY_BITS, SEQ_BITS, Sealer
from warroom.core.domain import Actor, Impact, Note, Role, Severity, World
from warroom.core.reducer import replay
from warroom.core.rejections import Rejected

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SEALER = Sealer(b"k" * 32)
IM = Actor("ines", Role.INCIDENT_MANAGER)


@given(st.integers(min_value=0, max_value=(1 << SEQ_BITS) - 1))
def test_a_cursor_opens_to_its_seq(seq: int) -> None:
    token = SEALER.cursor(seq)
    assert token.startswith("c") and len(token) == 17
    assert SEALER.open_cursor(token) == seq


def test_cursors_have_no_order_and_open_only_under_their_secret() -> None:
    tokens = [SEALER.cursor(seq) for seq in range(1, 201)]
    assert tokens != sorted(tokens)  # consecutive seqs do not give ascending cursors
    other = Sealer(b"o" * 32)
    opened = [other.open_cursor(token) for token in tokens]
    # Under another secret nearly every token is refused, and none opens to its own seq.
    assert sum(seq is not None for seq in opened) < 5
    assert all(seq != n for n, seq in enumerate(opened, 1))


@pytest.mark.parametrize("token", ["", "c", "c123", "C0123456789abcdef", "c0123456789abcdeg", "12"])
def test_malformed_cursors_are_refused(token: str) -> None:
    assert SEALER.open_cursor(token) is None


def test_forged_cursors_are_refused() -> None:
    forged = [f"c{n:016x}" for n in range(0, 1 << 40, (1 << 40) // 997)]
    assert sum(SEALER.open_cursor(token) is not None for token in forged) <= 2


def test_entry_numbers_are_a_permutation_per_incident_and_kind() -> None:
    numbers = [SEALER.entry("INC-1", "note", n) for n in range(1, 2001)]
    assert len(set(numbers)) == 2000  # never two entries with one number
    assert all(1 <= n <= 1 << ENTRY_BITS for n in numbers)
    assert numbers[:5] != [1, 2, 3, 4, 5]
    assert [SEALER.entry("INC-2", "note", n) for n in range(1, 6)] != numbers[:5]
    assert [SEALER.entry("INC-1", "action", n) for n in range(1, 6)] != numbers[:5]
    assert SEALER.entry("INC-1", "note", 7) == Sealer(b"k" * 32).entry("INC-1", "note", 7)


def test_an_event_and_the_entry_it_names_get_the_same_number() -> None:
    added = e.NoteAdded(incident="INC-1", actor="a", at=NOW, note=3, text="t", occurred_at=NOW)
    pinned = e.NotePinned(incident="INC-1", actor="a", at=NOW, note=3, pinned=True)
    note = Note(id=3, text="t", author="a", occurred_at=NOW, recorded_at=NOW, audience="all")
    moved = e.AudienceChanged(
        incident="INC-1", actor="a", at=NOW, entry="N3", audience="all", previous="internal",
        note=note,
    )  # fmt: skip
    number = SEALER.entry("INC-1", "note", 3)
    disguised = [SEALER.event(added), SEALER.event(pinned), SEALER.event(moved)]
    assert isinstance(disguised[0], e.NoteAdded) and disguised[0].note == number
    assert isinstance(disguised[1], e.NotePinned) and disguised[1].note == number
    assert isinstance(disguised[2], e.AudienceChanged)
    assert disguised[2].entry == f"N{number}"
    assert disguised[2].note is not None and disguised[2].note.id == number
    assert disguised[0].text == "t"  # nothing else changes


def test_impact_versions_are_disguised_too() -> None:
    updated = e.ImpactUpdated(
        incident="INC-1", actor="a", at=NOW, statement="s", customer_facing=False, version=4
    )
    disguised = SEALER.event(updated)
    assert isinstance(disguised, e.ImpactUpdated)
    assert disguised.version == SEALER.impact("INC-1", Impact(version=4)).version != 4


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Sealer(b"short")


def test_private_incident_suffixes_are_short_unique_and_count_nothing() -> None:
    suffixes = [SEALER.private_suffix(n) for n in range(1, 3001)]
    assert len(set(suffixes)) == 3000  # never two incidents with one id
    assert all(len(s) == 6 and set(s) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for s in suffixes)
    assert suffixes != sorted(suffixes)  # the nth is not after the (n-1)th: no order, no count
    assert not any(s.lstrip("0") in {str(n), str(n - 1)} for n, s in enumerate(suffixes, 1))
    assert [Sealer(b"o" * 32).private_suffix(n) for n in range(1, 4)] != suffixes[:3]
    assert SEALER.private_suffix(7) == Sealer(b"k" * 32).private_suffix(7)  # stable


def test_decide_takes_a_private_incidents_id_from_the_command_and_only_then() -> None:
    world = World()
    private = c.DeclareIncident(title="Breach", severity=Severity.SEV1, private=True)
    with pytest.raises(Rejected, match="suffix"):
        decide(world, private, IM, NOW)  # counting them is what a suffix is for
    with pytest.raises(Rejected, match="suffix"):
        decide(
            world, c.DeclareIncident(title="x", severity=Severity.SEV1, suffix="K7Q3XZ"), IM, NOW
        )
    named = replace(private, suffix=SEALER.private_suffix(1))
    (declared,) = decide(world, named, IM, NOW)
    assert declared.incident == f"INC-P{SEALER.private_suffix(1)}"
    world = replay([declared])
    assert world.declared_private == 1 and world.incident(declared.incident) is not None
    with pytest.raises(Rejected, match="already"):
        decide(world, named, IM, NOW)
