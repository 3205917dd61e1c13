"""The SSH gateway's session tokens: in memory only, the user as they are now, gone when ended.

A real hub (`server.hub.Hub`, the object the gateway holds) on 127.0.0.1 port 0, real websocket
clients.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets import InvalidStatus
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from server.hub import Hub
from tests.kit.wire import TIMEOUT, receive, send
from warroom.core.domain import Role, World
from warroom.store import Store, open_engine


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Hub, str]]:
    store = Store(open_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    store.users.add("ana", Role.RESPONDER)
    hub = Hub(store, World(), 0)
    hub.sequencer.start()
    try:
        async with serve(hub.handle, "127.0.0.1", 0, process_request=hub.authenticate) as server:
            port = server.sockets[0].getsockname()[1]
            yield hub, f"ws://127.0.0.1:{port}"
    finally:
        hub.sequencer.stop()
        store.close()


async def _welcome(url: str, token: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, proxy=None, open_timeout=TIMEOUT) as client:
        await send(client, {"type": "hello", "cursor": None})
        frame = await receive(client)
        assert frame["type"] == "welcome", json.dumps(frame)
        return frame


async def _refused(url: str, token: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await _welcome(url, token)
    return refused.value.response.status_code


async def test_a_session_token_logs_the_user_in_as_they_are_now(live: tuple[Hub, str]) -> None:
    hub, url = live
    token = hub.session_token("ana")
    assert (await _welcome(url, token))["role"] == "responder"
    hub.store.users.change("ana", Role.STAKEHOLDER, ["exec"])
    welcome = await _welcome(url, token)
    assert (welcome["user"], welcome["role"], welcome["groups"]) == ("ana", "stakeholder", ["exec"])


async def test_a_session_token_is_never_stored(live: tuple[Hub, str]) -> None:
    hub, _ = live
    token = hub.session_token("ana")
    # The store knows nothing of it: it cannot outlive the server.
    assert hub.store.users.authenticate(token) is None


async def test_an_ended_session_token_is_refused(live: tuple[Hub, str]) -> None:
    hub, url = live
    token = hub.session_token("ana")
    other = hub.session_token("ana")
    hub.end_session_token(token)
    assert await _refused(url, token) == 401
    assert (await _welcome(url, other))["user"] == "ana"
    hub.end_session_token(token)  # ending twice is harmless


async def test_a_revoked_users_session_token_is_refused(live: tuple[Hub, str]) -> None:
    hub, url = live
    token = hub.session_token("ana")
    hub.store.users.revoke("ana")
    assert await _refused(url, token) == 401
    unknown = hub.session_token("nobody")
    assert await _refused(url, unknown) == 401
