"""Replays and reads: a connection's events from its cursor up to live (or for a lobby, a summary
of each incident), and one incident's events on request, each as the connection may receive it.

Both page through the log on a worker thread while new events go on being published; both end
with no await between their last check of what was published and what follows it (subscribing
to the live stream, or `read.done`), so no event is missed or sent twice. A page's events go as
few frames as the frame limit allows (`events`, `read.events`), in one write, and the next page
is read once the client has taken most of it.

Replays that want the same page of the log at once (a crowd saying hello after a restart, or
a hundred screens opened together) share one read of it, and the war room's, which receive a
whole page as it is stored, share its frames too: what each replay then costs alone is its
disclosure and its write.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import ServerConnection

from server import readers
from server.fanout import Fanout, disguised
from server.limits import write_frames
from server.session import Session
from server.summaries import Summaries
from warroom.core import protocol
from warroom.core.disclosure import Sealer
from warroom.core.domain import IncidentState, ShelvedIncident, World, evolve
from warroom.core.policy import admitted, disclosed
from warroom.store import EventLog

REPLAY_PAGE = 1000
"""Events read from the store per page of a replay or of a read."""

BACK_PAGE = 100
"""Events read per page, newest first, when looking for a stakeholder's newest event."""

_LEADING_INCIDENT = '{"incident":"'


async def _no_groups() -> tuple[str, ...]:
    return ()


async def _nothing_to_reach(_seq: int) -> None:
    return None


def _nothing_to_read(_incident: str, _upto: int) -> IncidentState | None:
    return None


async def _write_page(connection: ServerConnection, frames: list[str]) -> None:
    """Write a page of frames in one write (fifty connections joining at once would otherwise
    make a system call per event each), then wait while the client is slow to read: a replay
    never holds more than a page unread beyond the connection's own buffer.

    Raises:
        websockets.ConnectionClosed: if the connection closed meanwhile.
    """
    if frames:
        await _write_packed(connection, [frame.encode() for frame in frames[:-1]], frames[-1])


async def _write_packed(connection: ServerConnection, first: list[bytes], last: str) -> None:
    """`_write_page` of frames already encoded, but for the last."""
    write_frames(connection, first)
    await connection.send(last)


class _Page:
    """A page of the log's rows, shared by the replays that read it at once (see the module's
    docstring); its frames packed once, for those that receive every row as it is stored."""

    __slots__ = ("__weakref__", "_packed", "rows")

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        self._packed: tuple[list[bytes], str] | None = None

    def packed(self) -> tuple[list[bytes], str]:
        """Every row as it is stored, in `events` frames: all but the last encoded, and the
        last (the rows are not empty)."""
        if self._packed is None:
            frames = protocol.encode_events(self.rows)
            self._packed = [frame.encode() for frame in frames[:-1]], frames[-1]
        return self._packed


def _incident_of(encoded: str) -> str:
    """The incident of an encoded event, read without decoding it: every event is encoded with
    it as its first key. "" if not (the caller then decodes the event)."""
    if not encoded.startswith(_LEADING_INCIDENT):
        return ""
    start = len(_LEADING_INCIDENT)
    return encoded[start : encoded.find('"', start)]


