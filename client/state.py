"""What the terminal client knows: a summary of each incident (the lobby), the open room's
incident folded from a read of it and the live events after, the link, the commands in flight
and who is in each room. One immutable value; `receive` folds a server frame into it.

The client never changes the world itself: a command stays pending until the server's events and
ack arrive, and the world changes only by folding those events with the core's `apply`.

A room is read when it opens (and again after every reconnect): the live events of its incident
that arrive while the read is answered wait, and join it once `read.done` has come, but for
those the read already held; afterwards an event already folded in is never folded again. Both
compare the hub's positions, so they hold for a stakeholder's opaque ones too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import assert_never

from warroom.core import protocol
from warroom.core.cadence import DEFAULT_CADENCE, Cadence
from warroom.core.commands import Command
from warroom.core.domain import Actor, Role, World
from warroom.core.events import Envelope
from warroom.core.persistent import Set, Vector
from warroom.core.reducer import apply
from warroom.core.rejections import Conflict
from warroom.core.summary import IncidentSummary


class Link(StrEnum):
    """The state of the connection to the hub."""

    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Pending:
    """A command sent and not yet answered."""

    id: str
    command: Command
    label: str


@dataclass(frozen=True)
class Answer:
    """The server's answer to one of this client's commands."""

    pending: Pending
    accepted: bool
    code: str = ""
    message: str = ""
    current: Conflict | None = None


def _empty() -> Mapping[str, Pending]:
    return MappingProxyType({})


def _no_presence() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({})


def _no_summaries() -> Mapping[str, IncidentSummary]:
    return MappingProxyType({})


DeliveryKey = tuple[str, int, str, str]
"""A delivery: incident, update number, channel and recipient."""


def _no_deliveries() -> Mapping[DeliveryKey, protocol.DeliveryFrame]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Room:
    """The incident whose room is open, and how far reading it has come."""

    incident: str
    read: str = ""
    """The id of the read in flight ("" if none)."""
    loaded: bool = False
    """A read of the incident was answered: the world holds it."""
    missing: bool = False
    """The hub says the user may not see the incident (or not any more)."""
    head: protocol.Position | None = None
    """The position the last read was answered up to."""
    positions: Set[protocol.Position] = field(default_factory=Set)
    """The positions of every event folded into the room (persistent: one more costs the same
    in a room of ten thousand)."""
    staged: tuple[protocol.EventFrame, ...] = ()
    """The events of the read in flight, so far."""
    waiting: tuple[protocol.EventFrame, ...] = ()
    """Live events of the incident that arrived while the read was answered."""

    def holds(self, position: protocol.Position) -> bool:
        """True if the event at `position` is folded in already."""
        return position in self.positions or protocol.already_seen(position, self.head)

    def wants_read(self, summaries: Mapping[str, IncidentSummary]) -> bool:
        """True if the room must be read: never read yet, or back in sight after it went."""
        if self.read:
            return False
        return self.incident in summaries if self.missing else not self.loaded


@dataclass(frozen=True)
class ClientState:
    """Everything the client shows, derived from the frames it received."""

    summaries: Mapping[str, IncidentSummary] = field(default_factory=_no_summaries)
    """A summary of every incident the user may see (the lobby), in the order the hub sent."""
    room: Room | None = None
    """The open room, if any."""
    world: World = field(default_factory=World)
    """The open room's incident, folded from its read and the live events after it."""
    log: Vector[Envelope] = field(default_factory=Vector)
    """The room's events folded in, in the order they came; each numbered by its place in this
    log (a stakeholder's positions in the hub's log are opaque and cannot be ordered)."""
    me: Actor | None = None
    known_groups: tuple[str, ...] = ()
    """The stakeholder groups some user holds: the audiences there are to choose from (the hub
    tells the war room only)."""
    link: Link = Link.CONNECTING
    link_detail: str = ""
    synced: bool = False
    """True once the summaries after the latest (re)connect are complete."""
    pending: Mapping[str, Pending] = field(default_factory=_empty)
    presence: Mapping[str, tuple[str, ...]] = field(default_factory=_no_presence)
    cadence: Cadence = DEFAULT_CADENCE
    """The hub's update cadence and question response target (from the welcome)."""
    deliveries: Mapping[DeliveryKey, protocol.DeliveryFrame] = field(default_factory=_no_deliveries)
    """How each update's delivery to each recipient stands (the hub tells the war room only)."""

    def deliveries_of(self, incident: str, update: int) -> list[protocol.DeliveryFrame]:
        """The deliveries of update `update` of `incident`, by channel and recipient."""
        return sorted(
            (d for key, d in self.deliveries.items() if key[:2] == (incident, update)),
            key=lambda d: (d.channel, d.recipient),
        )

    @property
    def role(self) -> Role | None:
        """The user's role, once the server said who they are."""
        return self.me.role if self.me is not None else None

    def gone(self, incident: str) -> bool:
        """True if the room of `incident` is known not to be visible to the user."""
        room = self.room
        if room is None or room.incident != incident:
            return False
        return room.missing or (room.loaded and self.world.incident(incident) is None)


