"""The Mitigation panel: workarounds, whether they work, and the applications they help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from client.entry_text import of_mitigation
from client.render import mitigation_state_text, names, shown
from client.screens.entry import read_entry
from client.widgets.keyed_table import KeyedTable
from client.widgets.requests import offered
from warroom.core.domain import IncidentState, MitigationState, find_entry

_ORDER = {MitigationState.VERIFIED: 0, MitigationState.PROPOSED: 1, MitigationState.WITHDRAWN: 2}


class MitigationPanel(KeyedTable):
    """Workarounds: verified first, then proposed, then withdrawn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "verify", "Verify"),
        Binding("r", "read", "Read"),
        Binding("x", "withdraw", "Withdraw"),
        Binding("u", "audience", "Audience"),
    ]
    """Enter marks the workaround verified; r reads it whole; x withdraws it."""

    @dataclass
    class VerifyRequested(Message):
        """Mark the workaround as verified: it works."""

        mitigation: int

    @dataclass
    class WithdrawRequested(Message):
        """Withdraw the workaround."""

        mitigation: int

    @dataclass
    class AudienceRequested(Message):
        """Show the workaround to another audience."""

        mitigation: int

    REQUESTS: ClassVar[dict[str, type[Message]]] = {
        "verify": VerifyRequested,
        "withdraw": WithdrawRequested,
        "audience": AudienceRequested,
    }
    """Which request each of the panel's actions posts."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [
            ("id", 3),
            ("state", 9),
            ("workaround [applications]", None),
        ]
        super().__init__(columns, numbered=numbered, id=id)
        self._incident: IncidentState | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return offered(self, self.REQUESTS.get(action))

    def action_verify(self) -> None:
        """Ask to mark the workaround under the cursor as verified."""
        if (number := self.selected_number("M")) is not None:
            self.post_message(self.VerifyRequested(number))

    def action_read(self) -> None:
        """Read the workaround under the cursor whole."""
        number = self.selected_number("M")
        incident = self._incident
        mitigation = find_entry(incident.mitigations, number) if incident and number else None
        if mitigation is not None:
            read_entry(self, of_mitigation(mitigation, self.numbered))

    def action_withdraw(self) -> None:
        """Ask to withdraw the workaround under the cursor."""
        if (number := self.selected_number("M")) is not None:
            self.post_message(self.WithdrawRequested(number))

    def action_audience(self) -> None:
        """Ask to show the workaround under the cursor to another audience."""
        if (number := self.selected_number("M")) is not None:
            self.post_message(self.AudienceRequested(number))

    def show_incident(self, incident: IncidentState) -> None:
        """Render `incident`'s workarounds."""
        before, self._incident = self._incident, incident
        if before is not None and incident.mitigations == before.mitigations:
            return  # the same workarounds as shown (usually the very same, shared): nothing to redo
        ordered = sorted(incident.mitigations, key=lambda m: (_ORDER[m.state], m.created_at, m.id))
        rows = []
        for mitigation in ordered:
            withdrawn = mitigation.state is MitigationState.WITHDRAWN
            text = Text.assemble(
                shown(mitigation.text, "strike dim" if withdrawn else ""),
                (f"  [{names(mitigation.apps)}]" if mitigation.apps else "", "italic dim"),
            )
            rows.append((f"M{mitigation.id}", (mitigation_state_text(mitigation.state), text)))
        self.show(rows)
