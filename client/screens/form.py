"""The shape shared by every modal form: a title, fields, an error line, Save and Cancel.

`Esc` cancels (the result is None); `ctrl+s` or the Save button checks the fields and, if they
hold, dismisses the screen with the command they describe. A field that does not parse keeps the
form open with the reason shown under it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from client.render import shown
from warroom.core.domain import parse_audience

ResultT = TypeVar("ResultT")


class FormError(Exception):
    """A field that does not hold; the message is shown in the form."""


class FormScreen(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal form; subclasses give `TITLE`, `fields()` and `result()`."""

    TITLE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    """Esc closes without changing anything; ctrl+s saves."""

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__()
        self.now = now or datetime.now(UTC)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(shown(self.heading(), multiline=False), classes="form-title")
            with VerticalScroll(classes="form-fields"):
                yield from self.fields()
            yield Label("", classes="form-error", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    AUTO_FOCUS = ".form-fields Input, .form-fields TextArea, .form-fields Select"

    def heading(self) -> str:
        """The form's title line."""
        return self.TITLE

    def fields(self) -> ComposeResult:
        """The form's widgets."""
        yield from ()

    def result(self) -> ResultT:
        """The command the fields describe.

        Raises:
            FormError: if a field does not hold.
        """
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Close with the result, or show why the fields do not hold."""
        try:
            value = self.result()
        except FormError as error:
            self.query_one("#form-error", Label).update(shown(str(error)))
            return
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()


def audience_of(text: str, default: str = "internal") -> str:
    """Read an audience field (blank: `default`)."""
    try:
        return parse_audience(text or default)
    except ValueError as error:
        raise FormError(str(error)) from None


def required(text: str, what: str) -> str:
    """A field that must not be blank."""
    value = text.strip()
    if not value:
        raise FormError(f"the {what} is empty")
    return value


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
