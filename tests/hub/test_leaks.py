"""A leak scan: internal and group-B entries carry canaries; no byte sent to a group-A
stakeholder holds one, live, on catch-up from any cursor, or in an error."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.client import ClientConnection
from wire import Hub, declare, note, send, submit

CANARY = "CANARY"


async def _record(
    connection: ClientConnection, sink: list[str], answers: int, done: asyncio.Event
) -> None:
    """Keep every message; set `done` once `answers` replies to pokes have arrived."""
    with contextlib.suppress(Exception):
        async for message in connection:
            sink.append(str(message))
            if sum('"id":"poke-' in m for m in sink) >= answers:
                done.set()


async def test_no_canary_reaches_a_group_a_stakeholder(hub: Hub) -> None:
    manager = await hub.connect("manager")
    sam = await hub.connect("support")  # group B
    erin = await hub.connect("exec")  # group A: every byte she receives is kept
    received: list[str] = []
    await send(erin, {"type": "hello", "cursor": 0})
    poked = asyncio.Event()
    recorder = asyncio.create_task(_record(erin, received, 4, poked))

    await submit(manager, declare())
    inc = "INC-1"
    secret = [
        note(f"{CANARY} internal note", inc),
        note(f"{CANARY} support-only note", inc, audience="support"),
        {"type": "action.add", "incident": inc, "text": f"{CANARY} internal action"},
        {
            "type": "mitigation.add",
            "incident": inc,
            "text": f"{CANARY} B fix",
            "audience": "support",
        },
        {
            "type": "impact.set",
            "incident": inc,
            "statement": f"{CANARY} internal impact",
            "base_version": 0,
        },
        {"type": "action.change-state", "incident": inc, "action": 1, "state": "done"},
        {"type": "note.pin", "incident": inc, "note": 1, "pinned": True},
    ]
    for command in secret:
        assert (await submit(manager, command))["type"] == "ack"
    asked = {"type": "question.ask", "incident": inc, "text": f"{CANARY} sam asks privately"}
    assert (await submit(sam, asked))["type"] == "ack"
    private_answer = {
        "type": "question.answer",
        "incident": inc,
        "question": 1,
        "text": f"{CANARY} only for sam",
    }
    assert (await submit(manager, private_answer))["type"] == "ack"
    # What erin may see, so the scan is not vacuous.
    for command in (
        note("for everyone", inc, audience="all"),
        note("for the execs", inc, audience="exec"),
        {"type": "status.change", "incident": inc, "status": "identified"},
    ):
        assert (await submit(manager, command))["type"] == "ack"
    # Errors: erin pokes at entries she cannot see.
    pokes = [
        {"type": "question.answer", "incident": inc, "question": 1, "text": "x"},
        {"type": "action.change-state", "incident": inc, "action": 1, "state": "next"},
        {"type": "audience.change", "incident": inc, "entry": "N1", "audience": "exec"},
        {"type": "note.pin", "incident": inc, "note": 2, "pinned": True},
    ]
    for n, command in enumerate(pokes):
        await send(erin, {"type": "submit", "id": f"poke-{n}", "command": command})
    await send(erin, {"type": "question.ask"})  # garbage, to get an error frame too

    assert len(pokes) == 4
    await asyncio.wait_for(poked.wait(), 10)
    recorder.cancel()

    # Catch-up from every cursor goes through the same filter.
    for cursor in range(0, 14):
        late = await hub.connect("exec")
        await send(late, {"type": "hello", "cursor": cursor})
        while True:
            message = str(await asyncio.wait_for(late.recv(), 10))
            received.append(message)
            if json.loads(message)["type"] == "synced":
                break
        await late.close()

    texts = [json.loads(m).get("event", {}).get("text") for m in received]
    assert "for everyone" in texts and "for the execs" in texts
    leaked = [m for m in received if CANARY in m]
    assert leaked == []
    # Nor who else asked: sam's name never reaches erin.
    assert not any('"sam"' in m for m in received)
