"""`FreshRead`: every caller gets a value read after it asked, and callers that ask together
share one read."""

from __future__ import annotations

import asyncio
import threading

from server.fresh import FreshRead


class Counter:
    """A blocking read that counts its calls and can be held open."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = threading.Event()
        self.gate.set()
        self.inside = threading.Event()

    def read(self) -> int:
        self.reads += 1
        self.inside.set()
        assert self.gate.wait(10), "the read was never let through"
        return self.reads


async def test_callers_during_a_read_share_the_next_one_and_never_get_the_running_one() -> None:
    counter = Counter()
    fresh = FreshRead(counter.read)
    counter.gate.clear()
    first = asyncio.create_task(fresh.get())
    assert await asyncio.to_thread(counter.inside.wait, 10)
    # The first read is under way: whatever it returns was read before these callers asked.
    later = [asyncio.create_task(fresh.get()) for _ in range(50)]
    await asyncio.sleep(0)
    counter.gate.set()
    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 50
    assert counter.reads == 2


async def test_a_caller_after_a_read_ended_gets_a_new_read() -> None:
    counter = Counter()
    fresh = FreshRead(counter.read)
    assert await fresh.get() == 1
    assert await fresh.get() == 2
    assert list(await asyncio.gather(fresh.get(), fresh.get())) == [3, 3]


async def test_a_failed_read_fails_its_callers_and_the_next_caller_reads_again() -> None:
    calls: list[int] = []

    def read() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk gone")
        return len(calls)

    fresh = FreshRead(read)
    failed = await asyncio.gather(fresh.get(), fresh.get(), return_exceptions=True)
    assert [type(error) for error in failed] == [OSError, OSError]
    assert await fresh.get() == 2
