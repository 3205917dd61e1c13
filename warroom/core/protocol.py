"""The wire format, protocol v1: JSON text frames, one discriminated union each way.

Client to server: `hello` (with a resume cursor, or for a lobby a request for summaries),
`submit` (a command with a client-chosen id), `view` (for presence) and `read` (one incident's
events, without the rest of the log).
Server to client: `welcome`, the replayed events (in `events` frames, many to a frame) and the
live ones (an `event` frame each), `synced` once caught up, `ack` after commit, `rejected` with a
code and a sentence, `error` for a frame that could not be read, `presence`, the answer to a
read: its events in `read.events` frames and one `read.done`, and for a lobby each
incident's `incident.summary`, or `incident.gone` once the user may no longer see it; to the
war room, `groups` when the stakeholder groups there are change, and `delivery` for how each
update's email and webhook deliveries stand.
This module is the only place that knows how frames look, and the codes a connection is closed
with.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError
from pydantic_core import from_json

from warroom.core.commands import Command
from warroom.core.events import Event
from warroom.core.rejections import Conflict
from warroom.core.summary import IncidentSummary

VERSION = 1
"""The protocol version every frame carries as `v`."""

MAX_FRAME = 64 * 1024
"""The largest frame, in bytes, either side accepts."""

MAX_COMMAND_ID = 64
"""The longest command or read id; ids are printable ASCII without spaces (a UUID fits)."""

MAX_INCIDENT_ID = 32
"""The longest incident id a frame may name."""

SUBPROTOCOL = "warroom.v1"
"""The websocket subprotocol a browser names, beside its token: the one the hub selects."""

BEARER_SUBPROTOCOL = "bearer."
"""How a browser, which cannot set `Authorization` on a websocket, carries its token: one more
subprotocol offered, `bearer.<token>`, that the hub reads and never selects."""

CLOSE_UNAUTHENTICATED = 1008
"""Close code (the standard "policy violation") for a connection the hub holds no identity for;
the handshake refuses such a one with HTTP 401 before it gets this far."""

CLOSE_REVOKED = 4401
"""Close code for a connection whose token was revoked: reconnecting with it is refused."""

CLOSE_RESYNC = 4409
"""Close code for a connection whose view of the log changed in the past (invited to a private
incident, or no longer allowed to see one): the client drops its state and reconnects from the
start, and the replay it gets shows exactly what it may see now."""


Position = int | Annotated[str, Field(pattern=r"^c[0-9a-f]{16}$")]
"""A place in the log as one connection knows it: the seq for the war room, an opaque cursor
(`c` and 16 hex digits) for stakeholders, whose positions must not count what they cannot see."""


RequestId = Annotated[str, Field(pattern=rf"^[!-~]{{1,{MAX_COMMAND_ID}}}$")]
"""The id a client gives a command or a read, echoed in the answer."""


class ProtocolError(Exception):
    """A frame that cannot be accepted; `code` is stable, `message` a sentence for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Client -> server -----------------------------------------------------------------------------


LogId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
"""Which log a hub serves: a database restored from a backup serves another one."""


@dataclass(frozen=True, kw_only=True)
class Hello:
    """Opens a session: `cursor` is the position of the last event the client applied (0: from
    the start; None: live events only), in the log `log` (as `welcome` named it; None: unknown).

    With `summary` (and `cursor` None) the past comes as one `incident.summary` per incident
    the user may see instead of events; while the session lasts, a fresh summary follows every
    change of one, and `incident.gone` one the user may no longer see."""

    type: Literal["hello"] = "hello"
    v: int = VERSION
    cursor: Position | None = 0
    log: LogId | None = None
    summary: bool = False


@dataclass(frozen=True, kw_only=True)
class Submit:
    """Asks the server to carry out `command`; `id` makes retries idempotent."""

    type: Literal["submit"] = "submit"
    v: int = VERSION
    id: RequestId
    command: Command


