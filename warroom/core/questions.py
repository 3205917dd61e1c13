"""Decisions on the stakeholder question queue: ask, answer, dismiss, and merge duplicates.

A question merged into another is answered (or dismissed) with it: the decision names every
question it closes, one event each, so that each asker receives the answer to their own
question and nobody learns what another stakeholder asked.
"""

from __future__ import annotations

from datetime import datetime

from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import Actor, IncidentState, Question, QuestionState, Status, find_entry
from warroom.core.inputs import MAX_TEXT, checked_audience, checked_text
from warroom.core.rejections import Rejected


def ask_question(
    incident: IncidentState, cmd: c.AskQuestion, actor: Actor, now: datetime
) -> list[e.Event]:
    if incident.status is Status.RESOLVED:
        raise Rejected("invalid-state", f"{incident.id} is resolved; it takes no more questions")
    return [
        e.QuestionAsked(
            incident=incident.id,
            actor=actor.name,
            at=now,
            question=len(incident.questions) + 1,
            text=checked_text(cmd.text, "question", MAX_TEXT),
        )
    ]


def answer_question(
    incident: IncidentState, cmd: c.AnswerQuestion, actor: Actor, now: datetime
) -> list[e.Event]:
    question = _open(incident, cmd.question)
    text = checked_text(cmd.text, "answer", MAX_TEXT)
    audience = checked_audience(cmd.audience) if cmd.audience is not None else None
    answered: list[e.Event] = [
        _answer(incident, question, text, actor, now, audience),
    ]
    # Each duplicate's asker gets the answer privately: once published, it reaches the
    # audience once, under the question that was answered.
    answered += [_answer(incident, q, text, actor, now, None) for q in merged(incident, question)]
    return answered


def dismiss_question(
    incident: IncidentState, cmd: c.DismissQuestion, actor: Actor, now: datetime
) -> list[e.Event]:
    question = _open(incident, cmd.question)
    reason = checked_text(cmd.reason, "reason", MAX_TEXT, allow_empty=True)
    return [
        e.QuestionDismissed(
            incident=incident.id, actor=actor.name, at=now, question=q.id, reason=reason
        )
        for q in (question, *merged(incident, question))
    ]


def merge_question(
    incident: IncidentState, cmd: c.MergeQuestion, actor: Actor, now: datetime
) -> list[e.Event]:
    """Mark `cmd.question` a duplicate of `cmd.into`; into an answered question, its asker gets
    that answer at once."""
    question = _open(incident, cmd.question)
    target = _found(incident, cmd.into)
    if target.id == question.id:
        raise Rejected("invalid", f"Q{question.id} cannot be merged into itself")
    if target.state is QuestionState.MERGED:
        raise Rejected(
            "invalid-state",
            f"Q{target.id} is merged into Q{target.merged_into}: merge into that one",
        )
    if target.state is QuestionState.DISMISSED:
        raise Rejected("invalid-state", f"Q{target.id} was dismissed: it has no answer to share")
    # The duplicates of a duplicate follow it to the question that will be answered.
    moving = (question, *merged(incident, question))
    events: list[e.Event] = [
        e.QuestionMerged(
            incident=incident.id, actor=actor.name, at=now, question=q.id, into=target.id
        )
        for q in moving
    ]
    if target.state is QuestionState.ANSWERED and target.answer is not None:
        events += [_answer(incident, q, target.answer, actor, now, None) for q in moving]
    return events


def merged(incident: IncidentState, question: Question) -> tuple[Question, ...]:
    """The questions merged into `question`, still waiting for its answer."""
    return tuple(
        q
        for q in incident.questions
        if q.merged_into == question.id and q.state is QuestionState.MERGED
    )


def _answer(
    incident: IncidentState,
    question: Question,
    text: str,
    actor: Actor,
    now: datetime,
    audience: str | None,
) -> e.QuestionAnswered:
    return e.QuestionAnswered(
        incident=incident.id,
        actor=actor.name,
        at=now,
        question=question.id,
        text=text,
        question_text=question.text,
        audience=audience,
    )


def _found(incident: IncidentState, number: int) -> Question:
    question = find_entry(incident.questions, number)
    if question is None:
        raise Rejected("not-found", f"{incident.id} has no question Q{number}")
    return question


def _open(incident: IncidentState, number: int) -> Question:
    question = _found(incident, number)
    if question.state is QuestionState.MERGED:
        raise Rejected(
            "invalid-state",
            f"question Q{question.id} is merged into Q{question.merged_into}: "
            f"it is answered with that one",
        )
    if question.state is not QuestionState.OPEN:
        raise Rejected("invalid-state", f"question Q{question.id} is already {question.state}")
    return question
