"""A hub whose PostgreSQL goes away: commands are refused with `storage` and nothing is
acknowledged, open connections stay open, and once the database answers again the hub carries
on by itself. The database is reached through a TCP proxy the test cuts and restores."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from websockets import InvalidStatus

from server.app import run
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.kit.wire import TIMEOUT, Hub, declare, hello, note, submit, until
from warroom.core.domain import Role
from warroom.store import Store, open_engine

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server"
)


class Proxy:
    """Passes TCP connections on to `target`, on threads of its own (the hub reaches its
    database from the event loop too); `cut` drops them all and refuses new ones until
    `restore`, on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept under way (Linux)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@pytest.fixture
async def outage() -> AsyncIterator[tuple[Hub, Proxy]]:
    """A hub on a fresh PostgreSQL database reached through a `Proxy`."""
    with postgres_database() as direct:
        parts = urlsplit(direct)
        proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxy.restore()
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
        # The proxy runs on this loop: the store is reached from threads only.
        url = urlunsplit(parts._replace(netloc=netloc))
        store = await asyncio.to_thread(lambda: Store(open_engine(url)))
        tokens = {
            "manager": await asyncio.to_thread(store.users.add, "manager", Role.INCIDENT_MANAGER),
            "observer": await asyncio.to_thread(store.users.add, "oscar", Role.OBSERVER),
        }
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.create_task(run(store, "127.0.0.1", 0, ready.set_result, stop))
        hub = Hub(await asyncio.wait_for(ready, TIMEOUT), store, tokens)
        try:
            yield hub, proxy
        finally:
            for connection in hub.opened:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 2)
            stop.set()
            await asyncio.wait_for(task, TIMEOUT)
            await asyncio.to_thread(store.close)
            with contextlib.suppress(Exception):
                proxy.cut()


async def test_commands_are_refused_while_postgresql_is_down_and_the_hub_recovers_by_itself(
    outage: tuple[Hub, Proxy], caplog: pytest.LogCaptureFixture
) -> None:
    hub, proxy = outage
    manager = await hub.connect("manager")
    await hello(manager)
    observer = await hub.connect("observer")
    await hello(observer)
    assert (await submit(manager, declare()))["type"] == "ack"
    await until(observer, "event")

    proxy.cut()
    refused = await submit(manager, note("while the database is down"))
    assert (refused["type"], refused["code"]) == ("rejected", "storage")
    with pytest.raises(InvalidStatus) as refusal:  # a token cannot be checked meanwhile
        await hub.connect("observer")
    assert refusal.value.response.status_code == 503  # not 401: the token is not at fault
    assert b"try again" in refusal.value.response.body

    proxy.restore()
    # The same open connection, no restart: the hub reconnects on its own.
    attempt = 0
    while True:
        attempt += 1
        answer = await submit(manager, note(f"back {attempt}"))
        if answer["type"] == "ack":
            break
        assert answer["code"] == "storage", answer
        assert attempt < 50, "the hub never recovered"
    seen = await until(observer, "event")
    assert seen["event"]["text"] == f"back {attempt}"
    logged = await asyncio.to_thread(hub.store.log.read)
    texts = [getattr(item.event, "text", None) for item in logged]
    assert texts == [None, f"back {attempt}"]  # nothing of the refused command was recorded
    # Each refused group is one line of the log, not a traceback.
    assert not [record for record in caplog.records if record.exc_info], [
        record.getMessage() for record in caplog.records if record.exc_info
    ]
