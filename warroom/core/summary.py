"""An incident as the lobby and `warroom list` show it, computed for one viewer.

`summarize` reads the incident as the viewer may see it (`policy.admitted` and
`policy.visible_part`, the same rules every other view follows), so a summary never tells a
stakeholder more than their room would: no entry kept from their audience counts, no question
but their own is open to them, and nothing says when the war room last did something they cannot
see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from warroom.core import events as e
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


def summarize(
    incident: IncidentState, viewer: Actor, groups: tuple[str, ...] | None = None
) -> IncidentSummary | None:
    """`incident` as `viewer`'s lobby shows it; None if they may not know of it.

    Args:
        groups: the incident's groups if the caller keeps them counted (`GroupCount`); else
            they are found by a pass over every entry.
    """
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
        groups=(_groups(seen) if groups is None else groups) if viewer.internal else (),
    )


def summarize_each(
    incident: IncidentState, viewers: Iterable[Actor], groups: tuple[str, ...] | None = None
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
            by_kind[kind] = summarize(incident, viewer, groups)
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
    return count_groups(incident).groups


Entry = tuple[str, int]
"""An entry whose audience counts toward its incident's groups: ("note", 3), ("action", 1),
("mitigation", 2), or ("impact", 0)."""

_IMPACT: Entry = ("impact", 0)


def entry_of(event: e.Event) -> Entry | None:
    """The entry whose audience `event` gave or changed; None if it changed no audience."""
    match event:
        case e.NoteAdded():
            return ("note", event.note)
        case e.ActionAdded():
            return ("action", event.action)
        case e.MitigationAdded():
            return ("mitigation", event.mitigation)
        case e.ImpactUpdated():
            return _IMPACT
        case e.AudienceChanged():
            if event.note is not None:
                return ("note", event.note.id)
            if event.action is not None:
                return ("action", event.action.id)
            if event.mitigation is not None:
                return ("mitigation", event.mitigation.id)
            return _IMPACT if event.impact is not None else None
        case (
            e.IncidentDeclared()
            | e.StatusChanged()
            | e.SeverityChanged()
            | e.EtaSet()
            | e.AppAdded()
            | e.AppRemoved()
            | e.NotePinned()
            | e.ActionStateChanged()
            | e.ActionAssigned()
            | e.MitigationStateChanged()
            | e.QuestionAsked()
            | e.QuestionAnswered()
            | e.QuestionDismissed()
            | e.QuestionMerged()
            | e.UpdatePublished()
            | e.PrivacyChanged()
            | e.AccessChanged()
        ):
            # They change an entry's state, owner or pin, never its audience (or no entry).
            return None
        case _:
            assert_never(event)


def _audience_of(incident: IncidentState, entry: Entry) -> str | None:
    kind, number = entry
    match kind:
        case "note":
            found = incident.notes.index_of(number)
            return incident.notes[found].audience if found >= 0 else None
        case "action":
            found = incident.actions.index_of(number)
            return incident.actions[found].audience if found >= 0 else None
        case "mitigation":
            found = incident.mitigations.index_of(number)
            return incident.mitigations[found].audience if found >= 0 else None
        case _:
            return incident.impact.audience


@dataclass(frozen=True)
class GroupCount:
    """How many of an incident's entries (its impact among them) are addressed to each
    stakeholder group, as of `incident`: brought up to date entry by entry (`recounted`) as
    events change it, so that a summary's groups cost no pass over the incident's entries."""

    incident: IncidentState
    counts: Mapping[str, int]

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups at least one entry is addressed to, in order: the summary's `groups`."""
        return tuple(sorted(group for group, number in self.counts.items() if number))


def count_groups(incident: IncidentState) -> GroupCount:
    """Count every entry of `incident` (a pass over them all)."""
    counts: dict[str, int] = {}
    audiences = [incident.impact.audience]
    audiences += [n.audience for n in incident.notes]
    audiences += [a.audience for a in incident.actions]
    audiences += [m.audience for m in incident.mitigations]
    for audience in audiences:
        for group in audience_groups(audience):
            counts[group] = counts.get(group, 0) + 1
    return GroupCount(incident, counts)


def recounted(count: GroupCount, incident: IncidentState, changed: Iterable[Entry]) -> GroupCount:
    """`count` brought to `incident`, a later state of the same incident whose entries' audiences
    differ from `count.incident`'s at most in the `changed` entries (added ones among them):
    each is looked up in both states, in time that barely grows with the incident."""
    counts = dict(count.counts)
    for entry in set(changed):
        before = _audience_of(count.incident, entry)
        after = _audience_of(incident, entry)
        if before == after:
            continue
        for group in audience_groups(before) if before is not None else ():
            counts[group] -= 1
        for group in audience_groups(after) if after is not None else ():
            counts[group] = counts.get(group, 0) + 1
    return GroupCount(incident, {group: number for group, number in counts.items() if number})
