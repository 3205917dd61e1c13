"""Lobbies against a real hub: a summary hello gets one summary per incident the user may see
(made by the same rules as their room), then live events and a fresh summary of each incident
that changes for them, and `incident.gone` when one is taken out of their sight."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.kit.wire import TIMEOUT, Hub, declare, declare_private, note, receive, send, submit
from warroom.core import protocol
from warroom.core.domain import Actor, Role
from warroom.core.reducer import replay
from warroom.core.summary import summarize

ACTORS = {
    "manager": Actor("manager", Role.INCIDENT_MANAGER),
    "responder": Actor("rita", Role.RESPONDER),
    "observer": Actor("oscar", Role.OBSERVER),
    "exec": Actor("erin", Role.STAKEHOLDER, frozenset({"exec"})),
    "support": Actor("sam", Role.STAKEHOLDER, frozenset({"support"})),
    "uninvited": Actor("uma", Role.RESPONDER),
}
PRIVATE = "the private incident"
"""Stands in `SEEN` for the private incident's id, which the hub chooses (`_world` returns it)."""


def seen(role: str, private: str) -> set[str]:
    """The incidents `role` may see, the private one under the id the hub gave it."""
    return {private if incident == PRIVATE else incident for incident in SEEN[role]}


SEEN = {
    "manager": {"INC-1", "INC-2", PRIVATE},
    "responder": {"INC-1", "INC-2", PRIVATE},  # rita is invited to the private incident
    "observer": {"INC-1", "INC-2"},
    "exec": {"INC-1", "INC-2"},
    "support": {"INC-1", "INC-2"},
    "uninvited": {"INC-1", "INC-2"},
}


async def _lobby(connection: ClientConnection) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Say a summary hello; return the welcome and every frame up to `synced`."""
    await send(connection, {"type": "hello", "cursor": None, "summary": True})
    welcome = await receive(connection)
    assert welcome["type"] == "welcome"
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while (frame := await receive(connection))["type"] != "synced":
            frames.append(frame)
    return welcome, frames


async def _world(hub: Hub) -> str:
    """Two public incidents and a private one, with entries for every audience; the private
    incident's id."""
    manager = await hub.connect("manager")
    erin = await hub.connect("exec")
    sam = await hub.connect("support")
    await submit(manager, declare("Checkout down"))
    await submit(manager, declare("Search slow"))
    for audience in ("internal", "support", "exec", "all"):
        await submit(manager, note(f"INC-1 to {audience}", audience=audience))
    await submit(manager, {"type": "action.add", "incident": "INC-1", "text": "roll back"})
    impact = {"type": "impact.set", "incident": "INC-1", "statement": "cards fail"}
    await submit(manager, {**impact, "base_version": 0, "audience": "exec"})
    await submit(erin, {"type": "question.ask", "incident": "INC-1", "text": "when?"})
    await submit(sam, {"type": "question.ask", "incident": "INC-1", "text": "refunds?"})
    private = await declare_private(hub, manager)
    await submit(manager, note("in the vault", private, audience="all"))
    await submit(manager, {"type": "access.change", "incident": private, "user": "rita"})
    return private


@pytest.mark.parametrize("role", sorted(ACTORS))
async def test_a_summary_hello_gets_one_summary_per_incident_the_user_may_see(
    hub: Hub, role: str
) -> None:
    private = await _world(hub)
    welcome, frames = await _lobby(await hub.connect(role))
    assert welcome["reset"] is False
    assert {f["type"] for f in frames} == {"incident.summary"}  # no event of the past
    summaries = {f["summary"]["id"]: f for f in frames}
    assert set(summaries) == seen(role, private) and len(frames) == len(summaries)
    world = replay(item.event for item in hub.store.log.read())  # the hub's whole state
    for incident_id, frame in summaries.items():
        incident = world.incident(incident_id)
        assert incident is not None
        expected = summarize(incident, ACTORS[role])
        assert expected is not None
        assert frame == json.loads(protocol.encode(protocol.SummaryFrame(summary=expected)))
    first = summaries["INC-1"]["summary"]
    if role in ("exec", "support"):
        assert first["notes"] == 2 and first["actions_open"] == 0  # their group's and all's
        assert first["open_questions"] == 1  # their own
        assert first["impact"] == ("cards fail" if role == "exec" else "")
        assert first["updated_at"] is None and first["groups"] == []
    else:
        assert (first["notes"], first["actions_open"], first["open_questions"]) == (4, 1, 2)
        assert first["impact"] == "cards fail" and first["updated_at"] is not None


