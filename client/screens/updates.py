"""The updates sent on one incident, newest first, with how their delivery stands: a column that
sums up each update's deliveries, and Enter for every recipient's state, attempts and last
error. Kept live: the hub reports each delivery's progress to the war room."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from client.screens.base import AppScreen
from client.state import ClientState
from client.widgets.link_bar import LinkBar
from client.widgets.updates_panel import UpdatesPanel


class UpdatesScreen(AppScreen):
    """The updates of `incident` and their delivery."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "leave", "Back to the war room"),
        Binding("question_mark", "app.show_help_panel", "Keys"),
    ]
    """Esc or q goes back; Enter (on an update) shows its deliveries, r reads it."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield Static("", id="updates-title")
        panel = UpdatesPanel(deliveries=True, id="updates")
        panel.add_class("panel")
        panel.border_title = "Updates sent (Enter: deliveries, r: read)"
        yield panel
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.follow_state)
        self.set_interval(1, self._tick)
        self.query_one("#updates", UpdatesPanel).focus()

    def _tick(self) -> None:
        self.follow_state(self.warroom.state)

    def show_state(self, state: ClientState) -> None:
        """Re-render from the client state."""
        self.show_link(state)
        incident = state.world.incident(self.incident_id)
        title = self.query_one("#updates-title", Static)
        if incident is None:
            title.update(f"{self.incident_id} is not (or no longer) visible to you. Press q.")
            return
        count = len(incident.updates)
        title.update(
            Text.assemble(
                (incident.id, "bold"),
                f"  {count} update{'' if count == 1 else 's'} to stakeholders",
            )
        )
        self.query_one("#updates", UpdatesPanel).show_updates(
            incident, self.warroom.now(), lambda update: state.deliveries_of(incident.id, update)
        )

    def on_updates_panel_deliveries_requested(
        self, request: UpdatesPanel.DeliveriesRequested
    ) -> None:
        from client.screens.deliveries import DeliveriesScreen

        self.app.push_screen(DeliveriesScreen(self.incident_id, request.update))

    def action_leave(self) -> None:
        """Back to the war room."""
        self.app.pop_screen()
