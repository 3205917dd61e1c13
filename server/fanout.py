"""Fan-out: the streaming connections grouped by what they may see, and each committed event
sent to them, encoded once per group, without waiting.

The events of one group commit are gathered per connection and written to each in one write
(`flush`): with twenty responders posting at once and fifty more watching, that is seventy
writes instead of 1,400. Writing never waits and never applies backpressure, so after each burst
a connection whose write buffer passed a cap is cut off (`server.limits.Outbox`); it reconnects
and catches up from the log.
"""

from __future__ import annotations

from collections.abc import Collection

from websockets.asyncio.server import ServerConnection

from server.limits import Outbox
from server.sequencer import Committed
from server.session import Session
from warroom.core import events as e
from warroom.core import protocol
from warroom.core.disclosure import Sealer
from warroom.core.domain import Actor, IncidentState, World
from warroom.core.policy import admitted, disclosed


def disguised(sealer: Sealer, seq: int, event: e.Event) -> tuple[str, str]:
    """A stakeholder's opaque cursor for `seq` and `event` with its entry numbers disguised."""
    return sealer.cursor(seq), protocol.event_json(sealer.event(event))


class Fanout:
    """What was published to the live connections, and who receives the next event."""

    def __init__(self, world: World, head: int, sealer: Sealer, outbox: Outbox) -> None:
        self.world = world
        """The committed world as of `head`: what the hub answers from."""
        self.head = head
        """The seq of the newest event published to the live connections."""
        self.newest: dict[str, int] = {}
        """The seq of each incident's newest event published since the hub started."""
        self.sealer = sealer
        self.outbox = outbox
        """How every frame is written (and a connection that stops reading cut off)."""
        self._internal: set[ServerConnection] = set()
        """Every streaming war-room connection: what a public incident's events go to."""
        self._room: dict[Actor, set[ServerConnection]] = {}
        """The same connections by actor, for private incidents."""
        self._stakeholders: dict[Actor, set[ServerConnection]] = {}
        self._pending: dict[ServerConnection, list[bytes]] = {}
        """Frames sent but not yet written, per connection, in order (see `flush`)."""
        self._later: list[tuple[Committed, World]] = []
        """Events sent whose stakeholders' forms are worked out at `flush`, in order."""

    def admits(self, actor: Actor, incident_id: str) -> bool:
        """Whether `actor` may know that the incident `incident_id` exists."""
        incident = self.world.incident(incident_id)
        return incident is not None and admitted(actor, incident)

    def subscribe(self, session: Session) -> None:
        """Send `session` every event it may see from the next one published on (none once the
        hub closed it)."""
        if session.closed:
            return
        session.streaming = True
        if session.actor.internal:
            self._internal.add(session.connection)
            self._room.setdefault(session.actor, set()).add(session.connection)
        else:
            self._stakeholders.setdefault(session.actor, set()).add(session.connection)

    def unsubscribe(self, session: Session) -> None:
        """Send `session` no further event."""
        self._internal.discard(session.connection)
        for by_actor in (self._room, self._stakeholders):
            group = by_actor.get(session.actor)
            if group is not None:
                group.discard(session.connection)
                if not group:
                    del by_actor[session.actor]

    def room_for(self, incident: IncidentState | None) -> Collection[ServerConnection]:
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

    def send(self, item: Committed, world: World) -> int:
        """Send one committed event to every connection allowed to see it, and count it published.

        The war room's frame is encoded once, and the stakeholders' (opaque cursor, disguised
        entry numbers) once per distinct form, whatever the number of connections. Both are
        written with the rest of the group commit by `flush`, the war room's first: what each
        stakeholder may see of the event is worked out after those are written, so a room of
        responders never waits on two hundred status pages.

        Returns:
            The length of the war room's frame, for `drop_slow`.
        """
        self.world = world
        frame = protocol.encode_event(item.seq, item.encoded).encode()
        self._queue(self.room_for(world.incident(item.event.incident)), frame)
        if self._stakeholders:
            self._later.append((item, world))
        self.head = item.seq
        self.newest[item.event.incident] = item.seq
        return len(frame)

    def _disclose(self, item: Committed, world: World) -> None:
        """Queue the stakeholders' forms of one committed event: what each receives depends on
        their groups (audiences name only theirs), one frame per distinct form."""
        targets: dict[e.Event, list[ServerConnection]] = {}
        for stakeholder, connections in self._stakeholders.items():
            shown = disclosed(stakeholder, item.event, world)
            if shown is not None:
                targets.setdefault(shown, []).extend(connections)
        for shown, receivers in targets.items():
            sealed = protocol.encode_event(*disguised(self.sealer, item.seq, shown))
            self._queue(receivers, sealed.encode())

    def _queue(self, connections: Collection[ServerConnection], frame: bytes) -> None:
        pending = self._pending
        for connection in connections:
            theirs = pending.get(connection)
            if theirs is None:
                pending[connection] = [frame]
            else:
                theirs.append(frame)

    def flush(self) -> None:
        """Write every connection the events sent to it since the last flush, in one write each:
        the war room's, then the stakeholders'."""
        pending, self._pending = self._pending, {}
        self.outbox.send_each(pending)
        later, self._later = self._later, []
        for item, world in later:
            self._disclose(item, world)
        pending, self._pending = self._pending, {}
        self.outbox.send_each(pending)

    def drop_slow(self, burst: int) -> None:
        """Drop the streaming connections still holding more than the cap of what came before
        this `burst` of bytes: a large group commit fills every buffer at once, the reading ones
        too. The burst is allowed to every frame written until the next one."""
        self.outbox.burst = burst
        self.outbox.drop_slow(
            (*self._internal, *(c for g in self._stakeholders.values() for c in g))
        )
