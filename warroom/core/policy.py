"""Who may do what, and who may see what: one rule table and one visibility function.

The server enforces both; the client asks the same questions only to grey out what a user cannot
use. Nothing else in the code base decides permissions.
"""

from __future__ import annotations

from typing import Any, assert_never

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
    Shelved,
    ShelvedIncident,
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
    c.MergeQuestion: frozenset({_IM}),
    c.PublishUpdate: frozenset({_IM}),
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
    c.MergeQuestion: "merge questions",
    c.PublishUpdate: "publish updates to stakeholders",
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
        notes=incident.notes.kept(lambda n: audience_includes(n.audience, actor)),
        actions=incident.actions.kept(lambda a: audience_includes(a.audience, actor)),
        mitigations=incident.mitigations.kept(lambda m: audience_includes(m.audience, actor)),
        questions=incident.questions.kept(lambda q: question_reaches(q, actor)),
        updates=incident.updates.kept(lambda u: audience_includes(u.audience, actor)),
    )


def question_reaches(question: Question, actor: Actor) -> bool:
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
    """True if `actor` receives anything of `event`; `world` is the state it was folded into."""
    return disclosed(actor, event, world) is not None


def disclosed(actor: Actor, event: e.Event, world: World) -> e.Event | None:
    """`event` as `actor` may receive it, or None if they receive nothing of it; `world` is the
    state the event has been folded into.

    The war room gets every event as it is. A stakeholder sees entries appear, never their
    history: an entry an audience change shows them arrives as if it had just been added, one
    it hides is withdrawn from them, and an audience names none of the groups but theirs.
    Privacy and invitations are the war room's business and never reach them.
    """
    incident = world.incident(event.incident)
    if incident is None or not admitted(actor, incident):
        return None
    if actor.internal:
        return event
    if isinstance(incident, ShelvedIncident):
        raise Shelved(incident.id)  # what a stakeholder sees of an event depends on the entries
    return _for_stakeholder(actor, event, incident)


def shown_audience(audience: str, actor: Actor) -> str:
    """`audience` as stakeholder `actor` may read it: `all`, their own groups among it, or
    `internal` when it leaves them out; never another group's name."""
    if actor.internal or audience in (INTERNAL, EVERYONE):
        return audience
    groups = audience_groups(audience)
    if groups <= actor.groups:
        return audience
    return ",".join(sorted(groups & actor.groups)) or INTERNAL


def _for_stakeholder(actor: Actor, event: e.Event, incident: IncidentState) -> e.Event | None:
    if not _stakeholder_sees(actor, event, incident):
        return None
    match event:
        case (
            e.ImpactUpdated()
            | e.NoteAdded()
            | e.ActionAdded()
            | e.MitigationAdded()
            | e.UpdatePublished()
        ):
            return _addressed(event, actor)
        case e.QuestionAnswered():
            if event.audience is None:
                return event
            return evolve(event, audience=shown_audience(event.audience, actor))
        case e.AudienceChanged():
            return _moved(event, actor)
        case e.PrivacyChanged() | e.AccessChanged():
            return None
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
            | e.QuestionDismissed()
            | e.QuestionMerged()
        ):
            return event
        case _:
            assert_never(event)


def _addressed(
    event: e.ImpactUpdated | e.NoteAdded | e.ActionAdded | e.MitigationAdded | e.UpdatePublished,
    actor: Actor,
) -> e.Event:
    audience = shown_audience(event.audience, actor)
    return event if audience == event.audience else evolve(event, audience=audience)


def _moved(event: e.AudienceChanged, actor: Actor) -> e.Event | None:
    """An audience change as a stakeholder sees it: the entry appears, or is withdrawn, or (seen
    before and after) is shown to another of the audiences they may name."""
    before = shown_audience(event.previous, actor)
    after = shown_audience(event.audience, actor)
    if before == INTERNAL:
        return _appeared(event, after)
    if before == after:
        return None  # other groups came or went: nothing changed for this stakeholder
    entries: dict[str, Any] = {}
    if event.impact is not None:
        entries["impact"] = evolve(event.impact, audience=after)
    for kind in ("note", "action", "mitigation"):
        entry = getattr(event, kind)
        if entry is not None:
            entries[kind] = evolve(entry, audience=after)
    return evolve(event, audience=after, previous=before, **entries)


def _appeared(event: e.AudienceChanged, audience: str) -> e.Event | None:
    """The entry an audience change shows a stakeholder, as if it had just been added."""
    at, incident = event.at, event.incident
    if event.note is not None:
        note = event.note
        return e.NoteAdded(
            incident=incident, actor=note.author, at=at, note=note.id, text=note.text,
            occurred_at=note.occurred_at, pinned=note.pinned, audience=audience,
        )  # fmt: skip
    if event.action is not None:
        action = event.action
        return e.ActionAdded(
            incident=incident, actor=action.created_by, at=at, action=action.id,
            text=action.text, owner=action.owner, state=action.state, audience=audience,
        )  # fmt: skip
    if event.mitigation is not None:
        fix = event.mitigation
        return e.MitigationAdded(
            incident=incident, actor=fix.created_by, at=at, mitigation=fix.id, text=fix.text,
            apps=fix.apps, state=fix.state, audience=audience,
        )  # fmt: skip
    if event.impact is not None:
        impact = event.impact
        return e.ImpactUpdated(
            incident=incident, actor=impact.updated_by or event.actor, at=at,
            statement=impact.statement, customer_facing=impact.customer_facing,
            version=impact.version, audience=audience,
        )  # fmt: skip
    return None


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
        case (
            e.ImpactUpdated()
            | e.NoteAdded()
            | e.ActionAdded()
            | e.MitigationAdded()
            | e.UpdatePublished()
        ):
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
        case e.QuestionDismissed() | e.QuestionMerged():
            question = find_entry(incident.questions, event.question)
            return question is not None and question.asker == actor.name
        case _:
            assert_never(event)
