"""What SSH costs a responder: time from `ssh` to the war room on screen, and memory per session,
beside the same TUI started directly (`warroom join`) on a local PTY.

A real `warroom serve --port 0 --ssh-port 0` (a subprocess, on a SQLite file in a temporary
folder, with one incident and N responders, each with a token and an ed25519 key made by
`ssh-keygen`) serves both ways of joining:

- ssh: the real OpenSSH client, `ssh -tt -p PORT -i KEY INC-1@127.0.0.1`, on a PTY of its own
  (120x36, TERM=xterm-256color); the gateway runs the TUI on the server's side.
- local_pty: `warroom join URL INC-1` with the user's token, on a PTY of its own (same size and
  TERM): the baseline, a TUI without SSH.

1. first paint: one session at a time, `--runs` times each way, timed from starting the process
   until its PTY output (escape sequences stripped) holds the incident's title and "online":
   the war room painted, synced with the hub. Median and every run.
2. N at once (default 20): all started together; the time until the last one painted, each
   one's paint time under that load, then, once they have all painted and run for a while,
   memory per session: (the TUIs' resident memory + the server's growth since before the N
   started) / N. The TUIs are the server's children (ssh) or the benchmark's (local_pty); RSS
   counts the pages TUIs share (the interpreter, libraries) once per TUI, PSS splits them. The
   ssh clients are on the user's side and are not counted. Then every client is closed and the
   TUIs left over are counted (0 expected: the gateway ends a TUI when its link drops).

Each way gets a fresh server on a copy of the same database, so one's memory does not hide in
the other's.

Run: `python -m bench.ssh [--runs R] [--sessions N]`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import fcntl
import json
import os
import platform
import re
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncssh

WIDTH, HEIGHT = 120, 36
TITLE = "SSH bench: checkout failing in EU"
INCIDENT = "INC-1"
PAINT_TIMEOUT = 120.0
SETTLE = 3.0
"""Seconds every session keeps running, painted, before memory is read."""
GONE_TIMEOUT = 15.0

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\|\x1b[@-Z\\-_=>]"
)
_SERVING = re.compile(r"^warroom: serving (ws://\S+) ")
_SSH = re.compile(r"^warroom: ssh (\S+):(\d+) ")


def _warroom() -> list[str]:
    script = Path(sys.executable).parent / "warroom"
    return [str(script)] if script.exists() else [sys.executable, "-m", "warroom"]


def _env(folder: Path) -> dict[str, str]:
    """A private HOME and XDG dirs, no WARROOM_*/TEXTUAL settings, a known terminal."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WARROOM_", "TEXTUAL", "SSH_"))
        and key not in ("TMUX", "TMUX_PANE", "COLUMNS", "LINES", "COLORTERM", "NO_COLOR")
    }
    for name in ("home", "config", "data", "cache", "state"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(folder / "home"),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CACHE_HOME=str(folder / "cache"),
        XDG_STATE_HOME=str(folder / "state"),
        TERM="xterm-256color",
        LANG="C.UTF-8",
        LOGNAME="bench",
        USER="bench",
    )
    return env


