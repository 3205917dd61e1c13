"""A web page of another origin cannot open a websocket to the hub: a request whose `Origin` is
not the hub's own address, or one the operator allows, is refused with 403 before the upgrade.
Requests without `Origin` (the CLI, the TUI) need none. Real websocket clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets import InvalidStatus

from server.app import run
from server.transport import allowed_origins
from tests.kit.wire import TIMEOUT, Hub, send, until
from warroom.core.domain import Role
from warroom.store import Store, open_engine


async def _works(hub: Hub, **options: str) -> None:
    connection = await hub.connect(**options)
    await send(connection, {"type": "hello", "cursor": 0})
    await until(connection, "synced")
    await connection.close()


async def _refused(hub: Hub, origin: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await hub.connect(origin=origin)
    assert refused.value.response.status_code == 403


async def test_a_request_without_origin_is_unaffected(hub: Hub) -> None:
    await _works(hub)


async def test_the_hubs_own_address_is_an_allowed_origin(hub: Hub) -> None:
    port = hub.url.rsplit(":", 1)[1]
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        await _works(hub, origin=origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://127.0.0.1:1",  # another port of this machine
        "https://127.0.0.1:{port}",  # the hub serves no TLS here
        "null",
        "",
    ],
)
async def test_another_origin_is_refused_before_the_upgrade(hub: Hub, origin: str) -> None:
    await _refused(hub, origin.format(port=hub.url.rsplit(":", 1)[1]))


@pytest.fixture
async def allowing(tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub that also allows the origin https://warroom.example."""
    store = Store(open_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    tokens = {"manager": store.users.add("manager", Role.INCIDENT_MANAGER)}
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    allowed = allowed_origins(["https://warroom.example"])
    task = asyncio.create_task(
        run(store, "127.0.0.1", 0, ready.set_result, stop, allow_origins=allowed)
    )
    try:
        yield Hub(await asyncio.wait_for(ready, TIMEOUT), store, tokens)
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)
        store.close()


async def test_an_origin_the_operator_allows_may_connect(allowing: Hub) -> None:
    await _works(allowing, origin="https://warroom.example")
    await _works(allowing, origin="https://WARROOM.example:443")
    await _refused(allowing, "http://warroom.example")
    await _refused(allowing, "https://warroom.example.evil.example")
