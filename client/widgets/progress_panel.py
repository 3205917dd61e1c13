"""The Progress panel: actions with their state and owner; done and dropped ones struck through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from client.entry_text import of_action
from client.render import action_state_text, names, shown
from client.screens.entry import read_entry
from client.widgets.keyed_table import KeyedTable
from client.widgets.requests import offered
from warroom.core.domain import ActionState, IncidentState, find_entry

_ORDER = {
    ActionState.IN_PROGRESS: 0,
    ActionState.NEXT: 1,
    ActionState.DONE: 2,
    ActionState.DROPPED: 3,
}


class ProgressPanel(KeyedTable):
    """Actions: in progress first, then next steps, then what is done."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "advance", "Advance"),
        Binding("r", "read", "Read"),
        Binding("o", "owner", "Owner"),
        Binding("x", "drop", "Drop"),
        Binding("u", "audience", "Audience"),
    ]
    """Enter advances the action (next, in progress, done); r reads it whole; o sets its owner;
    x drops it."""

    @dataclass
    class AdvanceRequested(Message):
        """Move the action on: next, in progress, done."""

        action: int

    @dataclass
    class OwnerRequested(Message):
        """Give the action an owner, or take the owner away."""

        action: int

    @dataclass
    class DropRequested(Message):
        """Drop the action."""

        action: int

    @dataclass
    class AudienceRequested(Message):
        """Show the action to another audience."""

        action: int

    REQUESTS: ClassVar[dict[str, type[Message]]] = {
        "advance": AdvanceRequested,
        "owner": OwnerRequested,
        "drop": DropRequested,
        "audience": AudienceRequested,
    }
    """Which request each of the panel's actions posts."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [("id", 3), ("state", 11), ("action (owner)", None)]
        super().__init__(columns, numbered=numbered, id=id)
        self._incident: IncidentState | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return offered(self, self.REQUESTS.get(action))

    def action_advance(self) -> None:
        """Ask to move the action under the cursor on."""
        if (number := self.selected_number("A")) is not None:
            self.post_message(self.AdvanceRequested(number))

    def action_read(self) -> None:
        """Read the action under the cursor whole."""
        number = self.selected_number("A")
        action = find_entry(self._incident.actions, number) if self._incident and number else None
        if action is not None:
            read_entry(self, of_action(action, self.numbered))

    def action_owner(self) -> None:
        """Ask to give the action under the cursor an owner."""
        if (number := self.selected_number("A")) is not None:
            self.post_message(self.OwnerRequested(number))

    def action_drop(self) -> None:
        """Ask to drop the action under the cursor."""
        if (number := self.selected_number("A")) is not None:
            self.post_message(self.DropRequested(number))

    def action_audience(self) -> None:
        """Ask to show the action under the cursor to another audience."""
        if (number := self.selected_number("A")) is not None:
            self.post_message(self.AudienceRequested(number))

    def show_incident(self, incident: IncidentState) -> None:
        """Render `incident`'s actions."""
        before, self._incident = self._incident, incident
        if before is not None and incident.actions == before.actions:
            return  # the same actions as shown (usually the very same, shared): nothing to redo
        ordered = sorted(incident.actions, key=lambda a: (_ORDER[a.state], a.created_at, a.id))
        rows = []
        for action in ordered:
            finished = action.state in (ActionState.DONE, ActionState.DROPPED)
            text = Text.assemble(
                shown(action.text, "strike dim" if finished else ""),
                (f"  ({names([action.owner])})" if action.owner else "  (unowned)", "italic dim"),
            )
            rows.append((f"A{action.id}", (action_state_text(action.state), text)))
        self.show(rows)
