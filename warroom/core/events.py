"""Events: what happened in the war room, named in the past tense; the log is made of them.

Every event names its incident, the actor who caused it and the server time it was recorded.
Events are self-contained: folding the events a viewer may see must never need one they may not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, Field

from warroom.core.domain import (
    INTERNAL,
    Action,
    ActionState,
    Confidence,
    Impact,
    Mitigation,
    MitigationState,
    Note,
    Severity,
    Status,
    UpdateKind,
)


@dataclass(frozen=True, kw_only=True)
class EventBase:
    """Fields every event carries."""

    incident: str
    actor: str
    at: AwareDatetime


@dataclass(frozen=True, kw_only=True)
class IncidentDeclared(EventBase):
    """A new incident was opened."""

    type: Literal["incident.declared"] = "incident.declared"
    title: str
    severity: Severity
    apps: tuple[str, ...] = ()
    manager: str | None = None
    private: bool = False


@dataclass(frozen=True, kw_only=True)
class StatusChanged(EventBase):
    """The incident moved to another status (from `resolved`: it was reopened)."""

    type: Literal["status.changed"] = "status.changed"
    status: Status
    previous: Status


@dataclass(frozen=True, kw_only=True)
class SeverityChanged(EventBase):
    """The incident's severity changed."""

    type: Literal["severity.changed"] = "severity.changed"
    severity: Severity
    previous: Severity


@dataclass(frozen=True, kw_only=True)
class ImpactUpdated(EventBase):
    """The impact statement was replaced; `forced` if it overrode a newer version."""

    type: Literal["impact.updated"] = "impact.updated"
    statement: str
    customer_facing: bool
    version: int
    audience: str = INTERNAL
    forced: bool = False


@dataclass(frozen=True, kw_only=True)
class EtaSet(EventBase):
    """A new estimate of the resolution time (None: the estimate was withdrawn)."""

    type: Literal["eta.set"] = "eta.set"
    eta: AwareDatetime | None
    confidence: Confidence
    version: int
    forced: bool = False


@dataclass(frozen=True, kw_only=True)
class AppAdded(EventBase):
    """A business application was marked as affected."""

    type: Literal["app.added"] = "app.added"
    app: str


@dataclass(frozen=True, kw_only=True)
class AppRemoved(EventBase):
    """A business application is no longer marked as affected."""

    type: Literal["app.removed"] = "app.removed"
    app: str


@dataclass(frozen=True, kw_only=True)
class NoteAdded(EventBase):
    """A note was written on the timeline."""

    type: Literal["note.added"] = "note.added"
    note: int
    text: str
    occurred_at: AwareDatetime
    pinned: bool = False
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class NotePinned(EventBase):
    """A note was pinned as a key moment, or unpinned."""

    type: Literal["note.pinned"] = "note.pinned"
    note: int
    pinned: bool


@dataclass(frozen=True, kw_only=True)
class ActionAdded(EventBase):
    """An action was recorded."""

    type: Literal["action.added"] = "action.added"
    action: int
    text: str
    owner: str | None = None
    state: ActionState = ActionState.NEXT
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class ActionStateChanged(EventBase):
    """An action moved to another state."""

    type: Literal["action.state-changed"] = "action.state-changed"
    action: int
    state: ActionState
    previous: ActionState


@dataclass(frozen=True, kw_only=True)
class ActionAssigned(EventBase):
    """An action got a new owner (None: nobody owns it now)."""

    type: Literal["action.assigned"] = "action.assigned"
    action: int
    owner: str | None


@dataclass(frozen=True, kw_only=True)
class MitigationAdded(EventBase):
    """A workaround was recorded."""

    type: Literal["mitigation.added"] = "mitigation.added"
    mitigation: int
    text: str
    apps: tuple[str, ...] = ()
    state: MitigationState = MitigationState.PROPOSED
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class MitigationStateChanged(EventBase):
    """A workaround was verified or withdrawn."""

    type: Literal["mitigation.state-changed"] = "mitigation.state-changed"
    mitigation: int
    state: MitigationState
    previous: MitigationState


@dataclass(frozen=True, kw_only=True)
class QuestionAsked(EventBase):
    """A stakeholder asked a question; `actor` is the asker."""

    type: Literal["question.asked"] = "question.asked"
    question: int
    text: str


@dataclass(frozen=True, kw_only=True)
class QuestionAnswered(EventBase):
    """A question was answered; `question_text` lets a published answer stand alone."""

    type: Literal["question.answered"] = "question.answered"
    question: int
    text: str
    question_text: str
    audience: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuestionDismissed(EventBase):
    """A question was closed without an answer."""

    type: Literal["question.dismissed"] = "question.dismissed"
    question: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class QuestionMerged(EventBase):
    """A question was marked as a duplicate of question `into`; its asker gets that answer."""

    type: Literal["question.merged"] = "question.merged"
    question: int
    into: int


@dataclass(frozen=True, kw_only=True)
class UpdatePublished(EventBase):
    """An alert or update went out to stakeholders; it carries the whole message, so a viewer
    who sees only updates has all of it."""

    type: Literal["update.published"] = "update.published"
    update: int
    kind: UpdateKind
    audience: str
    summary: str = ""
    impact: str = ""
    timeline: str = ""
    progress: str = ""
    mitigation: str = ""
    status: Status
    severity: Severity
    question: int | None = None


@dataclass(frozen=True, kw_only=True)
class AudienceChanged(EventBase):
    """An entry's audience changed. The entry travels with the event, so a viewer who may see it
    only from now on gets all of it, and one who may no longer see it learns to drop it."""

    type: Literal["audience.changed"] = "audience.changed"
    entry: str
    audience: str
    previous: str
    note: Note | None = None
    action: Action | None = None
    mitigation: Mitigation | None = None
    impact: Impact | None = None


@dataclass(frozen=True, kw_only=True)
class PrivacyChanged(EventBase):
    """The incident became private (seen by incident managers and invitees only) or public."""

    type: Literal["privacy.changed"] = "privacy.changed"
    private: bool


@dataclass(frozen=True, kw_only=True)
class AccessChanged(EventBase):
    """A user was invited to the incident, or the invitation was taken back."""

    type: Literal["access.changed"] = "access.changed"
    user: str
    invited: bool


Event = Annotated[
    IncidentDeclared
    | StatusChanged
    | SeverityChanged
    | ImpactUpdated
    | EtaSet
    | AppAdded
    | AppRemoved
    | NoteAdded
    | NotePinned
    | ActionAdded
    | ActionStateChanged
    | ActionAssigned
    | MitigationAdded
    | MitigationStateChanged
    | QuestionAsked
    | QuestionAnswered
    | QuestionDismissed
    | QuestionMerged
    | UpdatePublished
    | AudienceChanged
    | PrivacyChanged
    | AccessChanged,
    Field(discriminator="type"),
]
"""Every event, tagged by `type` on the wire and in the store."""

EVENT_TYPES: tuple[type[Event], ...] = get_args(get_args(Event)[0])
"""The event classes, in the union's order: read from `Event` itself, so a new event is in it
the moment it is."""


@dataclass(frozen=True)
class Envelope:
    """An event as committed: its place `seq` in the global, gapless log."""

    seq: int
    event: Event
