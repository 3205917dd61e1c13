"""The shelf against a real hub: a resolved, quiet incident leaves the hub's memory but for its
header, and everything the hub serves of it (a catch-up for every role, a lobby's summaries, a
read, `warroom show`, `warroom list` and `warroom report`) is what a hub that keeps it whole
serves; a command reopens it from its whole state, read back; a restart holds resolved incidents
by their headers alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

import server.hub
from server.app import run
from server.config import Config
from tests.hub.test_read import _read
from tests.hub.test_summaries import _lobby
from tests.kit.harness import isolated_env, warroom
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.kit.wire import TIMEOUT, Hub, declare, declare_private, hello, note, submit, until
from warroom.core.domain import IncidentState, Role, ShelvedIncident
from warroom.core.reducer import replay
from warroom.store import Store, open_engine

ROLES = ["manager", "responder", "observer", "exec", "support"]


def _store(path: Path) -> tuple[Store, dict[str, str]]:
    store = Store(open_engine(f"sqlite:///{path}"))
    tokens = {
        "manager": store.users.add("manager", Role.INCIDENT_MANAGER),
        "responder": store.users.add("rita", Role.RESPONDER),
        "observer": store.users.add("oscar", Role.OBSERVER),
        "exec": store.users.add("erin", Role.STAKEHOLDER, ["exec"]),
        "support": store.users.add("sam", Role.STAKEHOLDER, ["support"]),
    }
    return store, tokens


@contextlib.asynccontextmanager
async def _serving(
    store: Store, tokens: dict[str, str], shelve_after: float | None
) -> AsyncIterator[tuple[Hub, server.hub.Hub]]:
    """A hub on `store` in this event loop (shelving after `shelve_after` seconds, or never), as
    the clients see it and as it is inside."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    inside: list[server.hub.Hub] = []
    stop = asyncio.Event()
    config = Config(path=Path("warroom.toml"), shelve_after=shelve_after)
    task = asyncio.create_task(
        run(store, "127.0.0.1", 0, ready.set_result, stop, config=config, hub_ready=inside.append)
    )
    url = await asyncio.wait_for(ready, TIMEOUT)
    running = Hub(url, store, tokens)
    try:
        yield running, inside[0]
    finally:
        for connection in running.opened:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


async def _ok(connection: ClientConnection, command: dict[str, Any]) -> None:
    answer = await submit(connection, command)
    assert answer["type"] == "ack", answer


async def _seed(hub: Hub) -> str:
    """INC-1, resolved with entries for every audience, a published answer and an open
    question; a private incident rita is invited to, resolved; INC-3 still open. Returns the
    private incident's id."""
    manager = await hub.connect("manager")
    erin = await hub.connect("exec")
    sam = await hub.connect("support")
    await _ok(manager, declare("Checkout down"))
    for audience in ("internal", "support", "exec", "all"):
        await _ok(manager, note(f"to {audience}", audience=audience))
    await _ok(manager, {"type": "action.add", "incident": "INC-1", "text": "roll back"})
    await _ok(manager, {"type": "note.pin", "incident": "INC-1", "note": 3, "pinned": True})
    await _ok(erin, {"type": "question.ask", "incident": "INC-1", "text": "when?"})
    await _ok(sam, {"type": "question.ask", "incident": "INC-1", "text": "who?"})
    answer = {"type": "question.answer", "incident": "INC-1", "question": 1, "text": "soon"}
    await _ok(manager, {**answer, "audience": "exec"})
    move = {"type": "audience.change", "incident": "INC-1", "entry": "N1", "audience": "all"}
    await _ok(manager, move)
    private = await declare_private(hub, manager)
    await _ok(manager, note("in the vault", private, audience="all"))
    await _ok(manager, {"type": "access.change", "incident": private, "user": "rita"})
    await _ok(manager, declare("Search slow"))
    for incident in ("INC-1", private):
        await _ok(manager, {"type": "status.change", "incident": incident, "status": "resolved"})
    return private


