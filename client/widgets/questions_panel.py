"""The Questions panel, in triage order: open questions oldest first, with their age and OVERDUE
once they waited past the response target; then the answered, dismissed and merged ones, newest
first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from client.entry_text import of_question
from client.render import shown
from client.screens.entry import read_entry
from client.widgets.keyed_table import KeyedTable
from client.widgets.requests import offered
from warroom.core.cadence import DEFAULT_CADENCE, Cadence, overdue, triage_order
from warroom.core.domain import IncidentState, Question, QuestionState, find_entry
from warroom.core.timeparse import relative


class QuestionsPanel(KeyedTable):
    """Stakeholder questions, oldest open question at the top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "answer", "Answer"),
        Binding("r", "read", "Read"),
        Binding("x", "dismiss", "Dismiss"),
        Binding("m", "merge", "Merge into…"),
        Binding("u", "promote", "Promote to update"),
    ]
    """Enter answers the question under the cursor; r reads it whole; x dismisses it; m merges
    it into the question it duplicates; u promotes its answer into an update."""

    @dataclass
    class AnswerRequested(Message):
        """Answer the question (privately, or published to an audience)."""

        question: int

    @dataclass
    class DismissRequested(Message):
        """Dismiss the question, with an optional reason."""

        question: int

    @dataclass
    class MergeRequested(Message):
        """Merge the question into the one it duplicates (which one is asked)."""

        question: int

    @dataclass
    class PromoteRequested(Message):
        """Publish the question's answer to stakeholders as an update."""

        question: int

    REQUESTS: ClassVar[dict[str, type[Message]]] = {
        "answer": AnswerRequested,
        "dismiss": DismissRequested,
        "merge": MergeRequested,
        "promote": PromoteRequested,
    }
    """Which request each of the panel's actions posts."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [
            ("id", 3),
            ("asked", 7),
            ("question → answer", None),
        ]
        super().__init__(columns, numbered=numbered, id=id)
        self._incident: IncidentState | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return offered(self, self.REQUESTS.get(action))

    def action_answer(self) -> None:
        """Ask to answer the question under the cursor."""
        if (number := self.selected_number("Q")) is not None:
            self.post_message(self.AnswerRequested(number))

    def action_read(self) -> None:
        """Read the question under the cursor whole, with its answer."""
        number = self.selected_number("Q")
        incident = self._incident
        question = find_entry(incident.questions, number) if incident and number else None
        if question is not None:
            read_entry(self, of_question(question, self.numbered))

    def action_dismiss(self) -> None:
        """Ask to dismiss the question under the cursor."""
        if (number := self.selected_number("Q")) is not None:
            self.post_message(self.DismissRequested(number))

    def action_merge(self) -> None:
        """Ask to merge the question under the cursor into another."""
        if (number := self.selected_number("Q")) is not None:
            self.post_message(self.MergeRequested(number))

    def action_promote(self) -> None:
        """Ask to publish the answer of the question under the cursor as an update."""
        if (number := self.selected_number("Q")) is not None:
            self.post_message(self.PromoteRequested(number))

    def show_incident(
        self, incident: IncidentState, now: datetime, cadence: Cadence = DEFAULT_CADENCE
    ) -> None:
        """Render `incident`'s questions at `now`, late ones flagged by `cadence`'s target."""
        self._incident = incident
        rows = []
        for question in triage_order(incident.questions):
            if overdue(question, cadence, now):
                body = Text.assemble(("OVERDUE", "bold white on red"), " ", shown(question.text))
            elif question.state is QuestionState.OPEN:
                body = Text.assemble(("OPEN ", "bold yellow"), shown(question.text))
            elif question.state is QuestionState.MERGED:
                body = Text.assemble(
                    shown(question.text, "dim"), (self._merged(question), "italic")
                )
            elif question.state is QuestionState.ANSWERED:
                to = "asker" if question.answer_audience is None else question.answer_audience
                body = Text.assemble(
                    shown(question.text),
                    ("  → ", "dim"),
                    shown(question.answer or "", "green"),
                    (f" ({to})", "dim"),
                    (self._merged(question), "dim italic"),
                )
            else:
                reason = f": {question.answer}" if question.answer else ""
                body = shown(f"{question.text}  (dismissed{reason})", "dim strike")
            age = Text(
                relative(question.asked_at, now).removesuffix(" ago"),
                style="bold" if question.state is QuestionState.OPEN else "dim",
            )
            asker = shown(f"{question.asker or 'a stakeholder'}: ", "italic", multiline=False)
            rows.append((f"Q{question.id}", (age, asker + body)))
        self.show(rows)

    def _merged(self, question: Question) -> str:
        """`  (merged into Q1)` for a duplicate (a stakeholder's view has no numbers)."""
        if question.merged_into is None:
            return ""
        into = f"Q{question.merged_into}" if self.numbered else "an earlier question"
        return f"  (merged into {into})"