class Replay:
    """Sends sessions the log's past, filtered and sealed for each as the live stream is."""

    def __init__(
        self,
        log: EventLog,
        sealer: Sealer,
        fanout: Fanout,
        log_id: str = "",
        summaries: Summaries | None = None,
    ) -> None:
        self.log = log
        self.sealer = sealer
        self.fanout = fanout
        self.log_id = log_id
        """Which log the hub serves; a cursor from another (a restored backup) starts over."""
        self.summaries = summaries or Summaries()
        self.known_groups: Callable[[], Awaitable[tuple[str, ...]]] = _no_groups
        """Reads the stakeholder groups some user holds now (from the user directory)."""
        self.cadence: dict[str, int | None] | None = None
        """The update cadence every welcome carries (None: the defaults)."""
        self.delivery_frames: Callable[[str], list[str]] = lambda _incident: []
        """Reads how an incident's deliveries stand, as `delivery` frames (from the outbox)."""
        self.read_back: Callable[[str, int], IncidentState | None] = _nothing_to_read
        """Reads a shelved incident's whole state at a seq back from the store (blocking)."""
        self.reach: Callable[[int], Awaitable[None]] = _nothing_to_reach
        """Waits, a bounded while, until the hub published a seq it has not yet: a client come
        from another hub of the same log may be a moment ahead of this one."""
        self._reading: dict[tuple[int, int], asyncio.Future[_Page]] = {}
        """The pages being read now, by (after, upto)."""
        self._pages: weakref.WeakValueDictionary[tuple[int, int], _Page] = (
            weakref.WeakValueDictionary()
        )
        """The pages read that some replay still holds, by (after, upto)."""

    async def _page(self, after: int, upto: int) -> _Page:
        """The page of the log's rows after `after`, up to `upto`: read once for all the replays
        that want it while one is reading it or still holds it."""
        key = (after, upto)
        page = self._pages.get(key)
        if page is not None:
            return page
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read_page(key))
            self._reading[key] = reading
        # Shielded: a replay that stops waiting (its session closed) stops no other's read.
        return await asyncio.shield(reading)

    async def _read_page(self, key: tuple[int, int]) -> _Page:
        after, upto = key
        try:
            page = _Page(await readers.read(self.log.read_raw, after, REPLAY_PAGE, upto))
        finally:
            del self._reading[key]
        self._pages[key] = page
        return page

    def position(self, session: Session, seq: int) -> int | str:
        """`seq` as this session may know it."""
        return self.sealer.cursor(seq) if session.sealed else seq

    def _start(self, session: Session, cursor: int | str | None) -> int | None:
        """The seq to replay after, or None if the cursor cannot be honoured (a full replay)."""
        if cursor is None:
            return self.fanout.head
        seq = self._opened(session, cursor)
        return seq if seq is not None and seq <= self.fanout.head else None

    def _opened(self, session: Session, cursor: int | str) -> int | None:
        """The seq a cursor names, or None if it cannot be one of `session`'s.

        A stakeholder's cursor must be one the hub sealed for them: a plain number would let
        them probe the log for what lies between the events they were sent."""
        if cursor == 0:
            return 0
        if isinstance(cursor, int):
            return None if session.sealed else cursor
        return self.sealer.open_cursor(cursor) if session.sealed else None

    async def stream(
        self,
        session: Session,
        cursor: int | str | None,
        log_id: str | None = None,
        summary: bool = False,
    ) -> None:
        """Welcome `session`, replay what it missed after `cursor` (in the log `log_id`; None:
        this one), subscribe it to the live stream, and tell it it is in sync.

        With `summary` (for a lobby; `cursor` is None) the past is one summary per incident the
        session may see instead."""
        actor = session.actor
        fanout = self.fanout
        other_log = log_id is not None and log_id != self.log_id and cursor not in (None, 0)
        if cursor is not None and not (summary or other_log):
            wanted = self._opened(session, cursor)
            if wanted is not None and wanted > fanout.head:
                await self.reach(wanted)
        start = fanout.head if summary else None if other_log else self._start(session, cursor)
        head = fanout.head
        sent = 0 if start is None else start
        session.catching_up = True
        if summary:
            # A lobby's past is summaries: it holds no position, and a stakeholder's counts nothing.
            shown = 0 if session.sealed else head
        else:
            # A stakeholder's positions move only with what they receive: their head is the newest
            # event they may see, never the log's, which counts the war room's activity.
            floor = 0 if cursor is None else sent  # from now: their newest event may be any old
            shown = await self._newest_shown(session, head, floor) if session.sealed else head
        # Other groups' names are the war room's to know, never a stakeholder's.
        known = await self.known_groups() if actor.internal else ()
        if session.closed:
            return
        welcome = protocol.Welcome(
            user=actor.name,
            role=actor.role.value,
            groups=tuple(sorted(actor.groups)),
            head=self.position(session, shown),
            reset=start is None,
            log=self.log_id or None,
            known_groups=known,
            cadence=self.cadence,
        )
        await session.connection.send(protocol.encode(welcome))
        if summary:
            # Written without waiting, then subscribed: no change can fall in between.
            self.summaries.greet(session, fanout.world)
            sent = fanout.head
        # Page through the log until nothing newer than what was sent has been published; with
        # no await between that check and subscribing, no event is missed or sent twice.
        wholes: dict[str, IncidentState | None] = {}
        while sent < fanout.head:
            upto = fanout.head
            page = await self._page(sent, upto)
            rows = page.rows
            if session.closed:
                return  # resynced meanwhile: it starts over on a new connection
            if not rows:
                break
            world = await self._world_for(session, rows, wholes)
            if session.closed:
                return
            replayed, last = self._disclosed_page(session, rows, world)
            shown = max(shown, last)
            sent = rows[-1][0]
            if not session.sealed and len(replayed) == len(rows):
                # Every row as it is stored (an unsealed session's are never changed): the
                # page's frames, packed once for all who receive it so.
                await _write_packed(session.connection, *page.packed())
            else:
                await _write_page(session.connection, protocol.encode_events(replayed))
        if session.closed:
            return
        fanout.subscribe(session)
        session.catching_up = False
        synced = protocol.Synced(head=self.position(session, shown if session.sealed else sent))
        await session.connection.send(protocol.encode(synced))

    async def _newest_shown(self, session: Session, upto: int, after: int) -> int:
        """The seq of the newest event after `after` and up to `upto` that `session` receives;
        `after` if there is none. Read backwards, page by page: usually the first one holds it."""
        before = upto + 1
        wholes: dict[str, IncidentState | None] = {}
        while before > after + 1:
            rows = await readers.read(self.log.read_raw_back, before, BACK_PAGE, after)
            world = await self._world_for(session, rows, wholes)
            for seq, encoded in rows:
                if disclosed(session.actor, protocol.load_event(encoded), world) is not None:
                    return seq
                before = seq
            if len(rows) < BACK_PAGE:
                break
        return after

    async def read(self, session: Session, request_id: str, incident_id: str) -> None:
        """Send `session` the events of one incident it may see, page by page, then `read.done`.

        An incident the user may not know of gets the answer one that never existed gets. On a
        streaming connection the incident's live events go on meanwhile: the last page and
        `read.done` are written together once no event of the incident newer than the pages
        was published, so every live event before `read.done` is in the read, none after."""
        session.reading += 1
        try:
            await self._read(session, request_id, incident_id.upper())
        finally:
            session.reading -= 1

    async def _read(self, session: Session, request_id: str, wanted: str) -> None:
        fanout = self.fanout
        if not fanout.admits(session.actor, wanted):
            refused = protocol.RejectedFrame(
                id=request_id, code="not-found", message=f"there is no incident {wanted}"
            )
            session.send(protocol.encode(refused))
            return
        # The war room reading without streaming (`warroom deliveries`) is told how the
        # incident's deliveries stand too; a streaming one is told as they change.
        tells = session.actor.internal and not (session.streaming or session.catching_up)
        deliveries = await readers.read(self.delivery_frames, wanted) if tells else []
        sent = shown = 0
        wholes: dict[str, IncidentState | None] = {}
        while True:
            upto = fanout.head
            rows = await readers.read(self.log.read_incident, wanted, sent, REPLAY_PAGE, upto)
            world = await self._world_for(session, rows, wholes)
            if session.closed:
                return  # resynced meanwhile: what it may see has changed
            answered, last = self._disclosed_page(session, rows, world)
            shown = last or shown
            sent = rows[-1][0] if rows else sent
            frames = protocol.encode_read_events(request_id, answered)
            if len(rows) == REPLAY_PAGE or fanout.newest.get(wanted, 0) > upto:
                await _write_page(session.connection, frames)
                continue
            # No await from the check above to the last write: nothing can come between.
            # A stakeholder's head is the newest event of the read: the log's would count more.
            head = shown if session.sealed else fanout.head
            done = protocol.ReadDone(
                id=request_id, incident=wanted, head=self.position(session, head)
            )
            session.send(*frames, *deliveries, protocol.encode(done))
            return

    async def _world_for(
        self,
        session: Session,
        rows: list[tuple[int, str]],
        wholes: dict[str, IncidentState | None],
    ) -> World:
        """The world to disclose a page of the log to `session` from: the hub's, with the whole
        state of each shelved incident of the page read back (once per replay or read, kept in
        `wholes`) when it is a stakeholder's, to whom an event's disclosure depends on entries.
        The war room needs only the headers."""
        world = self.fanout.world
        if session.actor.internal:
            return world
        for _, encoded in rows:
            incident_id = _incident_of(encoded) or protocol.load_event(encoded).incident
            header = world.incident(incident_id)
            if (
                incident_id in wholes
                or not isinstance(header, ShelvedIncident)
                or not admitted(session.actor, header)  # refused on the header alone
            ):
                continue
            # Up to what the hub published: a shelved incident has no event past it.
            wholes[incident_id] = await readers.read(self.read_back, incident_id, self.fanout.head)
        # After the last await: an incident read back while a command unshelved it is taken as
        # the hub now holds it.
        world = self.fanout.world
        for incident_id, whole in wholes.items():
            if whole is not None and isinstance(world.incident(incident_id), ShelvedIncident):
                world = evolve(world, incidents=world.incidents.set(incident_id, whole))
        return world

    def _disclosed_page(
        self, session: Session, rows: list[tuple[int, str]], world: World
    ) -> tuple[list[tuple[int | str, str]], int]:
        """The events of a page of the log as `session` may receive them (each with its
        position), and the seq of the last one it receives (0: none).

        The war room receives the events of an incident that is not private as they are: that
        is asked once per incident in the page, not once per event."""
        disclosed: list[tuple[int | str, str]] = []
        last = 0
        internal = session.actor.internal
        as_they_are: dict[str, bool] = {}
        for seq, encoded in rows:
            if internal:
                incident_id = _incident_of(encoded)
                plain = as_they_are.get(incident_id)
                if plain is None:
                    incident = world.incident(incident_id)
                    plain = as_they_are[incident_id] = incident is not None and not incident.private
                if plain:
                    disclosed.append((seq, encoded))
                    last = seq
                    continue
            shown = self._disclosed(session, seq, encoded, world)
            if shown is not None:
                disclosed.append(shown)
                last = seq
        return disclosed, last

    def _disclosed(
        self, session: Session, seq: int, encoded: str, world: World
    ) -> tuple[int | str, str] | None:
        """Event `seq` as `session` may receive it (its position, the encoded event), or None if
        it may not see it; `world` is the hub's, with the shelved incidents of the page whole."""
        actor = session.actor
        incident = world.incident(_incident_of(encoded))
        if actor.internal and incident is not None and not incident.private:
            return seq, encoded
        event = protocol.load_event(encoded)
        shown = disclosed(actor, event, world)
        if shown is None:
            return None
        if not session.sealed:
            return seq, encoded
        return disguised(self.sealer, seq, shown)