async def _next(connection: ClientConnection, within: float = TIMEOUT) -> dict[str, Any]:
    """The next frame but presence (told to the war room as people come and go)."""
    while (frame := await receive(connection, within))["type"] == "presence":
        pass
    return frame


async def _quiet(connection: ClientConnection) -> None:
    """Nothing arrives for a moment (for what must not be sent)."""
    with pytest.raises(TimeoutError):
        await _next(connection, within=0.3)


async def test_a_change_sends_each_lobby_a_fresh_summary_only_if_theirs_changed(hub: Hub) -> None:
    await _world(hub)
    lobbies = {role: await hub.connect(role) for role in ("manager", "exec", "support")}
    for connection in lobbies.values():
        await _lobby(connection)
    writer = await hub.connect("responder")
    await submit(writer, note("internal again"))
    event = await _next(lobbies["manager"])
    assert event["type"] == "event" and event["event"]["text"] == "internal again"
    summary = await _next(lobbies["manager"])
    assert summary["type"] == "incident.summary" and summary["summary"]["notes"] == 5
    # A stakeholder learns nothing of it: no event, and no summary saying something changed.
    await _quiet(lobbies["exec"])
    await submit(writer, note("for exec", audience="exec"))
    event = await _next(lobbies["exec"])
    assert event["type"] == "event" and event["event"]["text"] == "for exec"
    summary = await _next(lobbies["exec"])
    assert summary["summary"]["id"] == "INC-1" and summary["summary"]["notes"] == 3
    await _quiet(lobbies["support"])
    assert [(await _next(lobbies["manager"]))["type"] for _ in range(2)] == [
        "event",
        "incident.summary",
    ]
    await submit(writer, {"type": "status.change", "incident": "INC-2", "status": "identified"})
    for connection in lobbies.values():
        assert (await _next(connection))["type"] == "event"
        changed = (await _next(connection))["summary"]
        assert (changed["id"], changed["status"]) == ("INC-2", "identified")


async def test_an_incident_taken_out_of_sight_is_gone_from_the_lobby_and_comes_back(
    hub: Hub,
) -> None:
    await _world(hub)
    manager = await hub.connect("manager")
    lobbies = {role: await hub.connect(role) for role in ("uninvited", "exec", "responder")}
    for connection in lobbies.values():
        await _lobby(connection)
    private = {"type": "privacy.change", "incident": "INC-2", "private": True}
    assert (await submit(manager, private))["type"] == "ack"
    for role in ("uninvited", "exec"):
        # The lobby stays connected: it holds no past to drop, only this line.
        assert await _next(lobbies[role]) == {"type": "incident.gone", "v": 1, "incident": "INC-2"}
    await submit(manager, {"type": "access.change", "incident": "INC-2", "user": "uma"})
    event = await _next(lobbies["uninvited"])
    assert event["type"] == "event" and event["event"]["type"] == "access.changed"
    back = await _next(lobbies["uninvited"])
    assert back["type"] == "incident.summary"
    assert (back["summary"]["id"], back["summary"]["private"]) == ("INC-2", True)
    await _quiet(lobbies["exec"])
    public = {"type": "privacy.change", "incident": "INC-2", "private": False}
    await submit(manager, public)
    # No event says it was made public (a stakeholder never sees privacy change): it is back.
    again = await _next(lobbies["exec"])
    assert (again["summary"]["id"], again["summary"]["private"]) == ("INC-2", False)
    # Reading the incident works on the same connection, as the room does.
    await send(lobbies["exec"], {"type": "read", "id": "r-1", "incident": "INC-2"})
    kinds: list[str] = []
    while not kinds or kinds[-1] == "read.events":
        kinds.append((await _next(lobbies["exec"]))["type"])
    assert kinds[-1] == "read.done" and kinds[0] == "read.events"


async def test_a_summary_hello_with_a_cursor_is_refused_and_changes_nothing(hub: Hub) -> None:
    connection = await hub.connect("manager")
    await send(connection, {"type": "hello", "cursor": 0, "summary": True})
    refused = await receive(connection)
    assert (refused["type"], refused["code"]) == ("error", "invalid")
    welcome, frames = await _lobby(connection)  # the session was never started
    assert welcome["type"] == "welcome" and frames == []
