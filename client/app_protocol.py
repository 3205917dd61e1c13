"""What the screens ask of the app, as a protocol: they depend on this, never on `client.app`.

`client.app.WarRoomApp` satisfies it; the app imports the screens, so a screen that imported the
app back would close an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from textual.dom import DOMNode
from textual.screen import Screen

from client.state import ClientState
from warroom.core.commands import Command

R = TypeVar("R")


@runtime_checkable
class ClientApp(Protocol):
    """The app as its screens see it: the state, the clock, sending commands, navigating."""

    @property
    def state(self) -> ClientState:
        """Everything the client knows (a reactive on the app: watch it to re-render)."""
        ...

    def now(self) -> datetime:
        """The current time (frozen in snapshot tests)."""
        ...

    def allowed(self, command_type: type) -> bool | None:
        """Whether the user's role may send `command_type`: True, None (greyed) or False
        (hidden)."""
        ...

    def submit(
        self,
        command: Command,
        label: str,
        refused: Callable[[str], None] | None = None,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        """Send a command; it shows as pending until the server answers. `refused` is called
        with the hub's reason if it refuses the command (not for a stale edit), `accepted`
        once it accepts it."""
        ...

    @property
    def known_groups(self) -> tuple[str, ...]:
        """The stakeholder groups some user holds: the audiences there are to choose from."""
        ...

    def view(self, incident: str | None) -> None:
        """Tell the hub which war room is on screen (for presence)."""
        ...

    def open_room(self, incident: str) -> None:
        """Open an incident's war room."""
        ...

    def push_screen(
        self, screen: Screen[R], callback: Callable[[R | None], None] | None = None
    ) -> object:
        """Show `screen` on top; `callback` gets its result when it is dismissed."""
        ...


def client_app(node: DOMNode) -> ClientApp:
    """The app `node` runs in, typed as what the screens may ask of it."""
    app = node.app
    assert isinstance(app, ClientApp), f"{type(app).__name__} is not a warroom client app"
    return app