@dataclass(frozen=True, kw_only=True)
class View:
    """The client now shows `incident`'s war room (None: it left it); drives presence."""

    type: Literal["view"] = "view"
    v: int = VERSION
    incident: Annotated[str, Field(max_length=MAX_INCIDENT_ID)] | None = None


@dataclass(frozen=True, kw_only=True)
class Read:
    """Asks for the events of `incident` the user may see, from its declaration on.

    Answered with its events in log order, many to a `read.events` frame (a `read.event` per
    event is read too), then `read.done`; or with `rejected`
    (`not-found`) if the user may not know of the incident. It needs no `hello`: a client that
    only reads one incident is not sent the rest of the log."""

    type: Literal["read"] = "read"
    v: int = VERSION
    id: RequestId
    incident: Annotated[str, Field(min_length=1, max_length=MAX_INCIDENT_ID)]


ClientFrameType = Hello | Submit | View | Read
"""The client frame classes, for annotations."""

ClientFrame = Annotated[ClientFrameType, Field(discriminator="type")]

# Server -> client -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Welcome:
    """The server's answer to hello: who the connection is and the newest position it holds.

    `reset` says the server cannot resume from the cursor the client sent (it was never valid
    for this user, is ahead of the log, or belongs to another log: a restored backup): the
    client drops its state, a full replay follows. `log` names the log the cursors belong to."""

    type: Literal["welcome"] = "welcome"
    v: int = VERSION
    user: str
    role: str
    groups: tuple[str, ...] = ()
    head: Position
    reset: bool = False
    log: LogId | None = None
    known_groups: tuple[str, ...] = ()
    """The stakeholder groups some user holds, the audiences there are to choose from: sent to
    the war room only (a stakeholder never learns another group's name)."""
    cadence: dict[str, int | None] | None = None
    """The hub's update cadence (`Cadence.to_wire`: seconds per severity, `response` for the
    question target); None: the defaults."""


@dataclass(frozen=True, kw_only=True)
class EventFrame:
    """One committed event and its place in the log."""

    type: Literal["event"] = "event"
    v: int = VERSION
    seq: Position
    event: Event


@dataclass(frozen=True, kw_only=True)
class EventPart:
    """One event of an `events` or `read.events` frame: the two fields of an `event` frame."""

    seq: Position
    event: Event


Batch = Annotated[tuple[EventPart, ...], Field(min_length=1)]
"""Events in log order, at least one: what a batch frame carries."""


@dataclass(frozen=True, kw_only=True)
class EventsFrame:
    """Committed events in log order, many in one frame: how a catch-up is sent (live events
    come one `event` frame each). Folding them is folding as many `event` frames in turn."""

    type: Literal["events"] = "events"
    v: int = VERSION
    events: Batch


@dataclass(frozen=True, kw_only=True)
class Synced:
    """Every event up to `head` the client may see has been sent; live events follow."""

    type: Literal["synced"] = "synced"
    v: int = VERSION
    head: Position


@dataclass(frozen=True, kw_only=True)
class Ack:
    """The command `id` was committed; its last event is at position `seq`."""

    type: Literal["ack"] = "ack"
    v: int = VERSION
    id: str
    seq: Position


@dataclass(frozen=True, kw_only=True)
class RejectedFrame:
    """The command or read `id` was refused and changed nothing; for a `conflict`, `current` is
    the value the edit would have overwritten."""

    type: Literal["rejected"] = "rejected"
    v: int = VERSION
    id: str
    code: str
    message: str
    current: Conflict | None = None


@dataclass(frozen=True, kw_only=True)
class ErrorFrame:
    """A frame could not be read; nothing changed."""

    type: Literal["error"] = "error"
    v: int = VERSION
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Presence:
    """Who has `incident`'s war room open right now (sent to the war room only, not logged)."""

    type: Literal["presence"] = "presence"
    v: int = VERSION
    incident: str
    users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReadEvent:
    """One event of the incident that read `id` asked for, and its place in the log."""

    type: Literal["read.event"] = "read.event"
    v: int = VERSION
    id: str
    seq: Position
    event: Event


