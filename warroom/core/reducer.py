"""`apply` folds one event into the world; `replay` folds a whole log. Server and client share them.

A viewer may hold only part of the log (a stakeholder never receives internal entries), so
`apply` accepts any event it cannot place and leaves the world as it was, rather than raising.

Folding an event costs the same whatever the incident's size: the world's incidents and the
incident's entries are persistent (`warroom.core.persistent`), so a new entry, or one changed in
place, shares every other with the world folded into, which stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from warroom.core import events as e
from warroom.core.domain import (
    Action,
    EtaRevision,
    Impact,
    IncidentState,
    Mitigation,
    Note,
    Question,
    QuestionState,
    Shelved,
    Status,
    Update,
    World,
    evolve,
)


def apply(world: World, event: e.Event) -> World:
    """Return the world after `event`."""
    incident = world.incident(event.incident)
    if incident is None:
        # Only a declaration opens an incident; any other event is about one this view lacks.
        return _declared(world, event) if isinstance(event, e.IncidentDeclared) else world
    if type(incident) is not IncidentState:
        raise Shelved(incident.id)  # a header alone: whoever holds it reads it back first
    # Every event type has its case (mypy refuses a missing one); a fold tests the classes in
    # turn, so the ones a log holds most come first.
    match event:
        case e.NoteAdded():
            changed = _note(incident, event)
        case e.ActionStateChanged():
            changed = _action_state(incident, event)
        case e.ActionAdded():
            changed = _action(incident, event)
        case e.NotePinned():
            changed = _pinned(incident, event)
        case e.ImpactUpdated():
            changed = _impact(incident, event)
        case e.EtaSet():
            changed = _eta(incident, event)
        case e.StatusChanged():
            changed = _status(incident, event)
        case e.SeverityChanged():
            changed = _severity(incident, event)
        case e.AppAdded():
            changed = _app_added(incident, event)
        case e.AppRemoved():
            changed = _app_removed(incident, event)
        case e.ActionAssigned():
            changed = _assigned(incident, event)
        case e.MitigationAdded():
            changed = _mitigation(incident, event)
        case e.MitigationStateChanged():
            changed = _mitigation_state(incident, event)
        case e.QuestionAsked():
            changed = _asked(incident, event)
        case e.QuestionAnswered():
            changed = _answered(incident, event)
        case e.QuestionDismissed():
            changed = _dismissed(incident, event)
        case e.QuestionMerged():
            changed = _merged(incident, event)
        case e.UpdatePublished():
            changed = _published(incident, event)
        case e.AudienceChanged():
            changed = _audience(incident, event)
        case e.PrivacyChanged():
            changed = _privacy(incident, event)
        case e.AccessChanged():
            changed = _access(incident, event)
        case e.IncidentDeclared():
            return _declared(world, event)
        case _:
            assert_never(event)
    if changed is incident:
        return world  # nothing this view holds changed (an entry it cannot see)
    return _put(world, evolve(changed, updated_at=event.at))


def replay(events: Iterable[e.Event], world: World | None = None) -> World:
    """Fold `events` into `world` (an empty world by default)."""
    state = world if world is not None else World()
    for event in events:
        state = apply(state, event)
    return state


def _declared(world: World, event: e.IncidentDeclared) -> World:
    incident = IncidentState(
        id=event.incident,
        title=event.title,
        severity=event.severity,
        status=Status.INVESTIGATING,
        declared_by=event.actor,
        declared_at=event.at,
        manager=event.manager,
        apps=event.apps,
        updated_at=event.at,
        private=event.private,
        invited=(event.actor,) if event.private else (),
    )
    return restore(world, incident)


def restore(world: World, incident: IncidentState) -> World:
    """The world with `incident` in it, as folded elsewhere (a snapshot of it), and counted
    among the declarations as its own declaration would have counted it."""
    number = incident.id.rsplit("-", 1)[1]
    if number.startswith("P"):
        # Private ids are not numbered (`disclosure.Sealer.private_suffix`): count them.
        return _put(evolve(world, declared_private=world.declared_private + 1), incident)
    return _put(evolve(world, declared=max(world.declared, int(number))), incident)


def _put(world: World, incident: IncidentState) -> World:
    return evolve(world, incidents=world.incidents.set(incident.id, incident))


def _status(incident: IncidentState, event: e.StatusChanged) -> IncidentState:
    resolved_at = event.at if event.status is Status.RESOLVED else None
    if event.previous is Status.RESOLVED:
        return evolve(incident, status=event.status, resolved_at=None, reopened_at=event.at)
    return evolve(incident, status=event.status, resolved_at=resolved_at)


def _severity(incident: IncidentState, event: e.SeverityChanged) -> IncidentState:
    return evolve(incident, severity=event.severity)


def _impact(incident: IncidentState, event: e.ImpactUpdated) -> IncidentState:
    impact = Impact(
        statement=event.statement,
        customer_facing=event.customer_facing,
        audience=event.audience,
        version=event.version,
        updated_by=event.actor,
        updated_at=event.at,
    )
    return evolve(incident, impact=impact)


def _eta(incident: IncidentState, event: e.EtaSet) -> IncidentState:
    revision = EtaRevision(
        version=event.version,
        eta=event.eta,
        confidence=event.confidence,
        set_by=event.actor,
        set_at=event.at,
        forced=event.forced,
    )
    return evolve(incident, eta=revision, eta_history=incident.eta_history.appended(revision))


def _app_added(incident: IncidentState, event: e.AppAdded) -> IncidentState:
    return evolve(incident, apps=(*incident.apps, event.app))


def _app_removed(incident: IncidentState, event: e.AppRemoved) -> IncidentState:
    return evolve(incident, apps=tuple(a for a in incident.apps if a != event.app))


def _note(incident: IncidentState, event: e.NoteAdded) -> IncidentState:
    note = Note(
        id=event.note,
        text=event.text,
        author=event.actor,
        occurred_at=event.occurred_at,
        recorded_at=event.at,
        pinned=event.pinned,
        audience=event.audience,
    )
    return evolve(incident, notes=incident.notes.put(note))


def _pinned(incident: IncidentState, event: e.NotePinned) -> IncidentState:
    notes = incident.notes.changed(event.note, lambda n: evolve(n, pinned=event.pinned))
    return incident if notes is None else evolve(incident, notes=notes)


def _action(incident: IncidentState, event: e.ActionAdded) -> IncidentState:
    action = Action(
        id=event.action,
        text=event.text,
        owner=event.owner,
        state=event.state,
        created_by=event.actor,
        created_at=event.at,
        updated_at=event.at,
        audience=event.audience,
    )
    return evolve(incident, actions=incident.actions.put(action))


def _action_state(incident: IncidentState, event: e.ActionStateChanged) -> IncidentState:
    actions = incident.actions.changed(
        event.action, lambda a: evolve(a, state=event.state, updated_at=event.at)
    )
    return incident if actions is None else evolve(incident, actions=actions)


def _assigned(incident: IncidentState, event: e.ActionAssigned) -> IncidentState:
    actions = incident.actions.changed(
        event.action, lambda a: evolve(a, owner=event.owner, updated_at=event.at)
    )
    return incident if actions is None else evolve(incident, actions=actions)


def _mitigation(incident: IncidentState, event: e.MitigationAdded) -> IncidentState:
    mitigation = Mitigation(
        id=event.mitigation,
        text=event.text,
        state=event.state,
        apps=event.apps,
        created_by=event.actor,
        created_at=event.at,
        updated_at=event.at,
        audience=event.audience,
    )
    return evolve(incident, mitigations=incident.mitigations.put(mitigation))


def _mitigation_state(incident: IncidentState, event: e.MitigationStateChanged) -> IncidentState:
    mitigations = incident.mitigations.changed(
        event.mitigation, lambda m: evolve(m, state=event.state, updated_at=event.at)
    )
    return incident if mitigations is None else evolve(incident, mitigations=mitigations)


def _asked(incident: IncidentState, event: e.QuestionAsked) -> IncidentState:
    question = Question(id=event.question, text=event.text, asker=event.actor, asked_at=event.at)
    return evolve(incident, questions=incident.questions.appended(question))


def _answered(incident: IncidentState, event: e.QuestionAnswered) -> IncidentState:
    def answer(q: Question) -> Question:
        return evolve(
            q,
            state=QuestionState.ANSWERED,
            answer=event.text,
            answered_by=event.actor,
            answered_at=event.at,
            answer_audience=event.audience,
        )

    questions = incident.questions.changed(event.question, answer)
    if questions is None:
        # A published answer reaches viewers who never saw the question asked.
        unseen = Question(id=event.question, text=event.question_text, asker="", asked_at=event.at)
        questions = incident.questions.appended(answer(unseen))
    return evolve(incident, questions=questions)


def _dismissed(incident: IncidentState, event: e.QuestionDismissed) -> IncidentState:
    questions = incident.questions.changed(
        event.question,
        lambda q: evolve(
            q,
            state=QuestionState.DISMISSED,
            answered_by=event.actor,
            answered_at=event.at,
            answer=event.reason or None,
        ),
    )
    return incident if questions is None else evolve(incident, questions=questions)


def _merged(incident: IncidentState, event: e.QuestionMerged) -> IncidentState:
    questions = incident.questions.changed(
        event.question, lambda q: evolve(q, state=QuestionState.MERGED, merged_into=event.into)
    )
    return incident if questions is None else evolve(incident, questions=questions)


def _published(incident: IncidentState, event: e.UpdatePublished) -> IncidentState:
    return evolve(incident, updates=incident.updates.put(update_of(event)))


def update_of(event: e.UpdatePublished) -> Update:
    """The update a publication records, as the incident's `updates` hold it."""
    return Update(
        id=event.update,
        kind=event.kind,
        audience=event.audience,
        summary=event.summary,
        impact=event.impact,
        timeline=event.timeline,
        progress=event.progress,
        mitigation=event.mitigation,
        author=event.actor,
        published_at=event.at,
        status=event.status,
        severity=event.severity,
        question=event.question,
    )


def _audience(incident: IncidentState, event: e.AudienceChanged) -> IncidentState:
    # Replace the entry by the one the event carries, or add it for a viewer who could not see
    # it until now.
    if event.impact is not None:
        return evolve(incident, impact=event.impact)
    if event.note is not None:
        return evolve(incident, notes=incident.notes.put_in_order(event.note))
    if event.action is not None:
        return evolve(incident, actions=incident.actions.put_in_order(event.action))
    if event.mitigation is not None:
        return evolve(incident, mitigations=incident.mitigations.put_in_order(event.mitigation))
    return incident


def _privacy(incident: IncidentState, event: e.PrivacyChanged) -> IncidentState:
    return evolve(incident, private=event.private)


def _access(incident: IncidentState, event: e.AccessChanged) -> IncidentState:
    others = tuple(name for name in incident.invited if name != event.user)
    return evolve(
        incident, invited=tuple(sorted((*others, event.user))) if event.invited else others
    )
