"""Answer a stakeholder question: to the asker alone, or published to an audience."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Label, Static, TextArea

from client.render import shown
from client.screens.form import FormScreen, audience_of, required
from client.widgets.audience_picker import ASKER, AudiencePicker
from warroom.core.commands import AnswerQuestion
from warroom.core.domain import Question


class AnswerScreen(FormScreen[AnswerQuestion]):
    """The answer form for one question."""

    TITLE = "Answer a question"

    def __init__(
        self,
        incident: str,
        question: Question,
        now: datetime | None = None,
        groups: Sequence[str] = (),
    ) -> None:
        super().__init__(now)
        self.incident = incident
        self.question = question
        self.groups = groups

    def fields(self) -> ComposeResult:
        asker = self.question.asker or "a stakeholder"
        yield Static(shown(f"Q{self.question.id} from {asker}:", multiline=False))
        yield Static(shown(self.question.text), classes="quoted")
        yield Label("Answer")
        yield TextArea(id="text")
        yield Label("Who gets the answer (Space ticks; groups combine)")
        yield AudiencePicker(self.groups, ASKER, asker=True, id="audience")

    def result(self) -> AnswerQuestion:
        audience = audience_of(self.query_one("#audience", AudiencePicker))
        return AnswerQuestion(
            incident=self.incident,
            question=self.question.id,
            text=required(self.query_one("#text", TextArea).text, "answer"),
            audience=None if audience == ASKER else audience,
        )
