"""The SSH gateway: `ssh -p 2222 [INC-7@]host` opens the war room as the user the key belongs to.

asyncssh serves SSH on the hub's own event loop. A login is by public key only, checked against
the users table on every attempt, so a key added with `warroom user key add` works at once and a
revoked user's keys stop. The SSH user name may pick an incident (`INC-7@host`); it never says
who you are.

Each session with a terminal gets a fresh PTY and, on it, a child that talks to the hub like any
other client: the program the settings name (`warroom join`, as `warroom serve` wires it), run as
the leader of a new session, logged in with an in-memory session token (`Hub.session_token`)
passed in its environment. The gateway only carries bytes between the PTY and the SSH channel,
and window sizes to the PTY. When the SSH link drops, the child's process group is hung up, then
killed after a short grace, and reaped. Nothing else is served: no shell, no exec, no SFTP or
SCP, no forwarding of ports, agents or X11.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import platformdirs
from asyncssh.connection import SSHConnection

from server.hub import Hub

log = logging.getLogger(__name__)

ONLY_THE_WAR_ROOM = "only the war room is served here"

_NO_FORWARDING = "warroom: no forwarding is served here"

_TERMINAL_RESET = (
    "\x1b[0m"  # plain text
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"  # no mouse reports
    "\x1b[?2004l\x1b[?1004l"  # no bracketed paste, no focus reports
    "\x1b[<u"  # the keyboard protocol the TUI may have pushed
    "\x1b[?1049l\x1b[?25h"  # the main screen, the cursor back
)
"""What a TUI undoes as it quits: said for it when the gateway has to end it."""

HANGUP_GRACE = 2.0
"""Seconds a child has to exit after SIGHUP before it is killed."""

REAP_POLL = 0.05

USER_POLL = 1.0
"""Seconds between two checks that the users of open sessions are still active."""

MAX_SESSIONS = 100
"""SSH sessions open at once; past this, a new one is told the gateway is full."""

READ_CHUNK = 64 * 1024

DEFAULT_SIZE = (80, 24)

_INCIDENT = re.compile(r"(?i)inc-[1-9][0-9]{0,8}")

_PASSED_ENV = frozenset({"LANG", "COLORTERM", "NO_COLOR"})
"""What a client may set in its TUI's environment (with TERM and any LC_*)."""

_DROPPED_ENV = frozenset({"TERM", "COLORTERM", "NO_COLOR", "COLUMNS", "LINES", "TMUX", "TMUX_PANE"})


class GatewayError(Exception):
    """The gateway cannot start, with a sentence for the operator."""


@dataclass
class SshSettings:
    """What `warroom serve --ssh-port` asks of the gateway."""

    port: int
    session_command: Sequence[str]
    """The program each session runs, as the start of its argv (e.g. `[sys.executable, "-m",
    "warroom", "join"]`): the gateway adds the hub's URL and, if the SSH user name picks one, the
    incident. It runs on the session's PTY as the leader of a new session, with `child_env`, and
    must take the PTY as its controlling terminal, or the kernel tells it of no resize."""
    host_key: Path | None = None
    """The host key file (default: under the user data directory; made on first use)."""
    on_ready: Callable[[str, int, str], None] | None = None
    """Called with (host, port, host key fingerprint) once the gateway listens."""
    announce: Callable[[str], None] | None = None
    """Told, in one line, of each session that opens or ends and each refused login."""


def default_host_key() -> Path:
    """The host key's default path, beside the default database."""
    return Path(platformdirs.user_data_dir("warroom")) / "ssh_host_ed25519_key"


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The host key in `path`, made (ed25519, mode 0600) if there is none yet.

    Raises:
        GatewayError: if the file cannot be read, made, or is not a private key.
    """
    try:
        return asyncssh.read_private_key(path)
    except FileNotFoundError:
        pass
    except (OSError, asyncssh.KeyImportError, ValueError) as error:
        raise GatewayError(f"cannot use the SSH host key {path}: {error}") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="warroom host key")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked in: a crash never leaves half a key, and
        # two servers starting at once keep the same one.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.export_private_key())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            partial.unlink()
            return load_host_key(path)
        partial.unlink()
    except OSError as error:
        raise GatewayError(f"cannot create the SSH host key {path}: {error}") from None
    return key


def incident_of(username: str) -> str | None:
    """The incident an SSH user name picks (`INC-7`), or None for the lobby."""
    return username.upper() if _INCIDENT.fullmatch(username) else None


def child_env(term: str, client: Mapping[str, str], token: str) -> dict[str, str]:
    """The environment of a session's TUI: the server's, less its terminal and warroom settings,
    plus the client's terminal type, locale and colour settings, and the session token."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WARROOM_", "TEXTUAL", "SSH_")) and key not in _DROPPED_ENV
    }
    for key, value in client.items():
        if (key in _PASSED_ENV or key.startswith("LC_")) and _safe(key) and _safe(value):
            env[key] = value
    env["TERM"] = term if term and _safe(term) else "xterm"
    env["WARROOM_TOKEN"] = token
    return env


