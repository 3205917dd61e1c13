"""How one update's delivery stands, recipient by recipient: channel, state, attempts and the
last error. Kept live as the hub reports each attempt. Enter reads every attempt of the
delivery under the cursor and how each ended; Esc closes; r reads the update."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from client.app_protocol import client_app
from client.comms_render import delivery_history, delivery_row, delivery_summary
from client.entry_text import EntryText
from client.render import shown
from client.screens.entry import read_entry
from client.state import ClientState
from client.widgets.keyed_table import KeyedTable
from client.widgets.updates_panel import of_update
from warroom.core import protocol
from warroom.core.domain import find_entry


class DeliveriesScreen(ModalScreen[None]):
    """The deliveries of update `update` of `incident`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "attempts", "Attempts"),
        Binding("r", "read", "Read the update"),
    ]
    """Esc (or q) closes; Enter reads every attempt of the delivery under the cursor; r reads
    the update whole, as sent."""

    def __init__(self, incident: str, update: int) -> None:
        super().__init__()
        self.incident_id = incident
        self.update_number = update

    def compose(self) -> ComposeResult:
        with Vertical(classes="form deliveries"):
            yield Static("", classes="form-title", id="deliveries-title")
            yield Static("", id="deliveries-empty")
            yield KeyedTable(
                [
                    ("key", 1),
                    ("channel", 7),
                    ("recipient", None),
                    ("state", 8),
                    ("tries", 5),
                    ("last error", 34),
                    ("at", 5),
                ],
                numbered=False,
                id="deliveries",
            )
            yield Static(
                "Enter: every attempt · r reads the update as sent · Esc closes",
                classes="entry-hint",
            )

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.show_state)

    def show_state(self, state: ClientState) -> None:
        """Re-render the deliveries from the client state."""
        deliveries = state.deliveries_of(self.incident_id, self.update_number)
        title = self.query_one("#deliveries-title", Static)
        title.update(
            shown(f"U{self.update_number} of {self.incident_id}: ", multiline=False)
            + delivery_summary(deliveries)
        )
        empty = self.query_one("#deliveries-empty", Static)
        empty.display = not deliveries
        empty.update(
            f"No delivery reported for U{self.update_number}: no email or webhook recipient is "
            "configured for its audience, or the hub has not queued it yet."
        )
        rows = [(_key(d), delivery_row(d)) for d in deliveries]
        self.query_one("#deliveries", KeyedTable).show(rows)

    def on_keyed_table_selected(self, event: KeyedTable.Selected) -> None:
        """Enter on a row (the table takes the key before the screen's binding)."""
        event.stop()
        self.action_attempts()

    def action_attempts(self) -> None:
        """Read every attempt of the delivery under the cursor, and how each ended."""
        key = self.query_one("#deliveries", KeyedTable).selected_key
        shown_now = client_app(self).state.deliveries_of(self.incident_id, self.update_number)
        found = [delivery for delivery in shown_now if _key(delivery) == key]
        read_entry(self, EntryText(*delivery_history(found[0])) if found else None)

    def action_read(self) -> None:
        """Read the update whole."""
        incident = client_app(self).state.world.incident(self.incident_id)
        update = find_entry(incident.updates, self.update_number) if incident else None
        if incident is not None and update is not None:
            read_entry(self, of_update(incident, update, numbered=True))

    def action_close(self) -> None:
        """Back to the updates."""
        self.dismiss(None)


def _key(delivery: protocol.DeliveryFrame) -> str:
    return f"{delivery.channel}:{delivery.recipient}"
