"""The gateway's side of the pre-imported process (`Zygote`), and a TUI it forked (`Forked`).

The gateway starts the pre-imported process (`server.ssh.zygote`) as `SESSION_COMMAND
--fork-sessions FD`, on one end of a socket pair, and asks it for each session's TUI. It still
signals each TUI's process group, learns its exit status and has it reaped, as it does a TUI it
spawned: the process reports each child's pid, then its exit status, on the session's own socket.

Should the process die, the sessions it started carry on (they lead sessions of their own, and
say their exit code themselves); the gateway says so in its log and starts another. A session
whose request it never answered gets its TUI started afresh (`spawn`), as does every session if
the process cannot start at all (`WARROOM_SSH_FORK=0` asks for that too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence

from server.ssh.child import Spawned, server_env, start
from server.ssh.zygote import MAX_MESSAGE, READY

log = logging.getLogger(__name__)

FORK_SESSIONS = "--fork-sessions"
"""The option that makes the session command the pre-imported process, on the socket it names."""

UNKNOWN_STATUS = -signal.SIGKILL
"""The exit status of a TUI that ended without saying so, after its pre-imported parent died
(only a signal ends a TUI without its own word)."""


class Forked:
    """A session's TUI forked by the pre-imported process: its pid and exit status as that
    process (or the TUI itself) reports them on the session's socket.

    Until the pid arrives, the TUI's terminal end stays open here, so that, if the request is
    never answered, the TUI can still be started afresh on it (`Spawned`)."""

    def __init__(
        self,
        link: socket.socket,
        terminal: int,
        argv: Sequence[str],
        env: Mapping[str, str],
        on_pid: Callable[[int], None],
    ) -> None:
        self.link = link
        self.terminal: int | None = terminal
        self.argv = list(argv)
        self.env = dict(env)
        self.on_pid = on_pid
        self.pid: int | None = None
        self.returncode: int | None = None
        self.fallback: Spawned | None = None
        """The TUI started afresh, if the pre-imported process never answered."""
        self._pending_signal: int | None = None
        link.setblocking(False)
        asyncio.get_running_loop().add_reader(link, self._readable)

    def poll(self) -> int | None:
        """The exit status once the TUI ended, else None."""
        if self.fallback is not None:
            return self.fallback.poll()
        self._readable()
        return self.returncode

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the TUI's process group (once its pid is known)."""
        if self.fallback is not None:
            self.fallback.signal_group(signum)
        elif self.pid is None:
            self._pending_signal = signum
        elif self.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signum)

    def _readable(self) -> None:
        while self.link.fileno() >= 0:
            try:
                data = self.link.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._link_closed()
                return
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self._said(json.loads(data))

    def _said(self, message: dict[str, int]) -> None:
        if "pid" in message and self.pid is None:
            self.pid = int(message["pid"])
            self._close_terminal()
            self.on_pid(self.pid)
            if self._pending_signal is not None:
                self.signal_group(self._pending_signal)
        for key in ("status", "exit"):  # the first word on its end is the one kept
            if key in message and self.returncode is None:
                self.returncode = int(message[key])

    def _link_closed(self) -> None:
        asyncio.get_running_loop().remove_reader(self.link)
        self.link.close()
        if self.pid is None:
            # The pre-imported process died before it forked this TUI: start it afresh.
            assert self.terminal is not None
            try:
                self.fallback = start(self.argv, self.env, self.terminal)
            except OSError as error:
                log.warning("warroom: ssh: cannot start a TUI: %s", error)
                self.returncode = 1
            self._close_terminal()
            if self.fallback is not None:
                self.pid = self.fallback.process.pid
                self.on_pid(self.pid)
                if self._pending_signal is not None:
                    self.fallback.signal_group(self._pending_signal)
        elif self.returncode is None:
            self.returncode = UNKNOWN_STATUS

    def _close_terminal(self) -> None:
        if self.terminal is not None:
            os.close(self.terminal)
            self.terminal = None


class Zygote:
    """The pre-imported process of one gateway: started with it, restarted if it dies."""

    def __init__(self, command: Sequence[str], announce: Callable[[str], None]) -> None:
        self.command = list(command)
        self.announce = announce
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.ready = False
        """True once the process has imported everything and can fork sessions."""
        self.usable = True
        """False once it could not start: every TUI is then started afresh."""
        self._closing = False

    def start(self) -> None:
        """Start the process (it imports in the background; requests wait in its socket)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [*self.command, FORK_SESSIONS, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=server_env(),
                start_new_session=True,  # no Ctrl-C of the operator's terminal reaches it
            )
        except OSError as error:
            ours.close()
            self._unusable(f"it could not start: {error}")
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self.control = ours
        self.ready = False
        asyncio.get_running_loop().add_reader(ours, self._readable)

    def fork(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        terminal: int,
        on_pid: Callable[[int], None],
    ) -> Forked | None:
        """Ask the process for a TUI running `argv` with `env` on the PTY end `terminal` (which
        the caller keeps: `Forked` closes it once the TUI has it).

        Returns:
            The TUI, or None if the process cannot take the request now (start it afresh).
        """
        if not self.usable or self.control is None:
            return None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"argv": list(argv), "env": dict(env)}).encode()
        try:
            socket.send_fds(self.control, [request], [terminal, theirs.fileno()])
        except OSError as error:  # full, or the process is gone: `_readable` says which
            log.warning("warroom: ssh: the pre-imported process took no request: %s", error)
            ours.close()
            return None
        finally:
            theirs.close()
        return Forked(ours, terminal, argv, env, on_pid)

    def _readable(self) -> None:
        assert self.control is not None
        try:
            data = self.control.recv(MAX_MESSAGE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data == READY:
            self.ready = True
            return
        if data:
            return
        asyncio.get_running_loop().remove_reader(self.control)
        self.control.close()
        self.control = None
        was_ready = self.ready
        status = self._collect()
        if self._closing:
            return
        if not was_ready:
            self._unusable(f"it ended before it was ready ({status}): TUIs start afresh")
            return
        self.start()
        pid = self.process.pid if self.process is not None else "?"
        self.announce(
            f"ssh: the pre-imported session process ended ({status}); started another "
            f"(pid {pid}); open sessions carry on"
        )

    def _collect(self) -> str:
        """Reap the ended process; say how it ended."""
        process = self.process
        if process is None:
            return "not started"
        try:
            code = process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        return f"signal {-code}" if code < 0 else f"exit {code}"

    def _unusable(self, why: str) -> None:
        self.usable = False
        self.announce(f"ssh: the pre-imported session process is not used: {why}")

    async def close(self, within: float) -> None:
        """Close the control socket (the process then ends) and reap the process."""
        self._closing = True
        if self.control is not None:
            asyncio.get_running_loop().remove_reader(self.control)
            self.control.close()
            self.control = None
        process = self.process
        if process is None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), within)
        except TimeoutError:
            process.kill()
            await asyncio.to_thread(process.wait)


def wanted() -> bool:
    """False if the operator asked for every TUI to start afresh (`WARROOM_SSH_FORK=0`)."""
    return os.environ.get("WARROOM_SSH_FORK", "1") != "0"
