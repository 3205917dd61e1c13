"""The base of the client's full screens: typed access to the app."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import DataTable, Static

from client.app_protocol import ClientApp, client_app
from client.widgets.timeline_panel import TimelinePanel


class RoomScreen(Screen[None]):
    """A full screen of the war-room app."""

    incident_id: str = ""
    """The incident the screen shows (none for the lobby)."""

    def show_gone(self, gone: bool) -> None:
        """Say that the incident is not (or no longer) visible, in place of its panels (it
        vanishes when it is made private without the user), or show the panels again."""
        for part in self.query("#header, #panels"):
            part.display = not gone
        notice = self.query_one("#gone", Static)
        notice.display = gone
        if gone:
            notice.update(f"{self.incident_id} is not (or no longer) visible to you. Press q.")

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        """Show the whole of the highlighted timeline entry: rows are cut at the panel's edge."""
        if message.data_table.id == "timeline":
            self.show_detail()

    def show_detail(self) -> None:
        """Fill the line under the timeline, where the screen has one."""
        for line in self.query("#timeline-detail").results(Static):
            line.update(self.query_one("#timeline", TimelinePanel).detail())

    @property
    def warroom(self) -> ClientApp:
        """The app, typed as what a screen may ask of it."""
        return client_app(self)
