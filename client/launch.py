"""`warroom join`: the terminal client against a running hub."""

from __future__ import annotations

from client.app import WarRoomApp
from client.connection import WebSocketConnection


def join(
    url: str, token: str, incident: str | None, observer: bool, notice: str | None = None
) -> None:
    """Open the terminal client against a running hub."""
    connection = WebSocketConnection(url, token, observer=observer)
    WarRoomApp(connection, incident=incident, notice=notice).run()
