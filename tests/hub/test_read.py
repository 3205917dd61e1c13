"""Reading one incident against a real hub: its events alone, filtered and sealed for each role
exactly as a replay is, with or without a stream, page by page; an incident the reader may not
know of reads exactly like one never declared; bad reads get typed answers and change nothing."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from server import replay as hub_module
from tests.kit.wire import (
    TIMEOUT,
    Hub,
    declare,
    declare_private,
    hello,
    note,
    receive,
    send,
    submit,
    unbatched,
    until,
)

SEALED = re.compile(r"^c[0-9a-f]{16}$")
ROLES = ["manager", "responder", "observer", "exec", "support"]


async def _read(
    connection: ClientConnection, incident: str, ident: str = "r-1"
) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Send a read; return its events (each as a `read.event` frame would carry it), the frame
    that closed it (`read.done`, `rejected` or `error`), and every other frame that arrived
    meanwhile."""
    await send(connection, {"type": "read", "id": ident, "incident": incident})
    events: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = await receive(connection)
            if frame["type"] == "read.events":
                assert frame["id"] == ident, frame
                events += unbatched(frame)
            elif frame["type"] in ("read.done", "rejected", "error"):
                return events, frame, others
            else:
                others.append(frame)


def _pairs(frames: list[dict[str, Any]], incident: str | None = None) -> list[tuple[Any, Any]]:
    """(position, event) of event frames, of one incident if given."""
    return [
        (f["seq"], f["event"])
        for f in frames
        if incident is None or f["event"]["incident"] == incident
    ]


def _note(frame: dict[str, Any]) -> str:
    """The text of a note.added frame ("" for any other)."""
    event = frame["event"]
    return str(event["text"]) if event["type"] == "note.added" else ""


async def _two_incidents(hub: Hub) -> None:
    """INC-1 and INC-2 interleaved, with entries for every audience, a question and its answer,
    and an entry moved to another audience."""
    manager = await hub.connect("manager")
    erin = await hub.connect("exec")
    await submit(manager, declare("Checkout down"))
    await submit(manager, declare("Search slow"))
    for audience in ("internal", "support", "exec", "all"):
        await submit(manager, note(f"INC-1 to {audience}", audience=audience))
        await submit(manager, note(f"INC-2 to {audience}", "INC-2", audience=audience))
    await submit(manager, {"type": "action.add", "incident": "INC-1", "text": "roll back"})
    await submit(manager, {"type": "note.pin", "incident": "INC-1", "note": 4, "pinned": True})
    await submit(erin, {"type": "question.ask", "incident": "INC-1", "text": "when?"})
    answer = {"type": "question.answer", "incident": "INC-1", "question": 1, "text": "soon"}
    await submit(manager, answer)
    move = {"type": "audience.change", "incident": "INC-1", "entry": "N1", "audience": "all"}
    assert (await submit(manager, move))["type"] == "ack"
    await submit(manager, {"type": "status.change", "incident": "INC-1", "status": "identified"})


@pytest.mark.parametrize("role", ROLES)
async def test_a_read_is_the_incidents_part_of_the_replay_for_every_role(
    hub: Hub, role: str
) -> None:
    await _two_incidents(hub)
    replayed = await hello(await hub.connect(role))
    # Before any hello: nothing but the read's answer arrives.
    events, done, others = await _read(await hub.connect(role), "inc-1")
    assert others == []
    assert done["type"] == "read.done" and done["id"] == "r-1" and done["incident"] == "INC-1"
    assert _pairs(events) == _pairs(replayed, "INC-1")
    assert _pairs(events) != _pairs(replayed)  # INC-2 was there to be left out
    texts = [f["event"].get("text") for f in events]
    if role in ("exec", "support"):
        # Sealed positions, disguised numbers, and only what the group may see.
        assert all(SEALED.match(f["seq"]) for f in events) and SEALED.match(done["head"])
        # N1 was internal, then shown to all: it appears at the move, as if just written.
        assert texts.count("INC-1 to internal") == 1 and texts[-2] == "INC-1 to internal"
        assert ("INC-1 to exec" in texts) == (role == "exec")
        assert ("when?" in texts) == (role == "exec")  # her own question, and its answer
        room, _, _ = await _read(await hub.connect("manager"), "INC-1")
        numbers = {_note(f): f["event"]["note"] for f in room if _note(f)}
        disguised = {_note(f): f["event"]["note"] for f in events if _note(f)}
        assert disguised and disguised != {text: numbers[text] for text in disguised}
    else:
        assert [f["seq"] for f in events] == sorted(f["seq"] for f in events)
        assert done["head"] == hub.store.log.head()
        assert "INC-1 to internal" in texts and "INC-2 to all" not in texts


async def test_a_private_incident_reads_as_one_never_declared_to_the_uninvited(hub: Hub) -> None:
    manager = await hub.connect("manager")
    vault = await declare_private(hub, manager)
    await submit(manager, note("who was in the vault", vault, audience="all"))
    await submit(manager, {"type": "access.change", "incident": vault, "user": "rita"})
    await submit(manager, declare("Public outage"))
    for outsider in ("uninvited", "exec"):
        answers = []
        for incident in (vault, "INC-P99"):
            events, closing, others = await _read(await hub.connect(outsider), incident)
            assert events == others == []
            answers.append({**closing, "message": closing["message"].replace(incident, "X")})
        assert answers[0] == answers[1]
        assert answers[0]["type"] == "rejected" and answers[0]["code"] == "not-found"
        assert answers[0]["id"] == "r-1"
    for insider in ("manager", "responder"):  # rita was invited
        events, done, _ = await _read(await hub.connect(insider), vault)
        assert done["type"] == "read.done"
        assert [f["event"]["type"] for f in events] == [
            "incident.declared",
            "note.added",
            "access.changed",
        ]


