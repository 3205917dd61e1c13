"""Real terminal clients in tmux: `warroom join` runs in a detached tmux pane, keys go in with
`tmux send-keys`, the screen comes back with `tmux capture-pane -p`.

Every test gets a private tmux server (its own socket, `tmux -L NAME`), so no session of the
developer's is ever touched and teardown is one `kill-server`. A pane keeps its last screen when
its process exits (`remain-on-exit`), so a client that crashed leaves its traceback to read.
Every wait is a bounded poll of the screen.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.kit.harness import WARROOM

TMUX = shutil.which("tmux")
"""The tmux binary, or None (the tests that need it are skipped)."""

WIDTH, HEIGHT = 120, 36
POLL = 0.05
TMUX_TIMEOUT = 10.0

ONLINE = "● online"
OFFLINE = "✕ OFFLINE"

_DROPPED = ("TMUX", "TMUX_PANE", "COLUMNS", "LINES", "LC_ALL", "LC_CTYPE", "NO_COLOR")


def terminal_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a client in a pane: the harness's private HOME and XDG dirs, no
    WARROOM_* settings (the URL and token go on the command line), a known terminal."""
    clean = {
        key: value
        for key, value in env.items()
        if not key.startswith(("WARROOM_", "TEXTUAL")) and key not in _DROPPED
    }
    clean.update(TERM="xterm-256color", LANG="C.UTF-8", COLORTERM="truecolor")
    return clean


class Screen:
    """One capture of a pane: its lines, with helpers to find things in them."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __contains__(self, needle: str) -> bool:
        return needle in self.text

    def count(self, needle: str) -> int:
        """How many timeline rows show `needle` (the detail line under the timeline, which
        repeats the highlighted row, is left out)."""
        rows = [line for line in self.lines if re.search(r"│ \d\d:\d\d  ", line)]
        return sum(line.count(needle) for line in rows)

    def line_with(self, needle: str) -> str | None:
        """The first line containing `needle`."""
        return next((line for line in self.lines if needle in line), None)

    def presence(self) -> set[str] | None:
        """The names in the war room header's `in room: ...` (None: no header on screen)."""
        line = self.line_with("in room: ")
        if line is None:
            return None
        names = line.split("in room: ", 1)[1].strip()
        return set() if names == "-" else {name.strip() for name in names.split(",")}

    def panel(self, title: str) -> list[str]:
        """The lines of the bordered panel whose top border holds `title`, borders included
        (the title line first, the bottom border last)."""
        for top, line in enumerate(self.lines):
            column = line.find(f"╭─ {title}")
            if column < 0:
                continue
            end = line.find("╮", column)
            region = [line[column : end + 1]]
            for below in self.lines[top + 1 :]:
                part = below[column : end + 1]
                region.append(part)
                if part.startswith("╰"):
                    break
            return region
        return []


