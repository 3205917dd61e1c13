"""The hub: authenticates connections, replays what each missed, and fans events out by audience.

One handler per connection reads its frames: `hello` starts the event stream (replay from the
client's cursor, then live), `submit` hands a command to the sequencer and answers with an ack or
a refusal. Live events reach each connection through `websockets.broadcast`, which never waits;
a connection that stops reading is cut off once its buffer passes a cap, and catches up when it
reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets import ConnectionClosed, broadcast
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from server.sequencer import Accepted, Committed, Outcome, Sequencer
from warroom.core import events as e
from warroom.core import protocol
from warroom.core.disclosure import Sealer
from warroom.core.domain import Actor, IncidentState, Role, World
from warroom.core.policy import admitted, visible_to
from warroom.store import EventStore

log = logging.getLogger(__name__)

MAX_BUFFER = 1024 * 1024
"""Bytes waiting to be written to one connection before it is dropped as too slow."""

MAX_IN_FLIGHT = 256
"""Commands of one connection waiting for their outcome before the hub stops reading it."""

REPLAY_PAGE = 1000
"""Events read from the store per page of a replay."""

HELLO_TIMEOUT = 30.0

USER_POLL = 0.5
"""Seconds between two reads of the users table (revocations land within this)."""


_LEADING_INCIDENT = '{"incident":"'


def _incident_of(encoded: str) -> str:
    """The incident of an encoded event, read without decoding it: every event is encoded with
    it as its first key. "" if not (the caller then decodes the event)."""
    if not encoded.startswith(_LEADING_INCIDENT):
        return ""
    start = len(_LEADING_INCIDENT)
    return encoded[start : encoded.find('"', start)]


def _seat(actor: Actor, observer_mode: bool) -> Actor:
    """The actor a session acts as: `?mode=observer` makes a war-room user read-only, and never
    turns a stakeholder into an internal viewer."""
    if observer_mode and actor.internal:
        return Actor(actor.name, Role.OBSERVER)
    return actor


@dataclass(eq=False)
class Session:
    """One authenticated connection."""

    connection: ServerConnection
    actor: Actor
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT))
    streaming: bool = False
    viewing: str | None = None
    """The incident whose war room this connection shows, for presence."""
    observer_mode: bool = False
    """Joined with ?mode=observer: stays read-only whatever the user's role becomes."""

    @property
    def sealed(self) -> bool:
        """Stakeholders get opaque cursors and disguised entry numbers (`disclosure`)."""
        return not self.actor.internal


