"""The sequencer over a real event store, on every backend: numbering, retries, refusals, stop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from server.sequencer import MAX_BATCH, Accepted, Committed, Outcome, Sequencer
from warroom.core import protocol
from warroom.core.commands import AddNote, ChangeStatus, Command, DeclareIncident
from warroom.core.domain import Actor, Role, Severity, Status, World
from warroom.core.events import NoteAdded
from warroom.core.reducer import replay
from warroom.core.rejections import Rejected
from warroom.store import Store, open_engine

MANAGER = Actor("alice", Role.INCIDENT_MANAGER)
RESPONDER = Actor("bob", Role.RESPONDER)
OBSERVER = Actor("olga", Role.OBSERVER)

Hook = Callable[[Sequence[Committed], World], None]


class GateClock:
    """The sequencer's clock, which the writer thread calls once per command it decides.

    `hold()` makes the next call block until `release()`: while the writer waits inside one
    group, the commands submitted meanwhile queue up and are decided together as the next group
    (one transaction), which makes the grouping of a test deterministic.
    """

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self.waiting = threading.Event()

    def __call__(self) -> datetime:
        if not self._open.is_set():
            self.waiting.set()
            self._open.wait(timeout=30)
        return datetime.now(UTC)

    def hold(self) -> None:
        self.waiting.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()


@dataclass
class Running:
    """A started sequencer, its store and what it published."""

    store: Store
    sequencer: Sequencer
    clock: GateClock
    published: list[tuple[list[Committed], World]] = field(default_factory=list)

    def committed(self) -> list[Committed]:
        """Every published event, in the order it was published."""
        return [item for group, _ in self.published for item in group]

    def submit(self, actor: Actor, command_id: str, command: Command) -> asyncio.Future[Outcome]:
        return self.sequencer.submit(actor, command_id, command)

    async def hold(self) -> asyncio.Future[Outcome]:
        """Park the writer inside a group of its own (a note on INC-1) until `release()`."""
        self.clock.hold()
        gate = self.submit(MANAGER, "gate", AddNote(incident="INC-1", text="gate"))
        assert await asyncio.to_thread(self.clock.waiting.wait, 10)
        return gate

    def release(self) -> None:
        self.clock.release()


Start = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_sequencer(store_url: str) -> AsyncIterator[Start]:
    """Open a store on `store_url`, replay it and start a sequencer on it (as `warroom serve`)."""
    started: list[Running] = []

    async def start(hook: Hook | None = None) -> Running:
        store = Store(open_engine(store_url))
        known = store.users.states()
        for actor in (MANAGER, RESPONDER, OBSERVER):
            if actor.name not in known:  # the sequencer acts only for the users table's users
                store.users.add(actor.name, actor.role)
        log = await asyncio.to_thread(store.log.read)
        world = replay(item.event for item in log)
        head = log[-1].seq if log else 0
        running: Running

        def publish(committed: Sequence[Committed], world: World) -> None:
            if hook is not None:
                hook(committed, world)
            running.published.append((list(committed), world))

        clock = GateClock()
        running = Running(
            store, Sequencer(store.log, store.users, world, head, publish, clock), clock
        )
        started.append(running)
        running.sequencer.start()
        return running

    try:
        yield start
    finally:
        for running in started:
            running.clock.release()
            await asyncio.to_thread(running.sequencer.stop)
            running.store.close()


async def _declare(running: Running) -> None:
    outcome = await running.submit(
        MANAGER, "declare", DeclareIncident(title="Checkout down", severity=Severity.SEV1)
    )
    assert outcome == Accepted(running.store.log.head())


# Concurrent commands --------------------------------------------------------------------------


async def test_concurrent_commands_get_distinct_gapless_seqs_in_the_published_order(
    start_sequencer: Start,
) -> None:
    futures: dict[str, asyncio.Future[Outcome]] = {}
    acked_before_publish: list[str] = []

    def hook(committed: Sequence[Committed], world: World) -> None:
        # Publishing happens before the acks of the same group.
        for item in committed:
            text = getattr(item.event, "text", None)
            if text in futures and futures[text].done():
                acked_before_publish.append(text)

    running = await start_sequencer(hook)
    await _declare(running)
    for i in range(500):
        text = f"note {i}"
        futures[text] = running.submit(MANAGER, f"note-{i}", AddNote(incident="INC-1", text=text))

    results = await asyncio.gather(*futures.values())

    outcomes = [outcome for outcome in results if isinstance(outcome, Accepted)]
    assert outcomes == results
    assert not any(outcome.duplicate for outcome in outcomes)
    seqs = [outcome.seq for outcome in outcomes]
    assert len(set(seqs)) == 500
    assert seqs == list(range(2, 502))  # one queue: decided in the order submitted
    assert acked_before_publish == []

    committed = running.committed()
    assert [item.seq for item in committed] == list(range(1, 502))
    by_seq = {item.seq: item.event for item in committed}
    for text, outcome in zip(futures, outcomes, strict=True):
        event = by_seq[outcome.seq]
        assert isinstance(event, NoteAdded)
        assert event.text == text
    notes = [event for event in by_seq.values() if isinstance(event, NoteAdded)]
    assert [note.note for note in notes] == list(range(1, 501))

    assert running.store.log.head() == 501
    assert running.store.log.read_raw() == [(item.seq, item.encoded) for item in committed]
    assert [item.event for item in running.store.log.read()] == [item.event for item in committed]
    incident = running.published[-1][1].incident("INC-1")
    assert incident is not None
    assert len(incident.notes) == 500
    for i in range(500):
        assert running.store.log.find_command(MANAGER.name, f"note-{i}") == i + 2


async def test_the_answers_of_a_group_are_given_together_in_order_after_its_publish(
    start_sequencer: Start,
) -> None:
    loop = asyncio.get_running_loop()
    published: list[int] = []
    answers: list[tuple[str, Outcome, int]] = []
    """(command id, outcome, the newest seq published when it was answered)."""
    turned = asyncio.Event()
    answered_when_the_loop_turned: list[int] = []

    def hook(committed: Sequence[Committed], world: World) -> None:
        published.extend(item.seq for item in committed)

    def the_loop_turned() -> None:
        answered_when_the_loop_turned.append(len(answers))
        turned.set()

    def answer(command_id: str) -> Callable[[Outcome], None]:
        def told(outcome: Outcome) -> None:
            if not answers:  # runs once the callback that gives this answer has returned
                loop.call_soon(the_loop_turned)
            answers.append((command_id, outcome, published[-1]))
            if command_id == "n2":
                raise RuntimeError("this answer fails")

        return told

    running = await start_sequencer(hook)
    await _declare(running)
    gate = await running.hold()
    for n in range(1, 5):
        note = AddNote(incident="INC-1", text=f"note {n}")
        running.sequencer.send(MANAGER, f"n{n}", note, answer(f"n{n}"))
    running.release()
    assert await gate == Accepted(2)
    await asyncio.wait_for(turned.wait(), 10)

    assert [(ident, outcome) for ident, outcome, _ in answers] == [
        (f"n{n}", Accepted(n + 2)) for n in range(1, 5)
    ]
    assert {newest for _, _, newest in answers} == {6}  # the group was published first
    # All four in one callback, the one that failed keeping none from theirs.
    assert answered_when_the_loop_turned == [4]


# Retries --------------------------------------------------------------------------------------


async def test_a_retried_command_gets_its_original_seq_and_adds_nothing(
    start_sequencer: Start,
) -> None:
    running = await start_sequencer()
    await _declare(running)
    first = await running.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one"))
    published = len(running.published)

    again = await running.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one"))

    assert first == Accepted(2)
    assert again == Accepted(2, duplicate=True)
    assert running.store.log.head() == 2
    assert len(running.published) == published

    # The same id twice in one group: committed once.
    gate = await running.hold()
    both = [
        running.submit(MANAGER, "n2", AddNote(incident="INC-1", text="two")),
        running.submit(MANAGER, "n2", AddNote(incident="INC-1", text="two")),
    ]
    running.release()
    assert await gate == Accepted(3)
    assert await asyncio.gather(*both) == [Accepted(4), Accepted(4, duplicate=True)]
    assert len(running.published[-1][0]) == 1

    # Ids belong to their actor.
    other = await running.submit(RESPONDER, "n1", AddNote(incident="INC-1", text="bob's"))
    assert other == Accepted(5)
    assert [seq for seq, _ in running.store.log.read_raw()] == [1, 2, 3, 4, 5]


async def test_a_retry_after_a_restart_is_answered_from_the_database(
    start_sequencer: Start,
) -> None:
    first = await start_sequencer()
    await _declare(first)
    assert await first.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one")) == Accepted(2)
    status = ChangeStatus(incident="INC-1", status=Status.IDENTIFIED)
    assert await first.submit(MANAGER, "status", status) == Accepted(3)
    await asyncio.to_thread(first.sequencer.stop)
    first.store.close()

    second = await start_sequencer()  # a reopened store: the recent-commands cache is empty

    # Still valid as a command: the store refuses the batch and the retry finds the old seq.
    again = await second.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one"))
    assert again == Accepted(2, duplicate=True)
    # No longer valid as a command ("already identified"): still its original ack.
    assert await second.submit(MANAGER, "status", status) == Accepted(3, duplicate=True)
    assert second.store.log.head() == 3
    assert second.published == []

    # Retries in one group with new commands (the store refuses the group, which is then
    # decided again one command at a time): the new ones are committed, gaplessly.
    gate = await second.hold()
    futures = [
        second.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one")),
        second.submit(MANAGER, "n3", AddNote(incident="INC-1", text="three")),
        second.submit(RESPONDER, "n1", AddNote(incident="INC-1", text="bob's")),
        second.submit(
            MANAGER, "declare", DeclareIncident(title="Checkout down", severity=Severity.SEV1)
        ),
        second.submit(MANAGER, "status", status),
    ]
    second.release()
    assert await gate == Accepted(4)
    assert await asyncio.gather(*futures) == [
        Accepted(2, duplicate=True),
        Accepted(5),
        Accepted(6),
        Accepted(1, duplicate=True),
        Accepted(3, duplicate=True),
    ]
    assert [[item.seq for item in group] for group, _ in second.published] == [[4], [5, 6]]
    assert [seq for seq, _ in second.store.log.read_raw()] == [1, 2, 3, 4, 5, 6]
    notes = [item.event for item in second.committed()]
    assert [(n.note, n.text) for n in notes if isinstance(n, NoteAdded)] == [
        (2, "gate"),
        (3, "three"),
        (4, "bob's"),
    ]
    assert second.store.log.find_command(MANAGER.name, "n3") == 5
    assert second.store.log.find_command(RESPONDER.name, "n1") == 6
    # ... and once cached again, the retry no longer needs the database.
    assert await second.submit(MANAGER, "n3", AddNote(incident="INC-1", text="three")) == Accepted(
        5, duplicate=True
    )
    assert second.store.log.head() == 6


async def test_a_reused_id_with_another_command_is_refused_not_acked_as_the_original(
    start_sequencer: Start,
) -> None:
    first = await start_sequencer()
    await _declare(first)
    assert await first.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one")) == Accepted(2)

    # Remembered in memory.
    changed = await first.submit(MANAGER, "n1", AddNote(incident="INC-1", text="changed"))
    assert isinstance(changed, Rejected)
    assert changed.code == "duplicate-id"
    assert "n1" in changed.message

    # Twice in one group: the first is committed, the second refused.
    gate = await first.hold()
    both = [
        first.submit(MANAGER, "n2", AddNote(incident="INC-1", text="two")),
        first.submit(MANAGER, "n2", AddNote(incident="INC-1", text="not two")),
    ]
    first.release()
    assert await gate == Accepted(3)
    committed, refused = await asyncio.gather(*both)
    assert committed == Accepted(4)
    assert isinstance(refused, Rejected) and refused.code == "duplicate-id"
    await asyncio.to_thread(first.sequencer.stop)
    first.store.close()

    # Answered from the database after a restart, whether the command would be valid or not.
    second = await start_sequencer()
    other = await second.submit(MANAGER, "n1", AddNote(incident="INC-1", text="other"))
    assert isinstance(other, Rejected) and other.code == "duplicate-id"
    status = ChangeStatus(incident="INC-1", status=Status.INVESTIGATING)  # refused as a command
    invalid = await second.submit(MANAGER, "n2", status)
    assert isinstance(invalid, Rejected) and invalid.code == "duplicate-id"
    same = await second.submit(MANAGER, "n1", AddNote(incident="INC-1", text="one"))
    assert same == Accepted(2, duplicate=True)
    assert second.store.log.head() == 4
    assert second.published == []


# The user as they are now -----------------------------------------------------------------------


async def test_no_command_of_a_revoked_user_is_accepted_once_the_revocation_committed(
    start_sequencer: Start,
) -> None:
    running = await start_sequencer()
    await _declare(running)
    assert await running.submit(RESPONDER, "b1", AddNote(incident="INC-1", text="hi")) == Accepted(
        2
    )

    await asyncio.to_thread(running.store.users.revoke, RESPONDER.name)
    # The session still carries the old actor: the sequencer reads the user as they are now.
    outcome = await running.submit(RESPONDER, "b2", AddNote(incident="INC-1", text="late"))

    assert isinstance(outcome, Rejected)
    assert outcome.code == "revoked"
    assert running.store.log.head() == 2


async def test_a_downgraded_user_acts_with_their_new_role_at_once(start_sequencer: Start) -> None:
    running = await start_sequencer()
    await _declare(running)

    await asyncio.to_thread(running.store.users.change, RESPONDER.name, Role.OBSERVER)
    outcome = await running.submit(RESPONDER, "b1", AddNote(incident="INC-1", text="late"))

    assert isinstance(outcome, Rejected)
    assert outcome.code == "forbidden"
    assert running.store.log.head() == 1


# Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "command", "code"),
    [
        (OBSERVER, AddNote(incident="INC-1", text="hi"), "forbidden"),
        (OBSERVER, DeclareIncident(title="mine", severity=Severity.SEV2), "forbidden"),
        (MANAGER, AddNote(incident="INC-9", text="hi"), "not-found"),
        (MANAGER, AddNote(incident="INC-1", text="   "), "invalid"),
        (MANAGER, ChangeStatus(incident="INC-1", status=Status.INVESTIGATING), "invalid-state"),
    ],
    ids=["observer-note", "observer-declare", "unknown-incident", "empty-note", "same-status"],
)
async def test_a_refused_command_is_rejected_and_adds_nothing(
    start_sequencer: Start, actor: Actor, command: Command, code: str
) -> None:
    running = await start_sequencer()
    await _declare(running)
    published = len(running.published)

    outcome = await running.submit(actor, "bad", command)

    assert isinstance(outcome, Rejected)
    assert outcome.code == code
    assert outcome.message
    assert running.store.log.head() == 1
    assert len(running.published) == published
    assert running.store.log.find_command(actor.name, "bad") is None

    # A refusal is not remembered: the id can be used for a valid command afterwards.
    fixed = await running.submit(MANAGER, "bad", AddNote(incident="INC-1", text="valid"))
    assert fixed == Accepted(2)


async def test_refusals_among_accepted_commands_leave_no_gap(start_sequencer: Start) -> None:
    running = await start_sequencer()
    await _declare(running)

    gate = await running.hold()
    futures = [
        running.submit(MANAGER, "a", AddNote(incident="INC-1", text="a")),
        running.submit(OBSERVER, "b", AddNote(incident="INC-1", text="b")),
        running.submit(MANAGER, "c", AddNote(incident="INC-2", text="c")),
        running.submit(RESPONDER, "d", AddNote(incident="INC-1", text="d")),
    ]
    running.release()
    assert await gate == Accepted(2)
    outcomes = await asyncio.gather(*futures)

    assert outcomes[0] == Accepted(3)
    assert isinstance(outcomes[1], Rejected) and outcomes[1].code == "forbidden"
    assert isinstance(outcomes[2], Rejected) and outcomes[2].code == "not-found"
    assert outcomes[3] == Accepted(4)
    assert [seq for seq, _ in running.store.log.read_raw()] == [1, 2, 3, 4]
    assert [[item.seq for item in group] for group, _ in running.published] == [[1], [2], [3, 4]]


# Stopping -------------------------------------------------------------------------------------


async def test_stop_commits_everything_queued_before_returning(start_sequencer: Start) -> None:
    running = await start_sequencer()
    await _declare(running)
    count = 2 * MAX_BATCH + 100  # more than one transaction's worth
    futures = [
        running.submit(MANAGER, f"q{i}", AddNote(incident="INC-1", text=f"queued {i}"))
        for i in range(count)
    ]
    assert not any(future.done() for future in futures)

    await asyncio.to_thread(running.sequencer.stop)

    # Committed before stop() returned, whether or not the acks have been delivered yet.
    assert running.store.log.head() == count + 1
    outcomes = await asyncio.gather(*futures)
    assert outcomes == [Accepted(i + 2) for i in range(count)]
    assert [item.seq for item in running.committed()] == list(range(1, count + 2))

    late = await running.submit(MANAGER, "late", AddNote(incident="INC-1", text="too late"))
    assert isinstance(late, Rejected)
    assert late.code == "unavailable"
    assert running.store.log.head() == count + 1


async def test_stop_with_nothing_queued_returns_and_may_be_repeated(start_sequencer: Start) -> None:
    running = await start_sequencer()

    await asyncio.wait_for(asyncio.to_thread(running.sequencer.stop), timeout=10)
    await asyncio.wait_for(asyncio.to_thread(running.sequencer.stop), timeout=10)

    assert running.store.log.head() == 0
    assert running.published == []


# Bad input in a group, and known bugs (strict xfail: a fixed bug turns its test into a failure) --


def _submitted(command_id: str, command: str) -> tuple[str, Command]:
    """A command id and command as the hub gets them: decoded from a client's submit frame."""
    frame = protocol.decode_client(
        f'{{"type":"submit","v":1,"id":"{command_id}","command":{command}}}'
    )
    assert isinstance(frame, protocol.Submit)
    return frame.id, frame.command


