"""One authenticated connection of the hub (`Session`), and the seat its user acts from."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection

from warroom.core import protocol
from warroom.core.domain import Actor, Role
from warroom.core.summary import IncidentSummary

MAX_IN_FLIGHT = 256
"""Commands of one connection waiting for their outcome before the hub stops reading it."""


def seat(actor: Actor, observer_mode: bool) -> Actor:
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
    catching_up: bool = False
    """Said hello and is being replayed what it missed; it streams once that is done."""
    reading: int = 0
    """Reads of an incident in progress."""
    closed: bool = False
    """The hub closed it: nothing more is sent, and it never streams again."""
    viewing: str | None = None
    """The incident whose war room this connection shows, for presence."""
    observer_mode: bool = False
    """Joined with ?mode=observer: stays read-only whatever the user's role becomes."""
    summaries: dict[str, IncidentSummary] | None = None
    """For a lobby (a summary hello): the summary of each incident it was last sent; None for
    a session that receives the log's past as events."""

    @property
    def told(self) -> bool:
        """Whether anything of the log was or is being sent to it (a resync has a past to undo)."""
        return self.streaming or self.catching_up or self.reading > 0

    @property
    def sealed(self) -> bool:
        """Stakeholders get opaque cursors and disguised entry numbers (`disclosure`)."""
        return not self.actor.internal

    async def send_error(self, code: str, message: str) -> None:
        """Tell this connection what was wrong with its frame; nothing else happens."""
        await self.connection.send(protocol.encode(protocol.ErrorFrame(code=code, message=message)))
