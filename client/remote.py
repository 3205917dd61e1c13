"""The war room an SSH session runs: its terminal is on another machine, and nothing it offers
touches the files of the server it runs on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen

from client.app import WarRoomApp

FILE_COMMANDS = frozenset({"Screenshot"})
"""The palette's own commands that write a file (Textual offers no other)."""


class RemoteWarRoomApp(WarRoomApp):
    """The war room for a terminal on another machine (an SSH session, started by the gateway).

    Its user is not the server's: nothing here may write the server's files or start its
    programs. The palette does not offer the screenshot, and every way to one (a key, an action
    named in text, a call) refuses with a notice, as do the file deliveries and opening a URL
    (which would start a browser on the server).
    """

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in FILE_COMMANDS:
                yield command

    def _refuse(self, what: str) -> None:
        self.notify(
            f"Not over SSH: {what} would happen on the server, not on your machine.",
            severity="warning",
            markup=False,
        )

    # Textual's own hooks, whatever they are called with: each refuses.

    def action_screenshot(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("a screenshot")

    def save_screenshot(self, *args: Any, **kwargs: Any) -> str:
        self._refuse("a screenshot")
        raise PermissionError("an SSH session writes no file on the server")

    def deliver_screenshot(self, *args: Any, **kwargs: Any) -> str | None:
        self._refuse("a screenshot")
        return None

    def deliver_text(self, *args: Any, **kwargs: Any) -> str | None:
        self._refuse("saving a file")
        return None

    def deliver_binary(self, *args: Any, **kwargs: Any) -> str | None:
        self._refuse("saving a file")
        return None

    def open_url(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("opening a link")
