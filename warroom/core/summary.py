"""An incident as the lobby and `warroom list` show it, computed for one viewer.

`summarize` reads the incident as the viewer may see it (`policy.admitted` and
`policy.visible_part`, the same rules every other view follows), so a summary never tells a
stakeholder more than their room would: no entry kept from their audience counts, no question
but their own is open to them, and nothing says when the war room last did something they cannot
see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from warroom.core.domain import (
    ActionState,
    Actor,
    IncidentState,
    QuestionState,
    Severity,
    Status,
    audience_groups,
)
from warroom.core.policy import admitted, question_reaches, visible_part

_UNDONE = frozenset({ActionState.NEXT, ActionState.IN_PROGRESS})


@dataclass(frozen=True)
class IncidentSummary:
    """One line of the lobby: what it shows, filters and searches on, and no more."""

    id: str
    title: str
    severity: Severity
    status: Status
    declared_at: datetime
    manager: str | None = None
    private: bool = False
    apps: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    impact: str = ""
    """The impact statement the viewer may read ("" if none): the lobby searches it."""
    customer_facing: bool = False
    eta: datetime | None = None
    open_questions: int = 0
    """Questions still waiting for an answer that the viewer may know of."""
    notes: int = 0
    actions_open: int = 0
    """Actions not yet done or dropped."""
    mitigations: int = 0
    updated_at: datetime | None = None
    """When anything of the incident last changed; None for a stakeholder, to whom it would
    tell of what the war room does out of their sight."""
    groups: tuple[str, ...] = ()
    """The stakeholder groups the incident's entries are addressed to (the war room only)."""


def summarize(incident: IncidentState, viewer: Actor) -> IncidentSummary | None:
    """`incident` as `viewer`'s lobby shows it; None if they may not know of it."""
    if not admitted(viewer, incident):
        return None
    seen = visible_part(incident, viewer)
    impact = seen.impact
    eta = seen.eta
    return IncidentSummary(
        id=seen.id,
        title=seen.title,
        severity=seen.severity,
        status=seen.status,
        declared_at=seen.declared_at,
        manager=seen.manager,
        private=seen.private,
        apps=seen.apps,
        resolved_at=seen.resolved_at,
        impact=impact.statement,
        customer_facing=impact.customer_facing,
        eta=eta.eta if eta is not None else None,
        open_questions=sum(1 for q in seen.questions if q.state is QuestionState.OPEN),
        notes=len(seen.notes),
        actions_open=sum(1 for a in seen.actions if a.state in _UNDONE),
        mitigations=len(seen.mitigations),
        updated_at=seen.updated_at if viewer.internal else None,
        groups=_groups(seen) if viewer.internal else (),
    )


def summarize_each(
    incident: IncidentState, viewers: Iterable[Actor]
) -> dict[Actor, IncidentSummary | None]:
    """`summarize(incident, viewer)` for each of `viewers`, reading the incident once per kind
    of viewer rather than once per viewer: the war room all see one summary, and stakeholders
    of the same groups one but for the questions they asked (a status page per stakeholder
    would otherwise cost a pass over every entry each, on every change)."""
    made: dict[Actor, IncidentSummary | None] = {}
    by_kind: dict[tuple[bool, frozenset[str]], IncidentSummary | None] = {}
    for viewer in viewers:
        if viewer in made:
            continue
        if not admitted(viewer, incident):
            made[viewer] = None
            continue
        kind = (viewer.internal, frozenset() if viewer.internal else viewer.groups)
        if kind not in by_kind:
            by_kind[kind] = summarize(incident, viewer)
        summary = by_kind[kind]
        if summary is not None and not viewer.internal:
            open_questions = sum(
                1
                for q in incident.questions
                if q.state is QuestionState.OPEN and question_reaches(q, viewer)
            )
            summary = replace(summary, open_questions=open_questions)
        made[viewer] = summary
    return made


def _groups(incident: IncidentState) -> tuple[str, ...]:
    audiences = [incident.impact.audience]
    audiences += [n.audience for n in incident.notes]
    audiences += [a.audience for a in incident.actions]
    audiences += [m.audience for m in incident.mitigations]
    found: set[str] = set()
    for audience in audiences:
        found |= audience_groups(audience)
    return tuple(sorted(found))
