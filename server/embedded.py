"""A hub in a background thread of its own, for the demo and for tests of the client."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from server.app import run
from warroom.store import Store


@dataclass
class EmbeddedHub:
    """A hub running in a background thread, for the demo and for tests of the client."""

    store: Store
    url: str = ""
    _ready: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self, timeout: float = 15.0) -> str:
        """Start the hub; return its websocket URL."""
        self._thread = threading.Thread(target=self._main, name="warroom-hub", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or not self.url:
            raise RuntimeError(f"the embedded hub did not start: {self._error}")
        return self.url

    def _main(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await run(self.store, "127.0.0.1", 0, self._on_ready, self._stop)

        try:
            asyncio.run(serve())
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._ready.set()

    def _on_ready(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def stop(self) -> None:
        """Stop the hub and wait for it."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)