def _check(argv: Sequence[str], env: dict[str, str], **options: Any) -> str:
    result = subprocess.run(
        list(argv), env=env, capture_output=True, text=True, timeout=60, check=False, **options
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed: {result.stderr.strip()}")
    return result.stdout


# Memory -------------------------------------------------------------------------------------------


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process, in bytes (PSS is 0 where the kernel does not tell)."""
    rss = pss = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    return rss, pss


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _mb(value: float) -> float:
    return round(value / 1024 / 1024, 1)


# Processes on PTYs --------------------------------------------------------------------------------


class Term:
    """A process on a PTY of its own; its output is read (so it never blocks) and checked."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        self.text = ""
        self.painted: float | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self) -> bool:
        """Read what is there; False once the PTY is closed."""
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        if self.painted is None:
            self.text += self._decoder.decode(data)
            plain = _ESCAPES.sub("", self.text)
            if TITLE in plain and "online" in plain:
                self.painted = time.perf_counter() - self.started
                self.text = ""
        return True

    def close(self) -> None:
        """Hang the process up (as closing a terminal does), then kill it if it lingers."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGHUP)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)


def _pump(terms: Sequence[Term], until: float, stop_when_painted: bool) -> None:
    """Read every PTY until `until` (perf_counter), or until all painted if asked."""
    selector = selectors.DefaultSelector()
    for term in terms:
        selector.register(term.master, selectors.EVENT_READ, term)
    try:
        while True:
            if stop_when_painted and all(t.painted is not None for t in terms):
                return
            left = until - time.perf_counter()
            if left <= 0:
                return
            for key, _ in selector.select(min(left, 0.05)):
                term = key.data
                if not term.feed():
                    selector.unregister(term.master)
                    if term.painted is None:
                        raise RuntimeError(
                            f"a session ended before it painted:\n{_ESCAPES.sub('', term.text)}"
                        )
    finally:
        selector.close()


# The server ---------------------------------------------------------------------------------------


class Server:
    """`warroom serve --port 0 --ssh-port 0` on a database, until closed."""

    def __init__(self, db: Path, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [*_warroom(), "serve", "--port", "0", "--ssh-port", "0", "--db", str(db)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = ""
        self.ssh_port = 0
        deadline = time.monotonic() + 30
        while not (self.url and self.ssh_port):
            line = self.proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError(f"warroom serve did not start: {log.read_text()}")
            if found := _SERVING.match(line):
                self.url = found.group(1)
            elif found := _SSH.match(line):
                self.ssh_port = int(found.group(2))
        # What it prints from now on (a line per session) is read and dropped, so that its
        # pipe never fills up.
        stdout = self.proc.stdout
        self._drain = threading.Thread(target=lambda: stdout.read(), daemon=True)
        self._drain.start()

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._drain.join(10)
        self._log.close()


# The benchmark ------------------------------------------------------------------------------------


def _prepare(folder: Path, env: dict[str, str], sessions: int) -> dict[str, Any]:
    """A database with an incident and N responders (token and key each)."""
    keygen = shutil.which("ssh-keygen")
    assert keygen is not None
    db = folder / "bench.db"
    add = [*_warroom(), "user", "add", "--db", str(db)]
    manager = _check([*add, "im", "--role", "incident-manager"], env).strip()
    users: list[dict[str, str]] = []
    for n in range(sessions):
        key = folder / "keys" / f"r{n}"
        key.parent.mkdir(exist_ok=True)
        _check([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], env)
        token = _check([*add, f"r{n}", "--role", "responder", "--ssh-key", f"{key}.pub"], env)
        token = token.strip()
        users.append({"name": f"r{n}", "token": token, "key": str(key)})
    server = Server(db, env, folder / "seed.log")
    try:
        hub = ["--url", server.url, "--token", manager]
        _check([*_warroom(), "declare", TITLE, "-s", "1", "--app", "checkout", *hub], env)
        for n in range(5):
            _check([*_warroom(), "note", INCIDENT, f"seed note {n}", *hub], env)
    finally:
        server.close()
    return {"db": db, "users": users}


def _ssh_argv(port: int, key: str, known_hosts: Path) -> list[str]:
    ssh = shutil.which("ssh")
    assert ssh is not None
    return [
        ssh, "-tt", "-F", "/dev/null", "-p", str(port), "-i", key,
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=accept-new", "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "HostKeyAlias=warroom-bench",
        f"{INCIDENT}@127.0.0.1",
    ]  # fmt: skip


def _way(
    way: str, folder: Path, env: dict[str, str], seeded: dict[str, Any], runs: int, sessions: int
) -> dict[str, Any]:
    """Both measurements for one way of joining, on a fresh server."""
    db = folder / f"{way}.db"
    shutil.copyfile(seeded["db"], db)
    server = Server(db, env, folder / f"{way}.log")
    known_hosts = folder / f"{way}_known_hosts"
    users = seeded["users"]

    def argv(n: int) -> list[str]:
        user = users[n % len(users)]
        if way == "ssh":
            return _ssh_argv(server.ssh_port, user["key"], known_hosts)
        return [*_warroom(), "join", server.url, INCIDENT, "--token", user["token"]]

    def tuis(terms: Sequence[Term]) -> set[int]:
        if way == "ssh":
            return _children(server.proc.pid)
        return {t.proc.pid for t in terms if t.proc.poll() is None}

    try:
        if way == "ssh":
            # Pin the host key once, so that clients starting together do not race to.
            pin = [*argv(0)[:-1], "-T", f"{INCIDENT}@127.0.0.1", "true"]
            subprocess.run(pin, env=env, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        # 1. One at a time.
        paints: list[float] = []
        for run in range(runs):
            term = Term(argv(run), env)
            try:
                _pump([term], time.perf_counter() + PAINT_TIMEOUT, stop_when_painted=True)
                if term.painted is None:
                    raise RuntimeError(f"{way}: no paint within {PAINT_TIMEOUT}s")
                paints.append(term.painted)
            finally:
                term.close()
            _wait_gone(lambda: tuis([]) if way == "ssh" else set())

        # 2. N at once.
        server_before = _memory(server.proc.pid)
        started = time.perf_counter()
        terms = [Term(argv(n), env) for n in range(sessions)]
        try:
            _pump(terms, started + PAINT_TIMEOUT, stop_when_painted=True)
            unpainted = sum(t.painted is None for t in terms)
            if unpainted:
                raise RuntimeError(f"{way}: {unpainted} of {sessions} never painted")
            all_painted = time.perf_counter() - started
            _pump(terms, time.perf_counter() + SETTLE, stop_when_painted=False)
            running = tuis(terms)
            if len(running) != sessions:
                raise RuntimeError(f"{way}: {len(running)} TUIs run, not {sessions}")
            tui_memory = [_memory(pid) for pid in running]
            server_after = _memory(server.proc.pid)
        finally:
            for term in terms:
                term.close()
        leftover = _wait_gone(lambda: tuis([]) if way == "ssh" else set())
    finally:
        server.close()

    growth = server_after[0] - server_before[0]
    tui_rss = sum(rss for rss, _ in tui_memory)
    tui_pss = sum(pss for _, pss in tui_memory)
    concurrent = [t.painted or 0.0 for t in terms]
    return {
        "first_paint_s": {
            "median": round(statistics.median(paints), 3),
            "all": [round(p, 3) for p in paints],
        },
        f"{sessions}_at_once": {
            "all_painted_s": round(all_painted, 2),
            "paint_s_median": round(statistics.median(concurrent), 2),
            "paint_s_max": round(max(concurrent), 2),
            "per_session_mb": {
                "rss": _mb((tui_rss + growth) / sessions),
                "pss": _mb((tui_pss + max(server_after[1] - server_before[1], 0)) / sessions),
                "tui_rss": _mb(tui_rss / sessions),
                "server_growth": round(growth / sessions / 1024 / 1024, 2),
            },
            "server_rss_mb": {"before": _mb(server_before[0]), "after": _mb(server_after[0])},
            "tuis_left_after_close": len(leftover),
        },
    }


def _wait_gone(running: Any) -> set[int]:
    deadline = time.monotonic() + GONE_TIMEOUT
    left: set[int] = running()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = running()
    return left


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its results."""
    parser = argparse.ArgumentParser(prog="python -m bench.ssh", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="first paints timed one at a time")
    parser.add_argument("--sessions", type=int, default=20, help="sessions opened at once")
    args = parser.parse_args(argv)
    if min(args.runs, args.sessions) < 1:
        parser.error("--runs and --sessions must be positive")
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return {"bench": "ssh", "skipped": f"{tool} is not installed (openssh-client)"}

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="warroom-bench-ssh-") as name:
        folder = Path(name)
        env = _env(folder)
        seeded = _prepare(folder, env, args.sessions)
        ways = {
            way: _way(way, folder, env, seeded, args.runs, args.sessions)
            for way in ("local_pty", "ssh")
        }
    ssh_way, local = ways["ssh"], ways["local_pty"]
    at_once = f"{args.sessions}_at_once"
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {
        "bench": "ssh",
        "ssh": ssh_way,
        "local_pty": local,
        "ssh_overhead": {
            "first_paint_s": round(
                ssh_way["first_paint_s"]["median"] - local["first_paint_s"]["median"], 3
            ),
            "per_session_rss_mb": round(
                ssh_way[at_once]["per_session_mb"]["rss"] - local[at_once]["per_session_mb"]["rss"],
                1,
            ),
        },
        "sessions": args.sessions,
        "runs": args.runs,
        "terminal": f"{WIDTH}x{HEIGHT}",
        "cores": os.cpu_count(),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "asyncssh": asyncssh.__version__,
        "openssh": openssh,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    json.dump(run(argv), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
