"""The numbers that show whether incident handling improves, per business application and
overall: incidents by severity, mean times to identify, mitigate and resolve, mean time between
failures, update punctuality and question response time, and resolve times by month.

Pure: computed from the log (each incident folded by `warroom.core.report.record`), the cadence
and the window coming in; the same log gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from warroom.core import events as e
from warroom.core.cadence import DEFAULT_CADENCE, Cadence
from warroom.core.domain import Actor, QuestionState, Severity
from warroom.core.report import Record, record, response_time


def _mean(gaps: Sequence[timedelta]) -> timedelta | None:
    return sum(gaps, timedelta(0)) / len(gaps) if gaps else None


def _seconds(gap: timedelta | None) -> float | None:
    return None if gap is None else round(gap.total_seconds(), 1)


@dataclass(frozen=True)
class Figures:
    """The numbers of one set of incidents (one application's, or all)."""

    incidents: int
    by_severity: Mapping[Severity, int]
    """Incidents by their severity at the end of the log."""
    identify: timedelta | None
    """Mean time from declaration to the first `identified`, over the incidents that got there."""
    mitigate: timedelta | None
    """Mean time to the first verified workaround, over the incidents that had one."""
    resolve: timedelta | None
    """Mean time to the last resolution, over the incidents resolved at the end of the log."""
    between_failures: timedelta | None
    """Mean gap between consecutive declarations (None for fewer than two incidents)."""
    updates_due: int
    """Updates published while one was due (the cadence owed one)."""
    updates_on_time: int
    response: timedelta | None
    """Mean time a question waited for its answer (a duplicate: for the one it joined)."""
    answered: int

    @property
    def punctuality(self) -> float | None:
        """The share of updates published on time, or None if none was due."""
        return self.updates_on_time / self.updates_due if self.updates_due else None

    def data(self) -> dict[str, Any]:
        """The JSON form: durations in seconds, None where there is nothing to measure."""
        return {
            "incidents": self.incidents,
            "by_severity": {severity.value: self.by_severity[severity] for severity in Severity},
            "mean_time_to_identify_s": _seconds(self.identify),
            "mean_time_to_mitigate_s": _seconds(self.mitigate),
            "mean_time_to_resolve_s": _seconds(self.resolve),
            "mean_time_between_failures_s": _seconds(self.between_failures),
            "updates_due": self.updates_due,
            "updates_on_time": self.updates_on_time,
            "punctuality": None if self.punctuality is None else round(self.punctuality, 4),
            "mean_response_s": _seconds(self.response),
            "questions_answered": self.answered,
        }


def figures(records: Sequence[Record]) -> Figures:
    """The numbers of `records` (any order)."""
    severities = {severity: 0 for severity in Severity}
    for found in records:
        severities[found.incident.severity] += 1

    def means(moment: str) -> timedelta | None:
        gaps = [found.time_to(getattr(found, moment)) for found in records]
        return _mean([gap for gap in gaps if gap is not None])

    declared = sorted(found.incident.declared_at for found in records)
    gaps = [later - earlier for earlier, later in pairwise(declared)]
    due = [p for found in records for p in found.updates if p.due is not None]
    waits = [
        wait
        for found in records
        for question in found.incident.questions
        if question.state is not QuestionState.MERGED
        and (wait := response_time(question, found.incident)) is not None
    ]
    return Figures(
        incidents=len(records),
        by_severity=severities,
        identify=means("identified_at"),
        mitigate=means("mitigated_at"),
        resolve=means("resolved_at"),
        between_failures=_mean(gaps),
        updates_due=len(due),
        updates_on_time=sum(1 for p in due if p.on_time),
        response=_mean(waits),
        answered=len(waits),
    )


def month(moment: datetime) -> str:
    """The month a time falls in, in UTC: `2026-11`."""
    return moment.astimezone(UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class Stats:
    """The numbers overall and per application, and the resolve times by month."""

    overall: Figures
    apps: Mapping[str, Figures]
    """Per application an incident named at the end of the log, by name (in any case)."""
    monthly: Mapping[str, Mapping[str, timedelta]]
    """Application -> month of declaration -> mean time to resolve (resolved incidents)."""

    def data(self) -> dict[str, Any]:
        """The JSON form of `warroom stats --json`."""
        return {
            "overall": self.overall.data(),
            "apps": {app: numbers.data() for app, numbers in self.apps.items()},
            "resolve_by_month_s": {
                app: {when: _seconds(gap) for when, gap in months.items()}
                for app, months in self.monthly.items()
            },
        }


def records(
    events: Iterable[e.Event], cadence: Cadence = DEFAULT_CADENCE, viewer: Actor | None = None
) -> list[Record]:
    """Every incident of the log, folded, in the order they were declared."""
    logs: dict[str, list[e.Event]] = {}
    for event in events:
        logs.setdefault(event.incident, []).append(event)
    found = [record(log, incident, cadence, viewer) for incident, log in logs.items()]
    return sorted((r for r in found if r is not None), key=lambda r: r.incident.declared_at)


def stats(
    events: Iterable[e.Event],
    cadence: Cadence = DEFAULT_CADENCE,
    app: str | None = None,
    since: datetime | None = None,
    viewer: Actor | None = None,
) -> Stats:
    """The numbers of the incidents declared at or after `since` (all by default), of
    application `app` alone if given (matched without regard to case)."""
    chosen = [
        found
        for found in records(events, cadence, viewer)
        if since is None or found.incident.declared_at >= since
    ]
    if app is not None:
        wanted = app.lower()
        chosen = [
            found for found in chosen if any(n.lower() == wanted for n in found.incident.apps)
        ]
    # One application however its name was cased, under the spelling it was first given.
    spelt: dict[str, str] = {}
    per_app: dict[str, list[Record]] = {}
    for found in chosen:
        for name in found.incident.apps:
            key = spelt.setdefault(name.lower(), name)
            if app is None or key.lower() == app.lower():
                per_app.setdefault(key, []).append(found)
    monthly: dict[str, dict[str, timedelta]] = {}
    ordered = sorted(per_app.items(), key=lambda item: item[0].lower())
    for name, incidents in ordered:
        months: dict[str, list[timedelta]] = {}
        for one in incidents:
            gap = one.time_to(one.resolved_at)
            if gap is not None:
                months.setdefault(month(one.incident.declared_at), []).append(gap)
        if months:
            monthly[name] = {
                when: sum(g, timedelta(0)) / len(g) for when, g in sorted(months.items())
            }
    return Stats(
        overall=figures(chosen),
        apps={name: figures(incidents) for name, incidents in ordered},
        monthly=monthly,
    )
