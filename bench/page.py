"""What open status pages cost the war room: its p99 event delay while the room takes a steady
stream of commands, without pages and with `--pages` of them open.

A real hub (`warroom serve --port 0`, a subprocess) on a fresh SQLite store with one incident. In
this process the incident manager submits `--rate` notes a second (addressed to `all`, so every
page receives each one too), each carrying the time it was sent, and a responder's connection,
live, measures how long each takes to reach it. The pages run in a process of their own (so
their parsing does not slow the measuring one): each a stakeholder's websocket as the page opens
it (the subprotocols `warroom.v1` and `bearer.<token>`, the hub's own `Origin`), saying hello
from 0 and reading and decoding every frame, as the page does. Runs alternate, `--repeat` times;
the verdict compares the medians of the runs' p99s (one stall of the shared machine moves one
run, not the verdict), and the hub's CPU per event says what the pages cost it whatever the
machine is doing.

Rounds alternate which runs first, without pages or with them. Figure: the median run's p99
with the pages open beside it without.

Run: `python -m bench.page [--quick] [--pages N] [--rate R] [--seconds S] [--repeat K]`; prints
one JSON object. `within_10ms` says whether the median run's p99 with pages stays within 10 ms
of the one without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from bench._kit import Listening, figure, main, percentile, process_cpu_s, serve
from warroom.core.domain import Role
from warroom.store import Store, open_engine

QUICK = ("--pages", "4", "--seconds", "0.4", "--repeat", "1")
INCIDENT = "INC-1"
PAGES_TIMEOUT = 120.0
"""Seconds every page has to open and catch up."""


def _store(db: Path, pages: int) -> tuple[str, str, list[str]]:
    """A store with an incident manager, a responder and `pages` stakeholders; their tokens."""
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        manager = store.users.add("manager", Role.INCIDENT_MANAGER)
        responder = store.users.add("rita", Role.RESPONDER)
        groups = ("exec", "support")
        readers = [
            store.users.add(f"reader{n}", Role.STAKEHOLDER, [groups[n % 2]]) for n in range(pages)
        ]
    finally:
        store.close()
    return manager, responder, readers


async def _send(connection: ClientConnection, frame: dict[str, Any]) -> None:
    await connection.send(json.dumps({"v": 1, **frame}))


async def _until(connection: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await connection.recv())
        if frame["type"] == kind:
            return frame


async def _room(url: str, manager: str, responder: str, rate: float, seconds: float) -> list[float]:
    """Submit `rate` notes a second for `seconds`; each one's delay to the responder, in ms."""
    headers = {"Authorization": f"Bearer {manager}"}
    watch_headers = {"Authorization": f"Bearer {responder}"}
    async with (
        connect(url, additional_headers=headers, proxy=None, compression=None) as writer,
        connect(url, additional_headers=watch_headers, proxy=None, compression=None) as watcher,
    ):
        await _send(watcher, {"type": "hello", "cursor": None})
        await _until(watcher, "synced")
        delays: list[float] = []
        count = int(rate * seconds)

        async def watch() -> None:
            while len(delays) < count:
                frame = json.loads(await watcher.recv())
                if frame["type"] == "event" and frame["event"]["type"] == "note.added":
                    sent = float(frame["event"]["text"].split()[1])
                    delays.append((time.perf_counter() - sent) * 1000)

        async def write() -> None:
            started = time.perf_counter()
            for n in range(count):
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
                note = {
                    "type": "note.add",
                    "incident": INCIDENT,
                    "text": f"sent {time.perf_counter():.6f}",
                    "audience": "all",
                }
                await _send(writer, {"type": "submit", "id": str(uuid.uuid4()), "command": note})

        async def drain() -> None:
            async for _ in writer:
                pass

        drainer = asyncio.create_task(drain())
        await asyncio.wait_for(asyncio.gather(watch(), write()), seconds * 3 + 30)
        drainer.cancel()
    return delays


