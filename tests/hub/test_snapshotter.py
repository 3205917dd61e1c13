"""When the hub writes an incident's snapshot (every N of its events, when it is resolved, as it
stops), and that a world restored from them is the world of the whole log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.sequencer import Committed
from server.snapshots import Restored, Snapshotter, restore
from tests.storage.log_builder import LogBuilder
from warroom.core import snapshots
from warroom.core.commands import AddNote, ChangeStatus, Command, DeclareIncident
from warroom.core.domain import Actor, Role, Severity, Status, World
from warroom.core.reducer import replay
from warroom.store import Snapshot, Store, open_engine

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(open_engine(f"sqlite:///{tmp_path / 'warroom.db'}"))
    try:
        yield opened
    finally:
        opened.close()


class Hub:
    """What the hub does with a committed group: append it, then hand it to the snapshotter."""

    def __init__(self, store: Store, every: int) -> None:
        self.store = store
        self.builder = LogBuilder()
        self.writer = Snapshotter(store.snapshots, store.log_identity(), every)
        self.writer.start(Restored(World(), 0, {}))
        self.commands = 0

    def commit(self, *commands: Command) -> None:
        pending = []
        for command in commands:
            self.commands += 1
            pending.append(self.builder.pending(MANAGER, f"c{self.commands}", command))
        self.store.log.append(pending)
        committed = [Committed(seq, event, text) for p in pending for seq, event, text in p.events]
        self.writer.committed(committed, self.builder.world)

    def kept(self) -> dict[str, int]:
        found = self.store.snapshots.load(
            log=self.store.log_identity(), format=snapshots.FORMAT, upto=self.builder.head
        )
        return {incident: snapshot.seq for incident, snapshot in found.items()}


def _notes(incident: str, count: int, first: int = 0) -> list[Command]:
    return [AddNote(incident=incident, text=f"note {n}") for n in range(first, first + count)]


def test_snapshots_are_written_every_n_events_on_resolution_and_at_stop(store: Store) -> None:
    hub = Hub(store, every=5)
    hub.commit(DeclareIncident(title="one", severity=Severity.SEV2))  # seq 1
    hub.commit(DeclareIncident(title="two", severity=Severity.SEV3))  # seq 2
    hub.commit(*_notes("INC-1", 3))  # seqs 3-5: INC-1 has 4 events
    hub.commit(*_notes("INC-2", 2))  # seqs 6-7
    hub.commit(*_notes("INC-1", 2))  # seqs 8-9: its 5th event in this group
    hub.commit(ChangeStatus(incident="INC-2", status=Status.RESOLVED))  # seq 10
    hub.commit(*_notes("INC-1", 1))  # seq 11
    # Written on the snapshotter's thread: its stop waits for what is due.
    hub.writer.stop()
    assert hub.kept() == {"INC-1": 9, "INC-2": 10}

    again = Snapshotter(store.snapshots, store.log_identity(), every=5)
    restored = restore(store, store.log_identity())
    # INC-1 folded from seq 9 (one event), INC-2 from its resolution (none).
    assert restored.folded == {"INC-1": 1}
    assert restored.head == 11
    assert restored.world == replay(event for _, event, _ in hub.builder.events)
    again.start(restored)
    again.closing()  # as the hub stops: INC-1 has an event since its snapshot
    again.stop()
    assert hub.kept() == {"INC-1": 11, "INC-2": 10}


def test_a_snapshot_written_again_writes_only_its_new_pages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "PAGE", 2)
    given: list[tuple[int, list[int]]] = []
    """Each snapshot given to the store: its seq, and the first note of each page given."""
    save = store.snapshots.save

    def saving(snapshot: Snapshot, **kwargs: Any) -> bool:
        firsts = (json.loads(text)[0]["text"] for text in snapshot.pages.values())
        given.append((snapshot.seq, sorted(int(first.split()[1]) for first in firsts)))
        return save(snapshot, **kwargs)

    monkeypatch.setattr(store.snapshots, "save", saving)
    hub = Hub(store, every=5)
    hub.commit(DeclareIncident(title="one", severity=Severity.SEV2), *_notes("INC-1", 4))
    hub.writer.flush()
    # Notes 0-1 and 2-3: every page is new.
    assert given.pop() == (5, [0, 2])

    hub.commit(*_notes("INC-1", 5, 4))  # notes 4 to 8
    hub.writer.flush()
    assert given.pop() == (10, [4, 6, 8])  # 0-1 and 2-3 named again

    # Pages deleted behind its back: the next snapshot is not kept, the one after it is whole.
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM snapshot_pages")
    hub.commit(*_notes("INC-1", 5, 9))  # notes 9 to 13
    hub.writer.flush()
    assert given.pop() == (15, [8, 10, 12])
    assert hub.kept() == {"INC-1": 10}  # the page-less 15 was refused, 10 stays (its pages gone)
    hub.commit(*_notes("INC-1", 5, 14))
    hub.writer.flush()
    assert given.pop() == (20, list(range(0, 20, 2)))
    assert hub.kept() == {"INC-1": 20}

    # Resolved: no page changed. Then what was written of it is let go: once reopened, its
    # next snapshot is written whole.
    hub.commit(ChangeStatus(incident="INC-1", status=Status.RESOLVED))
    hub.writer.flush()
    assert given.pop() == (21, [])
    hub.commit(ChangeStatus(incident="INC-1", status=Status.MONITORING), *_notes("INC-1", 4, 19))
    hub.writer.stop()
    assert given.pop() == (26, list(range(0, 23, 2)))
    restored = restore(store, store.log_identity())
    assert restored.folded == {}
    assert restored.world == replay(event for _, event, _ in hub.builder.events)
