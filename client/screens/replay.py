"""The war room replayed: a time scrubber over the incident's log that shows every panel as it
stood after any event. Read only: nothing here can send a command or change the live room.

Left and right step one event, `[` and `]` jump to the previous or next key moment (a pinned
note, a status, severity or ETA change, an update sent), Home and End go to the first and the
latest event, Space plays at the chosen speed (`+` and `-`). The worlds come from
`warroom.core.replaying.Replayer`, which keeps each step cheap however long the log.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Footer, Static

from client.screens.base import AppScreen
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.timeline_panel import TimelinePanel
from warroom.core.events import Envelope
from warroom.core.policy import visible_part
from warroom.core.replaying import Replayer
from warroom.core.text import visible
from warroom.core.views import describe

SPEEDS = (1, 2, 4, 8, 16, 32)
"""Events a second while playing."""

BAR_WIDTH = 40


class ReplayScreen(AppScreen):
    """One incident's room as it stood after each event of its log, as the user received it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "leave", "Back to the war room"),
        Binding("left,h", "step(-1)", "Step back"),
        Binding("right,l", "step(1)", "Step on"),
        Binding("left_square_bracket", "moment(-1)", "Previous moment"),
        Binding("right_square_bracket", "moment(1)", "Next moment"),
        Binding("home", "jump(0)", "First event", show=False),
        Binding("end", "jump(-1)", "Latest event", show=False),
        Binding("space", "play", "Play/pause"),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
    ]
    """Step, jump to key moments, play; Esc or q goes back to the live room."""

    AUTO_FOCUS = None
    """Nothing takes focus: every key is the scrubber's."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident
        self.position = 0
        """How many of the incident's events are folded into what is shown."""
        self.speed = 0
        """An index into `SPEEDS`."""
        self._log: tuple[Envelope, ...] = ()
        self._replayer = Replayer(())
        self._moments: tuple[int, ...] = ()
        self._player: Timer | None = None

    def compose(self) -> ComposeResult:
        banner = Text(
            f" REPLAY of {self.incident_id}: the room as it stood. Read only; Esc goes back. ",
            style="bold black on cyan",
        )
        yield Static(banner, id="replay-banner")
        yield Static("", id="scrubber")
        yield IncidentHeader(id="header")
        yield room_panels(numbered=False, detail=False)
        yield Static("", id="gone")
        yield Footer()

    def on_mount(self) -> None:
        state = self.warroom.state
        # The log as this client received it: a stakeholder's is already theirs alone.
        self._log = tuple(item for item in state.log if item.event.incident == self.incident_id)
        self._replayer = Replayer([item.event for item in self._log])
        self._moments = self._replayer.moments()
        self.show_position(len(self._log))

    def on_descendant_focus(self) -> None:
        """The panels only show: none keeps focus (a click, Tab), so every key stays the
        scrubber's and none reaches a panel's commands."""
        self.set_focus(None)

    # Moving -------------------------------------------------------------------------------------

    def action_step(self, by: int) -> None:
        """One event back or on."""
        self.show_position(self.position + by)

    def action_moment(self, direction: int) -> None:
        """The previous or next key moment (the start or the latest event past the last)."""
        if direction < 0:
            index = bisect_left(self._moments, self.position) - 1
            self.show_position(self._moments[index] if index >= 0 else 0)
        else:
            index = bisect_right(self._moments, self.position)
            last = len(self._log)
            self.show_position(self._moments[index] if index < len(self._moments) else last)

    def action_jump(self, where: int) -> None:
        """The first event (0) or the latest (-1)."""
        self.show_position(1 if where == 0 else len(self._log))

    def action_play(self) -> None:
        """Play from here at the chosen speed, or pause."""
        if self._player is not None:
            self._pause()
            return
        if self.position >= len(self._log):
            self.show_position(1)
        self._player = self.set_interval(1 / SPEEDS[self.speed], self._advance)
        self._show_scrubber()

    def action_speed(self, by: int) -> None:
        """Play faster or slower."""
        self.speed = max(0, min(len(SPEEDS) - 1, self.speed + by))
        if self._player is not None:
            self._player.stop()
            self._player = self.set_interval(1 / SPEEDS[self.speed], self._advance)
        self._show_scrubber()

    def _advance(self) -> None:
        if self.position >= len(self._log):
            self._pause()
            return
        self.show_position(self.position + 1)

    def _pause(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
        self._show_scrubber()

    def action_leave(self) -> None:
        """Back to the war room."""
        self._pause()
        self.app.pop_screen()

    # Showing ------------------------------------------------------------------------------------

    def show_position(self, position: int) -> None:
        """Show the room after the first `position` events (at least the declaration)."""
        self.position = max(min(1, len(self._log)), min(position, len(self._log)))
        incident = self._replayer.incident_at(self.position, self.incident_id)
        gone = self.query_one("#gone", Static)
        panels = self.query_one("#panels")
        gone.display = incident is None
        panels.display = incident is not None
        self._show_scrubber()
        if incident is None:
            gone.update(Text(f"{self.incident_id} has no events to replay."))
            return
        me = self.warroom.state.me
        if me is not None and not me.internal:
            incident = visible_part(incident, me)
        # The clocks read as they did then: "12m ago" counts from the moment shown.
        then = self._log[self.position - 1].event.at
        seen = self._log[: self.position]
        self.query_one("#header", IncidentHeader).show(incident, then, ())
        self.query_one("#impact", ImpactPanel).show(incident, hints=False)
        self.query_one("#timeline", TimelinePanel).show(incident, seen, then)
        self.query_one("#progress", ProgressPanel).show_incident(incident)
        self.query_one("#mitigation", MitigationPanel).show_incident(incident)
        self.query_one("#questions", QuestionsPanel).show_incident(incident, then)

    def _show_scrubber(self) -> None:
        total = len(self._log)
        line = Text(" ")
        if total:
            event = self._log[self.position - 1].event
            when = event.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            filled = round(BAR_WIDTH * self.position / total)
            line.append("━" * filled, style="bold cyan")
            line.append("─" * (BAR_WIDTH - filled), style="dim")
            line.append(f"  event {self.position} of {total}  {when}  ")
            state = f"▶ {SPEEDS[self.speed]}/s" if self._player is not None else "paused"
            line.append(state, style="bold")
            moment = " · key moment" if self.position in self._moments else ""
            line.append(f"{moment}\n ")
            # What the step did, as text: whatever it holds is shown, never obeyed.
            me = self.warroom.state.me
            numbered = me is None or me.internal
            actor = visible(event.actor, multiline=False)
            line.append(f"{actor}: {describe(event, numbered=numbered)}")
        self.query_one("#scrubber", Static).update(line)
