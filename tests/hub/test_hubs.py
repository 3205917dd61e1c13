"""Two hubs on one PostgreSQL database: each publishes what the other commits, in order, and a
user changed through one is changed on both."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from websockets import ConnectionClosed, InvalidStatus
from websockets.asyncio.client import ClientConnection

from server.app import run
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.kit.wire import TIMEOUT, Hub, declare, hello, note, receive, submit, unbatched, until
from warroom.core.domain import Role
from warroom.store import Store, open_engine

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server"
)


class _Deaf:
    """A listener that hears nothing: its hub learns of the other's commits only when it asks."""

    def __init__(self, *_args: object) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def deaf_b() -> bool:
    """Whether hub B listens to nothing (see `_Deaf`)."""
    return False


@pytest.fixture
async def hubs(deaf_b: bool, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Hub, Hub]]:
    """Hubs A and B, in this event loop, on one fresh PostgreSQL database."""
    with postgres_database() as url:
        first = Store(open_engine(url))
        tokens = {
            "manager": first.users.add("manager", Role.INCIDENT_MANAGER),
            "responder": first.users.add("rita", Role.RESPONDER),
            "observer": first.users.add("oscar", Role.OBSERVER),
            "exec": first.users.add("erin", Role.STAKEHOLDER, ["exec"]),
        }
        stores = [first, Store(open_engine(url))]
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        running: list[Hub] = []
        try:
            for n, store in enumerate(stores):
                if n == 1 and deaf_b:
                    monkeypatch.setattr("server.app.Listener", _Deaf)
                ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
                tasks.append(
                    asyncio.create_task(run(store, "127.0.0.1", 0, ready.set_result, stop))
                )
                running.append(Hub(await asyncio.wait_for(ready, TIMEOUT), store, tokens))
            yield running[0], running[1]
        finally:
            for hub in running:
                for connection in hub.opened:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 2)
            stop.set()
            for task in tasks:
                await asyncio.wait_for(task, TIMEOUT)
            for store in stores:
                store.close()


async def test_a_note_typed_on_hub_a_reaches_an_observer_on_hub_b(hubs: tuple[Hub, Hub]) -> None:
    a, b = hubs
    observer = await b.connect("observer")
    assert await hello(observer) == []
    stakeholder = await b.connect("exec")
    await hello(stakeholder)
    responder = await a.connect("responder")
    await hello(responder)
    manager = await a.connect("manager")
    await hello(manager)

    declared = await submit(manager, declare())
    typed = await submit(responder, note("db failover started"))
    told = await submit(manager, note("we are on it", audience="all"))
    assert [declared["type"], typed["type"], told["type"]] == ["ack"] * 3

    seen = [await until(observer, "event") for _ in range(3)]
    assert [frame["seq"] for frame in seen] == [declared["seq"], typed["seq"], told["seq"]]
    assert [frame["event"]["type"] for frame in seen] == [
        "incident.declared",
        "note.added",
        "note.added",
    ]
    assert seen[1]["event"]["text"] == "db failover started"
    assert seen[1]["event"]["actor"] == "rita"
    # B's stakeholder gets B's per-audience form: only what their group may see, sealed.
    public = await until(stakeholder, "event")
    assert public["event"]["type"] == "incident.declared"
    shared = await until(stakeholder, "event")
    assert shared["event"]["text"] == "we are on it"
    assert isinstance(shared["seq"], str)


async def test_both_hubs_write_one_gapless_log_and_each_publishes_all_of_it_in_order(
    hubs: tuple[Hub, Hub],
) -> None:
    a, b = hubs
    watchers = [await a.connect("observer"), await b.connect("observer")]
    for watcher in watchers:
        await hello(watcher)
    writers = [await a.connect("manager"), await b.connect("responder")]
    await submit(writers[0], declare())

    async def write(connection: ClientConnection, name: str) -> list[int]:
        frames = [await submit(connection, note(f"{name} {n}")) for n in range(30)]
        assert [frame["type"] for frame in frames] == ["ack"] * 30
        return [frame["seq"] for frame in frames]

    acked = await asyncio.gather(write(writers[0], "a"), write(writers[1], "b"))
    head = 61
    assert sorted(acked[0] + acked[1]) == list(range(2, head + 1))
    for watcher in watchers:
        seqs: list[int] = []
        while len(seqs) < head:
            frame = await receive(watcher)
            if frame["type"] == "event":
                seqs.append(frame["seq"])
        assert seqs == list(range(1, head + 1))  # no gap, no duplicate, in order
    # A late joiner on either hub is replayed the same log.
    for hub in hubs:
        late = await hub.connect("observer")
        assert [frame["seq"] for frame in await hello(late)] == list(range(1, head + 1))


async def test_a_retry_on_hub_b_of_a_command_committed_on_hub_a_gets_its_original_ack(
    hubs: tuple[Hub, Hub],
) -> None:
    a, b = hubs
    on_a = await a.connect("manager")
    await hello(on_a)
    await submit(on_a, declare())
    first = await submit(on_a, note("once"), ident="same-id")
    on_b = await b.connect("manager")
    await hello(on_b)
    again = await submit(on_b, note("once"), ident="same-id")
    assert again["type"] == "ack"
    assert again["seq"] == first["seq"]
    assert a.store.log.head() == first["seq"]


async def test_a_token_revoked_through_one_hubs_database_is_refused_by_every_hub(
    hubs: tuple[Hub, Hub],
) -> None:
    a, b = hubs
    open_on_b = await b.connect("responder")
    await hello(open_on_b)
    a.store.users.revoke("rita")
    for hub in hubs:
        with pytest.raises(InvalidStatus) as refused:
            await hub.connect("responder")
        assert refused.value.response.status_code == 401
    # B closes the connection it had open within its poll of the users (every half second).
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(2):
            while True:
                await open_on_b.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.parametrize("deaf_b", [True])
@pytest.mark.parametrize("user", ["observer", "exec"])
async def test_a_client_moving_to_a_hub_behind_its_cursor_resumes_there(
    hubs: tuple[Hub, Hub], user: str
) -> None:
    a, b = hubs
    manager = await a.connect("manager")
    await hello(manager)
    await submit(manager, declare())
    mover = await a.connect(user)
    await hello(mover)
    await submit(manager, note("told to all", audience="all"))
    frame = await until(mover, "event")
    cursor = frame["seq"]  # sealed for the stakeholder: B must open it too
    await submit(manager, note("after the move", audience="all"))
    await mover.close()
    # B has heard of none of this: it catches up to the cursor instead of resetting the client.
    moved = await b.connect(user)
    await moved.send(json.dumps({"v": 1, "type": "hello", "cursor": cursor}))
    welcome = await until(moved, "welcome")
    assert welcome["reset"] is False
    (rest,) = unbatched(await until(moved, "events"))
    assert rest["event"]["text"] == "after the move"
