"""The end-to-end harness: real `warroom` processes talking to a real `warroom serve` hub.

Every test gets its own HOME, XDG directories, database and hub on a free port; nothing is read
from or written to the developer's own configuration. The local zone is Europe/Paris (never UTC,
so a time printed in UTC instead of local time is caught). Every wait has a deadline.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TypeVar

import pytest

WARROOM = str(Path(sys.executable).parent / "warroom")
"""The installed console script, next to the interpreter running the tests."""

MANAGER = "alice"
"""The incident manager's name: `warroom serve` names it after the login name (LOGNAME)."""

ZONE = "Europe/Paris"
T = TypeVar("T")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0

_SERVING = re.compile(r"^warroom: serving (wss?://\S+) ")
_SSH = re.compile(r"^warroom: ssh (\S+):(\d+) \(host key (SHA256:\S+)\)")


def isolated_env(root: Path) -> dict[str, str]:
    """The environment of every process a test starts: private dirs, a fixed zone and user."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WARROOM_")}
    for name in ("home", "config", "data", "cache", "state"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_STATE_HOME=str(root / "state"),
        TZ=ZONE,
        LOGNAME=MANAGER,
        USER=MANAGER,
        PYTHONUNBUFFERED="1",
    )
    return env


def warroom(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `warroom ARGS` to completion; no warroom process may ever print a traceback."""
    result = subprocess.run(
        [WARROOM, *args],
        env=env,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, f"warroom {' '.join(args)}:\n{result.stderr}"
    return result


def concurrently(*calls: Callable[[], T]) -> list[T]:
    """Run independent calls (e.g. CLI processes) at once; return their results in order."""
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result(timeout=COMMAND_TIMEOUT * 2) for future in futures]


def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago): one a client finds closed,
    or one a listener may take."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Lines:
    """Reads a text pipe on a thread; each line keeps the monotonic time it arrived.

    Waits never block past their deadline. Every line consumed is kept in `seen`.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        self.closed = False
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            self._queue.put((time.monotonic(), line.rstrip("\n")))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> tuple[float, str]:
        """Consume lines until one satisfies `predicate`; return (arrival time, line).

        Raises:
            TimeoutError: if no such line arrived in time.
            EOFError: if the stream ended first.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching line in {timeout}s; saw {self.texts()!r}")
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(
                    f"no matching line in {timeout}s; saw {self.texts()!r}"
                ) from None
            if item is None:
                self.closed = True
                raise EOFError(f"the stream ended; saw {self.texts()!r}")
            self.seen.append(item)
            if predicate(item[1]):
                return item

    def drain(self, duration: float) -> list[str]:
        """Consume whatever arrives during `duration` seconds; return those lines."""
        deadline = time.monotonic() + duration
        got: list[str] = []
        while not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is None:
                self.closed = True
                break
            self.seen.append(item)
            got.append(item[1])
        return got

    def texts(self) -> list[str]:
        """Every line consumed so far."""
        return [text for _, text in self.seen]

    def join(self, timeout: float) -> None:
        """Wait (bounded) for the reader thread to see the end of the stream."""
        self._thread.join(timeout)


