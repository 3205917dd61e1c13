"""Side channels and private incidents against a real hub: a stakeholder's positions and entry
numbers count nothing; a private incident does not exist for anyone not invited, and a change of
who may see it re-syncs the connections whose past it changes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from typing import Any

import pytest
from websockets import ConnectionClosed
from websockets.asyncio.client import ClientConnection

from server import replay as replay_module
from tests.kit.wire import (
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
from warroom.core.domain import Role
from warroom.core.reducer import replay as replay_events

SEALED = re.compile(r"^c[0-9a-f]{16}$")


async def _session(
    connection: ClientConnection, cursor: Any = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Say hello; return the welcome and every frame up to and including `synced` (the events
    of a batch each as its own `event` frame)."""
    await send(connection, {"type": "hello", "cursor": cursor})
    welcome = await receive(connection)
    assert welcome["type"] == "welcome"
    frames: list[dict[str, Any]] = []
    while True:
        frame = await receive(connection)
        frames += unbatched(frame) if frame["type"] == "events" else [frame]
        if frame["type"] == "synced":
            return welcome, frames


def _declared(answer: dict[str, Any]) -> str:
    """The incident id a declare's ack stands for (from the events seen meanwhile)."""
    (own,) = [f for f in answer["seen"] if f["seq"] == answer["seq"]]
    return str(own["event"]["incident"])


def _texts(frames: list[dict[str, Any]]) -> list[str]:
    return [f["event"]["text"] for f in frames if f["type"] == "event" and "text" in f["event"]]


