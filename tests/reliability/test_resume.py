"""Resuming from a cursor, the documented table: a hello with no cursor, from the start, at the
head, in the middle, ahead of the head, and from another log (a restored backup), for the war
room's numbered cursors and for stakeholders' sealed ones (a real `warroom serve`)."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import connect

from tests.kit.harness import Hub
from tests.kit.wire import receive, send, unbatched
from warroom.core.disclosure import Sealer
from warroom.store import Store, open_engine

OTHER_LOG = "0123456789abcdef"


async def _hello(hub: Hub, token: str, cursor: Any, log: str | None) -> tuple[bool, str, list[Any]]:
    """(welcome.reset, welcome.log, the positions replayed) for one hello."""
    connection = await connect(
        hub.url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None
    )
    try:
        await send(connection, {"type": "hello", "cursor": cursor, "log": log})
        welcome = await receive(connection)
        assert welcome["type"] == "welcome", welcome
        positions: list[Any] = []
        while (frame := await receive(connection))["type"] != "synced":
            positions += [event["seq"] for event in unbatched(frame)]
        return welcome["reset"], welcome["log"], positions
    finally:
        await connection.close()


def _room(hub: Hub) -> None:
    hub.ok("declare", "Checkout down", "--severity", "1")
    hub.ok("impact", "INC-1", "EU customers cannot pay", "--audience", "all")
    hub.ok("note", "INC-1", "internal only")
    hub.ok("note", "INC-1", "for everyone", "--audience", "all")
    hub.ok("note", "INC-1", "internal again")


async def test_the_war_rooms_numbered_cursors(hub: Hub) -> None:
    _room(hub)  # seq 1..5
    _, log, _ = await _hello(hub, hub.token, None, None)
    every = [1, 2, 3, 4, 5]

    table = {
        "no cursor: live only": (None, log),
        "from the start": (0, log),
        "at the head": (5, log),
        "in the middle": (2, log),
        "in the middle, log not named (older clients)": (2, None),
        "ahead of the head": (9, log),
        "from another log (a restored backup)": (2, OTHER_LOG),
    }
    got = {case: await _hello(hub, hub.token, *hello) for case, hello in table.items()}

    assert {case: (reset, replayed) for case, (reset, _, replayed) in got.items()} == {
        "no cursor: live only": (False, []),
        "from the start": (False, every),
        "at the head": (False, []),
        "in the middle": (False, [3, 4, 5]),
        "in the middle, log not named (older clients)": (False, [3, 4, 5]),
        "ahead of the head": (True, every),
        "from another log (a restored backup)": (True, every),
    }
    assert {served for _, served, _ in got.values()} == {log}


async def test_stakeholders_sealed_cursors(hub: Hub) -> None:
    erin = hub.user_add("erin", "stakeholder", "exec")
    _room(hub)  # erin may see seq 1 (declared), 2 (impact) and 4 (the note for everyone)
    _, log, sealed = await _hello(hub, erin, 0, None)
    assert len(sealed) == 3 and all(isinstance(p, str) for p in sealed)
    store = Store(open_engine(str(hub.db)))
    try:
        secret = store.secrets.get("disclosure")
    finally:
        store.close()
    ahead = Sealer(secret, log).cursor(9)
    elsewhere = Sealer(secret, OTHER_LOG).cursor(2)

    table = {
        "no cursor: live only": (None, log),
        "from the start": (0, log),
        "at the head": (sealed[-1], log),
        "in the middle": (sealed[0], log),
        "ahead of the head": (ahead, log),
        "a number instead of a sealed cursor": (2, log),
        "sealed for another log (a restored backup)": (elsewhere, None),
        "another log named": (sealed[0], OTHER_LOG),
    }
    got = {case: await _hello(hub, erin, *hello) for case, hello in table.items()}

    assert {case: (reset, replayed) for case, (reset, _, replayed) in got.items()} == {
        "no cursor: live only": (False, []),
        "from the start": (False, sealed),
        "at the head": (False, []),
        "in the middle": (False, sealed[1:]),
        "ahead of the head": (True, sealed),
        "a number instead of a sealed cursor": (True, sealed),
        "sealed for another log (a restored backup)": (True, sealed),
        "another log named": (True, sealed),
    }
