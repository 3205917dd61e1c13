"""A stale edit: the field changed while you edited it. Keep yours, take theirs, or merge."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, assert_never

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from client.render import shown
from warroom.core.rejections import Conflict, EtaConflict, ImpactConflict
from warroom.core.timeparse import local


class Resolution(StrEnum):
    """What to do with a stale edit."""

    KEEP_MINE = "keep-mine"
    TAKE_THEIRS = "take-theirs"
    MERGE = "merge"


class ConflictScreen(ModalScreen[Resolution]):
    """Shows both versions side by side and asks what to do."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "resolve('keep-mine')", "Keep mine"),
        Binding("t", "resolve('take-theirs')", "Take theirs"),
        Binding("m", "resolve('merge')", "Merge"),
        Binding("escape", "resolve('take-theirs')", "Take theirs"),
    ]
    """k keeps your edit, t (or Esc) drops it, m opens an editor with both."""

    def __init__(
        self, what: str, message: str, mine: str, current: Conflict, can_merge: bool
    ) -> None:
        super().__init__()
        self.what = what
        self.message = message
        self.mine = mine
        self.current = current
        self.can_merge = can_merge

    def compose(self) -> ComposeResult:
        match self.current:
            case ImpactConflict(statement=statement, updated_by=author):
                theirs = statement or "(none)"
            case EtaConflict(eta=eta, set_by=author):
                theirs = local(eta) if eta is not None else "(none)"
            case _:
                assert_never(self.current)
        author = author or "someone"
        with Vertical(classes="form conflict"):
            yield Static(
                f"Conflict: the {self.what} changed while you edited it", classes="form-title"
            )
            yield Static(shown(self.message, "italic"))
            with Horizontal(classes="versions"):
                with Vertical(classes="version"):
                    title = f"Theirs (v{self.current.version}, {author})"
                    yield Static(shown(title, "bold", multiline=False))
                    yield Static(shown(theirs), id="theirs")
                with Vertical(classes="version"):
                    yield Static(Text("Yours (not saved)", style="bold"))
                    yield Static(shown(self.mine), id="mine")
            with Horizontal(classes="form-buttons"):
                yield Button("Keep mine (k)", variant="warning", id="keep-mine")
                yield Button("Take theirs (t)", id="take-theirs")
                if self.can_merge:
                    yield Button("Merge (m)", variant="primary", id="merge")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "resolve" and parameters == ("merge",) and not self.can_merge)

    def action_resolve(self, choice: str) -> None:
        """Close with the user's choice."""
        self.dismiss(Resolution(choice))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        self.dismiss(Resolution(event.button.id))
