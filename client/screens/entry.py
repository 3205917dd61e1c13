"""Read one entry whole: a note, a timeline event, an action, a workaround, a question, the impact
statement. Plain text in a read-only text area: it scrolls, wraps at spaces, and what is selected
(shift and the arrows, or the mouse) copies with ctrl+c. Esc closes.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static, TextArea

from client.entry_text import EntryText
from client.render import shown


class EntryScreen(ModalScreen[None]):
    """One entry, whole, to read and copy from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]
    """Esc (or q) closes."""

    def __init__(self, entry: EntryText) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        with Vertical(classes="form entry"):
            yield Static(shown(self.entry.heading, multiline=False), classes="form-title")
            yield TextArea(self.entry.body, read_only=True, highlight_cursor_line=False, id="body")
            yield Static(
                "Esc closes · shift+arrows or the mouse select · ctrl+c copies",
                classes="entry-hint",
            )

    def action_close(self) -> None:
        """Back to the room."""
        self.dismiss(None)


def read_entry(widget: Widget, entry: EntryText | None) -> None:
    """Open the reading view of `entry` over `widget`'s screen (with none, say what to do)."""
    if entry is None:
        widget.notify("Put the cursor on an entry to read it.", severity="warning")
    else:
        widget.app.push_screen(EntryScreen(entry))
