"""Pick one of a few values (status, severity, state, application): arrows and Enter, or Esc."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from client.render import shown

T = TypeVar("T")


class ChoiceScreen(ModalScreen[T | None], Generic[T]):
    """A list of choices; the current value, if any, is marked and disabled; the cursor starts on
    `start` if given (the likely next value), else on the first choice that can be taken."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """Esc closes without choosing."""

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, T]],
        current: T | None = None,
        start: T | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.start = start

    def compose(self) -> ComposeResult:
        options = [
            Option(
                shown(f"{label}{'  (current)' if value == self.current else ''}", multiline=False),
                id=str(index),
                disabled=value == self.current,
            )
            for index, (label, value) in enumerate(self.choices)
        ]
        with Vertical(classes="form"):
            yield Static(shown(self.title_text, multiline=False), classes="form-title")
            yield OptionList(*options, id="choices")

    def on_mount(self) -> None:
        values = [value for _, value in self.choices]
        if self.start is not None and self.start in values:
            self.query_one("#choices", OptionList).highlighted = values.index(self.start)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.dismiss(self.choices[int(event.option.id)][1])

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