async def _observed(hub: Hub, private: str, home: Path) -> dict[str, Any]:
    """What the hub serves each role: its catch-up from the first event, its lobby, its reads
    of both resolved incidents; and the war room's `warroom show`, `list` and `report`."""
    seen: dict[str, Any] = {}
    for role in ROLES:
        replayed = await hello(await hub.connect(role))
        seen[f"{role} catch-up"] = [(f["seq"], f["event"]) for f in replayed]
        _, lobby = await _lobby(await hub.connect(role))
        seen[f"{role} lobby"] = lobby
        for incident in ("INC-1", private):
            events, done, _ = await _read(await hub.connect(role), incident)
            seen[f"{role} read {incident}"] = ([(f["seq"], f["event"]) for f in events], done)
    env = {**isolated_env(home)}
    for role in ("manager", "exec"):
        env.update(WARROOM_URL=hub.url, WARROOM_TOKEN=hub.tokens[role])
        for verb in (("show", "INC-1", "--json"), ("list", "--json")):
            result = await asyncio.to_thread(warroom, *verb, env=env)
            assert result.returncode == 0, result.stderr
            seen[f"{role} {' '.join(verb)}"] = json.loads(result.stdout)
    env.update(WARROOM_TOKEN=hub.tokens["manager"])
    report = await asyncio.to_thread(warroom, "report", "INC-1", env=env)
    assert report.returncode == 0 and "Checkout down" in report.stdout, report.stderr
    seen["report"] = report.stdout
    return seen


def _whole(hub: server.hub.Hub, incident: str) -> IncidentState | None:
    return replay(envelope.event for envelope in hub.store.log.read()).incident(incident)


async def test_a_quiet_resolved_incident_is_shelved_and_served_as_a_whole_one(
    tmp_path: Path,
) -> None:
    store, tokens = _store(tmp_path / "hub.db")
    try:
        # Shelved by hand below, not by the hour's sweep.
        async with _serving(store, tokens, shelve_after=3600) as (hub, inside):
            private = await _seed(hub)
            whole = inside.fanout.world.incident("INC-1")
            assert whole is not None and len(whole.notes) == 4
            kept = await _observed(hub, private, tmp_path / "cli")

            await asyncio.to_thread(inside.snapshotter.flush)  # type: ignore[union-attr]
            assert await inside.shelve_quiet() == []  # resolved within the hour
            assert sorted(await inside.shelve_quiet(0)) == sorted(["INC-1", private])
            for world in (inside.fanout.world, inside.sequencer._world):
                header = world.incident("INC-1")
                assert isinstance(header, ShelvedIncident)
                assert len(header.notes) == len(header.questions) == len(header.actions) == 0
                assert header.census.open == header.census.asked["sam"] == 1
                assert isinstance(world.incident(private), ShelvedIncident)
                assert not isinstance(world.incident("INC-2"), ShelvedIncident)
            assert "INC-1" not in inside.summaries._counts
            assert await inside.shelve_quiet(0) == []  # nothing left to shelve

            assert await _observed(hub, private, tmp_path / "cli") == kept
            assert isinstance(inside.fanout.world.incident("INC-1"), ShelvedIncident)

            # A command on it is decided against its whole state, read back: refused as the
            # whole incident refuses it, it stays shelved; taken, it is whole again.
            manager = await hub.connect("manager")
            again = {"type": "status.change", "incident": "INC-1", "status": "resolved"}
            refused = await submit(manager, again)
            assert refused["type"] == "rejected" and "already resolved" in refused["message"]
            assert isinstance(inside.fanout.world.incident("INC-1"), ShelvedIncident)
            reopen = {"type": "status.change", "incident": "INC-1", "status": "investigating"}
            await _ok(manager, reopen)
            await _ok(manager, note("late", "INC-1"))
            reopened = inside.fanout.world.incident("INC-1")
            assert not isinstance(reopened, ShelvedIncident)
            assert reopened == _whole(inside, "INC-1")
            assert reopened is not None and len(reopened.notes) == 5
            assert inside.sequencer._world.incident("INC-1") is reopened
            after = await _observed(hub, private, tmp_path / "cli")

        # A hub that never shelves serves the same log exactly so.
        async with _serving(store, tokens, shelve_after=None) as (hub, inside):
            assert not isinstance(inside.fanout.world.incident(private), ShelvedIncident)
            assert await _observed(hub, private, tmp_path / "cli") == after
    finally:
        store.close()