def _safe(text: str) -> bool:
    return len(text) <= 200 and text.isprintable()


class Gateway:
    """The SSH server of one hub: listens, logs users in by key, runs a TUI per session."""

    def __init__(self, hub: Hub, url: str, settings: SshSettings) -> None:
        self.hub = hub
        self.url = url
        """The hub's websocket URL, as the children on this host reach it."""
        self.settings = settings
        self.sessions: set[TerminalSession] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.host_key: asyncssh.SSHKey | None = None
        self.port = 0
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._reaping: set[asyncio.Task[None]] = set()

    @property
    def fingerprint(self) -> str:
        """The host key's SHA256 fingerprint, as `ssh` shows it."""
        assert self.host_key is not None
        return str(self.host_key.get_fingerprint("sha256"))

    def announce(self, line: str) -> None:
        if self.settings.announce is not None:
            self.settings.announce(line)

    async def start(self, host: str) -> None:
        """Listen on `host` and the settings' port.

        Raises:
            GatewayError: if the host key cannot be used or the port cannot be bound.
        """
        path = self.settings.host_key or default_host_key()
        self.host_key = await asyncio.to_thread(load_host_key, path)
        try:
            self._acceptor = await asyncssh.listen(
                host,
                self.settings.port,
                server_factory=lambda: _Login(self),
                server_host_keys=[self.host_key],
                encoding=None,
                public_key_auth=True,
                password_auth=False,
                kbdint_auth=False,
                gss_auth=False,
                host_based_auth=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                server_version="warroom",
                login_timeout=30,
                keepalive_interval=15,
                keepalive_count_max=4,
            )
        except OSError as error:
            raise GatewayError(
                f"cannot listen for SSH on {host}:{self.settings.port}: {error.strerror or error}"
            ) from None
        self.port = self._acceptor.get_port()
        self._watcher = asyncio.create_task(self._watch_users())
        if self.settings.on_ready is not None:
            self.settings.on_ready(host, self.port, self.fingerprint)

    async def close(self) -> None:
        """Stop listening, end every session (their TUIs are hung up, then killed), and wait."""
        if self._watcher is not None:
            self._watcher.cancel()
        if self._acceptor is not None:
            self._acceptor.close()
        ending = list(self.sessions)
        for session in ending:
            session.end("the war room is shutting down")
        # A session's connection is left to its client, which closes it once it has the reason
        # and the exit status (closing it here could cut both off); the others go now.
        held: set[SSHConnection] = {s.chan.get_connection() for s in ending if s.chan is not None}
        for connection in [c for c in self.connections if c not in held]:
            connection.close()  # logging in, or refused and lingering
        if held:
            closing = [asyncio.ensure_future(c.wait_closed()) for c in held]
            await asyncio.wait(closing, timeout=HANGUP_GRACE)
            for lingering in held:
                lingering.close()
            for task in closing:
                task.cancel()
        if self._reaping:
            await asyncio.wait(set(self._reaping), timeout=HANGUP_GRACE * 3)
        if self._acceptor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), HANGUP_GRACE)

    def reap(self, job: asyncio.Task[None]) -> None:
        """Keep a child's reaper alive until it is done (and wait for it at close)."""
        self._reaping.add(job)
        job.add_done_callback(self._reaping.discard)

    async def _watch_users(self) -> None:
        """End the sessions of users who were revoked since they logged in."""
        while True:
            await asyncio.sleep(USER_POLL)
            if not self.sessions:
                continue
            try:
                users = await asyncio.to_thread(self.hub.store.users.states)
            except Exception as error:
                log.warning("warroom: ssh: could not read the users: %s", error)
                continue
            for session in list(self.sessions):
                if users.get(session.user) is None:
                    session.end("your access was revoked")


