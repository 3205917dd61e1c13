"""Batched catch-up against a real hub: a replay and a read come many events to a frame, none
past the frame limit, and hold exactly the events, in the order and the form, that a connection
listening all along received live one frame each: the war room's as they are, a stakeholder's
only what their group may see, sealed."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from server.replay import Replay
from tests.kit.wire import (
    TIMEOUT,
    Hub,
    declare,
    declare_private,
    hello,
    note,
    send,
    submit,
    unbatched,
)
from warroom.core.protocol import MAX_FRAME

SEALED = re.compile(r"^c[0-9a-f]{16}$")

NOTES = 240
"""Notes written: a few hundred bytes each, enough for several frames."""

AUDIENCES = ("internal", "all", "exec", "support")

FILLER = "the payment gateway answers slowly; é ✓ " * 12


async def _frames(connection: ClientConnection, last: str) -> list[str]:
    """Every message up to and including the first of type `last`, as sent."""
    messages: list[str] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await connection.recv()
            assert isinstance(message, str)
            messages.append(message)
            if json.loads(message)["type"] == last:
                return messages


async def _live_until(connection: ClientConnection, text: str) -> list[dict[str, Any]]:
    """The `event` frames received live, up to the one of the note saying `text`."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT * 3):
        while True:
            frame = json.loads(await connection.recv())
            if frame["type"] == "event":
                events.append(frame)
                if frame["event"].get("text") == text:
                    return events


async def _written(hub: Hub) -> str:
    """Declare INC-1 and a private incident, write notes to every audience (pipelined), one to
    the private incident, and last `the end`; return the private incident's id."""
    manager = await hub.connect("manager")
    assert (await submit(manager, declare()))["type"] == "ack"
    private = await declare_private(hub, manager)
    for n in range(NOTES):
        audience = AUDIENCES[n % len(AUDIENCES)]
        command = note(f"{audience} {n}: {FILLER}", audience=audience)
        await send(manager, {"type": "submit", "id": f"n{n}", "command": command})
    acked = 0
    async with asyncio.timeout(TIMEOUT * 3):
        while acked < NOTES:
            answer = json.loads(await manager.recv())
            assert answer["type"] == "ack", answer
            acked += 1
    assert (await submit(manager, note("kept private", private)))["type"] == "ack"
    assert (await submit(manager, note("the end", audience="all")))["type"] == "ack"
    return private


@pytest.mark.parametrize("user", ["observer", "exec"])
async def test_a_catch_up_comes_many_events_to_a_frame_as_they_came_live(
    hub: Hub, user: str
) -> None:
    listener = await hub.connect(user)
    assert await hello(listener) == []
    private = await _written(hub)
    live = await _live_until(listener, "the end")

    late = await hub.connect(user)
    await send(late, {"type": "hello", "cursor": 0})
    welcome, *replayed, synced = await _frames(late, "synced")
    assert json.loads(welcome)["type"] == "welcome"
    frames = [json.loads(message) for message in replayed]
    assert {frame["type"] for frame in frames} == {"events"}
    assert all(len(message.encode()) <= MAX_FRAME for message in replayed)
    events = [event for frame in frames for event in unbatched(frame)]
    assert 1 < len(frames) < len(events)
    # The same events, in the same order, positions and form as one frame each live.
    assert events == live
    assert json.loads(synced)["head"] == events[-1]["seq"]

    texts = [event["event"].get("text", "") for event in events]
    assert "kept private" not in texts and private not in "".join(replayed)
    if user == "exec":
        assert all(SEALED.match(event["seq"]) for event in events)
        assert {text.split()[0] for text in texts if ":" in text} == {"all", "exec"}
    else:
        assert [event["seq"] for event in events] == sorted(event["seq"] for event in events)
        assert {text.split()[0] for text in texts if ":" in text} == set(AUDIENCES)


@pytest.mark.parametrize("user", ["manager", "support"])
async def test_a_read_comes_many_events_to_a_frame_as_they_came_live(hub: Hub, user: str) -> None:
    listener = await hub.connect(user)
    assert await hello(listener) == []
    await _written(hub)
    live = await _live_until(listener, "the end")

    reader = await hub.connect(user)
    await send(reader, {"type": "read", "id": "r-1", "incident": "INC-1"})
    *answered, done = await _frames(reader, "read.done")
    frames = [json.loads(message) for message in answered]
    assert {(frame["type"], frame["id"]) for frame in frames} == {("read.events", "r-1")}
    assert all(len(message.encode()) <= MAX_FRAME for message in answered)
    events = [event for frame in frames for event in unbatched(frame)]
    assert 1 < len(frames) < len(events)
    expected = [
        {**event, "type": "read.event", "id": "r-1"}
        for event in live
        if event["event"]["incident"] == "INC-1"
    ]
    assert events == expected
    assert json.loads(done)["head"] == (events[-1]["seq"] if user == "support" else live[-1]["seq"])
    texts = {event["event"].get("text", "").split(":")[0] for event in events}
    if user == "support":
        assert {text.split()[0] for text in texts if text} == {"all", "support", "the"}
    else:
        assert {text.split()[0] for text in texts if text} == {*AUDIENCES, "the"}


async def test_replays_wanting_one_page_at_once_share_its_read_and_its_frames(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _written(hub)
    users = ["manager", "responder", "observer", "exec", "support"] * 3
    asked = threading.Semaphore(0)
    wanted = Replay._page

    async def wanting(replay: Replay, after: int, upto: int) -> Any:
        asked.release()
        return await wanted(replay, after, upto)

    reads: list[tuple[Any, ...]] = []
    read_raw = hub.store.log.read_raw

    def slow_read(*args: Any) -> list[tuple[int, str]]:
        reads.append(args)
        # Read once every replay wants the page: each of them came while it was being read.
        for _ in users:
            assert asked.acquire(timeout=TIMEOUT)
        return read_raw(*args)

    monkeypatch.setattr(Replay, "_page", wanting)
    monkeypatch.setattr(hub.store.log, "read_raw", slow_read)
    late = [await hub.connect(user) for user in users]
    for connection in late:
        await send(connection, {"type": "hello", "cursor": 0})
    replays = await asyncio.gather(*(_frames(connection, "synced") for connection in late))

    assert len(reads) == 1  # one page (fewer events than a page), read once for all
    by_user: dict[str, list[str]] = {}
    for user, (_, *replayed, _) in zip(users, replays, strict=True):
        assert by_user.setdefault(user, replayed) == replayed
    # The war room's frames are the same but for the private incident, the incident manager's
    # alone; the stakeholders' are each their own, sealed.
    assert by_user["responder"] == by_user["observer"]
    for user, seen in (("manager", NOTES + 4), ("observer", NOTES + 2)):
        events = [event for message in by_user[user] for event in unbatched(json.loads(message))]
        assert len(events) == seen  # the private incident's declaration and note: 2 more
    assert "kept private" in "".join(by_user["manager"])
    assert "kept private" not in "".join(by_user["observer"])
    for stakeholder, group in (("exec", "exec"), ("support", "support")):
        events = [
            event for message in by_user[stakeholder] for event in unbatched(json.loads(message))
        ]
        assert all(SEALED.match(event["seq"]) for event in events)
        texts = {event["event"].get("text", "").split(" ")[0] for event in events}
        assert {text for text in texts if text in AUDIENCES} == {"all", group}
