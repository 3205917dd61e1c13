"""Fair share, one promise at a time, on a real hub: rate limits, coalesced presence, the
slow-consumer cap on every frame, small refusals, connections per user, silent sockets, plain
HTTP requests and frames the decoder cannot type, floods read a slice at a time, a group commit
and a replay written a page at a time, and the CLI sending again what was refused for its rate.

Limits are lowered with `monkeypatch` where the default would take thousands of frames to meet;
the hub runs in the test's process, so it reads the lowered value."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import logging
import socket
import time
from typing import Any

import pytest
from websockets import ConnectionClosed, State
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus

from server import limits
from tests.kit.wire import Hub, declare, hello, note, receive, send, submit, until
from warroom.core.commands import AddNote
from warroom.net import remote
from warroom.net.remote import Remote, RemoteError


def _impact(statement: str, base: int) -> dict[str, Any]:
    return {"type": "impact.set", "incident": "INC-1", "statement": statement, "base_version": base}


async def _answers(connection: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` acks and refusals, events skipped."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(20):
        while len(found) < count:
            frame = await receive(connection)
            if frame["type"] in ("ack", "rejected"):
                found.append(frame)
    return found


async def test_commands_past_the_bucket_are_refused_rate_limited_and_the_retry_is_taken(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "SUBMIT_BURST", 5)
    monkeypatch.setattr(limits, "SUBMIT_RATE", 2.0)
    manager = await hub.connect("manager")
    await submit(manager, declare())
    rita = await hub.connect("responder")
    for n in range(12):
        await send(rita, {"type": "submit", "id": f"n{n}", "command": note(f"burst {n}")})
    answers = {frame["id"]: frame for frame in await _answers(rita, 12)}
    refused = [ident for ident, frame in answers.items() if frame["type"] == "rejected"]
    assert len(refused) >= 3, answers  # every other one past the burst: the hub paused between
    first = answers[refused[0]]
    assert first["code"] == "rate-limited"
    assert "too many commands" in first["message"] and "send it again" in first["message"]
    # Nothing refused was recorded; the connection was not cut, and a retry with the same id,
    # after the wait it was told, is taken.
    await asyncio.sleep(1.0)
    again = await submit(rita, note(f"burst {refused[0][1:]}"), ident=refused[0])
    assert again["type"] == "ack"
    texts = [f["event"].get("text") for f in await hello(await hub.connect("observer"))]
    assert len(texts) == 1 + 12 - len(refused) + 1


async def test_a_connection_that_ignores_every_refusal_is_closed(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each refusal pauses the connection 20 ms; 50 of them without a pause of its own: closed.
    monkeypatch.setattr(limits, "SUBMIT_BURST", 5)
    monkeypatch.setattr(limits, "SUBMIT_RATE", 50.0)
    monkeypatch.setattr(limits, "MAX_STRIKES", 50)
    oscar = await hub.connect("observer")
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(20):
            for n in range(5000):
                await send(oscar, {"type": "submit", "id": f"x{n}", "command": note("no")})
            while True:
                await receive(oscar)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # Others carry on.
    assert (await submit(await hub.connect("manager"), declare()))["type"] == "ack"


async def test_view_changes_past_the_bucket_are_refused_rate_limited(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "VIEW_BURST", 3)
    manager = await hub.connect("manager")
    await submit(manager, declare())
    for _ in range(10):
        await send(manager, {"type": "view", "incident": "INC-1"})
    error = await until(manager, "error")
    assert error["code"] == "rate-limited" and "view changes" in error["message"]


async def test_presence_is_coalesced_per_incident(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "VIEW_BURST", 10_000)
    watcher = await hub.connect("manager")
    await hello(watcher)
    await submit(watcher, declare())
    rita = await hub.connect("responder")
    await hello(rita)
    started = time.monotonic()
    for n in range(400):
        await send(rita, {"type": "view", "incident": "INC-1" if n % 2 == 0 else None})
    await send(rita, {"type": "view", "incident": "INC-1"})
    frames: list[dict[str, Any]] = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.5):
            while True:
                frames.append(await until(watcher, "presence"))
    elapsed = time.monotonic() - started
    # Today one frame a change: 401. Coalesced: a few a second, the last one the latest list.
    assert 1 <= len(frames) <= 4 * elapsed + 2, len(frames)
    assert frames[-1]["users"] == ["rita"]


async def test_a_connection_that_stops_reading_its_answers_is_dropped(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_BUFFER", 64 * 1024)
    manager = await hub.connect("manager")
    await submit(manager, declare())
    text = "z" * 15_000
    for n in range(200):  # 3 MB of notes
        await send(manager, {"type": "submit", "id": f"big{n}", "command": note(f"{n} {text}")})
    assert all(answer["type"] == "ack" for answer in await _answers(manager, 200))
    # It never says hello (no event is sent to it) and never reads: a tiny receive buffer, and a
    # small queue that fills at once. What it asks for is answered with read frames alone.
    sock = socket.create_connection(("127.0.0.1", int(hub.url.rsplit(":", 1)[1])))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    oscar = await hub.connect("observer", sock=sock, max_queue=4)
    reads = 8  # 24 MB of answers: more than the kernel's buffers hold
    for n in range(reads):
        await send(oscar, {"type": "read", "id": f"r{n}", "incident": "INC-1"})
    await asyncio.sleep(1.0)
    done = 0
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(30):
            while True:
                done += (await receive(oscar))["type"] == "read.done"
    assert done < reads
    assert (await submit(manager, note("the room carries on")))["type"] == "ack"


async def test_a_stale_edit_carries_the_current_statement_once_per_version(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    statement = "the whole EU cannot pay. " * 600  # 15,000 characters
    assert (await submit(manager, _impact(statement, 0)))["type"] == "ack"
    rita = await hub.connect("responder")
    first = await submit(rita, _impact("mine", 0))
    assert first["code"] == "conflict" and first["current"]["statement"] == statement.strip()
    for _ in range(5):
        again = await submit(rita, _impact("mine", 0))
        assert again["code"] == "conflict" and again.get("current") is None
        assert "version 1" in again["message"]
        assert len(json.dumps(again)) < 1000
    # A newer version is sent once again.
    assert (await submit(manager, _impact("v2", 1)))["type"] == "ack"
    newer = await submit(rita, _impact("mine", 0))
    assert newer["current"]["statement"] == "v2"


async def test_refusals_that_quote_what_was_sent_stay_small(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    huge = "x" * 60_000
    refused = await submit(manager, {"type": "app.remove", "incident": "INC-1", "app": huge})
    assert refused["code"] == "not-found" and len(refused["message"]) <= limits.MAX_REFUSAL
    await send(manager, {"type": huge[:50_000]})
    error = await until(manager, "error")
    assert error["code"] == "unknown-type" and len(error["message"]) < 200


async def test_one_user_holds_a_bounded_number_of_connections(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("server.handshake.MAX_CONNECTIONS_PER_USER", 3)
    held = [await hub.connect("responder") for _ in range(3)]
    with pytest.raises(InvalidStatus) as refused:
        await hub.connect("responder")
    assert refused.value.response.status_code == 429
    assert b"rita already holds 3 connections" in refused.value.response.body
    other = await hub.connect("manager")  # another user is not held back
    await hello(other)
    await held[0].close()
    async with asyncio.timeout(5):
        while True:  # the closed one's place is freed once its handler ends
            try:
                await hello(await hub.connect("responder"))
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)


async def test_a_socket_that_sends_no_frame_is_closed(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert limits.FIRST_FRAME_TIMEOUT <= 10
    monkeypatch.setattr("server.hub.FIRST_FRAME_TIMEOUT", 0.5)
    silent = await hub.connect("observer")
    with pytest.raises(ConnectionClosed) as closed:
        await receive(silent, within=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "hello" in closed.value.rcvd.reason
    talking = await hub.connect("observer")
    await hello(talking)
    await asyncio.sleep(1.0)
    await send(talking, {"type": "view", "incident": None})  # still open past the timeout
    assert (await submit(talking, note("no")))["type"] == "rejected"


async def test_a_flood_waiting_in_the_kernel_is_read_a_slice_at_a_time(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read = asyncio.Event()
    received = ServerConnection.data_received

    def counted(connection: ServerConnection, data: bytes) -> None:
        reads.append(len(data))
        read.set()
        received(connection, data)

    monkeypatch.setattr(ServerConnection, "data_received", counted)
    rita = await hub.connect("responder")
    await hello(rita)
    # 4,000 view changes written at once, without yielding to the event loop (the hub's, in
    # this test): they wait in the kernel until the hub reads them, as a flood does while the
    # hub pauses a connection over its rate.
    view = json.dumps({"v": 1, "type": "view", "incident": None})
    for _ in range(4000):
        rita.protocol.send_text(view.encode())
    waiting = b"".join(rita.protocol.data_to_send())
    assert len(waiting) > 4 * limits.READ_SLICE
    reads.clear()
    read.clear()
    rita.transport.write(waiting)
    await asyncio.wait_for(read.wait(), 10)
    # One turn of the loop parses a slice (about 350 of these frames), never 256 KiB at once.
    assert max(reads) == limits.READ_SLICE, reads


async def test_the_cli_sends_a_command_refused_for_its_rate_again(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    monkeypatch.setattr(limits, "SUBMIT_BURST", 2)
    monkeypatch.setattr(limits, "SUBMIT_RATE", 5.0)
    async with await Remote.open(hub.url, hub.tokens["responder"]) as cli:
        submits: list[str] = []
        send_frame = cli.connection.send

        async def counted(message: str) -> None:
            if '"submit"' in message:
                submits.append(message)
            await send_frame(message)

        monkeypatch.setattr(cli.connection, "send", counted)
        started = time.monotonic()
        for n in range(6):
            await cli.submit(AddNote(incident="INC-1", text=f"scripted {n}"))
        # Two at once, then five a second: the hub refused some and each went again, once the
        # pause it asked for (0.2 s) had passed.
        assert len(submits) > 6
        assert time.monotonic() - started >= 0.6
    events = await hello(await hub.connect("observer"))
    texts = [event["event"].get("text") for event in events]
    assert [text for text in texts if text] == [f"scripted {n}" for n in range(6)]


async def test_the_cli_gives_up_on_a_rate_limit_it_cannot_wait_out(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    monkeypatch.setattr(limits, "SUBMIT_BURST", 1)
    monkeypatch.setattr(limits, "SUBMIT_RATE", 0.01)  # the next token in 100 s
    assert remote.MAX_RATE_LIMITED_WAIT < 100
    async with await Remote.open(hub.url, hub.tokens["responder"]) as cli:
        await cli.submit(AddNote(incident="INC-1", text="the one allowed"))
        started = time.monotonic()
        with pytest.raises(RemoteError) as refused:
            await cli.submit(AddNote(incident="INC-1", text="one too many"))
        assert refused.value.code == "rate-limited"
        assert time.monotonic() - started < 5  # answered, not waited out


def _writes_to(client: ClientConnection) -> list[int]:
    """The sizes of the hub's writes to `client` from now on (the hub runs in this process)."""
    local = client.transport.get_extra_info("sockname")
    gc.collect()
    (theirs,) = [  # type(), not isinstance(): a weak proxy of it passes isinstance too
        o
        for o in gc.get_objects()
        if type(o) is ServerConnection and o.remote_address == local and o.state is State.OPEN
    ]
    writes: list[int] = []
    write = theirs.transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(len(data))
        write(data)

    theirs.transport.write = counted  # type: ignore[method-assign]
    return writes