async def _closed_with(connection: ClientConnection) -> int | None:
    """Read until the hub closes the connection; its close code."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await connection.recv()
    return connection.close_code


async def test_a_stakeholders_positions_are_opaque_and_resume_exactly(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    for n in range(6):
        # Internal chatter between the notes erin may see would show as gaps in plain seqs.
        await submit(manager, note(f"internal {n}"))
        await submit(manager, note(f"public {n}", audience="all"))
    erin = await hub.connect("exec")
    welcome, frames = await _session(erin)
    events = [f for f in frames if f["type"] == "event"]
    assert _texts(events) == [f"public {n}" for n in range(6)]
    positions = [welcome["head"], *(f["seq"] for f in events), frames[-1]["head"]]
    assert all(isinstance(p, str) and SEALED.match(p) for p in positions), positions
    assert len(set(positions[1:-1])) == len(events) == 7
    # Each position resumes exactly after its event: nothing missed, nothing repeated.
    for index, frame in enumerate(events):
        _, again = await _session(await hub.connect("exec"), frame["seq"])
        assert _texts(again) == [f"public {n}" for n in range(index, 6)]
    # Her own command's ack is opaque too; the war room keeps plain numbers.
    asked = await submit(erin, {"type": "question.ask", "incident": "INC-1", "text": "when?"})
    assert asked["type"] == "ack" and SEALED.match(asked["seq"])
    welcome, _ = await _session(await hub.connect("responder"))
    assert isinstance(welcome["head"], int)


@pytest.mark.parametrize("cursor", [3, 10_000, "c0000000000000000", "c" + "f" * 16])
async def test_a_stakeholder_cannot_probe_the_log_with_a_cursor_of_their_own(
    hub: Hub, cursor: Any
) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    for n in range(4):
        await submit(manager, note(f"internal {n}"))
    await submit(manager, note("public", audience="all"))
    welcome, frames = await _session(await hub.connect("exec"), cursor)
    # A number, or a cursor the hub never sealed, buys a full replay and nothing else.
    assert welcome["reset"] is True
    assert [f["event"]["type"] for f in frames if f["type"] == "event"] == [
        "incident.declared",
        "note.added",
    ]
    welcome, _ = await _session(await hub.connect("responder"), 10_000)
    assert welcome["reset"] is True  # a war-room cursor ahead of the log is not trusted either


async def test_entry_numbers_are_disguised_alike_live_and_on_catch_up(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    erin = await hub.connect("exec")
    await hello(erin)
    live: dict[str, int] = {}
    for n in range(5):
        await submit(manager, note(f"internal {n}"))
        await submit(manager, note(f"public {n}", audience="all"))
        frame = await until(erin, "event")
        live[frame["event"]["text"]] = frame["event"]["note"]
    # The war room numbers these N2, N4, ...; erin's numbers are neither those nor a count.
    assert set(live.values()).isdisjoint({2, 4, 6, 8, 10})
    assert len(set(live.values())) == 5
    await submit(manager, {"type": "note.pin", "incident": "INC-1", "note": 4, "pinned": True})
    pinned = await until(erin, "event")
    assert pinned["event"]["note"] == live["public 1"]
    replayed = await hello(await hub.connect("exec"))
    again = {f["event"]["text"]: f["event"]["note"] for f in replayed if "text" in f["event"]}
    assert again == live


async def test_a_private_incident_does_not_exist_for_the_uninvited(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    uma = await hub.connect("uninvited")
    await hello(uma)
    erin = await hub.connect("exec")
    await hello(erin)
    secret = await submit(manager, {**declare("Breach at the bank"), "private": True})
    private_id = _declared(secret)
    assert re.fullmatch(r"INC-P[0-9A-Z]{6}", private_id), private_id
    await submit(manager, note("who was in the vault", incident=private_id, audience="all"))
    await submit(manager, declare("Public outage"))  # public numbers have no gap: INC-1
    for connection in (uma, erin):
        frame = await until(connection, "event")
        assert frame["event"]["incident"] == "INC-1"
    # Viewing it is refused exactly as viewing an incident that never existed.
    answers = []
    for incident in (private_id, "INC-P99"):
        await send(uma, {"type": "view", "incident": incident})
        answers.append((await receive(uma))["message"].replace(incident, "X"))
    assert answers[0] == answers[1]
    # Catch-up does not know of it either; the manager does.
    assert {f["event"]["incident"] for f in await hello(await hub.connect("uninvited"))} == {
        "INC-1"
    }
    everything = await hello(await hub.connect("manager"))
    assert {f["event"]["incident"] for f in everything} == {private_id, "INC-1"}


async def test_an_invitee_online_is_resynced_and_gets_the_whole_incident(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    secret = await submit(manager, {**declare("Breach"), "private": True})
    private_id = _declared(secret)
    await submit(manager, note("before the invitation", incident=private_id))
    uma = await hub.connect("uninvited")
    await hello(uma)
    invite = {"type": "access.change", "incident": private_id, "user": "uma"}
    assert (await submit(manager, invite))["type"] == "ack"
    assert await _closed_with(uma) == 4409
    replayed = await hello(await hub.connect("uninvited"))
    assert "before the invitation" in _texts(replayed)
    # And she may work on it now.
    uma_again = await hub.connect("uninvited")
    assert (await submit(uma_again, note("on it", incident=private_id)))["type"] == "ack"


async def test_an_incident_made_private_later_vanishes_from_the_uninvited(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, note("seen by all of the war room"))
    rita = await hub.connect("responder")
    await hello(rita)
    await send(rita, {"type": "view", "incident": "INC-1"})
    invite = {"type": "access.change", "incident": "INC-1", "user": "oscar"}
    assert (await submit(manager, invite))["type"] == "ack"  # invitations may come first
    oscar = await hub.connect("observer")
    await hello(oscar)
    private = {"type": "privacy.change", "incident": "INC-1", "private": True}
    assert (await submit(manager, private))["type"] == "ack"
    assert await _closed_with(rita) == 4409
    frame = await until(oscar, "event")  # the invited stay, and are told
    assert frame["event"]["type"] == "privacy.changed"
    assert await hello(await hub.connect("responder")) == []
    rita = await hub.connect("responder")
    await hello(rita)
    public = {"type": "privacy.change", "incident": "INC-1", "private": False}
    assert (await submit(manager, public))["type"] == "ack"
    assert await _closed_with(rita) == 4409
    assert "seen by all of the war room" in _texts(await hello(await hub.connect("responder")))


async def test_presence_in_a_private_room_reaches_only_those_who_may_know_of_it(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    secret = await submit(manager, {**declare("Breach"), "private": True})
    private_id = _declared(secret)
    uma = await hub.connect("uninvited")
    await hello(uma)
    other = await hub.connect("manager")
    await hello(other)
    await send(manager, {"type": "view", "incident": private_id})
    presence = await until(other, "presence")
    assert presence["incident"] == private_id
    with pytest.raises(TimeoutError):
        await until(uma, "presence", within=0.5)


async def _frames_until_ack(connection: ClientConnection, answers: int) -> list[str]:
    """Every message up to and including the `answers`-th reply to a poke."""
    kept: list[str] = []
    async with asyncio.timeout(10):
        while sum('"id":"poke-' in m for m in kept) < answers:
            kept.append(str(await connection.recv()))
    return kept


async def test_a_stakeholder_sees_an_entry_appear_never_its_history(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, note("ENTRY-TEXT was written for the war room"))
    invite = {"type": "access.change", "incident": "INC-1", "user": "erin"}
    assert (await submit(manager, invite))["type"] == "ack"
    erin = await hub.connect("exec")
    await hello(erin)
    for audience in ("exec", "exec,support", "support", "all"):
        moved = {"type": "audience.change", "incident": "INC-1", "entry": "N1"}
        assert (await submit(manager, {**moved, "audience": audience}))["type"] == "ack"
    for private in (True, False):
        change = {"type": "privacy.change", "incident": "INC-1", "private": private}
        assert (await submit(manager, change))["type"] == "ack"
    # A poke, answered after everything above: what came before it is all she was sent.
    await send(erin, {"type": "submit", "id": "poke-0", "command": note("x")})
    live = [json.loads(m) for m in await _frames_until_ack(erin, 1)]
    fresh = await hello(await hub.connect("exec"))
    for frames in (live, fresh):
        events = [f["event"] for f in frames if f.get("type") == "event"]
        kinds = [event["type"] for event in events]
        # It appears (with its text, as if just written), is withdrawn, and appears again.
        assert kinds[-3:] == ["note.added", "audience.changed", "note.added"], kinds
        appeared, withdrawn, again = events[-3:]
        assert appeared["text"] == again["text"] == "ENTRY-TEXT was written for the war room"
        assert (appeared["audience"], again["audience"]) == ("exec", "all")
        assert withdrawn["audience"] == "internal" and withdrawn["previous"] == "exec"
        text = json.dumps(frames)
        for never in ("support", "privacy.changed", "access.changed", '"previous": "internal"'):
            assert never not in text, never


class _PausedReplay:
    """The hub's log, read as it is, except that the read of a replay's second page waits until
    the test lets it go: a session stays caught mid-replay, for as long as the test needs."""

    def __init__(self, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paused, self.go = threading.Event(), threading.Event()
        log = hub.store.log
        read_raw = log.read_raw

        def paused_read(after: int = 0, limit: int | None = None, upto: int | None = None) -> Any:
            if after > 0 and not self.go.is_set():
                self.paused.set()
                self.go.wait(10)
            return read_raw(after, limit, upto)

        monkeypatch.setattr(replay_module, "REPLAY_PAGE", 2)
        monkeypatch.setattr(log, "read_raw", paused_read)

    async def caught(self) -> None:
        """Wait until a replay is stopped at its second page."""
        assert await asyncio.to_thread(self.paused.wait, 10)


async def _until_closed(connection: ClientConnection) -> tuple[int | None, list[dict[str, Any]]]:
    """Every frame up to the hub's close, and its close code (None: not closed within 10 s)."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        async with asyncio.timeout(10):
            while True:
                frames.append(json.loads(await connection.recv()))
    return connection.close_code, frames


