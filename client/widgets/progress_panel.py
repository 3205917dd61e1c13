"""The Progress panel: actions with their state and owner; done and dropped ones struck through."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from client.render import action_state_text
from client.widgets.keyed_table import KeyedTable
from warroom.core.domain import ActionState, IncidentState

_ORDER = {
    ActionState.IN_PROGRESS: 0,
    ActionState.NEXT: 1,
    ActionState.DONE: 2,
    ActionState.DROPPED: 3,
}


class ProgressPanel(KeyedTable):
    """Actions: in progress first, then next steps, then what is done."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.advance_action", "Advance"),
        Binding("o", "screen.action_owner", "Owner"),
        Binding("x", "screen.drop_action", "Drop"),
        Binding("u", "screen.move_audience", "Audience"),
    ]
    """Enter advances the action (next, in progress, done); o sets its owner; x drops it."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [("id", 3), ("state", 11), ("action (owner)", None)]
        super().__init__(columns, numbered=numbered, id=id)

    def show_incident(self, incident: IncidentState) -> None:
        """Render `incident`'s actions."""
        ordered = sorted(incident.actions, key=lambda a: (_ORDER[a.state], a.created_at, a.id))
        rows = []
        for action in ordered:
            finished = action.state in (ActionState.DONE, ActionState.DROPPED)
            text = Text.assemble(
                (action.text, "strike dim" if finished else ""),
                (f"  ({action.owner})" if action.owner else "  (unowned)", "italic dim"),
            )
            rows.append((f"A{action.id}", (action_state_text(action.state), text)))
        self.show(rows)
