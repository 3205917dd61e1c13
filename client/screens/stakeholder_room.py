"""The stakeholder's room: one incident as the hub lets a stakeholder see it, and a box to ask.

What shows is what the hub sent this user: the incident's title, severity, status, applications
and ETA, the impact statement and workarounds addressed to them, and their own questions with
the answers. Entries carry no numbers (a stakeholder's are disguised and mean nothing to anyone
else). Nothing here can change the incident but a question.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from client.screens.base import RoomScreen
from client.state import ClientState
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.link_bar import LinkBar
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelinePanel
from warroom.core import commands as c
from warroom.core.decide import MAX_TEXT
from warroom.core.policy import visible_part

_PANELS = ("impact", "timeline", "progress", "mitigation", "questions")


class StakeholderRoomScreen(RoomScreen):
    """One incident, read as a stakeholder, with a question box at the bottom."""

    DEFAULT_CLASSES = "room"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "leave", "Lobby"),
        Binding("Q", "focus_ask", "Ask a question"),
        Binding("escape", "unfocus_ask", "Back to the panels", show=False),
        Binding("question_mark", "app.show_help_panel", "Keys"),
        *(
            Binding(str(n), f"focus_panel('{panel}')", panel.title(), show=False)
            for n, panel in enumerate(_PANELS, 1)
        ),
    ]
    """Q (or Tab) goes to the question box, Enter sends, Esc goes back; 1-5 jump to a panel."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield IncidentHeader(id="header")
        yield room_panels(numbered=True, detail=True, ids=False)
        yield Static("", id="gone")
        yield Input(
            placeholder="Ask the incident manager a question; Enter sends it",
            max_length=MAX_TEXT,
            id="ask",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#questions", QuestionsPanel).border_title = "5 Your questions"
        self.watch(self.app, "state", self.show_state)
        self.set_interval(1, self._tick)
        self.query_one("#timeline", TimelinePanel).focus()

    def on_screen_resume(self) -> None:
        if self.app.screen is self:
            self.warroom.view(self.incident_id)

    def _tick(self) -> None:
        self._show(self.warroom.state, clock_only=True)

    def show_state(self, state: ClientState) -> None:
        """Re-render the room from the client state."""
        self._show(state, clock_only=False)

    def _show(self, state: ClientState, clock_only: bool) -> None:
        incident = state.world.incident(self.incident_id)
        if incident is not None and state.me is not None:
            incident = visible_part(incident, state.me)
        now = self.warroom.now()
        self.show_gone(incident is None and state.synced)
        if incident is None:
            return
        self.query_one("#header", IncidentHeader).show(incident, now, ())
        self.query_one("#questions", QuestionsPanel).show_incident(incident, now)
        if clock_only:
            return
        self.query_one("#link", LinkBar).show(state)
        self.query_one("#impact", ImpactPanel).show(incident)
        timeline = self.query_one("#timeline", TimelinePanel)
        timeline.show(incident, state.log, now)
        timeline.border_title = f"2 Updates ({timeline.row_count})"
        self.query_one("#progress", ProgressPanel).show_incident(incident)
        self.query_one("#mitigation", MitigationPanel).show_incident(incident)
        self.show_detail()

    def action_leave(self) -> None:
        """Back to the lobby."""
        self.app.pop_screen()

    def action_focus_panel(self, panel: str) -> None:
        """Jump to a panel (1-5)."""
        self.query_one(f"#{panel}").focus()

    def action_focus_ask(self) -> None:
        """Go to the question box."""
        self.query_one("#ask", Input).focus()

    def action_unfocus_ask(self) -> None:
        """Leave the question box for the timeline."""
        self.query_one("#timeline", TimelinePanel).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.notify("Type your question first.", severity="warning")
            return
        self.warroom.submit(c.AskQuestion(incident=self.incident_id, text=text), "question")
        event.input.value = ""
        self.notify("Sent to the incident manager; the answer appears under Your questions.")
