"""A real hub on 127.0.0.1 port 0, in the test's event loop, with one user per role."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.app import run
from warroom.domain import Role
from warroom.store import EventStore

TIMEOUT = 10.0


@dataclass
class Hub:
    """A running hub and the tokens of its users."""

    url: str
    store: EventStore
    tokens: dict[str, str]
    stop: asyncio.Event
    task: asyncio.Task[None]
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


async def hello(connection: ClientConnection, cursor: int | None = 0) -> list[dict[str, Any]]:
    """Say hello and return the replayed event frames (up to `synced`)."""
    await send(connection, {"type": "hello", "cursor": cursor})
    welcome = await receive(connection)
    assert welcome["type"] == "welcome"
    events = []
    while True:
        frame = await receive(connection)
        if frame["type"] == "synced":
            return events
        assert frame["type"] == "event", frame
        events.append(frame)


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
    seen = []
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


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    store = EventStore(f"sqlite:///{tmp_path / 'hub.db'}")
    tokens = {
        "manager": store.add_user("manager", Role.INCIDENT_MANAGER),
        "responder": store.add_user("rita", Role.RESPONDER),
        "observer": store.add_user("oscar", Role.OBSERVER),
        "exec": store.add_user("erin", Role.STAKEHOLDER, ["exec"]),
        "support": store.add_user("sam", Role.STAKEHOLDER, ["support"]),
    }
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(run(store, "127.0.0.1", 0, ready.set_result, stop))
    url = await asyncio.wait_for(ready, TIMEOUT)
    running = Hub(url, store, tokens, stop, task)
    try:
        yield running
    finally:
        for connection in running.opened:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)
        store.close()
