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

Run: `python -m bench.lobby [--quick] [--full] [--events N] [--incidents K] [--incident-events M]
[--repeat R]`; `--full` is the 100,000-event store; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._kit import figure, main, serve, summary
from bench.read import INCIDENT, MANAGER, _counts, _events, _fill
from client.state import ClientState, opened, reading, receive_all
from warroom.core import protocol
from warroom.core.domain import IncidentState, Role
from warroom.core.events import Envelope
from warroom.core.reducer import replay
from warroom.net.remote import Remote
from warroom.store import Store, open_engine

QUICK = ("--events", "500", "--incidents", "10", "--incident-events", "50", "--repeat", "1")
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
    args = parser.parse_args(argv)
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
    return {
        "bench": "lobby",
        "incident": INCIDENT,
        "incidents": args.incidents,
        "repeat": args.repeat,
        "build_s": round(build, 2),
        **result,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    main(run, QUICK)
