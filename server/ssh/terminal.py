"""One SSH session with a terminal (`TerminalSession`): a PTY with the war room's TUI on it, its
bytes carried both ways; and the open sessions of a gateway (`Terminals`).

The session only carries bytes between the PTY and the SSH channel, with flow control both ways,
and window sizes to the PTY. When the TUI quits, the channel closes with its exit status; when
the SSH link drops, or the gateway ends the session, the TUI is hung up, then killed after a
short grace, and reaped. A session without a terminal, or asking for a command, is told why
nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence

import asyncssh

from server.hub import Hub
from server.ssh.child import (
    HANGUP_GRACE,
    Child,
    Size,
    child_env,
    incident_of,
    open_pty,
    reap,
    set_size,
    signal_group,
    spawn,
    wait,
)
from server.ssh.forked import Zygote
from server.ssh.settings import SshSettings
from warroom.net.remote import TLS_PIN

log = logging.getLogger(__name__)

ONLY_THE_WAR_ROOM = "only the war room is served here"

_TERMINAL_RESET = (
    "\x1b[0m"  # plain text
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"  # no mouse reports
    "\x1b[?2004l\x1b[?1004l"  # no bracketed paste, no focus reports
    "\x1b[<u"  # the keyboard protocol the TUI may have pushed
    "\x1b[?1049l\x1b[?25h"  # the main screen, the cursor back
)
"""What a TUI undoes as it quits: said for it when the gateway has to end it."""

MAX_SESSIONS = 100
"""SSH sessions open at once; past this, a new one is told the gateway is full."""

READ_CHUNK = 64 * 1024


class Terminals:
    """The open terminal sessions of one gateway, and what each needs to run its TUI."""

    def __init__(self, hub: Hub, url: str, settings: SshSettings) -> None:
        self.hub = hub
        self.url = url
        """The hub's websocket URL, as the children on this host reach it."""
        self.settings = settings
        self.open: set[TerminalSession] = set()
        self.zygote: Zygote | None = None
        """The pre-imported process that forks the TUIs (None: each starts afresh)."""
        self._reaping: set[asyncio.Task[None]] = set()

    def start(
        self, argv: Sequence[str], env: Mapping[str, str], size: Size, on_pid: Callable[[int], None]
    ) -> tuple[Child, int]:
        """Start a session's TUI on a fresh PTY of `size`: forked by the pre-imported process if
        it takes the request, else afresh. `on_pid` is told its pid once it is known.

        Returns:
            The TUI, and the PTY's master end (non-blocking), which the caller closes.
        """
        if self.zygote is not None:
            master, slave = open_pty(size)
            try:
                forked = self.zygote.fork(argv, env, slave, on_pid)
            except BaseException:
                os.close(master)
                os.close(slave)
                raise
            if forked is not None:
                return forked, master  # it closes `slave` once the TUI has it
            os.close(master)
            os.close(slave)
        process, master = spawn(argv, env, size)
        assert process.pid is not None
        on_pid(process.pid)
        return process, master

    def argv(self, incident: str | None) -> list[str]:
        """What a session's TUI runs: the settings' program, the hub's URL, the incident."""
        return [*self.settings.session_command, self.url, *([incident] if incident else [])]

    def announce(self, line: str) -> None:
        """Tell the operator, in one line, of a session or a refused login."""
        if self.settings.announce is not None:
            self.settings.announce(line)

    def held_by(self, key: str) -> int:
        """How many open sessions the key with fingerprint `key` logged in."""
        return sum(1 for session in self.open if session.key == key)

    def reap(self, job: asyncio.Task[None]) -> None:
        """Keep a child's reaper alive until it is done (and wait for it at close)."""
        self._reaping.add(job)
        job.add_done_callback(self._reaping.discard)

    async def reaped(self, within: float) -> None:
        """Wait up to `within` seconds for every child to be reaped."""
        if self._reaping:
            await asyncio.wait(set(self._reaping), timeout=within)


