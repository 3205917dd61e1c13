"""The hub's store work for connections runs on a few threads of its own (`server.readers`):
however many connections ask at once, the writer thread meets at most `READ_THREADS` others."""

from __future__ import annotations

import ast
import asyncio
import threading
import time
from pathlib import Path

import pytest

from server import readers

SERVER = Path(readers.__file__).resolve().parent

ELSEWHERE = {
    ("app.py", "check_durable"),
    ("app.py", "restore"),
    ("app.py", "stop"),
    ("health.py", "_probe"),
    ("ssh/gateway.py", "load_host_key"),
    ("ssh/forked.py", "wait"),
}
"""The calls that may take another thread: the hub's start and stop (nothing else runs yet, or
any more), the health probe (it must not queue behind the connections), the SSH host key, and
waiting for a session's process to end (a wait, not store work: it would hold a store thread)."""


async def test_fifty_reads_at_once_run_at_most_read_threads_at_a_time() -> None:
    running, most = 0, 0
    lock = threading.Lock()
    names: set[str] = set()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            names.add(threading.current_thread().name)
        time.sleep(0.005)
        with lock:
            running -= 1
        return n * 2

    results = await asyncio.gather(*(readers.read(work, n) for n in range(50)))
    assert results == [n * 2 for n in range(50)]
    assert most == readers.READ_THREADS
    assert all(name.startswith("warroom-read") for name in names)


async def test_a_read_that_fails_raises_in_its_caller() -> None:
    def broken() -> None:
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        await readers.read(broken)


def _to_thread_calls(path: Path) -> set[str]:
    """The names of what `path` hands to `asyncio.to_thread`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "to_thread"
            and node.args
        ):
            target = node.args[0]
            found.add(target.attr if isinstance(target, ast.Attribute) else ast.unparse(target))
    return found


def test_the_hub_does_its_store_work_on_the_store_threads() -> None:
    elsewhere = {
        (path.relative_to(SERVER).as_posix(), name)
        for path in SERVER.rglob("*.py")
        for name in _to_thread_calls(path)
    }
    assert elsewhere == ELSEWHERE
