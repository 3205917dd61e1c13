"""A war-room client that survives its hub being killed: it retries every command not yet
acknowledged with the same id, folds every event it is sent, and resumes from its cursor.

Shared by the reliability tier's crash run and anything else that hammers a hub while it dies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from websockets import ConnectionClosed, InvalidHandshake
from websockets.asyncio.client import ClientConnection, connect

from warroom.core import protocol
from warroom.core.domain import World
from warroom.core.events import Envelope, NoteAdded
from warroom.core.reducer import apply, replay
from warroom.store import Store, open_engine
from warroom.store.chain import Verdict


def note(ident: str) -> dict[str, str]:
    """The command a crash client submits under `ident`."""
    return {"type": "note.add", "incident": "INC-1", "text": f"note {ident}"}


RETRY = 0.05
"""Seconds between two attempts to reach a hub that is down."""


@dataclass
class CrashClient:
    """One client: `commands` notes on INC-1, each with an id of its own.

    Attributes:
        acked: each acknowledged command id and the seq its ack named.
        doubled: ids acked twice with different seqs (must stay empty).
        refused: the refusals received, as (id, code) (must stay empty).
        world: what the client folded from the events it was sent.
    """

    name: str
    token: str
    commands: int
    window: int = 16
    on_ack: Callable[[], None] = lambda: None
    acked: dict[str, int] = field(default_factory=dict)
    doubled: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    world: World = field(default_factory=World)
    cursor: int = 0
    log: str | None = None
    resets: int = 0
    hub: str = ""
    """The URL of the hub it last reached."""
    moves: int = 0
    """How many times it moved to the next hub of those it was given."""

    @property
    def ids(self) -> list[str]:
        return [f"{self.name}-{n}" for n in range(self.commands)]

    @property
    def done(self) -> bool:
        return len(self.acked) == self.commands

    async def run(self, *urls: str) -> None:
        """Connect, resume, submit what is not acknowledged, again after every drop; until every
        command is acknowledged. Given several hubs of one war room, it starts with the first
        and moves to the next (round-robin) after every drop."""
        turn = 0
        while not self.done:
            url = urls[turn % len(urls)]
            try:
                async with connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    proxy=None,
                    open_timeout=5,
                    max_size=None,
                ) as connection:
                    self.hub = url
                    await self._session(connection, submit=True)
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
                if len(urls) > 1:
                    turn += 1
                    self.moves += 1
                await asyncio.sleep(RETRY)

    async def catch_up(self, url: str) -> None:
        """Reconnect once and fold what was committed since the cursor, up to `synced`."""
        async with connect(
            url, additional_headers={"Authorization": f"Bearer {self.token}"}, proxy=None
        ) as connection:
            await self._session(connection, submit=False)

    async def _session(self, connection: ClientConnection, submit: bool) -> None:
        hello = protocol.Hello(cursor=self.cursor, log=self.log)
        await connection.send(protocol.encode(hello))
        slots = asyncio.Semaphore(self.window)
        in_flight: set[str] = set()
        sender = asyncio.create_task(self._send(connection, slots, in_flight)) if submit else None
        try:
            async for message in connection:
                frame = protocol.decode_server(message)
                if isinstance(frame, protocol.Welcome):
                    self.log = frame.log
                    if frame.reset:
                        self.resets += 1
                        self.world, self.cursor = World(), 0
                elif isinstance(frame, protocol.EventFrame | protocol.EventsFrame):
                    for event in protocol.events_of(frame):
                        assert isinstance(event.seq, int)
                        if event.seq > self.cursor:
                            self.world, self.cursor = apply(self.world, event.event), event.seq
                elif isinstance(frame, protocol.Synced) and not submit:
                    return
                elif isinstance(frame, protocol.Ack | protocol.RejectedFrame):
                    if frame.id in in_flight:
                        in_flight.discard(frame.id)
                        slots.release()
                    if isinstance(frame, protocol.RejectedFrame):
                        self.refused.append((frame.id, frame.code))
                        continue
                    assert isinstance(frame.seq, int)
                    if frame.id not in self.acked:
                        self.acked[frame.id] = frame.seq
                        self.on_ack()
                    elif self.acked[frame.id] != frame.seq:
                        self.doubled.append(frame.id)
                    if self.done:
                        return
        finally:
            if sender is not None:
                sender.cancel()

    async def _send(
        self, connection: ClientConnection, slots: asyncio.Semaphore, in_flight: set[str]
    ) -> None:
        for ident in [i for i in self.ids if i not in self.acked]:
            await slots.acquire()
            in_flight.add(ident)
            await connection.send(
                json.dumps({"type": "submit", "v": 1, "id": ident, "command": note(ident)})
            )


@dataclass(frozen=True)
class Outcome:
    """What a crash run left in the database, beside what its clients were told."""

    events: list[Envelope]
    verdict: Verdict
    recorded: dict[tuple[str, str], int | None]
    """(client, command id): the seq the log holds for that command (None: not recorded)."""
    acked: dict[tuple[str, str], int]
    """(client, command id): the seq its ack named."""

    @property
    def texts(self) -> list[str]:
        """The notes' texts in the log, in order."""
        return [item.event.text for item in self.events if isinstance(item.event, NoteAdded)]


def outcome(url: str, clients: Sequence[CrashClient]) -> Outcome:
    """Read the log of the database at `url` (the hubs stopped) and what `clients` were told."""
    store = Store(open_engine(url))
    try:
        events = store.log.read()
        verdict = store.log.verify()
        recorded = {
            (client.name, ident): store.log.find_command(client.name, ident)
            for client in clients
            for ident in client.ids
        }
    finally:
        store.close()
    acked = {(c.name, ident): seq for c in clients for ident, seq in c.acked.items()}
    return Outcome(events, verdict, recorded, acked)


def assert_one_log(
    found: Outcome, clients: Sequence[CrashClient], manager: CrashClient, total: int
) -> None:
    """Nothing acked was lost, nothing doubled, and every client converged on the log: each
    client's fold, whichever hub it ended on, is a fresh replay of it."""
    assert [c.refused for c in clients] == [[] for _ in clients]
    assert [c.doubled for c in clients] == [[] for _ in clients]
    assert len(found.acked) == total
    # Lost: none. Every acked command is in the log, at the seq its ack named.
    by_seq = {item.seq: item.event for item in found.events}
    lost = [
        key
        for key, seq in found.acked.items()
        if not isinstance(event := by_seq.get(seq), NoteAdded)
        or event.text != note(key[1])["text"]
        or found.recorded[key] != seq
    ]
    assert lost == []
    # Doubled: none. Each command once, the seqs gapless, the chain intact.
    texts = found.texts
    assert sorted(texts) == sorted({note(ident)["text"] for _, ident in found.acked})
    assert len(texts) == len(set(texts)) == total
    assert [item.seq for item in found.events] == list(range(1, total + 2))
    assert (found.verdict.broken, found.verdict.head) == (None, total + 1)
    # Converged: every client's fold is a fresh replay of the log.
    truth = replay(item.event for item in found.events)
    everyone = (*clients, manager)
    assert [c.cursor for c in everyone] == [total + 1] * len(everyone)
    assert all(c.world == truth for c in everyone)
