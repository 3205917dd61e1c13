"""Helpers of the hub tests: a running hub's handle and the frames of protocol v1."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from warroom.store import Store

TIMEOUT = 10.0


@dataclass
class Hub:
    """A running hub and the tokens of its users."""

    url: str
    store: Store
    tokens: dict[str, str]
    opened: list[ClientConnection] = field(default_factory=list)

    async def connect(self, user: str = "manager", **options: Any) -> ClientConnection:
        """Open a websocket as `user` (no hello sent yet)."""
        connection = await connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self.tokens[user]}"},
            proxy=None,
            compression=None,
            max_size=None,
            **options,
        )
        self.opened.append(connection)
        return connection


async def send(connection: ClientConnection, frame: dict[str, Any]) -> None:
    """Send one protocol frame (v1 is added)."""
    await connection.send(json.dumps({"v": 1, **frame}))


async def receive(connection: ClientConnection, within: float = TIMEOUT) -> dict[str, Any]:
    """The next frame, decoded; fails the test after `within` seconds."""
    message = await asyncio.wait_for(connection.recv(), within)
    data: dict[str, Any] = json.loads(message)
    return data


async def until(connection: ClientConnection, kind: str, within: float = TIMEOUT) -> dict[str, Any]:
    """Skip frames until one of type `kind`; return it."""
    async with asyncio.timeout(within):
        while True:
            frame = await receive(connection, within)
            if frame["type"] == kind:
                return frame


def unbatched(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an `events` or `read.events` frame, each as its own `event` or
    `read.event` frame would carry it."""
    kind = {"events": "event", "read.events": "read.event"}[frame["type"]]
    ident = {"id": frame["id"]} if "id" in frame else {}
    return [{"type": kind, "v": 1, **ident, **part} for part in frame["events"]]


async def hello(connection: ClientConnection, cursor: int | None = 0) -> list[dict[str, Any]]:
    """Say hello and return the replayed events (up to `synced`), each as an `event` frame
    would carry it (the hub sends them batched, in `events` frames)."""
    await send(connection, {"type": "hello", "cursor": cursor})
    welcome = await receive(connection)
    assert welcome["type"] == "welcome"
    events: list[dict[str, Any]] = []
    while True:
        frame = await receive(connection)
        if frame["type"] == "synced":
            return events
        assert frame["type"] == "events", frame
        events += unbatched(frame)


_submitted = 0


async def submit(
    connection: ClientConnection, command: dict[str, Any], ident: str | None = None
) -> dict[str, Any]:
    """Submit a command and return its ack or rejected frame; events seen meanwhile are listed
    under the extra key `seen`."""
    global _submitted
    _submitted += 1
    ident = ident or f"cmd-{_submitted}"
    await send(connection, {"type": "submit", "id": ident, "command": command})
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = await receive(connection)
            if frame["type"] in ("ack", "rejected") and frame["id"] == ident:
                frame["seen"] = seen
                return frame
            assert frame["type"] == "event", frame
            seen.append(frame)


def declare(title: str = "Checkout down") -> dict[str, Any]:
    return {"type": "incident.declare", "title": title, "severity": "SEV1", "apps": ["checkout"]}


def note(text: str, incident: str = "INC-1", audience: str = "internal") -> dict[str, Any]:
    return {"type": "note.add", "incident": incident, "text": text, "audience": audience}


async def declare_private(hub: Hub, connection: ClientConnection, title: str = "Breach") -> str:
    """Declare a private incident; its id (the hub chooses it), read from the log."""
    answer = await submit(connection, {**declare(title), "private": True})
    assert answer["type"] == "ack", answer
    (declared,) = hub.store.log.read(answer["seq"] - 1, 1)
    return declared.event.incident
