"""The Mitigation panel: workarounds, whether they work, and the applications they help."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from client.render import mitigation_state_text
from client.widgets.keyed_table import KeyedTable
from warroom.core.domain import IncidentState, MitigationState

_ORDER = {MitigationState.VERIFIED: 0, MitigationState.PROPOSED: 1, MitigationState.WITHDRAWN: 2}


class MitigationPanel(KeyedTable):
    """Workarounds: verified first, then proposed, then withdrawn."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.verify_mitigation", "Verify"),
        Binding("x", "screen.withdraw_mitigation", "Withdraw"),
        Binding("u", "screen.move_audience", "Audience"),
    ]
    """Enter marks the workaround verified; x withdraws it."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        columns: list[tuple[str, int | None]] = [
            ("id", 3),
            ("state", 9),
            ("workaround [applications]", None),
        ]
        super().__init__(columns, numbered=numbered, id=id)

    def show_incident(self, incident: IncidentState) -> None:
        """Render `incident`'s workarounds."""
        ordered = sorted(incident.mitigations, key=lambda m: (_ORDER[m.state], m.created_at, m.id))
        rows = []
        for mitigation in ordered:
            withdrawn = mitigation.state is MitigationState.WITHDRAWN
            text = Text.assemble(
                (mitigation.text, "strike dim" if withdrawn else ""),
                (f"  [{', '.join(mitigation.apps)}]" if mitigation.apps else "", "italic dim"),
            )
            rows.append((f"M{mitigation.id}", (mitigation_state_text(mitigation.state), text)))
        self.show(rows)
