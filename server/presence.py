"""Presence: which war-room users have which incident open, told to the war room as it changes.

Presence is internal information: only war-room connections that may know of an incident are
told who has it open, and a stakeholder's view is never counted.
"""

from __future__ import annotations

from websockets import broadcast

from server.fanout import Fanout
from server.session import Session
from warroom.core import protocol


class Presence:
    """Who views which incident, among the hub's sessions."""

    def __init__(self, sessions: set[Session], fanout: Fanout) -> None:
        self.sessions = sessions
        """The hub's open sessions (the very set it keeps)."""
        self.fanout = fanout

    async def view(self, session: Session, incident: str | None) -> None:
        """`session` now shows `incident` (None: no incident): tell the war room if that changed."""
        wanted = incident.upper() if incident else None
        if wanted is not None and not self.fanout.admits(session.actor, wanted):
            await session.send_error("not-found", f"there is no incident {wanted}")
            return
        if not session.actor.internal or wanted == session.viewing:
            session.viewing = wanted if session.actor.internal else None
            return
        left, session.viewing = session.viewing, wanted
        for changed in (left, wanted):
            if changed is not None:
                self.announce(changed)

    def leave(self, session: Session) -> None:
        """`session` ended: it shows nothing any more."""
        if session.viewing is not None:
            left, session.viewing = session.viewing, None
            self.announce(left)

    async def greet(self, session: Session) -> None:
        """Tell a war-room session that just synced who has each incident it may know of open."""
        actor = session.actor
        if not actor.internal:
            return
        for incident in sorted({s.viewing for s in self.sessions if s.viewing}):
            if not self.fanout.admits(actor, incident):
                continue
            presence = protocol.Presence(incident=incident, users=self.present(incident))
            await session.connection.send(protocol.encode(presence))

    def present(self, incident: str) -> tuple[str, ...]:
        """The names of the users who have `incident` open."""
        return tuple(sorted({s.actor.name for s in self.sessions if s.viewing == incident}))

    def announce(self, incident: str) -> None:
        """Tell the war room who has `incident` open now."""
        frame = protocol.Presence(incident=incident, users=self.present(incident))
        room = self.fanout.room_for(self.fanout.world.incident(incident))
        broadcast(room, protocol.encode(frame))