async def test_bad_reads_get_typed_answers_and_change_nothing(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    head = hub.store.log.head()
    reader = await hub.connect("responder")
    bad = [
        {"type": "read", "id": "two words", "incident": "INC-1"},
        {"type": "read", "id": "", "incident": "INC-1"},
        {"type": "read", "incident": "INC-1"},
        {"type": "read", "id": "r-2"},
        {"type": "read", "id": "r-2", "incident": ""},
        {"type": "read", "id": "r-2", "incident": "INC-" + "1" * 40},
    ]
    for frame in bad:
        await send(reader, frame)
        answer = await receive(reader)
        assert answer["type"] == "error" and answer["code"] == "invalid", (frame, answer)
        assert answer["message"].startswith("invalid read frame")
    events, refused, _ = await _read(reader, "INC-42", "r-3")
    assert events == []
    assert refused == {
        "type": "rejected",
        "v": 1,
        "id": "r-3",
        "code": "not-found",
        "message": "there is no incident INC-42",
        "current": None,
    }
    # The connection carries on, and nothing was recorded.
    events, done, _ = await _read(reader, "INC-1", "r-4")
    assert done["type"] == "read.done" and len(events) == 1
    assert hub.store.log.head() == head


async def test_a_read_before_hello_streams_nothing_after_it(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    reader = await hub.connect("responder")
    events, done, _ = await _read(reader, "INC-1")
    assert len(events) == 1 and done["head"] == 1
    await submit(manager, note("later"))
    with pytest.raises(TimeoutError):
        await until(reader, "event", within=0.5)
    # Hello after a read streams from the read's head on: nothing missed, nothing twice.
    await send(reader, {"type": "hello", "cursor": done["head"]})
    assert (await receive(reader))["type"] == "welcome"
    (replayed,) = unbatched(await receive(reader))
    assert replayed["type"] == "event" and replayed["event"]["text"] == "later"
    assert (await receive(reader))["type"] == "synced"


async def test_a_read_is_paged(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "REPLAY_PAGE", 2)
    await _two_incidents(hub)
    for role in ("manager", "exec"):
        replayed = await hello(await hub.connect(role))
        events, done, _ = await _read(await hub.connect(role), "INC-1")
        assert done["type"] == "read.done"
        assert _pairs(events) == _pairs(replayed, "INC-1")
        assert len(events) > 2


@pytest.mark.parametrize("role", ["manager", "exec"])
async def test_a_read_while_streaming_meets_the_live_events_exactly(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    """Live events of the incident before `read.done` are all in the read; those after it are
    all newer than the read: the read, then the live events after it, is the incident's log."""
    monkeypatch.setattr(hub_module, "REPLAY_PAGE", 3)
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, declare("Elsewhere"))
    for n in range(7):
        await submit(manager, note(f"before {n}", audience="all"))
    # The hub's last page is held back until events of both incidents were published: they
    # go out live while the read is under way, after what that page holds.
    loop = asyncio.get_running_loop()
    paused, release = asyncio.Event(), threading.Event()
    real = hub.store.log.read_incident

    def read_incident(incident: str, after: int, limit: int, upto: int) -> list[tuple[int, str]]:
        rows: list[tuple[int, str]] = real(incident, after, limit, upto)
        if len(rows) < limit and not paused.is_set():
            loop.call_soon_threadsafe(paused.set)
            release.wait(TIMEOUT)
        return rows

    monkeypatch.setattr(hub.store.log, "read_incident", read_incident)
    reader = await hub.connect(role)
    await hello(reader)
    writer = await hub.connect("responder")
    await send(reader, {"type": "read", "id": "r-1", "incident": "INC-1"})
    try:
        await asyncio.wait_for(paused.wait(), TIMEOUT)
        for n in range(3):
            assert (await submit(writer, note(f"during {n}", audience="all")))["type"] == "ack"
            assert (await submit(writer, note(f"elsewhere {n}", "INC-2", "all")))["type"] == "ack"
    finally:
        release.set()
    events: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while (frame := await receive(reader))["type"] != "read.done":
            if frame["type"] == "read.events":
                events += unbatched(frame)
            else:
                before.append(frame)
    assert [f["event"]["text"] for f in before] == [
        f"{where} {n}" for n in range(3) for where in ("during", "elsewhere")
    ]
    read_positions = {f["seq"] for f in events}
    assert {f["seq"] for f in before if f["event"]["incident"] == "INC-1"} <= read_positions
    assert (await submit(writer, note("the end", audience="all")))["type"] == "ack"
    after: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while not after or after[-1]["event"].get("text") != "the end":
            if (frame := await receive(reader))["type"] == "event":
                after.append(frame)
    whole = await hello(await hub.connect(role))
    assert _pairs(events) + _pairs(after, "INC-1") == _pairs(whole, "INC-1")
