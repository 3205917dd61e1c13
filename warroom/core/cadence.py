"""The rhythm of stakeholder communication: how often each severity owes an update, when the
next one is due to an audience, and how long a question may wait for its answer.

Pure: the cadence comes from the hub's configuration (and reaches clients in the welcome), the
time from the caller, so a frozen clock gives the same answers every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from warroom.core.domain import (
    EVERYONE,
    IncidentState,
    Question,
    QuestionState,
    Severity,
    Status,
    Update,
    audience_groups,
)

DEFAULT_INTERVALS: Mapping[Severity, timedelta | None] = MappingProxyType(
    {
        Severity.SEV1: timedelta(minutes=15),
        Severity.SEV2: timedelta(minutes=30),
        Severity.SEV3: timedelta(minutes=60),
        Severity.SEV4: None,
    }
)
"""How long stakeholders may wait between updates, by severity (None: no cadence)."""

DEFAULT_RESPONSE_TARGET = timedelta(minutes=15)
"""How long a stakeholder's question may wait for an answer before it is overdue."""


def _default_intervals() -> Mapping[Severity, timedelta | None]:
    return DEFAULT_INTERVALS


@dataclass(frozen=True)
class Cadence:
    """Update intervals by severity and the target time to answer a question."""

    intervals: Mapping[Severity, timedelta | None] = field(default_factory=_default_intervals)
    response_target: timedelta = DEFAULT_RESPONSE_TARGET

    def interval(self, severity: Severity) -> timedelta | None:
        """The time allowed between updates at `severity`, or None if it owes none."""
        return self.intervals.get(severity)

    def to_wire(self) -> dict[str, int | None]:
        """Seconds per severity and `response` for the question target: the welcome's form."""
        wire: dict[str, int | None] = {}
        for severity in Severity:
            gap = self.interval(severity)
            wire[severity.value] = None if gap is None else int(gap.total_seconds())
        wire["response"] = int(self.response_target.total_seconds())
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, int | None]) -> Cadence:
        """The cadence a welcome carried; what it leaves out keeps its default."""
        intervals = dict(DEFAULT_INTERVALS)
        for severity in Severity:
            if severity.value in wire:
                seconds = wire[severity.value]
                intervals[severity] = None if seconds is None else timedelta(seconds=seconds)
        response = wire.get("response")
        target = DEFAULT_RESPONSE_TARGET if response is None else timedelta(seconds=response)
        return cls(intervals=MappingProxyType(intervals), response_target=target)


DEFAULT_CADENCE = Cadence()


def covers(published: str, audience: str) -> bool:
    """True if an update published to `published` reached everyone in `audience`."""
    if published == EVERYONE:
        return True
    if audience == EVERYONE:
        return False
    return audience_groups(audience) <= audience_groups(published)


def last_update(incident: IncidentState, audience: str | None = None) -> Update | None:
    """The newest update that reached `audience` (None: any update this view holds)."""
    for update in reversed(incident.updates):
        if audience is None or covers(update.audience, audience):
            return update
    return None


def next_due(
    incident: IncidentState, cadence: Cadence, audience: str | None = None
) -> datetime | None:
    """When `audience` is owed its next update (None: any audience this view holds, as a
    stakeholder's room does), or None when nothing is due: resolved, or no cadence at this
    severity. The clock starts at the declaration, a reopening, or the last update to it."""
    gap = cadence.interval(incident.severity)
    if gap is None or incident.status is Status.RESOLVED:
        return None
    last = last_update(incident, audience)
    starts = [incident.declared_at]
    if last is not None:
        starts.append(last.published_at)
    if incident.reopened_at is not None:
        starts.append(incident.reopened_at)
    return max(starts) + gap


def audiences(incident: IncidentState) -> tuple[str, ...]:
    """The audiences an incident's updates have gone to, in order of the first; `all` until
    the first update (every stakeholder is owed the alert)."""
    seen = dict.fromkeys(update.audience for update in incident.updates)
    return tuple(seen) or (EVERYONE,)


def most_urgent(incident: IncidentState, cadence: Cadence) -> tuple[str, datetime] | None:
    """The audience whose next update is due first, and when; None if nothing is due."""
    due = [
        (when, audience)
        for audience in audiences(incident)
        if (when := next_due(incident, cadence, audience)) is not None
    ]
    if not due:
        return None
    when, audience = min(due)
    return audience, when


def question_age(question: Question, now: datetime) -> timedelta:
    """How long `question` has waited (until its answer, once answered)."""
    end = question.answered_at if question.answered_at is not None else now
    return max(end - question.asked_at, timedelta(0))


def overdue(question: Question, cadence: Cadence, now: datetime) -> bool:
    """True if an open question has waited longer than the response target."""
    return question.state is QuestionState.OPEN and question_age(question, now) > (
        cadence.response_target
    )


def triage_order(questions: Iterable[Question]) -> list[Question]:
    """Open questions oldest first (the most overdue leads), then the closed ones, newest
    first."""
    waiting = sorted(
        (q for q in questions if q.state is QuestionState.OPEN), key=lambda q: q.asked_at
    )
    closed = sorted(
        (q for q in questions if q.state is not QuestionState.OPEN),
        key=lambda q: q.asked_at,
        reverse=True,
    )
    return [*waiting, *closed]
