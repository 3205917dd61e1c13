"""A leak scan: internal and group-B entries, and a private incident, carry canaries; no byte
sent to a group-A stakeholder, nor to a responder not invited to the private incident, holds one,
live, on catch-up from any cursor, or in an error. Nor does any position a stakeholder is sent
count the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.kit.wire import Hub, declare, declare_private, note, send, submit

CANARY = "CANARY"
VAULT = "VAULT-CANARY"
"""In the private incident: no byte to the uninvited may hold it (internal canaries may)."""


async def _record(
    connection: ClientConnection, sink: list[str], answers: int, done: asyncio.Event
) -> None:
    """Keep every message; set `done` once `answers` replies to pokes have arrived."""
    with contextlib.suppress(Exception):
        async for message in connection:
            sink.append(str(message))
            if sum('"id":"poke-' in m for m in sink) >= answers:
                done.set()


async def test_no_canary_reaches_a_group_a_stakeholder_or_the_uninvited(hub: Hub) -> None:
    manager = await hub.connect("manager")
    sam = await hub.connect("support")  # group B
    erin = await hub.connect("exec")  # group A: every byte she receives is kept
    received: list[str] = []
    await send(erin, {"type": "hello", "cursor": 0})
    poked = asyncio.Event()
    recorder = asyncio.create_task(_record(erin, received, 4, poked))
    uma = await hub.connect("uninvited")  # a responder, not invited to the private incident
    uma_received: list[str] = []
    await send(uma, {"type": "hello", "cursor": 0})
    uma_poked = asyncio.Event()
    uma_recorder = asyncio.create_task(_record(uma, uma_received, 3, uma_poked))

    await submit(manager, declare())
    inc = "INC-1"
    private = await declare_private(hub, manager, f"{VAULT} private breach")
    for command in (
        note(f"{VAULT} private note to all", private, audience="all"),
        {"type": "access.change", "incident": private, "user": "rita"},
        {"type": "access.change", "incident": private, "user": "sam"},
        {"type": "status.change", "incident": private, "status": "identified"},
    ):
        assert (await submit(manager, command))["type"] == "ack"
    await send(manager, {"type": "view", "incident": private})  # presence in the private room
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
    pokes: list[dict[str, Any]] = [
        {"type": "question.answer", "incident": inc, "question": 1, "text": "x"},
        {"type": "action.change-state", "incident": inc, "action": 1, "state": "next"},
        {"type": "audience.change", "incident": inc, "entry": "N1", "audience": "exec"},
        {"type": "note.pin", "incident": inc, "note": 2, "pinned": True},
    ]
    for n, command in enumerate(pokes):
        await send(erin, {"type": "submit", "id": f"poke-{n}", "command": command})
    await send(erin, {"type": "question.ask"})  # garbage, to get an error frame too

    assert len(pokes) == 4
    # uma pokes at the private incident: each refusal reads as for a missing incident.
    uma_pokes: list[dict[str, Any]] = [
        note("x", private),
        {"type": "status.change", "incident": private, "status": "monitoring"},
        {"type": "question.ask", "incident": private, "text": "x"},
    ]
    for n, command in enumerate(uma_pokes):
        await send(uma, {"type": "submit", "id": f"poke-{n}", "command": command})
    await send(uma, {"type": "view", "incident": private})
    await asyncio.wait_for(poked.wait(), 10)
    await asyncio.wait_for(uma_poked.wait(), 10)
    recorder.cancel()
    uma_recorder.cancel()

    # Catch-up from every cursor erin was given, and from plain numbers, goes through the same
    # filter; so does uma's.
    cursors: list[object] = [
        json.loads(m).get("seq") for m in received if json.loads(m)["type"] == "event"
    ]
    for user, sink, starts in (
        ("exec", received, [0, *cursors, *range(1, 30)]),
        ("uninvited", uma_received, range(0, 30)),
    ):
        for cursor in starts:
            late = await hub.connect(user)
            await send(late, {"type": "hello", "cursor": cursor})
            while True:
                message = str(await asyncio.wait_for(late.recv(), 10))
                sink.append(message)
                if json.loads(message)["type"] == "synced":
                    break
            await late.close()

    # The id appears only where uma named it herself: in the refusals of her own pokes.
    leaked_to_uma = [
        m
        for m in uma_received
        if VAULT in m or (private in m and json.loads(m)["type"] not in ("rejected", "error"))
    ]
    assert leaked_to_uma == []
    assert any("for everyone" in m for m in uma_received)  # the scan is not vacuous
    refusals = [json.loads(m) for m in uma_received if '"id":"poke-' in m]
    assert {(r["code"], r["message"]) for r in refusals} <= {
        ("not-found", f"there is no incident {private}"),
        ("forbidden", "a user with role responder may not ask questions"),
    }
    # No position erin was sent is a number: nothing she holds counts the log.
    for message in received:
        frame = json.loads(message)
        for key in ("seq", "head"):
            if key in frame:
                assert isinstance(frame[key], str), frame

    texts = [json.loads(m).get("event", {}).get("text") for m in received]
    assert "for everyone" in texts and "for the execs" in texts
    leaked = [m for m in received if CANARY in m or private in m]
    assert leaked == []
    # Nor who else asked: sam's name never reaches erin.
    assert not any('"sam"' in m for m in received)