def receive(
    state: ClientState, frame: protocol.ServerFrameType
) -> tuple[ClientState, Answer | None]:
    """Fold one server frame into the state; return an answer if it settles a pending command."""
    match frame:
        case protocol.EventFrame():
            return _live(state, (frame,)), None
        case protocol.EventsFrame():
            return _live(state, protocol.events_of(frame)), None
        case protocol.ReadEvent():
            return _read_events(state, frame.id, protocol.events_of(frame)), None
        case protocol.ReadEvents():
            return _read_events(state, frame.id, protocol.events_of(frame)), None
        case protocol.ReadDone():
            return _read_done(state, frame), None
        case protocol.SummaryFrame():
            summaries = {**state.summaries, frame.summary.id: frame.summary}
            return replace(state, summaries=MappingProxyType(summaries)), None
        case protocol.IncidentGone():
            return _gone(state, frame.incident), None
        case protocol.Welcome():
            me = Actor(name=frame.user, role=Role(frame.role), groups=frozenset(frame.groups))
            # Every summary the user may see now follows: what was known before goes.
            known = frame.known_groups
            fresh = replace(state, me=me, synced=False, summaries=_no_summaries())
            cadence = DEFAULT_CADENCE if frame.cadence is None else Cadence.from_wire(frame.cadence)
            return replace(fresh, known_groups=known, cadence=cadence), None
        case protocol.DeliveryFrame():
            key = (frame.incident, frame.update, frame.channel, frame.recipient)
            deliveries = MappingProxyType({**state.deliveries, key: frame})
            return replace(state, deliveries=deliveries), None
        case protocol.KnownGroups():
            return replace(state, known_groups=frame.groups), None
        case protocol.Synced():
            return replace(state, synced=True, link=Link.ONLINE, link_detail=""), None
        case protocol.Presence():
            presence = dict(state.presence)
            presence[frame.incident] = frame.users
            return replace(state, presence=MappingProxyType(presence)), None
        case protocol.Ack() | protocol.RejectedFrame():
            return _answered(state, frame)
        case protocol.ErrorFrame():
            return state, None
        case _:
            assert_never(frame)


def _answered(
    state: ClientState, frame: protocol.Ack | protocol.RejectedFrame
) -> tuple[ClientState, Answer | None]:
    room = state.room
    if isinstance(frame, protocol.RejectedFrame) and room is not None and frame.id == room.read:
        # The read was refused: the user may not see the incident.
        missing = Room(room.incident, missing=True)
        return replace(state, room=missing, world=World(), log=Vector()), None
    pending = state.pending.get(frame.id)
    if pending is None:
        return state, None
    rest = {key: value for key, value in state.pending.items() if key != frame.id}
    settled = replace(state, pending=MappingProxyType(rest))
    if isinstance(frame, protocol.Ack):
        return settled, Answer(pending, accepted=True)
    return settled, Answer(pending, False, frame.code, frame.message, frame.current)


def _live(state: ClientState, frames: tuple[protocol.EventFrame, ...]) -> ClientState:
    """Fold live events: the open room's, once read; the others are the summaries' business."""
    room = state.room
    if room is None:
        return state
    ours = tuple(f for f in frames if f.event.incident == room.incident)
    if not ours:
        return state
    if room.read:
        return replace(state, room=replace(room, waiting=(*room.waiting, *ours)))
    if not room.loaded:
        return state  # the read the room is about to send will hold them
    return _fold(state, room, ours)


