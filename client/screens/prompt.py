"""Ask for one line of text (an owner, an application, a reason)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.widgets import Input, Label

from client.render import shown
from client.screens.form import FormError, FormScreen


class PromptScreen(FormScreen[str]):
    """One labelled input; the result is its text, stripped (may be empty if `allow_empty`).

    `check` reads the text and returns why it does not hold, or None if it does: the prompt
    stays open with the reason."""

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        allow_empty: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.label = label
        self.value = value
        self.allow_empty = allow_empty
        self.check = check

    def fields(self) -> ComposeResult:
        yield Label(shown(self.label, multiline=False))
        yield Input(value=self.value, id="value")

    def heading(self) -> str:
        return self.title_text

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def result(self) -> str:
        value = self.query_one("#value", Input).value.strip()
        if not value and not self.allow_empty:
            raise FormError("this cannot be empty")
        problem = self.check(value) if self.check is not None else None
        if problem is not None:
            raise FormError(problem)
        return value
