"""Ask before a step that is hard to take back (resolve, change the severity, make an incident
private or public, quit, throw away what was typed): y confirms, n or Esc keeps things as they
are. Enter presses the focused button, which starts on the "no" one, so a reflexive Enter changes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from client.render import shown

DISCARD = "Discard what you typed?"


class ConfirmScreen(ModalScreen[bool]):
    """A question with a yes and a no button; the result is True for yes.

    With no question it asks whether to discard what was typed (`DISCARD`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    """y confirms; n or Esc does not (nothing is lost by a second Esc)."""

    AUTO_FOCUS = "#no"

    def __init__(
        self, question: str = DISCARD, detail: str = "", yes: str = "", no: str = ""
    ) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        discarding = question == DISCARD
        self.yes = yes or ("Discard" if discarding else "Yes")
        self.no = no or ("Keep editing" if discarding else "No")

    def compose(self) -> ComposeResult:
        with Vertical(classes="form confirm"):
            yield Static(shown(self.question, multiline=False), classes="form-title")
            if self.detail:
                yield Static(shown(self.detail), classes="confirm-detail")
            with Horizontal(classes="form-buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="yes")
                yield Button(f"{self.no} (n, esc)", id="no")

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
