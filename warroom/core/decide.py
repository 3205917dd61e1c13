"""`decide`: turn one command into the events it causes, or reject it with a readable reason.

Pure: the actor and the time come in as arguments; the world is not changed (see
`warroom.core.reducer.apply`). Authorization is `warroom.core.policy`'s job and happens before this.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar, assert_never

from warroom.core import commands as c
from warroom.core import entries, questions, updates
from warroom.core import events as e
from warroom.core.domain import Actor, IncidentState, Role, Shelved, ShelvedIncident, World
from warroom.core.inputs import (
    CLOCK_SKEW,
    MAX_TEXT,
    MAX_TITLE,
    checked_apps,
    checked_audience,
    checked_name,
    checked_text,
    checked_time,
    checked_title,
)
from warroom.core.rejections import EtaConflict, ImpactConflict, Rejected, no_such_incident


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
            return _on(world, entries.add_note, command, actor, now)
        case c.PinNote():
            return _on(world, entries.pin_note, command, actor, now)
        case c.AddAction():
            return _on(world, entries.add_action, command, actor, now)
        case c.ChangeActionState():
            return _on(world, entries.change_action_state, command, actor, now)
        case c.AssignAction():
            return _on(world, entries.assign_action, command, actor, now)
        case c.AddMitigation():
            return _on(world, entries.add_mitigation, command, actor, now)
        case c.ChangeMitigationState():
            return _on(world, entries.change_mitigation_state, command, actor, now)
        case c.AskQuestion():
            return _each(world, questions.ask_question, command, actor, now)
        case c.AnswerQuestion():
            return _each(world, questions.answer_question, command, actor, now)
        case c.DismissQuestion():
            return _each(world, questions.dismiss_question, command, actor, now)
        case c.MergeQuestion():
            return _each(world, questions.merge_question, command, actor, now)
        case c.PublishUpdate():
            return _each(world, updates.publish_update, command, actor, now)
        case c.ChangeAudience():
            return _on(world, entries.change_audience, command, actor, now)
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


def _each(
    world: World,
    handler: Callable[[IncidentState, CommandT, Actor, datetime], list[e.Event]],
    command: CommandT,
    actor: Actor,
    now: datetime,
) -> list[e.Event]:
    """The events of `command` (one or several), made by `handler` against its incident."""
    return handler(_incident(world, command.incident), command, actor, now)


_SUFFIX = re.compile(r"^[0-9A-Z]{1,8}$")


def _declare(world: World, cmd: c.DeclareIncident, actor: Actor, now: datetime) -> e.Event:
    title = checked_title(cmd.title, MAX_TITLE)
    if cmd.private != bool(cmd.suffix) or not _SUFFIX.match(cmd.suffix or "P"):
        raise Rejected("invalid", "only a private incident takes an id suffix, and from the hub")
    # A private incident's id is not numbered: a count would tell its invitees how many exist.
    number = f"P{cmd.suffix}" if cmd.private else str(world.declared + 1)
    if world.incident(f"INC-{number}") is not None:
        raise Rejected("conflict", f"there is an incident INC-{number} already")
    return e.IncidentDeclared(
        incident=f"INC-{number}",
        actor=actor.name,
        at=now,
        title=title,
        severity=cmd.severity,
        apps=checked_apps(cmd.apps),
        manager=actor.name if actor.role is Role.INCIDENT_MANAGER else None,
        private=cmd.private,
    )


def _incident(world: World, incident_id: str) -> IncidentState:
    incident = world.incident(incident_id)
    if incident is None:
        raise no_such_incident(incident_id)
    if isinstance(incident, ShelvedIncident):
        raise Shelved(incident.id)  # a header alone: the hub reads it back before deciding
    return incident


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
    statement = checked_text(cmd.statement, "impact statement", MAX_TEXT)
    audience = checked_audience(cmd.audience)
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
                audience=current.audience,
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
    eta = checked_time(cmd.eta, "ETA") if cmd.eta is not None else None
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
    (app,) = checked_apps((cmd.app,), already=len(incident.apps))
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


def _privacy(incident: IncidentState, cmd: c.ChangePrivacy, actor: Actor, now: datetime) -> e.Event:
    if cmd.private == incident.private:
        raise Rejected(
            "invalid-state", f"{incident.id} is already {'private' if cmd.private else 'public'}"
        )
    return e.PrivacyChanged(incident=incident.id, actor=actor.name, at=now, private=cmd.private)


def _access(incident: IncidentState, cmd: c.ChangeAccess, actor: Actor, now: datetime) -> e.Event:
    user = checked_name(cmd.user, "user name")
    if cmd.invited == (user in incident.invited):
        state = "already invited to" if cmd.invited else "not invited to"
        raise Rejected("invalid-state", f"{user} is {state} {incident.id}")
    return e.AccessChanged(
        incident=incident.id, actor=actor.name, at=now, user=user, invited=cmd.invited
    )