async def test_a_command_that_cannot_be_decided_does_not_fail_its_group(
    start_sequencer: Start,
) -> None:
    running = await start_sequencer()
    await _declare(running)
    bad_id, bad = _submitted(
        "bad",
        '{"type":"note.add","incident":"INC-1","text":"x","occurred_at":"0001-01-01T00:00:00+01:00"}',
    )

    gate = await running.hold()
    futures = [
        running.submit(RESPONDER, "ok-1", AddNote(incident="INC-1", text="innocent 1")),
        running.submit(MANAGER, bad_id, bad),
        running.submit(RESPONDER, "ok-2", AddNote(incident="INC-1", text="innocent 2")),
    ]
    running.release()
    assert await gate == Accepted(2)
    ok_1, refused, ok_2 = await asyncio.gather(*futures)

    # decide() raises OverflowError here (year 0 in UTC): refused alone, not as a storage error.
    assert isinstance(refused, Rejected)
    assert refused.code == "invalid", refused.message
    assert (ok_1, ok_2) == (Accepted(3), Accepted(4))


def test_a_command_id_with_a_control_character_is_refused_by_the_protocol() -> None:
    # PostgreSQL refuses NUL in text: such an id must never reach a group commit.
    with pytest.raises(protocol.ProtocolError) as refused:
        _submitted("nul\\u0000id", '{"type":"note.add","incident":"INC-1","text":"x"}')
    assert refused.value.code == "invalid"


