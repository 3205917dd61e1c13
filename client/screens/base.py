"""The bases of the client's full screens: typed access to the app, and one incident's room.

`RoomScreen` is what the war room and the stakeholder's room share: it re-renders from the
client state whenever that changes and ticks the clocks every second, tells the hub which room
is on screen, and says so in place of the panels when the incident is not (or no longer)
visible to the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

from client.app_protocol import ClientApp, client_app
from client.render import shown
from client.state import ClientState, Link
from client.widgets import steady
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.line_table import LineTable
from client.widgets.link_bar import LinkBar
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.timeline_panel import TimelinePanel
from client.widgets.timeline_search import TimelineSearch
from warroom.core import commands as c
from warroom.core.domain import IncidentState, Role
from warroom.core.policy import visible_part


class AppScreen(Screen[None]):
    """A full screen of the war-room app."""

    def show_link(self, state: ClientState) -> None:
        """Say how the link is in the top line, and dim what is shown while it may be stale
        (the link is down, or back and not yet caught up)."""
        self.query_one("#link", LinkBar).show(state)
        self.set_class(not (state.link is Link.ONLINE and state.synced), "-stale")

    @property
    def warroom(self) -> ClientApp:
        """The app, typed as what a screen may ask of it."""
        return client_app(self)


class RoomScreen(AppScreen):
    """One incident's room, kept live: the link bar, the header and the five panels.

    A room composes a `LinkBar` (#link), an `IncidentHeader` (#header), `room_panels` (with the
    line under the timeline, #timeline-detail) and a `Static` (#gone).
    """

    DEFAULT_CLASSES = "room"

    TIMELINE_TITLE: ClassVar[str] = "2 Timeline ({filter}, {count})"
    """The timeline's title: `filter` is the filter in words, `count` the rows shown."""

    SHOWS_PRESENCE: ClassVar[bool] = False
    """Whether the header names who else is in the room."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.show_state)
        self.set_interval(1, self._tick)
        self.query_one("#timeline", TimelinePanel).focus()

    def on_screen_resume(self) -> None:
        # Resume events of screens pushed together arrive in any order: only the top one counts.
        if self.app.screen is self:
            self.warroom.view(self.incident_id)

    def visible_incident(self, state: ClientState) -> IncidentState | None:
        """The incident as the user may see it now; None if they may not (or not yet)."""
        incident = state.world.incident(self.incident_id)
        if incident is not None and state.me is not None:
            incident = visible_part(incident, state.me)
        return incident

    def show_state(self, state: ClientState) -> None:
        """Re-render the room from the client state."""
        self.show_link(state)
        incident = self.visible_incident(state)
        self.show_gone(incident is None and state.gone(self.incident_id))
        if incident is None:
            return
        now = self.warroom.now()
        self._show_clock(incident, state)
        hints = self.warroom.allowed(c.SetImpact) is True
        self.query_one("#impact", ImpactPanel).show(incident, hints)
        self.query_one("#timeline", TimelinePanel).show(incident, state.log, now)
        self.title_timeline()
        self.query_one("#progress", ProgressPanel).show_incident(incident)
        self.query_one("#mitigation", MitigationPanel).show_incident(incident)
        self.show_detail()

    def title_timeline(self) -> None:
        """Say in the timeline's title what it shows and how much."""
        timeline = self.query_one("#timeline", TimelinePanel)
        # Text, not markup: the filter may name an application, which is anyone's text.
        timeline.border_title = shown(
            self.TIMELINE_TITLE.format(filter=timeline.describe_filter(), count=timeline.row_count),
            multiline=False,
        )

    def on_timeline_panel_search_requested(self) -> None:
        """Open the search box under the timeline."""
        search = self.query_one("#timeline-search", TimelineSearch)
        search.value = self.query_one("#timeline", TimelinePanel).search
        search.display = True
        search.focus()

    def on_timeline_search_searched(self, message: TimelineSearch.Searched) -> None:
        """Narrow the timeline as the user types."""
        self.query_one("#timeline", TimelinePanel).set_search(message.text)
        self.title_timeline()
        self.show_detail()

    def on_timeline_search_done(self) -> None:
        """Back to the timeline; the search stays in its title (Esc there clears it)."""
        self.query_one("#timeline-search", TimelineSearch).display = False
        self.query_one("#timeline", TimelinePanel).focus()

    def _tick(self) -> None:
        state = self.warroom.state
        incident = self.visible_incident(state)
        if incident is not None:
            self._show_clock(incident, state)

    def _show_clock(self, incident: IncidentState, state: ClientState) -> None:
        """What changes with time alone: the header's elapsed time and ETA, questions' ages."""
        now = self.warroom.now()
        present = state.presence.get(incident.id, ()) if self.SHOWS_PRESENCE else ()
        answers = state.role is Role.INCIDENT_MANAGER
        due = self.due(incident, state, now)
        self.query_one("#header", IncidentHeader).show(incident, now, present, answers, due)
        self.query_one("#questions", QuestionsPanel).show_incident(incident, now, state.cadence)

    def due(self, incident: IncidentState, state: ClientState, now: datetime) -> Text:
        """What the header says of the next update to stakeholders (nothing, here)."""
        return Text("")

    def show_gone(self, gone: bool) -> None:
        """Say that the incident is not (or no longer) visible, in place of its panels (it
        vanishes when it is made private without the user), or show the panels again."""
        for part in self.query("#header, #panels"):
            part.display = not gone
        notice = self.query_one("#gone", Static)
        notice.display = gone
        if gone:
            notice.update(f"{self.incident_id} is not (or no longer) visible to you. Press q.")

    def on_line_table_highlighted(self, message: LineTable.Highlighted) -> None:
        """Show the whole of the highlighted timeline entry: rows are cut at the panel's edge."""
        if message.table.id == "timeline":
            self.show_detail()

    def show_detail(self) -> None:
        """Fill the line under the timeline."""
        for line in self.query("#timeline-detail").results(Static):
            steady.update(line, self.query_one("#timeline", TimelinePanel).detail())

    def action_focus_panel(self, panel: str) -> None:
        """Jump to a panel (1-5)."""
        self.query_one(f"#{panel}").focus()

    def action_leave(self) -> None:
        """Back to the lobby."""
        self.app.pop_screen()
