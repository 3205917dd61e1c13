"""The threads that do the hub's store work for the event loop: a few, however many ask at once.

The writer thread (`server.sequencer`) needs Python's interpreter lock between each step of its
commit. Every other thread running Python code at that moment makes it wait for the lock again,
up to the switch interval each time: fifty connections saying hello together (each
authenticated, each caught up from the log) kept the six threads of asyncio's default pool
busy, and a healthy note's commit waited behind them. The connections' reads (and the outbox's
bookkeeping) therefore queue for `READ_THREADS` threads of their own: a crowd of hellos waits
its turn among itself, and the writer meets at most that many other threads.

The health probe does not queue here (`server.health`): it asks whether the store answers, and
must not wait behind the connections' reads to find out.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

READ_THREADS = 2
"""Threads doing store work for one event loop. Measured with reading threads always busy
beside a writer thread (SQLite, this 2-core machine): the writer's step p99 7-8 ms beside two,
30-38 ms beside six."""

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ThreadPoolExecutor] = (
    weakref.WeakKeyDictionary()
)
"""Each event loop's threads (a loop that is gone takes its idle threads with it)."""


async def read(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` (store work) on one of the loop's store threads; wait for its result."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="warroom-read")
    return await loop.run_in_executor(pool, functools.partial(function, *args, **kwargs))