class TerminalSession(asyncssh.SSHServerSession[bytes]):
    """One SSH session: a PTY with a `warroom join` child on it, its bytes carried both ways."""

    def __init__(self, terminals: Terminals, user: str, key: str, username: str, peer: str) -> None:
        self.terminals = terminals
        self.user = user
        """Who the key says this is."""
        self.key = key
        """The fingerprint of the key the user logged in with."""
        self.username = username
        """The SSH user name: picks an incident, or nothing."""
        self.peer = peer
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term = ""
        self.size: Size = (0, 0, 0, 0)
        self.has_pty = False
        self.command: str | None = None
        self.process: Child | None = None
        self.master: int | None = None
        self.token: str | None = None
        self.ended = False
        self._pending = bytearray()
        """Keystrokes the PTY did not take yet (the client is paused meanwhile)."""
        self._reading = False

    # asyncssh's callbacks --------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: Size, term_modes: Mapping[int, int]) -> bool:
        self.has_pty = True
        self.term = term_type
        self.size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # Accepted only to say why nothing runs: a refused request leaves the user guessing.
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        if self.command is not None:
            self._refuse(ONLY_THE_WAR_ROOM)
        elif not self.has_pty:
            self._refuse(f"{ONLY_THE_WAR_ROOM}, on a terminal (ssh -t)")
        elif len(self.terminals.open) >= MAX_SESSIONS:
            self._refuse("the war room is full here; try again in a moment")
        elif self.terminals.held_by(self.key) >= self.terminals.settings.sessions_per_key:
            limit = self.terminals.settings.sessions_per_key
            self._refuse(f"this key already holds {limit} war room sessions; close one first")
            self.terminals.announce(f"ssh: refused {self.user} a session over {limit}")
        else:
            try:
                self._spawn()
            except Exception as error:  # one line in the log, a sentence for the user
                log.warning("warroom: ssh: cannot start the war room for %s: %s", self.user, error)
                self._close_master()
                self._refuse("the war room could not be opened here; tell the operator")

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self.master is None:
            return
        if self._pending:
            self._pending.extend(data)
            return
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0
        except OSError:  # the child is gone; its end is on its way
            return
        if written < len(data):
            self._pending.extend(data[written:])
            asyncio.get_running_loop().add_writer(self.master, self._writable)
            if self.chan is not None:
                self.chan.pause_reading()

    def eof_received(self) -> bool:
        return True  # a terminal's input ends with the session, not with an EOF

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height, pixwidth, pixheight)
        if self.master is not None:
            with contextlib.suppress(OSError):
                set_size(self.master, self.size)

    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    # The child -------------------------------------------------------------------------------

    def _spawn(self) -> None:
        terminals = self.terminals
        incident = incident_of(self.username)
        self.token = terminals.hub.session_token(self.user)
        assert self.chan is not None
        env = child_env(self.term, self.chan.get_environment(), self.token)
        if terminals.settings.tls_pin is not None:
            env[TLS_PIN] = str(terminals.settings.tls_pin)

        def started(pid: int) -> None:
            terminals.announce(
                f"ssh: {self.user} opened {incident or 'the lobby'} from {self.peer} (pid {pid})"
            )

        self.process, self.master = terminals.start(
            terminals.argv(incident), env, self.size, started
        )
        terminals.open.add(self)
        self._start_reading()

    def _start_reading(self) -> None:
        if self.master is not None and not self._reading and not self.ended:
            asyncio.get_running_loop().add_reader(self.master, self._readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self.master is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self.master)
        self._reading = False

    def _readable(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: every end of the terminal on the child's side is closed
            data = b""
        if not data:
            self._stop_reading()
            task = asyncio.get_running_loop().create_task(self._child_left())
            self.terminals.reap(task)
            return
        if self.chan is not None and not self.ended:
            with contextlib.suppress(OSError):  # the channel is closing; its end is on its way
                self.chan.write(data)

    def _writable(self) -> None:
        assert self.master is not None
        try:
            written = os.write(self.master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            written = len(self._pending)
        del self._pending[:written]
        if not self._pending:
            asyncio.get_running_loop().remove_writer(self.master)
            if self.chan is not None and not self.ended:
                self.chan.resume_reading()

    async def _child_left(self) -> None:
        """The TUI closed its terminal (it quit): close the channel with its exit status."""
        process = self.process
        assert process is not None
        status = await wait(process, HANGUP_GRACE)
        if status is None:  # its terminal is closed and yet it runs: end it
            signal_group(process, signal.SIGKILL)
            status = await wait(process, HANGUP_GRACE) or -signal.SIGKILL
        code = status if status >= 0 else 128 - status
        if self.chan is not None and not self.ended:
            self.chan.exit(code)
        self._finish()

    def end(self, reason: str) -> None:
        """Say why on the terminal, then close the session (its child is hung up)."""
        if self.chan is not None and not self.ended:
            # Stop carrying the TUI's output first, so the reason is the last thing shown.
            self._stop_reading()
            with contextlib.suppress(Exception):
                reset = _TERMINAL_RESET if self.process is not None else ""
                self.chan.write(f"{reset}\r\nwarroom: {reason}\r\n".encode())
                self.chan.exit(1)
        self._finish()

    def _refuse(self, reason: str) -> None:
        assert self.chan is not None
        self.chan.write_stderr(f"warroom: {reason}\r\n".encode())
        self.chan.exit(1)

    def _finish(self) -> None:
        """Free everything the session holds: token, terminal, child (hung up, then killed)."""
        if self.ended:
            return
        self.ended = True
        self.terminals.open.discard(self)
        if self.token is not None:
            self.terminals.hub.end_session_token(self.token)
            self.token = None
        self._close_master()
        process = self.process
        if process is not None and process.returncode is None:
            signal_group(process, signal.SIGHUP)
            self.terminals.reap(asyncio.get_running_loop().create_task(reap(process)))
        if process is not None:
            self.terminals.announce(f"ssh: {self.user} left (pid {process.pid or '?'})")

    def _close_master(self) -> None:
        if self.master is None:
            return
        self._stop_reading()
        loop = asyncio.get_running_loop()
        loop.remove_writer(self.master)
        self._pending.clear()
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = None