@dataclass(frozen=True, kw_only=True)
class ReadEvents:
    """Events of the incident that read `id` asked for, in log order, many in one frame: how
    the hub answers a read."""

    type: Literal["read.events"] = "read.events"
    v: int = VERSION
    id: str
    events: Batch


@dataclass(frozen=True, kw_only=True)
class ReadDone:
    """Read `id` is answered: every event of `incident` the user may see, up to position `head`,
    was sent in its `read.events` (or, on a streaming connection, also live before this frame).

    After `hello` live events of the incident may arrive while a read is answered; every one of
    them before this frame is in the read too, and none after it is."""

    type: Literal["read.done"] = "read.done"
    v: int = VERSION
    id: str
    incident: str
    head: Position


@dataclass(frozen=True, kw_only=True)
class SummaryFrame:
    """An incident as the user's lobby shows it (after a summary `hello`)."""

    type: Literal["incident.summary"] = "incident.summary"
    v: int = VERSION
    summary: IncidentSummary


@dataclass(frozen=True, kw_only=True)
class IncidentGone:
    """The user may no longer see `incident` (made private, an invitation taken back): forget
    its summary, and its room if open (after a summary `hello`)."""

    type: Literal["incident.gone"] = "incident.gone"
    v: int = VERSION
    incident: str


@dataclass(frozen=True, kw_only=True)
class KnownGroups:
    """The stakeholder groups some user holds changed (a stakeholder was added, changed or
    revoked): the audiences there are to choose from now. Sent to the war room only."""

    type: Literal["groups"] = "groups"
    v: int = VERSION
    groups: tuple[str, ...]


DeliveryState = Literal["queued", "sent", "retrying", "failed"]
"""How one delivery stands: waiting for its first attempt, done, waiting for another, given up."""


@dataclass(frozen=True, kw_only=True)
class AttemptPart:
    """One attempt of a delivery (part of a `delivery` frame): its number, when it ended and
    how: `sent`, `retrying` (failed; another follows) or `failed` (failed; given up)."""

    number: int
    at: AwareDatetime
    state: Literal["sent", "retrying", "failed"]
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class DeliveryFrame:
    """How the delivery of update `update` of `incident` to one recipient stands: `queued`,
    `sent`, `retrying` (the last attempt failed; another follows) or `failed` (given up).
    Sent to the war room only: the newest deliveries after a streaming hello's `synced`, each
    change after, and an incident's deliveries before the `read.done` of a read on a
    connection that does not stream. The email telling an asker their question was answered
    has `update` 0 and names the `question`."""

    type: Literal["delivery"] = "delivery"
    v: int = VERSION
    incident: str
    update: int
    channel: Literal["email", "webhook"]
    recipient: str
    state: DeliveryState
    attempts: int = 0
    error: str = ""
    at: AwareDatetime
    question: int | None = None
    history: tuple[AttemptPart, ...] = ()
    """Its latest attempts, oldest first: every attempt's outcome, not only the last."""


ServerFrameType = (
    Welcome
    | EventFrame
    | EventsFrame
    | Synced
    | Ack
    | RejectedFrame
    | ErrorFrame
    | Presence
    | ReadEvent
    | ReadEvents
    | ReadDone
    | SummaryFrame
    | IncidentGone
    | KnownGroups
    | DeliveryFrame
)
"""The server frame classes, for annotations."""

ServerFrame = Annotated[ServerFrameType, Field(discriminator="type")]

# Each adapter is built when first used, and only the ones a process uses: pydantic builds a
# validator and a serializer for every type a union holds, megabytes for the unions of events
# and commands. A frame is read and written by its own class's adapter (`_load` has checked its
# tag, so this is the class the union's discriminator would pick): `warroom note` builds those of
# a submit, a welcome and an ack, never the events'; a hub never reads a server frame.


