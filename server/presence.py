"""Presence: which war-room users have which incident open, told to the war room as it changes.

Presence is internal information: only war-room connections that may know of an incident are
told who has it open, and a stakeholder's view is never counted.

A change of view only marks its incidents as changed; the war room is told who has each of them
open at most once every `PRESENCE_EVERY` seconds, with the list as it is then. However fast
views change, an incident costs each watcher a few frames a second.
"""

from __future__ import annotations

import asyncio

from server.fanout import Fanout
from server.session import Session
from warroom.core import protocol

PRESENCE_EVERY = 0.25
"""Seconds between two presence frames about one incident."""


class Presence:
    """Who views which incident, among the hub's sessions."""

    def __init__(self, sessions: set[Session], fanout: Fanout) -> None:
        self.sessions = sessions
        """The hub's open sessions (the very set it keeps)."""
        self.fanout = fanout
        self._changed: set[str] = set()
        """Incidents whose presence changed since the war room was last told."""
        self._timer: asyncio.TimerHandle | None = None

    def view(self, session: Session, incident: str | None) -> None:
        """`session` now shows `incident` (None: no incident): tell the war room if that changed."""
        wanted = incident.upper() if incident else None
        if wanted is not None and not self.fanout.admits(session.actor, wanted):
            session.send_error("not-found", f"there is no incident {wanted}")
            return
        if not session.actor.internal or wanted == session.viewing:
            session.viewing = wanted if session.actor.internal else None
            return
        left, session.viewing = session.viewing, wanted
        for changed in (left, wanted):
            if changed is not None:
                self._mark(changed)

    def leave(self, session: Session) -> None:
        """`session` ended: it shows nothing any more."""
        if session.viewing is not None:
            left, session.viewing = session.viewing, None
            self._mark(left)

    def greet(self, session: Session) -> None:
        """Tell a war-room session that just synced who has each incident it may know of open."""
        actor = session.actor
        if not actor.internal:
            return
        for incident in sorted({s.viewing for s in self.sessions if s.viewing}):
            if not self.fanout.admits(actor, incident):
                continue
            presence = protocol.Presence(incident=incident, users=self.present(incident))
            session.send(protocol.encode(presence))

    def present(self, incident: str) -> tuple[str, ...]:
        """The names of the users who have `incident` open."""
        return tuple(sorted({s.actor.name for s in self.sessions if s.viewing == incident}))

    def _mark(self, incident: str) -> None:
        """Tell the war room who has `incident` open, at the next tick."""
        self._changed.add(incident)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(PRESENCE_EVERY, self._tick)

    def _tick(self) -> None:
        self._timer = None
        changed, self._changed = self._changed, set()
        if not changed:
            return
        viewing: dict[str, set[str]] = {incident: set() for incident in changed}
        for session in self.sessions:
            if session.viewing in viewing:
                viewing[session.viewing].add(session.actor.name)
        for incident in sorted(changed):
            frame = protocol.Presence(incident=incident, users=tuple(sorted(viewing[incident])))
            room = self.fanout.room_for(self.fanout.world.incident(incident))
            self.fanout.outbox.send_to(room, protocol.encode(frame))
