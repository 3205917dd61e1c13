"""Fair share: what one connection may ask of the hub, how fast, and how much it may hold unread.

Each connection has a token bucket per kind of request (`Limits`): commands, view changes,
reads, and frames that could not be read. A request past its bucket is refused with
`rate-limited` and the seconds to wait, and changes nothing (a command refused so may be sent
again with the same id); the hub then reads nothing more from that connection for those seconds,
so a flood costs the hub no more than the rate, however fast it is sent. The buckets are sized
so that a person at the terminal and a script posting a burst never meet them; a connection
that keeps sending past them is closed.

While the hub reads nothing from a connection, what it sends piles up in the kernel. When reading
resumes, one read takes at most `READ_SLICE` bytes (`slice_reads`), so the frames of one flood
are parsed a slice per turn of the event loop, never a quarter of a megabyte at once.

Every frame the hub writes goes through an `Outbox`, which never waits: a connection holding more
than `MAX_BUFFER` unread bytes (beyond the burst just published to everyone) is cut off, whatever
it was being sent. It reconnects and catches up from the log. Frames bound for one connection at
once (a group commit's events, a read's page) leave in one write: each write is a system call,
and a group commit of twenty notes to a room of seventy would otherwise cost 1,400 of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from websockets import State, broadcast
from websockets.asyncio.server import ServerConnection

log = logging.getLogger(__name__)

SUBMIT_RATE = 100.0
"""Commands a second one connection may submit, sustained."""
SUBMIT_BURST = 2000
"""Commands one connection may submit at once (a script's burst of notes) before the rate
applies."""
VIEW_RATE = 5.0
"""View changes a second (a person switches incidents a few times a minute)."""
VIEW_BURST = 10
READ_RATE = 10.0
"""Reads of an incident a second (each pages through the incident's log)."""
READ_BURST = 50
ERROR_RATE = 10.0
"""Frames a second that could not be read (each answered with an error)."""
ERROR_BURST = 100

MAX_STRIKES = 200
"""Requests refused for their rate, without the bucket ever filling up again in between, after
which the connection is closed: a client that pauses as it is told never comes near."""

CLOSE_TOO_FAST = 1008
"""Close code (the standard "policy violation") for a connection that ignores its rate limits."""

MAX_BUFFER = 1024 * 1024
"""Bytes waiting to be written to one connection, beyond the burst just published to everyone,
before it is dropped as too slow."""

READ_SLICE = 16 * 1024
"""Bytes the hub reads from one connection per turn of the event loop. asyncio reads 256 KiB:
5,000 queued view changes from a connection that ignored its limit, 120 ms of parsing in one
callback while every other connection waits; a slice is a few milliseconds."""

MAX_CONNECTIONS_PER_USER = 32
"""Connections one user may hold open at once (terminals, SSH sessions, scripts, `tail`)."""

FIRST_FRAME_TIMEOUT = 5.0
"""Seconds a new connection has to send its first frame (`hello`, a command or a read)."""

Clock = Callable[[], float]


@dataclass
class Bucket:
    """A token bucket: `burst` requests at once, then `rate` a second."""

    rate: float
    burst: float
    clock: Clock = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.stamp = self.clock()

    def take(self) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there is one."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    """One connection's buckets, and how many of its requests in a row were refused for rate."""

    clock: Clock = time.monotonic
    submits: Bucket = field(init=False)
    views: Bucket = field(init=False)
    reads: Bucket = field(init=False)
    errors: Bucket = field(init=False)
    strikes: int = 0

    def __post_init__(self) -> None:
        self.submits = Bucket(SUBMIT_RATE, SUBMIT_BURST, self.clock)
        self.views = Bucket(VIEW_RATE, VIEW_BURST, self.clock)
        self.reads = Bucket(READ_RATE, READ_BURST, self.clock)
        self.errors = Bucket(ERROR_RATE, ERROR_BURST, self.clock)

    def wait(self, bucket: Bucket) -> float:
        """Take a token from `bucket`: 0.0 if allowed, else the seconds to wait (a strike).
        Strikes are forgotten once a bucket was full again: the connection paused."""
        wait = bucket.take()
        if wait:
            self.strikes += 1
        elif bucket.tokens >= bucket.burst - 1:
            self.strikes = 0
        return wait

    @property
    def abusive(self) -> bool:
        """The connection went on sending past its limits, ignoring every refusal."""
        return self.strikes >= MAX_STRIKES


@runtime_checkable
class _Slicing(Protocol):
    """A transport that reads at most `max_size` bytes per turn (asyncio's socket transports)."""

    max_size: int


def slice_reads(connection: ServerConnection) -> None:
    """Read at most `READ_SLICE` bytes of `connection` per turn of the event loop. A transport
    that reads otherwise (TLS reads through its own buffer) is left as it is."""
    transport = connection.transport
    if isinstance(transport, _Slicing):
        transport.max_size = READ_SLICE


def too_fast(what: str, rate: float, burst: int, wait: float) -> str:
    """The sentence a request refused for its rate gets."""
    return (
        f"too many {what}: at most {rate:g} a second after {burst} at once; "
        f"nothing was done, send it again in {max(wait, 0.01):.2f}s"
    )


class Outbox:
    """Writes frames to connections without waiting, and cuts off those that stop reading.

    `burst` is the size of the latest group of events published to everyone: right after it,
    a connection that reads may still hold all of it, and must not be taken for a slow one."""

    def __init__(self) -> None:
        self.burst = 0

    def send(self, connection: ServerConnection, *frames: str) -> None:
        """Write `frames` to one connection, in one write; drop it if it holds too much unread."""
        write_frames(connection, [frame.encode() for frame in frames])
        self.drop_slow([connection], sum(len(frame) for frame in frames))

    def send_each(self, frames: Mapping[ServerConnection, Sequence[bytes]]) -> None:
        """Write each connection its frames, in one write per connection (the caller drops the
        slow ones once the whole burst is written)."""
        for connection, theirs in frames.items():
            write_frames(connection, theirs)

    def send_to(self, connections: Iterable[ServerConnection], frame: str) -> None:
        """Write one frame to many connections; drop those that hold too much unread."""
        targets = list(connections)
        broadcast(targets, frame)
        self.drop_slow(targets, len(frame))

    def drop_slow(self, connections: Iterable[ServerConnection], allowance: int = 0) -> None:
        """Drop the connections holding more than `MAX_BUFFER` beyond `allowance` bytes just
        written to them and the latest burst."""
        limit = MAX_BUFFER + self.burst + allowance
        for connection in connections:
            transport = connection.transport
            if transport.is_closing() or transport.get_write_buffer_size() <= limit:
                continue
            log.warning("dropping %s: it fell too far behind", connection.remote_address)
            # abort() rather than close(): a close handshake would wait behind the full buffer.
            transport.abort()


def write_frames(connection: ServerConnection, frames: Sequence[bytes]) -> None:
    """Write text `frames` (UTF-8) to `connection` in one write, without waiting, as
    `websockets.broadcast` writes one: a connection that is not open (or is sending a fragmented
    message) is skipped, and a failure to write is logged, never raised."""
    if connection.state is not State.OPEN or connection.send_in_progress is not None:
        return
    try:
        for frame in frames:
            connection.protocol.send_text(frame)
        # Sending text frames on an open connection never asks for a half-close (an empty
        # chunk), so everything there is to send is data.
        connection.transport.write(b"".join(connection.protocol.data_to_send()))
    except Exception as error:
        log.warning("could not write to %s: %s", connection.remote_address, error)


MAX_REFUSAL = 400
"""Characters of a refusal's sentence: one that quotes what the user sent is cut short."""


def brief(message: str) -> str:
    """`message`, cut to `MAX_REFUSAL` characters: a refusal stays small whatever it quotes."""
    return message if len(message) <= MAX_REFUSAL else message[: MAX_REFUSAL - 1] + "…"
