"""The search box under the timeline: `/` opens it, each key narrows the timeline, Enter goes
back to the timeline keeping the search, Esc clears it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from warroom.core.inputs import MAX_TEXT


class TimelineSearch(Input):
    """A one-line search; it says what to show and never edits anything."""

    DEFAULT_CSS = """
    TimelineSearch { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear search")]
    """Esc clears the search and goes back to the timeline."""

    @dataclass
    class Searched(Message):
        """The text to search the timeline for changed ("" shows every entry)."""

        text: str

    @dataclass
    class Done(Message):
        """The user is done typing: back to the timeline."""

    def __init__(self, id: str | None = None) -> None:
        placeholder = "search the timeline: Enter keeps it, Esc clears"
        super().__init__(placeholder=placeholder, max_length=MAX_TEXT, id=id)

    def on_input_changed(self, event: Input.Changed) -> None:
        # Handled here so the room's own inputs (a stakeholder's question box) never hear it.
        event.stop()
        self.post_message(self.Searched(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())

    def action_clear(self) -> None:
        """Clear the search and go back to the timeline."""
        self.value = ""
        self.post_message(self.Searched(""))
        self.post_message(self.Done())
