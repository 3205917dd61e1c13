"""The sequencer: one writer thread that authorizes, decides, numbers and commits commands.

Commands queue up from the event loop; the thread takes them in groups, decides each against the
world as the commands before it left it, gives their events the next sequence numbers, and
commits the whole group in one transaction. Only then does it hand the committed events and the
outcomes back to the event loop, in order, which publishes and acknowledges them. The loop never
waits on the disk, and the log's order is the order commands were decided in.

On PostgreSQL other hubs write the same log: each group is decided in a turn of the log
(`EventLog.turn`), which first hands over what the others committed since this hub's head; those
events are folded into the world before anything is decided, and published before the group's
own. Between groups, `catch_up` (called when another hub commits) has the thread read and publish
them too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection

from server.session import seat
from warroom.core import protocol
from warroom.core.commands import ChangeAccess, Command, DeclareIncident
from warroom.core.decide import decide
from warroom.core.domain import Actor, IncidentState, Role, ShelvedIncident, World, evolve
from warroom.core.events import Event
from warroom.core.groups import check_groups, known_groups, named_groups
from warroom.core.policy import authorize
from warroom.core.reducer import apply
from warroom.core.rejections import Rejected
from warroom.core.summary import shelve
from warroom.store import DuplicateCommand, EventLog, Pending, StoreError, Turn, UserDirectory

log = logging.getLogger(__name__)

MAX_BATCH = 1024
"""The most commands committed in one transaction."""

RECENT_COMMANDS = 100_000
"""How many committed command ids are remembered in memory to answer retries at once."""


def digest(command: Command) -> str:
    """What a command is, in 64 hex digits: a retry has the same, a reused id another."""
    return hashlib.sha256(protocol.command_json(command)).hexdigest()


def reused_id(command_id: str) -> Rejected:
    """The refusal of a command id already used for another command."""
    return Rejected(
        "duplicate-id",
        f"the command id {command_id} was already used for another command; nothing was recorded",
    )


class _UsersChanged(Exception):
    """A user of the group was revoked or changed while it was decided: decide it again."""


@dataclass(frozen=True)
class Committed:
    """An event as committed: its seq, the event and its encoded form (encoded once, here)."""

    seq: int
    event: Event
    encoded: str


@dataclass(frozen=True)
class Accepted:
    """The command was committed; `seq` is the seq of its last event."""

    seq: int
    duplicate: bool = False


Outcome = Accepted | Rejected
Answer = Callable[[Outcome], None]
"""Told a command's outcome, on the event loop (see `Sequencer.send`)."""
Publisher = Callable[[Sequence[Committed], World], None]
ReadBack = Callable[[str, int], IncidentState | None]
"""Reads an incident's whole state at a seq back from the store (`server.snapshots.read_back`)."""


@dataclass(slots=True)
class _Item:
    actor: Actor
    command_id: str
    command: Command
    answer: Answer


@dataclass(frozen=True)
class _Group:
    """A group of commands as decided and appended, to deliver once its turn committed."""

    world: World
    head: int
    ids: dict[tuple[str, str], tuple[int, str]]
    """The command ids committed, with the seq of their last event and their digest."""
    committed: list[Committed]
    outcomes: list[tuple[_Item, Outcome]]


@dataclass
class _Shelve:
    """Asks the writer thread to hold incidents by their header alone: each only while the
    world still holds it as the state given (nothing was committed to it since)."""

    states: list[IncidentState]
    future: asyncio.Future[list[str]]


_STOP = object()
_CATCH_UP = object()
"""Asks the writer thread to read and publish what other hubs committed."""