async def test_a_restart_holds_resolved_incidents_by_their_headers_alone(tmp_path: Path) -> None:
    store, tokens = _store(tmp_path / "hub.db")
    try:
        async with _serving(store, tokens, shelve_after=None) as (hub, inside):
            private = await _seed(hub)
        async with _serving(store, tokens, shelve_after=None) as (hub, inside):
            whole = inside.fanout.world.incident("INC-1")
            assert whole is not None and not isinstance(whole, ShelvedIncident)
            assert whole == _whole(inside, "INC-1")
            kept = await _observed(hub, private, tmp_path / "cli")

        # Never shelved by the hub before: a restart that shelves reads no resolved one whole.
        async with _serving(store, tokens, shelve_after=3600) as (hub, inside):
            world = inside.fanout.world
            for incident in ("INC-1", private):
                assert isinstance(world.incident(incident), ShelvedIncident)
            assert not isinstance(world.incident("INC-2"), ShelvedIncident)
            assert inside.sequencer._world is world
            assert await _observed(hub, private, tmp_path / "cli") == kept

            manager = await hub.connect("manager")
            reopen = {"type": "status.change", "incident": private, "status": "monitoring"}
            await _ok(manager, reopen)
            reopened = inside.fanout.world.incident(private)
            assert not isinstance(reopened, ShelvedIncident)
            assert reopened == _whole(inside, private)
            # Reopened within the hour: still whole at the next sweep.
            assert await inside.shelve_quiet() == []
    finally:
        store.close()


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server")
async def test_another_hubs_event_on_a_shelved_incident_folds_into_its_whole_state() -> None:
    with postgres_database() as url:
        first, second = Store(open_engine(url)), Store(open_engine(url))
        tokens = {
            "manager": first.users.add("manager", Role.INCIDENT_MANAGER),
            "exec": first.users.add("erin", Role.STAKEHOLDER, ["exec"]),
        }
        try:
            async with (
                _serving(first, tokens, shelve_after=3600) as (a, inside_a),
                _serving(second, tokens, shelve_after=3600) as (b, inside_b),
            ):
                manager = await a.connect("manager")
                await _ok(manager, declare("Checkout down"))
                await _ok(manager, note("to the execs", audience="exec"))
                await _ok(manager, {"type": "action.add", "incident": "INC-1", "text": "undo"})
                resolve = {"type": "status.change", "incident": "INC-1", "status": "resolved"}
                await _ok(manager, resolve)
                watching = await b.connect("exec")
                await hello(watching)  # B has published everything A committed
                assert inside_b.fanout.head == a.store.log.head()
                for inside in (inside_a, inside_b):
                    await asyncio.to_thread(inside.snapshotter.flush)  # type: ignore[union-attr]
                    assert await inside.shelve_quiet(0) == ["INC-1"]

                reopen = {"type": "status.change", "incident": "INC-1", "status": "monitoring"}
                await _ok(manager, reopen)
                state = {
                    "type": "action.change-state",
                    "incident": "INC-1",
                    "action": 1,
                    "state": "done",
                }
                await _ok(manager, state)
                told = await _ok_seq(manager, note("back", audience="all"))
                # B folds A's events into the whole state it reads back, and tells the exec
                # what a hub that never shelved would (the action's state stays internal).
                seen: list[dict[str, Any]] = []
                while not seen or seen[-1]["event"].get("text") != "back":
                    seen.append(await until(watching, "event"))
                assert [f["event"]["type"] for f in seen] == ["status.changed", "note.added"]
                assert inside_b.fanout.head == told
                for inside in (inside_a, inside_b):
                    whole = inside.fanout.world.incident("INC-1")
                    assert not isinstance(whole, ShelvedIncident)
                    assert whole == _whole(inside, "INC-1")
                    assert inside.sequencer._world.incident("INC-1") is whole
        finally:
            first.close()
            second.close()


async def _ok_seq(connection: ClientConnection, command: dict[str, Any]) -> int:
    answer = await submit(connection, command)
    assert answer["type"] == "ack", answer
    return int(answer["seq"])


async def test_the_hubs_own_sweep_shelves_a_quiet_resolved_incident(tmp_path: Path) -> None:
    store, tokens = _store(tmp_path / "hub.db")
    try:
        # Quiet for a second: the sweep, every second, shelves it with nobody asking.
        async with _serving(store, tokens, shelve_after=1) as (hub, inside):
            shelved = asyncio.Event()
            forget = inside.summaries.forget

            def forgotten(incidents: Any) -> None:
                incidents = list(incidents)
                forget(incidents)
                if "INC-1" in incidents:
                    shelved.set()

            inside.summaries.forget = forgotten  # type: ignore[method-assign]
            await _seed(hub)
            await asyncio.wait_for(shelved.wait(), TIMEOUT)
            assert isinstance(inside.fanout.world.incident("INC-1"), ShelvedIncident)
            assert isinstance(inside.sequencer._world.incident("INC-1"), ShelvedIncident)
            assert not isinstance(inside.fanout.world.incident("INC-3"), ShelvedIncident)
    finally:
        store.close()
