"""The Questions panel: open questions first, with their age; then what was answered."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from client.widgets.keyed_table import KeyedTable
from warroom.core.domain import IncidentState, QuestionState
from warroom.core.timeparse import relative


class QuestionsPanel(KeyedTable):
    """Stakeholder questions, oldest open question at the top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.answer", "Answer"),
        Binding("x", "screen.dismiss_question", "Dismiss"),
    ]
    """Enter answers the question under the cursor; x dismisses it."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [
            ("id", 3),
            ("asked", 7),
            ("question → answer", None),
        ]
        super().__init__(columns, numbered=numbered, id=id)

    def show_incident(self, incident: IncidentState, now: datetime) -> None:
        """Render `incident`'s questions."""
        ordered = sorted(
            incident.questions,
            key=lambda q: (q.state is not QuestionState.OPEN, q.asked_at, q.id),
        )
        rows = []
        for question in ordered:
            if question.state is QuestionState.OPEN:
                body = Text.assemble(("OPEN ", "bold yellow"), question.text)
            elif question.state is QuestionState.ANSWERED:
                to = "asker" if question.answer_audience is None else question.answer_audience
                body = Text.assemble(
                    question.text,
                    ("  → ", "dim"),
                    (question.answer or "", "green"),
                    (f" ({to})", "dim"),
                )
            else:
                reason = f": {question.answer}" if question.answer else ""
                body = Text(f"{question.text}  (dismissed{reason})", style="dim strike")
            age = Text(
                relative(question.asked_at, now).removesuffix(" ago"),
                style="bold" if question.state is QuestionState.OPEN else "dim",
            )
            asker = Text(f"{question.asker or 'a stakeholder'}: ", style="italic")
            rows.append((f"Q{question.id}", (age, asker + body)))
        self.show(rows)
