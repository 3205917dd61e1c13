"""The hub with real websocket clients: fan-out, catch-up, auth, bad frames, roles, slow clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import pytest
from websockets import ConnectionClosed, InvalidStatus
from websockets.asyncio.client import ClientConnection, connect

from tests.kit.wire import Hub, declare, hello, note, receive, send, submit, until
from warroom.core.domain import Actor, Role
from warroom.core.policy import visible_part
from warroom.core.protocol import MAX_FRAME, load_event
from warroom.core.reducer import replay


async def test_three_clients_one_writes_all_three_receive(hub: Hub) -> None:
    clients = [await hub.connect(user) for user in ("manager", "responder", "observer")]
    for client in clients:
        assert await hello(client) == []
    ack = await submit(clients[1], declare("Payments down"))
    assert ack["type"] == "ack"
    # The writer's own copy arrives before its ack; the others get it live.
    frames = [ack["seen"][0], await until(clients[0], "event"), await until(clients[2], "event")]
    for frame in frames:
        assert frame["seq"] == ack["seq"]
        assert frame["event"]["type"] == "incident.declared"
        assert frame["event"]["title"] == "Payments down"
        assert frame["event"]["actor"] == "rita"


async def test_reconnect_replays_exactly_the_missed_events(hub: Hub) -> None:
    writer = await hub.connect("manager")
    await hello(writer, None)
    reader = await hub.connect("responder")
    await hello(reader)
    cursor = (await submit(writer, declare()))["seq"]
    assert (await until(reader, "event"))["seq"] == cursor
    await reader.close()

    # Pipeline 1,000 notes, then collect their acks.
    for n in range(1000):
        await send(writer, {"type": "submit", "id": f"n{n}", "command": note(f"note {n}")})
    acks: dict[str, int] = {}
    async with asyncio.timeout(30):
        while len(acks) < 1000:
            frame = await receive(writer)
            if frame["type"] == "ack":
                acks[frame["id"]] = frame["seq"]
            else:
                assert frame["type"] == "event", frame
    assert sorted(acks.values()) == list(range(cursor + 1, cursor + 1001))

    again = await hub.connect("responder")
    replayed = await hello(again, cursor)
    assert [f["seq"] for f in replayed] == list(range(cursor + 1, cursor + 1001))
    assert [f["event"]["text"] for f in replayed] == [f"note {n}" for n in range(1000)]

    # Live events follow the replay with no gap and no repeat.
    ack = await submit(writer, note("after"))
    live = await until(again, "event")
    assert ack["seen"][0]["seq"] == ack["seq"]
    assert live["seq"] == ack["seq"] == cursor + 1001
    assert live["event"]["text"] == "after"


async def test_pipelined_commands_are_answered_in_order_each_ack_after_its_event(
    hub: Hub,
) -> None:
    client = await hub.connect("manager")
    await hello(client)
    await submit(client, declare())
    # Every fifth names no incident: refusals stand among acks of the same group commits.
    for n in range(300):
        command = note(f"note {n}") | ({"incident": "INC-404"} if n % 5 == 4 else {})
        await send(client, {"type": "submit", "id": f"n{n}", "command": command})
    answers: list[dict[str, Any]] = []
    seen: set[int] = set()
    async with asyncio.timeout(30):
        while len(answers) < 300:
            frame = await receive(client)
            if frame["type"] == "event":
                seen.add(frame["seq"])
            else:
                assert frame["type"] in ("ack", "rejected"), frame
                if frame["type"] == "ack":
                    assert frame["seq"] in seen  # acknowledged only once published
                answers.append(frame)
    assert [a["id"] for a in answers] == [f"n{n}" for n in range(300)]
    assert [a["type"] for a in answers] == ["rejected" if n % 5 == 4 else "ack" for n in range(300)]
    acked = [a["seq"] for a in answers if a["type"] == "ack"]
    assert acked == list(range(acked[0], acked[0] + 240))


async def test_a_retried_command_id_is_applied_once(hub: Hub) -> None:
    client = await hub.connect("manager")
    await hello(client)
    await submit(client, declare())
    first = await submit(client, note("once"), ident="same-id")
    second = await submit(client, note("once"), ident="same-id")
    assert first["type"] == second["type"] == "ack"
    assert first["seq"] == second["seq"]
    fresh = await hub.connect("observer")
    texts = [f["event"].get("text") for f in await hello(fresh)]
    assert texts.count("once") == 1


@pytest.mark.parametrize("header", [{"Authorization": "Bearer wrong-token"}, {}])
async def test_a_bad_or_missing_token_gets_401_before_the_upgrade(
    hub: Hub, header: dict[str, str]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(hub.url, additional_headers=header, proxy=None)
    assert refused.value.response.status_code == 401


async def test_a_revoked_token_is_refused(hub: Hub) -> None:
    hub.store.users.revoke("rita")
    with pytest.raises(InvalidStatus) as refused:
        await hub.connect("responder")
    assert refused.value.response.status_code == 401


async def test_bad_frames_get_typed_errors_and_change_nothing(hub: Hub) -> None:
    bystander = await hub.connect("responder")
    await hello(bystander)
    sender = await hub.connect("manager")
    await hello(sender)
    await submit(sender, declare())
    await until(bystander, "event")

    cases: list[tuple[str | bytes, str]] = [
        ("not json at all", "bad-frame"),
        ("[1, 2]", "bad-frame"),
        (json.dumps({"v": 7, "type": "hello"}), "bad-version"),
        (json.dumps({"v": 1, "type": "launch-missiles"}), "unknown-type"),
        (
            json.dumps(
                {
                    "v": 1,
                    "type": "submit",
                    "id": "x",
                    "command": {"type": "status.change", "incident": "INC-1", "status": "exploded"},
                }
            ),
            "invalid",
        ),
        (json.dumps({"v": 1, "type": "submit", "id": "y", "command": {"type": "nope"}}), "invalid"),
        ("x" * (MAX_FRAME + 1), "too-large"),
        ("[" * 5000, "bad-frame"),
        ('{"v": 1, "type": "hello", "cursor": "\\ud800"}', "bad-frame"),
        (json.dumps({"v": True, "type": "hello"}), "bad-version"),
        (b"\x00\x01binary", "bad-frame"),
    ]
    for payload, code in cases:
        await sender.send(payload)
        frame = await receive(sender)
        assert frame["type"] == "error", (payload, frame)
        assert frame["code"] == code, (payload, frame)
        assert frame["message"]

    # The bystander carries on, the sender's connection still works, nothing was recorded.
    ack = await submit(bystander, note("still here"))
    assert ack["type"] == "ack"
    assert ack["seen"][0]["event"]["text"] == "still here"
    assert (await submit(sender, note("me too")))["type"] == "ack"
    types = [f["event"]["type"] for f in await hello(await hub.connect("observer"))]
    assert types == ["incident.declared", "note.added", "note.added"]


async def test_a_frame_past_the_transport_limit_closes_only_that_connection(hub: Hub) -> None:
    bystander = await hub.connect("responder")
    await hello(bystander)
    sender = await hub.connect("manager")
    await hello(sender)
    await sender.send("x" * (2 * 1024 * 1024))
    with pytest.raises(ConnectionClosed) as closed:
        await receive(sender)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert (await submit(bystander, declare()))["type"] == "ack"


async def test_an_observer_write_is_refused_and_changes_nothing(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager)
    await submit(manager, declare())
    observer = await hub.connect("observer")
    await hello(observer)
    refused = await submit(observer, note("sneaky"))
    assert refused["type"] == "rejected"
    assert refused["code"] == "forbidden"
    assert "observer" in refused["message"]
    refused = await submit(observer, declare("another"))
    assert refused["code"] == "forbidden"
    log = await hello(await hub.connect("responder"))
    assert [f["event"]["type"] for f in log] == ["incident.declared"]


async def test_refusals_carry_a_code_and_a_sentence(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager)
    missing = await submit(manager, note("x", incident="INC-404"))
    assert (missing["code"], missing["message"]) == ("not-found", "there is no incident INC-404")
    await submit(manager, declare())
    await submit(
        manager, {"type": "impact.set", "incident": "INC-1", "statement": "v1", "base_version": 0}
    )
    stale = await submit(
        manager, {"type": "impact.set", "incident": "INC-1", "statement": "mine", "base_version": 0}
    )
    assert stale["code"] == "conflict"
    assert stale["current"]["statement"] == "v1"
    assert stale["current"]["version"] == 1


async def test_stakeholders_receive_only_their_audience_live_and_on_catch_up(hub: Hub) -> None:
    exec_live = await hub.connect("exec")
    await hello(exec_live)
    manager = await hub.connect("manager")
    await hello(manager)
    await submit(manager, declare())
    for audience in ("internal", "support", "exec", "all", "exec,support"):
        await submit(manager, note(f"to {audience}", audience=audience))
    await submit(manager, {"type": "status.change", "incident": "INC-1", "status": "identified"})

    expected = ["incident.declared", "to exec", "to all", "to exec,support", "status.changed"]
    seen: list[str] = []
    async with asyncio.timeout(10):
        while len(seen) < len(expected):
            frame = await until(exec_live, "event")
            seen.append(frame["event"].get("text", frame["event"]["type"]))
    assert seen == expected
    replayed = await hello(await hub.connect("exec"))
    assert [f["event"].get("text", f["event"]["type"]) for f in replayed] == expected
    support = await hello(await hub.connect("support"))
    assert [f["event"].get("text", f["event"]["type"]) for f in support] == [
        "incident.declared",
        "to support",
        "to all",
        "to exec,support",
        "status.changed",
    ]


async def test_a_client_that_stops_reading_is_dropped_and_others_carry_on(hub: Hub) -> None:
    # The writer never says hello, so it receives acks only, no events.
    manager = await hub.connect("manager")
    await submit(manager, declare())
    fast = await hub.connect("responder")
    await hello(fast)

    # The slow client has a tiny receive buffer and, once its small queue is full, stops reading.
    sock = socket.create_connection(("127.0.0.1", int(hub.url.rsplit(":", 1)[1])))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow = await hub.connect("observer", sock=sock, max_queue=4)
    await hello(slow)

    async def read_fast() -> int:
        """The fast client reads every frame as it comes, all along."""
        received = 0
        async with asyncio.timeout(60):
            while received < total:
                frame = await receive(fast)
                if frame["type"] == "event":
                    received += 1
        return received

    text = "z" * 8000
    total = 1500
    reader = asyncio.create_task(read_fast())
    for n in range(total):
        await send(manager, {"type": "submit", "id": f"big{n}", "command": note(f"{n} {text}")})
    # The fast client got everything while the slow one stalled.
    assert await reader == total
    acks = 0
    async with asyncio.timeout(30):
        while acks < total:
            acks += (await receive(manager))["type"] == "ack"

    got = []
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(30):
            while True:
                frame = await receive(slow)
                got.append(frame["seq"])
    assert len(got) < total  # it was cut off before the end

    # It reconnects and catches up from its cursor: the rest, exactly once.
    again = await hub.connect("observer")
    rest = await hello(again, got[-1] if got else 1)
    seqs = got + [f["seq"] for f in rest]
    assert seqs == list(range(2, total + 2))


async def presence(connection: ClientConnection, users: list[str]) -> None:
    """Wait for a presence frame listing exactly `users` (earlier ones are skipped)."""
    async with asyncio.timeout(10):
        while (await until(connection, "presence"))["users"] != users:
            pass


async def test_presence_follows_who_has_the_war_room_open(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager)
    await submit(manager, declare())
    rita = await hub.connect("responder")
    await hello(rita)
    await send(rita, {"type": "view", "incident": "inc-1"})
    frame = await until(manager, "presence")
    assert frame == {"type": "presence", "v": 1, "incident": "INC-1", "users": ["rita"]}

    # A stakeholder viewing the incident neither counts nor hears about presence.
    erin = await hub.connect("exec")
    await hello(erin)
    await send(erin, {"type": "view", "incident": "INC-1"})
    await send(manager, {"type": "view", "incident": "INC-1"})
    await presence(rita, ["manager", "rita"])

    # A newcomer learns the current presence right after its replay.
    oscar = await hub.connect("observer")
    await hello(oscar)
    assert (await until(oscar, "presence"))["users"] == ["manager", "rita"]

    await rita.close()
    await presence(manager, ["manager"])
    await send(manager, {"type": "view", "incident": None})
    await presence(oscar, [])
    await send(manager, {"type": "view", "incident": "INC-9"})
    assert (await until(manager, "error"))["code"] == "not-found"
    # submit() fails on any frame but events and the answer: erin got no presence frame.
    ask = {"type": "question.ask", "incident": "INC-1", "text": "eta?"}
    assert (await submit(erin, ask))["type"] == "ack"


async def test_observer_mode_makes_a_writer_read_only_but_never_widens_a_stakeholder(
    hub: Hub,
) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    hub.url += "?mode=observer"
    watcher = await hub.connect("manager")
    await send(watcher, {"type": "hello", "cursor": 0})
    assert (await receive(watcher))["role"] == "observer"
    await until(watcher, "synced")
    refused = await submit(watcher, note("from the observer seat"))
    assert refused["code"] == "forbidden"
    erin = await hub.connect("exec")
    await send(erin, {"type": "hello", "cursor": 0})
    assert (await receive(erin))["role"] == "stakeholder"
    await submit(manager, note("internal only"))
    assert [f["event"]["type"] for f in await hello(await hub.connect("exec"))] == [
        "incident.declared"
    ]


async def test_revoking_a_token_closes_its_open_connections_within_a_second(hub: Hub) -> None:
    rita = await hub.connect("responder")
    await hello(rita)
    oscar = await hub.connect("observer")
    await hello(oscar)
    hub.store.users.revoke("rita")
    started = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(3):
            while True:
                await rita.recv()
    assert asyncio.get_running_loop().time() - started < 1.5
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    # Others carry on.
    manager = await hub.connect("manager")
    await submit(manager, declare())
    assert (await until(oscar, "event"))["event"]["type"] == "incident.declared"


async def _first_seen(
    writer: ClientConnection, reader: ClientConnection, text: str, audience: str = "internal"
) -> dict[str, Any]:
    """Write notes until `reader` receives one (the hub applies user changes within 0.5 s)."""
    async with asyncio.timeout(5):
        while True:
            await submit(writer, note(text, audience=audience))
            with contextlib.suppress(TimeoutError):
                frame = await receive(reader, within=0.3)
                if frame["type"] == "event" and frame["event"].get("text") == text:
                    return frame


async def test_a_role_change_within_the_war_room_takes_effect_on_the_next_event(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    rita = await hub.connect("responder")
    await hello(rita)
    # An observer sees what a responder sees: no resync, only her commands are refused now.
    hub.store.users.change("rita", role=Role.OBSERVER)
    await _first_seen(manager, rita, "internal, for an observer now")
    refused = await submit(rita, note("rita writes"))
    assert refused["code"] == "forbidden"
    hub.store.users.change("rita", role=Role.RESPONDER)
    await _first_seen(manager, rita, "internal, for a responder again")
    assert (await submit(rita, note("rita writes")))["type"] == "ack"


async def test_moving_an_entry_to_another_audience_shows_or_hides_it_live(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, note("internal chatter, later for exec"))
    erin = await hub.connect("exec")
    assert [f["event"]["type"] for f in await hello(erin)] == ["incident.declared"]
    sam = await hub.connect("support")
    await hello(sam)

    moved = {"type": "audience.change", "incident": "INC-1", "entry": "N1", "audience": "exec"}
    assert (await submit(manager, moved))["type"] == "ack"
    frame = await until(erin, "event")
    # To erin the note appears, as if just written: she never learns where it was before.
    assert frame["event"]["type"] == "note.added"
    assert frame["event"]["text"] == "internal chatter, later for exec"
    # Catch-up agrees with live delivery; the other group heard nothing.
    replayed = await hello(await hub.connect("exec"))
    assert [f["event"]["type"] for f in replayed] == ["incident.declared", "note.added"]
    back = {"type": "audience.change", "incident": "INC-1", "entry": "N1", "audience": "internal"}
    await submit(manager, back)
    frame = await until(erin, "event")  # told, so that the client drops it
    assert (frame["event"]["previous"], frame["event"]["audience"]) == ("exec", "internal")
    # A late reader replays both moves and ends without the note, as a live reader does.
    replayed = await hello(await hub.connect("exec"))
    world = replay(load_event(json.dumps(f["event"])) for f in replayed)
    incident = world.incident("INC-1")
    assert incident is not None
    assert not visible_part(incident, Actor("erin", Role.STAKEHOLDER, frozenset({"exec"}))).notes
    with pytest.raises(TimeoutError):
        await receive(sam, within=0.3)
    refused = await submit(await hub.connect("responder"), moved)
    assert refused["code"] == "forbidden"