class Pane:
    """A `warroom join` (or any command) running in a tmux session of its own."""

    def __init__(self, tmux: Tmux, name: str) -> None:
        self.tmux = tmux
        self.name = name
        self.pid = int(tmux.run("display-message", "-p", "-t", self.target, "#{pane_pid}").stdout)

    @property
    def target(self) -> str:
        return f"={self.name}:"

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name (`n`, `C-s`, `End`, `Escape`)."""
        self.tmux.run("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        """Type `text` literally (`--` so a leading '-' is not read as an option)."""
        self.tmux.run("send-keys", "-t", self.target, "-l", "--", text)

    def capture(self) -> Screen:
        """What the pane shows now."""
        out = self.tmux.run("capture-pane", "-p", "-t", self.target).stdout
        return Screen(out.rstrip("\n").split("\n"))

    def dead(self) -> bool:
        """True if the pane's process has exited."""
        return self.dead_status() is not None

    def dead_status(self) -> int | None:
        """The exit status of the pane's process, or None while it runs."""
        out = self.tmux.run(
            "display-message", "-p", "-t", self.target, "#{pane_dead} #{pane_dead_status}"
        ).stdout.split()
        return int(out[1]) if len(out) == 2 and out[0] == "1" else None

    def wait_for(
        self, check: Callable[[Screen], bool], what: str, timeout: float = 5.0
    ) -> tuple[Screen, float]:
        """Poll the screen until `check` holds; return it and the seconds waited.

        Raises:
            AssertionError: with the last screen, if it does not hold within `timeout`.
        """
        started = time.monotonic()
        deadline = started + timeout
        while True:
            screen = self.capture()
            if check(screen):
                return screen, time.monotonic() - started
            if time.monotonic() >= deadline:
                status = " (its process has exited)" if self.dead() else ""
                raise AssertionError(
                    f"pane {self.name}{status}: not {what} within {timeout}s; "
                    f"it shows:\n{screen.text}"
                )
            time.sleep(POLL)

    def wait_text(self, needle: str, timeout: float = 5.0) -> Screen:
        """Wait until `needle` is on screen."""
        return self.wait_for(lambda s: needle in s, f"showing {needle!r}", timeout)[0]

    def hold(self, check: Callable[[Screen], bool], what: str, duration: float) -> Screen:
        """Check the screen keeps satisfying `check` for `duration` seconds."""
        deadline = time.monotonic() + duration
        while True:
            screen = self.capture()
            assert check(screen), f"pane {self.name}: no longer {what}; it shows:\n{screen.text}"
            if time.monotonic() >= deadline:
                return screen
            time.sleep(POLL)


class Tmux:
    """A private tmux server for one test."""

    def __init__(self) -> None:
        assert TMUX is not None, "tmux is not installed"
        self.socket = f"warroom-e2e-{uuid.uuid4().hex[:12]}"
        self.panes: list[Pane] = []
        self.socket_path: Path | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one tmux command on this server; it must succeed."""
        assert TMUX is not None
        result = subprocess.run(
            [TMUX, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=TMUX_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, f"tmux {' '.join(args)}: {result.stderr.strip()}"
        return result

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Pane:
        """Start `argv` in a new detached WIDTHxHEIGHT session, in exactly `env`."""
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        command = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items())), *argv]
        self.run(
            "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
            shlex.join(command),
            ";", "set-option", "-w", "-t", f"={name}:", "remain-on-exit", "on",
        )  # fmt: skip
        if self.socket_path is None:
            where = self.run("display-message", "-p", "#{socket_path}").stdout.strip()
            self.socket_path = Path(where)
        pane = Pane(self, name)
        self.panes.append(pane)
        return pane

    def join(
        self,
        name: str,
        url: str,
        token: str,
        env: dict[str, str],
        incident: str | None = None,
        observer: bool = False,
    ) -> Pane:
        """`warroom join URL [INCIDENT] --token TOKEN [--observer]` in a pane of its own."""
        argv = [WARROOM, "join", url, *([incident] if incident else []), "--token", token]
        if observer:
            argv.append("--observer")
        return self.spawn(name, argv, terminal_env(env))

    def screens(self) -> str:
        """Every pane's screen, for failure messages."""
        parts = []
        for pane in self.panes:
            try:
                parts.append(f"--- {pane.name} ---\n{pane.capture().text}")
            except (AssertionError, subprocess.SubprocessError) as error:
                parts.append(f"--- {pane.name}: cannot capture: {error}")
        return "\n".join(parts)

    def close(self) -> None:
        """Kill the server (its panes' processes get SIGHUP); SIGKILL any that outlive it; remove
        the socket file (tmux leaves it behind)."""
        if TMUX is None:
            return
        subprocess.run(
            [TMUX, "-L", self.socket, "kill-server"],
            capture_output=True,
            timeout=TMUX_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 3.0
        for pane in self.panes:
            while _alive(pane.pid) and time.monotonic() < deadline:
                time.sleep(POLL)
            if _alive(pane.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pane.pid, signal.SIGKILL)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """True if `pid` runs (a zombie waiting for a parent to reap it counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