async def test_a_failed_commit_refuses_its_group_without_leaking_the_database_message(
    start_sequencer: Start,
) -> None:
    running = await start_sequencer()
    await _declare(running)
    # A command id the protocol would refuse, handed to the sequencer directly: PostgreSQL
    # refuses the NUL; SQLite stores it. Either way nothing of another user leaks back.
    gate = await running.hold()
    futures = [
        running.submit(RESPONDER, "secret-id-of-rita", AddNote(incident="INC-1", text="a")),
        running.submit(MANAGER, "nul\x00id", AddNote(incident="INC-1", text="b")),
    ]
    running.release()
    assert await gate == Accepted(2)
    outcomes = await asyncio.gather(*futures)
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            assert outcome.code == "storage"
            assert "rita" not in outcome.message and "secret" not in outcome.message
    head = running.store.log.head()
    assert [seq for seq, _ in running.store.log.read_raw()] == list(range(1, head + 1))


async def test_a_command_submitted_while_stop_runs_is_answered(start_sequencer: Start) -> None:
    running = await start_sequencer()
    sequencer = running.sequencer
    real = sequencer._queue

    class StopBetweenCheckAndPut:
        """Runs stop() (in its own thread, as the server does) just before the racing put."""

        def put(self, item: object) -> None:
            if getattr(item, "command_id", None) == "racing":
                stopper = threading.Thread(target=sequencer.stop)
                stopper.start()
                stopper.join(timeout=0.5)  # it waits for the submit to finish
            real.put(item)

        def get(self) -> object:
            return real.get()

        def get_nowait(self) -> object:
            return real.get_nowait()

    sequencer._queue = StopBetweenCheckAndPut()  # type: ignore[assignment]
    future = running.submit(
        MANAGER, "racing", DeclareIncident(title="late", severity=Severity.SEV1)
    )

    done, _ = await asyncio.wait([future], timeout=2)

    # Either committed or refused as "unavailable": but answered.
    assert future in done