class Sequencer:
    """Serialises every write of the war room through one thread.

    Args:
        event_log: the log the thread appends to.
        users: the user directory (an invitation must name an active user).
        world: the state folded from the whole log.
        head: the seq of the newest event in the log.
        publish: called on the event loop with each committed group, before the acks.
        clock: the time source (UTC, timezone-aware).
        name_private: the id suffix of the nth private incident (`Sealer.private_suffix`):
            chosen here, outside the pure core, and carried in the command.
        read_back: reads a shelved incident's whole state back (None: nothing is shelved).
        shelved: called on the event loop with the world once incidents were shelved in it.
    """

    def __init__(
        self,
        event_log: EventLog,
        users: UserDirectory,
        world: World,
        head: int,
        publish: Publisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        name_private: Callable[[int], str] | None = None,
        read_back: ReadBack | None = None,
        shelved: Callable[[World, list[str]], None] | None = None,
    ) -> None:
        self._log = event_log
        self._users = users
        self._world = world
        self._head = head
        self._publish = publish
        self._clock = clock
        self._name_private = name_private
        """The id suffix of the nth private incident; None: private incidents are refused."""
        self._read_back = read_back
        self._shelved = shelved
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        self._recent: OrderedDict[tuple[str, str], tuple[int, str]] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self._caught: list[Committed] = []
        """Events other hubs committed, folded into the world and not yet handed to the loop."""
        self._catching_up = False
        """A catch-up is queued and not yet taken by the writer thread."""

    def start(self) -> None:
        """Start the writer thread; call from the event loop that will receive the results."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="warroom-sequencer", daemon=True)
        self._thread.start()

    def submit(self, actor: Actor, command_id: str, command: Command) -> asyncio.Future[Outcome]:
        """Queue a command; the future resolves once it is committed or refused."""
        assert self._loop is not None, "start() the sequencer first"
        future: asyncio.Future[Outcome] = self._loop.create_future()

        def answer(outcome: Outcome) -> None:
            if not future.done():
                future.set_result(outcome)

        self.send(actor, command_id, command, answer)
        return future

    def send(self, actor: Actor, command_id: str, command: Command, answer: Answer) -> None:
        """Queue a command; `answer` is called with its outcome on the event loop once it is
        committed or refused (at once if the sequencer is stopping). The answers of one group
        commit are called in one go, in the order the commands came, after the group was
        published: no future, no callback scheduled, per command."""
        # The lock keeps the stop marker from overtaking a command that passed the check.
        with self._lock:
            stopping = self._stopping
            if not stopping:
                self._queue.put(_Item(actor, command_id, command, answer))
        if stopping:
            answer(Rejected("unavailable", "the server is shutting down; try again"))

    def shelve(self, states: list[IncidentState]) -> asyncio.Future[list[str]]:
        """Have the writer thread hold each of `states` by its header alone, if the world still
        holds it as given; the future resolves to the ids shelved, once the hub was handed the
        world that holds them so."""
        assert self._loop is not None, "start() the sequencer first"
        future: asyncio.Future[list[str]] = self._loop.create_future()
        with self._lock:
            if self._stopping:
                future.set_result([])
            else:
                self._queue.put(_Shelve(states, future))
        return future

    def catch_up(self, head: int = 0) -> None:
        """Have the writer thread read and publish the events other hubs committed beyond what
        it has, in order (one request stands at a time). Callable from any thread.

        Args:
            head: the log's head as another hub announced it (0: unknown, read anyway); a head
                this hub already has asks for nothing.
        """
        if self._catching_up or self._stopping or (head and head <= self._head):
            return
        self._catching_up = True
        self._queue.put(_CATCH_UP)

    def stop(self) -> None:
        """Commit what is queued, then end the thread (blocking: call it from a worker thread)."""
        with self._lock:
            first_stop = not self._stopping
            self._stopping = True
            if first_stop and self._thread is not None:
                self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join()

    # The writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop_after = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)
            if _CATCH_UP in batch:
                self._catching_up = False  # a commit announced from now on asks again
            items = [item for item in batch if isinstance(item, _Item)]
            shelving = [item for item in batch if isinstance(item, _Shelve)]
            if not items:
                if len(shelving) < len(batch):
                    self._refresh()
                self._shelve(shelving)
                if stop_after:
                    return
                continue
            try:
                self._process(items, careful=False)
            except DuplicateCommand:
                # A command id in the batch was committed long ago (a late retry): go one by one.
                try:
                    self._process(items, careful=True)
                except StoreError as error:
                    self._fail(items, error)
            except StoreError as error:
                self._fail(items, error)
            except Exception as error:  # never let the writer thread die
                log.exception("the sequencer failed a batch")
                self._fail(items, error)
            self._shelve(shelving)
            if stop_after:
                return

    def _refresh(self) -> None:
        """Read, fold and publish what other hubs committed beyond this hub's head (no lock:
        writers commit in seq order, so what is visible of the log is always a prefix)."""
        try:
            self._fold(self._log.read_raw(self._head))
        except Exception as error:  # the database is down: the next request tries again
            log.warning("could not read what other hubs committed: %s", error)
        if self._caught:
            self._deliver([], self._world, [])

    def _shelve(self, requests: list[_Shelve]) -> None:
        """Hold the incidents asked for by their header alone, and hand the world to the loop."""
        if not requests:
            return
        world = self._world
        done: list[tuple[_Shelve, list[str]]] = []
        for request in requests:
            ids: list[str] = []
            for state in request.states:
                if world.incident(state.id) is state and not isinstance(state, ShelvedIncident):
                    world = _put(world, shelve(state))
                    ids.append(state.id)
            done.append((request, ids))
        self._world = world
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._on_shelved, world, done)
        except RuntimeError:
            log.warning("the event loop closed before incidents were shelved")

    def _on_shelved(self, world: World, done: list[tuple[_Shelve, list[str]]]) -> None:
        shelved = [incident for _, ids in done for incident in ids]
        if shelved and self._shelved is not None:
            self._shelved(world, shelved)
        for request, ids in done:
            if not request.future.done():
                request.future.set_result(ids)

    def _unshelved(self, incident_id: str) -> IncidentState | None:
        """Put the whole state of `incident_id` back in the world if it is shelved; return its
        header (None if it was not shelved).

        Raises:
            StoreError: if it could not be read back.
        """
        header = self._world.incident(incident_id)
        if not isinstance(header, ShelvedIncident):
            return None
        if self._read_back is None:
            raise StoreError(f"{incident_id} is shelved and cannot be read back")
        whole = self._read_back(header.id, self._head)
        if whole is None or whole.id != header.id:
            raise StoreError(f"{incident_id} could not be read back from the log")
        self._world = _put(self._world, whole)
        return header

    def _fold(self, newer: Sequence[tuple[int, str]]) -> None:
        """Fold events committed by other hubs after this hub's head; they are published with
        what is delivered next, before it."""
        for seq, encoded in newer:
            if seq != self._head + 1:
                raise StoreError(f"the log skips from seq {self._head} to seq {seq}")
            event = protocol.load_event(encoded)
            self._unshelved(event.incident)  # an event of a shelved incident folds into it whole
            self._world = apply(self._world, event)
            self._head = seq
            self._caught.append(Committed(seq, event, encoded))

    def _process(self, items: list[_Item], careful: bool) -> None:
        # Users as they are now; checked again inside the commit, which holds the write lock.
        users = self._users.states_of(item.actor.name for item in items)
        if self._log.shared:
            # What the other hubs committed is folded before the turn's lock is taken, so the
            # turn, which they wait for, folds only what came in between.
            self._fold(self._log.read_raw(self._head))
        # A command on a shelved incident is decided against its whole state, read back here,
        # outside the turn; one that leaves it as it was leaves it shelved.
        headers: dict[str, tuple[IncidentState, IncidentState | None]] = {}
        try:
            for item in items:
                incident_id = getattr(item.command, "incident", None)
                if isinstance(incident_id, str) and incident_id.upper() not in headers:
                    header = self._unshelved(incident_id)
                    if header is not None:
                        headers[header.id] = (header, self._world.incident(header.id))
            with self._log.turn(self._head) as turn:
                self._fold(turn.newer)
                group = self._decide(items, careful, users, turn)
        except _UsersChanged:
            self._world = _reshelved(self._world, headers)
            self._process(items, careful)
            return
        except BaseException:
            self._world = _reshelved(self._world, headers)
            raise
        group = replace(group, world=_reshelved(group.world, headers))
        # Committed: only now do the world, the remembered ids and the acks move on.
        self._world, self._head = group.world, group.head
        for key, known in group.ids.items():
            self._recent[key] = known
        while len(self._recent) > RECENT_COMMANDS:
            self._recent.popitem(last=False)
        self._deliver(group.committed, group.world, group.outcomes)

    def _decide(
        self, items: list[_Item], careful: bool, users: dict[str, Actor | None], turn: Turn
    ) -> _Group:
        """Decide `items` against the world in turn, and append what they caused."""
        world, head = self._world, self._head
        outcomes: list[tuple[_Item, Outcome]] = []
        pending: list[Pending] = []
        committed: list[Committed] = []
        in_batch: dict[tuple[str, str], tuple[int, str]] = {}
        for item in items:
            key = (item.actor.name, item.command_id)
            what = digest(item.command)
            known = in_batch.get(key) or self._recent.get(key)
            if known is None and careful:
                known = self._recorded(key)
            if known is not None:
                outcomes.append((item, self._retried(item, known, what)))
                continue
            try:
                actor = self._current(item.actor, users)
                command = self._named(item.command, world)
                authorize(actor, command, world)
                self._check_user(command)
                self._check_groups(command)
                events = decide(world, command, actor, self._clock())
                encoded_events = [protocol.event_json(event) for event in events]
            except Rejected as rejected:
                # A retry of a committed command may now be refused ("already identified"):
                # it must get its original ack, not the refusal.
                earlier = self._recorded(key) if not careful else None
                outcomes.append((item, self._retried(item, earlier, what) if earlier else rejected))
                continue
            except Exception:  # one bad command must not sink its whole batch
                log.exception("refusing a command that could not be decided or encoded")
                outcomes.append((item, Rejected("invalid", "the command could not be processed")))
                continue
            numbered: list[tuple[int, Event, str]] = []
            for event, encoded in zip(events, encoded_events, strict=True):
                head += 1
                numbered.append((head, event, encoded))
                committed.append(Committed(head, event, encoded))
                world = apply(world, event)
            pending.append(Pending(item.actor.name, item.command_id, numbered, what))
            in_batch[key] = (head, what)
            outcomes.append((item, Accepted(head)))
        if pending:
            turn.append(pending, lambda connection: self._unchanged(users, connection))
        return _Group(world, head, in_batch, committed, outcomes)

    def _recorded(self, key: tuple[str, str]) -> tuple[int, str] | None:
        found = self._log.recorded(*key)
        return None if found is None else (found.last_seq, found.digest)

    @staticmethod
    def _retried(item: _Item, known: tuple[int, str], what: str) -> Outcome:
        """The answer to a command id already committed: its ack if it is the same command."""
        seq, recorded = known
        if recorded and recorded != what:
            return reused_id(item.command_id)
        return Accepted(seq, duplicate=True)

    @staticmethod
    def _current(actor: Actor, users: dict[str, Actor | None]) -> Actor:
        """The actor as the users table has them now, in the session's seat."""
        current = users.get(actor.name)
        if current is None:
            raise Rejected("revoked", "your access was revoked; nothing was recorded")
        return seat(current, observer_mode=actor.role is Role.OBSERVER)

    def _unchanged(self, users: dict[str, Actor | None], connection: Connection) -> None:
        """Inside the commit: refuse it if a user of the group changed since it was decided."""
        if self._users.states_of(users, connection) != users:
            raise _UsersChanged

    def _named(self, command: Command, world: World) -> Command:
        """A declaration with the id suffix the hub chose (the next free one for a private
        incident, none for a public one); any other command as it is."""
        if not isinstance(command, DeclareIncident):
            return command
        suffix = ""
        if command.private and self._name_private is not None:
            number = world.declared_private + 1
            while world.incident(f"INC-P{self._name_private(number)}") is not None:
                number += 1  # taken by an older log's numbered id: take the next
            suffix = self._name_private(number)
        return replace(command, suffix=suffix)

    def _check_user(self, command: Command) -> None:
        """An invitation names a user the war room knows (users live in the store, not the log)."""
        if not isinstance(command, ChangeAccess) or not command.invited:
            return
        if self._users.actor(command.user.strip()) is None:
            raise Rejected("not-found", f"there is no active user named {command.user}")

    def _check_groups(self, command: Command) -> None:
        """An audience names groups some stakeholder holds (the directory, read only when the
        command names a group: `internal` and `all` need no look-up)."""
        if named_groups(command):
            check_groups(command, known_groups(self._users.states().values()))

    def _fail(self, items: list[_Item], error: Exception) -> None:
        # The database's own message may name other users' data: it goes to the log only.
        log.error("the event store failed a group of %d commands: %s", len(items), error)
        rejected = Rejected("storage", "the event store failed; nothing was recorded, try again")
        self._deliver([], self._world, [(item, rejected) for item in items])

    def _deliver(
        self, committed: list[Committed], world: World, outcomes: list[tuple[_Item, Outcome]]
    ) -> None:
        assert self._loop is not None
        if self._caught:
            # Other hubs' events first: they precede this group in the log.
            committed, self._caught = [*self._caught, *committed], []
        try:
            self._loop.call_soon_threadsafe(self._on_loop, committed, world, outcomes)
        except RuntimeError:
            log.warning("the event loop closed before %d results were delivered", len(outcomes))

    def _on_loop(
        self, committed: list[Committed], world: World, outcomes: list[tuple[_Item, Outcome]]
    ) -> None:
        if committed:
            self._publish(committed, world)
        for item, outcome in outcomes:
            try:
                item.answer(outcome)
            except Exception:  # one answer that fails must not keep the others from theirs
                log.exception("answering command %s failed", item.command_id)


def _put(world: World, incident: IncidentState) -> World:
    """`world` holding `incident` as given, in the place it holds it already."""
    return evolve(world, incidents=world.incidents.set(incident.id, incident))


def _reshelved(
    world: World, headers: dict[str, tuple[IncidentState, IncidentState | None]]
) -> World:
    """`world` with each incident read back for a group shelved again if the group left it as
    it was read (no event of the group changed it): (header, whole state read) by id."""
    for incident_id, (header, whole) in headers.items():
        if world.incident(incident_id) is whole:
            world = _put(world, header)
    return world
