"""A websocket session with a warroom hub, for the CLI and the terminal client.

`Remote.open` authenticates in the handshake; `sync` reads the log the user may see;
`summaries` a summary of each incident instead (what a lobby shows); `read` reads one
incident's events alone (`read_with_deliveries` with how its deliveries stand), and `incident`
folds them; `submit` sends a command and waits for its ack or refusal (one refused for its rate
is sent again, a few times, after the pause the hub asks for); `follow` streams events and
reconnects by itself, resuming from the last event it saw. `read_incident` opens a connection
to read one incident and who the user is. Where several hubs serve one war room, `open_any`
connects to the first that answers, and `follow` moves on to the next when its hub goes away.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

from websockets import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.asyncio.client import ClientConnection, connect

from warroom.core import protocol
from warroom.core.commands import Command
from warroom.core.domain import Actor, IncidentState, Role
from warroom.core.reducer import replay
from warroom.core.rejections import Conflict
from warroom.core.summary import IncidentSummary

RECONNECT_DELAYS: Sequence[float] = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
"""Pauses between reconnection attempts; the last one repeats."""

OPEN_TIMEOUT = 10.0

RATE_LIMITED_DELAYS: Sequence[float] = (0.25, 0.5, 1.0, 2.0)
"""Pauses before sending again a command the hub refused for its rate, one per attempt, each
lengthened to the pause the hub asked for; after the last, the refusal is the answer."""

MAX_RATE_LIMITED_WAIT = 10.0
"""The longest pause the hub may ask for that a command waits out; past it, the refusal is the
answer at once (a script should not hang for minutes on one note)."""

_RETRY_AFTER = re.compile(r"send it again in (\d+(?:\.\d+)?)s")

CA_VARIABLE = "WARROOM_CA"
"""Names a PEM file of certificates to verify a `wss://` hub against, instead of the system's
(for a self-signed certificate); `--ca FILE` sets it."""

TLS_PIN = "WARROOM_TLS_PIN"
"""Names the hub's own certificate, for the TUI the SSH gateway starts beside the hub: it trusts
that certificate alone, whatever names it holds (it reaches the hub on a loopback address)."""

_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


FATAL = ("unauthorized", "bad-url", "bad-ca")
"""Refusals that connecting again, to this hub or another of the same war room, cannot mend."""


class RemoteError(Exception):
    """A failure talking to the hub, with a sentence for the user.

    Attributes:
        code: `unauthorized`, `unreachable`, `conflict`, `forbidden`, `not-found`, ...
        current: for a conflict, the current value on the server.
    """

    def __init__(self, code: str, message: str, current: Conflict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = current


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tls_context(url: str) -> ssl.SSLContext | None:
    """How to verify the hub at `url`: None for `ws://`; for `wss://`, the system's certificates,
    or those of the file `WARROOM_CA` names.

    Raises:
        RemoteError: `bad-ca` if that file cannot be used.
    """
    if not url.lower().startswith("wss://"):
        return None
    pinned = os.environ.get(TLS_PIN)
    ca = os.environ.get(CA_VARIABLE) or None
    try:
        if pinned:
            return _pinned(pinned)
        return ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        message = f"cannot use the certificates in {pinned or ca}: {reason}"
        raise RemoteError("bad-ca", message) from None


def _pinned(path: str) -> ssl.SSLContext:
    """A context that trusts the first certificate in `path` alone, under any name."""
    with open(path, encoding="ascii") as handle:
        found = _PEM_CERTIFICATE.search(handle.read())
    if found is None:
        raise ValueError("no certificate")
    context = ssl.create_default_context(cadata=found.group(0))
    context.check_hostname = False
    # The certificate is the trust anchor itself, not a CA above it.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def _explain_open_failure(url: str, error: Exception) -> RemoteError:
    if isinstance(error, InvalidStatus) and error.response.status_code == 401:
        return RemoteError("unauthorized", f"{url} refused the token (unknown or revoked)")
    if isinstance(error, InvalidStatus) and error.response.status_code == 429:
        body = error.response.body.decode(errors="replace").strip()[:200]
        reason = "".join(char for char in body if char.isprintable())
        return RemoteError("unreachable", f"{url} refused the connection: {reason}")
    if isinstance(error, InvalidStatus):
        return RemoteError("unreachable", f"{url} answered HTTP {error.response.status_code}")
    if isinstance(error, InvalidURI):
        return RemoteError("bad-url", f"{url} is not a websocket URL (ws:// or wss://host:port)")
    if isinstance(error, ssl.SSLCertVerificationError):
        return RemoteError(
            "unreachable",
            f"cannot verify the certificate of {url}: {error.verify_message}"
            f" (for a self-signed certificate: --ca FILE or {CA_VARIABLE})",
        )
    if isinstance(error, ssl.SSLError):
        return RemoteError("unreachable", f"no TLS with {url}: {error.reason or error}")
    if isinstance(error, TimeoutError):
        return RemoteError("unreachable", f"{url} did not answer in {OPEN_TIMEOUT:.0f}s")
    if isinstance(error, OSError) and error.errno is not None:
        reason = os.strerror(error.errno).lower()  # "connection refused", not the call's repr
    else:
        reason = str(error)
    return RemoteError("unreachable", f"cannot reach the war room at {url}: {reason}")


class Remote:
    """One open connection to the hub."""

    def __init__(self, connection: ClientConnection, url: str) -> None:
        self.connection = connection
        self.url = url
        self.welcome: protocol.Welcome | None = None

    @classmethod
    async def open(cls, url: str, token: str) -> Remote:
        """Connect and authenticate.

        Raises:
            RemoteError: `unauthorized`, `unreachable`, `bad-url` or `bad-ca`.
        """
        context = tls_context(url)
        try:
            connection = await connect(
                url,
                ssl=context,
                additional_headers=_headers(token),
                open_timeout=OPEN_TIMEOUT,
                max_size=None,
                compression=None,
                proxy=None,
            )
        except Exception as error:  # every way to fail becomes one sentence
            raise _explain_open_failure(url, error) from None
        return cls(connection, url)

    async def close(self) -> None:
        """Close the connection politely."""
        await self.connection.close()

    async def __aenter__(self) -> Remote:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _send(self, frame: protocol.ClientFrameType) -> None:
        try:
            await self.connection.send(protocol.encode(frame))
        except ConnectionClosed as closed:
            raise RemoteError(
                "disconnected", f"the war room closed the connection ({closed})"
            ) from None

    async def _receive(self) -> protocol.ServerFrameType:
        try:
            message = await self.connection.recv()
        except ConnectionClosed as closed:
            raise RemoteError(
                "disconnected", f"the war room closed the connection ({closed})"
            ) from None
        try:
            return protocol.decode_server(message)
        except protocol.ProtocolError as error:
            raise RemoteError("protocol", f"the server sent a bad frame: {error.message}") from None

    async def sync(self, cursor: protocol.Position | None = 0) -> list[protocol.EventFrame]:
        """Say hello and return every event the user may see after `cursor`.

        With `cursor` None nothing is replayed: the session only receives what happens next.
        """
        await self._send(protocol.Hello(cursor=cursor))
        events: list[protocol.EventFrame] = []
        while True:
            frame = await self._receive()
            if isinstance(frame, protocol.Welcome):
                self.welcome = frame
            elif isinstance(frame, protocol.EventFrame | protocol.EventsFrame):
                events += protocol.events_of(frame)
            elif isinstance(frame, protocol.Synced):
                return events
            elif isinstance(frame, protocol.ErrorFrame):
                raise RemoteError(frame.code, frame.message)

    async def summaries(self) -> list[IncidentSummary]:
        """Say a summary hello and return a summary of each incident the user may see, in the
        order the hub sent them (newest first); live frames then follow on this connection."""
        await self._send(protocol.Hello(cursor=None, summary=True))
        summaries: list[IncidentSummary] = []
        while True:
            frame = await self._receive()
            if isinstance(frame, protocol.Welcome):
                self.welcome = frame
            elif isinstance(frame, protocol.SummaryFrame):
                summaries.append(frame.summary)
            elif isinstance(frame, protocol.Synced):
                return summaries
            elif isinstance(frame, protocol.ErrorFrame):
                raise RemoteError(frame.code, frame.message)

    async def read(self, incident: str) -> list[protocol.EventFrame] | None:
        """The events of `incident` the user may see, in log order; None if there is no such
        incident for them (one they may not know of reads exactly like one never declared).

        Needs no `sync` first. Frames of anything else that arrive meanwhile are skipped: read
        while no command of this connection awaits its answer.
        """
        found = await self.read_with_deliveries(incident)
        return None if found is None else found[0]

    async def read_with_deliveries(
        self, incident: str
    ) -> tuple[list[protocol.EventFrame], list[protocol.DeliveryFrame]] | None:
        """`read`, and how the incident's deliveries stand (told to the war room only, on a
        connection that does not stream)."""
        if not 0 < len(incident) <= protocol.MAX_INCIDENT_ID:
            return None  # no incident has such an id: the frame could not even name it
        ident = uuid.uuid4().hex
        await self._send(protocol.Read(id=ident, incident=incident))
        events: list[protocol.EventFrame] = []
        deliveries: list[protocol.DeliveryFrame] = []
        while True:
            frame = await self._receive()
            if isinstance(frame, protocol.ReadEvent | protocol.ReadEvents) and frame.id == ident:
                events += protocol.events_of(frame)
            elif isinstance(frame, protocol.DeliveryFrame):
                deliveries.append(frame)
            elif isinstance(frame, protocol.ReadDone) and frame.id == ident:
                return events, deliveries
            elif isinstance(frame, protocol.RejectedFrame) and frame.id == ident:
                if frame.code == "not-found":
                    return None
                raise RemoteError(frame.code, frame.message)
            elif isinstance(frame, protocol.ErrorFrame):
                raise RemoteError(frame.code, frame.message)

    async def incident(self, incident: str) -> IncidentState | None:
        """`incident` folded from the events the user may see (see `read`); None if there is
        no such incident for them."""
        events = await self.read(incident)
        if events is None:
            return None
        return replay(item.event for item in events).incident(incident)

    async def submit(
        self, command: Command, command_id: str | None = None
    ) -> tuple[protocol.Position, list[protocol.EventFrame]]:
        """Send `command` and wait until it is committed.

        A command the hub refuses for its rate changed nothing: it is sent again with the same
        id after the pause the hub asks for (at least `RATE_LIMITED_DELAYS`, one per attempt).

        Returns:
            The position of the command's last event, and the events received while waiting
            (after `sync`, the command's own events arrive before its ack).

        Raises:
            RemoteError: with the server's code and sentence if the command was refused (for
                its rate: still, after the last attempt, or with a pause past
                `MAX_RATE_LIMITED_WAIT`).
        """
        ident = command_id or uuid.uuid4().hex
        submit = protocol.Submit(id=ident, command=command)
        received: list[protocol.EventFrame] = []
        delays = iter(RATE_LIMITED_DELAYS)
        await self._send(submit)
        while True:
            frame = await self._receive()
            if isinstance(frame, protocol.EventFrame | protocol.EventsFrame):
                received += protocol.events_of(frame)
            elif isinstance(frame, protocol.Ack) and frame.id == ident:
                return frame.seq, received
            elif isinstance(frame, protocol.RejectedFrame) and frame.id == ident:
                pause = _rate_limited_pause(frame, delays)
                if pause is None:
                    raise RemoteError(frame.code, frame.message, frame.current)
                # Refused for its rate, the command changed nothing: the same id again is safe.
                await asyncio.sleep(pause)
                await self._send(submit)
            elif isinstance(frame, protocol.ErrorFrame):
                raise RemoteError(frame.code, frame.message)


def _rate_limited_pause(frame: protocol.RejectedFrame, delays: Iterator[float]) -> float | None:
    """How long to wait before sending again a command refused with `frame`; None if it is not
    to be sent again (refused for another reason, attempts used up, or too long a pause)."""
    if frame.code != "rate-limited":
        return None
    backoff = next(delays, None)
    if backoff is None:
        return None
    asked = _RETRY_AFTER.search(frame.message)
    pause = max(backoff, float(asked.group(1)) if asked else 0.0)
    return pause if pause <= MAX_RATE_LIMITED_WAIT else None


@dataclass(frozen=True)
class IncidentRead:
    """One incident as a user may see it, read without the rest of the log."""

    state: IncidentState | None
    """The incident folded from `log`; None if there is no such incident for the user."""
    log: list[protocol.EventFrame]
    """Its events the user may see, in log order."""
    me: Actor
    """Who the user is, as the hub says."""
    known_groups: tuple[str, ...] = ()
    """The stakeholder groups some user holds (told to the war room only)."""


async def read_incident(urls: Sequence[str], token: str, incident: str) -> IncidentRead:
    """Read one incident over a connection of its own (to the first of `urls` that answers),
    and who the user is. Nothing of the other incidents is sent or folded.

    Raises:
        RemoteError: if no hub can be reached, or it refuses the token or the frame.
    """
    remote, _ = await open_any(urls, token)
    async with remote:
        log = await remote.read(incident)
        await remote.sync(None)  # for the welcome: who the user is; nothing is replayed
        welcome = remote.welcome
    assert welcome is not None
    me = Actor(welcome.user, Role(welcome.role), frozenset(welcome.groups))
    known = welcome.known_groups
    if log is None:
        return IncidentRead(None, [], me, known)
    return IncidentRead(replay(item.event for item in log).incident(incident), log, me, known)


async def open_any(urls: Sequence[str], token: str, first: int = 0) -> tuple[Remote, int]:
    """Connect to the first of the hubs `urls` that answers, trying each once in turn from
    `urls[first]` (round-robin); return the connection and the index of its URL.

    Raises:
        RemoteError: the first refusal that no other hub would answer otherwise (`unauthorized`,
            `bad-url`, `bad-ca`: the hubs share their users); else, if no hub answered,
            `unreachable` naming each.
    """
    assert urls, "name at least one hub"
    failures: list[RemoteError] = []
    for step in range(len(urls)):
        index = (first + step) % len(urls)
        try:
            return await Remote.open(urls[index], token), index
        except RemoteError as error:
            if error.code in FATAL:
                raise
            failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    reasons = "; ".join(error.message for error in failures)
    raise RemoteError("unreachable", f"no hub answered: {reasons}")


async def follow(
    urls: Sequence[str], token: str, cursor: protocol.Position | None = None
) -> AsyncIterator[protocol.EventFrame]:
    """Yield every event the user may see after `cursor` (None: from now), forever.

    Reconnects after a dropped connection or a server restart and resumes after the last event
    it yielded, so nothing is missed or repeated: to the hub it used, or with several `urls` to
    the next that answers (round-robin), since they serve one log. A refused token ends it with
    `RemoteError`. If the server cannot resume from the cursor (the user's role changed, say)
    the replay it sends instead is skipped: what was yielded is not yielded again.
    """
    attempt = 0
    log: str | None = None
    index = 0
    while True:
        try:
            remote, index = await open_any(urls, token, index)
        except RemoteError as error:
            if error.code in FATAL:
                raise
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            continue
        attempt = 0
        try:
            await remote.connection.send(protocol.encode(protocol.Hello(cursor=cursor, log=log)))
            skipping = False
            async for message in remote.connection:
                frame = protocol.decode_server(message)
                if isinstance(frame, protocol.Welcome):
                    log = frame.log  # a restored backup is another log: it resets the cursor
                    skipping = frame.reset and cursor is not None
                    if cursor is None or frame.reset:
                        cursor = frame.head
                elif isinstance(frame, protocol.Synced):
                    skipping = False
                elif isinstance(frame, protocol.EventFrame | protocol.EventsFrame):
                    if skipping:
                        continue
                    for event in protocol.events_of(frame):
                        if not protocol.already_seen(event.seq, cursor):
                            cursor = event.seq
                            yield event
        except (ConnectionClosed, OSError):
            pass
        finally:
            await remote.connection.close()
        # The hub in use went away: the next one is tried first (the same one, if it is alone).
        index = (index + 1) % len(urls)
        await asyncio.sleep(RECONNECT_DELAYS[0])
