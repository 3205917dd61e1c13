"""`LogBuilder`: real events for the storage suites, decided and numbered as the sequencer does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from warroom.core import protocol
from warroom.core.commands import Command
from warroom.core.decide import decide
from warroom.core.domain import Actor, World
from warroom.core.events import Event
from warroom.core.reducer import apply
from warroom.store import Pending

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class LogBuilder:
    """Decides commands against its own world and numbers their events like the sequencer does.

    The events are real (from `warroom.core.decide.decide`), encoded with `protocol.event_json`.
    """

    world: World = field(default_factory=World)
    head: int = 0
    clock: datetime = T0
    events: list[tuple[int, Event, str]] = field(default_factory=list)
    """Every (seq, event, encoded) numbered so far, including those of discarded batches."""

    def pending(self, actor: Actor, command_id: str, command: Command) -> Pending:
        """The command decided, its events numbered from the head on, the world advanced."""
        self.clock += timedelta(seconds=1)
        numbered: list[tuple[int, Event, str]] = []
        for event in decide(self.world, command, actor, self.clock):
            self.head += 1
            numbered.append((self.head, event, protocol.event_json(event)))
            self.world = apply(self.world, event)
        self.events.extend(numbered)
        return Pending(actor.name, command_id, numbered)

    def mark(self) -> tuple[World, int, int]:
        """A point to rewind to (see `rewind`), e.g. before a batch the store will refuse."""
        return self.world, self.head, len(self.events)

    def rewind(self, point: tuple[World, int, int]) -> None:
        """Forget what was decided since `point`."""
        self.world, self.head, count = point
        del self.events[count:]
