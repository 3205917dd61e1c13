"""Two writers on one PostgreSQL log at once, as two hubs are: one order, a gapless seq, an
intact chain, each writer deciding against everything committed before it and publishing all
of it in order, and a command id committed by one answered from the database by the other."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import pytest

from server.sequencer import Accepted, Committed, Sequencer
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from warroom.core import protocol
from warroom.core.commands import AddNote, DeclareIncident
from warroom.core.decide import decide
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.events import Event, NoteAdded
from warroom.core.reducer import apply, replay
from warroom.store import Pending, Planned, Store, open_engine

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server"
)

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)
RESPONDER = Actor("bob", Role.RESPONDER)
ROUNDS = 60


@pytest.fixture
def stores() -> Iterator[tuple[Store, Store]]:
    """Two stores (two hubs' engines) on one fresh PostgreSQL database."""
    with postgres_database() as url:
        first, second = Store(open_engine(url)), Store(open_engine(url))
        try:
            for actor in (MANAGER, RESPONDER):
                first.users.add(actor.name, actor.role)
            yield first, second
        finally:
            first.close()
            second.close()


def test_two_writers_in_turns_keep_one_gapless_chained_log(stores: tuple[Store, Store]) -> None:
    start = threading.Barrier(2)
    worlds: list[World] = [World(), World()]
    seen: list[list[int]] = [[], []]
    failures: list[BaseException] = []

    def write(n: int, store: Store) -> None:
        world, head = World(), 0
        try:
            start.wait(10)
            for round_ in range(ROUNDS):
                with store.log.turn(head) as turn:
                    for seq, encoded in turn.newer:
                        assert seq == head + 1
                        world, head = apply(world, protocol.load_event(encoded)), seq
                        seen[n].append(seq)
                    if world.incident("INC-1") is None:
                        command: DeclareIncident | AddNote = DeclareIncident(
                            title="Checkout down", severity=Severity.SEV1
                        )
                    else:
                        command = AddNote(incident="INC-1", text=f"writer {n} round {round_}")
                    numbered: list[tuple[int, Event, str]] = []
                    for event in decide(world, command, MANAGER, datetime.now(UTC)):
                        numbered.append(
                            (head + 1 + len(numbered), event, protocol.event_json(event))
                        )
                    turn.append([Pending(MANAGER.name, f"w{n}-{round_}", numbered)])
                for seq, event, _ in numbered:
                    world, head = apply(world, event), seq
                    seen[n].append(seq)
            worlds[n] = world
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []

    events = stores[0].log.read()
    total = 2 * ROUNDS
    assert [item.seq for item in events] == list(range(1, total + 1))
    verdict = stores[1].log.verify()
    assert (verdict.broken, verdict.count) == (None, total)
    declared = [item for item in events if not isinstance(item.event, NoteAdded)]
    assert len(declared) == 1  # the second writer saw the first's declaration before deciding
    texts = [item.event.text for item in events if isinstance(item.event, NoteAdded)]
    assert len(set(texts)) == total - 1
    # Each writer saw the whole log, in order, up to its own last append.
    for n in range(2):
        assert seen[n] == list(range(1, seen[n][-1] + 1))
        incident = worlds[n].incident("INC-1")
        assert incident is not None
        assert len(incident.notes) == seen[n][-1] - 1


async def test_two_sequencers_publish_one_log_in_order_and_share_command_ids(
    stores: tuple[Store, Store],
) -> None:
    published: list[list[Committed]] = [[], []]
    heads = [asyncio.Event(), asyncio.Event()]
    goal = 0

    def hook(n: int) -> Callable[[Sequence[Committed], World], None]:
        def publish(committed: Sequence[Committed], world: World) -> None:
            published[n].extend(committed)
            if goal and published[n][-1].seq >= goal:
                heads[n].set()

        return publish

    sequencers = [
        Sequencer(store.log, store.users, World(), 0, hook(n)) for n, store in enumerate(stores)
    ]
    for sequencer in sequencers:
        sequencer.start()
    try:
        declared = DeclareIncident(title="Checkout down", severity=Severity.SEV1)
        assert await sequencers[0].submit(MANAGER, "declare", declared) == Accepted(1)
        futures = [
            sequencers[n % 2].submit(
                RESPONDER if n % 2 else MANAGER, f"n{n}", AddNote(incident="INC-1", text=f"{n}")
            )
            for n in range(200)
        ]
        outcomes = await asyncio.gather(*futures)
        assert all(isinstance(o, Accepted) and not o.duplicate for o in outcomes)
        seqs = sorted(o.seq for o in outcomes if isinstance(o, Accepted))
        assert seqs == list(range(2, 202))
        # The same command id through the other writer: its original ack, nothing recorded.
        first = outcomes[0]  # n0 went through the first writer
        assert isinstance(first, Accepted)
        again = await sequencers[1].submit(MANAGER, "n0", AddNote(incident="INC-1", text="0"))
        assert again == Accepted(first.seq, duplicate=True)
        goal = 201
        for n, sequencer in enumerate(sequencers):
            if published[n][-1].seq < goal:  # the rest is published on the next catch-up
                sequencer.catch_up()
                await asyncio.wait_for(heads[n].wait(), 10)
    finally:
        for sequencer in sequencers:
            await asyncio.to_thread(sequencer.stop)

    log = stores[0].log.read()
    assert [item.seq for item in log] == list(range(1, 202))
    for mine in published:
        assert [item.seq for item in mine] == list(range(1, 202))
        assert [item.event for item in mine] == [item.event for item in log]
    assert replay(item.event for item in published[0]) == replay(item.event for item in log)


def test_two_hubs_claiming_from_one_outbox_never_take_the_same_delivery(
    stores: tuple[Store, Store],
) -> None:
    planned = [
        Planned(seq, "INC-1", 1, "email", f"r{n}@example.com", f"d-{seq}-{n}", "body", "subject")
        for seq in range(1, 41)
        for n in range(5)
    ]
    recorded = stores[0].deliveries.plan(planned, 40)
    now = max(item.next_at for item in recorded)
    start = threading.Barrier(2)
    taken: list[list[int]] = [[], []]

    def claim(n: int) -> None:
        start.wait(10)
        while claimed := stores[n].deliveries.claim(now, 3, lease=60):
            taken[n].extend(item.id for item in claimed)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert set(taken[0]).isdisjoint(taken[1])
    assert sorted(taken[0] + taken[1]) == sorted(item.id for item in recorded)
    # Leased: due again only once the lease ends, for whichever hub asks first.
    assert stores[0].deliveries.claim(now + 30, 500, lease=60) == []
    assert len(stores[1].deliveries.claim(now + 61, 500, lease=60)) == len(recorded)


def test_a_claimed_delivery_given_back_is_due_again_at_once(stores: tuple[Store, Store]) -> None:
    planned = [
        Planned(n, "INC-1", n, "email", "cto@example.com", f"d-{n}", "b", "s") for n in (1, 2)
    ]
    recorded = stores[0].deliveries.plan(planned, 2)
    now = max(item.next_at for item in recorded)
    first, second = stores[0].deliveries.claim(now, 2, lease=60)
    # One at a time to a recipient: the hub attempts the first and gives the second back.
    stores[0].deliveries.release([second.id], now)
    assert [item.id for item in stores[1].deliveries.claim(now, 5, lease=60)] == [second.id]
    assert stores[1].deliveries.claim(now + 30, 5, lease=60) == []  # the first is still leased
    assert first.id != second.id
