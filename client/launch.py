"""`warroom join`: the terminal client against a running hub."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Sequence

from client.app import WarRoomApp
from client.connection import WebSocketConnection
from client.remote import RemoteWarRoomApp


def join(
    urls: Sequence[str],
    token: str,
    incident: str | None,
    observer: bool,
    notice: str | None = None,
    remote: bool = False,
) -> None:
    """Open the terminal client against a running hub, or the first of several of one war room
    that answers (`remote`: for the SSH gateway, whose sessions' terminals are on other
    machines; see `RemoteWarRoomApp`)."""
    take_terminal()
    spare_the_collector()
    connection = WebSocketConnection(urls, token, observer=observer)
    kind = RemoteWarRoomApp if remote else WarRoomApp
    kind(connection, incident=incident, notice=notice).run()


YOUNG_THRESHOLD = 20_000
"""Allocations (net of frees) between two collections of Python's youngest generation; 700 by
default. A live room makes many objects that live for a frame or two (rows laid out, lines
rendered): collected every 700, they were promoted to the old generation, whose full passes
then ran every second or so in a room of 10,000 entries, 170-220 ms each, every one a frozen
screen. At 20,000 they die young: no full pass in 8 s of 50 events a second, and an event's p99
from arrival to its row on screen fell from 223-288 ms to 68-73 ms (`python -m bench.tui`)."""


def spare_the_collector() -> None:
    """Collect Python's youngest generation every `YOUNG_THRESHOLD` allocations (see there);
    the older generations keep their default ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


_RUN_TIME_MODULES = (
    "concurrent.futures.thread",
    "queue",
    "termios",
    "tty",
    "rich._emoji_codes",
    "rich._unicode_data",
    "textual._xterm_parser",
    "textual.drivers.linux_driver",
    "textual.layouts.factory",
    "textual.layouts.horizontal",
    "textual.layouts.stream",
    "textual.pilot",
    "textual.scrollbar",
    "textual.system_commands",
)
"""What the TUI imports only once it runs on a terminal (its driver, its layouts, rich's tables,
the palette's system commands, asyncio's thread pool): the modules a painted `warroom join` has
that importing `client.app` does not bring."""


def preload() -> None:
    """Import everything a TUI imports as it runs, screens and widgets included, and build the
    protocol's adapters of every frame it reads and writes.

    The SSH gateway's pre-imported process calls this once, then forks each session's TUI from
    itself: what is imported and built here is in memory once for every session, and a session
    opens without importing or building it again (what a session does after the fork is in
    memory of its own)."""
    import importlib
    import pkgutil

    import rich._unicode_data

    import client.screens
    import client.widgets
    from warroom.core import protocol

    for package in (client.screens, client.widgets):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    for name in _RUN_TIME_MODULES:
        importlib.import_module(name)
    rich._unicode_data.load()  # the cell widths table, by the version the environment names
    protocol.build_client_adapters()


def take_terminal() -> None:
    """Make the terminal on standard input the controlling terminal of this process, if it leads
    a session that has none.

    The SSH gateway starts `warroom join` so: the leader of a new session, on a fresh PTY. Until
    the PTY is its controlling terminal, the kernel sends it no SIGWINCH when the SSH client's
    window changes size, and no SIGHUP when the session ends. Started from a shell, the process
    leads no session, and this does nothing.
    """
    if sys.platform == "win32" or not os.isatty(0) or os.getsid(0) != os.getpid():
        return
    import fcntl
    import termios

    # Fails if the terminal is another session's (e.g. `setsid warroom join` in a shell): the
    # client then runs as it would have without it.
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
