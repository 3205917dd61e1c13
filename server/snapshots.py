"""Snapshots of incidents, written as the hub goes and read when it starts: a restart folds each
incident from its newest snapshot, not from its first event.

`restore` makes the world a hub starts from: the snapshots that are true of the log (see
`warroom.store.snapshots`), and each incident's events after its own (all of them for an incident
without one), folded as `warroom.core.snapshots.resume` does, to the world and head a replay of
the whole log gives. `Snapshotter` writes an incident's snapshot every `EVERY` of its events,
when it is resolved, and as the hub stops (every incident with events since its snapshot), on a
thread of its own, after the events are committed and published: never in the way of a command
or its acknowledgement. A hub that is killed leaves at most `EVERY` events of an open incident to
fold again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from server.sequencer import Committed
from warroom.core import events as e
from warroom.core import protocol, reducer, snapshots, summary
from warroom.core.domain import IncidentState, ShelvedIncident, Status, World
from warroom.store import Snapshot, Snapshots, Store, StoreError

log = logging.getLogger(__name__)

EVERY = 1000
"""An incident's snapshot is written again once this many of its events were folded since."""

SNAPSHOTS_A_READ = 8
"""Snapshots read in one query as a hub starts."""


@dataclass(frozen=True)
class Restored:
    """The world a hub starts from, as a replay of the whole log up to `head` gives it."""

    world: World
    head: int
    folded: dict[str, int]
    """For each incident, how many of its events were folded from the log (after its snapshot,
    or from its first event)."""


def restore(store: Store, log_id: str, shelve: bool = False) -> Restored:
    """Read the newest snapshot of each incident and the events after it, and fold them.

    A snapshot that cannot be decoded is left out as the store leaves out the others that are
    not true of the log: its incident is folded from its first event.

    Args:
        shelve: hold each incident that its snapshot shows resolved, with no event after it, by
            its header alone (`ShelvedIncident`): its whole state is never kept in memory.

    Raises:
        StoreError: if the database failed.
    """
    # The head first: whatever another hub commits meanwhile comes after it, by the catch-up.
    head = store.log.head()
    order = store.log.incidents(head)
    states: list[IncidentState] = []
    after: dict[str, int] = {}
    # A few snapshots a read: what a restart holds at once is a few snapshots' text and states,
    # not all of them (the allocator keeps what it once held).
    for start in range(0, len(order), SNAPSHOTS_A_READ):
        chunk = order[start : start + SNAPSHOTS_A_READ]
        found = store.snapshots.load(
            log=log_id, format=snapshots.FORMAT, upto=head, incidents=chunk
        )
        for incident in chunk:
            snapshot = found.pop(incident, None)
            state = None if snapshot is None else _decoded(snapshot)
            if snapshot is None or state is None:
                after[incident] = 0
                continue
            if shelve and state.status is Status.RESOLVED:
                state = summary.shelve(state)  # its entries are let go at once
            states.append(state)
            after[incident] = snapshot.seq
    tail = [protocol.load_event(data) for _, data in store.log.read_since(after, head)]
    folded = dict(Counter(event.incident for event in tail))
    for place, state in enumerate(states):
        if isinstance(state, ShelvedIncident) and state.id in folded:
            # Events follow its snapshot (a hub killed before it wrote the next one): it is
            # read back whole, with them, and folded on as the others are.
            whole = read_back(store, log_id, state.id, head)
            assert whole is not None  # its snapshot was read a moment ago
            states[place] = whole
            tail = [event for event in tail if event.incident != state.id]
    world = snapshots.resume(order, states, tail)
    return Restored(world, head, folded)


def read_back(store: Store, log_id: str, incident: str, upto: int) -> IncidentState | None:
    """The whole state of `incident` at seq `upto`, as a restart reads it: its newest snapshot
    true of the log and its events after it up to `upto` (all of them without one). Blocking:
    on the writer thread or a reader's. None if the log holds no such incident up to `upto`.

    Raises:
        StoreError: if the database failed.
    """
    found = store.snapshots.load(
        log=log_id, format=snapshots.FORMAT, upto=upto, incidents=(incident,)
    ).get(incident)
    state = None if found is None else _decoded(found)
    after = 0 if found is None or state is None else found.seq
    tail = (protocol.load_event(data) for _, data in store.log.read_since({incident: after}, upto))
    start = World() if state is None else reducer.restore(World(), state)
    return reducer.replay(tail, start).incident(incident)


def _decoded(snapshot: Snapshot) -> IncidentState | None:
    try:
        state = snapshots.decode(snapshot.state, snapshot.pages)
    except ValueError as error:
        log.warning("ignoring the snapshot of %s at seq %d: %s", *_where(snapshot), error)
        return None
    if state.id != snapshot.incident:
        log.warning("ignoring the snapshot of %s at seq %d: it holds another", *_where(snapshot))
        return None
    return state


def _where(snapshot: Snapshot) -> tuple[str, int]:
    return snapshot.incident, snapshot.seq


