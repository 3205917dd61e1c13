"""The shape shared by every modal form: a title, fields, an error line, Save and Cancel.

`Esc` cancels (the result is None), after asking if anything was typed; `ctrl+s` or the Save
button checks the fields and, if they hold, dismisses the screen with the command they describe.
A field that does not parse keeps the form open with the reason shown under it. What was typed
is kept (`typed`), so a form the hub refuses can be opened again with it and the hub's reason
(`refill`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from client.render import shown
from client.screens.confirm import ConfirmScreen
from client.widgets.audience_picker import AudiencePicker

ResultT = TypeVar("ResultT")

Typed = dict[str, object]
"""What a form's fields hold, by widget id."""


class FormError(Exception):
    """A field that does not hold; the message is shown in the form."""


class FormScreen(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal form; subclasses give `TITLE`, `fields()` and `result()`."""

    TITLE: ClassVar[str] = ""
    SAVE: ClassVar[str] = "Save"
    """What the button that saves says (the composer's sends)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    """Esc closes without changing anything; ctrl+s saves."""

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__()
        self.now = now or datetime.now(UTC)
        self.typed: Typed = {}
        """What the fields held when the form was saved (or opened)."""
        self.holds_typing = False
        """The form opened with the user's own text in it (a merge): Esc asks even untouched."""
        self._opened: Typed = {}
        self._refill: tuple[Typed, str] | None = None

    def refill(self, typed: Typed, reason: str) -> FormScreen[ResultT]:
        """Open with `typed` in the fields and `reason` under them (a refused submission)."""
        self._refill = (typed, reason)
        return self

    def on_mount(self) -> None:
        self._opened = self._fields()
        if self._refill is not None:
            typed, reason = self._refill
            self._fill(typed)
            self.query_one("#form-error", Label).update(shown(reason))

    def _fields(self) -> Typed:
        values: Typed = {}
        for widget in self.query(".form-fields *"):
            if widget.id is None:
                continue
            match widget:
                case Input() | Checkbox() | Select():
                    values[widget.id] = widget.value
                case TextArea():
                    values[widget.id] = widget.text
                case AudiencePicker():
                    values[widget.id] = tuple(sorted(widget.selected))
        return values

    def _fill(self, typed: Typed) -> None:
        for key, value in typed.items():
            widget = self.query_one(f"#{key}")
            match widget:
                case Input() if isinstance(value, str):
                    widget.value = value
                case TextArea() if isinstance(value, str):
                    widget.load_text(value)
                case Checkbox() if isinstance(value, bool):
                    widget.value = value
                case Select():
                    widget.value = value
                case AudiencePicker() if isinstance(value, tuple):
                    widget.deselect_all()
                    for ticked in value:
                        widget.select(ticked)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(shown(self.heading(), multiline=False), classes="form-title")
            # Above the fields: a reason must show even when a small terminal cuts the form.
            yield Label("", classes="form-error", id="form-error")
            with VerticalScroll(classes="form-fields"):
                yield from self.fields()
            with Horizontal(classes="form-buttons"):
                yield from self.more_buttons()
                yield Button(f"{self.SAVE} (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    AUTO_FOCUS = (
        ".form-fields Input, .form-fields TextArea, .form-fields Select, .form-fields SelectionList"
    )

    def heading(self) -> str:
        """The form's title line."""
        return self.TITLE

    def fields(self) -> ComposeResult:
        """The form's widgets."""
        yield from ()

    def more_buttons(self) -> ComposeResult:
        """Buttons before Save and Cancel (the form handles their presses itself)."""
        yield from ()

    def result(self) -> ResultT:
        """The command the fields describe.

        Raises:
            FormError: if a field does not hold.
        """
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Close without a result; if anything was typed, only once the user says to drop it."""
        untouched = self._fields() == self._opened
        if untouched and self._refill is None and not self.holds_typing:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(), answered)

    def action_save(self) -> None:
        """Close with the result, or show why the fields do not hold."""
        try:
            value = self.result()
        except FormError as error:
            self.query_one("#form-error", Label).update(shown(str(error)))
            return
        self.typed = self._fields()
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.action_cancel()


def audience_of(picker: AudiencePicker) -> str:
    """The audience ticked in `picker`."""
    audience = picker.audience
    if audience is None:
        raise FormError("choose who sees it: internal, all, or one or more groups")
    return audience  # the picker offers only normalised audiences


def required(text: str, what: str) -> str:
    """A field that must not be blank."""
    value = text.strip()
    if not value:
        raise FormError(f"the {what} is empty")
    return value


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
