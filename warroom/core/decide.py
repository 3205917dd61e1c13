"""`decide`: turn one command into the events it causes, or reject it with a readable reason.

Pure: the actor and the time come in as arguments; the world is not changed (see
`warroom.core.reducer.apply`). Authorization is `warroom.core.policy`'s job and happens before this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, TypeVar, assert_never

from pydantic import AwareDatetime, Field, PlainSerializer

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import (
    Actor,
    Confidence,
    IncidentState,
    NumberedT,
    QuestionState,
    Role,
    Status,
    World,
    entry_number,
    evolve,
    find_entry,
    parse_audience,
    unique,
)

MAX_TITLE = 200
MAX_TEXT = 16_000
MAX_NAME = 80
CLOCK_SKEW = timedelta(minutes=2)
"""How far in the future a note's time may lie before it is refused (clients' clocks drift)."""


@dataclass(frozen=True, kw_only=True)
class ImpactConflict:
    """The impact statement as it is now, which an edit based on an older version would have
    overwritten."""

    type: Literal["impact.conflict"] = "impact.conflict"
    version: int
    statement: str
    customer_facing: bool
    updated_by: str | None
    """None before the first statement."""


@dataclass(frozen=True, kw_only=True)
class EtaConflict:
    """The ETA as it is now, which an edit based on an older version would have overwritten;
    `eta`, `confidence` and `set_by` are None before the first estimate."""

    type: Literal["eta.conflict"] = "eta.conflict"
    version: int
    eta: Annotated[AwareDatetime, PlainSerializer(datetime.isoformat, when_used="json")] | None
    """Written as `datetime.isoformat` writes it (`+00:00`), as the CLI's `--json` shows it."""
    confidence: Confidence | None
    set_by: str | None


Conflict = Annotated[ImpactConflict | EtaConflict, Field(discriminator="type")]
"""The current value a stale edit met, tagged on the wire (`impact.conflict`, `eta.conflict`)."""


