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
    Census,
    IncidentState,
    QuestionState,
    Severity,
    ShelvedIncident,
    Status,
    audience_groups,
)
from warroom.core.persistent import Entries, Vector
from warroom.core.policy import admitted, audience_includes, question_reaches, visible_part

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
    if isinstance(incident, ShelvedIncident):
        return _shelved_summary(incident, viewer)
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
        if isinstance(incident, ShelvedIncident):
            made[viewer] = _shelved_summary(incident, viewer)  # no entries to read: cheap
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


def shelve(incident: IncidentState) -> ShelvedIncident:
    """`incident` as its header alone: every field but its entries, and their census, from which
    `summarize` gives any viewer the summary the whole state gives them."""
    if isinstance(incident, ShelvedIncident):
        return incident
    census = Census(
        notes=_by_audience(n.audience for n in incident.notes),
        actions_open=_by_audience(a.audience for a in incident.actions if a.state in _UNDONE),
        mitigations=_by_audience(m.audience for m in incident.mitigations),
        open_questions=tuple(
            (q.asker, q.answer_audience)
            for q in incident.questions
            if q.state is QuestionState.OPEN
        ),
        groups=_groups(incident),
    )
    # Built as `evolve` builds a copy: every field of the incident, its entries left out.
    header = object.__new__(ShelvedIncident)
    header.__dict__.update(
        incident.__dict__,
        eta_history=Vector(),
        notes=Entries(),
        actions=Entries(),
        mitigations=Entries(),
        questions=Entries(),
        updates=Entries(),
        census=census,
    )
    return header


def _by_audience(audiences: Iterable[str]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for audience in audiences:
        counts[audience] = counts.get(audience, 0) + 1
    return tuple(sorted(counts.items()))


def _shelved_summary(incident: ShelvedIncident, viewer: Actor) -> IncidentSummary:
    """What `summarize` gives `viewer` (admitted) of the whole state `incident` is the header
    of: the same rules (`visible_part`, `question_reaches`), applied to the census."""
    census = incident.census

    def seen(counts: tuple[tuple[str, int], ...]) -> int:
        return sum(number for audience, number in counts if audience_includes(audience, viewer))

    impact = incident.impact
    shown = audience_includes(impact.audience, viewer)
    eta = incident.eta
    return IncidentSummary(
        id=incident.id,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        declared_at=incident.declared_at,
        manager=incident.manager,
        private=incident.private,
        apps=incident.apps,
        resolved_at=incident.resolved_at,
        impact=impact.statement if shown else "",
        customer_facing=impact.customer_facing if shown else False,
        eta=eta.eta if eta is not None else None,
        open_questions=sum(
            1
            for asker, published in census.open_questions
            if viewer.internal
            or asker == viewer.name
            or (published is not None and audience_includes(published, viewer))
        ),
        notes=seen(census.notes),
        actions_open=seen(census.actions_open),
        mitigations=seen(census.mitigations),
        updated_at=incident.updated_at if viewer.internal else None,
        groups=census.groups if viewer.internal else (),
    )


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
