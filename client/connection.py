"""The client's link to the hub: an injected `Connection` that the app's worker runs.

`WebSocketConnection` connects, says a summary hello (the lobby needs no log), hands frames to
the sink in batches while the summaries and a read's events come and one by one otherwise, and
reconnects with backoff when the link drops: given several hubs of one war room, to the next
that answers (round-robin). Tests inject a fake with the same two methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from websockets import ConnectionClosed
from websockets.asyncio.client import ClientConnection

from client.state import Link
from warroom.core import protocol
from warroom.net.remote import FATAL, Remote, RemoteError

RECONNECT_DELAYS: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Pauses before each reconnection attempt; the last one repeats."""

REPLAY_BATCH = 500
"""Frames handed over at once while syncing or reading (one message per frame would crawl)."""


class FrameSink(Protocol):
    """What a connection reports to: the app."""

    def frames_received(self, frames: list[protocol.ServerFrameType]) -> None:
        """Frames arrived, in order."""

    def link_changed(self, link: Link, detail: str) -> None:
        """The link went up or down; `detail` says why, for the user."""

    def forget(self) -> None:
        """What was folded in no longer holds (the hub asked for a full re-sync): drop it."""


class Connection(Protocol):
    """A source of server frames and a sink for client frames."""

    async def run(self, sink: FrameSink) -> None:
        """Deliver frames to `sink` until cancelled (or a fatal error such as a revoked token)."""

    async def send(self, frame: protocol.Submit | protocol.View | protocol.Read) -> bool:
        """Send a frame; False if the link is down (the caller retries after reconnecting)."""


class WebSocketConnection:
    """The real link: websockets, with reconnection; each connection starts from summaries.

    Args:
        urls: the hubs of the war room, tried in this order; when the one in use goes away,
            the next (round-robin). The app then reads its room again and re-sends what was
            never answered, with the same ids: a hub that had committed a command acks it
            again instead of recording it twice.
        token: the user's token.
        observer: read only, whatever the user's role.
    """

    def __init__(self, urls: Sequence[str], token: str, observer: bool = False) -> None:
        assert urls, "name at least one hub"
        self.urls = tuple(urls)
        self.token = token
        self.observer = observer
        self.url = self.urls[0]
        """The hub in use, or tried next."""
        self._socket: ClientConnection | None = None

    def _address(self, url: str) -> str:
        if not self.observer:
            return url
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}mode=observer"

    async def run(self, sink: FrameSink) -> None:
        failed = 0
        index = 0
        while True:
            self.url = self.urls[index]
            sink.link_changed(Link.CONNECTING, f"connecting to {self.url}")
            try:
                remote = await Remote.open(self._address(self.url), self.token)
            except RemoteError as error:
                if error.code in FATAL:
                    sink.link_changed(Link.OFFLINE, error.message)
                    return
                index = (index + 1) % len(self.urls)
                failed += 1
                if failed % len(self.urls):
                    continue  # another hub is tried at once; a round that failed waits first
                attempt = failed // len(self.urls)
                delay = RECONNECT_DELAYS[min(attempt - 1, len(RECONNECT_DELAYS) - 1)]
                sink.link_changed(
                    Link.OFFLINE, f"retrying in {delay:g}s (attempt {attempt}): {error.message}"
                )
                await asyncio.sleep(delay)
                continue
            failed = 0
            await self._serve(remote, sink)
            # The hub in use went away: the next one is tried first (the same, if it is alone).
            index = (index + 1) % len(self.urls)
            sink.link_changed(Link.OFFLINE, "connection lost; reconnecting")
            await asyncio.sleep(RECONNECT_DELAYS[0])

    async def _serve(self, remote: Remote, sink: FrameSink) -> None:
        socket = remote.connection
        self._socket = socket
        batch: list[protocol.ServerFrameType] = []
        syncing = True
        try:
            await socket.send(protocol.encode(protocol.Hello(cursor=None, summary=True)))
            async for message in socket:
                frame = protocol.decode_server(message)
                batch.append(frame)
                if isinstance(frame, protocol.Synced):
                    syncing = False
                elif (
                    syncing or isinstance(frame, protocol.ReadEvent | protocol.ReadEvents)
                ) and len(batch) < REPLAY_BATCH:
                    continue  # more of the same burst follows: its end hands it over
                sink.frames_received(batch)
                batch = []
        except (ConnectionClosed, OSError, protocol.ProtocolError):
            pass
        finally:
            self._socket = None
            if batch:
                sink.frames_received(batch)
            await socket.close()
            if socket.close_code == protocol.CLOSE_RESYNC:
                # Told after the frames, so the sink forgets them all before the next sync.
                sink.forget()

    async def send(self, frame: protocol.Submit | protocol.View | protocol.Read) -> bool:
        socket = self._socket
        if socket is None:
            return False
        try:
            await socket.send(protocol.encode(frame))
        except ConnectionClosed:
            return False
        return True
