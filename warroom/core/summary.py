"""An incident as the lobby and `warroom list` show it, computed for one viewer.

`summarize` counts the incident as the viewer may see it (`policy.admitted`,
`policy.audience_includes` and `policy.question_reaches`, the rules `policy.visible_part` follows
too), so a summary never tells a stakeholder more than their room would: no entry kept from their
audience counts, no question but their own and those answered to them is open to them, and
nothing says when the war room last did something they cannot see.

The counts come from an `EntryCount`: made once by a pass over every entry (`count_entries`),
then brought up to date from the entries each event touches (`recounted`), so that a hub
summarising an incident on every change does no pass over its entries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from itertools import chain
from typing import assert_never

from warroom.core import events as e
from warroom.core.domain import (
    Action,
    ActionState,
    Actor,
    Census,
    Impact,
    IncidentState,
    Mitigation,
    Note,
    Question,
    QuestionState,
    Severity,
    ShelvedIncident,
    Status,
    audience_groups,
    find_entry,
)
from warroom.core.persistent import Entries, Vector
from warroom.core.policy import admitted, audience_includes

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
    incident: IncidentState, viewer: Actor, count: EntryCount | None = None
) -> IncidentSummary | None:
    """`incident` as `viewer`'s lobby shows it; None if they may not know of it.

    Args:
        count: the incident's entries counted, if the caller keeps them counted (`recounted`);
            else they are counted by a pass over every entry.
    """
    if not admitted(viewer, incident):
        return None
    if isinstance(incident, ShelvedIncident):
        return _shelved_summary(incident, viewer)
    if count is None or count.incident is not incident:
        count = count_entries(incident)
    return _summary(incident, viewer, count)


def summarize_each(
    incident: IncidentState, viewers: Iterable[Actor], count: EntryCount | None = None
) -> dict[Actor, IncidentSummary | None]:
    """`summarize(incident, viewer, count)` for each of `viewers`, made once per kind of viewer
    rather than once per viewer: the war room all see one summary, and stakeholders of the same
    groups one but for the questions they asked."""
    shelved = isinstance(incident, ShelvedIncident)
    if not shelved and (count is None or count.incident is not incident):
        count = count_entries(incident)
    made: dict[Actor, IncidentSummary | None] = {}
    by_kind: dict[tuple[bool, frozenset[str]], IncidentSummary] = {}
    for viewer in viewers:
        if viewer in made:
            continue
        if not admitted(viewer, incident):
            made[viewer] = None
            continue
        if isinstance(incident, ShelvedIncident):
            made[viewer] = _shelved_summary(incident, viewer)  # no entries to read: cheap
            continue
        assert count is not None
        kind = (viewer.internal, frozenset() if viewer.internal else viewer.groups)
        summary = by_kind.get(kind)
        if summary is None:
            summary = by_kind[kind] = _summary(incident, viewer, count)
        elif not viewer.internal:
            summary = replace(summary, open_questions=count.open_to(viewer))
        made[viewer] = summary
    return made


def _summary(incident: IncidentState, viewer: Actor, count: EntryCount) -> IncidentSummary:
    internal = viewer.internal
    impact = incident.impact
    if not audience_includes(impact.audience, viewer):
        impact = Impact()
    eta = incident.eta
    shown = count.shown_to(viewer)
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
        impact=impact.statement,
        customer_facing=impact.customer_facing,
        eta=eta.eta if eta is not None else None,
        open_questions=count.open_to(viewer),
        notes=shown.notes,
        actions_open=shown.actions_open,
        mitigations=shown.mitigations,
        updated_at=incident.updated_at if internal else None,
        groups=count.groups if internal else (),
    )


def shelve(incident: IncidentState) -> ShelvedIncident:
    """`incident` as its header alone: every field but its entries, and their census (their
    counts, as `count_entries` makes them), from which `summarize` gives any viewer the summary
    the whole state gives them."""
    if isinstance(incident, ShelvedIncident):
        return incident
    count = count_entries(incident)
    census = Census(
        by_group=count.by_group,
        shown=count.shown,
        asked=count.asked,
        published=count.published,
        open=count.open,
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


def _shelved_summary(incident: ShelvedIncident, viewer: Actor) -> IncidentSummary:
    """What `summarize` gives `viewer` (admitted) of the whole state `incident` is the header
    of: the same summary, made from the census its entries were counted into."""
    census = incident.census
    count = EntryCount(
        incident,
        by_group=census.by_group,
        shown=census.shown,
        asked=census.asked,
        published=census.published,
        open=census.open,
    )
    return _summary(incident, viewer, count)


Entry = tuple[str, int]
"""An entry of an incident that the summary counts: ("note", 3), ("action", 1),
("mitigation", 2), ("question", 4), or ("impact", 0)."""

_IMPACT: Entry = ("impact", 0)


def entry_of(event: e.Event) -> Entry | None:
    """The entry whose audience or counted state (an action's, a question's) `event` gave or
    changed; None if it changed neither."""
    match event:
        case e.NoteAdded():
            return ("note", event.note)
        case e.ActionAdded() | e.ActionStateChanged():
            return ("action", event.action)
        case e.MitigationAdded():
            return ("mitigation", event.mitigation)
        case e.ImpactUpdated():
            return _IMPACT
        case e.QuestionAsked() | e.QuestionAnswered() | e.QuestionDismissed() | e.QuestionMerged():
            return ("question", event.question)
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
            | e.ActionAssigned()
            | e.MitigationStateChanged()
            | e.UpdatePublished()
            | e.PrivacyChanged()
            | e.AccessChanged()
        ):
            # They change an entry's pin, owner or a state the summary does not count, never
            # its audience (or no entry).
            return None
        case _:
            assert_never(event)


Mark = tuple[str, Hashable]
"""One thing an entry counts toward: (table, key), the table an `EntryCount`'s field of that
name ("open" counts no key)."""


Counted = Note | Action | Mitigation | Question | Impact
"""An entry as the summary counts it (the impact statement among them)."""


def _found(incident: IncidentState, entry: Entry) -> Counted | None:
    """`entry` as `incident` holds it, or None if it does not."""
    kind, number = entry
    match kind:
        case "note":
            return find_entry(incident.notes, number)
        case "action":
            return find_entry(incident.actions, number)
        case "mitigation":
            return find_entry(incident.mitigations, number)
        case "question":
            return find_entry(incident.questions, number)
        case _:
            return incident.impact


def _marks(entry: Counted | None) -> Iterator[Mark]:
    """What `entry` counts toward (nothing for None: an entry not held)."""
    match entry:
        case None:
            return
        case Question():
            if entry.state is QuestionState.OPEN:
                yield ("open", "")
                yield ("asked", entry.asker)
                if entry.answer_audience is not None:
                    yield ("published", (entry.asker, entry.answer_audience))
            return  # a question is addressed to nobody: it counts toward no group
        case Note():
            yield ("shown", ("notes", entry.audience))
        case Action():
            if entry.state in _UNDONE:
                yield ("shown", ("actions_open", entry.audience))
        case Mitigation():
            yield ("shown", ("mitigations", entry.audience))
        case Impact():
            pass
        case _:
            assert_never(entry)
    for group in audience_groups(entry.audience):
        yield ("by_group", group)


@dataclass(frozen=True)
class Shown:
    """The entries of an incident one kind of viewer may see, as the summary counts them."""

    notes: int = 0
    actions_open: int = 0
    mitigations: int = 0


@dataclass(frozen=True)
class EntryCount:
    """What a summary counts of an incident's entries, as of `incident`, in tables small enough
    to read for any viewer at once: brought up to date entry by entry (`recounted`) as events
    change it, so that a summary costs no pass over the incident's entries.

    Each table maps a key to how many entries count toward it (never 0: such keys are left out).
    """

    incident: IncidentState
    by_group: Mapping[Hashable, int] = field(default_factory=dict)
    """Entries (the impact among them) addressed to each stakeholder group."""
    shown: Mapping[Hashable, int] = field(default_factory=dict)
    """Notes, open actions and workarounds by ("notes" | "actions_open" | "mitigations",
    audience)."""
    asked: Mapping[Hashable, int] = field(default_factory=dict)
    """Open questions by asker."""
    published: Mapping[Hashable, int] = field(default_factory=dict)
    """Open questions that carry an answer's audience, by (asker, audience)."""
    open: int = 0
    """Open questions, all askers'."""

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups at least one entry is addressed to, in order: the summary's `groups`."""
        return tuple(sorted(str(group) for group in self.by_group))

    @cached_property
    def _shown_by_audience(self) -> dict[str, Shown]:
        tallies: dict[str, dict[str, int]] = {}
        for key, number in self.shown.items():
            assert isinstance(key, tuple)
            what, audience = key
            tally = tallies.setdefault(audience, {})
            tally[what] = tally.get(what, 0) + number
        return {audience: Shown(**tally) for audience, tally in tallies.items()}

    @cached_property
    def _shown_to_kind(self) -> dict[tuple[bool, frozenset[str]], Shown]:
        return {}

    def shown_to(self, viewer: Actor) -> Shown:
        """The notes, open actions and workarounds `viewer` may see (a pass over the distinct
        audiences, kept per kind of viewer)."""
        kind = (viewer.internal, frozenset() if viewer.internal else viewer.groups)
        shown = self._shown_to_kind.get(kind)
        if shown is None:
            notes = actions_open = mitigations = 0
            for audience, tally in self._shown_by_audience.items():
                if audience_includes(audience, viewer):
                    notes += tally.notes
                    actions_open += tally.actions_open
                    mitigations += tally.mitigations
            shown = self._shown_to_kind[kind] = Shown(notes, actions_open, mitigations)
        return shown

    def open_to(self, viewer: Actor) -> int:
        """The open questions `viewer` may know of: every one for the war room; a stakeholder's
        own and those whose answer's audience takes them in (`policy.question_reaches`)."""
        if viewer.internal:
            return self.open
        mine = self.asked.get(viewer.name, 0)
        for key, number in self.published.items():
            assert isinstance(key, tuple)
            asker, audience = key
            if asker != viewer.name and audience_includes(audience, viewer):
                mine += number
        return mine