def _fold(state: ClientState, room: Room, frames: tuple[protocol.EventFrame, ...]) -> ClientState:
    world, positions, log = state.world, room.positions, state.log
    for frame in frames:
        if frame.seq in positions or room.holds(frame.seq):
            continue
        positions = positions.added(frame.seq)
        log = log.appended(Envelope(seq=len(log) + 1, event=frame.event))
        world = apply(world, frame.event)
    if log is state.log:
        return state
    return replace(state, world=world, log=log, room=replace(room, positions=positions))


LiveFrame = protocol.EventFrame | protocol.EventsFrame
"""A frame of live or replayed events."""

ReadFrame = protocol.ReadEvent | protocol.ReadEvents
"""A frame of events answering a read."""


def _read_events(
    state: ClientState, read: str, frames: tuple[protocol.EventFrame, ...]
) -> ClientState:
    room = state.room
    if room is None or read != room.read:
        return state  # the answer to a read of a room since left
    return replace(state, room=replace(room, staged=(*room.staged, *frames)))


def _read_done(state: ClientState, done: protocol.ReadDone) -> ClientState:
    """The read is answered: the room is its events, then the live ones it did not hold."""
    room = state.room
    if room is None or done.id != room.read:
        return state
    read = Room(room.incident, loaded=True)
    fresh = _fold(replace(state, room=read, world=World(), log=Vector()), read, room.staged)
    assert fresh.room is not None
    # Live events up to the read's head are in it, or were never the user's to see.
    answered = replace(fresh.room, head=done.head)
    return _fold(replace(fresh, room=answered), answered, room.waiting)


def _gone(state: ClientState, incident: str) -> ClientState:
    summaries = {key: value for key, value in state.summaries.items() if key != incident}
    state = replace(state, summaries=MappingProxyType(summaries))
    room = state.room
    if room is None or room.incident != incident:
        return state
    return replace(state, room=Room(incident, missing=True), world=World(), log=Vector())


def receive_all(
    state: ClientState, frames: list[protocol.ServerFrameType]
) -> tuple[ClientState, list[Answer]]:
    """Fold many frames at once (a read's answer): runs of events, in one frame each or many to
    a frame, are folded together."""
    answers: list[Answer] = []
    index = 0
    while index < len(frames):
        frame = frames[index]
        end = index + 1
        if isinstance(frame, LiveFrame):
            live = list(protocol.events_of(frame))
            while end < len(frames) and isinstance(more := frames[end], LiveFrame):
                live += protocol.events_of(more)
                end += 1
            state = _live(state, tuple(live))
        elif isinstance(frame, ReadFrame):
            reads: dict[str, list[protocol.EventFrame]] = {
                frame.id: list(protocol.events_of(frame))
            }
            while end < len(frames) and isinstance(more := frames[end], ReadFrame):
                reads.setdefault(more.id, []).extend(protocol.events_of(more))
                end += 1
            for read, staged in reads.items():
                state = _read_events(state, read, tuple(staged))
        else:
            state, answer = receive(state, frame)
            if answer is not None:
                answers.append(answer)
        index = end
    return state, answers


def sent(state: ClientState, pending: Pending) -> ClientState:
    """Record a command as in flight."""
    return replace(state, pending=MappingProxyType({**state.pending, pending.id: pending}))


def opened(state: ClientState, incident: str) -> ClientState:
    """The room of `incident` is open (it is read once the link is up); another room closes."""
    if state.room is not None and state.room.incident == incident:
        return state
    return replace(state, room=Room(incident), world=World(), log=Vector())


def closed(state: ClientState) -> ClientState:
    """No room is open: nothing of an incident is folded any more."""
    return replace(state, room=None, world=World(), log=Vector())


def reading(state: ClientState, read: str) -> ClientState:
    """The open room is being read by read `read` (what it shows stays until the answer)."""
    room = state.room
    if room is None:
        return state
    return replace(state, room=replace(room, read=read, staged=(), waiting=()))


def forget(state: ClientState) -> ClientState:
    """Drop everything known of the incidents: what the user may see has changed."""
    room = None if state.room is None else Room(state.room.incident)
    return replace(
        state, summaries=_no_summaries(), room=room, world=World(), log=Vector(), synced=False
    )


def linked(state: ClientState, link: Link, detail: str = "") -> ClientState:
    """Record a change of the connection's state."""
    synced = state.synced and link is Link.ONLINE
    presence = state.presence if link is Link.ONLINE else _no_presence()
    return replace(state, link=link, link_detail=detail, synced=synced, presence=presence)
