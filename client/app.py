"""The Textual app: wiring only. The connection is injected; screens own the behaviour.

The link runs in one async worker on the app's loop and only posts messages. The client state is
one immutable value in a reactive; screens watch it and re-render. Commands are sent with an id,
shown as pending until the server answers, and re-sent with the same id after a reconnect (the
server applies a command id once). The lobby lives on the hub's summaries; the open room is read
when it opens, and read again after every reconnect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import HelpPanel

from client import conflicts
from client.connection import Connection
from client.control_filter import CONTROL_CHARACTERS
from client.screens.confirm import ConfirmScreen, confirmed
from client.screens.lobby import LobbyScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from client.screens.war_room import WarRoomScreen
from client.state import (
    Answer,
    ClientState,
    Link,
    Pending,
    closed,
    forget,
    linked,
    opened,
    reading,
    receive_all,
    sent,
)
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core import protocol
from warroom.core.domain import Role
from warroom.core.policy import may
from warroom.core.text import visible


class WarRoomApp(App[None]):
    """The war room in the terminal."""

    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    TITLE = "warroom"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    """Below 110 columns the two columns of panels share the width evenly."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    """Below 30 rows the forms keep their buttons in sight: their fields scroll sooner."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "ask_quit", "Quit", show=False),
        Binding("escape", "hide_help_panel", "Close the keys", show=False, priority=True),
    ]
    """ctrl+c copies what is selected (the screens' and fields' own key) and otherwise asks
    before quitting (q quits from the lobby); Esc closes the keys panel while it is open."""

    state: reactive[ClientState] = reactive(ClientState, always_update=True, init=False)
    """Everything the client knows; screens re-render when it changes."""

    @dataclass
    class FramesReceived(Message):
        """Frames arrived from the hub, in order. Frames that arrive before this message is
        handled join its list (`frames_received`): a burst is folded and painted once."""

        frames: list[protocol.ServerFrameType]

    @dataclass
    class LinkChanged(Message):
        """The link to the hub went up or down."""

        link: Link
        detail: str

    class Forget(Message):
        """The hub asked for a full re-sync."""

    def __init__(
        self,
        connection: Connection,
        incident: str | None = None,
        clock: Callable[[], datetime] | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.notice = notice
        self.connection = connection
        self.start_incident = incident.upper() if incident else None
        self.clock = clock or (lambda: datetime.now(UTC))
        self.viewing: str | None = None
        self._declaring: dict[str, frozenset[str]] = {}
        """Declarations in flight, by command id: the incidents known when each was sent."""
        self._to_open: tuple[str, frozenset[str]] | None = None
        """A declaration the hub accepted (its title, the incidents known before): its room
        opens as soon as its summary arrives."""
        self._on_refusal: dict[str, Callable[[str], None]] = {}
        """What to do when the hub refuses a command in flight (a form opens again)."""
        self._on_accept: dict[str, Callable[[], None]] = {}
        """What to do when the hub accepts a command in flight (offer the alert)."""
        self._unread: list[protocol.ServerFrameType] | None = None
        """The frames of the `FramesReceived` posted and not handled yet: later ones join it."""

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the net that keeps control characters off the terminal."""
        return [*super().get_line_filters(), CONTROL_CHARACTERS]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_help_panel":
            # Esc belongs to the screen (and its fields) unless the keys panel is open.
            return bool(self.screen.query(HelpPanel))
        return True

    def action_show_help_panel(self) -> None:
        """Show the keys panel, or close it if it is open (? toggles it)."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            super().action_show_help_panel()

    def action_ask_quit(self) -> None:
        """Quit, once the user says so: ctrl+c is pressed by reflex, and to copy."""
        if isinstance(self.screen, ConfirmScreen):
            return
        question = ConfirmScreen("Quit warroom?", "To copy, select text first.", yes="Quit")
        self.push_screen(question, confirmed(self.exit))

    def now(self) -> datetime:
        """The current time (frozen in snapshot tests)."""
        return self.clock()

    def on_mount(self) -> None:
        self.push_screen(LobbyScreen())
        if self.start_incident:
            self.open_room(self.start_incident)
        if self.notice:
            self.notify(self.notice, timeout=30, markup=False)
        self.listen()

    @work(exclusive=True, group="link")
    async def listen(self) -> None:
        """Run the connection; it reports through the three sink methods below."""
        await self.connection.run(self)

    # The connection's sink (called on the app's loop by the worker) ---------------------------

    def frames_received(self, frames: list[protocol.ServerFrameType]) -> None:
        """Frames arrived. While the app is busy painting, frames that keep arriving join the
        batch already posted: they are folded together and the screen is painted once, so a
        client that falls behind catches up instead of painting every frame in turn."""
        if self._unread is not None:
            self._unread.extend(frames)
            return
        self._unread = list(frames)
        self.post_message(self.FramesReceived(self._unread))

    def link_changed(self, link: Link, detail: str) -> None:
        """The link went up or down (after the frames before: later ones start a new batch)."""
        self._unread = None
        self.post_message(self.LinkChanged(link, detail))

    def forget(self) -> None:
        """The hub asked for a full re-sync: drop what was folded in (after the frames before;
        later ones start a new batch)."""
        self._unread = None
        self.post_message(self.Forget())

    # Folding frames --------------------------------------------------------------------------

    def on_war_room_app_frames_received(self, message: FramesReceived) -> None:
        if self._unread is message.frames:
            self._unread = None  # what arrives from now on is a new batch
        was_synced = self.state.synced
        state, answers = receive_all(self.state, message.frames)
        self.state = state
        self._fit_room_to_role()
        if state.synced and not was_synced:
            self._resume()
        else:
            self._read_room()
        for answer in answers:
            self._answered(answer)
        self._open_declared()
        if was_synced and state.role is Role.INCIDENT_MANAGER:
            self._announce_questions(message.frames)

    def _announce_questions(self, frames: list[protocol.ServerFrameType]) -> None:
        """Tell the incident manager, who answers them, of each new stakeholder question."""
        for frame in frames:
            if isinstance(frame, protocol.EventFrame) and isinstance(frame.event, e.QuestionAsked):
                event = frame.event
                self.notify(
                    visible(f"{event.actor}: {event.text}"),
                    title=f"New question on {event.incident} (5 to answer)",
                    timeout=15,
                    markup=False,
                )

    def on_war_room_app_forget(self, message: Forget) -> None:
        self.state = forget(self.state)

    def on_war_room_app_link_changed(self, message: LinkChanged) -> None:
        self.state = linked(self.state, message.link, message.detail)

    def _resume(self) -> None:
        """After a (re)connect: say where we are, read the open room again (what happened while
        the link was down is in no summary), and re-send what was never answered."""
        self._send(protocol.View(incident=self.viewing))
        self._read_room(again=True)
        for pending in self.state.pending.values():
            self._send(protocol.Submit(id=pending.id, command=pending.command))

    # Commands ----------------------------------------------------------------------------------

    def allowed(self, command_type: type) -> bool | None:
        """Whether the user's role may send `command_type`: True, None (greyed) or False
        (hidden: an observer sees no edit keys at all)."""
        role = self.state.role
        if role is None:
            return None
        if may(role, command_type):
            return True
        return False if role is Role.OBSERVER else None

    @property
    def known_groups(self) -> tuple[str, ...]:
        """The stakeholder groups some user holds, as the hub said."""
        return self.state.known_groups

    def submit(
        self,
        command: c.Command,
        label: str,
        refused: Callable[[str], None] | None = None,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        """Send a command; it shows as pending until the server answers. `refused` is called
        with the hub's reason if it refuses the command (not for a stale edit), `accepted`
        once it accepts it."""
        pending = Pending(id=uuid.uuid4().hex, command=command, label=label)
        if isinstance(command, c.DeclareIncident):
            self._declaring[pending.id] = frozenset(self.state.summaries)
        if refused is not None:
            self._on_refusal[pending.id] = refused
        if accepted is not None:
            self._on_accept[pending.id] = accepted
        self.state = sent(self.state, pending)
        if self.state.link is Link.ONLINE:
            self._send(protocol.Submit(id=pending.id, command=command))
        else:
            self.notify(
                f"{label}: offline, will be sent on reconnect", severity="warning", markup=False
            )

    def view(self, incident: str | None) -> None:
        """Tell the hub which war room is on screen (for presence); open its room (read it), or
        with None close the one open."""
        self.viewing = incident
        if incident is None:
            self.state = closed(self.state)
        else:
            self.state = opened(self.state, incident)
            self._read_room()
        if self.state.synced:
            self._send(protocol.View(incident=incident))

    def _read_room(self, again: bool = False) -> None:
        """Read the open room if it needs it (or `again`), once the link is up and synced."""
        room = self.state.room
        if room is None or not self.state.synced:
            return
        if not (again or room.wants_read(self.state.summaries)):
            return
        read = uuid.uuid4().hex
        self.state = reading(self.state, read)
        self._send(protocol.Read(id=read, incident=room.incident))

    def _send(self, frame: protocol.Submit | protocol.View | protocol.Read) -> None:
        self.run_worker(self.connection.send(frame), group="send")

    def _answered(self, answer: Answer) -> None:
        label = answer.pending.label
        command = answer.pending.command
        known = self._declaring.pop(answer.pending.id, frozenset())
        on_refusal = self._on_refusal.pop(answer.pending.id, None)
        on_accept = self._on_accept.pop(answer.pending.id, None)
        if answer.accepted:
            if isinstance(command, c.DeclareIncident):
                self.notify(f"Declared: {command.title}", timeout=3, markup=False)
                self._to_open = (command.title, known)
                self._open_declared()
            else:
                self.notify(f"Done: {label}", timeout=2, markup=False)
            if on_accept is not None:
                on_accept()
            return
        if conflicts.is_conflict(answer):
            conflicts.resolve(self, answer)
            return
        self.notify(
            answer.message, title=f"Refused: {label}", severity="error", timeout=8, markup=False
        )
        if on_refusal is not None:
            on_refusal(answer.message)

    # Navigation --------------------------------------------------------------------------------

    def _open_declared(self) -> None:
        """Open the room of the incident the user just declared from the lobby, once known."""
        if self._to_open is None:
            return
        title, known = self._to_open
        for summary in self.state.summaries.values():
            if summary.id not in known and summary.title == title:
                self._to_open = None
                if isinstance(self.screen, LobbyScreen):
                    self.open_room(summary.id, offer_alert=True)
                return

    def open_room(self, incident: str, offer_alert: bool = False) -> None:
        """Open an incident's war room (`offer_alert`: the user just declared it, and an
        incident manager is asked whether to alert stakeholders once it is read)."""
        self.state = opened(self.state, incident.upper())
        self._read_room()
        room = self._room()
        if room is WarRoomScreen:
            self.push_screen(WarRoomScreen(incident.upper(), offer_alert=offer_alert))
        else:
            self.push_screen(room(incident.upper()))

    def _room(self) -> type[WarRoomScreen | StakeholderRoomScreen]:
        """The war room, or for a stakeholder the stakeholder's room (until the hub says who
        the user is, the war room: it is swapped then)."""
        me = self.state.me
        return StakeholderRoomScreen if me is not None and not me.internal else WarRoomScreen

    def _fit_room_to_role(self) -> None:
        screen = self.screen
        if isinstance(screen, WarRoomScreen | StakeholderRoomScreen):
            wanted = self._room()
            if type(screen) is not wanted:
                self.switch_screen(wanted(screen.incident_id))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every key the screen offers now, beside Textual's own commands."""
        yield from super().get_system_commands(screen)
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or not active.enabled:
                continue
            node, action = active.node, binding.action

            def run(node: object = node, action: str = action) -> None:
                self.call_later(self.run_action, action, node)

            yield SystemCommand(
                binding.description, f"key {binding.key_display or binding.key}", run
            )