class _Login(asyncssh.SSHServer):
    """One SSH connection: public-key login against the users table; sessions; no forwarding."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.user: str | None = None
        self.peer = "?"
        self.username = ""
        self.offered: list[str] = []
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.gateway.connections.add(conn)
        peer = conn.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.gateway.connections.discard(self.conn)
        if self.user is None and self.offered:
            self.gateway.announce(
                f"ssh: refused {self.peer}: no user has the key {', '.join(self.offered)}"
            )

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Called for every key the client offers, and again for the one it signs with; the
        # last key accepted is the one the login succeeds with.
        try:
            actor = await asyncio.to_thread(
                self.gateway.hub.store.users.actor_for_key, key.public_data
            )
        except Exception as error:
            log.warning("warroom: ssh: could not check a key of %s: %s", self.peer, error)
            return False
        if actor is None:
            fingerprint = str(key.get_fingerprint("sha256"))
            if fingerprint not in self.offered:
                self.offered.append(fingerprint)
            return False
        self.user = actor.name
        return True

    def session_requested(self) -> TerminalSession | bool:
        if self.user is None:  # pragma: no cover - asyncssh opens sessions only after login
            return False
        return TerminalSession(self.gateway, self.user, self.username, self.peer)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self._refused_forwarding(f"to {dest_host}:{dest_port}")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, _NO_FORWARDING)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self._refused_forwarding(f"from {listen_host}:{listen_port}")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self._refused_forwarding(f"to {dest_path}")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, _NO_FORWARDING)

    def unix_server_requested(self, listen_path: str) -> bool:
        self._refused_forwarding(f"from {listen_path}")
        return False

    def _refused_forwarding(self, what: str) -> None:
        self.gateway.announce(f"ssh: refused {self.user} ({self.peer}) a forwarding {what}")


class TerminalSession(asyncssh.SSHServerSession[bytes]):
    """One SSH session: a PTY with a `warroom join` child on it, its bytes carried both ways."""

    def __init__(self, gateway: Gateway, user: str, username: str, peer: str) -> None:
        self.gateway = gateway
        self.user = user
        """Who the key says this is."""
        self.username = username
        """The SSH user name: picks an incident, or nothing."""
        self.peer = peer
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term = ""
        self.size: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.has_pty = False
        self.command: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.master: int | None = None
        self.token: str | None = None
        self.ended = False
        self._pending = bytearray()
        """Keystrokes the PTY did not take yet (the client is paused meanwhile)."""
        self._reading = False

    # asyncssh's callbacks --------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping[int, int]
    ) -> bool:
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
        elif len(self.gateway.sessions) >= MAX_SESSIONS:
            self._refuse("the war room is full here; try again in a moment")
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
                _set_size(self.master, self.size)

    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    # The child -------------------------------------------------------------------------------

    def _spawn(self) -> None:
        gateway = self.gateway
        incident = incident_of(self.username)
        self.token = gateway.hub.session_token(self.user)
        assert self.chan is not None
        env = child_env(self.term, self.chan.get_environment(), self.token)
        master, slave = os.openpty()
        self.master = master
        try:
            _set_size(slave, self.size)
            self.process = subprocess.Popen(
                [*gateway.settings.session_command, gateway.url, *([incident] if incident else [])],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        gateway.sessions.add(self)
        self._start_reading()
        gateway.announce(
            f"ssh: {self.user} opened {incident or 'the lobby'} from {self.peer} "
            f"(pid {self.process.pid})"
        )

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
            self.gateway.reap(task)
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
        status = await _wait(process, HANGUP_GRACE)
        if status is None:  # its terminal is closed and yet it runs: end it
            _signal_group(process, signal.SIGKILL)
            status = await _wait(process, HANGUP_GRACE) or -signal.SIGKILL
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
        self.gateway.sessions.discard(self)
        if self.token is not None:
            self.gateway.hub.end_session_token(self.token)
            self.token = None
        self._close_master()
        process = self.process
        if process is not None and process.returncode is None:
            _signal_group(process, signal.SIGHUP)
            self.gateway.reap(asyncio.get_running_loop().create_task(self._reap(process)))
        if process is not None:
            self.gateway.announce(f"ssh: {self.user} left (pid {process.pid})")

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

    @staticmethod
    async def _reap(process: subprocess.Popen[bytes]) -> None:
        if await _wait(process, HANGUP_GRACE) is None:
            _signal_group(process, signal.SIGKILL)
            await _wait(process, HANGUP_GRACE)


def _set_size(fd: int, size: tuple[int, int, int, int]) -> None:
    width, height, pixwidth, pixheight = (min(max(value, 0), 0xFFFF) for value in size)
    if not width or not height:
        width, height = DEFAULT_SIZE
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, pixwidth, pixheight))


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # The child leads a session and a process group of its own (start_new_session).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


async def _wait(process: subprocess.Popen[bytes], within: float) -> int | None:
    """The child's exit status once it has ended (reaped), or None if it runs past `within` s."""
    deadline = time.monotonic() + within
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(REAP_POLL)
    return process.returncode