@functools.cache
def _events() -> TypeAdapter[Event]:
    return TypeAdapter(Event)


_CLIENT_CLASSES: dict[str, type[ClientFrameType]] = {
    str(kind.type): kind for kind in get_args(ClientFrameType)
}
_SERVER_CLASSES: dict[str, type[ServerFrameType]] = {
    str(kind.type): kind for kind in get_args(ServerFrameType)
}
_CLIENT_TYPES = frozenset(_CLIENT_CLASSES)
_SERVER_TYPES = frozenset(_SERVER_CLASSES)
_by_class: dict[type[Any], TypeAdapter[Any]] = {}


def _of_class(kind: type[Any]) -> TypeAdapter[Any]:
    """The adapter of one frame, event or command class: it reads and writes what the union's
    does, and its serialiser does not try the union's members in turn (half of an event's
    encoding, through the union's)."""
    adapter = _by_class.get(kind)
    if adapter is None:
        adapter = _by_class[kind] = TypeAdapter(kind)
    return adapter


def build_client_adapters() -> None:
    """Build now the adapter of every frame a client reads (each server frame) and writes (each
    client frame), instead of as each first arrives or leaves.

    The SSH gateway's pre-imported process calls this before it forks the sessions' TUIs: the
    adapters (some 4 MB, pydantic-core's validators of every event and command) are then built
    once and shared by every session, not built again in each, in memory of its own."""
    for kind in (*_SERVER_CLASSES.values(), *_CLIENT_CLASSES.values()):
        _of_class(kind)


def _load(text: str | bytes, known: frozenset[str]) -> dict[str, Any]:
    if isinstance(text, bytes):
        raise ProtocolError("bad-frame", "frames are JSON text, not binary")
    if len(text.encode()) > MAX_FRAME:
        raise ProtocolError("too-large", f"a frame may be at most {MAX_FRAME} bytes")
    try:
        # pydantic-core's parser bounds nesting and refuses lone surrogates, which could never
        # be encoded again; json.loads would accept both.
        data = from_json(text)
    except ValueError:
        raise ProtocolError("bad-frame", "the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad-frame", "a frame is a JSON object")
    version = data.get("v")
    if type(version) is not int or version != VERSION:
        raise ProtocolError(
            "bad-version", f"unsupported protocol version {data.get('v')!r}; this server speaks 1"
        )
    if not isinstance(kind := data.get("type"), str) or kind not in known:
        raise ProtocolError("unknown-type", f"unknown frame type {kind!r:.60}")
    return data


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    # Dotted parts name union tags (a command's type): keep field names only.
    parts = [str(part) for part in first["loc"]]
    where = ".".join(part for part in parts if "." not in part and not part.startswith("function"))
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def decode_client(text: str | bytes) -> ClientFrameType:
    """Read a frame a client sent.

    Raises:
        ProtocolError: `bad-frame`, `too-large`, `bad-version`, `unknown-type` or `invalid`.
    """
    data = _load(text, _CLIENT_TYPES)
    try:
        frame: ClientFrameType = _of_class(_CLIENT_CLASSES[data["type"]]).validate_python(data)
        return frame
    except ValidationError as error:
        raise ProtocolError("invalid", f"invalid {data['type']} frame: {_explain(error)}") from None


def decode_server(text: str | bytes) -> ServerFrameType:
    """Read a frame the server sent (see `decode_client` for the errors)."""
    data = _load(text, _SERVER_TYPES)
    try:
        found: ServerFrameType = _of_class(_SERVER_CLASSES[data["type"]]).validate_python(data)
        return found
    except ValidationError as error:
        raise ProtocolError("invalid", f"invalid {data['type']} frame: {_explain(error)}") from None


def encode(frame: ClientFrameType | ServerFrameType) -> str:
    """Encode a frame; events already encoded go through `encode_event`, `encode_events` or
    `encode_read_events` instead, which never encode them again."""
    return _of_class(type(frame)).dump_json(frame).decode()


