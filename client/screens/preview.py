"""Preview as an audience: the war room exactly as one stakeholder group (or all) sees it now.

The incident manager's client already holds the whole log; the preview folds only what the hub's
own `disclosed` would send that audience, so what shows here is what they get. Read only.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from client.screens.base import AppScreen
from client.state import ClientState
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelinePanel
from warroom.core.events import Envelope
from warroom.core.policy import disclosed, preview_actor, visible_part
from warroom.core.reducer import replay


class PreviewScreen(AppScreen):
    """One incident as `audience` sees it, kept live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "leave", "Back to the war room"),
    ]
    """Esc or q goes back."""

    def __init__(self, incident: str, audience: str) -> None:
        super().__init__()
        self.incident_id = incident
        self.audience = audience

    def compose(self) -> ComposeResult:
        banner = Text(
            f" PREVIEW as {self.audience}: what this audience sees now. Esc goes back. ",
            style="bold black on cyan",
        )
        yield Static(banner, id="preview-banner")
        yield IncidentHeader(id="header")
        # Without numbers, as the audience sees it (theirs are disguised).
        yield room_panels(numbered=False, detail=False, ids=False)
        yield Static("", id="gone")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.follow_state)

    def show_state(self, state: ClientState) -> None:
        """Fold what the audience would receive, and show it."""
        viewer = preview_actor(self.audience)
        seen = tuple(
            Envelope(item.seq, shown)
            for item in state.log
            if (shown := disclosed(viewer, item.event, state.world)) is not None
        )
        incident = replay(item.event for item in seen).incident(self.incident_id)
        gone = self.query_one("#gone", Static)
        gone.display = incident is None
        if incident is None:
            gone.update(f"{self.audience} does not see {self.incident_id}.")
            return
        incident = visible_part(incident, viewer)
        now = self.warroom.now()
        self.query_one("#header", IncidentHeader).show(incident, now, ())
        self.query_one("#impact", ImpactPanel).show(incident)
        self.query_one("#timeline", TimelinePanel).show(incident, seen, now)
        self.query_one("#progress", ProgressPanel).show_incident(incident)
        self.query_one("#mitigation", MitigationPanel).show_incident(incident)
        self.query_one("#questions", QuestionsPanel).show_incident(incident, now)

    def action_leave(self) -> None:
        """Back to the war room."""
        self.app.pop_screen()
