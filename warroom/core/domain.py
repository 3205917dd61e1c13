"""The incident domain: enums, audiences, entries and the immutable state of the war room.

Everything here is a frozen value. State only ever changes by folding events into it with
`warroom.core.reducer.apply`; nothing in this module does I/O or reads the clock. The parts that
grow with the log (a world's incidents, an incident's notes, actions, questions ...) are
persistent collections (`warroom.core.persistent`): folding an event shares them, not copies.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from warroom.core.persistent import Entries, Map, Numbered, NumberedT, Vector

E = TypeVar("E", bound=StrEnum)
D = TypeVar("D")


def evolve(value: D, **changes: object) -> D:
    """A copy of a frozen dataclass with `changes`: `dataclasses.replace` without re-running
    `__init__`, which is most of the cost of folding an event into a large incident.

    Raises:
        TypeError: naming any change that is not a field of `value` (a misspelt name would
            otherwise add an attribute nobody reads, and leave the field as it was).
    """
    copied = object.__new__(type(value))
    state = copied.__dict__
    state.update(value.__dict__)
    size = len(state)
    state.update(changes)
    if len(state) != size:  # a name that is no field was added: cheaper to see than to look up
        unknown = ", ".join(repr(name) for name in changes if name not in value.__dict__)
        raise TypeError(f"{type(value).__name__} has no field {unknown}")
    return copied


class Severity(StrEnum):
    """How bad an incident is; SEV1 is the worst."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read `1`, `sev1` or `SEV1` as a severity.

        Raises:
            ValueError: with a sentence naming the accepted values.
        """
        value = text.strip().upper()
        if value.isdigit():
            value = f"SEV{value}"
        try:
            return cls(value)
        except ValueError:
            raise ValueError(
                f"unknown severity {text!r}: use 1, 2, 3 or 4 (SEV1 is worst)"
            ) from None


class Status(StrEnum):
    """Where an incident is in its life."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Confidence(StrEnum):
    """How sure the room is of an ETA."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ActionState(StrEnum):
    """Progress of one action: next, in progress, done, or dropped."""

    NEXT = "next"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    DROPPED = "dropped"


class MitigationState(StrEnum):
    """Whether a workaround is only proposed, known to work, or withdrawn."""

    PROPOSED = "proposed"
    VERIFIED = "verified"
    WITHDRAWN = "withdrawn"


class QuestionState(StrEnum):
    """Whether a stakeholder question still waits for the incident manager."""

    OPEN = "open"
    ANSWERED = "answered"
    DISMISSED = "dismissed"
    MERGED = "merged"
    """A duplicate of another question: its asker gets that question's answer."""


class UpdateKind(StrEnum):
    """What a message to stakeholders is: the first alert of an incident, or a regular update."""

    ALERT = "alert"
    UPDATE = "update"


class Role(StrEnum):
    """What a user may do in the war room (see `warroom.core.policy`)."""

    INCIDENT_MANAGER = "incident-manager"
    RESPONDER = "responder"
    OBSERVER = "observer"
    STAKEHOLDER = "stakeholder"


def parse_enum(kind: type[E], text: str, what: str) -> E:
    """Read `text` as a member of `kind`, or raise ValueError naming the accepted values."""
    try:
        return kind(text.strip().lower())
    except ValueError:
        accepted = ", ".join(member.value for member in kind)
        raise ValueError(f"unknown {what} {text!r}: use one of {accepted}") from None


# Audiences -----------------------------------------------------------------------------------

INTERNAL = "internal"
"""Audience of entries only the war room sees (incident manager, responders, observers)."""

EVERYONE = "all"
"""Audience of entries every stakeholder group sees, as well as the war room."""

_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def parse_audience(text: str) -> str:
    """Normalise an audience: `internal`, `all`, or comma-separated stakeholder group names.

    Groups are lower-cased, deduplicated and sorted, so equal audiences compare equal.

    Raises:
        ValueError: for an empty audience or a malformed group name.
    """
    value = text.strip().lower()
    if value in (INTERNAL, EVERYONE):
        return value
    groups = sorted({part.strip() for part in value.split(",") if part.strip()})
    if not groups:
        raise ValueError("an audience is 'internal', 'all' or a list of stakeholder groups")
    for group in groups:
        if group in (INTERNAL, EVERYONE) or not _GROUP_NAME.match(group):
            raise ValueError(
                f"bad stakeholder group {group!r}: use lower-case letters, digits, '-', '_', '.'"
            )
    return ",".join(groups)


