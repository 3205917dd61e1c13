"""The war room as it stood at any moment of its log: a replayer that steps through the log
cheaply in either direction, and the log as one audience received it.

Pure: the log comes in, worlds come out. Opening a replay folds the log once, keeping a world
every `every` events; any step after that, back or a jump however far, folds from the nearest
kept world below, so no step folds more than `every` events, however long the log.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import assert_never

from warroom.core import events as e
from warroom.core.domain import Actor, IncidentState, World
from warroom.core.policy import disclosed, visible_part
from warroom.core.reducer import apply

SNAPSHOT_EVERY = 32
"""Events between two kept worlds: a step folds at most this many events."""


def disclosed_each(events: Iterable[e.Event], viewer: Actor) -> Iterator[e.Event | None]:
    """For each event, what `viewer` receives of it (None: nothing), judged as the hub's
    fan-out judges it: against the world the event has just been folded into."""
    world = World()
    for event in events:
        world = apply(world, event)
        yield disclosed(viewer, event, world)


def seen_by(events: Iterable[e.Event], viewer: Actor) -> list[e.Event]:
    """The events `viewer` receives of `events`, as they receive them."""
    return [shown for shown in disclosed_each(events, viewer) if shown is not None]


def key_moment(event: e.Event) -> bool:
    """True for what a post-mortem's timeline and a replay's jumps stop at: the declaration,
    pinned notes, status and severity changes, ETA revisions and published updates."""
    match event:
        case e.NoteAdded():
            return event.pinned
        case e.NotePinned():
            return event.pinned
        case (
            e.IncidentDeclared()
            | e.StatusChanged()
            | e.SeverityChanged()
            | e.EtaSet()
            | e.UpdatePublished()
        ):
            return True
        case (
            e.ImpactUpdated()
            | e.AppAdded()
            | e.AppRemoved()
            | e.ActionAdded()
            | e.ActionStateChanged()
            | e.ActionAssigned()
            | e.MitigationAdded()
            | e.MitigationStateChanged()
            | e.QuestionAsked()
            | e.QuestionAnswered()
            | e.QuestionDismissed()
            | e.QuestionMerged()
            | e.AudienceChanged()
            | e.PrivacyChanged()
            | e.AccessChanged()
        ):
            return False
        case _:
            assert_never(event)


class Replayer:
    """The worlds of a log, position by position: position `n` is the world after its first `n`
    events (0: before any).

    With a `viewer`, each world is what that viewer had folded by then from what they received
    (`disclosed_each`); the positions stay the log's, so the same position means the same moment
    for every viewer.
    """

    def __init__(
        self, events: Sequence[e.Event], viewer: Actor | None = None, every: int = SNAPSHOT_EVERY
    ) -> None:
        if every < 1:
            raise ValueError("snapshots are kept at least every event")
        self.events = tuple(events)
        self.viewer = viewer
        self._folded: tuple[e.Event | None, ...] = (
            self.events if viewer is None else tuple(disclosed_each(self.events, viewer))
        )
        self._every = every
        self._snapshots: list[World] = [World()]
        """`_snapshots[k]` is the world at position `k * every`, filled in as they are reached."""
        self._last = (0, World())
        self._clock = _clock(self.events)
        # One fold of the whole log now, keeping a world every `every` events on the way, so
        # that no later step, however far it jumps, folds more than `every` events.
        self.state_at(len(self.events))

    def __len__(self) -> int:
        """The last position: the number of events."""
        return len(self.events)

    def state_at(self, index: int) -> World:
        """The world after the first `index` events (clamped to the log)."""
        index = max(0, min(index, len(self.events)))
        at, world = self._last
        if not at <= index < at + self._every:
            # Fold from the kept world nearest below, keeping every one reached on the way.
            slot = min(index // self._every, len(self._snapshots) - 1)
            at, world = slot * self._every, self._snapshots[slot]
        while at < index:
            shown = self._folded[at]
            if shown is not None:
                world = apply(world, shown)
            at += 1
            if at % self._every == 0 and at // self._every == len(self._snapshots):
                self._snapshots.append(world)
        self._last = (at, world)
        return world

    def incident_at(self, index: int, incident_id: str) -> IncidentState | None:
        """Incident `incident_id` at position `index` as the viewer saw it, or None if it was
        not declared yet (or is not theirs to see)."""
        incident = self.state_at(index).incident(incident_id)
        if incident is None or self.viewer is None:
            return incident
        return visible_part(incident, self.viewer)

    def index_at(self, moment: datetime) -> int:
        """The position of the room at `moment`: after every event recorded at or before it."""
        return bisect_right(self._clock, moment)

    def moments(self) -> tuple[int, ...]:
        """The positions just after each key moment (`key_moment`) the viewer received."""
        return tuple(
            index + 1
            for index, shown in enumerate(self._folded)
            if shown is not None and key_moment(shown)
        )


def _clock(events: Sequence[e.Event]) -> list[datetime]:
    """The log's clock at each event, never going back (even if the server's clock did), so
    that a moment falls at one place in the log."""
    clock: list[datetime] = []
    for event in events:
        clock.append(event.at if not clock or event.at > clock[-1] else clock[-1])
    return clock


def recorded_by(events: Sequence[e.Event], moment: datetime) -> int:
    """How many of the first events of the log were recorded at or before `moment`."""
    return bisect_right(_clock(events), moment)
