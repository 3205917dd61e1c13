"""Ask before a step that is hard to take back (resolve, change the severity, make an incident
private or public, quit): y confirms, n or Esc keeps things as they are. Enter presses the
focused button, which starts on "No", so a reflexive Enter changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from client.render import shown


class ConfirmScreen(ModalScreen[bool]):
    """A question with Yes and No; the result is True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    """y confirms; n or Esc does not."""

    AUTO_FOCUS = "#no"

    def __init__(self, question: str, detail: str = "", yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="form confirm"):
            yield Static(shown(self.question, multiline=False), classes="form-title")
            if self.detail:
                yield Static(shown(self.detail), classes="confirm-detail")
            with Horizontal(classes="form-buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="yes")
                yield Button("No (n, esc)", id="no")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


def confirmed(then: Callable[[], None]) -> Callable[[bool | None], None]:
    """A `ConfirmScreen` callback that runs `then` on yes."""

    def answered(yes: bool | None) -> None:
        if yes:
            then()

    return answered