def parse_group(text: str) -> str:
    """Validate one stakeholder group name (as for `user add --group`)."""
    value = text.strip().lower()
    if value in (INTERNAL, EVERYONE) or not _GROUP_NAME.match(value):
        raise ValueError(
            f"bad stakeholder group {text!r}: use lower-case letters, digits, '-', '_', '.'"
        )
    return value


def audience_groups(audience: str) -> frozenset[str]:
    """The stakeholder groups named by a normalised group audience (empty for internal/all)."""
    if audience in (INTERNAL, EVERYONE):
        return frozenset()
    return frozenset(audience.split(","))


# People --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """An authenticated user as the server knows them: never taken from a client's frame."""

    name: str
    role: Role
    groups: frozenset[str] = frozenset()

    @property
    def internal(self) -> bool:
        """True for the war room itself: incident manager, responders and observers."""
        return self.role is not Role.STAKEHOLDER


# Entries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """The impact statement; `version` counts its edits so stale edits can be detected."""

    statement: str = ""
    customer_facing: bool = False
    audience: str = INTERNAL
    version: int = 0
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class EtaRevision:
    """One estimate of the resolution time; `eta` None means the estimate was withdrawn."""

    version: int
    eta: datetime | None
    confidence: Confidence
    set_by: str
    set_at: datetime
    forced: bool = False


@dataclass(frozen=True)
class Note:
    """A manual timeline entry; `occurred_at` may be earlier than `recorded_at` (backdated)."""

    id: int
    text: str
    author: str
    occurred_at: datetime
    recorded_at: datetime
    pinned: bool = False
    audience: str = INTERNAL


@dataclass(frozen=True)
class Action:
    """A step taken or to take, with an optional owner."""

    id: int
    text: str
    owner: str | None
    state: ActionState
    created_by: str
    created_at: datetime
    updated_at: datetime
    audience: str = INTERNAL


