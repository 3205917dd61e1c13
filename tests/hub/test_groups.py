"""Names that exist: an audience naming a group no stakeholder holds is refused with the groups
there are; the war room is told those groups (on welcome, and when they change), stakeholders
never are."""

from __future__ import annotations

import pytest

from tests.kit.wire import Hub, declare, hello, note, receive, send, submit, until
from warroom.core.domain import Role


@pytest.mark.parametrize(
    "command",
    [
        note("for finance", audience="finance"),
        note("for exec and finance", audience="exec,finance"),
        {"type": "action.add", "incident": "INC-1", "text": "t", "audience": "finance"},
        {"type": "mitigation.add", "incident": "INC-1", "text": "t", "audience": "finance"},
        {"type": "impact.set", "incident": "INC-1", "statement": "s", "customer_facing": False,
         "base_version": 0, "audience": "finance"},
        {"type": "audience.change", "incident": "INC-1", "entry": "N1", "audience": "finance"},
    ],
    ids=["note", "note-two-groups", "action", "mitigation", "impact", "audience"],
)  # fmt: skip
async def test_an_audience_naming_a_group_nobody_holds_is_refused_with_the_known_ones(
    hub: Hub, command: dict[str, object]
) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    await submit(manager, declare())
    await submit(manager, note("first"))
    answer = await submit(manager, command)
    assert answer["type"] == "rejected"
    assert answer["code"] == "unknown-group"
    assert answer["message"] == ("no stakeholder is in group finance; known groups: exec, support")
    assert hub.store.log.head() == 2  # nothing was recorded


async def test_known_groups_internal_all_and_a_new_group_are_accepted(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    await submit(manager, declare())
    for audience in ("internal", "all", "exec", "exec,support"):
        assert (await submit(manager, note(audience, audience=audience)))["type"] == "ack"
    hub.store.users.add("fiona", Role.STAKEHOLDER, ["finance"])
    assert (await submit(manager, note("now", audience="finance")))["type"] == "ack"


async def test_the_war_room_is_told_the_groups_and_stakeholders_never_are(hub: Hub) -> None:
    for user, expected in (("manager", ["exec", "support"]), ("observer", ["exec", "support"])):
        connection = await hub.connect(user)
        await send(connection, {"type": "hello", "cursor": None})
        welcome = await receive(connection)
        assert welcome["known_groups"] == expected, user
    erin = await hub.connect("exec")
    await send(erin, {"type": "hello", "cursor": None})
    welcome = await receive(erin)
    assert welcome["known_groups"] == [] and welcome["groups"] == ["exec"]


async def test_a_new_group_is_told_to_the_war_room_live(hub: Hub) -> None:
    manager = await hub.connect("manager")
    await hello(manager, None)
    sam = await hub.connect("support")
    await hello(sam, None)
    hub.store.users.add("fiona", Role.STAKEHOLDER, ["finance"])
    told = await until(manager, "groups")
    assert told["groups"] == ["exec", "finance", "support"]
    await submit(manager, declare())  # sam hears of this, and never of the groups
    frame = await receive(sam)
    assert frame["type"] == "event", frame
