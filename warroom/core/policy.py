"""Who may do what, and who may see what: one rule table and one visibility function.

The server enforces both; the client asks the same questions only to grey out what a user cannot
use. Nothing else in the code base decides permissions.
"""

from __future__ import annotations

from typing import assert_never

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import (
    EVERYONE,
    INTERNAL,
    Actor,
    Impact,
    IncidentState,
    Question,
    Role,
    World,
    audience_groups,
    evolve,
    find_entry,
)
from warroom.core.rejections import Rejected, no_such_incident

_IM = Role.INCIDENT_MANAGER
_RESPONDER = Role.RESPONDER
_STAKEHOLDER = Role.STAKEHOLDER
_ROOM = frozenset({_IM, _RESPONDER})

RULES: dict[type[c.Command], frozenset[Role]] = {
    c.DeclareIncident: _ROOM,
    c.ChangeStatus: _ROOM,
    c.ChangeSeverity: _ROOM,
    c.SetImpact: _ROOM,
    c.SetEta: _ROOM,
    c.AddApp: _ROOM,
    c.RemoveApp: _ROOM,
    c.AddNote: _ROOM,
    c.PinNote: _ROOM,
    c.AddAction: _ROOM,
    c.ChangeActionState: _ROOM,
    c.AssignAction: _ROOM,
    c.AddMitigation: _ROOM,
    c.ChangeMitigationState: _ROOM,
    c.AskQuestion: frozenset({_IM, _STAKEHOLDER}),
    c.AnswerQuestion: frozenset({_IM}),
    c.DismissQuestion: frozenset({_IM}),
    c.ChangeAudience: frozenset({_IM}),
    c.ChangePrivacy: frozenset({_IM}),
    c.ChangeAccess: frozenset({_IM}),
}
"""For each command, the roles that may issue it. Observers appear nowhere: they only read."""

_WHAT: dict[type[c.Command], str] = {
    c.DeclareIncident: "declare incidents",
    c.ChangeStatus: "change an incident's status",
    c.ChangeSeverity: "change an incident's severity",
    c.SetImpact: "edit the impact statement",
    c.SetEta: "set the ETA",
    c.AddApp: "add affected applications",
    c.RemoveApp: "remove affected applications",
    c.AddNote: "add notes",
    c.PinNote: "pin notes",
    c.AddAction: "add actions",
    c.ChangeActionState: "change actions",
    c.AssignAction: "assign actions",
    c.AddMitigation: "add workarounds",
    c.ChangeMitigationState: "change workarounds",
    c.AskQuestion: "ask questions",
    c.AnswerQuestion: "answer questions",
    c.DismissQuestion: "dismiss questions",
    c.ChangeAudience: "change who sees an entry",
    c.ChangePrivacy: "make incidents private or public",
    c.ChangeAccess: "invite people to private incidents",
}


def may(role: Role, command_type: type) -> bool:
    """True if `role` may issue commands of `command_type` at all."""
    return role in RULES.get(command_type, frozenset())


def authorize(actor: Actor, command: c.Command, world: World) -> None:
    """Raise `Rejected` unless `actor` may issue `command` now: `forbidden` for the role, and for
    a private incident the actor is not invited to, the very refusal a missing incident gets."""
    if not may(actor.role, type(command)):
        raise Rejected(
            "forbidden", f"a user with role {actor.role.value} may not {_WHAT[type(command)]}"
        )
    if isinstance(command, c.DeclareIncident):
        return
    incident = world.incident(command.incident)
    if incident is not None and not admitted(actor, incident):
        raise no_such_incident(command.incident)


def admitted(actor: Actor, incident: IncidentState) -> bool:
    """True if `actor` may know of `incident` at all: every incident is open to incident
    managers; a private one to the users invited to it, and to nobody else."""
    return not incident.private or actor.role is _IM or actor.name in incident.invited


def audience_includes(audience: str | None, actor: Actor) -> bool:
    """True if an entry addressed to `audience` may be shown to `actor`."""
    if actor.internal:
        return True
    if audience is None or audience == INTERNAL:
        return False
    if audience == EVERYONE:
        return True
    return not actor.groups.isdisjoint(audience_groups(audience))


def visible_part(incident: IncidentState, actor: Actor) -> IncidentState:
    """`incident` as `actor` may see it now: entries moved away from their audience are gone, and
    of the questions only the actor's own and the answers published to them are left."""
    if actor.internal:
        return incident
    impact = incident.impact
    return evolve(
        incident,
        impact=impact if audience_includes(impact.audience, actor) else Impact(),
        notes=tuple(n for n in incident.notes if audience_includes(n.audience, actor)),
        actions=tuple(a for a in incident.actions if audience_includes(a.audience, actor)),
        mitigations=tuple(m for m in incident.mitigations if audience_includes(m.audience, actor)),
        questions=tuple(q for q in incident.questions if _question_reaches(q, actor)),
    )


def _question_reaches(question: Question, actor: Actor) -> bool:
    """A stakeholder knows of their own questions, and of answers published to them."""
    published = question.answer_audience
    return question.asker == actor.name or (
        published is not None and audience_includes(published, actor)
    )


def preview_actor(audience: str) -> Actor:
    """A stakeholder who sees exactly what `audience` (`all` or one group) is shown."""
    groups = frozenset() if audience == EVERYONE else audience_groups(audience)
    return Actor(name=f"<preview {audience}>", role=Role.STAKEHOLDER, groups=groups)


def visible_to(actor: Actor, event: e.Event, world: World) -> bool:
    """True if `actor` may receive `event`; `world` is the state the event has been folded into."""
    incident = world.incident(event.incident)
    if incident is None:
        return False
    if not admitted(actor, incident):
        return False
    if actor.internal:
        return True
    return _stakeholder_sees(actor, event, incident)


def _stakeholder_sees(actor: Actor, event: e.Event, incident: IncidentState) -> bool:
    match event:
        case (
            e.IncidentDeclared()
            | e.PrivacyChanged()
            | e.StatusChanged()
            | e.SeverityChanged()
            | e.EtaSet()
            | e.AppAdded()
            | e.AppRemoved()
        ):
            return True
        case e.ImpactUpdated() | e.NoteAdded() | e.ActionAdded() | e.MitigationAdded():
            return audience_includes(event.audience, actor)
        case e.NotePinned():
            note = find_entry(incident.notes, event.note)
            return note is not None and audience_includes(note.audience, actor)
        case e.ActionStateChanged() | e.ActionAssigned():
            action = find_entry(incident.actions, event.action)
            return action is not None and audience_includes(action.audience, actor)
        case e.MitigationStateChanged():
            mitigation = find_entry(incident.mitigations, event.mitigation)
            return mitigation is not None and audience_includes(mitigation.audience, actor)
        case e.QuestionAsked():
            return event.actor == actor.name
        case e.AccessChanged():
            return event.user == actor.name
        case e.QuestionAnswered():
            question = find_entry(incident.questions, event.question)
            asked = question is not None and question.asker == actor.name
            return asked or (
                event.audience is not None and audience_includes(event.audience, actor)
            )
        case e.AudienceChanged():
            # Both sides hear of it: the newly entitled to add the entry, the others to drop it.
            return audience_includes(event.previous, actor) or audience_includes(
                event.audience, actor
            )
        case e.QuestionDismissed():
            question = find_entry(incident.questions, event.question)
            return question is not None and question.asker == actor.name
        case _:
            assert_never(event)
