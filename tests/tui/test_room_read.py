"""The lobby lives on summaries and a room is folded from a read of its incident, plus the live
events after the read: none folded twice at the boundary (the war room's numbered positions and
a stakeholder's opaque ones alike), none lost, and a room that goes out of sight and comes back
is read again."""

from __future__ import annotations

from datetime import timedelta

from client.state import ClientState, opened, reading, receive, receive_all
from client.widgets.line_table import LineTable
from tests.kit.tui import (
    ANA,
    CAROL,
    MORGAN,
    NOW,
    ROOM,
    FakeConnection,
    Step,
    app_of,
    later,
    replay,
    room_read,
    running,
    seed_events,
    seed_world,
    settled,
    shown,
    stakeholder_replay,
    until,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.disclosure import Sealer
from warroom.core.domain import Role
from warroom.core.policy import visible_to
from warroom.core.reducer import replay as fold

SEALER = Sealer(b"tui-snapshot-secret-0123456789ab")


def _read_of(events: list[protocol.EventFrame], read: str) -> list[protocol.ServerFrameType]:
    ours = [f for f in events if f.event.incident == ROOM]
    return [
        *(protocol.ReadEvent(id=read, seq=f.seq, event=f.event) for f in ours),
        protocol.ReadDone(id=read, incident=ROOM, head=events[-1].seq),
    ]


def _texts(state: ClientState) -> list[str | None]:
    return [getattr(item.event, "text", None) for item in state.log]


def _room_state(frames: list[protocol.ServerFrameType]) -> ClientState:
    state, _ = receive_all(ClientState(), [frames[0], frames[-1]])  # welcome, synced
    return reading(opened(state, ROOM), "r-1")


def test_live_events_met_by_the_read_are_folded_once_with_numbered_positions() -> None:
    seeded = seed_events()
    first, second = later(
        Step(ANA, 30, c.AddNote(incident=ROOM, text="during the read")),
        Step(ANA, 31, c.AddNote(incident=ROOM, text="after the read")),
    )
    state = _room_state(replay())
    # The live event arrives while the read is answered, and the read holds it too.
    state, _ = receive_all(state, [first])
    state, _ = receive_all(state, _read_of([*seeded, first], "r-1"))
    # After read.done: the same event again (as a resumed stream would send it), then a new one.
    state, _ = receive_all(state, [first, second, second])
    texts = _texts(state)
    assert texts.count("during the read") == 1 and texts.count("after the read") == 1
    expected = fold(f.event for f in [*seeded, first, second] if f.event.incident == ROOM)
    assert state.world == expected
    assert [item.seq for item in state.log] == list(range(1, len(state.log) + 1))


def test_live_events_met_by_the_read_are_folded_once_with_opaque_positions() -> None:
    world = seed_world()
    sealed = [
        protocol.EventFrame(seq=SEALER.cursor(f.seq), event=SEALER.event(f.event))
        for f in seed_events()
        if isinstance(f.seq, int) and visible_to(CAROL, f.event, world)
    ]
    note = c.AddNote(incident=ROOM, text="for everyone", audience="all")
    (live,) = later(Step(MORGAN, 30, note))
    assert isinstance(live.seq, int)
    opaque = protocol.EventFrame(seq=SEALER.cursor(live.seq), event=SEALER.event(live.event))
    state = _room_state(stakeholder_replay(CAROL))
    state, _ = receive_all(state, [opaque])
    state, _ = receive_all(state, _read_of([*sealed, opaque], "r-1"))
    state, _ = receive_all(state, [opaque])
    texts = _texts(state)
    assert texts.count("for everyone") == 1
    assert state.world == fold(f.event for f in [*sealed, opaque] if f.event.incident == ROOM)


def test_a_room_read_in_batches_folds_as_the_same_read_one_frame_per_event() -> None:
    seeded = seed_events()
    ours = [f for f in seeded if f.event.incident == ROOM]
    parts = [protocol.EventPart(seq=f.seq, event=f.event) for f in ours]
    batches: list[protocol.ServerFrameType] = [
        protocol.ReadEvents(id="r-1", events=tuple(parts[n : n + 3]))
        for n in range(0, len(parts), 3)
    ]
    done = protocol.ReadDone(id="r-1", incident=ROOM, head=seeded[-1].seq)
    one_by_one, _ = receive_all(_room_state(replay()), _read_of(seeded, "r-1"))
    together, _ = receive_all(_room_state(replay()), [*batches, done])
    apart = _room_state(replay())
    for frame in [*batches, done]:  # each handed over on its own
        apart, _ = receive_all(apart, [frame])
    assert len(batches) > 1 and len(one_by_one.log) == len(ours)
    assert together == one_by_one and apart == one_by_one
    # Events after the read, in one batch frame or one frame each, fold the same too.
    live = later(*(Step(ANA, 30 + n, c.AddNote(incident=ROOM, text=f"n{n}")) for n in range(4)))
    batch = protocol.EventsFrame(
        events=tuple(protocol.EventPart(seq=f.seq, event=f.event) for f in live)
    )
    each, _ = receive_all(one_by_one, list(live))
    (batched, _), (alone, _) = receive_all(together, [batch]), receive(together, batch)
    assert batched == each and alone == each
    assert _texts(each)[-4:] == ["n0", "n1", "n2", "n3"]


def test_events_of_other_incidents_and_before_the_read_are_not_folded() -> None:
    state, _ = receive_all(ClientState(), replay())
    assert state.world.incidents == {} and tuple(state.log) == ()  # the lobby folds no event
    state = opened(state, ROOM)
    (elsewhere,) = later(Step(ANA, 30, c.AddNote(incident="INC-1", text="elsewhere")))
    (early,) = later(Step(ANA, 30, c.AddNote(incident=ROOM, text="before the read")))
    state, _ = receive_all(state, [elsewhere, early])
    assert tuple(state.log) == ()  # the read the room sends next holds the second
    state = reading(state, "r-1")
    state, _ = receive_all(state, [*_read_of([*seed_events(), early], "r-1"), elsewhere])
    assert "INC-1" not in state.world.incidents
    texts = _texts(state)
    assert texts.count("before the read") == 1 and "elsewhere" not in texts


async def test_the_lobby_lists_incidents_from_summaries_without_their_events() -> None:
    fake = FakeConnection()
    async with running(fake, incident=None) as pilot:
        state = app_of(pilot).state
        assert list(state.summaries) == [ROOM, "INC-1"]
        assert state.world.incidents == {} and tuple(state.log) == ()
        assert fake.reads == []
        summary = state.summaries[ROOM]
        assert (summary.open_questions, summary.notes, summary.impact[:9]) == (2, 4, "EU custom")


async def test_a_room_opens_from_a_read_and_live_events_during_it_show_once() -> None:
    fake = FakeConnection(answer_reads=False)
    async with running(fake) as pilot:
        app = app_of(pilot)
        await until(pilot, lambda: fake.reads, "the room's read")
        assert tuple(app.state.log) == () and not room_read(app)
        fake.push(*later(Step(ANA, 30, c.AddNote(incident=ROOM, text="said during the read"))))
        await settled(pilot)
        fake.answer()
        await until(pilot, lambda: room_read(app), "the read's answer")
        await settled(pilot)
        assert _texts(app.state).count("said during the read") == 1
        rows = pilot.app.screen.query_one("#timeline")
        assert sum("said during the read" in str(row) for row in _cells(rows)) == 1


def _deliver(fake: FakeConnection, frame: protocol.ServerFrameType) -> None:
    """Hand the app a frame as the hub would send it (past the fake's own summarizing)."""
    assert fake.sink is not None
    fake.sink.frames_received([frame])


def _cells(table: object) -> list[str]:
    assert isinstance(table, LineTable)
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_a_room_taken_out_of_sight_says_so_and_is_read_again_when_it_comes_back() -> None:
    fake = FakeConnection()
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        app, screen = app_of(pilot), pilot.app.screen
        reads = len(fake.reads)
        # What the hub sends ana's lobby when INC-2 is made private without her.
        _deliver(fake, protocol.IncidentGone(incident=ROOM))
        await settled(pilot)
        assert ROOM not in app.state.summaries and app.state.gone(ROOM)
        assert "not (or no longer) visible to you" in shown(screen.query_one("#gone"))
        # Invited: the summary comes back, and the room is read again.
        back = fake.summaries[ROOM]
        _deliver(fake, protocol.SummaryFrame(summary=back))
        await until(pilot, lambda: len(fake.reads) == reads + 1, "the room read again")
        await until(pilot, lambda: room_read(app) and not app.state.gone(ROOM), "the room")
        await settled(pilot)
        assert screen.query_one("#panels").display and not screen.query_one("#gone").display


async def test_each_role_gets_its_room_from_the_read() -> None:
    for frames, who in (
        (replay(), "morgan"),
        (replay(user="olga", role=Role.OBSERVER), "olga"),
        (stakeholder_replay(CAROL), "carol"),
    ):
        fake = FakeConnection()
        async with running(fake, frames=frames) as pilot:
            state = app_of(pilot).state
            events = [f for f in frames if isinstance(f, protocol.EventFrame)]
            assert state.world == fold(f.event for f in events if f.event.incident == ROOM), who
            assert len(fake.reads) == 1 and fake.reads[0].incident == ROOM
            assert NOW + timedelta(minutes=55) == state.summaries[ROOM].eta
