"""Helpers of the TUI tests: a fake connection, a realistic world built with the pure core, and
small pilot helpers that wait on the app's state instead of sleeping.

The world is played through `decide` and `apply` of `warroom.core` exactly as the hub would,
at fixed times around `NOW`, and handed to the app as protocol frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from client.app import WarRoomApp
from client.connection import FrameSink
from client.state import Link
from client.widgets.line_table import LineTable
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import decide
from warroom.core.disclosure import Sealer
from warroom.core.domain import (
    ActionState,
    Actor,
    Confidence,
    MitigationState,
    Role,
    Severity,
    Status,
    World,
)
from warroom.core.policy import visible_to
from warroom.core.reducer import apply
from warroom.core.summary import IncidentSummary, summarize

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
"""The time the seeded incident was declared."""

CLOCK = NOW + timedelta(minutes=30)
"""The app's frozen clock: half an hour into the incident."""

READ_BATCH = 50
"""Events to a `read.events` frame in the fake's answers (the hub packs them by size)."""

ROOM = "INC-2"
"""The seeded, open incident."""

MORGAN = Actor("morgan", Role.INCIDENT_MANAGER)
ANA = Actor("ana", Role.RESPONDER)
BOB = Actor("bob", Role.RESPONDER)
CAROL = Actor("carol", Role.STAKEHOLDER, frozenset({"exec"}))
DAVE = Actor("dave", Role.STAKEHOLDER, frozenset({"support"}))

KNOWN_GROUPS = ("exec", "support")
"""The stakeholder groups some user holds (carol's and dave's)."""

IMPACT = (
    "EU customers cannot pay by card at checkout (about 40% of EU orders). "
    "US and APAC are unaffected."
)


# The fake link ---------------------------------------------------------------------------------


class FakeConnection:
    """A `client.connection.Connection` the test drives: it pushes frames, it records sends.

    It answers as a hub answers a summary hello: the frames pushed are what the hub would replay
    to the user (welcome, the events they may see, synced), and the app is given, instead of
    the events before `synced`, a summary of each incident folded from them; live events after
    it are passed on, each push followed by a fresh summary of the incidents it changed (or
    `incident.gone`). A welcome starts a new connection. Reads are answered from the events
    pushed since the last welcome, at once, or when the test says (`answer_reads=False`).
    """

    def __init__(self, answer_reads: bool = True) -> None:
        self.sink: FrameSink | None = None
        self.sent: list[protocol.Submit | protocol.View | protocol.Read] = []
        self.answer_reads = answer_reads
        self.me: Actor | None = None
        self.events: list[protocol.EventFrame] = []
        """Every event pushed since the last welcome: what the user may see."""
        self.world = World()
        self.synced = False
        self.summaries: dict[str, IncidentSummary] = {}
        """The summaries the app was last given."""

    async def run(self, sink: FrameSink) -> None:
        """Keep the sink and wait until the app cancels the worker."""
        self.sink = sink
        await asyncio.get_running_loop().create_future()

    async def send(self, frame: protocol.Submit | protocol.View | protocol.Read) -> bool:
        """Record the frame (and answer a read); the fake link is always up for sending."""
        self.sent.append(frame)
        if isinstance(frame, protocol.Read) and self.answer_reads:
            self.answer(frame)
        return True

    def _sink(self) -> FrameSink:
        assert self.sink is not None, "the app has not started the connection yet"
        return self.sink

    def push(self, *frames: protocol.ServerFrameType) -> None:
        """Deliver server frames, in one batch, as the hub would to a summary hello."""
        out: list[protocol.ServerFrameType] = []
        touched: list[str] = []
        for frame in frames:
            if isinstance(frame, protocol.Welcome):
                self.me = Actor(frame.user, Role(frame.role), frozenset(frame.groups))
                self.events, self.world, self.synced, self.summaries = [], World(), False, {}
                out.append(frame)
            elif isinstance(frame, protocol.EventFrame):
                self.events.append(frame)
                self.world = apply(self.world, frame.event)
                if self.synced:
                    out.append(frame)
                    touched.append(frame.event.incident)
            elif isinstance(frame, protocol.Synced) and not self.synced:
                out += self._summarized(i.id for i in self.world.newest_first())
                out.append(frame)
                self.synced = True
            else:
                out.append(frame)
        out += self._summarized(touched)
        self._sink().frames_received(out)

    def _summarized(
        self, incidents: Iterable[str]
    ) -> list[protocol.SummaryFrame | protocol.IncidentGone]:
        me = self.me
        assert me is not None, "push a welcome first"
        frames: list[protocol.SummaryFrame | protocol.IncidentGone] = []
        for incident_id in dict.fromkeys(incidents):
            incident = self.world.incident(incident_id)
            summary = None if incident is None else summarize(incident, me)
            before = self.summaries.pop(incident_id, None)
            if summary is not None:
                self.summaries[incident_id] = summary
                if summary != before:
                    frames.append(protocol.SummaryFrame(summary=summary))
            elif before is not None:
                frames.append(protocol.IncidentGone(incident=incident_id))
        return frames

    @property
    def reads(self) -> list[protocol.Read]:
        """The read frames sent so far."""
        return [frame for frame in self.sent if isinstance(frame, protocol.Read)]

    def answer(self, read: protocol.Read | None = None) -> None:
        """Answer `read` (the last one sent) from the events pushed: its incident's events and
        `read.done`, or `not-found`."""
        read = read or self.reads[-1]
        wanted = read.incident.upper()
        if self.world.incident(wanted) is None:
            message = f"there is no incident {wanted}"
            self.push(protocol.RejectedFrame(id=read.id, code="not-found", message=message))
            return
        ours = [f for f in self.events if f.event.incident == wanted]
        head = self.events[-1].seq if self.events else 0
        parts = [protocol.EventPart(seq=f.seq, event=f.event) for f in ours]
        # Batched as the hub batches them: a few events to a frame.
        batches = (
            protocol.ReadEvents(id=read.id, events=tuple(parts[n : n + READ_BATCH]))
            for n in range(0, len(parts), READ_BATCH)
        )
        self.push(*batches, protocol.ReadDone(id=read.id, incident=wanted, head=head))

    def drop(self, detail: str = "connection lost") -> None:
        """The link went down."""
        self._sink().link_changed(Link.OFFLINE, detail)

    def up(self, detail: str = "connecting to ws://hub") -> None:
        """The link is being re-established."""
        self._sink().link_changed(Link.CONNECTING, detail)

    @property
    def submits(self) -> list[protocol.Submit]:
        """The submit frames sent so far."""
        return [frame for frame in self.sent if isinstance(frame, protocol.Submit)]

    @property
    def views(self) -> list[protocol.View]:
        """The view frames sent so far."""
        return [frame for frame in self.sent if isinstance(frame, protocol.View)]


