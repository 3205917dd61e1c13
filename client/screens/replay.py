"""The war room replayed: a time scrubber over the incident's log that shows every panel as it
stood after any event. Read only: nothing here can send a command or change the live room.

Left and right step one event, `[` and `]` jump to the previous or next key moment (a pinned
note, a status, severity or ETA change, an update sent), Home and End go to the first and the
latest event, Space plays at the chosen speed (`+` and `-`). In the war room `a` replays the
room as one audience (all stakeholders, or a group) received it, step for step, and `a` again
back as the war room saw it. The worlds come from
`warroom.core.replaying.Replayer`, which keeps each step cheap however long the log.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from datetime import UTC
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static

from client.comms_render import countdown, expected_by
from client.screens.base import AppScreen
from client.screens.choice import ChoiceScreen
from client.widgets.impact_panel import ImpactPanel
from client.widgets.incident_header import IncidentHeader
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.questions_panel import QuestionsPanel
from client.widgets.room_panels import room_panels
from client.widgets.steady import Lines
from client.widgets.timeline_panel import TimelinePanel
from client.widgets.updates_panel import UpdatesPanel
from warroom.core.domain import Role
from warroom.core.events import Envelope
from warroom.core.policy import preview_actor, visible_part
from warroom.core.replaying import Replayer, disclosed_each
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
        Binding("a", "audience", "As audience"),
    ]
    """Step, jump to key moments, play; Esc or q goes back to the live room."""

    AUTO_FOCUS = None
    """Nothing takes focus: every key is the scrubber's."""

    DEFAULT_CLASSES = "room"
    """Laid out and styled as the live room it replays."""

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident_id = incident
        self.audience: str | None = None
        """The audience whose view is replayed (None: the room as this user received it)."""
        self._shown: tuple[tuple[int, Envelope], ...] = ()
        """With an audience: each event they received, by its position in the log."""
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
        yield Lines("", id="scrubber")
        yield IncidentHeader(id="header")
        # The war room's panels, and a stakeholder's (the updates sent to them, none of the war
        # room's entry numbers) for replaying as an audience: one of the two is shown.
        yield Vertical(room_panels(numbered=False, detail=False), id="as-room")
        audience = room_panels(numbered=False, detail=False, ids=False, updates=True)
        yield Vertical(audience, id="as-audience")
        yield Static("", id="gone")
        yield Footer()

    def on_mount(self) -> None:
        state = self.warroom.state
        # The log as this client received it: a stakeholder's is already theirs alone.
        self._log = tuple(item for item in state.log if item.event.incident == self.incident_id)
        self._replayer = Replayer([item.event for item in self._log])
        self._moments = self._replayer.moments()
        self.show_position(len(self._log))
        # What opening built (a world kept every so many events) outlives every step: collected
        # once now, it leaves the young generations, whose collection during a step would walk
        # all of it (170 ms at 10,000 events).
        self.call_after_refresh(gc.collect)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An audience's view is the war room's to replay: a stakeholder's log is theirs."""
        if action == "audience":
            me = self.warroom.state.me
            return me is not None and me.internal
        return True

    def action_audience(self) -> None:
        """Replay as all stakeholders or one group received it, or back as the war room."""
        if self.audience is not None:
            self.replay_as(None)
            return
        groups = self.warroom.state.known_groups
        choices = [("all stakeholders", "all"), *((f"group {g}", g) for g in groups)]

        def chosen(audience: str | None) -> None:
            if audience is not None:
                self.replay_as(audience)

        self.app.push_screen(ChoiceScreen("Replay as", choices), chosen)

    def replay_as(self, audience: str | None) -> None:
        """Replay the room as `audience` received it (None: as this user did), at the same
        position of the log, in the panels that audience had: a stakeholder's room shows the
        updates sent to them and none of the war room's entry numbers."""
        events = [item.event for item in self._log]
        self.audience = audience
        if audience is None:
            self._replayer = Replayer(events)
            self._shown = ()
        else:
            viewer = preview_actor(audience)
            self._replayer = Replayer(events, viewer)
            received = disclosed_each(events, viewer)
            self._shown = tuple(
                (index, Envelope(item.seq, shown))
                for index, (item, shown) in enumerate(zip(self._log, received, strict=True))
                if shown is not None
            )
        banner = f" REPLAY of {self.incident_id}: the room as it stood"
        banner += f", as {audience} saw it" if audience else ""
        banner += ". Read only; Esc goes back. "
        self.query_one("#replay-banner", Static).update(Text(banner, style="bold black on cyan"))
        self.show_position(self.position)

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

    def panels(self) -> Widget:
        """The panels in use: the war room's, or a stakeholder's when replaying as one."""
        return self.query_one("#as-room" if self.audience is None else "#as-audience")

    def show_position(self, position: int) -> None:
        """Show the room after the first `position` events (at least the declaration)."""
        self.position = max(min(1, len(self._log)), min(position, len(self._log)))
        incident = self._replayer.incident_at(self.position, self.incident_id)
        gone = self.query_one("#gone", Static)
        view = self.panels()
        gone.display = incident is None
        self.query_one("#as-room").display = incident is not None and self.audience is None
        self.query_one("#as-audience").display = incident is not None and self.audience is not None
        self._show_scrubber()
        if incident is None:
            gone.update(Text(f"{self.incident_id} has no events to replay."))
            return
        state = self.warroom.state
        me = state.me
        if self.audience is not None:
            incident = visible_part(incident, preview_actor(self.audience))
        elif me is not None and not me.internal:
            incident = visible_part(incident, me)
        # The clocks read as they did then: "12m ago" counts from the moment shown.
        then = self._log[self.position - 1].event.at
        if self.audience is None:
            seen: tuple[Envelope, ...] = self._log[: self.position]
        else:
            seen = tuple(item for index, item in self._shown if index < self.position)
        header = self.query_one("#header", IncidentHeader)
        timeline = view.query_one("#timeline", TimelinePanel)
        if self.audience is None:
            # As the war room's header read then, but for who was in the room: not in the log.
            due = countdown(incident, state.cadence, then)
            answers = state.role is Role.INCIDENT_MANAGER
            header.show(incident, then, None, answers, due)
        else:
            # As a stakeholder's room read then (`client.screens.stakeholder_room`).
            header.show(incident, then, (), False, expected_by(incident, state.cadence))
            updates = view.query_one("#updates", UpdatesPanel)
            updates.show_updates(incident, then)
            updates.border_title = f"Updates to them ({len(incident.updates)})"
        view.query_one("#impact", ImpactPanel).show(incident, hints=False)
        timeline.show(incident, seen, then)
        counted = f"{timeline.describe_filter()}, " if self.audience is None else ""
        timeline.border_title = f"Timeline ({counted}{timeline.row_count})"
        view.query_one("#progress", ProgressPanel).show_incident(incident)
        view.query_one("#mitigation", MitigationPanel).show_incident(incident)
        view.query_one("#questions", QuestionsPanel).show_incident(incident, then, state.cadence)

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
            numbered = (me is None or me.internal) and self.audience is None
            if self.audience is not None:
                received = dict(self._shown).get(self.position - 1)
                if received is None:
                    line.append(f"(nothing of this step reached {self.audience})", style="dim")
                    self.query_one("#scrubber", Lines).update(line, layout=False)
                    return
                event = received.event
            actor = visible(event.actor, multiline=False)
            line.append(f"{actor}: {describe(event, numbered=numbered)}")
        self.query_one("#scrubber", Lines).update(line, layout=False)