class Snapshotter:
    """Counts each incident's events as the hub publishes them, and writes the snapshots due on
    a thread of its own.

    Args:
        store: where the snapshots are kept.
        log_id: the identity of the log they are taken of.
        every: write an incident's snapshot once this many of its events were folded since.
    """

    def __init__(self, store: Snapshots, log_id: str, every: int = EVERY) -> None:
        self._store = store
        self._log_id = log_id
        self._every = every
        self._since: dict[str, int] = {}
        """Events of each incident folded since its snapshot was last due (event loop only)."""
        self._due: dict[str, tuple[int, IncidentState]] = {}
        """The newest state due to be written of each incident, with its seq (under `_lock`)."""
        self._lock = threading.Lock()
        self._writing: set[str] = set()
        """The incidents whose snapshot the thread is writing now (under `_lock`)."""
        self._written = threading.Condition(self._lock)
        """Notified each time the thread has written what it took."""
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._last: tuple[World, int] = (World(), 0)
        """The newest world counted, and its seq."""
        self._encoders: dict[str, snapshots.Encoder] = {}
        """What was last written of each open incident, so that writing it again writes only
        the pages that changed (the thread only)."""

    def start(self, restored: Restored) -> None:
        """Start the writing thread, with the snapshots the restore showed were due: an
        incident folded from `every` events or more, and a resolved one folded from any."""
        self._last = (restored.world, restored.head)
        for incident, count in restored.folded.items():
            state = restored.world.incident(incident)
            if state is not None and (count >= self._every or state.status is Status.RESOLVED):
                self._put(incident, restored.head, state)
            else:
                self._since[incident] = count
        self._thread = threading.Thread(target=self._run, name="warroom-snapshots", daemon=True)
        self._thread.start()

    def committed(self, committed: Sequence[Committed], world: World) -> None:
        """Count the events of a published group (on the event loop); `world` is the world
        after them, at the seq of the last."""
        if not committed:
            return
        self._last = (world, committed[-1].seq)
        due: set[str] = set()
        for item in committed:
            incident = item.event.incident
            count = self._since.get(incident, 0) + 1
            self._since[incident] = count
            event = item.event
            if count >= self._every or (
                isinstance(event, e.StatusChanged) and event.status is Status.RESOLVED
            ):
                due.add(incident)
        for incident in due:
            state = world.incident(incident)
            if state is not None:
                self._since[incident] = 0
                self._put(incident, committed[-1].seq, state)

    def current(self, incident: str) -> bool:
        """Whether `incident`'s newest snapshot was written of its newest event (as far as this
        hub knows: a write that failed is not told apart), so that reading it back folds next
        to nothing (event loop only)."""
        if self._since.get(incident, 0):
            return False
        with self._lock:
            return incident not in self._due and incident not in self._writing

    def flush(self) -> None:
        """Wait until what is due now is written (blocking: call it from a worker thread)."""
        with self._written:
            self._written.wait_for(lambda: not self._due and not self._writing)

    def shelved(self, world: World) -> None:
        """The hub shelved incidents of `world` (the same seq as the last counted): the world
        kept to write at stop is that one, and holds their headers only."""
        self._last = (world, self._last[1])

    def _put(self, incident: str, seq: int, state: IncidentState) -> None:
        if isinstance(state, ShelvedIncident):
            return  # a header holds no entries: its newest snapshot is the one read back
        with self._lock:
            self._due[incident] = (seq, state)
        self._wake.set()

    def closing(self) -> None:
        """Make every incident with events since its last snapshot due (on the event loop, once
        nothing is published any more): the next start folds none of them."""
        world, seq = self._last
        for incident, count in self._since.items():
            state = world.incident(incident)
            if count and state is not None:
                self._put(incident, seq, state)
        self._since.clear()

    def stop(self) -> None:
        """Write what is due, then end the thread (blocking: call it from a worker thread)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                due, self._due = self._due, {}
                self._writing = set(due)
            for incident, (seq, state) in due.items():
                self._write(incident, seq, state)
            with self._written:
                self._writing = set()
                self._written.notify_all()
            if self._stopping and not self._due:
                return

    def _write(self, incident: str, seq: int, state: IncidentState) -> None:
        encoder = self._encoders.pop(incident, None) or snapshots.Encoder()
        try:
            written = encoder.encode(state)
            snapshot = Snapshot(incident, seq, written.state, written.pages)
            kept = self._store.save(
                snapshot, log=self._log_id, format=snapshots.FORMAT, names=written.names
            )
        except StoreError as error:
            # Only a restart is the slower for it: the next snapshot due writes it anew.
            log.warning("could not write the snapshot of %s at seq %d: %s", incident, seq, error)
            return
        except Exception:  # never let the thread die: the log is the truth, this a shortcut
            log.exception("could not write the snapshot of %s at seq %d", incident, seq)
            return
        # Kept for the next one only while the database holds what it wrote, and the incident
        # is open: a resolved incident's entries are let go of (the hub may shelve it).
        if kept and state.status is not Status.RESOLVED:
            self._encoders[incident] = encoder
