"""Ask before something the user typed is thrown away: y discards it, n (or Esc) goes back."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

DISCARD = "Discard what you typed?"


class ConfirmScreen(ModalScreen[bool]):
    """A yes-or-no question; the result is True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, discard"),
        Binding("n,escape", "answer(False)", "No, keep editing"),
    ]
    """y says yes; n or Esc says no (nothing is lost by a second Esc)."""

    def __init__(self, question: str = DISCARD) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="form confirm"):
            yield Static(Text(self.question, style="bold"), classes="form-title")
            with Horizontal(classes="form-buttons"):
                yield Button("Discard (y)", variant="error", id="yes")
                yield Button("Keep editing (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")