def count_entries(incident: IncidentState) -> EntryCount:
    """Count every entry of `incident` (a pass over them all)."""
    entries: Iterable[Counted] = chain(
        (incident.impact,),
        incident.notes,
        incident.actions,
        incident.mitigations,
        incident.questions,
    )
    tallied = Counter(mark for entry in entries for mark in _marks(entry))
    return _counted(EntryCount(incident), incident, tallied.items())


def recounted(count: EntryCount, incident: IncidentState, changed: Iterable[Entry]) -> EntryCount:
    """`count` brought to `incident`, a later state of the same incident whose entries differ
    from `count.incident`'s, as far as a summary counts them, at most in the `changed` entries
    (added ones among them): each is looked up in both states, in time that barely grows with
    the incident."""
    before = count.incident
    moved: list[tuple[Mark, int]] = []
    for entry in set(changed):
        moved += ((mark, -1) for mark in _marks(_found(before, entry)))
        moved += ((mark, 1) for mark in _marks(_found(incident, entry)))
    return _counted(count, incident, moved)


def _counted(
    count: EntryCount, incident: IncidentState, moved: Iterable[tuple[Mark, int]]
) -> EntryCount:
    """`count` as of `incident`: each mark of `moved` counted that many more times."""
    tables: dict[str, dict[Hashable, int]] = {}
    opened = count.open
    for (table, key), by in moved:
        if table == "open":
            opened += by
            continue
        held = tables.get(table)
        if held is None:
            held = tables[table] = dict(getattr(count, table))
        number = held.get(key, 0) + by
        if number:
            held[key] = number
        else:
            del held[key]
    return EntryCount(
        incident,
        by_group=tables.get("by_group", count.by_group),
        shown=tables.get("shown", count.shown),
        asked=tables.get("asked", count.asked),
        published=tables.get("published", count.published),
        open=opened,
    )