@dataclass(frozen=True)
class Mitigation:
    """A workaround or temporary fix, and the applications it helps."""

    id: int
    text: str
    state: MitigationState
    apps: tuple[str, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime
    audience: str = INTERNAL


@dataclass(frozen=True)
class Question:
    """A stakeholder question and, once handled, its answer or dismissal."""

    id: int
    text: str
    asker: str
    asked_at: datetime
    state: QuestionState = QuestionState.OPEN
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    answer_audience: str | None = None
    """None: the answer went to the asker alone; otherwise the audience it was published to."""
    merged_into: int | None = None
    """The question this one duplicates (state `merged` until that one is answered)."""


@dataclass(frozen=True)
class Update:
    """A message published to stakeholders (`U1`, `U2` ...): an alert or a regular update, in
    the four parts every update has plus a summary, composed for one audience."""

    id: int
    kind: UpdateKind
    audience: str
    """`all` or stakeholder groups: never `internal`."""
    summary: str
    impact: str
    timeline: str
    progress: str
    mitigation: str
    author: str
    published_at: datetime
    status: Status
    """The incident's status and severity when it was published, for "what changed since"."""
    severity: Severity
    question: int | None = None
    """The question whose answer this update promotes, if any."""


@dataclass(frozen=True)
class IncidentState:
    """Everything known about one incident, as folded from its events."""

    id: str
    title: str
    severity: Severity
    status: Status
    declared_by: str
    declared_at: datetime
    manager: str | None
    apps: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    impact: Impact = Impact()
    eta: EtaRevision | None = None
    eta_history: Vector[EtaRevision] = field(default_factory=Vector)
    notes: Entries[Note] = field(default_factory=Entries)
    actions: Entries[Action] = field(default_factory=Entries)
    mitigations: Entries[Mitigation] = field(default_factory=Entries)
    questions: Entries[Question] = field(default_factory=Entries)
    updates: Entries[Update] = field(default_factory=Entries)
    updated_at: datetime | None = None
    reopened_at: datetime | None = None
    """When a resolved incident was last reopened: its update cadence starts again then."""
    private: bool = False
    """Seen only by incident managers and the users in `invited`."""
    invited: tuple[str, ...] = ()

    @property
    def eta_version(self) -> int:
        """The version of the current ETA (0 before any estimate)."""
        return self.eta.version if self.eta is not None else 0

    @property
    def open_questions(self) -> tuple[Question, ...]:
        """Questions still waiting for an answer."""
        return tuple(q for q in self.questions if q.state is QuestionState.OPEN)


class Shelved(Exception):
    """An event or a command reached an incident held only as its header (`ShelvedIncident`):
    whoever holds it must read the incident's whole state back first."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"{incident_id} is shelved: read its whole state back first")
        self.incident = incident_id


@dataclass(frozen=True)
class Census:
    """What a lobby's summary counts of a shelved incident's entries, for any viewer: the tables
    of `summary.EntryCount` (entries by group; notes, undone actions and workarounds by audience;
    open questions by asker and by (asker, answer's audience); open questions in all)."""

    by_group: Mapping[Hashable, int] = field(default_factory=dict)
    shown: Mapping[Hashable, int] = field(default_factory=dict)
    asked: Mapping[Hashable, int] = field(default_factory=dict)
    published: Mapping[Hashable, int] = field(default_factory=dict)
    open: int = 0


@dataclass(frozen=True)
class ShelvedIncident(IncidentState):
    """An incident held by its header alone: the fields that tell who may know of it and what a
    lobby shows of it, with its entries' census instead of its entries (which are empty here).

    A hub keeps a resolved, quiet incident so, and reads its whole state back (its newest
    snapshot and the events after it) when something needs more: `apply` and `decide` refuse it
    (`Shelved`), so nothing is ever folded into or decided against a header by mistake."""

    census: Census = Census()


_NO_INCIDENTS: Map[str, IncidentState] = Map()


@dataclass(frozen=True)
class World:
    """All incidents of a war room; `declared` counts declarations to number the next one.

    Incidents declared private are counted apart (`declared_private`) and named by the hub with
    a suffix that counts nothing (`INC-PK7Q3XZ`), so that neither the public numbers nor their
    own ids tell of how many there are."""

    incidents: Map[str, IncidentState] = _NO_INCIDENTS
    """By id; persistent, so that folding an event into one incident copies none of the others."""
    declared: int = 0
    declared_private: int = 0

    @classmethod
    def of(cls, incidents: Iterable[IncidentState]) -> World:
        """A world holding `incidents` alone (as read one by one, not folded: nothing counted)."""
        return cls(incidents=Map({incident.id: incident for incident in incidents}))

    def incident(self, incident_id: str) -> IncidentState | None:
        """The incident with this id, or None."""
        return self.incidents.get(incident_id.upper())

    def newest_first(self) -> list[IncidentState]:
        """Incidents, most recently declared first."""
        return sorted(self.incidents.values(), key=lambda i: i.declared_at, reverse=True)


def entry_number(text: str, prefix: str) -> int:
    """Read an entry id such as `A3` or `3` (prefix optional) as its number.

    Raises:
        ValueError: if `text` is not such an id.
    """
    value = text.strip().upper()
    if value.startswith(prefix):
        value = value[len(prefix) :]
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"bad id {text!r}: expected {prefix}<number>, e.g. {prefix}1")
    return int(value)


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Strip and deduplicate names, keeping their first order."""
    seen: dict[str, None] = {}
    for item in items:
        name = item.strip()
        if name and name.lower() not in {s.lower() for s in seen}:
            seen[name] = None
    return tuple(seen)


def find_index(entries: Sequence[Numbered], number: int) -> int:
    """The index of the entry numbered `number`, or -1 if this view does not hold it."""
    if isinstance(entries, Entries):
        return entries.index_of(number)  # O(log n), in a partial view too
    index = number - 1
    # On the full log entry n sits at index n-1; a partial view (a stakeholder's) has to search.
    if 0 <= index < len(entries) and entries[index].id == number:
        return index
    return next((i for i, entry in enumerate(entries) if entry.id == number), -1)


def find_entry(entries: Sequence[NumberedT], number: int) -> NumberedT | None:
    """The entry numbered `number`, or None if this view does not hold it."""
    index = find_index(entries, number)
    return entries[index] if index >= 0 else None