class Hub:
    """Owns the live connections and the committed world they are served from."""

    def __init__(self, store: EventStore, world: World, head: int) -> None:
        self.store = store
        self.world = world
        self.head = head
        """The seq of the newest event published to the live connections."""
        self.sequencer = Sequencer(store, world, head, self.publish)
        self.sealer = Sealer(store.secret("disclosure"))
        self._actors: dict[ServerConnection, Actor] = {}
        self._observers: set[ServerConnection] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._internal: set[ServerConnection] = set()
        """Every streaming war-room connection: what a public incident's events go to."""
        self._room: dict[Actor, set[ServerConnection]] = {}
        """The same connections by actor, for private incidents."""
        self._stakeholders: dict[Actor, set[ServerConnection]] = {}
        self.sessions: set[Session] = set()
        self._session_tokens: dict[str, str] = {}
        """In-memory tokens of the SSH gateway's sessions, by token: the user's name."""

    # Handshake --------------------------------------------------------------------------------

    async def authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        """`process_request`: answer health checks; refuse the upgrade without a valid token."""
        if urlsplit(request.path).path == "/health":
            return connection.respond(HTTPStatus.OK, "ok\n")
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._unauthorized(connection, "send Authorization: Bearer <token>\n")
        name = self._session_tokens.get(token.strip())
        if name is not None:
            # The user as they are now: a revocation or a change of role applies at once.
            actor = await asyncio.to_thread(self.store.actor, name)
        else:
            actor = await asyncio.to_thread(self.store.authenticate, token.strip())
        if actor is None:
            return self._unauthorized(connection, "unknown or revoked token\n")
        query = parse_qs(urlsplit(request.path).query)
        self._actors[connection] = actor
        if query.get("mode") == ["observer"]:
            self._observers.add(connection)
        return None

    def session_token(self, name: str) -> str:
        """A token that logs the user `name` in until `end_session_token` (never stored)."""
        token = "wrs_" + secrets.token_urlsafe(32)
        self._session_tokens[token] = name
        return token

    def end_session_token(self, token: str) -> None:
        """Stop `token` logging anyone in (open connections are left to close with it)."""
        self._session_tokens.pop(token, None)

    @staticmethod
    def _unauthorized(connection: ServerConnection, text: str) -> Response:
        response = connection.respond(HTTPStatus.UNAUTHORIZED, text)
        response.headers["WWW-Authenticate"] = 'Bearer realm="warroom"'
        return response

    # One connection ---------------------------------------------------------------------------

    async def handle(self, connection: ServerConnection) -> None:
        """Serve one connection until it closes."""
        actor = self._actors.pop(connection, None)
        if actor is None:  # pragma: no cover - process_request always sets it
            await connection.close(protocol.CLOSE_UNAUTHENTICATED, "not authenticated")
            return
        observer_mode = connection in self._observers
        self._observers.discard(connection)
        session = Session(connection, _seat(actor, observer_mode), observer_mode=observer_mode)
        self.sessions.add(session)
        try:
            async for message in connection:
                await self._receive(session, message)
        except ConnectionClosed:
            pass
        finally:
            self.sessions.discard(session)
            self._unsubscribe(session)
            if session.viewing is not None:
                left, session.viewing = session.viewing, None
                self._announce(left)

    async def _receive(self, session: Session, message: str | bytes) -> None:
        try:
            frame = protocol.decode_client(message)
        except protocol.ProtocolError as error:
            await self._send_error(session, error.code, error.message)
            return
        except Exception:  # a frame the decoder chokes on must not end the session
            log.exception("could not decode a frame from %s", session.actor.name)
            await self._send_error(session, "bad-frame", "the frame could not be read")
            return
        if isinstance(frame, protocol.Hello):
            if session.streaming:
                await self._send_error(session, "bad-frame", "hello was already sent")
                return
            await self._stream(session, frame.cursor)
            return
        if isinstance(frame, protocol.View):
            await self._view(session, frame.incident)
            return
        await session.in_flight.acquire()
        future = self.sequencer.submit(session.actor, frame.id, frame.command)
        command_id = frame.id
        future.add_done_callback(lambda done: self._answer(session, command_id, done))

    async def _send_error(self, session: Session, code: str, message: str) -> None:
        await session.connection.send(
            protocol.encode(protocol.ErrorFrame(code=code, message=message))
        )

    def _answer(self, session: Session, command_id: str, done: asyncio.Future[Outcome]) -> None:
        session.in_flight.release()
        outcome = done.result()
        if isinstance(outcome, Accepted):
            frame: protocol.Ack | protocol.RejectedFrame = protocol.Ack(
                id=command_id, seq=self._position(session, outcome.seq)
            )
        else:
            frame = protocol.RejectedFrame(
                id=command_id, code=outcome.code, message=outcome.message, current=outcome.current
            )
        # broadcast() writes without waiting, so answers keep their order and never block.
        broadcast([session.connection], protocol.encode(frame))

    def _position(self, session: Session, seq: int) -> int | str:
        """`seq` as this session may know it."""
        return self.sealer.cursor(seq) if session.sealed else seq

    def _start(self, session: Session, cursor: int | str | None) -> int | None:
        """The seq to replay after, or None if the cursor cannot be honoured (a full replay).

        A stakeholder's cursor must be one the hub sealed for them: a plain number would let
        them probe the log for what lies between the events they were sent."""
        head = self.head
        if cursor is None:
            return head
        if cursor == 0:
            return 0
        if isinstance(cursor, int):
            seq: int | None = None if session.sealed else cursor
        else:
            seq = self.sealer.open_cursor(cursor) if session.sealed else None
        return seq if seq is not None and seq <= head else None

    async def _stream(self, session: Session, cursor: int | str | None) -> None:
        actor = session.actor
        start = self._start(session, cursor)
        welcome = protocol.Welcome(
            user=actor.name,
            role=actor.role.value,
            groups=tuple(sorted(actor.groups)),
            head=self._position(session, self.head),
            reset=start is None,
        )
        sent = 0 if start is None else start
        await session.connection.send(protocol.encode(welcome))
        # Page through the log until nothing newer than what was sent has been published; with
        # no await between that check and subscribing, no event is missed or sent twice.
        while sent < self.head:
            upto = self.head
            rows = await asyncio.to_thread(self.store.read_raw, sent, REPLAY_PAGE, upto)
            for seq, encoded in rows:
                frame = self._replayed(session, seq, encoded)
                if frame is not None:
                    await session.connection.send(frame)
                sent = seq
            if not rows:
                break
        self._subscribe(session)
        synced = protocol.Synced(head=self._position(session, sent))
        await session.connection.send(protocol.encode(synced))
        if actor.internal:
            for incident in sorted({s.viewing for s in self.sessions if s.viewing}):
                if not self._admits(actor, incident):
                    continue
                presence = protocol.Presence(incident=incident, users=self._present(incident))
                await session.connection.send(protocol.encode(presence))

    def _replayed(self, session: Session, seq: int, encoded: str) -> str | None:
        """The frame that replays event `seq` to `session`, or None if it may not see it."""
        actor = session.actor
        incident = self.world.incident(_incident_of(encoded))
        if actor.internal and incident is not None and not incident.private:
            return protocol.encode_event(seq, encoded)
        event = protocol.load_event(encoded)
        if not visible_to(actor, event, self.world):
            return None
        if not session.sealed:
            return protocol.encode_event(seq, encoded)
        return self._sealed(seq, event)

    def _sealed(self, seq: int, event: e.Event) -> str:
        """The frame a stakeholder gets for event `seq`: the same for every stakeholder."""
        disguised = protocol.event_json(self.sealer.event(event))
        return protocol.encode_event(self.sealer.cursor(seq), disguised)

    def _admits(self, actor: Actor, incident_id: str) -> bool:
        incident = self.world.incident(incident_id)
        return incident is not None and admitted(actor, incident)

    # Presence ---------------------------------------------------------------------------------

    async def _view(self, session: Session, incident: str | None) -> None:
        wanted = incident.upper() if incident else None
        if wanted is not None and not self._admits(session.actor, wanted):
            await self._send_error(session, "not-found", f"there is no incident {wanted}")
            return
        if not session.actor.internal or wanted == session.viewing:
            session.viewing = wanted if session.actor.internal else None
            return
        left, session.viewing = session.viewing, wanted
        for changed in (left, wanted):
            if changed is not None:
                self._announce(changed)

    def _present(self, incident: str) -> tuple[str, ...]:
        return tuple(sorted({s.actor.name for s in self.sessions if s.viewing == incident}))

    def _announce(self, incident: str) -> None:
        """Tell the war room who has `incident` open now (presence is internal information)."""
        frame = protocol.Presence(incident=incident, users=self._present(incident))
        broadcast(self._room_for(self.world.incident(incident)), protocol.encode(frame))

    def _room_for(self, incident: IncidentState | None) -> Collection[ServerConnection]:
        """The war-room connections that may know of `incident` (the live set for a public one:
        `broadcast` reads it at once)."""
        if incident is None or not incident.private:
            return self._internal
        return [
            connection
            for actor, connections in self._room.items()
            if admitted(actor, incident)
            for connection in connections
        ]

    # Fan-out ----------------------------------------------------------------------------------

    def _subscribe(self, session: Session) -> None:
        session.streaming = True
        if session.actor.internal:
            self._internal.add(session.connection)
            self._room.setdefault(session.actor, set()).add(session.connection)
        else:
            self._stakeholders.setdefault(session.actor, set()).add(session.connection)

    def _unsubscribe(self, session: Session) -> None:
        self._internal.discard(session.connection)
        for by_actor in (self._room, self._stakeholders):
            group = by_actor.get(session.actor)
            if group is not None:
                group.discard(session.connection)
                if not group:
                    del by_actor[session.actor]

    # Revocation and changes of role --------------------------------------------------------------

    async def watch_users(self, every: float = USER_POLL) -> None:
        """Apply revocations and role or group changes to open sessions, within `every` seconds.

        A revoked user's connections are closed; a changed role or group set takes effect on the
        very next event, because fan-out reads the session's actor.
        """
        while True:
            await asyncio.sleep(every)
            if not self.sessions:
                continue
            try:
                users = await asyncio.to_thread(self.store.user_states)
            except Exception:
                log.exception("could not read the users; retrying")
                continue
            self.apply_user_states(users)

    def apply_user_states(self, users: dict[str, Actor | None]) -> None:
        """Bring every session in line with the users table (None: revoked or removed)."""
        for session in list(self.sessions):
            current = users.get(session.actor.name)
            if current is None:
                log.info("closing %s's connection: the token was revoked", session.actor.name)
                self._close(session, protocol.CLOSE_REVOKED, "token revoked")
                continue
            seat = _seat(current, session.observer_mode)
            if (seat.role is Role.INCIDENT_MANAGER) != (
                session.actor.role is Role.INCIDENT_MANAGER
            ):
                # Private incidents appear or vanish: their past must too.
                self._close(session, protocol.CLOSE_RESYNC, "what you may see has changed")
                continue
            if seat != session.actor:
                streaming = session.streaming
                self._unsubscribe(session)
                session.actor = seat
                if streaming:
                    self._subscribe(session)

    def _close(self, session: Session, code: int, reason: str) -> None:
        """Close a session's connection without waiting; it gets no further event."""
        closing = asyncio.create_task(session.connection.close(code, reason))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        self.sessions.discard(session)
        self._unsubscribe(session)

    def publish(self, committed: Sequence[Committed], world: World) -> None:
        """Send committed events to every connection allowed to see them, without waiting.

        The war room's frame is encoded once, and the stakeholders' (opaque cursor, disguised
        entry numbers) once, whatever the number of connections."""
        self.world = world
        burst = 0
        for item in committed:
            incident = world.incident(item.event.incident)
            frame = protocol.encode_event(item.seq, item.encoded)
            broadcast(self._room_for(incident), frame)
            burst += len(frame)
            targets: list[ServerConnection] = []
            for stakeholder, connections in self._stakeholders.items():
                if visible_to(stakeholder, item.event, world):
                    targets.extend(connections)
            if targets:
                broadcast(targets, self._sealed(item.seq, item.event))
            self.head = item.seq
            if isinstance(item.event, e.PrivacyChanged | e.AccessChanged) and incident:
                self._resync(item.event, incident)
        self._drop_slow(burst)

    def _resync(self, event: e.PrivacyChanged | e.AccessChanged, incident: IncidentState) -> None:
        """Close the connections whose past changed with `event`: an invitee has the incident's
        history to receive, and someone no longer admitted has it to forget."""
        for session in list(self.sessions):
            actor = session.actor
            if isinstance(event, e.AccessChanged):
                affected = actor.name == event.user and actor.role is not Role.INCIDENT_MANAGER
            else:
                affected = actor.role is not Role.INCIDENT_MANAGER and (
                    actor.name not in incident.invited
                )
            if affected and session.streaming:
                self._close(session, protocol.CLOSE_RESYNC, "what you may see has changed")

    def _drop_slow(self, burst: int) -> None:
        """Drop the connections still holding more than `MAX_BUFFER` of what came before this
        `burst` of bytes: a large group commit fills every buffer at once, the reading ones too."""
        limit = MAX_BUFFER + burst
        slow = [
            connection
            for connection in (
                *self._internal,
                *(c for g in self._stakeholders.values() for c in g),
            )
            if connection.transport.get_write_buffer_size() > limit
        ]
        for connection in slow:
            log.warning("dropping %s: it fell too far behind", connection.remote_address)
            # abort() rather than close(): a close handshake would wait behind the full buffer.
            connection.transport.abort()
