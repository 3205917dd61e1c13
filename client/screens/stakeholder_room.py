"""The stakeholder's room: one incident as the hub lets a stakeholder see it, and a box to ask.

What shows is what the hub sent this user: the incident's title, severity, status, applications
and ETA, the impact statement and workarounds addressed to them, and their own questions with
the answers, the updates the incident team sent them (newest first, Enter reads one whole) and
when the next is expected. Entries carry no numbers (a stakeholder's are disguised and mean
nothing to anyone else). Nothing here can change the incident but a question.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from client.comms_render import expected_by
from client.screens.base import RoomScreen
from client.state import ClientState
from client.widgets.incident_header import IncidentHeader
from client.widgets.link_bar import LinkBar
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelinePanel
from client.widgets.updates_panel import UpdatesPanel
from warroom.core import commands as c
from warroom.core.domain import IncidentState
from warroom.core.inputs import MAX_TEXT

_PANELS = ("impact", "timeline", "progress", "mitigation", "questions", "updates")


class StakeholderRoomScreen(RoomScreen):
    """One incident, read as a stakeholder, with a question box at the bottom."""

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
    """Q (or Tab) goes to the question box, Enter sends, Esc goes back; 1-6 jump to a panel."""

    TIMELINE_TITLE = "2 Timeline ({count})"
    """"Timeline", not "Updates": the updates the incident team sends have a panel of their own."""

    def compose(self) -> ComposeResult:
        yield LinkBar(id="link")
        yield IncidentHeader(id="header")
        yield room_panels(numbered=True, detail=True, ids=False, updates=True)
        yield Static("", id="gone")
        yield Input(
            placeholder="Ask the incident manager a question; Enter sends it",
            max_length=MAX_TEXT,
            id="ask",
        )
        yield Footer()

    def on_mount(self) -> None:
        # RoomScreen.on_mount runs too (Textual calls the handler of every class): it focuses
        # the timeline and starts showing the state.
        self.query_one("#questions", QuestionsPanel).border_title = "5 Your questions"

    def show_state(self, state: ClientState) -> None:
        """Re-render the room, and the updates the incident team sent this user."""
        super().show_state(state)
        incident = self.visible_incident(state)
        if incident is not None:
            panel = self.query_one("#updates", UpdatesPanel)
            panel.show_updates(incident, self.warroom.now())
            panel.border_title = f"6 Updates to you ({len(incident.updates)})"

    def due(self, incident: IncidentState, state: ClientState, now: datetime) -> Text:
        """When the incident team owes this user its next update (local time)."""
        return expected_by(incident, state.cadence)

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