# A world made with the pure core ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command by one actor, `minutes` after NOW."""

    actor: Actor
    minutes: float
    command: c.Command


def play(
    steps: Iterable[Step], world: World | None = None, first_seq: int = 1
) -> tuple[World, list[protocol.EventFrame]]:
    """Decide and apply each step in turn; return the world and the event frames, numbered."""
    state = world if world is not None else World()
    frames: list[protocol.EventFrame] = []
    seq = first_seq
    for step in steps:
        for event in decide(state, step.command, step.actor, NOW + timedelta(minutes=step.minutes)):
            state = apply(state, event)
            frames.append(protocol.EventFrame(seq=seq, event=event))
            seq += 1
    return state, frames


def seed_steps() -> list[Step]:
    """A resolved incident (INC-1) and a live one (INC-2), as in `warroom.cli.demo.seed`."""
    inc = ROOM
    return [
        Step(
            ANA,
            -180,
            c.DeclareIncident(
                title="Database failover: order history stale",
                severity=Severity.SEV3,
                apps=("orders",),
            ),
        ),
        Step(ANA, -120, c.ChangeStatus(incident="INC-1", status=Status.RESOLVED)),
        Step(
            ANA,
            0,
            c.DeclareIncident(
                title="Checkout failing for EU customers",
                severity=Severity.SEV1,
                apps=("checkout", "payments"),
            ),
        ),
        Step(
            ANA,
            1,
            c.AddNote(
                incident=inc,
                text="PagerDuty: 5xx rate on checkout-eu above 20% for 5 minutes",
                occurred_at=NOW - timedelta(minutes=8),
                pinned=True,
            ),
        ),
        Step(
            ANA,
            2,
            c.AddNote(
                incident=inc,
                text="Deploy 4812 of payments-gateway finished rolling out",
                occurred_at=NOW - timedelta(minutes=15),
            ),
        ),
        Step(ANA, 3, c.ChangeStatus(incident=inc, status=Status.IDENTIFIED)),
        Step(
            MORGAN,
            5,
            c.SetImpact(
                incident=inc, statement=IMPACT, customer_facing=True, base_version=0, audience="all"
            ),
        ),
        Step(
            MORGAN,
            6,
            c.SetEta(
                incident=inc,
                eta=NOW + timedelta(minutes=55),
                confidence=Confidence.MEDIUM,
                base_version=0,
            ),
        ),
        Step(
            MORGAN,
            7,
            c.AddNote(
                incident=inc,
                text="Status page updated: degraded card payments in the EU",
                audience="all",
                pinned=True,
            ),
        ),
        Step(
            BOB,
            8,
            c.AddAction(
                incident=inc,
                text="Roll back payments-gateway deploy 4812",
                owner="bob",
                state=ActionState.IN_PROGRESS,
            ),
        ),
        Step(
            BOB,
            9,
            c.AddAction(
                incident=inc, text="Check card-network error codes in the gateway logs", owner="ana"
            ),
        ),
        Step(
            BOB,
            10,
            c.AddAction(
                incident=inc, text="Page the payments on-call", owner="bob", state=ActionState.DONE
            ),
        ),
        Step(
            BOB,
            11,
            c.AddAction(incident=inc, text="Prepare customer comms for support", audience="all"),
        ),
        Step(
            BOB,
            12,
            c.AddMitigation(
                incident=inc,
                text="Route EU card payments through the US acquirer",
                apps=("payments",),
                audience="all",
            ),
        ),
        Step(
            BOB,
            13,
            c.ChangeMitigationState(incident=inc, mitigation=1, state=MitigationState.VERIFIED),
        ),
        Step(
            BOB,
            14,
            c.AddMitigation(
                incident=inc, text="Offer PayPal as the default at EU checkout", apps=("checkout",)
            ),
        ),
        Step(
            BOB,
            15,
            c.AddNote(incident=inc, text="Rollback at 60%: error rate falling in eu-west-1"),
        ),
        Step(CAROL, 16, c.AskQuestion(incident=inc, text="Is this on the status page?")),
        Step(
            MORGAN,
            17,
            c.AnswerQuestion(
                incident=inc, question=1, text="Yes, since 14:07 UTC.", audience="all"
            ),
        ),
        Step(CAROL, 18, c.AskQuestion(incident=inc, text="Do we need to notify the regulator?")),
        Step(
            DAVE,
            20,
            c.AskQuestion(
                incident=inc, text="What should we tell customers who were charged twice?"
            ),
        ),
    ]


