"""The whole of one entry as plain text, for the reading view: a heading line and the full text.

Panels cut their rows at the edge and the timeline shortens long texts; here nothing is cut.
Everything leaves through `visible`, so what a terminal would obey shows as a glyph; newlines
and tabs stay. A view without entry numbers (a stakeholder's) names no number and no audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from warroom.core import events as e
from warroom.core.domain import Action, IncidentState, Mitigation, Question, QuestionState
from warroom.core.messages import body
from warroom.core.text import visible
from warroom.core.timeparse import local
from warroom.core.views import describe


@dataclass(frozen=True)
class EntryText:
    """What the reading view shows: a one-line heading and the body, both plain text."""

    heading: str
    body: str


def _heading(*parts: str) -> str:
    return visible("  ·  ".join(part for part in parts if part), multiline=False)


def _to(audience: str | None, numbered: bool) -> str:
    return f"to {audience}" if numbered and audience else ""


def event_body(event: e.Event) -> str:
    """The full text an event carries ("" for one that carries none)."""
    match event:
        case e.NoteAdded() | e.ActionAdded() | e.MitigationAdded() | e.QuestionAsked():
            return event.text
        case e.ImpactUpdated():
            return event.statement
        case e.QuestionAnswered():
            return f"{event.question_text}\n\n→ {event.text}"
        case e.QuestionDismissed():
            return event.reason
        case e.UpdatePublished():
            return body(event)
        case e.AudienceChanged():
            entry = event.note or event.action or event.mitigation
            if entry is not None:
                return entry.text
            return event.impact.statement if event.impact is not None else ""
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
            | e.PrivacyChanged()
            | e.AccessChanged()
            | e.QuestionMerged()
        ):
            return ""
        case _:
            assert_never(event)


def of_event(event: e.Event, numbered: bool = True) -> EntryText:
    """A timeline entry: when, who and what, then the whole text it carries."""
    when = event.occurred_at if isinstance(event, e.NoteAdded) else event.at
    line = describe(event, brief=True, numbered=numbered)
    body = event_body(event)
    if not body:
        return EntryText(_heading(local(when), event.actor), line)
    # The line's text is the body, shortened: the heading keeps only what precedes it.
    kind = line.split(": ", 1)[0]
    return EntryText(_heading(local(when), event.actor, kind), visible(body))


def of_action(action: Action, numbered: bool = True) -> EntryText:
    """An action with its state and owner."""
    return EntryText(
        _heading(
            f"A{action.id}" if numbered else "action",
            action.state.value,
            f"owner {action.owner}" if action.owner else "unowned",
            _to(action.audience, numbered),
        ),
        visible(action.text),
    )


def of_mitigation(mitigation: Mitigation, numbered: bool = True) -> EntryText:
    """A workaround with its state and the applications it helps."""
    return EntryText(
        _heading(
            f"M{mitigation.id}" if numbered else "workaround",
            mitigation.state.value,
            ", ".join(mitigation.apps),
            _to(mitigation.audience, numbered),
        ),
        visible(mitigation.text),
    )


def of_question(question: Question, numbered: bool = True) -> EntryText:
    """A question, who asked it when, and its answer or why it was dismissed."""
    body = visible(question.text)
    if question.state is QuestionState.ANSWERED:
        to = question.answer_audience or "the asker"
        by = f" by {question.answered_by}" if question.answered_by else ""
        body += f"\n\n→ answered{by}{f' (to {to})' if numbered else ''}:\n"
        body += visible(question.answer or "")
    elif question.state is QuestionState.DISMISSED:
        body += "\n\n(dismissed" + (f": {visible(question.answer)})" if question.answer else ")")
    return EntryText(
        _heading(
            f"Q{question.id}" if numbered else "question",
            question.state.value,
            question.asker or "a stakeholder",
            local(question.asked_at),
        ),
        body,
    )


def of_impact(incident: IncidentState, numbered: bool = True) -> EntryText:
    """The impact statement, whole."""
    impact = incident.impact
    return EntryText(
        _heading(
            f"{incident.id} impact" + (f" v{impact.version}" if numbered else ""),
            "customer-facing" if impact.customer_facing else "",
            _to(impact.audience, numbered),
        ),
        visible(impact.statement) if impact.statement else "No impact statement yet.",
    )
