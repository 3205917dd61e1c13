"""A stale edit: the field changed while you edited it. Keep yours, take theirs, or merge.

Every field of both versions shows, as plain text (anyone's text, never markup), and the line
above them names the fields that differ. Esc asks before it drops what you typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from client.render import shown
from client.screens.confirm import ConfirmScreen


class Resolution(StrEnum):
    """What to do with a stale edit."""

    KEEP_MINE = "keep-mine"
    TAKE_THEIRS = "take-theirs"
    MERGE = "merge"


@dataclass(frozen=True)
class FieldRow:
    """One field of the edited value: its name, the value there now and the user's."""

    name: str
    theirs: str
    mine: str

    @property
    def differs(self) -> bool:
        """Whether the two versions disagree on this field."""
        return self.theirs != self.mine


def _side(rows: Sequence[FieldRow], mine: bool) -> Text:
    """One version, field by field; a field that differs is marked (not by colour alone)."""
    text = Text()
    for index, row in enumerate(rows):
        if index:
            text.append("\n")
        marker = "≠ " if row.differs else "  "
        text.append(f"{marker}{row.name}: ", style="bold" if row.differs else "dim")
        text.append_text(shown(row.mine if mine else row.theirs))
    return text


class ConflictScreen(ModalScreen[Resolution]):
    """Shows both versions side by side and asks what to do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "resolve('keep-mine')", "Keep mine"),
        Binding("t", "resolve('take-theirs')", "Take theirs"),
        Binding("m", "resolve('merge')", "Merge"),
        Binding("escape", "discard", "Take theirs (asks)"),
    ]
    """k keeps your edit, t drops it (Esc too, once you say so), m opens the form merged."""

    def __init__(self, what: str, message: str, theirs: str, rows: Sequence[FieldRow]) -> None:
        super().__init__()
        self.what = what
        self.message = message
        self.theirs_title = theirs
        self.rows = list(rows)

    @property
    def differing(self) -> list[str]:
        """The names of the fields that differ."""
        return [row.name for row in self.rows if row.differs]

    def compose(self) -> ComposeResult:
        differing = ", ".join(self.differing) or "nothing (the same edit)"
        with Vertical(classes="form conflict"):
            yield Static(
                Text(f"Conflict: the {self.what} changed while you edited it"),
                classes="form-title",
            )
            yield Static(shown(self.message, "italic"))
            yield Static(Text(f"Differs: {differing}", style="bold"), id="differs")
            with Horizontal(classes="versions"):
                with Vertical(classes="version"):
                    yield Static(shown(self.theirs_title, "bold", multiline=False))
                    yield Static(_side(self.rows, mine=False), id="theirs")
                with Vertical(classes="version"):
                    yield Static(Text("Yours (not saved)", style="bold"))
                    yield Static(_side(self.rows, mine=True), id="mine")
            with Horizontal(classes="form-buttons"):
                yield Button("Keep mine (k)", variant="warning", id="keep-mine")
                yield Button("Take theirs (t)", id="take-theirs")
                yield Button("Merge (m)", variant="primary", id="merge")

    def action_resolve(self, choice: str) -> None:
        """Close with the user's choice."""
        self.dismiss(Resolution(choice))

    def action_discard(self) -> None:
        """Take theirs, once the user says their edit may go."""

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(Resolution.TAKE_THEIRS)

        self.app.push_screen(ConfirmScreen(), answered)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        self.dismiss(Resolution(event.button.id))
