"""One authenticated connection of the hub (`Session`), and the seat its user acts from."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection

from server.limits import Limits, Outbox
from warroom.core import protocol
from warroom.core.domain import Actor, Role
from warroom.core.summary import IncidentSummary

MAX_IN_FLIGHT = 32
"""Commands of one connection waiting for their outcome before the hub stops reading it: the
writer takes commands in the order they came, so this is how many of one connection's commands
may stand before another's."""

CONFLICTS_REMEMBERED = 64
"""Current values of stale edits remembered per connection, each sent to it only once."""


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
    outbox: Outbox = field(default_factory=Outbox)
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
    limits: Limits = field(default_factory=Limits)
    conflicts: OrderedDict[tuple[str, str, int], None] = field(default_factory=OrderedDict)
    """The current values (incident, kind, version) stale edits of this connection were sent."""
    answers: list[str] = field(default_factory=list)
    """Answers to its commands not yet written (see `answer`)."""

    @property
    def told(self) -> bool:
        """Whether anything of the log was or is being sent to it (a resync has a past to undo)."""
        return self.streaming or self.catching_up or self.reading > 0

    @property
    def sealed(self) -> bool:
        """Stakeholders get opaque cursors and disguised entry numbers (`disclosure`)."""
        return not self.actor.internal

    def send(self, *frames: str) -> None:
        """Write `frames` to this connection without waiting (see `Outbox`), after the answers
        still held (see `answer`), so the connection receives everything in the order sent."""
        if self.answers:
            frames, self.answers = (*self.answers, *frames), []
        self.outbox.send(self.connection, *frames)

    def answer(self, frame: str) -> None:
        """Hold an answer to one of its commands until `flush`: the answers to the commands of
        one group commit leave together, in one write (a write is a system call, and an ack
        was a write of its own)."""
        self.answers.append(frame)

    def flush(self) -> None:
        """Write the answers held, if any."""
        if self.answers:
            self.send()

    def send_error(self, code: str, message: str) -> None:
        """Tell this connection what was wrong with its frame; nothing else happens."""
        self.send(protocol.encode(protocol.ErrorFrame(code=code, message=message)))

    def first_conflict(self, incident: str, kind: str, version: int) -> bool:
        """Whether this connection is told of the current value `version` for the first time
        (a refusal carries it only then: an edit retried on the same stale base learns nothing
        new, and must not be answered with the whole statement again)."""
        key = (incident, kind, version)
        if key in self.conflicts:
            return False
        self.conflicts[key] = None
        while len(self.conflicts) > CONFLICTS_REMEMBERED:
            self.conflicts.popitem(last=False)
        return True
