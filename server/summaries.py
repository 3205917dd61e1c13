"""Summaries for lobbies: each incident as a summary session's user may see it, sent once on
hello and again whenever it changes for them, without waiting.

A summary goes out only when it differs from the last one the session was sent, so a stakeholder
is never told that the war room did something out of their sight; an incident the user may no
longer see is answered with `incident.gone`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from server.sequencer import Committed
from server.session import Session
from warroom.core import protocol
from warroom.core.domain import Actor, IncidentState, ShelvedIncident, World
from warroom.core.summary import (
    Entry,
    EntryCount,
    IncidentSummary,
    count_entries,
    entry_of,
    recounted,
    summarize_each,
)


class Summaries:
    """Keeps every summary session's lobby in line with the committed world."""

    def __init__(self) -> None:
        self._encoded: dict[IncidentSummary, str] = {}
        """Frames encoded during one refresh: sessions sent the same summary share its bytes."""
        self._counts: dict[str, EntryCount] = {}
        """What each summarised incident's summaries count of its entries (groups, notes, open
        actions and questions ... by audience and asker), counted once and then kept up to date
        by `fold` from the entries each committed event touches, rather than by a pass over
        every entry of the incident, for every kind of viewer, on each change."""

    def fold(self, committed: Sequence[Committed], world: World) -> None:
        """Bring the counts to `world`, the world after `committed` (every event the
        hub publishes passes here, so a count's state is always the one before the batch)."""
        changed: dict[str, list[Entry]] = {}
        for item in committed:
            touched = changed.setdefault(item.event.incident, [])
            entry = entry_of(item.event)
            if entry is not None:
                touched.append(entry)
        for incident_id, entries in changed.items():
            count = self._counts.get(incident_id)
            incident = world.incident(incident_id)
            if count is None:
                continue
            if incident is None:
                del self._counts[incident_id]
            else:
                self._counts[incident_id] = recounted(count, incident, entries)

    def forget(self, incidents: Iterable[str]) -> None:
        """Let go of the counts of `incidents`, shelved: their headers hold their census."""
        for incident in incidents:
            self._counts.pop(incident, None)

    def _count_of(self, incident: IncidentState) -> EntryCount | None:
        if isinstance(incident, ShelvedIncident):
            return None  # summarised from its header's census
        count = self._counts.get(incident.id)
        if count is None or count.incident is not incident:
            # Not counted yet (or a state this hub did not fold): one pass, then event by event.
            count = self._counts[incident.id] = count_entries(incident)
        return count

    def greet(self, session: Session, world: World) -> None:
        """Write `session` a summary of every incident its user may see (none sent before).

        Written without waiting: the caller subscribes the session right after, and nothing may
        be published in between."""
        session.summaries = {}
        self.refresh([session], (i.id for i in world.newest_first()), world)

    def refresh(self, sessions: Iterable[Session], incidents: Iterable[str], world: World) -> None:
        """Send each summary session what changed for it among `incidents` (one frame each)."""
        wanted = tuple(dict.fromkeys(incidents))
        lobbies = [session for session in sessions if session.summaries is not None]
        if not lobbies:
            return
        viewers = {session.actor for session in lobbies}
        made: dict[str, dict[Actor, IncidentSummary | None]] = {}
        for incident_id in wanted:
            incident = world.incident(incident_id)
            made[incident_id] = (
                {}
                if incident is None
                else summarize_each(incident, viewers, self._count_of(incident))
            )
        try:
            for session in lobbies:
                sent = session.summaries
                assert sent is not None
                frames: list[str] = []
                for incident_id in wanted:
                    summary = made[incident_id].get(session.actor)
                    before = sent.get(incident_id)
                    if summary is None:
                        if before is not None:
                            del sent[incident_id]
                            frames.append(
                                protocol.encode(protocol.IncidentGone(incident=incident_id))
                            )
                    elif summary != before:
                        sent[incident_id] = summary
                        frames.append(self._frame(summary))
                if frames:
                    # Through the session's outbox: the cap on what it may hold unread applies.
                    session.send(*frames)
        finally:
            self._encoded.clear()

    def _frame(self, summary: IncidentSummary) -> str:
        frame = self._encoded.get(summary)
        if frame is None:
            frame = protocol.encode(protocol.SummaryFrame(summary=summary))
            self._encoded[summary] = frame
        return frame
