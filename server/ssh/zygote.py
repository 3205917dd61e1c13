"""The pre-imported process of the SSH gateway (`serve`): it imports once what a session's TUI
needs, then forks one TUI per session, so that every session shares those pages.

A fresh `warroom join` costs each session the interpreter and every library it imports (Textual,
rich, pydantic's built schemas): some 70 MB that no two sessions share. This process imports them
once, freezes the garbage collector (a collection would touch, and so copy, every page of the
imported objects), and waits on a socket the gateway holds the other end of. Per session, the
gateway sends one message: the TUI's argv and environment, and two file descriptors, the PTY's
terminal end and the session's own socket. The process forks; the child becomes what `spawn`
would have started: the leader of a new session, the terminal on its standard streams (it takes
it as its controlling terminal itself, as `warroom join` does), only the session's environment,
and, for `ps` and /proc, the session's argv and environment in place of this process's. It then
runs `run(argv)` and exits with its result.

On the session's socket this process says the child's pid, and later its exit status (it reaps
its children); the child says its own exit code there too before it exits, so a session learns
how its TUI ended even if this process died in the meantime. When the gateway closes its end of
the control socket (or dies), this process ends; the TUIs it started carry on on their own.

Messages are JSON over SOCK_SEQPACKET sockets (one message a datagram). This module imports only
the standard library: the gateway's side is `server.ssh.forked`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import io
import json
import locale
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MAX_MESSAGE = 256 * 1024
"""The largest request: an argv and an environment (the gateway's are a few KB)."""

READY = b'{"ready": true}'
"""Said on the control socket once everything is imported and the process can fork sessions."""

_PR_SET_MM = 35
_PR_SET_MM_MAP = 14


def serve(
    control: socket.socket, preload: Callable[[], None], run: Callable[[list[str]], int]
) -> int:
    """Import what sessions need (`preload`), then fork a child running `run(argv)` per request
    on `control`, until the gateway closes it.

    Returns:
        This process's exit code: 0 when the gateway closed the socket, 1 if this kernel cannot
        show a forked child's argv and environment as its own (the gateway then starts each TUI
        afresh).
    """
    preload()
    if not _can_retitle():
        return 1
    gc.collect()
    gc.freeze()
    sessions: dict[int, socket.socket] = {}
    """Each running child's session socket, by pid."""
    waking_read, waking_write = os.pipe()
    for end in (waking_read, waking_write):
        os.set_blocking(end, False)
    signal.set_wakeup_fd(waking_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(waking_read, selectors.EVENT_READ)
    control.sendall(READY)

    def close_inherited(keep: socket.socket) -> None:
        """In a child: close what belongs to this process, not to the session."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        selector.close()
        control.close()
        for end in (waking_read, waking_write):
            os.close(end)
        for other in sessions.values():
            if other is not keep:
                other.close()

    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                request = _receive(control)
                if request is None:
                    return 0
                argv, env, terminal, session = request
                _fork(argv, env, terminal, session, sessions, close_inherited, run)
            else:
                with contextlib.suppress(BlockingIOError):
                    while os.read(waking_read, 512):
                        pass
        _reap(sessions)


def _receive(
    control: socket.socket,
) -> tuple[list[str], dict[str, str], int, socket.socket] | None:
    """The next request: argv, environment, terminal fd, session socket (None: the gateway has
    closed the socket). A request this process cannot read is dropped, its descriptors closed:
    the gateway, seeing its session's socket close without a pid, starts that TUI afresh."""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 2)
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        if not data and not fds:
            return None
        try:
            message = json.loads(data)
            argv = [str(arg) for arg in message["argv"]]
            env = {str(key): str(value) for key, value in message["env"].items()}
            terminal, session_fd = fds
            for fd in fds:
                os.set_inheritable(fd, False)
        except (ValueError, KeyError, TypeError, AttributeError):
            for fd in fds:
                os.close(fd)
            continue
        return argv, env, terminal, socket.socket(fileno=session_fd)


def _fork(
    argv: list[str],
    env: dict[str, str],
    terminal: int,
    session: socket.socket,
    sessions: dict[int, socket.socket],
    close_inherited: Callable[[socket.socket], None],
    run: Callable[[list[str]], int],
) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the session's TUI
        code = 1
        try:
            close_inherited(session)
            _become_session(argv, env, terminal)
            code = run(argv)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                atexit._run_exitfuncs()  # as the interpreter does on its way out
                sys.stdout.flush()
                sys.stderr.flush()
            with contextlib.suppress(OSError):
                session.send(json.dumps({"exit": code}).encode())
            os._exit(code & 0xFF)
    os.close(terminal)
    # If the gateway gave up on the session meanwhile, the PTY hangs the child up.
    with contextlib.suppress(OSError):
        session.send(json.dumps({"pid": pid}).encode())
    sessions[pid] = session


def _reap(sessions: dict[int, socket.socket]) -> None:
    """Collect every child that ended; tell its session how."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        session = sessions.pop(pid, None)
        if session is None:
            continue
        with contextlib.suppress(OSError):
            session.send(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())
        session.close()


def _become_session(argv: Sequence[str], env: Mapping[str, str], terminal: int) -> None:
    """Turn this fresh child into what `spawn` starts: a new session on `terminal`, with only
    `env`, showing `argv` and `env` as its own."""
    os.setsid()
    for fd in (0, 1, 2):
        os.dup2(terminal, fd)
    if terminal > 2:
        os.close(terminal)
    os.environ.clear()
    os.environ.update(env)
    _retitle(argv, env)
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")
    _reopen_standard_streams()
    sys.argv = [argv[0], *argv[3:]] if argv[1:2] == ["-m"] else list(argv)


def _reopen_standard_streams() -> None:
    """New `sys.stdin`, `stdout` and `stderr` on the terminal, in the session's locale, as
    Python makes them at start for a terminal."""
    encoding = "utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False)
    c_locale = locale.setlocale(locale.LC_CTYPE) in ("C", "POSIX")
    errors = "surrogateescape" if sys.flags.utf8_mode or c_locale else "strict"

    def stream(fd: int, errors: str) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding, errors, line_buffering=fd != 0)

    for name, fd, kind in (
        ("stdin", 0, errors),
        ("stdout", 1, errors),
        ("stderr", 2, "backslashreplace"),
    ):
        opened = stream(fd, kind)
        setattr(sys, name, opened)
        setattr(sys, f"__{name}__", opened)


# Showing a forked child's argv and environment ---------------------------------------------------


class _MmMap(ctypes.Structure):
    """`struct prctl_mm_map` (linux/prctl.h)."""

    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "start_code",
            "end_code",
            "start_data",
            "end_data",
            "start_brk",
            "brk",
            "start_stack",
            "arg_start",
            "arg_end",
            "env_start",
            "env_end",
            "auxv",
        )
    ] + [("auxv_size", ctypes.c_uint32), ("exe_fd", ctypes.c_uint32)]


_shown: list[Any] = []
"""The buffers /proc shows as this process's argv and environment: kept as long as it lives."""


def _retitle(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Make /proc/self/cmdline and /proc/self/environ (what `ps` shows) say `argv` and `env`.

    A forked child would otherwise show this process's own: an operator's `ps` would name the
    wrong program, and `ps e` a stale environment. Unprivileged processes may point the kernel
    at new argv and environment areas with prctl(PR_SET_MM_MAP) (Linux 3.18, built with
    CONFIG_CHECKPOINT_RESTORE)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.sbrk.restype = ctypes.c_void_p
        libc.sbrk.argtypes = [ctypes.c_ssize_t]
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, AttributeError):
        return False

    def field(number: int) -> int:  # numbered as in proc(5)
        return int(fields[number - 3])

    args = b"".join(os.fsencode(arg) + b"\0" for arg in argv)
    environment = b"".join(os.fsencode(f"{key}={value}") + b"\0" for key, value in env.items())
    shown_args = ctypes.create_string_buffer(args, max(len(args), 1))
    shown_env = ctypes.create_string_buffer(environment, max(len(environment), 1))
    arg_start, env_start = ctypes.addressof(shown_args), ctypes.addressof(shown_env)
    mm = _MmMap(
        start_code=field(26),
        end_code=field(27),
        start_data=field(45),
        end_data=field(46),
        start_brk=field(47),
        brk=libc.sbrk(0),
        start_stack=field(28),
        arg_start=arg_start,
        arg_end=arg_start + len(args),
        env_start=env_start,
        env_end=env_start + len(environment),
        auxv=0,
        auxv_size=0,
        exe_fd=0xFFFFFFFF,
    )
    if libc.prctl(_PR_SET_MM, _PR_SET_MM_MAP, ctypes.byref(mm), ctypes.sizeof(mm), 0) != 0:
        return False
    _shown[:] = [shown_args, shown_env]
    return True


def _can_retitle() -> bool:
    """True if this process can show another argv and environment (see `_retitle`)."""
    with open(f"/proc/{os.getpid()}/cmdline", "rb") as cmdline:
        argv = [os.fsdecode(arg) for arg in cmdline.read().split(b"\0")[:-1]]
    return _retitle(argv, dict(os.environ))