async def test_a_group_commit_reaches_each_watcher_in_one_write(hub: Hub) -> None:
    watcher = await hub.connect("observer")
    await hello(watcher)
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await until(watcher, "event")
    writes = _writes_to(watcher)
    count = 40
    for n in range(count):  # sent at once: the writer commits them in a few groups
        await send(manager, {"type": "submit", "id": f"g{n}", "command": note(f"group {n}")})
    assert all(answer["type"] == "ack" for answer in await _answers(manager, count))
    events = [await until(watcher, "event") for _ in range(count)]
    assert [event["event"]["text"] for event in events] == [f"group {n}" for n in range(count)]
    # One write per group commit, not one per event (each write is a system call).
    assert len(writes) <= count // 4, writes


async def test_a_replay_is_written_a_page_at_a_time(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    count = 200
    for n in range(count):
        await send(manager, {"type": "submit", "id": f"p{n}", "command": note(f"past {n}")})
    assert all(answer["type"] == "ack" for answer in await _answers(manager, count))
    joining = await hub.connect("observer")
    writes = _writes_to(joining)
    replayed = await hello(joining)
    assert len(replayed) == count + 1
    # The welcome, one page, the synced: not a write (a system call) per event.
    assert len(writes) <= 5, len(writes)


def _server_connections() -> int:
    gc.collect()
    return sum(isinstance(o, ServerConnection) for o in gc.get_objects())


async def test_plain_http_requests_with_a_valid_token_leave_nothing_behind(hub: Hub) -> None:
    host, port = hub.url.removeprefix("ws://").rsplit(":", 1)
    headers = {"Authorization": f"Bearer {hub.tokens['responder']}"}

    def get(count: int) -> set[int]:
        statuses = set()
        for _ in range(count):
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("GET", "/", headers=headers)
            statuses.add(connection.getresponse().status)
            connection.close()
        return statuses

    await asyncio.to_thread(get, 20)
    before = _server_connections()
    assert await asyncio.to_thread(get, 300) == {200}  # the status page
    for _ in range(50):  # the server ends its side of each request within moments
        after = _server_connections()
        if after <= before + 10:
            break
        await asyncio.sleep(0.1)
    assert after <= before + 10, f"{after - before} connections of plain requests are kept"


async def test_a_frame_whose_type_is_not_a_string_gets_an_error_and_no_traceback(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    manager = await hub.connect("manager")
    await hello(manager)
    odd: list[Any] = [{"a": 1}, [1, 2], 3, None, True, 1.5]
    for kind in odd:
        await send(manager, {"type": kind})
        error = await until(manager, "error")
        assert error["code"] in ("unknown-type", "bad-frame"), error
    for raw in ("[]", "{", '{"v":1,"type":"submit","id":{"x":1},"command":[]}', b"\x00"):
        await manager.send(raw)
        assert (await until(manager, "error"))["code"] in ("bad-frame", "invalid")
    assert (await submit(manager, declare()))["type"] == "ack"
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == []
