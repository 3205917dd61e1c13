"""Decisions on a war room's entries: notes, actions, workarounds, questions, and who sees each.

Each takes the incident the command names, the command, the actor and the time, and returns the
one event it causes or raises `Rejected` (see `warroom.core.decide`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import (
    Actor,
    IncidentState,
    entry_number,
    evolve,
    find_entry,
)
from warroom.core.inputs import (
    CLOCK_SKEW,
    MAX_TEXT,
    checked_apps,
    checked_audience,
    checked_name,
    checked_text,
    checked_time,
)
from warroom.core.persistent import Entries, NumberedT
from warroom.core.rejections import Rejected


def add_note(incident: IncidentState, cmd: c.AddNote, actor: Actor, now: datetime) -> e.Event:
    text = checked_text(cmd.text, "note", MAX_TEXT)
    occurred = checked_time(cmd.occurred_at, "note's time") if cmd.occurred_at is not None else now
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
        audience=checked_audience(cmd.audience),
    )


def pin_note(incident: IncidentState, cmd: c.PinNote, actor: Actor, now: datetime) -> e.Event:
    note = _entry(incident.notes, cmd.note, "note", "N", incident)
    if note.pinned == cmd.pinned:
        raise Rejected("invalid-state", f"note N{note.id} is already {_pinned(cmd.pinned)}")
    return e.NotePinned(
        incident=incident.id, actor=actor.name, at=now, note=note.id, pinned=cmd.pinned
    )


def _pinned(pinned: bool) -> str:
    return "pinned" if pinned else "unpinned"


def add_action(incident: IncidentState, cmd: c.AddAction, actor: Actor, now: datetime) -> e.Event:
    owner = (
        checked_name(cmd.owner, "owner") if cmd.owner is not None and cmd.owner.strip() else None
    )
    return e.ActionAdded(
        incident=incident.id,
        actor=actor.name,
        at=now,
        action=len(incident.actions) + 1,
        text=checked_text(cmd.text, "action", MAX_TEXT),
        owner=owner,
        state=cmd.state,
        audience=checked_audience(cmd.audience),
    )


def change_action_state(
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


def assign_action(
    incident: IncidentState, cmd: c.AssignAction, actor: Actor, now: datetime
) -> e.Event:
    action = _entry(incident.actions, cmd.action, "action", "A", incident)
    owner = (
        checked_name(cmd.owner, "owner") if cmd.owner is not None and cmd.owner.strip() else None
    )
    if owner == action.owner:
        already = f"owned by {owner}" if owner else "without an owner"
        raise Rejected("invalid-state", f"action A{action.id} is already {already}")
    return e.ActionAssigned(
        incident=incident.id, actor=actor.name, at=now, action=action.id, owner=owner
    )


def add_mitigation(
    incident: IncidentState, cmd: c.AddMitigation, actor: Actor, now: datetime
) -> e.Event:
    return e.MitigationAdded(
        incident=incident.id,
        actor=actor.name,
        at=now,
        mitigation=len(incident.mitigations) + 1,
        text=checked_text(cmd.text, "workaround", MAX_TEXT),
        apps=checked_apps(cmd.apps),
        audience=checked_audience(cmd.audience),
    )


def change_mitigation_state(
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


def _entry(
    entries: Entries[NumberedT], number: int, what: str, prefix: str, incident: IncidentState
) -> NumberedT:
    entry = find_entry(entries, number)
    if entry is None:
        raise Rejected("not-found", f"{incident.id} has no {what} {prefix}{number}")
    return entry


def change_audience(
    incident: IncidentState, cmd: c.ChangeAudience, actor: Actor, now: datetime
) -> e.Event:
    audience = checked_audience(cmd.audience)
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
