"""Updates to stakeholders: the composer that drafts one from the room for an audience, and the
decision that publishes it.

The composer offers only what every group of the audience may see (`policy.audience_includes`,
the rule every view follows), so a draft never puts an internal entry in front of the incident
manager as something to send. Publishing records the message exactly as sent; the audience's
clients show it in their room, and the hub's outbox delivers it by email and webhook (but for a
private incident, which nobody outside its invitees may hear of).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.cadence import Cadence, last_update, next_due
from warroom.core.domain import (
    EVERYONE,
    INTERNAL,
    ActionState,
    Actor,
    IncidentState,
    MitigationState,
    QuestionState,
    Status,
    UpdateKind,
    audience_groups,
    find_entry,
)
from warroom.core.inputs import MAX_TEXT, checked_audience, checked_text
from warroom.core.policy import audience_includes, preview_actor
from warroom.core.rejections import Rejected

MAX_UPDATE = 64_000
"""The length of a whole update, its parts together."""


@dataclass(frozen=True)
class Draft:
    """An update as the composer proposes it and the incident manager edits it."""

    audience: str
    kind: UpdateKind = UpdateKind.UPDATE
    summary: str = ""
    impact: str = ""
    timeline: str = ""
    progress: str = ""
    mitigation: str = ""
    question: int | None = None

    def command(self, incident: str) -> c.PublishUpdate:
        """The command that publishes this draft as it stands."""
        return c.PublishUpdate(
            incident=incident,
            audience=self.audience,
            kind=self.kind,
            summary=self.summary,
            impact=self.impact,
            timeline=self.timeline,
            progress=self.progress,
            mitigation=self.mitigation,
            question=self.question,
        )


def publish_update(
    incident: IncidentState, cmd: c.PublishUpdate, actor: Actor, now: datetime
) -> list[e.Event]:
    audience = checked_audience(cmd.audience)
    if audience == INTERNAL:
        raise Rejected(
            "invalid", "an update goes to stakeholders: 'all' or stakeholder groups, not internal"
        )
    parts = {
        name: checked_text(getattr(cmd, name), f"update's {name}", MAX_TEXT, allow_empty=True)
        for name in ("summary", "impact", "timeline", "progress", "mitigation")
    }
    total = sum(len(text) for text in parts.values())
    if total == 0:
        raise Rejected("invalid", "the update is empty: write a summary or one of its parts")
    if total > MAX_UPDATE:
        raise Rejected(
            "invalid", f"the update is {total} characters long; the limit is {MAX_UPDATE}"
        )
    if cmd.question is not None:
        question = find_entry(incident.questions, cmd.question)
        if question is None:
            raise Rejected("not-found", f"{incident.id} has no question Q{cmd.question}")
        if question.state is not QuestionState.ANSWERED:
            raise Rejected("invalid-state", f"question Q{question.id} has no answer to promote yet")
    return [
        e.UpdatePublished(
            incident=incident.id,
            actor=actor.name,
            at=now,
            update=len(incident.updates) + 1,
            kind=cmd.kind,
            audience=audience,
            status=incident.status,
            severity=incident.severity,
            question=cmd.question,
            summary=parts["summary"],
            impact=parts["impact"],
            timeline=parts["timeline"],
            progress=parts["progress"],
            mitigation=parts["mitigation"],
        )
    ]


# The composer --------------------------------------------------------------------------------


def sees(audience: str, entry_audience: str) -> bool:
    """True if every stakeholder of `audience` may see an entry addressed to `entry_audience`."""
    groups = audience_groups(audience) or {EVERYONE}
    return all(audience_includes(entry_audience, preview_actor(group)) for group in groups)


def clock(when: datetime, now: datetime) -> str:
    """A time as an update states it: `14:30 UTC`, with the date when it is not today's."""
    if when.date() == now.date():
        return when.strftime("%H:%M UTC")
    return when.strftime("%Y-%m-%d %H:%M UTC")


def compose(
    incident: IncidentState,
    audience: str,
    now: datetime,
    cadence: Cadence,
    kind: UpdateKind = UpdateKind.UPDATE,
) -> Draft:
    """A draft update (or alert) for `audience`, from what it may see of `incident` at `now`.

    Raises:
        ValueError: for an audience that is not `all` or stakeholder groups.
    """
    audience = checked_audience(audience)
    if audience == INTERNAL:
        raise ValueError("an update goes to stakeholders: 'all' or stakeholder groups")
    # Publishing now resets the clock: the next update is due one interval from now.
    gap = cadence.interval(incident.severity)
    following = None if gap is None else now + gap
    return Draft(
        audience=audience,
        kind=kind,
        summary=_summary(incident, kind, following, now),
        impact=_impact(incident, audience),
        timeline=_timeline(incident, audience, now, following),
        progress=_progress(incident, audience),
        mitigation=_mitigation(incident, audience, now),
    )


