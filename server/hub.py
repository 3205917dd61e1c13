"""The hub: authenticates connections, replays what each missed, and fans events out by audience.

One handler per connection reads its frames: `hello` starts the event stream (replay from the
client's cursor, or for a lobby a summary of each incident kept current, then live), `submit`
hands a command to the sequencer and answers with an ack or a refusal, `read` sends one
incident's events, with or without a stream, `view` says which incident the connection shows.
Live events reach each connection without waiting (a group commit's in one write, and the
answers to a connection's commands of that group in one more); a connection that stops reading
is cut off once its buffer passes a cap, and catches up when it reconnects.

The `Hub` composes the parts, each in a module of its own: `handshake` (tokens, before the
upgrade), `session` (one connection), `replay` (from a cursor, and reads), `fanout` (live events
by audience), `summaries` (lobbies), `presence` (who has which incident open). It keeps the
frame loop, and brings open sessions in line when users or incidents change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import Sequence
from typing import assert_never

from websockets import ConnectionClosed, State
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from server import readers
from server.delivery import Courier, delivery_frame
from server.fanout import Fanout
from server.fresh import FreshRead
from server.handshake import Handshake
from server.health import Health
from server.limits import (
    CLOSE_TOO_FAST,
    FIRST_FRAME_TIMEOUT,
    READ_BURST,
    READ_RATE,
    SUBMIT_BURST,
    SUBMIT_RATE,
    VIEW_BURST,
    VIEW_RATE,
    Outbox,
    brief,
    slice_reads,
    too_fast,
)
from server.presence import Presence
from server.replay import Replay
from server.sequencer import Accepted, Committed, Outcome, Sequencer
from server.session import Session, seat
from server.snapshots import Snapshotter, read_back
from server.summaries import Summaries
from warroom.core import events as e
from warroom.core import protocol
from warroom.core.cadence import DEFAULT_CADENCE, Cadence
from warroom.core.disclosure import Sealer
from warroom.core.domain import Actor, IncidentState, Role, ShelvedIncident, Status, World
from warroom.core.groups import known_groups
from warroom.store import Delivery, Store

log = logging.getLogger(__name__)

USER_POLL = 0.5
"""Seconds between two reads of the users table (revocations land within this)."""

REACH_TIMEOUT = 2.0
"""The longest a client's hello waits for this hub to publish what its cursor names (another
hub of a PostgreSQL log published it first); after that its cursor is refused (a full replay)."""

REACH_STEP = 0.01
"""Seconds between two looks at what the hub published, while a hello waits for it."""


class Hub:
    """Owns the live connections and the committed world they are served from."""

    def __init__(
        self,
        store: Store,
        world: World,
        head: int,
        cadence: Cadence = DEFAULT_CADENCE,
        shelve_after: float | None = None,
    ) -> None:
        self.store = store
        self.cadence = cadence
        """The update cadence and question response target, told to every client."""
        self.log_id = store.log_identity()
        """Which log this hub serves: a database restored from a backup serves another."""
        self.shelve_after = shelve_after
        """Seconds a resolved incident stays without an event before it is shelved (None:
        never): held by its header alone, its whole state read back when something needs it."""
        self.read_back = functools.partial(read_back, store, self.log_id)
        """Reads an incident's whole state at a seq back from the store (blocking)."""
        self.sealer = Sealer(store.secrets.get("disclosure"), self.log_id)
        self.sequencer = Sequencer(
            store.log,
            store.users,
            world,
            head,
            self.publish,
            name_private=self.sealer.private_suffix,
            read_back=self.read_back,
            shelved=self._shelved,
        )
        self.sessions: set[Session] = set()
        outbox = Outbox()
        self.health = Health(store.log.head)
        """Answers `/healthz` from a read of the log's head."""
        self.handshake = Handshake(store.users, outbox, self.health)
        self.fanout = Fanout(world, head, self.sealer, outbox)
        self.presence = Presence(self.sessions, self.fanout)
        self.summaries = Summaries()
        self.replay = Replay(store.log, self.sealer, self.fanout, self.log_id, self.summaries)
        self.replay.read_back = self.read_back
        self.replay.cadence = cadence.to_wire()
        # One read of the users table serves every welcome that waited on it: a read per welcome
        # was a query per connection, and fifty connecting at once held the interpreter from
        # every other connection for a hundred milliseconds.
        self.replay.known_groups = FreshRead(self._read_known_groups).get
        self.replay.delivery_frames = self._delivery_frames
        if store.log.shared:
            self.replay.reach = self._reach
        self.courier: Courier | None = None
        """Sends updates and answers outside the room (set by the wiring that starts it)."""
        self.snapshotter: Snapshotter | None = None
        """Writes incidents' snapshots (set by the wiring that starts it)."""
        self._known_groups = self._read_known_groups()
        """The groups the war room's connections were last told of."""
        self._closing: set[asyncio.Task[None]] = set()
        self._answering: set[Session] = set()
        """Sessions holding answers, written once the outcomes of a group commit are in."""
        self._last_event: dict[str, float] = {}
        """When (the loop's clock) each incident's newest event was published, since the start:
        one without is as quiet as can be."""

    # Handshake --------------------------------------------------------------------------------

    async def authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        """`process_request`: answer health checks; refuse the upgrade without a valid token."""
        return await self.handshake.authenticate(connection, request)

    def session_token(self, name: str) -> str:
        """A token that logs the user `name` in until `end_session_token` (never stored)."""
        return self.handshake.session_token(name)

    def end_session_token(self, token: str) -> None:
        """Stop `token` logging anyone in (open connections are left to close with it)."""
        self.handshake.end_session_token(token)

    # One connection ---------------------------------------------------------------------------

    async def handle(self, connection: ServerConnection) -> None:
        """Serve one connection until it closes."""
        session = self.handshake.admit(connection)
        if session is None:  # pragma: no cover - process_request always admits it
            await connection.close(protocol.CLOSE_UNAUTHENTICATED, "not authenticated")
            return
        self.sessions.add(session)
        slice_reads(connection)
        try:
            try:
                async with asyncio.timeout(FIRST_FRAME_TIMEOUT):
                    first = await connection.recv()
            except TimeoutError:
                reason = f"no frame within {FIRST_FRAME_TIMEOUT:g}s: send hello"
                await connection.close(CLOSE_TOO_FAST, reason)
                return
            await self._receive(session, first)
            async for message in connection:
                if session.limits.abusive or (session.limits.strikes and _gone(connection)):
                    break  # what a connection ended while being refused for rate sent is dropped
                await self._receive(session, message)
        except ConnectionClosed:
            pass
        finally:
            self.sessions.discard(session)
            self.handshake.release(session)
            self.fanout.unsubscribe(session)
            self.presence.leave(session)

    async def _receive(self, session: Session, message: str | bytes) -> None:
        limits = session.limits
        try:
            frame = protocol.decode_client(message)
        except protocol.ProtocolError as error:
            session.send_error(error.code, error.message)
            await self._pause(session, limits.wait(limits.errors))
            return
        except Exception as error:  # a frame the decoder chokes on must not end the session
            # One line, no traceback: whoever sends such frames must not fill the log with them.
            kind = type(error).__name__
            log.warning("could not decode a frame from %s: %s", session.actor.name, kind)
            session.send_error("bad-frame", "the frame could not be read")
            await self._pause(session, limits.wait(limits.errors))
            return
        wait = 0.0
        match frame:
            case protocol.Hello():
                if session.streaming or session.catching_up:
                    session.send_error("bad-frame", "hello was already sent")
                    wait = limits.wait(limits.errors)
                elif frame.summary and frame.cursor is not None:
                    session.send_error("invalid", "a summary hello takes no cursor (null)")
                    wait = limits.wait(limits.errors)
                else:
                    await self.replay.stream(session, frame.cursor, frame.log, frame.summary)
                    if not session.closed:
                        self.presence.greet(session)
                        self._greet_deliveries(session)
            case protocol.View():
                wait = limits.wait(limits.views)
                if wait:
                    message = too_fast("view changes", VIEW_RATE, VIEW_BURST, wait)
                    session.send_error("rate-limited", message)
                else:
                    self.presence.view(session, frame.incident)
            case protocol.Read():
                wait = limits.wait(limits.reads)
                if wait:
                    self._refuse(session, frame.id, too_fast("reads", READ_RATE, READ_BURST, wait))
                else:
                    await self.replay.read(session, frame.id, frame.incident)
            case protocol.Submit():
                wait = limits.wait(limits.submits)
                if wait:
                    message = too_fast("commands", SUBMIT_RATE, SUBMIT_BURST, wait)
                    self._refuse(session, frame.id, message)
                else:
                    await self._submit(session, frame)
            case _:
                assert_never(frame)
        await self._pause(session, wait)

    async def _pause(self, session: Session, wait: float) -> None:
        """After a refusal for rate, read nothing more from `session` for `wait` seconds: a flood
        then costs the hub no more than the rate allows. One that goes on is closed."""
        if session.limits.abusive:
            log.warning("closing %s's connection: it ignores its rate limits", session.actor.name)
            self.sessions.discard(session)
            self.fanout.unsubscribe(session)
            # Waits at most the close timeout; the connection reads nothing more meanwhile.
            await session.connection.close(CLOSE_TOO_FAST, "too many requests, too fast")
        elif wait:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.connection.wait_closed(), wait)

    async def _submit(self, session: Session, frame: protocol.Submit) -> None:
        await session.in_flight.acquire()
        incident = getattr(frame.command, "incident", "")
        answer = functools.partial(self._answer, session, frame.id, incident)
        self.sequencer.send(session.actor, frame.id, frame.command, answer)

    @staticmethod
    def _refuse(session: Session, request_id: str, message: str) -> None:
        refused = protocol.RejectedFrame(id=request_id, code="rate-limited", message=message)
        session.send(protocol.encode(refused))

    def _answer(self, session: Session, command_id: str, incident: str, outcome: Outcome) -> None:
        session.in_flight.release()
        if isinstance(outcome, Accepted):
            seq = self.replay.position(session, outcome.seq)
            self._hold(session, protocol.encode_ack(command_id, seq))
            return
        current, message = outcome.current, outcome.message
        if current is not None and not session.first_conflict(
            incident, current.type, current.version
        ):
            # The same stale base again: the current value was sent with the first refusal.
            current, message = None, f"{message} (sent with your first refused edit)"
        frame = protocol.RejectedFrame(
            id=command_id, code=outcome.code, message=brief(message), current=current
        )
        self._hold(session, protocol.encode(frame))

    def _hold(self, session: Session, frame: str) -> None:
        """Hold an answer until the outcomes of its group commit are all in: the sequencer
        gives them in one callback of the event loop, and the write scheduled by the first
        answer runs after it, so each connection gets the group's answers in one write (in
        order, and never waiting)."""
        session.answer(frame)
        if not self._answering:
            asyncio.get_running_loop().call_soon(self._write_answers)
        self._answering.add(session)

    def _write_answers(self) -> None:
        answering, self._answering = self._answering, set()
        for session in answering:
            session.flush()

    async def _reach(self, seq: int) -> None:
        """Wait until this hub published `seq`, at most `REACH_TIMEOUT` seconds: a client that
        moved here from another hub of the log may be a moment ahead of this one, and is then
        resumed from its cursor rather than replayed the whole log."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REACH_TIMEOUT
        while self.fanout.head < seq and loop.time() < deadline:
            self.sequencer.catch_up(seq)
            await asyncio.sleep(REACH_STEP)

    # Publishing -------------------------------------------------------------------------------

    def publish(self, committed: Sequence[Committed], world: World) -> None:
        """Send committed events to every connection allowed to see them, without waiting.

        A connection whose past changes with an event is closed before the next event goes out,
        so it never receives what it may no longer see."""
        burst = 0
        for item in committed:
            burst += self.fanout.send(item, world)
            incident = world.incident(item.event.incident)
            if isinstance(item.event, e.PrivacyChanged | e.AccessChanged) and incident:
                # What was sent so far leaves before the affected connections are closed.
                self.fanout.flush()
                self._resync(item.event, incident)
        self.fanout.flush()
        if self.snapshotter is not None:
            self.snapshotter.committed(committed, world)
        courier = self.courier
        if courier is not None and any(courier.wakes_for(item.event) for item in committed):
            courier.wake()
        now = asyncio.get_running_loop().time()
        for item in committed:
            self._last_event[item.event.incident] = now
        # One summary per changed incident and lobby, however many events the batch held.
        touched = (item.event.incident for item in committed)
        self.summaries.fold(committed, world)
        self.summaries.refresh(self.sessions, touched, world)
        self.fanout.drop_slow(burst)

    # The shelf ------------------------------------------------------------------------------

    async def watch_shelf(self) -> None:
        """Shelve the resolved incidents that have been quiet for `shelve_after` seconds, every
        so often (a tenth of it, at least a second, at most a minute)."""
        if self.shelve_after is None:
            return
        every = min(max(self.shelve_after / 10, 1.0), 60.0)
        while True:
            await asyncio.sleep(every)
            try:
                await self.shelve_quiet()
            except Exception:  # the shelf saves memory: the hub serves on without it
                log.exception("could not shelve the quiet incidents")

    async def shelve_quiet(self, quiet_for: float | None = None) -> list[str]:
        """Hold each resolved incident with no event for `quiet_for` seconds (None: for
        `shelve_after`), whose newest snapshot was written of its newest event, by its header
        alone; return their ids. Nothing while shelving is off.

        What needs an incident's whole state reads it back from that snapshot (and any event
        after it): a command (the writer thread), a stakeholder's catch-up or read (a reader
        thread), the courier's plan of an answer; the rest (who may know of it, its lobby
        summaries, `read`s of the war room) is served from the header."""
        if self.shelve_after is None or self.snapshotter is None:
            return []
        quiet_for = self.shelve_after if quiet_for is None else quiet_for
        now = asyncio.get_running_loop().time()
        quiet = [
            incident
            for incident in self.fanout.world.incidents.values()
            if incident.status is Status.RESOLVED
            and not isinstance(incident, ShelvedIncident)
            and now - self._last_event.get(incident.id, -math.inf) >= quiet_for
            and self.snapshotter.current(incident.id)
        ]
        if not quiet:
            return []
        return await self.sequencer.shelve(quiet)

    def _shelved(self, world: World, incidents: list[str]) -> None:
        """The writer thread shelved `incidents` in `world` (the world published, their headers
        put in): from now on no part of the hub holds their whole state."""
        self.fanout.world = world
        self.summaries.forget(incidents)
        if self.snapshotter is not None:
            self.snapshotter.shelved(world)
        for incident in incidents:
            self._last_event.pop(incident, None)

    def _resync(self, event: e.PrivacyChanged | e.AccessChanged, incident: IncidentState) -> None:
        """Close the connections whose past changed with `event`: an invitee has the incident's
        history to receive, and someone no longer admitted has it to forget. A lobby holds no
        past: its summaries tell it the incident came or went."""
        for session in list(self.sessions):
            if session.summaries is not None:
                continue
            actor = session.actor
            if isinstance(event, e.AccessChanged):
                affected = actor.name == event.user and actor.role is not Role.INCIDENT_MANAGER
            else:
                affected = actor.role is not Role.INCIDENT_MANAGER and (
                    actor.name not in incident.invited
                )
            # A session still catching up is closed too: the rest of its replay would be
            # filtered anew, but what it was sent before would stay.
            if affected and session.told:
                self._close(session, protocol.CLOSE_RESYNC, "what you may see has changed")

    # Deliveries -------------------------------------------------------------------------------

    def _tells_deliveries(self, session: Session) -> bool:
        """Whether `session` streams the war room's events or its lobby, so it is told of
        deliveries as they change (stakeholders never are)."""
        return session.actor.internal and session.streaming and not session.closed

    def _greet_deliveries(self, session: Session) -> None:
        """Tell a war room that just caught up how the newest deliveries stand. Written without
        waiting, from the courier's memory: no change can come between it and the live ones."""
        if self.courier is None or not self._tells_deliveries(session):
            return
        admits = self.fanout.admits
        frames = [
            delivery_frame(delivery)
            for delivery in self.courier.recent.values()
            if admits(session.actor, delivery.incident)
        ]
        if frames:
            session.send(*frames)

    def delivery_changed(self, delivery: Delivery) -> None:
        """Tell every streaming war room that may know of its incident how `delivery` stands."""
        frame: str | None = None
        for session in list(self.sessions):
            if self._tells_deliveries(session) and self.fanout.admits(
                session.actor, delivery.incident
            ):
                frame = frame or delivery_frame(delivery)
                session.send(frame)

    def _delivery_frames(self, incident: str) -> list[str]:
        """The `delivery` frames of `incident`'s deliveries (a read of the outbox)."""
        return [delivery_frame(item) for item in self.store.deliveries.of_incident(incident)]

    # Revocation and changes of role --------------------------------------------------------------

    async def watch_users(self, every: float = USER_POLL) -> None:
        """Apply revocations and role or group changes to open sessions, within `every` seconds.

        A revoked user's connections are closed; so are those whose view a change of role or
        group set changes, to start over with a new welcome. A change that leaves the view as it
        was (a responder made an observer) takes effect on the very next event.
        """
        while True:
            await asyncio.sleep(every)
            if not self.sessions:
                continue
            try:
                users = await readers.read(self.store.users.states)
            except Exception:
                log.exception("could not read the users; retrying")
                continue
            self.apply_user_states(users)

    def apply_user_states(self, users: dict[str, Actor | None]) -> None:
        """Bring every session in line with the users table (None: revoked or removed)."""
        self._tell_groups(known_groups(users.values()))
        for session in list(self.sessions):
            current = users.get(session.actor.name)
            if current is None:
                log.info("closing %s's connection: the token was revoked", session.actor.name)
                self._close(session, protocol.CLOSE_REVOKED, "token revoked")
                continue
            seated = seat(current, session.observer_mode)
            if _sees_otherwise(session.actor, seated):
                # Internal entries, private incidents or a group's entries appear or vanish, and
                # positions change kind: the past must be sent again under the new filter.
                self._close(session, protocol.CLOSE_RESYNC, "what you may see has changed")
                continue
            if seated != session.actor:
                streaming = session.streaming
                self.fanout.unsubscribe(session)
                session.actor = seated
                if streaming:
                    self.fanout.subscribe(session)
                    world = self.fanout.world
                    self.summaries.refresh([session], world.incidents, world)

    def _tell_groups(self, groups: tuple[str, ...]) -> None:
        """Tell the war room's connections the stakeholder groups there are now, if they changed
        (stakeholders never hear of them)."""
        if groups == self._known_groups:
            return
        self._known_groups = groups
        told = [s.connection for s in self.sessions if s.actor.internal and s.told]
        self.fanout.outbox.send_to(told, protocol.encode(protocol.KnownGroups(groups=groups)))

    def _read_known_groups(self) -> tuple[str, ...]:
        """The stakeholder groups some user holds now (a read of the user directory)."""
        return known_groups(self.store.users.states().values())

    def _close(self, session: Session, code: int, reason: str) -> None:
        """Close a session's connection without waiting; it gets no further event."""
        session.closed = True
        closing = asyncio.create_task(session.connection.close(code, reason))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        self.sessions.discard(session)
        self.fanout.unsubscribe(session)


def _sees_otherwise(before: Actor, after: Actor) -> bool:
    """Whether a user changed from `before` to `after` may see another part of the log."""
    if before.internal != after.internal:
        return True
    if (before.role is Role.INCIDENT_MANAGER) != (after.role is Role.INCIDENT_MANAGER):
        return True
    return not after.internal and before.groups != after.groups


def _gone(connection: ServerConnection) -> bool:
    return connection.state is not State.OPEN