class Rejected(Exception):
    """A command the war room refuses; `message` is a sentence for the user.

    Attributes:
        code: a stable machine-readable reason (`not-found`, `invalid`, `conflict`, ...).
        message: one sentence saying why, fit to show as it is.
        current: for a `conflict`, the current value the user's edit would have overwritten.
    """

    def __init__(self, code: str, message: str, current: Conflict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = current


def decide(world: World, command: c.Command, actor: Actor, now: datetime) -> list[e.Event]:
    """Return the events `command` causes when `actor` issues it at `now`.

    Raises:
        Rejected: if the command is invalid against the current world.
    """
    now = now.astimezone(UTC)
    # Every command type has its case: mypy refuses one without a handler.
    match command:
        case c.DeclareIncident():
            return [_declare(world, command, actor, now)]
        case c.ChangeStatus():
            return _on(world, _status, command, actor, now)
        case c.ChangeSeverity():
            return _on(world, _severity, command, actor, now)
        case c.SetImpact():
            return _on(world, _impact, command, actor, now)
        case c.SetEta():
            return _on(world, _eta, command, actor, now)
        case c.AddApp():
            return _on(world, _add_app, command, actor, now)
        case c.RemoveApp():
            return _on(world, _remove_app, command, actor, now)
        case c.AddNote():
            return _on(world, _note, command, actor, now)
        case c.PinNote():
            return _on(world, _pin, command, actor, now)
        case c.AddAction():
            return _on(world, _action, command, actor, now)
        case c.ChangeActionState():
            return _on(world, _action_state, command, actor, now)
        case c.AssignAction():
            return _on(world, _assign, command, actor, now)
        case c.AddMitigation():
            return _on(world, _mitigation, command, actor, now)
        case c.ChangeMitigationState():
            return _on(world, _mitigation_state, command, actor, now)
        case c.AskQuestion():
            return _on(world, _ask, command, actor, now)
        case c.AnswerQuestion():
            return _on(world, _answer, command, actor, now)
        case c.DismissQuestion():
            return _on(world, _dismiss, command, actor, now)
        case c.ChangeAudience():
            return _on(world, _audience_change, command, actor, now)
        case c.ChangePrivacy():
            return _on(world, _privacy, command, actor, now)
        case c.ChangeAccess():
            return _on(world, _access, command, actor, now)
        case _:
            assert_never(command)


class _OnIncident(Protocol):
    """A command about an incident that exists already (every command but a declaration)."""

    @property
    def incident(self) -> str: ...


CommandT = TypeVar("CommandT", bound=_OnIncident)


def _on(
    world: World,
    handler: Callable[[IncidentState, CommandT, Actor, datetime], e.Event],
    command: CommandT,
    actor: Actor,
    now: datetime,
) -> list[e.Event]:
    """The events of `command`, made by `handler` against the incident the command names."""
    return [handler(_incident(world, command.incident), command, actor, now)]


def _declare(world: World, cmd: c.DeclareIncident, actor: Actor, now: datetime) -> e.Event:
    title = _text(cmd.title, "title", MAX_TITLE)
    number = f"P{world.declared_private + 1}" if cmd.private else str(world.declared + 1)
    return e.IncidentDeclared(
        incident=f"INC-{number}",
        actor=actor.name,
        at=now,
        title=title,
        severity=cmd.severity,
        apps=_apps(cmd.apps),
        manager=actor.name if actor.role is Role.INCIDENT_MANAGER else None,
        private=cmd.private,
    )


def _incident(world: World, incident_id: str) -> IncidentState:
    incident = world.incident(incident_id)
    if incident is None:
        raise no_such_incident(incident_id)
    return incident


def no_such_incident(incident_id: str) -> Rejected:
    """The refusal for an incident that does not exist, or that the user may not know of: the
    two must read the same."""
    return Rejected("not-found", f"there is no incident {incident_id.upper()}")


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise Rejected("invalid", f"the {what} is empty")
    if len(text) > limit:
        raise Rejected(
            "invalid", f"the {what} is {len(text)} characters long; the limit is {limit}"
        )
    return text


def _name(value: str, what: str) -> str:
    return _text(value, what, MAX_NAME)


def _apps(names: tuple[str, ...]) -> tuple[str, ...]:
    return unique(_name(name, "application name") for name in names)


def _audience(value: str) -> str:
    try:
        return parse_audience(value)
    except ValueError as error:
        raise Rejected("invalid", str(error)) from None


def _status(incident: IncidentState, cmd: c.ChangeStatus, actor: Actor, now: datetime) -> e.Event:
    if cmd.status is incident.status:
        raise Rejected("invalid-state", f"{incident.id} is already {incident.status.value}")
    return e.StatusChanged(
        incident=incident.id, actor=actor.name, at=now, status=cmd.status, previous=incident.status
    )


def _severity(
    incident: IncidentState, cmd: c.ChangeSeverity, actor: Actor, now: datetime
) -> e.Event:
    if cmd.severity is incident.severity:
        raise Rejected("invalid-state", f"{incident.id} is already {incident.severity.value}")
    return e.SeverityChanged(
        incident=incident.id,
        actor=actor.name,
        at=now,
        severity=cmd.severity,
        previous=incident.severity,
    )


def _impact(incident: IncidentState, cmd: c.SetImpact, actor: Actor, now: datetime) -> e.Event:
    statement = _text(cmd.statement, "impact statement", MAX_TEXT)
    audience = _audience(cmd.audience)
    current = incident.impact
    stale = cmd.base_version != current.version
    if stale and not cmd.force:
        raise Rejected(
            "conflict",
            f"the impact statement of {incident.id} changed since version {cmd.base_version}: "
            f"version {current.version} by {current.updated_by} is current",
            current=ImpactConflict(
                version=current.version,
                statement=current.statement,
                customer_facing=current.customer_facing,
                updated_by=current.updated_by,
            ),
        )
    return e.ImpactUpdated(
        incident=incident.id,
        actor=actor.name,
        at=now,
        statement=statement,
        customer_facing=cmd.customer_facing,
        version=current.version + 1,
        audience=audience,
        forced=stale,
    )


def _eta(incident: IncidentState, cmd: c.SetEta, actor: Actor, now: datetime) -> e.Event:
    current = incident.eta
    stale = cmd.base_version != incident.eta_version
    if stale and not cmd.force:
        raise Rejected(
            "conflict",
            f"the ETA of {incident.id} changed since version {cmd.base_version}: "
            f"version {incident.eta_version} is current",
            current=EtaConflict(
                version=incident.eta_version,
                eta=current.eta if current else None,
                confidence=current.confidence if current else None,
                set_by=current.set_by if current else None,
            ),
        )
    eta = cmd.eta.astimezone(UTC) if cmd.eta is not None else None
    if eta is not None and eta < now - CLOCK_SKEW:
        raise Rejected("invalid", "the ETA is in the past")
    if eta is None and (current is None or current.eta is None):
        raise Rejected("invalid-state", f"{incident.id} has no ETA to withdraw")
    return e.EtaSet(
        incident=incident.id,
        actor=actor.name,
        at=now,
        eta=eta,
        confidence=cmd.confidence,
        version=incident.eta_version + 1,
        forced=stale,
    )


def _add_app(incident: IncidentState, cmd: c.AddApp, actor: Actor, now: datetime) -> e.Event:
    app = _name(cmd.app, "application name")
    if app.lower() in (a.lower() for a in incident.apps):
        raise Rejected("invalid-state", f"{app} is already affected by {incident.id}")
    return e.AppAdded(incident=incident.id, actor=actor.name, at=now, app=app)


def _remove_app(incident: IncidentState, cmd: c.RemoveApp, actor: Actor, now: datetime) -> e.Event:
    wanted = cmd.app.strip().lower()
    for app in incident.apps:
        if app.lower() == wanted:
            return e.AppRemoved(incident=incident.id, actor=actor.name, at=now, app=app)
    raise Rejected(
        "not-found", f"{cmd.app.strip()} is not an affected application of {incident.id}"
    )


def _note(incident: IncidentState, cmd: c.AddNote, actor: Actor, now: datetime) -> e.Event:
    text = _text(cmd.text, "note", MAX_TEXT)
    occurred = cmd.occurred_at.astimezone(UTC) if cmd.occurred_at is not None else now
    if occurred > now + CLOCK_SKEW:
        raise Rejected("invalid", "a note cannot be dated in the future")
    return e.NoteAdded(
        incident=incident.id,
        actor=actor.name,
        at=now,
        note=len(incident.notes) + 1,
        text=text,
        occurred_at=occurred,
        pinned=cmd.pinned,
        audience=_audience(cmd.audience),
    )


def _pin(incident: IncidentState, cmd: c.PinNote, actor: Actor, now: datetime) -> e.Event:
    note = _entry(incident.notes, cmd.note, "note", "N", incident)
    if note.pinned == cmd.pinned:
        raise Rejected("invalid-state", f"note N{note.id} is already {_pinned(cmd.pinned)}")
    return e.NotePinned(
        incident=incident.id, actor=actor.name, at=now, note=note.id, pinned=cmd.pinned
    )


def _pinned(pinned: bool) -> str:
    return "pinned" if pinned else "unpinned"


def _action(incident: IncidentState, cmd: c.AddAction, actor: Actor, now: datetime) -> e.Event:
    owner = _name(cmd.owner, "owner") if cmd.owner is not None and cmd.owner.strip() else None
    return e.ActionAdded(
        incident=incident.id,
        actor=actor.name,
        at=now,
        action=len(incident.actions) + 1,
        text=_text(cmd.text, "action", MAX_TEXT),
        owner=owner,
        state=cmd.state,
        audience=_audience(cmd.audience),
    )


def _action_state(
    incident: IncidentState, cmd: c.ChangeActionState, actor: Actor, now: datetime
) -> e.Event:
    action = _entry(incident.actions, cmd.action, "action", "A", incident)
    if action.state is cmd.state:
        raise Rejected("invalid-state", f"action A{action.id} is already {action.state.value}")
    return e.ActionStateChanged(
        incident=incident.id,
        actor=actor.name,
        at=now,
        action=action.id,
        state=cmd.state,
        previous=action.state,
    )


def _assign(incident: IncidentState, cmd: c.AssignAction, actor: Actor, now: datetime) -> e.Event:
    action = _entry(incident.actions, cmd.action, "action", "A", incident)
    owner = _name(cmd.owner, "owner") if cmd.owner is not None and cmd.owner.strip() else None
    if owner == action.owner:
        already = f"owned by {owner}" if owner else "without an owner"
        raise Rejected("invalid-state", f"action A{action.id} is already {already}")
    return e.ActionAssigned(
        incident=incident.id, actor=actor.name, at=now, action=action.id, owner=owner
    )


def _mitigation(
    incident: IncidentState, cmd: c.AddMitigation, actor: Actor, now: datetime
) -> e.Event:
    return e.MitigationAdded(
        incident=incident.id,
        actor=actor.name,
        at=now,
        mitigation=len(incident.mitigations) + 1,
        text=_text(cmd.text, "workaround", MAX_TEXT),
        apps=_apps(cmd.apps),
        audience=_audience(cmd.audience),
    )


def _mitigation_state(
    incident: IncidentState, cmd: c.ChangeMitigationState, actor: Actor, now: datetime
) -> e.Event:
    mitigation = _entry(incident.mitigations, cmd.mitigation, "workaround", "M", incident)
    if mitigation.state is cmd.state:
        raise Rejected(
            "invalid-state", f"workaround M{mitigation.id} is already {mitigation.state.value}"
        )
    return e.MitigationStateChanged(
        incident=incident.id,
        actor=actor.name,
        at=now,
        mitigation=mitigation.id,
        state=cmd.state,
        previous=mitigation.state,
    )


def _ask(incident: IncidentState, cmd: c.AskQuestion, actor: Actor, now: datetime) -> e.Event:
    if incident.status is Status.RESOLVED:
        raise Rejected("invalid-state", f"{incident.id} is resolved; it takes no more questions")
    return e.QuestionAsked(
        incident=incident.id,
        actor=actor.name,
        at=now,
        question=len(incident.questions) + 1,
        text=_text(cmd.text, "question", MAX_TEXT),
    )


def _answer(incident: IncidentState, cmd: c.AnswerQuestion, actor: Actor, now: datetime) -> e.Event:
    question = _entry(incident.questions, cmd.question, "question", "Q", incident)
    if question.state is not QuestionState.OPEN:
        raise Rejected("invalid-state", f"question Q{question.id} is already {question.state}")
    return e.QuestionAnswered(
        incident=incident.id,
        actor=actor.name,
        at=now,
        question=question.id,
        text=_text(cmd.text, "answer", MAX_TEXT),
        question_text=question.text,
        audience=_audience(cmd.audience) if cmd.audience is not None else None,
    )


def _dismiss(
    incident: IncidentState, cmd: c.DismissQuestion, actor: Actor, now: datetime
) -> e.Event:
    question = _entry(incident.questions, cmd.question, "question", "Q", incident)
    if question.state is not QuestionState.OPEN:
        raise Rejected("invalid-state", f"question Q{question.id} is already {question.state}")
    reason = cmd.reason.strip()
    if len(reason) > MAX_TEXT:
        raise Rejected("invalid", f"the reason is longer than {MAX_TEXT} characters")
    return e.QuestionDismissed(
        incident=incident.id, actor=actor.name, at=now, question=question.id, reason=reason
    )


def _entry(
    entries: tuple[NumberedT, ...], number: int, what: str, prefix: str, incident: IncidentState
) -> NumberedT:
    entry = find_entry(entries, number)
    if entry is None:
        raise Rejected("not-found", f"{incident.id} has no {what} {prefix}{number}")
    return entry


def _audience_change(
    incident: IncidentState, cmd: c.ChangeAudience, actor: Actor, now: datetime
) -> e.Event:
    audience = _audience(cmd.audience)
    name = cmd.entry.strip().upper()

    def changed(previous: str, **entry: Any) -> e.AudienceChanged:
        _same_audience(previous, audience, name if name != "IMPACT" else "the impact statement")
        return e.AudienceChanged(
            incident=incident.id,
            actor=actor.name,
            at=now,
            entry=name.lower() if name == "IMPACT" else name,
            audience=audience,
            previous=previous,
            **entry,
        )

    if name == "IMPACT":
        if incident.impact.version == 0:
            raise Rejected("not-found", f"{incident.id} has no impact statement yet")
        impact = incident.impact
        return changed(impact.audience, impact=evolve(impact, audience=audience))
    try:
        number = entry_number(name, name[:1]) if name[:1] in ("N", "A", "M") else 0
    except ValueError:
        number = 0
    if number == 0:
        raise Rejected("invalid", f"bad entry {cmd.entry!r}: use N<n>, A<n>, M<n> or impact")
    if name.startswith("N"):
        note = _entry(incident.notes, number, "note", "N", incident)
        return changed(note.audience, note=evolve(note, audience=audience))
    if name.startswith("A"):
        action = _entry(incident.actions, number, "action", "A", incident)
        return changed(action.audience, action=evolve(action, audience=audience))
    mitigation = _entry(incident.mitigations, number, "workaround", "M", incident)
    return changed(mitigation.audience, mitigation=evolve(mitigation, audience=audience))


def _same_audience(previous: str, audience: str, what: str) -> None:
    if previous == audience:
        raise Rejected("invalid-state", f"{what} is already shown to {audience}")


def _privacy(incident: IncidentState, cmd: c.ChangePrivacy, actor: Actor, now: datetime) -> e.Event:
    if cmd.private == incident.private:
        raise Rejected(
            "invalid-state", f"{incident.id} is already {'private' if cmd.private else 'public'}"
        )
    return e.PrivacyChanged(incident=incident.id, actor=actor.name, at=now, private=cmd.private)


def _access(incident: IncidentState, cmd: c.ChangeAccess, actor: Actor, now: datetime) -> e.Event:
    user = _name(cmd.user, "user name")
    if cmd.invited == (user in incident.invited):
        state = "already invited to" if cmd.invited else "not invited to"
        raise Rejected("invalid-state", f"{user} is {state} {incident.id}")
    return e.AccessChanged(
        incident=incident.id, actor=actor.name, at=now, user=user, invited=cmd.invited
    )
