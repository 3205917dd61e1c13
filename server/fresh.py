"""Reads that are never stale and never repeated needlessly: `FreshRead`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from server import readers

T = TypeVar("T")


class FreshRead(Generic[T]):
    """A blocking read (on a reader thread: `server.readers`) whose every caller gets a value
    read after it asked.

    Callers that ask while a read is running share the next one, started as soon as the running
    one ends: fifty connections saying hello at once cost two reads, not fifty, and none of them
    is told what was true before it asked (a stakeholder added a moment earlier is known)."""

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._running: asyncio.Task[T] | None = None
        self._next: asyncio.Task[T] | None = None

    async def get(self) -> T:
        """A value read after this call began."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_task(self._after(self._running))
        return await asyncio.shield(self._next)

    async def _after(self, running: asyncio.Task[T] | None) -> T:
        if running is not None:
            await asyncio.wait([running])
        # This read starts now: whoever asks from here on needs the one after it.
        self._running, self._next = self._next, None
        try:
            return await readers.read(self._read)
        finally:
            if self._running is asyncio.current_task():
                self._running = None
