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
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets import ConnectionClosed, broadcast
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from server.sequencer import Accepted, Committed, Outcome, Sequencer
from warroom import protocol
from warroom.domain import Actor, Role, World
from warroom.policy import visible_to
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

CLOSE_REVOKED = 4401
"""Close code sent to a connection whose token was revoked."""


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


class Hub:
    """Owns the live connections and the committed world they are served from."""

    def __init__(self, store: EventStore, world: World, head: int) -> None:
        self.store = store
        self.world = world
        self.head = head
        """The seq of the newest event published to the live connections."""
        self.sequencer = Sequencer(store, world, head, self.publish)
        self._actors: dict[ServerConnection, Actor] = {}
        self._observers: set[ServerConnection] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._internal: set[ServerConnection] = set()
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
            await connection.close(1008, "not authenticated")
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
                id=command_id, seq=outcome.seq
            )
        else:
            frame = protocol.RejectedFrame(
                id=command_id, code=outcome.code, message=outcome.message, current=outcome.current
            )
        # broadcast() writes without waiting, so answers keep their order and never block.
        broadcast([session.connection], protocol.encode(frame))

    async def _stream(self, session: Session, cursor: int | None) -> None:
        actor = session.actor
        head = self.head
        welcome = protocol.Welcome(
            user=actor.name, role=actor.role.value, groups=tuple(sorted(actor.groups)), head=head
        )
        sent = head if cursor is None else max(cursor, 0)
        await session.connection.send(protocol.encode(welcome))
        # Page through the log until nothing newer than what was sent has been published; with
        # no await between that check and subscribing, no event is missed or sent twice.
        while sent < self.head:
            upto = self.head
            rows = await asyncio.to_thread(self.store.read_raw, sent, REPLAY_PAGE, upto)
            for seq, encoded in rows:
                if actor.internal or visible_to(actor, protocol.load_event(encoded), self.world):
                    await session.connection.send(protocol.encode_event(seq, encoded))
                sent = seq
            if not rows:
                break
        self._subscribe(session)
        await session.connection.send(protocol.encode(protocol.Synced(head=sent)))
        if actor.internal:
            for incident in sorted({s.viewing for s in self.sessions if s.viewing}):
                presence = protocol.Presence(incident=incident, users=self._present(incident))
                await session.connection.send(protocol.encode(presence))

    # Presence ---------------------------------------------------------------------------------

    async def _view(self, session: Session, incident: str | None) -> None:
        wanted = incident.upper() if incident else None
        if wanted is not None and self.world.incident(wanted) is None:
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
        broadcast(self._internal, protocol.encode(frame))

    # Fan-out ----------------------------------------------------------------------------------

    def _subscribe(self, session: Session) -> None:
        session.streaming = True
        if session.actor.internal:
            self._internal.add(session.connection)
        else:
            self._stakeholders.setdefault(session.actor, set()).add(session.connection)

    def _unsubscribe(self, session: Session) -> None:
        self._internal.discard(session.connection)
        group = self._stakeholders.get(session.actor)
        if group is not None:
            group.discard(session.connection)
            if not group:
                del self._stakeholders[session.actor]

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
                closing = asyncio.create_task(
                    session.connection.close(CLOSE_REVOKED, "token revoked")
                )
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                self.sessions.discard(session)
                self._unsubscribe(session)
                continue
            seat = _seat(current, session.observer_mode)
            if seat != session.actor:
                streaming = session.streaming
                self._unsubscribe(session)
                session.actor = seat
                if streaming:
                    self._subscribe(session)

    def publish(self, committed: Sequence[Committed], world: World) -> None:
        """Send committed events to every connection allowed to see them, without waiting."""
        self.world = world
        for item in committed:
            frame = protocol.encode_event(item.seq, item.encoded)
            targets = list(self._internal)
            for stakeholder, connections in self._stakeholders.items():
                if visible_to(stakeholder, item.event, world):
                    targets.extend(connections)
            broadcast(targets, frame)
            self.head = item.seq
        self._drop_slow()

    def _drop_slow(self) -> None:
        slow = [
            connection
            for connection in (
                *self._internal,
                *(c for g in self._stakeholders.values() for c in g),
            )
            if connection.transport.get_write_buffer_size() > MAX_BUFFER
        ]
        for connection in slow:
            log.warning("dropping %s: it fell too far behind", connection.remote_address)
            # abort() rather than close(): a close handshake would wait behind the full buffer.
            connection.transport.abort()