def promoted(incident: IncidentState, question: int, audience: str) -> Draft:
    """A draft that publishes the answer to `question` to `audience`.

    Raises:
        ValueError: if the question does not exist or has no answer yet.
    """
    found = find_entry(incident.questions, question)
    if found is None or found.state is not QuestionState.ANSWERED or found.answer is None:
        raise ValueError(f"Q{question} has no answer to promote")
    summary = f"Asked: {found.text}\n\nAnswer: {found.answer}"
    return Draft(audience=checked_audience(audience), summary=summary, question=question)


def due_line(incident: IncidentState, audience: str, cadence: Cadence, now: datetime) -> str:
    """ "Next update by 15:00 UTC" for `audience`, or "" when none is due."""
    due = next_due(incident, cadence, audience)
    return "" if due is None else f"Next update by {clock(due, now)}."


def _summary(
    incident: IncidentState, kind: UpdateKind, following: datetime | None, now: datetime
) -> str:
    apps = ", ".join(incident.apps)
    then = "" if following is None else f" Next update by {clock(following, now)}."
    if kind is UpdateKind.ALERT:
        hit = f" affecting {apps}" if apps else ""
        return (
            f"We are responding to a {incident.severity.value} incident{hit}: "
            f"{incident.title}. The incident team is {incident.status.value}.{then}"
        )
    return f"{incident.title}: {incident.status.value}.{then}"


def _impact(incident: IncidentState, audience: str) -> str:
    lines: list[str] = []
    impact = incident.impact
    if impact.statement and sees(audience, impact.audience):
        lines.append(impact.statement)
        if impact.customer_facing:
            lines.append("Customers are affected.")
    if incident.apps:
        lines.append(f"Affected applications: {', '.join(incident.apps)}.")
    return "\n".join(lines)


def _timeline(
    incident: IncidentState, audience: str, now: datetime, following: datetime | None
) -> str:
    lines = [f"Status: {incident.status.value} ({incident.severity.value})."]
    eta = incident.eta
    if eta is not None and eta.eta is not None:
        lines.append(f"Expected resolution: {clock(eta.eta, now)} ({eta.confidence} confidence).")
    elif incident.status is not Status.RESOLVED:
        lines.append("Expected resolution: not yet known.")
    previous = last_update(incident, audience)
    if previous is not None:
        changes = list(_changes(incident, audience, previous.published_at, now))
        if previous.status is not incident.status:
            changes.insert(0, f"status {previous.status.value} → {incident.status.value}")
        if previous.severity is not incident.severity:
            changes.insert(0, f"severity {previous.severity.value} → {incident.severity.value}")
        since = f"Since the last update ({clock(previous.published_at, now)})"
        if changes:
            lines.append(f"{since}:")
            lines += [f"- {change}" for change in changes]
        else:
            lines.append(f"{since}: no change.")
    if following is not None:
        lines.append(f"Next update by {clock(following, now)}.")
    return "\n".join(lines)


def _changes(
    incident: IncidentState, audience: str, since: datetime, now: datetime
) -> Iterable[str]:
    for revision in incident.eta_history:
        if revision.set_at > since:
            if revision.eta is None:
                yield "the expected resolution time was withdrawn"
            else:
                yield f"expected resolution revised to {clock(revision.eta, now)}"
    for note in incident.notes:
        if note.pinned and note.recorded_at > since and sees(audience, note.audience):
            yield f"{clock(note.occurred_at, now)} {note.text}"


_PROGRESS = (
    (ActionState.DONE, "Done"),
    (ActionState.IN_PROGRESS, "In progress"),
    (ActionState.NEXT, "Next steps"),
)


def _progress(incident: IncidentState, audience: str) -> str:
    lines: list[str] = []
    for state, title in _PROGRESS:
        shown = [a for a in incident.actions if a.state is state and sees(audience, a.audience)]
        if shown:
            lines.append(f"{title}:")
            lines += [f"- {a.text}" + (f" ({a.owner})" if a.owner else "") for a in shown]
    return "\n".join(lines)


def _mitigation(incident: IncidentState, audience: str, now: datetime) -> str:
    lines: list[str] = []
    previous = last_update(incident, audience)
    since = previous.published_at if previous is not None else None
    order = (MitigationState.VERIFIED, MitigationState.PROPOSED, MitigationState.WITHDRAWN)
    for state in order:
        for fix in incident.mitigations:
            if fix.state is not state or not sees(audience, fix.audience):
                continue
            if state is MitigationState.WITHDRAWN and (since is None or fix.updated_at <= since):
                continue  # withdrawn before the audience heard of it: nothing to take back
            helps = f"; for {', '.join(fix.apps)}" if fix.apps else ""
            label = {
                MitigationState.VERIFIED: "works",
                MitigationState.PROPOSED: "being tried",
                MitigationState.WITHDRAWN: f"no longer advised since {clock(fix.updated_at, now)}",
            }[state]
            lines.append(f"- {fix.text} ({label}{helps})")
    return "\n".join(lines)
