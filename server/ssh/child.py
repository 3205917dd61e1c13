"""A session's TUI as a process: what it is started with, its PTY, and its end.

The child runs on a fresh PTY as the leader of a new session and process group, so a hangup or
a kill reaches everything it started. It is started afresh here (`spawn`), or forked by the
pre-imported process (`server.ssh.forked`); either way it is a `Child`. The gateway never waits
on it in a blocking call: the exit is polled, and a child that outlives its grace after SIGHUP is
killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

HANGUP_GRACE = 2.0
"""Seconds a child has to exit after SIGHUP before it is killed."""

REAP_POLL = 0.05

DEFAULT_SIZE = (80, 24)

_INCIDENT = re.compile(r"(?i)inc-[1-9][0-9]{0,8}")

_TERMINAL_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
"""What a TERM or COLORTERM the client sends may look like (`xterm-256color`, `truecolor`)."""

_LOCALE = re.compile(
    r"C|POSIX|C\.(?i:utf-?8)|[A-Za-z]{2,3}(_[A-Za-z]{2})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?"
)
"""A well-formed locale name (`fr_FR.UTF-8`, `sr_RS@latin`, `C`): never a path."""

_LOCALE_NAMES = frozenset(
    {
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "LC_COLLATE",
        "LC_MESSAGES",
        "LC_MONETARY",
        "LC_NUMERIC",
        "LC_TIME",
        "LC_ADDRESS",
        "LC_IDENTIFICATION",
        "LC_MEASUREMENT",
        "LC_NAME",
        "LC_PAPER",
        "LC_TELEPHONE",
    }
)
"""The locale variables a client may set in its TUI's environment (glibc's categories)."""

_DROPPED_ENV = frozenset({"TERM", "COLORTERM", "NO_COLOR", "COLUMNS", "LINES", "TMUX", "TMUX_PANE"})

Size = tuple[int, int, int, int]
"""A terminal's size as SSH tells it: columns, rows, pixel width, pixel height."""


def incident_of(username: str) -> str | None:
    """The incident an SSH user name picks (`INC-7`), or None for the lobby."""
    return username.upper() if _INCIDENT.fullmatch(username) else None


def child_env(term: str, client: Mapping[str, str], token: str) -> dict[str, str]:
    """The environment of a session's TUI: the server's, less its terminal and warroom settings,
    plus the client's terminal type, colour support and locale, and the session token.

    Of what the client sends, only `TERM`, `COLORTERM`, `LANG` and the known `LC_*` pass, and
    only values of their form: a locale name, never a path (`LC_ALL=/etc/passwd`)."""
    env = server_env()
    env.update(client_settings(client))
    env["TERM"] = term if _TERMINAL_VALUE.fullmatch(term) else "xterm"
    env["WARROOM_TOKEN"] = token
    return env


def client_settings(client: Mapping[str, str]) -> dict[str, str]:
    """What of the environment an SSH client sends reaches its TUI: `COLORTERM`, `LANG` and the
    known `LC_*`, each only if its value is well formed."""
    return {
        key: value
        for key, value in client.items()
        if (key == "COLORTERM" and _TERMINAL_VALUE.fullmatch(value))
        or (key in _LOCALE_NAMES and _LOCALE.fullmatch(value))
    }


def open_pty(size: Size) -> tuple[int, int]:
    """A fresh PTY of `size`.

    Returns:
        Its master end (non-blocking) and its terminal end; the caller closes both.
    """
    master, slave = os.openpty()
    try:
        os.set_blocking(master, False)
        set_size(slave, size)
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave


def start(argv: Sequence[str], env: Mapping[str, str], terminal: int) -> Spawned:
    """Start `argv` afresh on the PTY end `terminal` (which the caller closes), as the leader of
    a new session."""
    return Spawned(
        subprocess.Popen(
            argv,
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    )


def spawn(argv: Sequence[str], env: Mapping[str, str], size: Size) -> tuple[Spawned, int]:
    """Start `argv` on a fresh PTY of `size`, as the leader of a new session.

    Returns:
        The child, and the PTY's master end (non-blocking), which the caller closes.
    """
    master, slave = open_pty(size)
    try:
        return start(argv, env, slave), master
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)


class Child(Protocol):
    """A session's TUI, however it was started: `Spawned`, or forked by the pre-imported process
    (`server.ssh.forked.Forked`)."""

    @property
    def pid(self) -> int | None:
        """None until the process that forks it has said it."""

    @property
    def returncode(self) -> int | None:
        """The exit status, once `poll` has seen the TUI end."""

    def poll(self) -> int | None:
        """The exit status once the TUI ended (and was reaped), else None."""

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the TUI's process group (it leads one of its own)."""


class Spawned:
    """A TUI this process started afresh (`start`)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.pid: int | None = process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def poll(self) -> int | None:
        return self.process.poll()

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def server_env() -> dict[str, str]:
    """The server's environment, less its terminal, SSH and warroom settings: what every TUI's
    environment starts from (`child_env`)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WARROOM_", "TEXTUAL", "SSH_")) and key not in _DROPPED_ENV
    }


def set_size(fd: int, size: Size) -> None:
    """Give the terminal `fd` the size `size` (a window of no size gets `DEFAULT_SIZE`)."""
    width, height, pixwidth, pixheight = (min(max(value, 0), 0xFFFF) for value in size)
    if not width or not height:
        width, height = DEFAULT_SIZE
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, pixwidth, pixheight))


def signal_group(process: Child, signum: int) -> None:
    """Send `signum` to the child's process group (it leads one of its own)."""
    process.signal_group(signum)


async def wait(process: Child, within: float) -> int | None:
    """The child's exit status once it has ended (reaped), or None if it runs past `within` s."""
    deadline = time.monotonic() + within
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(REAP_POLL)
    return process.returncode


async def reap(process: Child) -> None:
    """Wait for a hung-up child to exit, killing its group if it outlives `HANGUP_GRACE`."""
    if await wait(process, HANGUP_GRACE) is None:
        signal_group(process, signal.SIGKILL)
        await wait(process, HANGUP_GRACE)
