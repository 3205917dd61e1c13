"""Plain-text views of incidents and events, for the CLI: one sentence per event, one page per
incident. Pure: `now` comes in as a parameter.

Every line leaves through `visible`: whatever text the log holds (older versions accepted control
characters), a terminal shows it and acts on none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, assert_never

from warroom.core import events as e
from warroom.core.domain import ActionState, IncidentState, QuestionState
from warroom.core.events import Event
from warroom.core.messages import parts
from warroom.core.summary import IncidentSummary
from warroom.core.text import visible
from warroom.core.timeparse import local, relative


class Logged(Protocol):
    """An event as delivered: from the store (`Envelope`) or over the wire (`EventFrame`)."""

    @property
    def event(self) -> Event: ...


def _short(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


_ENTRY_KINDS = {"N": "a note", "A": "an action", "M": "a workaround"}


def _audience(audience: str | None) -> str:
    return "" if audience in (None, "internal") else f" [to {audience}]"


def describe(event: e.Event, brief: bool = False, numbered: bool = True) -> str:
    """One line saying what an event did, for timelines and `warroom tail`, control characters
    shown as text (see `warroom.core.text.visible`).

    Args:
        event: the event.
        brief: leave out what a timeline shows beside the line (a note's time and pin).
        numbered: name entries by number (N3) and versions (v2); a stakeholder's view, whose
            numbers are disguised and mean nothing to anyone else, leaves them out.
    """

    return visible(_describe(event, brief, numbered), multiline=False)


def _describe(event: e.Event, brief: bool, numbered: bool) -> str:
    def n(prefix: str, number: int) -> str:
        return f" {prefix}{number}" if numbered else ""

    def v(version: int, before: str = " ") -> str:
        return f"{before}v{version}" if numbered else ""

    def aimed(audience: str | None) -> str:
        # A stakeholder's view names no audience: it is the war room's word, not theirs.
        return _audience(audience) if numbered else ""

    match event:
        case e.IncidentDeclared():
            apps = f" affecting {', '.join(event.apps)}" if event.apps else ""
            private = " (private)" if event.private else ""
            return f"declared {event.severity.value} {event.title!r}{apps}{private}"
        case e.StatusChanged():
            verb = "reopened as" if event.previous.value == "resolved" else "status"
            return f"{verb} {event.status.value} (was {event.previous.value})"
        case e.SeverityChanged():
            return f"severity {event.severity.value} (was {event.previous.value})"
        case e.ImpactUpdated():
            facing = ", customer-facing" if event.customer_facing else ""
            forced = " (forced over a newer version)" if event.forced else ""
            return (
                f"impact{v(event.version)}{facing}{aimed(event.audience)}{forced}: "
                f"{_short(event.statement)}"
            )
        case e.EtaSet():
            forced = " (forced over a newer version)" if event.forced else ""
            if event.eta is None:
                return f"ETA withdrawn{v(event.version)}{forced}"
            sure = event.confidence.value
            return f"ETA {local(event.eta)} ({sure} confidence{v(event.version, ', ')}){forced}"
        case e.AppAdded():
            return f"application {event.app} affected"
        case e.AppRemoved():
            return f"application {event.app} no longer affected"
        case e.NoteAdded():
            pin = " [pinned]" if event.pinned and not brief else ""
            backdated = event.occurred_at != event.at and not brief
            when = f" (at {local(event.occurred_at)})" if backdated else ""
            to = aimed(event.audience)
            return f"note{n('N', event.note)}{pin}{to}{when}: {_short(event.text)}"
        case e.NotePinned():
            return f"note{n('N', event.note)} {'pinned' if event.pinned else 'unpinned'}"
        case e.ActionAdded():
            owner = f" (owner {event.owner})" if event.owner else ""
            to = aimed(event.audience)
            state = event.state.value
            return f"action{n('A', event.action)} [{state}]{owner}{to}: {_short(event.text)}"
        case e.ActionStateChanged():
            return f"action{n('A', event.action)} {event.state.value} (was {event.previous.value})"
        case e.ActionAssigned():
            return f"action{n('A', event.action)} owner {event.owner or 'nobody'}"
        case e.MitigationAdded():
            apps = f" for {', '.join(event.apps)}" if event.apps else ""
            to = aimed(event.audience)
            return f"workaround{n('M', event.mitigation)}{apps}{to}: {_short(event.text)}"
        case e.MitigationStateChanged():
            was = event.previous.value
            return f"workaround{n('M', event.mitigation)} {event.state.value} (was {was})"
        case e.QuestionAsked():
            return f"question{n('Q', event.question)}: {_short(event.text)}"
        case e.QuestionAnswered():
            to = aimed(event.audience)
            return f"question{n('Q', event.question)} answered{to}: {_short(event.text)}"
        case e.AudienceChanged():
            entry = event.entry if numbered else _ENTRY_KINDS.get(event.entry[:1], "the impact")
            if event.audience == "internal":
                return f"{entry} no longer shown to {event.previous}"
            return f"{entry} now shown to {event.audience} (was {event.previous})"
        case e.PrivacyChanged():
            return "made private" if event.private else "made public"
        case e.AccessChanged():
            return f"{event.user} {'invited' if event.invited else 'no longer invited'}"
        case e.QuestionDismissed():
            reason = f": {_short(event.reason)}" if event.reason else ""
            return f"question{n('Q', event.question)} dismissed{reason}"
        case e.QuestionMerged():
            into = f" Q{event.into}" if numbered else " an earlier question"
            return f"question{n('Q', event.question)} merged into{into}: answered with it"
        case e.UpdatePublished():
            what = event.kind.value
            to = f" to {event.audience}" if numbered else ""
            text = event.summary or event.impact or event.timeline
            return f"{what}{n('U', event.update)}{to}: {_short(text)}"
        case _:
            assert_never(event)


def event_line(envelope: Logged) -> str:
    """A `warroom tail` line: local time, incident, actor, what happened."""
    event = envelope.event
    line = f"{local(event.at)}  {event.incident:<8} {event.actor:<12} {describe(event)}"
    return visible(line, multiline=False)


def incident_row(incident: IncidentSummary, now: datetime) -> str:
    """One line of `warroom list`."""
    apps = ", ".join(incident.apps) or "-"
    questions = incident.open_questions
    asked = f"  {questions} open question{'s' if questions != 1 else ''}" if questions else ""
    return visible(
        f"{incident.id:<8} {incident.severity.value}  {incident.status.value:<13} "
        f"{relative(incident.declared_at, now):>10}  {incident.title}  [{apps}]{asked}"
        f"{'  private' if incident.private else ''}",
        multiline=False,
    )


def incident_page(incident: IncidentState, log: Sequence[Logged], now: datetime) -> Iterable[str]:
    """The lines of `warroom show`: header, the four panels and the questions."""
    for line in _page(incident, log, now):
        yield visible(line)


def _page(incident: IncidentState, log: Sequence[Logged], now: datetime) -> Iterable[str]:
    yield f"{incident.id}  {incident.severity.value}  {incident.status.value}  {incident.title}"
    yield (
        f"declared {local(incident.declared_at)} ({relative(incident.declared_at, now)}) by "
        f"{incident.declared_by}; manager {incident.manager or 'none'}"
    )
    if incident.resolved_at is not None:
        yield f"resolved {local(incident.resolved_at)} ({relative(incident.resolved_at, now)})"
    yield f"applications: {', '.join(incident.apps) or 'none'}"
    if incident.private:
        yield f"private: seen by incident managers and {', '.join(incident.invited) or 'nobody'}"
    eta = incident.eta
    if eta is not None and eta.eta is not None:
        yield (
            f"ETA {local(eta.eta)} ({relative(eta.eta, now)}, {eta.confidence.value} confidence, "
            f"v{eta.version} by {eta.set_by})"
        )
    else:
        yield f"ETA unknown (v{incident.eta_version})"
    impact = incident.impact
    yield ""
    facing = "customer-facing" if impact.customer_facing else "internal only"
    yield f"Impact (v{impact.version}, {facing}{_audience(impact.audience)})"
    yield f"  {impact.statement}" if impact.statement else "  (no statement yet)"
    yield ""
    yield "Timeline"
    entries: list[tuple[datetime, str]] = []
    for envelope in log:
        event = envelope.event
        # Notes come from the state below: some arrive with an audience change, not note.added.
        if event.incident != incident.id or isinstance(event, e.NoteAdded):
            continue
        entries.append((event.at, f"  {local(event.at)}  {event.actor:<12} {describe(event)}"))
    for note in incident.notes:
        # A backdated note takes its place at the time it happened, not when it was written.
        mark = "*" if note.pinned else " "
        to = _audience(note.audience)
        line = (
            f" {mark}{local(note.occurred_at)}  {note.author:<12} note N{note.id}{to}: {note.text}"
        )
        entries.append((note.occurred_at, line))
    entries.sort(key=lambda entry: entry[0])
    yield from (line for _, line in entries)
    yield ""
    yield "Progress"
    if not incident.actions:
        yield "  (no actions yet)"
    for action in incident.actions:
        owner = f" (owner {action.owner})" if action.owner else ""
        strike = "~" if action.state in (ActionState.DONE, ActionState.DROPPED) else " "
        to = _audience(action.audience)
        yield f" {strike}A{action.id} [{action.state.value}]{owner}{to}: {action.text}"
    yield ""
    yield "Mitigation"
    if not incident.mitigations:
        yield "  (no workarounds yet)"
    for mitigation in incident.mitigations:
        apps = f" for {', '.join(mitigation.apps)}" if mitigation.apps else ""
        to = _audience(mitigation.audience)
        yield f"  M{mitigation.id} [{mitigation.state.value}]{apps}{to}: {mitigation.text}"
    yield ""
    yield "Questions"
    if not incident.questions:
        yield "  (no questions)"
    ordered = sorted(incident.questions, key=lambda q: (q.state is not QuestionState.OPEN, q.id))
    for question in ordered:
        asker = question.asker or "a stakeholder"
        age = relative(question.asked_at, now)
        state = question.state.value
        if question.merged_into is not None:
            state = f"{state}, merged into Q{question.merged_into}"
        yield f"  Q{question.id} [{state}] {asker}, {age}: {question.text}"
        if question.answer:
            by = question.answered_by or ""
            yield f"      {by}{_audience(question.answer_audience)}: {question.answer}"
    yield ""
    yield "Updates"
    if not incident.updates:
        yield "  (no updates published)"
    for update in reversed(incident.updates):
        when = f"{local(update.published_at)} ({relative(update.published_at, now)})"
        yield f"  U{update.id} {update.kind.value} to {update.audience}, {when}, by {update.author}"
        for title, text in parts(update):
            yield f"    {title}:"
            yield from (f"      {line}" for line in text.split("\n"))