def event_json(event: Event) -> str:
    """Encode one event as the store keeps it and the wire carries it."""
    return _of_class(type(event)).dump_json(event).decode()


def command_json(command: Command) -> bytes:
    """Encode one command as the wire carries it (the same command, the same bytes)."""
    return _of_class(type(command)).dump_json(command)


def load_event(text: str | bytes) -> Event:
    """Decode one event encoded by `event_json`."""
    return _events().validate_json(text)


def encode_event(seq: int | str, encoded_event: str) -> str:
    """Wrap an already-encoded event in an event frame, so fan-out never re-encodes it."""
    place = f'"{seq}"' if isinstance(seq, str) else seq
    return f'{{"type":"event","v":{VERSION},"seq":{place},"event":{encoded_event}}}'


def encode_ack(request_id: str, seq: int | str) -> str:
    """An `ack` frame for command `request_id` at position `seq`, as `encode` writes an `Ack`,
    without building the frame and serialising it: the hub writes one for every command."""
    place = json.dumps(seq) if isinstance(seq, str) else seq
    return f'{{"type":"ack","v":{VERSION},"id":{json.dumps(request_id)},"seq":{place}}}'


_BATCH_END = "]}"


def encode_events(events: Iterable[tuple[int | str, str]], limit: int = MAX_FRAME) -> list[str]:
    """Pack already-encoded events (each with its position), in order, into `events` frames,
    never re-encoding one: each frame holds as many as fit in `limit` bytes (`MAX_FRAME`), and is
    closed when the next event would take it past the limit. An event too large for any frame
    goes in one of its own."""
    return _pack(f'{{"type":"events","v":{VERSION},"events":[', events, limit)


def encode_read_events(
    request_id: str, events: Iterable[tuple[int | str, str]], limit: int = MAX_FRAME
) -> list[str]:
    """Pack already-encoded events, in order, into `read.events` frames answering read
    `request_id`, as `encode_events` packs them."""
    ident = json.dumps(request_id)  # ids may hold quotes and backslashes
    return _pack(f'{{"type":"read.events","v":{VERSION},"id":{ident},"events":[', events, limit)


def _pack(opening: str, events: Iterable[tuple[int | str, str]], limit: int) -> list[str]:
    """Frames that open with `opening` (a batch frame up to its list of events) and hold
    `events`, as many to a frame as fit in `limit` bytes."""
    frames: list[str] = []
    room = limit - len(opening.encode()) - len(_BATCH_END)
    items: list[str] = []
    size = 0
    for seq, encoded in events:
        place = f'"{seq}"' if isinstance(seq, str) else seq
        item = f'{{"seq":{place},"event":{encoded}}}'
        length = len(item) if item.isascii() else len(item.encode())
        if items:
            if size + 1 + length > room:
                frames.append(opening + ",".join(items) + _BATCH_END)
                items, size = [], 0
            else:
                size += 1  # the comma before it
        items.append(item)
        size += length
    if items:
        frames.append(opening + ",".join(items) + _BATCH_END)
    return frames


def events_of(frame: EventFrame | EventsFrame | ReadEvent | ReadEvents) -> tuple[EventFrame, ...]:
    """The events a frame carries (one, or a batch), in order, each as an `event` frame."""
    if isinstance(frame, EventFrame):
        return (frame,)
    if isinstance(frame, ReadEvent):
        return (EventFrame(seq=frame.seq, event=frame.event),)
    return tuple(EventFrame(seq=part.seq, event=part.event) for part in frame.events)


def already_seen(position: int | str, cursor: int | str | None) -> bool:
    """True if an event at `position` is not after `cursor`. Opaque cursors have no order: the
    server never sends one twice, so only the war room's numbered positions can be compared."""
    if isinstance(position, int) and isinstance(cursor, int):
        return position <= cursor
    return False