@cache
def _seeded() -> tuple[World, tuple[protocol.EventFrame, ...]]:
    world, frames = play(seed_steps())
    return world, tuple(frames)


def seed_world() -> World:
    """The world after the seed."""
    return _seeded()[0]


def seed_events() -> list[protocol.EventFrame]:
    """The seed's event frames, seq 1..N."""
    return list(_seeded()[1])


def head() -> int:
    """The seq of the seed's last event."""
    return len(_seeded()[1])


def later(*steps: Step) -> list[protocol.EventFrame]:
    """Event frames for `steps` played after the seed (seq continues after `head()`)."""
    _, frames = play(steps, seed_world(), head() + 1)
    return frames


def replay(
    user: str = MORGAN.name,
    role: Role = Role.INCIDENT_MANAGER,
    groups: Sequence[str] = (),
    events: Sequence[protocol.EventFrame] | None = None,
    known_groups: Sequence[str] = KNOWN_GROUPS,
    cadence: dict[str, int | None] | None = None,
) -> list[protocol.ServerFrameType]:
    """What the hub sends on connect: welcome (with the groups there are, to the war room, and
    the hub's `cadence` if given), the events, synced."""
    shown = seed_events() if events is None else list(events)
    last = shown[-1].seq if shown else 0
    known = tuple(known_groups) if role is not Role.STAKEHOLDER else ()
    return [
        protocol.Welcome(
            user=user,
            role=role.value,
            groups=tuple(groups),
            head=last,
            known_groups=known,
            cadence=cadence,
        ),
        *shown,
        protocol.Synced(head=last),
    ]


def stakeholder_replay(actor: Actor, more: Sequence[Step] = ()) -> list[protocol.ServerFrameType]:
    """What the hub sends `actor` (a stakeholder) on connect: only what they may see of the
    seed and `more` after it, under opaque cursors and disguised entry numbers, as
    `server.hub` does it."""
    sealer = Sealer(b"tui-snapshot-secret-0123456789ab")
    world, frames = play(more, seed_world(), head() + 1) if more else (seed_world(), [])
    every = [*seed_events(), *frames]
    shown = [
        protocol.EventFrame(seq=sealer.cursor(frame.seq), event=sealer.event(frame.event))
        for frame in every
        if isinstance(frame.seq, int) and visible_to(actor, frame.event, world)
    ]
    last = sealer.cursor(len(every))
    return [
        protocol.Welcome(
            user=actor.name, role=actor.role.value, groups=tuple(sorted(actor.groups)), head=last
        ),
        *shown,
        protocol.Synced(head=last),
    ]