async def _pages(url: str, tokens: list[str], ready: Any, stop: Any) -> None:
    origin = Origin(url.replace("ws://", "http://"))

    async def page(token: str) -> None:
        protocols = [Subprotocol("warroom.v1"), Subprotocol(f"bearer.{token}")]
        try:
            async with connect(
                url, subprotocols=protocols, origin=origin, proxy=None, compression=None
            ) as socket:
                await _send(socket, {"type": "hello", "cursor": 0})
                await _until(socket, "synced")
                ready.release()
                async for message in socket:
                    json.loads(message)  # the page decodes every frame, then folds it
        except Exception as error:  # the benchmark says why a page never opened
            print(f"bench.page: a page failed: {error!r}", file=sys.stderr, flush=True)

    tasks = [asyncio.create_task(page(token)) for token in tokens]
    await asyncio.to_thread(stop.wait)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _pages_process(url: str, tokens: list[str], ready: Any, stop: Any) -> None:
    asyncio.run(_pages(url, tokens, ready, stop))


def _p99(delays: list[float]) -> float:
    return percentile(delays, 0.99)


def _timed_room(
    server: Listening, manager: str, responder: str, rate: float, seconds: float
) -> tuple[list[float], float]:
    """`_room`'s delays, and the hub's CPU seconds meanwhile."""
    before = process_cpu_s(server.proc.pid)
    delays = asyncio.run(_room(server.url, manager, responder, rate, seconds))
    return delays, process_cpu_s(server.proc.pid) - before


def _summary(delays: list[float], runs_p99: list[float], cpu_s: float) -> dict[str, float]:
    ordered = sorted(delays)
    return {
        "events": len(ordered),
        "hub_cpu_ms_per_event": round(cpu_s * 1000 / len(ordered), 3),
        "median_run_p99_ms": round(statistics.median(runs_p99), 3),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(_p99(ordered), 3),
        "max_ms": round(ordered[-1], 3),
    }


def run(argv: Sequence[str]) -> dict[str, Any]:
    """Measure and return the result document."""
    parser = argparse.ArgumentParser(prog="python -m bench.page")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "page.db"
        manager, responder, readers = _store(db, args.pages)
        server = serve(db, Path(folder) / "serve.log")
        try:
            declare = {"type": "incident.declare", "title": "Checkout down", "severity": "SEV1"}

            async def declared() -> None:
                headers = {"Authorization": f"Bearer {manager}"}
                async with connect(server.url, additional_headers=headers, proxy=None) as ws:
                    await _send(ws, {"type": "submit", "id": "declare", "command": declare})
                    await _until(ws, "ack")

            asyncio.run(declared())
            without: list[float] = []
            with_pages: list[float] = []
            p99s: tuple[list[float], list[float]] = ([], [])
            cpu = [0.0, 0.0]

            def alone() -> None:
                delays, used = _timed_room(server, manager, responder, args.rate, args.seconds)
                without.extend(delays)
                p99s[0].append(_p99(delays))
                cpu[0] += used

            def beside_pages() -> None:
                ready, stop = context.Semaphore(0), context.Event()
                pages = context.Process(
                    target=_pages_process, args=(server.url, readers, ready, stop), daemon=True
                )
                pages.start()
                try:
                    deadline = time.monotonic() + PAGES_TIMEOUT
                    for _ in readers:
                        if not ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
                            raise RuntimeError("the pages did not all open")
                    delays, used = _timed_room(server, manager, responder, args.rate, args.seconds)
                    with_pages.extend(delays)
                    p99s[1].append(_p99(delays))
                    cpu[1] += used
                finally:
                    stop.set()
                    pages.join(30)
                    if pages.is_alive():
                        pages.terminate()

            for round_ in range(args.repeat):
                for part in (alone, beside_pages) if round_ % 2 == 0 else (beside_pages, alone):
                    part()
        finally:
            server.close()
    before = _summary(without, p99s[0], cpu[0])
    added = statistics.median(p99s[1]) - statistics.median(p99s[0])
    after = _summary(with_pages, p99s[1], cpu[1])
    pair = {"with_pages": p99s[1], "without_pages": p99s[0]}
    name = f"event p99 delay at {args.rate:g} notes/s, {args.pages} status pages open"
    return {
        "bench": "page",
        "figures": [figure(name, "ms", pair, "with_pages")],
        "pages": args.pages,
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "repeat": args.repeat,
        "without_pages": before,
        "with_pages": after,
        "p99_added_ms": round(after["p99_ms"] - before["p99_ms"], 3),
        "median_run_p99_added_ms": round(added, 3),
        "within_10ms": added <= 10.0,
    }


if __name__ == "__main__":
    main(run, QUICK)