class Spawned:
    """A long-running `warroom` process (e.g. `tail`) with its stdout read on a thread."""

    def __init__(self, args: list[str], env: dict[str, str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [WARROOM, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        self.lines = Lines(self.proc.stdout)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def interrupt(self, timeout: float = STOP_TIMEOUT) -> int:
        """Ctrl-C the process (SIGINT) and return its exit code; kill it if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            raise

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        self.lines.join(STOP_TIMEOUT)
        self._stderr.close()


class Hub:
    """A `warroom serve` process on a private database, and helpers to drive it with the CLI.

    Attributes:
        url: the hub's websocket URL (ws://127.0.0.1:PORT).
        port: the port it listens on (kept across restarts).
        token: the incident manager's token, printed by the first start.
        output: the server's stdout lines of the current run.
        ssh_port: the SSH gateway's port (0: serve runs without one).
        host_key: the SSH host key's fingerprint, as the current run printed it.
    """

    def __init__(self, root: Path, env: dict[str, str], database: str = "") -> None:
        self.root = root
        self.env = env
        self.db = root / "w.db"
        self.database = database or str(self.db)
        """What `--db` names: the SQLite file `db`, or the URL of a database given."""
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.url = ""
        self.port = 0
        self.token = ""
        self.output: Lines | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.runs = 0
        self.ssh = False
        self.ssh_port = 0
        self.host_key = ""
        self.options: list[str] = []
        """More options for `warroom serve`, on every start."""
        self.start_timeout = START_TIMEOUT
        """How long a start may take to say where it listens (a benchmark on a machine kept
        busy by other work waits longer than a test does)."""
        self._stderr: IO[str] | None = None
        self._spawned: list[Spawned] = []

    # The server -------------------------------------------------------------------------------

    def start(
        self, port: int | None = None, expect_token: bool | None = None, ssh: bool | None = None
    ) -> None:
        """Start `warroom serve` (on `port`, default: any free one) and wait until it listens.

        The first start on an empty database prints the incident manager's token: it is read
        into `token` (`expect_token` overrides whether to wait for it). With `ssh` (kept for
        later starts) it also serves SSH, on the port of the previous run or any free one.
        """
        assert self.proc is None or self.proc.poll() is not None, "the hub is already running"
        self.runs += 1
        if ssh is not None:
            self.ssh = ssh
        options = ["--ssh-port", str(self.ssh_port)] if self.ssh else []
        self._stderr = (self.logs / f"serve-{self.runs}.err").open("w")
        self.proc = subprocess.Popen(
            [
                WARROOM,
                "serve",
                *("--port", str(port or 0), "--db", self.database),
                *options,
                *self.options,
            ],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        self.output = Lines(self.proc.stdout)
        try:
            _, line = self.output.wait_for(
                lambda text: bool(_SERVING.match(text)), self.start_timeout
            )
        except (TimeoutError, EOFError) as error:
            self._stop_process(signal.SIGKILL)
            pytest.fail(f"warroom serve did not start: {error}\n{self.server_stderr()}")
        match = _SERVING.match(line)
        assert match is not None
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.ssh:
            # Printed right after the websocket address, before anything else.
            _, ssh_line = self.output.wait_for(lambda text: True, self.start_timeout)
            found = _SSH.match(ssh_line)
            assert found is not None, f"no SSH address after the websocket one: {ssh_line!r}"
            self.ssh_port = int(found.group(2))
            self.host_key = found.group(3)
        if expect_token is None:
            expect_token = not self.token
        if expect_token:
            # The first start on an empty database creates the incident manager (server/app.py).
            self.output.wait_for(
                lambda text: "created incident manager" in text, self.start_timeout
            )
            _, token_line = self.output.wait_for(lambda text: True, self.start_timeout)
            self.token = token_line.strip()
            assert self.token and " " not in self.token, token_line

    def stop(self) -> int:
        """SIGTERM the server, as an operator would; return its exit code."""
        return self._stop_process(signal.SIGTERM)

    def kill(self) -> int:
        """SIGKILL the server: no chance to flush or close anything."""
        return self._stop_process(signal.SIGKILL)

    def restart(self, hard: bool = False) -> None:
        """Stop the server (SIGTERM, or SIGKILL if `hard`) and start it on the same db and port."""
        code = self.kill() if hard else self.stop()
        if not hard:
            assert code == 0, f"warroom serve exited {code} on SIGTERM\n{self.server_stderr()}"
        self.start(self.port)

    def _stop_process(self, signum: int) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
                pytest.fail(f"warroom serve ignored signal {signum} for {STOP_TIMEOUT}s")
        if self.output is not None:
            self.output.join(STOP_TIMEOUT)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        code = self.proc.returncode
        assert code is not None
        return code

    def server_stderr(self) -> str:
        """Everything every run of the server wrote to stderr."""
        if self._stderr is not None:
            self._stderr.flush()
        return "".join(path.read_text() for path in sorted(self.logs.glob("serve-*.err")))

    def close(self) -> None:
        """Teardown: end every process this hub started, the server last."""
        for spawned in self._spawned:
            spawned.close()
        if self.proc is not None and self.proc.poll() is None:
            self._stop_process(signal.SIGTERM)

    # Clients ----------------------------------------------------------------------------------

    def client_env(self, token: str | None = None) -> dict[str, str]:
        """The environment of a client process: WARROOM_URL and WARROOM_TOKEN point here."""
        env = dict(self.env)
        env["WARROOM_URL"] = self.url
        env["WARROOM_TOKEN"] = self.token if token is None else token
        return env

    def run(
        self, *args: str, token: str | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a client verb as `token`'s user (default: the incident manager)."""
        return warroom(*args, env=self.client_env(token), input=input)

    def ok(self, *args: str, token: str | None = None, input: str | None = None) -> str:
        """Run a client verb that must succeed; return its stdout."""
        result = self.run(*args, token=token, input=input)
        assert result.returncode == 0, (
            f"warroom {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        )
        return result.stdout

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `warroom user ...` verb on this hub's database (no hub credentials)."""
        return warroom(*args, "--db", self.database, env=self.env)

    def user_add(self, name: str, role: str, *groups: str, ssh_key: Path | None = None) -> str:
        """Create a user (owning the public key `ssh_key`, if given); return the token it printed
        (alone on stdout)."""
        options = [f"--group={group}" for group in groups]
        if ssh_key is not None:
            options.append(f"--ssh-key={ssh_key}")
        result = self.admin("user", "add", name, f"--role={role}", *options)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].strip(), result.stdout
        return lines[0].strip()

    def spawn(self, *args: str, token: str | None = None) -> Spawned:
        """Start a long-running client verb (e.g. `tail`); it is ended at teardown."""
        index = len(self._spawned) + 1
        spawned = Spawned(list(args), self.client_env(token), self.logs / f"{args[0]}-{index}.err")
        self._spawned.append(spawned)
        return spawned