@pytest.mark.parametrize("change", ["made private", "invitation taken back"])
async def test_a_session_still_catching_up_is_resynced_when_it_may_no_longer_see(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    if change == "invitation taken back":
        invite = {"type": "access.change", "incident": "INC-1", "user": "uma"}
        await submit(manager, invite)
        await submit(manager, {"type": "privacy.change", "incident": "INC-1", "private": True})
    for n in range(5):
        await submit(manager, note(f"note {n}"))
    paused = _PausedReplay(hub, monkeypatch)
    uma = await hub.connect("uninvited")
    await send(uma, {"type": "hello", "cursor": 0})
    await paused.caught()  # uma was sent the first page, and waits for the rest
    if change == "made private":
        command: dict[str, Any] = {"type": "privacy.change", "incident": "INC-1", "private": True}
    else:
        command = {"type": "access.change", "incident": "INC-1", "user": "uma", "invited": False}
    assert (await submit(manager, command))["type"] == "ack"
    paused.go.set()
    code, frames = await _until_closed(uma)
    # Told to start over: what she was sent of INC-1 goes, and she never streams under it.
    assert code == 4409
    assert "synced" not in [frame["type"] for frame in frames]
    assert await hello(await hub.connect("uninvited")) == []


async def test_a_role_or_group_change_resyncs_with_a_new_welcome(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, note("INTERNAL-ONLY words"))
    await submit(manager, note("for the execs", audience="exec"))
    rita = await hub.connect("responder")
    await hello(rita)
    hub.store.users.change("rita", Role.STAKEHOLDER, ["support"])
    code, frames = await _until_closed(rita)
    assert code == 4409 and frames == []
    # Starting over, she is welcomed as what she is now, with sealed positions and her filter.
    rita = await hub.connect("responder")
    welcome, replayed = await _session(rita)
    assert (welcome["role"], welcome["groups"]) == ("stakeholder", ["support"])
    assert SEALED.match(welcome["head"]) and _texts(replayed) == []
    hub.store.users.change("rita", groups=["exec"])
    assert (await _until_closed(rita))[0] == 4409
    welcome, replayed = await _session(await hub.connect("responder"))
    assert welcome["groups"] == ["exec"] and _texts(replayed) == ["for the execs"]
    hub.store.users.change("rita", Role.RESPONDER, [])
    sam = await hub.connect("support")
    await hello(sam)
    # And back to the war room: numbered again, internal notes and all.
    rita = await hub.connect("responder")
    await hello(rita)
    hub.store.users.change("sam", Role.OBSERVER, [])
    assert (await _until_closed(sam))[0] == 4409
    welcome, replayed = await _session(await hub.connect("support"))
    assert welcome["role"] == "observer" and isinstance(welcome["head"], int)
    assert "INTERNAL-ONLY words" in _texts(replayed)


async def _read_head(hub: Hub, user: str) -> Any:
    """The head of `read.done` for INC-1, read by `user` on a connection of its own."""
    connection = await hub.connect(user)
    await send(connection, {"type": "read", "id": "r-1", "incident": "INC-1"})
    return (await until(connection, "read.done"))["head"]


async def test_a_stakeholders_positions_move_only_with_what_they_receive(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await submit(manager, declare())
    await submit(manager, note("for the execs", audience="exec"))

    async def positions() -> list[Any]:
        """Every position erin is given: fresh, from the start, resumed, and read."""
        fresh, _ = await _session(await hub.connect("exec"), None)
        full, frames = await _session(await hub.connect("exec"), 0)
        resumed, again = await _session(await hub.connect("exec"), frames[-1]["head"])
        return [
            fresh["head"], full["head"], frames[-1]["head"], resumed["head"],
            again[-1]["head"], await _read_head(hub, "exec"),
        ]  # fmt: skip

    before = await positions()
    assert len(set(before)) == 1 and SEALED.match(before[0]), before
    # The war room works on: notes, an action, another group's note, another incident.
    await submit(manager, note("internal work"))
    await submit(manager, {"type": "action.add", "incident": "INC-1", "text": "roll back"})
    await submit(manager, note("for support", audience="support"))
    await submit(manager, {**declare("Private"), "private": True})
    assert await positions() == before
    # Something she receives moves them all, to that event.
    shown = await submit(manager, note("for everyone", audience="all"))
    after = await positions()
    assert len(set(after)) == 1 and after[0] != before[0]
    frames = await hello(await hub.connect("exec"))
    assert frames[-1]["seq"] == after[0]
    assert shown["type"] == "ack"
    # The war room's positions count the log, as before.
    assert await _read_head(hub, "responder") == hub.store.log.head()


async def test_a_private_incidents_id_tells_its_invitees_no_count(hub: Hub) -> None:
    manager = await hub.connect("manager")
    ids = [await declare_private(hub, manager, f"Breach {n}") for n in range(4)]
    assert len(set(ids)) == 4
    for incident in ids:
        assert re.fullmatch(r"INC-P[0-9A-Z]{6}", incident) and len(incident) <= 32
        assert incident.removeprefix("INC-P").lstrip("0") not in {"1", "2", "3", "4"}
    invite = {"type": "access.change", "incident": ids[3], "user": "rita"}
    assert (await submit(manager, invite))["type"] == "ack"
    seen = await hello(await hub.connect("responder"))
    assert {f["event"]["incident"] for f in seen} == {ids[3]}
    # A retried declaration is the same command: acknowledged again, never named twice.
    command = {**declare("Retried"), "private": True}
    first = await submit(manager, command, "declare-once")
    again = await submit(manager, command, "declare-once")
    assert first["type"] == again["type"] == "ack" and first["seq"] == again["seq"]
    # The log replays to the same incidents, ids and all.
    world = replay_events(envelope.event for envelope in hub.store.log.read())
    assert set(ids) < set(world.incidents) and world.declared_private == 5
