"""The Textual app: wiring only. The connection is injected; screens own the behaviour.

The link runs in one async worker on the app's loop and only posts messages. The client state is
one immutable value in a reactive; screens watch it and re-render. Commands are sent with an id,
shown as pending until the server answers, and re-sent with the same id after a reconnect (the
server applies a command id once).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen

from client.connection import Connection
from client.screens.conflict import ConflictScreen, Resolution
from client.screens.lobby import LobbyScreen
from client.screens.stakeholder_room import StakeholderRoomScreen
from client.screens.war_room import WarRoomScreen
from client.state import (
    Answer,
    ClientState,
    Link,
    Pending,
    forget,
    linked,
    receive_all,
    sent,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import ImpactConflict
from warroom.core.domain import Role, evolve
from warroom.core.policy import may
from warroom.core.timeparse import local


class WarRoomApp(App[None]):
    """The war room in the terminal."""

    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    TITLE = "warroom"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    """Below 110 columns the two columns of panels share the width evenly."""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+c", "quit", "Quit", show=False)]
    """ctrl+c quits from anywhere (q quits from the lobby)."""

    state: reactive[ClientState] = reactive(ClientState, always_update=True, init=False)
    """Everything the client knows; screens re-render when it changes."""

    @dataclass
    class FramesReceived(Message):
        """Frames arrived from the hub, in order."""

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

    def now(self) -> datetime:
        """The current time (frozen in snapshot tests)."""
        return self.clock()

    def on_mount(self) -> None:
        self.push_screen(LobbyScreen())
        if self.start_incident:
            self.open_room(self.start_incident)
        if self.notice:
            self.notify(self.notice, timeout=30)
        self.listen()

    @work(exclusive=True, group="link")
    async def listen(self) -> None:
        """Run the connection; it reports through the three sink methods below."""
        await self.connection.run(self)

    # The connection's sink (called on the app's loop by the worker) ---------------------------

    def frames_received(self, frames: list[protocol.ServerFrameType]) -> None:
        """Frames arrived."""
        self.post_message(self.FramesReceived(frames))

    def link_changed(self, link: Link, detail: str) -> None:
        """The link went up or down."""
        self.post_message(self.LinkChanged(link, detail))

    def forget(self) -> None:
        """The hub asked for a full re-sync: drop what was folded in (after the frames before)."""
        self.post_message(self.Forget())

    # Folding frames --------------------------------------------------------------------------

    def on_war_room_app_frames_received(self, message: FramesReceived) -> None:
        was_synced = self.state.synced
        state, answers = receive_all(self.state, message.frames)
        self.state = state
        self._fit_room_to_role()
        if state.synced and not was_synced:
            self._resume()
        for answer in answers:
            self._answered(answer)

    def on_war_room_app_forget(self, message: Forget) -> None:
        self.state = forget(self.state)

    def on_war_room_app_link_changed(self, message: LinkChanged) -> None:
        self.state = linked(self.state, message.link, message.detail)

    def _resume(self) -> None:
        """After a (re)connect: say where we are and re-send what was never answered."""
        self._send(protocol.View(incident=self.viewing))
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

    def submit(self, command: c.Command, label: str) -> None:
        """Send a command; it shows as pending until the server answers."""
        pending = Pending(id=uuid.uuid4().hex, command=command, sent_at=self.now(), label=label)
        self.state = sent(self.state, pending)
        if self.state.link is Link.ONLINE:
            self._send(protocol.Submit(id=pending.id, command=command))
        else:
            self.notify(f"{label}: offline, will be sent on reconnect", severity="warning")

    def view(self, incident: str | None) -> None:
        """Tell the hub which war room is on screen (for presence)."""
        self.viewing = incident
        if self.state.synced:
            self._send(protocol.View(incident=incident))

    def _send(self, frame: protocol.Submit | protocol.View) -> None:
        self.run_worker(self.connection.send(frame), group="send")

    def _answered(self, answer: Answer) -> None:
        label = answer.pending.label
        command = answer.pending.command
        if answer.accepted:
            if isinstance(command, c.DeclareIncident):
                self.notify(f"Declared: {command.title}", timeout=3)
            else:
                self.notify(f"Done: {label}", timeout=2)
            return
        if answer.code == "conflict" and answer.current is not None:
            self._conflict(answer)
            return
        self.notify(answer.message, title=f"Refused: {label}", severity="error", timeout=8)

    def _conflict(self, answer: Answer) -> None:
        command = answer.pending.command
        current = answer.current
        assert isinstance(command, c.SetImpact | c.SetEta) and current is not None
        if isinstance(command, c.SetImpact):
            what, mine = "impact statement", command.statement
        else:
            what = "ETA"
            mine = local(command.eta) if command.eta else "none"

        def resolved(choice: Resolution | None) -> None:
            if choice is Resolution.KEEP_MINE:
                self.submit(_rebase(command, current.version), f"{what} (kept mine)")
            elif choice is Resolution.MERGE and isinstance(command, c.SetImpact):
                theirs = current.statement if isinstance(current, ImpactConflict) else ""
                self._merge(command, theirs)

        screen = ConflictScreen(
            what, answer.message, mine, current, isinstance(command, c.SetImpact)
        )
        self.push_screen(screen, resolved)

    def _merge(self, mine: c.SetImpact, theirs: str) -> None:
        from client.screens.impact import ImpactScreen

        incident = self.state.world.incident(mine.incident)
        if incident is None:
            return
        merged = f"{theirs}\n{mine.statement}" if theirs else mine.statement
        # Their version number, your flags: the merge is yours to save.
        based = evolve(
            incident.impact, customer_facing=mine.customer_facing, audience=mine.audience
        )
        screen = ImpactScreen(incident.id, based, text=merged, now=self.now())

        def edited(command: c.SetImpact | None) -> None:
            if command is not None:
                self.submit(command, "impact (merged)")

        self.push_screen(screen, edited)

    # Navigation --------------------------------------------------------------------------------

    def open_room(self, incident: str) -> None:
        """Open an incident's war room."""
        self.push_screen(self._room()(incident.upper()))

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


def _rebase(command: c.SetImpact | c.SetEta, version: int) -> c.SetImpact | c.SetEta:
    """The same edit, based on the version the server has now."""
    if isinstance(command, c.SetImpact):
        return c.SetImpact(
            incident=command.incident,
            statement=command.statement,
            customer_facing=command.customer_facing,
            base_version=version,
            audience=command.audience,
        )
    return c.SetEta(
        incident=command.incident,
        eta=command.eta,
        confidence=command.confidence,
        base_version=version,
    )
