"""Clients given several hubs carry on through the next when theirs dies: `warroom tail`, the
one-shot verbs and the terminal client's connection.

Two hubs cannot share a SQLite file, so "hub B" is the honest form available on one: hub A is
SIGKILLed, and B starts on the same database (its lock died with A) on another port. The clients
were told of both URLs from the start, and must resume on B with nothing lost or doubled.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from client.connection import WebSocketConnection
from client.state import Link
from tests.e2e.test_cli_tail import _wait_until_live
from tests.kit.harness import Hub, free_port, warroom
from warroom.core import protocol
from warroom.core.commands import AddNote

INC = "INC-1"
CONNECT_TIMEOUT = 15.0
FAILOVER_TIMEOUT = 30.0


def _text(line: str) -> str | None:
    event: dict[str, Any] = json.loads(line)["event"]
    text = event.get("text")
    return text if isinstance(text, str) else None


def _logged(hub: Hub) -> list[tuple[int, str | None]]:
    """Every event of the incident in the log, as (seq, note text)."""
    exported = json.loads(hub.ok("export", INC, "--format", "json"))
    return [(item["seq"], item["event"].get("text")) for item in exported["events"]]


def test_tail_and_the_cli_resume_on_the_next_hub_with_nothing_lost_or_doubled(hub: Hub) -> None:
    first = hub.url
    second_port = free_port()
    second = f"ws://127.0.0.1:{second_port}"
    hub.ok("declare", "Payments degraded", "-s", "2")
    tail = hub.spawn("tail", "--json", "--all", "--url", first, "--url", second)
    _wait_until_live(hub, tail)
    hub.ok("note", INC, "on the first hub")
    tail.lines.wait_for(lambda line: _text(line) == "on the first hub", CONNECT_TIMEOUT)

    assert hub.kill() == -9
    hub.start(second_port)
    assert hub.url == second

    # A one-shot verb told of both hubs by a comma-separated WARROOM_URL: the first is dead.
    env = {**hub.client_env(), "WARROOM_URL": f"{first}, {second}"}
    noted = warroom("note", INC, "on the second hub", "--json", env=env)
    assert noted.returncode == 0, noted.stderr
    assert [e["text"] for e in json.loads(noted.stdout)["events"]] == ["on the second hub"]
    tail.lines.wait_for(lambda line: _text(line) == "on the second hub", FAILOVER_TIMEOUT)
    assert tail.proc.poll() is None, f"tail ended with the first hub: {tail.stderr()}"

    logged = _logged(hub)
    printed = [(json.loads(line)["seq"], _text(line)) for line in tail.lines.texts()]
    assert printed == logged, "the tail lost, repeated or reordered an event"
    texts = [text for _, text in logged]
    assert texts.count("on the first hub") == 1 and texts.count("on the second hub") == 1
    assert [seq for seq, _ in logged] == list(range(1, len(logged) + 1))
    assert tail.interrupt() == 0
    assert tail.stderr() == ""


def test_a_verb_says_which_hubs_it_could_not_reach(hub: Hub) -> None:
    dead = [f"ws://127.0.0.1:{free_port()}", f"ws://127.0.0.1:{free_port()}"]
    env = {**hub.client_env(), "WARROOM_URL": ",".join(dead)}
    result = warroom("list", env=env)
    assert result.returncode == 4
    [line] = result.stderr.splitlines()
    assert line.startswith("warroom: no hub answered: ")
    assert all(f"cannot reach the war room at {url}: connection refused" in line for url in dead)
    # The same two, and the live hub last: the list goes to the one that answers.
    listed = warroom("list", "--json", "--url", dead[0], "--url", f"{dead[1]},{hub.url}", env=env)
    assert listed.returncode == 0, listed.stderr


class _Recorder:
    """The sink of a connection: every frame and change of link, with a way to wait on them."""

    def __init__(self) -> None:
        self.frames: list[protocol.ServerFrameType] = []
        self.links: list[tuple[Link, str]] = []
        self._changed = asyncio.Event()

    def frames_received(self, frames: list[protocol.ServerFrameType]) -> None:
        self.frames.extend(frames)
        self._changed.set()

    def link_changed(self, link: Link, detail: str) -> None:
        self.links.append((link, detail))
        self._changed.set()

    def forget(self) -> None:
        self.links.append((Link.OFFLINE, "forget"))
        self._changed.set()

    async def until(self, holds: Callable[[], bool], within: float) -> None:
        """Wait (bounded) until `holds()` is true."""
        async with asyncio.timeout(within):
            while not holds():
                self._changed.clear()
                await self._changed.wait()

    def synced(self) -> int:
        return sum(isinstance(frame, protocol.Synced) for frame in self.frames)

    def answers(self, ident: str) -> list[protocol.Ack]:
        return [f for f in self.frames if isinstance(f, protocol.Ack) and f.id == ident]


async def test_the_terminal_clients_connection_moves_to_the_next_hub(hub: Hub) -> None:
    first = hub.url
    second_port = free_port()
    second = f"ws://127.0.0.1:{second_port}"
    await asyncio.to_thread(hub.ok, "declare", "Payments degraded", "-s", "2")
    connection = WebSocketConnection([first, second], hub.token)
    sink = _Recorder()
    running = asyncio.create_task(connection.run(sink))
    try:
        await sink.until(lambda: sink.synced() == 1, CONNECT_TIMEOUT)
        before = uuid.uuid4().hex
        note = AddNote(incident=INC, text="before the failover")
        assert await connection.send(protocol.Submit(id=before, command=note))
        await sink.until(lambda: bool(sink.answers(before)), CONNECT_TIMEOUT)
        [committed] = sink.answers(before)
        assert isinstance(committed.seq, int)  # the incident manager's positions are seqs

        assert await asyncio.to_thread(hub.kill) == -9
        lost = (Link.OFFLINE, "connection lost; reconnecting")
        await sink.until(lambda: lost in sink.links, CONNECT_TIMEOUT)
        await asyncio.to_thread(hub.start, second_port)
        await sink.until(lambda: sink.synced() == 2, FAILOVER_TIMEOUT)

        assert connection.url == second
        assert (Link.CONNECTING, f"connecting to {second}") in sink.links
        # What the app does for a command it never heard back about: the same id, again. The
        # hub on the same log answers with the original position and records nothing new.
        assert await connection.send(protocol.Submit(id=before, command=note))
        await sink.until(lambda: len(sink.answers(before)) == 2, CONNECT_TIMEOUT)
        assert [ack.seq for ack in sink.answers(before)] == [committed.seq, committed.seq]
        after = uuid.uuid4().hex
        later = AddNote(incident=INC, text="after the failover")
        assert await connection.send(protocol.Submit(id=after, command=later))
        await sink.until(lambda: bool(sink.answers(after)), CONNECT_TIMEOUT)
        assert sink.answers(after)[0].seq == committed.seq + 1
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    logged = await asyncio.to_thread(_logged, hub)
    assert [text for _, text in logged] == [None, "before the failover", "after the failover"]