def make_app(fake: FakeConnection, incident: str | None = None) -> WarRoomApp:
    """The app on the fake link with the frozen clock."""
    return WarRoomApp(connection=fake, incident=incident, clock=lambda: CLOCK)


# Waiting on the app ----------------------------------------------------------------------------


async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str) -> None:
    """Let the app run until `condition()` holds (a bounded number of turns, no sleeping)."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"timed out waiting for: {what}")


def app_of(pilot: Pilot[Any]) -> WarRoomApp:
    """The war room app a pilot drives."""
    app = pilot.app
    assert isinstance(app, WarRoomApp), f"{app!r} is not the war room app"
    return app


async def connect(
    pilot: Pilot[Any],
    fake: FakeConnection,
    frames: Sequence[protocol.ServerFrameType] | None = None,
) -> None:
    """Wait for the app to run the connection, then deliver a full replay and wait for sync
    (and for the open room, if any, to be read)."""
    app = app_of(pilot)
    await until(pilot, lambda: fake.sink is not None, "the connection to start")
    fake.push(*(replay() if frames is None else frames))
    await until(pilot, lambda: app.state.synced, "the app to sync")
    if fake.answer_reads:
        await until(pilot, lambda: room_read(app), "the open room to be read")
    await pilot.pause()


def room_read(app: WarRoomApp) -> bool:
    """True if no room is open, or the open one was read (or refused)."""
    room = app.state.room
    return room is None or (not room.read and (room.loaded or room.missing))


async def submitted(pilot: Pilot[Any], fake: FakeConnection, count: int = 1) -> protocol.Submit:
    """Wait until `count` submits were sent; return the last one."""
    await until(pilot, lambda: len(fake.submits) >= count, f"{count} submit(s)")
    return fake.submits[-1]


async def settled(pilot: Pilot[Any]) -> None:
    """A few turns of the loop, for checks that nothing happened."""
    for _ in range(2):
        await pilot.pause()


async def steady(pilot: Pilot[Any], turns: int = 50) -> None:
    """Turn the loop until no widget on screen moves: every scroll offset and table cursor is
    where it was two looks ago (a cursor moved after a refresh scrolls only on the refresh after
    that). For pictures, which must not catch a table half-way to its newest row."""

    def positions() -> tuple[object, ...]:
        return tuple(
            (id(w), w.scroll_offset, w.max_scroll_y, getattr(w, "cursor_row", 0))
            for w in pilot.app.screen.query("*")
        )

    seen: list[tuple[object, ...]] = []
    for _ in range(turns):
        await pilot.pause(0.01)
        seen.append(positions())
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
            return
    raise AssertionError(f"the screen still moved after {turns} turns")


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type `text` key by key, as a user would (about 60 ms a key: keep it short)."""
    await pilot.press(*text)


async def paste(pilot: Pilot[Any], text: str) -> None:
    """Paste `text` into the focused field, as a terminal delivers a (bracketed) paste."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


# Reading the screen ----------------------------------------------------------------------------


def cursor_row(table: LineTable[Any]) -> str:
    """The plain text of the row under a table's cursor."""
    return "  ".join(str(cell) for cell in table.get_row_at(table.cursor_row))


def shown(widget: Widget) -> str:
    """The plain text a Static shows."""
    assert isinstance(widget, Static), f"{widget!r} is not a Static"
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def rendered(widget: Widget) -> str:
    """The text a widget shows on screen now, line by line (borders included)."""
    width, height = widget.outer_size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


def messages(app: App[Any]) -> list[tuple[str, str, str]]:
    """The notifications on screen: (severity, title, message)."""
    return [(n.severity, n.title, n.message) for n in app._notifications]


SIZE = (120, 40)
"""The terminal of the pilot tests."""


@asynccontextmanager
async def running(
    fake: FakeConnection,
    incident: str | None = ROOM,
    frames: Sequence[protocol.ServerFrameType] | None = None,
    size: tuple[int, int] = SIZE,
) -> AsyncIterator[Pilot[None]]:
    """The app on the fake link, connected and synced (on `incident`'s war room, if given)."""
    app = make_app(fake, incident)
    async with app.run_test(size=size) as pilot:
        await connect(pilot, fake, frames)
        yield pilot
