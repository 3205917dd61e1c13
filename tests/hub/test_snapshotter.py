"""When the hub writes an incident's snapshot (every N of its events, when it is resolved, as it
stops), and that a world restored from them is the world of the whole log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.sequencer import Committed
from server.snapshots import Restored, Snapshotter, restore
from tests.storage.log_builder import LogBuilder
from warroom.core import snapshots
from warroom.core.commands import AddNote, ChangeStatus, Command, DeclareIncident
from warroom.core.domain import Actor, Role, Severity, Status, World
from warroom.core.reducer import replay
from warroom.store import Store, open_engine

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


def _notes(incident: str, count: int) -> list[Command]:
    return [AddNote(incident=incident, text=f"note {n}") for n in range(count)]


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
