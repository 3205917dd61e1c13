"""What the terminal client knows: the folded world, the log it has seen, the link, the commands
in flight and who is in each room. One immutable value; `receive` folds a server frame into it.

The client never changes the world itself: a command stays pending until the server's events and
ack arrive, and the world changes only by folding those events with the core's `apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from warroom.core import protocol
from warroom.core.commands import Command
from warroom.core.domain import Actor, Role, World
from warroom.core.events import Envelope
from warroom.core.reducer import apply
from warroom.core.rejections import Conflict


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


@dataclass(frozen=True)
class ClientState:
    """Everything the client shows, derived from the frames it received."""

    world: World = field(default_factory=World)
    log: tuple[Envelope, ...] = ()
    """The events folded in, in the order they came; each numbered by its place in this log (a
    stakeholder's positions in the hub's log are opaque and cannot be ordered)."""
    cursor: protocol.Position = 0
    """The hub's position of the last event folded in; sent in hello on every (re)connect."""
    me: Actor | None = None
    link: Link = Link.CONNECTING
    link_detail: str = ""
    synced: bool = False
    """True once the replay after the latest (re)connect is complete."""
    pending: Mapping[str, Pending] = field(default_factory=_empty)
    presence: Mapping[str, tuple[str, ...]] = field(default_factory=_no_presence)

    @property
    def role(self) -> Role | None:
        """The user's role, once the server said who they are."""
        return self.me.role if self.me is not None else None


def receive(
    state: ClientState, frame: protocol.ServerFrameType
) -> tuple[ClientState, Answer | None]:
    """Fold one server frame into the state; return an answer if it settles a pending command."""
    if isinstance(frame, protocol.EventFrame):
        if protocol.already_seen(frame.seq, state.cursor):
            return state, None  # already folded in: a replay overlapping what was seen live
        envelope = Envelope(seq=len(state.log) + 1, event=frame.event)
        return (
            replace(
                state,
                world=apply(state.world, envelope.event),
                log=(*state.log, envelope),
                cursor=frame.seq,
            ),
            None,
        )
    if isinstance(frame, protocol.Welcome):
        me = Actor(name=frame.user, role=Role(frame.role), groups=frozenset(frame.groups))
        if frame.reset:
            # The hub replays everything this user may see now: what was folded in goes.
            state = replace(state, world=World(), log=(), cursor=0)
        return replace(state, me=me, synced=False), None
    if isinstance(frame, protocol.Synced):
        return replace(state, synced=True, link=Link.ONLINE, link_detail=""), None
    if isinstance(frame, protocol.Presence):
        presence = dict(state.presence)
        presence[frame.incident] = frame.users
        return replace(state, presence=MappingProxyType(presence)), None
    if isinstance(frame, protocol.Ack | protocol.RejectedFrame):
        pending = state.pending.get(frame.id)
        if pending is None:
            return state, None
        rest = {key: value for key, value in state.pending.items() if key != frame.id}
        settled = replace(state, pending=MappingProxyType(rest))
        if isinstance(frame, protocol.Ack):
            return settled, Answer(pending, accepted=True)
        return settled, Answer(pending, False, frame.code, frame.message, frame.current)
    return state, None


def receive_all(
    state: ClientState, frames: list[protocol.ServerFrameType]
) -> tuple[ClientState, list[Answer]]:
    """Fold many frames at once (a replay): the log grows once, not once per event."""
    world, cursor = state.world, state.cursor
    added: list[Envelope] = []
    answers: list[Answer] = []
    for frame in frames:
        if isinstance(frame, protocol.EventFrame):
            if not protocol.already_seen(frame.seq, cursor):
                envelope = Envelope(seq=len(state.log) + len(added) + 1, event=frame.event)
                world = apply(world, envelope.event)
                cursor = frame.seq
                added.append(envelope)
            continue
        if added:
            state = replace(state, world=world, log=(*state.log, *added), cursor=cursor)
            added = []
        state, answer = receive(state, frame)
        world, cursor = state.world, state.cursor
        if answer is not None:
            answers.append(answer)
    if added:
        state = replace(state, world=world, log=(*state.log, *added), cursor=cursor)
    return state, answers


def sent(state: ClientState, pending: Pending) -> ClientState:
    """Record a command as in flight."""
    return replace(state, pending=MappingProxyType({**state.pending, pending.id: pending}))


def forget(state: ClientState) -> ClientState:
    """Drop everything folded in, so the next connection replays from the start."""
    return replace(state, world=World(), log=(), cursor=0, synced=False)


def linked(state: ClientState, link: Link, detail: str = "") -> ClientState:
    """Record a change of the connection's state."""
    synced = state.synced and link is Link.ONLINE
    presence = state.presence if link is Link.ONLINE else _no_presence()
    return replace(state, link=link, link_detail=detail, synced=synced, presence=presence)
