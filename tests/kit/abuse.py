"""Abusers of a hub, each run in a process of its own so that its flood never slows the
measuring clients' own event loop: `python -m tests.kit.abuse KIND URL SECONDS TOKEN...`.

Each floods the hub at `URL` for `SECONDS` with the users of the tokens given, as fast as it can,
ignores every refusal, reconnects whenever it is cut off, and prints one JSON line of what it
did. KIND is one of `ABUSES`:

- presence: every token's connection switches its view of INC-1 on and off, without pause.
- forbidden: an observer submits commands it may not, without pause.
- silent: every token's connection says hello, then switches views and never reads a byte.
- stale: a responder that never reads sends edits of the impact statement on a stale version.
- lists: responders declare incidents naming 6,500 applications each.
- gets: plain HTTP GETs (no upgrade) with a valid token, from a few threads (by hand: the hub
  tier counts what such requests leave behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets import ConnectionClosed, InvalidHandshake
from websockets.asyncio.client import ClientConnection, connect

ABUSES = ("presence", "forbidden", "silent", "stale", "lists")

APPS = tuple(f"a{n}" for n in range(6500))
"""What `lists` declares: about 52 KB of application names, within a frame."""


async def _open(url: str, token: str, reading: bool) -> ClientConnection:
    options: dict[str, object] = {}
    if not reading:
        # A tiny receive buffer and a queue that fills at once: nothing is read from here on.
        address = urlsplit(url)
        sock = socket.create_connection((address.hostname, address.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        options = {"sock": sock, "max_queue": 1}
    return await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        compression=None,
        max_size=None,
        open_timeout=5,
        **options,  # type: ignore[arg-type]
    )


async def _drain(connection: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in connection:
            pass


def _frame(kind: str, n: int) -> str:
    """The `n`th frame an abuser of `kind` sends."""
    match kind:
        case "presence" | "silent":
            return json.dumps({"v": 1, "type": "view", "incident": "INC-1" if n % 2 else None})
        case "forbidden":
            command = {"type": "note.add", "incident": "INC-1", "text": f"not allowed {n}"}
        case "stale":
            command = {"type": "impact.set", "incident": "INC-1", "statement": f"mine {n}"}
            command["base_version"] = 0  # type: ignore[assignment]
        case "lists":
            command = {"type": "incident.declare", "title": f"wide {n}", "severity": "SEV3"}
            command["apps"] = APPS  # type: ignore[assignment]
        case _:
            raise ValueError(kind)
    return json.dumps({"v": 1, "type": "submit", "id": f"abuse-{n}", "command": command})


@dataclass
class Start:
    """The floods start together, once each has connected (joining is not the abuse)."""

    waiting: int
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def ready(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.go.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.go.wait(), 10)


async def _flood(
    kind: str, url: str, token: str, until: float, tally: Counter[str], start: Start
) -> None:
    """One connection's flood, reconnecting whenever it is cut off, until `until` (a
    `time.monotonic()`), whatever it is waiting for then: a connection that never reads blocks
    in `send` once the hub stops reading it."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(loop.time() + until - time.monotonic()):
            await _flood_until(kind, url, token, until, tally, start)


async def _flood_until(
    kind: str, url: str, token: str, until: float, tally: Counter[str], start: Start
) -> None:
    reading = kind not in ("silent", "stale")
    sent = 0
    first = True
    while time.monotonic() < until:
        try:
            connection = await _open(url, token, reading)
        except (InvalidHandshake, OSError, TimeoutError):
            tally["refused"] += 1
            await asyncio.sleep(0.05)
            continue
        tally["connections"] += 1
        drain = asyncio.create_task(_drain(connection)) if reading else None
        try:
            if kind in ("presence", "silent"):
                await connection.send(json.dumps({"v": 1, "type": "hello", "cursor": None}))
            if first:
                first = False
                await start.ready()
            while time.monotonic() < until:
                await connection.send(_frame(kind, sent))
                sent += 1
                tally["frames"] += 1
                if sent % 64 == 0:
                    await asyncio.sleep(0)  # let the other connections of this process send
        except ConnectionClosed:
            tally["cut off"] += 1
            await asyncio.sleep(0.05)
        finally:
            if drain is not None:
                drain.cancel()
            connection.transport.abort()


def _gets(url: str, token: str, until: float, tally: Counter[str]) -> None:
    address = urlsplit(url)
    while time.monotonic() < until:
        with contextlib.suppress(OSError, http.client.HTTPException):
            request = http.client.HTTPConnection(str(address.hostname), address.port, timeout=5)
            request.request("GET", "/", headers={"Authorization": f"Bearer {token}"})
            request.getresponse().read()
            request.close()
            tally["frames"] += 1


async def abuse(kind: str, url: str, seconds: float, tokens: list[str]) -> Counter[str]:
    """Run the abuse `kind` for `seconds`; return what it did."""
    until = time.monotonic() + seconds
    tally: Counter[str] = Counter()
    if kind == "gets":
        threads = [threading.Thread(target=_gets, args=(url, t, until, tally)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join)
        return tally
    start = Start(len(tokens))
    floods: list[Awaitable[None]] = [_flood(kind, url, t, until, tally, start) for t in tokens]
    await asyncio.gather(*floods)
    return tally


def main(argv: list[str], out: Callable[[str], object] = print) -> int:
    kind, url, seconds, *tokens = argv
    # On a machine shared with the hub, the abuser takes only the CPU nobody else wants, as one
    # on another machine would: what is measured is what its flood costs the hub.
    os.nice(19)
    if kind not in (*ABUSES, "gets"):
        raise SystemExit(f"unknown abuse {kind!r}: one of {', '.join(ABUSES)}")
    tally = asyncio.run(abuse(kind, url, float(seconds), tokens))
    out(json.dumps({"abuse": kind, **tally}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
