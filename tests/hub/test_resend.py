"""A one-shot command whose hub went away before its ack is sent again, with the same id, to the
next hub named: one that had committed it answers with the original ack, and the log holds it
once. The hub that "goes away" is a proxy in front of the real hub that passes the command on,
waits for the commit, and hangs up instead of passing the ack back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.kit.wire import TIMEOUT, Hub, declare, hello, submit
from warroom.cli.common import Target, committed
from warroom.core import events as e
from warroom.core.commands import AddNote, Command
from warroom.net.remote import Remote


@asynccontextmanager
async def _losing_acks(hub: Hub, lost: list[dict[str, object]]) -> AsyncIterator[str]:
    """A hub's address that passes everything on until a command, whose ack it keeps (in
    `lost`) and answers by hanging up."""

    async def relay(client: ServerConnection) -> None:
        authorization = client.request.headers["Authorization"] if client.request else ""
        headers = {"Authorization": authorization}
        async with connect(hub.url, additional_headers=headers, proxy=None) as upstream:
            submitted = asyncio.Event()

            async def up() -> None:
                async for message in client:
                    if json.loads(message)["type"] == "submit":
                        submitted.set()
                    await upstream.send(message)

            async def down() -> None:
                async for message in upstream:
                    frame = json.loads(message)
                    if frame["type"] == "ack":
                        lost.append(frame)
                        return
                    if not submitted.is_set():
                        await client.send(message)

            upward = asyncio.create_task(up())
            await asyncio.wait_for(down(), TIMEOUT)
            upward.cancel()
        await client.close(1011, "gone")

    async with serve(relay, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_a_command_whose_ack_was_lost_is_acked_by_the_next_hub_and_recorded_once(
    hub: Hub,
) -> None:
    manager = await hub.connect()
    await hello(manager, None)
    assert (await submit(manager, declare()))["type"] == "ack"
    lost: list[dict[str, object]] = []
    note = AddNote(incident="INC-1", text="recorded once")

    async def build(_: Remote) -> Command:
        return note

    async with _losing_acks(hub, lost) as vanishing:
        target = Target((vanishing, hub.url), hub.tokens["manager"])
        seq, caused = await committed(target, build)

    [ack] = lost  # the first hub committed it, and its ack never reached the client
    assert seq == ack["seq"]
    assert [item.seq for item in caused] == [seq]
    assert isinstance(caused[0].event, e.NoteAdded) and caused[0].event.text == "recorded once"
    notes = [
        item.event
        for item in hub.store.log.read()
        if isinstance(item.event, e.NoteAdded) and item.event.text == "recorded once"
    ]
    assert len(notes) == 1, notes
