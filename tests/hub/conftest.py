"""A real hub on 127.0.0.1 port 0, in the test's event loop, with one user per role."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.app import run
from tests.kit.wire import TIMEOUT, Hub
from warroom.core.domain import Role
from warroom.store import Store, open_engine


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    store = Store(open_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    tokens = {
        "manager": store.users.add("manager", Role.INCIDENT_MANAGER),
        "responder": store.users.add("rita", Role.RESPONDER),
        "observer": store.users.add("oscar", Role.OBSERVER),
        "exec": store.users.add("erin", Role.STAKEHOLDER, ["exec"]),
        "support": store.users.add("sam", Role.STAKEHOLDER, ["support"]),
        "uninvited": store.users.add("uma", Role.RESPONDER),
    }
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(run(store, "127.0.0.1", 0, ready.set_result, stop))
    url = await asyncio.wait_for(ready, TIMEOUT)
    running = Hub(url, store, tokens)
    try:
        yield running
    finally:
        for connection in running.opened:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)
        store.close()
