"""Once a revocation or a downgrade has committed, no later command of that user gets through,
even on a connection the hub has not closed yet (a real hub, a client hammering commands)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from websockets import ConnectionClosed

from tests.kit.wire import Hub, declare, note, submit
from warroom.core.domain import Role
from warroom.store import Store, open_engine

Change = Callable[[Store], None]


def revoke(store: Store) -> None:
    store.users.revoke("rita")


def downgrade(store: Store) -> None:
    store.users.change("rita", Role.OBSERVER)


@pytest.mark.parametrize("change", [revoke, downgrade], ids=["revoke", "downgrade"])
async def test_no_command_is_accepted_after_the_change_commits(hub: Hub, change: Change) -> None:
    manager = await hub.connect("manager")
    assert (await submit(manager, declare()))["type"] == "ack"
    rita = await hub.connect("responder")
    committed = asyncio.Event()
    warmed, answered_late = asyncio.Event(), asyncio.Event()
    answers: dict[str, tuple[bool, str]] = {}
    """Each command's id: whether it was sent after the change committed, and its answer."""

    async def hammer() -> None:
        number = 0
        try:
            while True:
                number += 1
                ident = f"r{number}"
                after = committed.is_set()
                frame = await submit(rita, note(f"hammer {number}"), ident)
                answers[ident] = (after, frame["type"])
                if sum(1 for _, kind in answers.values() if kind == "ack") >= 20:
                    warmed.set()
                if sum(1 for late, _ in answers.values() if late) >= 20:
                    answered_late.set()
        except ConnectionClosed:
            pass

    hammering = asyncio.create_task(hammer())
    await asyncio.wait_for(warmed.wait(), 10)
    # Another process's connection, as `warroom user revoke` / `user change` make.
    other = Store(open_engine(hub.store.engine.url.render_as_string(hide_password=False)))
    try:
        await asyncio.to_thread(change, other)
    finally:
        other.close()
    committed.set()
    async with asyncio.timeout(10):
        if change is revoke:
            await hammering  # the hub closes the connection within its poll
        else:
            await answered_late.wait()
            hammering.cancel()

    late = [ident for ident, (after, _) in answers.items() if after]
    assert late, "some commands must be sent after the change committed"
    assert [ident for ident in late if answers[ident][1] == "ack"] == []
    texts = [
        event.text
        for event in (item.event for item in hub.store.log.read())
        if getattr(event, "actor", "") == "rita" and hasattr(event, "text")
    ]
    assert not {f"hammer {ident[1:]}" for ident in late} & set(texts)
