"""What the terminal client's lobby and a room cost when it folds the whole log, beside
summaries and a read of the one incident.

A SQLite store in a temporary folder is written directly with `EventLog.append` (as
`bench.read` does): INC-1 ... INC-K declared, then notes spread over them, `--incident-events`
of them INC-1's. A real hub (`warroom serve --port 0`, a subprocess) serves it; this process is
the client, as the incident manager, and folds what it receives with the client's own code.
Side by side, alternated, `--repeat` times each after one untimed run of each:

- whole_log: the client as it was: hello from 0, every event the user may see received, decoded
  and folded (the lobby is ready then), and the room of INC-1 is that fold's incident;
- summaries: the client as it is: a summary hello, a summary per incident folded into the
  client state (the lobby is ready), then a read of INC-1 folded into its room.

Times run from opening the connection: `lobby_ready_s` until the lobby could be drawn,
`room_open_s` until the room of INC-1 could be (joining it directly: both steps), and
`room_from_lobby_s` what opening the room costs once the lobby is up. Both ways must fold INC-1
to the same state (`same_room`) and list the same incidents (`same_lobby`).

Alternated: the order of the two ways is reversed every other round. Figures: the lobby ready,
and the room open, by summaries beside by the whole log.

Then what a lobby costs the hub as an incident grows (`publish`): for each size N (`--sizes`,
1,000, 10,000 and 100,000 by default) a store holding INC-1 and N notes to it (one in four to
all, the rest internal), served by a real hub with lobbies open (summary sessions: the incident
manager, a responder, stakeholders of `exec`, of `support`, of both, and one of `exec` who asked
a question), into which `--notes` more notes are submitted one after the other (to all, exec
and internal in turn), each acknowledged, and the last one summarised to every lobby, before
the next. The figure is the hub process's CPU (user and system, from /proc) per note, in ms,
from a fresh copy of the store each run, timed once the hub settled after its start (no CPU
for half a second: the start's snapshot and outbox planning are done). With `--before PATH`
the same is measured, alternated, of the hub of another checkout (e.g. `git worktree add
/tmp/before main`; `python -m bench --before PATH` passes it on): `before` beside this tree's
`after`; the goal is a cost per note that does not grow with N.

Run: `python -m bench.lobby [--quick] [--full] [--events N] [--incidents K] [--incident-events M]
[--repeat R] [--sizes 1000,10000,100000] [--notes K] [--before PATH]`; `--full` is the
100,000-event store; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench._kit import dial, figure, main, process_cpu_s, serve, summary
from bench.fold import _log
from bench.read import INCIDENT, MANAGER, _counts, _events, _fill
from client.state import ClientState, opened, reading, receive_all
from warroom.core import protocol
from warroom.core.domain import IncidentState, Role
from warroom.core.events import Envelope
from warroom.core.reducer import replay
from warroom.net.remote import Remote
from warroom.store import Store, open_engine

QUICK = (
    *("--events", "500", "--incidents", "10", "--incident-events", "50", "--repeat", "1"),
    *("--sizes", "1000", "--notes", "20"),
)
FULL = 100_000
"""Events of the store `--full` builds (across `--incidents`, 200 by default)."""


async def _whole_log(url: str, token: str) -> tuple[float, float, IncidentState | None, set[str]]:
    """The old way: (lobby ready, room open, the room's incident, the lobby's ids)."""
    started = time.perf_counter()
    async with await Remote.open(url, token) as remote:
        frames = await remote.sync(0)
        # What the client's fold did with a replay: every event applied, the log kept.
        log = tuple(Envelope(seq=n, event=f.event) for n, f in enumerate(frames, 1))
        world = replay(item.event for item in log)
        lobby = time.perf_counter() - started
        incident = world.incident(INCIDENT)
        room = time.perf_counter() - started
    return lobby, room, incident, set(world.incidents)


async def _frames_until(remote: Remote, last: type[Any]) -> list[protocol.ServerFrameType]:
    frames: list[protocol.ServerFrameType] = []
    while True:
        frame = await remote._receive()
        frames.append(frame)
        if isinstance(frame, last):
            return frames


async def _summaries(
    url: str, token: str
) -> tuple[float, float, float, IncidentState | None, set[str]]:
    """The new way: (lobby ready, room open, room from the lobby, the room's incident, the
    lobby's ids)."""
    started = time.perf_counter()
    async with await Remote.open(url, token) as remote:
        hello = protocol.Hello(cursor=None, summary=True)
        await remote.connection.send(protocol.encode(hello))
        state, _ = receive_all(ClientState(), await _frames_until(remote, protocol.Synced))
        lobby = time.perf_counter() - started
        read = uuid.uuid4().hex
        state = reading(opened(state, INCIDENT), read)
        await remote.connection.send(protocol.encode(protocol.Read(id=read, incident=INCIDENT)))
        state, _ = receive_all(state, await _frames_until(remote, protocol.ReadDone))
        room = time.perf_counter() - started
    return lobby, room, room - lobby, state.world.incident(INCIDENT), set(state.summaries)


def _measure(db: Path, token: str, repeat: int, log: Path) -> dict[str, Any]:
    server = serve(db, log)
    try:
        url = server.url
        _, _, old_room, old_lobby = asyncio.run(_whole_log(url, token))  # untimed warm-up
        _, _, _, new_room, new_lobby = asyncio.run(_summaries(url, token))
        old: list[tuple[float, float]] = []
        new: list[tuple[float, float, float]] = []
        for round_ in range(repeat):
            if round_ % 2 == 0:
                lobby, room, _, _ = asyncio.run(_whole_log(url, token))
                old.append((lobby, room))
            lobby, room, opening, _, _ = asyncio.run(_summaries(url, token))
            new.append((lobby, room, opening))
            if round_ % 2 == 1:
                lobby, room, _, _ = asyncio.run(_whole_log(url, token))
                old.append((lobby, room))
        figures = [
            figure(
                f"lobby {moment}, {_counts(db)['events']} events in the log",
                "s",
                {"summaries": [t[at] for t in new], "whole_log": [t[at] for t in old]},
                "summaries",
            )
            for at, moment in enumerate(("ready", "and room open"))
        ]
        return {
            **_counts(db),
            "figures": figures,
            "whole_log": {
                "lobby_ready_s": summary([t[0] for t in old]),
                "room_open_s": summary([t[1] for t in old]),
                "room_from_lobby_s": 0.0,
            },
            "summaries": {
                "lobby_ready_s": summary([t[0] for t in new]),
                "room_open_s": summary([t[1] for t in new]),
                "room_from_lobby_s": summary([t[2] for t in new]),
            },
            "speedup_median": {
                "lobby": _ratio([t[0] for t in old], [t[0] for t in new]),
                "room": _ratio([t[1] for t in old], [t[1] for t in new]),
            },
            "same_room": old_room == new_room and old_room is not None,
            "same_lobby": old_lobby == new_lobby,
        }
    finally:
        server.close()


def _ratio(old: Sequence[float], new: Sequence[float]) -> float:
    return round(statistics.median(old) / statistics.median(new), 1)


# What a lobby costs the hub, per event, as an incident grows --------------------------------

SIZES = (1_000, 10_000, 100_000)
LOBBIES = {
    MANAGER: (Role.INCIDENT_MANAGER, ()),
    "rita": (Role.RESPONDER, ()),
    "eve": (Role.STAKEHOLDER, ("exec",)),
    "sue": (Role.STAKEHOLDER, ("support",)),
    "bo": (Role.STAKEHOLDER, ("exec", "support")),
    "ann": (Role.STAKEHOLDER, ("exec",)),
}
"""The users with a lobby open while notes are submitted (ann asks a question first)."""
NOTE_AUDIENCES = ("all", "exec", "internal")


def _publish_store(db: Path, notes: int) -> dict[str, str]:
    """A store holding INC-1 and `notes` notes to it, and the lobbies' users; their tokens."""
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        tokens = {
            name: store.users.add(name, role, groups) for name, (role, groups) in LOBBIES.items()
        }
        _fill(store.log, _log(notes), 10_000)
    finally:
        store.close()
    return tokens


class _Lobby:
    """One summary session, read as it goes: the newest summary of INC-1 it was sent."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.notes = -1
        self.changed = asyncio.Event()
        self.reading = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, token: str) -> _Lobby:
        connection = await dial(url, token)
        await connection.send(protocol.encode(protocol.Hello(cursor=None, summary=True)))
        return cls(connection)

    async def _read(self) -> None:
        async for text in self.connection:
            frame = json.loads(text)
            if frame["type"] == "incident.summary" and frame["summary"]["id"] == INCIDENT:
                self.notes = frame["summary"]["notes"]
                self.changed.set()

    async def until(self, notes: int) -> None:
        while self.notes != notes:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 120)


async def _submit(connection: ClientConnection, command: dict[str, Any]) -> None:
    """Submit `command` and wait for its ack (refused, it raises)."""
    request = uuid.uuid4().hex
    frame = {"v": protocol.VERSION, "type": "submit", "id": request, "command": command}
    await connection.send(json.dumps(frame))
    async for text in connection:
        answer = json.loads(text)
        if answer.get("id") == request:
            if answer["type"] != "ack":
                raise RuntimeError(f"refused: {answer}")
            return


SETTLED = 0.02
"""The most CPU seconds a settled hub uses in `SETTLE_STEP` seconds."""
SETTLE_STEP = 0.5


async def _settle(pid: int) -> None:
    """Wait until the hub is idle: what a start does on its own threads (the first snapshot of
    a large incident written, the outbox's planning through the log) is no event's cost."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 600
    while loop.time() < deadline:
        before = process_cpu_s(pid)
        await asyncio.sleep(SETTLE_STEP)
        if process_cpu_s(pid) - before <= SETTLED:
            return
    raise RuntimeError("the hub never settled")


async def _note_cpu(url: str, pid: int, tokens: dict[str, str], held: int, notes: int) -> float:
    """The hub's CPU ms per note of `notes` notes submitted into INC-1 (holding `held` notes
    to start with, and whose lobbies' summary each waits for), once it settled."""
    lobbies = {name: await _Lobby.open(url, token) for name, token in tokens.items()}
    writer = await dial(url, tokens[MANAGER])
    asker = await dial(url, tokens["ann"])
    try:
        await _submit(asker, {"type": "question.ask", "incident": INCIDENT, "text": "when?"})
        watcher = lobbies[MANAGER]
        await watcher.until(held)
        count = held
        for warm in range(3):  # untimed: every part of the path has run once
            text = f"warm-up {warm}"
            await _submit(writer, {"type": "note.add", "incident": INCIDENT, "text": text})
            count += 1
        await watcher.until(count)
        await _settle(pid)
        started = process_cpu_s(pid)
        for number in range(notes):
            command = {
                "type": "note.add",
                "incident": INCIDENT,
                "text": f"timed note {number}",
                "audience": NOTE_AUDIENCES[number % len(NOTE_AUDIENCES)],
            }
            await _submit(writer, command)
            count += 1
            await watcher.until(count)
        return (process_cpu_s(pid) - started) / notes * 1000
    finally:
        for lobby in lobbies.values():
            lobby.reading.cancel()
            await lobby.connection.close()
        await writer.close()
        await asker.close()


def _publish(
    folder: Path, sizes: Sequence[int], notes: int, repeat: int, before: Path | None
) -> dict[str, Any]:
    """The hub's CPU per note with lobbies open, at each size, of each side."""
    trees: dict[str, Path | None] = {"after": None}
    if before is not None:
        trees["before"] = before
    figures: list[dict[str, Any]] = []
    per_size: dict[str, dict[str, list[float]]] = {}
    for size in sizes:
        built = folder / f"publish-{size}.db"
        tokens = _publish_store(built, size)
        taken: dict[str, list[float]] = {side: [] for side in trees}
        for round_ in range(repeat):
            sides = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
            for side in sides:
                db = folder / f"publish-{side}.db"
                shutil.copyfile(built, db)
                server = serve(db, folder / f"publish-{side}.log", trees[side])
                try:
                    per_note = asyncio.run(
                        _note_cpu(server.url, server.proc.pid, tokens, size, notes)
                    )
                finally:
                    server.close()
                    db.unlink()
                taken[side].append(per_note)
        built.unlink()
        per_size[str(size)] = taken
        name = f"hub CPU per note with 6 lobbies open, incident of {size:,} entries"
        figures.append(figure(name, "ms", taken, "after"))
    return {"sizes": list(sizes), "notes": notes, "figures": figures, "samples_ms": per_size}


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Build the store, run both ways, and return the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.lobby", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--full", action="store_true", help=f"{FULL:,} events (the real size)")
    parser.add_argument("--events", type=int, default=20_000, help="events in the log")
    parser.add_argument("--incidents", type=int, default=200, help="incidents in the log")
    parser.add_argument(
        "--incident-events", type=int, default=500, help="events of the incident opened"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each way")
    parser.add_argument("--batch", type=int, default=10_000, help="events per append")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="INC-1's notes, for the publish part"
    )
    parser.add_argument("--notes", type=int, default=60, help="notes timed per publish run")
    parser.add_argument(
        "--before", type=Path, help="a checkout whose hub is measured beside this one's"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.notes < 1 or not sizes or min(sizes) < 1:
        parser.error("--notes and every size must be positive")
    if args.before is not None and not (args.before / "warroom" / "__main__.py").exists():
        parser.error(f"--before {args.before}: not a checkout of warroom")
    events = FULL if args.full else args.events
    if args.incidents < 2 or args.repeat < 1 or args.incident_events < 1:
        parser.error("--incidents must be at least 2, --repeat and --incident-events positive")
    if events < args.incidents + args.incident_events:
        parser.error("--events is too small for that many incidents and incident events")
    with tempfile.TemporaryDirectory(prefix="warroom-bench-lobby-") as folder:
        db = Path(folder) / "lobby.db"
        store = Store(open_engine(f"sqlite:///{db}"))
        notes = [0] * (args.incidents + 1)
        try:
            token = store.users.add(MANAGER, Role.INCIDENT_MANAGER)
            started = time.perf_counter()
            numbered = _events(1, events, args.incidents, args.incident_events - 1, notes)
            _fill(store.log, numbered, args.batch)
            build = time.perf_counter() - started
        finally:
            store.close()
        result = _measure(db, token, args.repeat, Path(folder) / "hub.log")
        db.unlink()
        publish = _publish(Path(folder), sizes, args.notes, args.repeat, args.before)
    result["figures"] += publish.pop("figures")
    return {
        "bench": "lobby",
        "incident": INCIDENT,
        "incidents": args.incidents,
        "repeat": args.repeat,
        "build_s": round(build, 2),
        **result,
        "publish": {**publish, "before": str(args.before) if args.before else None},
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main(run, QUICK)
