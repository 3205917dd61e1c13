"""Commands: what a user asks the war room to do, named in the imperative.

A command carries only what the user chose. Who asks comes from the authenticated connection and
the time from the server's clock; both are passed to `warroom.core.decide.decide` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, Field

from warroom.core.domain import (
    INTERNAL,
    ActionState,
    Confidence,
    MitigationState,
    Severity,
    Status,
    UpdateKind,
)
from warroom.core.inputs import MAX_APPS

Apps = Annotated[tuple[str, ...], Field(max_length=MAX_APPS)]
"""Application names: a longer list is refused as the frame is read, before any of it is kept."""


@dataclass(frozen=True, kw_only=True)
class DeclareIncident:
    """Open a new incident."""

    type: Literal["incident.declare"] = "incident.declare"
    title: str
    severity: Severity
    apps: Apps = ()
    private: bool = False
    """Seen only by incident managers and the people invited (the declarer is)."""
    suffix: str = ""
    """A private incident's id after `INC-P`, chosen by the hub (whatever a client sends is
    replaced), so that the ids count nothing; empty for a public one."""


@dataclass(frozen=True, kw_only=True)
class ChangeStatus:
    """Move an incident to another status (from resolved: reopen it)."""

    type: Literal["status.change"] = "status.change"
    incident: str
    status: Status


@dataclass(frozen=True, kw_only=True)
class ChangeSeverity:
    """Raise or lower an incident's severity."""

    type: Literal["severity.change"] = "severity.change"
    incident: str
    severity: Severity


@dataclass(frozen=True, kw_only=True)
class SetImpact:
    """Replace the impact statement; `base_version` is the version the edit was based on."""

    type: Literal["impact.set"] = "impact.set"
    incident: str
    statement: str
    customer_facing: bool = False
    base_version: int
    audience: str = INTERNAL
    force: bool = False


@dataclass(frozen=True, kw_only=True)
class SetEta:
    """Estimate the resolution time (None withdraws the estimate)."""

    type: Literal["eta.set"] = "eta.set"
    incident: str
    eta: AwareDatetime | None
    confidence: Confidence = Confidence.MEDIUM
    base_version: int
    force: bool = False


@dataclass(frozen=True, kw_only=True)
class AddApp:
    """Mark a business application as affected."""

    type: Literal["app.add"] = "app.add"
    incident: str
    app: str


@dataclass(frozen=True, kw_only=True)
class RemoveApp:
    """Mark a business application as no longer affected."""

    type: Literal["app.remove"] = "app.remove"
    incident: str
    app: str


@dataclass(frozen=True, kw_only=True)
class AddNote:
    """Write a note on the timeline, possibly backdated and pinned as a key moment."""

    type: Literal["note.add"] = "note.add"
    incident: str
    text: str
    occurred_at: AwareDatetime | None = None
    pinned: bool = False
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class PinNote:
    """Pin a note as a key moment, or unpin it."""

    type: Literal["note.pin"] = "note.pin"
    incident: str
    note: int
    pinned: bool = True


@dataclass(frozen=True, kw_only=True)
class AddAction:
    """Record an action taken or to take."""

    type: Literal["action.add"] = "action.add"
    incident: str
    text: str
    owner: str | None = None
    state: ActionState = ActionState.NEXT
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class ChangeActionState:
    """Advance (or correct) an action's state."""

    type: Literal["action.change-state"] = "action.change-state"
    incident: str
    action: int
    state: ActionState


@dataclass(frozen=True, kw_only=True)
class AssignAction:
    """Give an action an owner, or take it back (None)."""

    type: Literal["action.assign"] = "action.assign"
    incident: str
    action: int
    owner: str | None


@dataclass(frozen=True, kw_only=True)
class AddMitigation:
    """Record a workaround and the applications it helps."""

    type: Literal["mitigation.add"] = "mitigation.add"
    incident: str
    text: str
    apps: Apps = ()
    audience: str = INTERNAL


@dataclass(frozen=True, kw_only=True)
class ChangeMitigationState:
    """Verify or withdraw a workaround."""

    type: Literal["mitigation.change-state"] = "mitigation.change-state"
    incident: str
    mitigation: int
    state: MitigationState


@dataclass(frozen=True, kw_only=True)
class AskQuestion:
    """A stakeholder asks the incident manager something."""

    type: Literal["question.ask"] = "question.ask"
    incident: str
    text: str


@dataclass(frozen=True, kw_only=True)
class AnswerQuestion:
    """Answer a question: to the asker alone (audience None) or published to an audience."""

    type: Literal["question.answer"] = "question.answer"
    incident: str
    question: int
    text: str
    audience: str | None = None


@dataclass(frozen=True, kw_only=True)
class DismissQuestion:
    """Close a question without answering it (a duplicate, out of scope, ...)."""

    type: Literal["question.dismiss"] = "question.dismiss"
    incident: str
    question: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class MergeQuestion:
    """Mark a question as a duplicate of another: its asker gets that question's answer."""

    type: Literal["question.merge"] = "question.merge"
    incident: str
    question: int
    into: int


@dataclass(frozen=True, kw_only=True)
class PublishUpdate:
    """Publish an alert or an update to stakeholders (`all` or groups), as composed and edited
    by the incident manager; `question` names the answered question it promotes, if any."""

    type: Literal["update.publish"] = "update.publish"
    incident: str
    audience: str
    kind: UpdateKind = UpdateKind.UPDATE
    summary: str = ""
    impact: str = ""
    timeline: str = ""
    progress: str = ""
    mitigation: str = ""
    question: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeAudience:
    """Show an entry (`N3`, `A2`, `M1` or `impact`) to another audience from now on."""

    type: Literal["audience.change"] = "audience.change"
    incident: str
    entry: str
    audience: str


@dataclass(frozen=True, kw_only=True)
class ChangePrivacy:
    """Make an incident private (only incident managers and invitees see it) or public again."""

    type: Literal["privacy.change"] = "privacy.change"
    incident: str
    private: bool


@dataclass(frozen=True, kw_only=True)
class ChangeAccess:
    """Invite a user to a private incident (`invited` False: take the invitation back)."""

    type: Literal["access.change"] = "access.change"
    incident: str
    user: str
    invited: bool = True


Command = Annotated[
    DeclareIncident
    | ChangeStatus
    | ChangeSeverity
    | SetImpact
    | SetEta
    | AddApp
    | RemoveApp
    | AddNote
    | PinNote
    | AddAction
    | ChangeActionState
    | AssignAction
    | AddMitigation
    | ChangeMitigationState
    | AskQuestion
    | AnswerQuestion
    | DismissQuestion
    | MergeQuestion
    | PublishUpdate
    | ChangeAudience
    | ChangePrivacy
    | ChangeAccess,
    Field(discriminator="type"),
]
"""Every command, tagged by `type` on the wire."""

COMMAND_TYPES: tuple[type[Command], ...] = get_args(get_args(Command)[0])
"""The command classes, in the union's order, for tables that must cover every command (see
`warroom.core.policy`): read from `Command` itself, so a new command is in it the moment it is."""
