"""The base of the client's full screens: typed access to the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from client.app import WarRoomApp


class RoomScreen(Screen[None]):
    """A full screen of the war-room app."""

    @property
    def warroom(self) -> WarRoomApp:
        """The app, typed."""
        from client.app import WarRoomApp

        assert isinstance(self.app, WarRoomApp)
        return self.app
