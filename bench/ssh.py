"""What SSH costs a responder: time from `ssh` to the war room on screen, and memory per session,
beside the same TUI started directly (`warroom join`) on a local PTY.

A real `warroom serve --port 0 --ssh-port 0` (a subprocess, on a SQLite file in a temporary
folder, with one incident and N responders, each with a token and an ed25519 key made by
`ssh-keygen`, written beforehand with the store and the pure core; started and driven as the
end-to-end tests do it, with `tests.kit`) serves both ways of joining:

- ssh: the real OpenSSH client, `ssh -tt -p PORT -i KEY INC-1@127.0.0.1`, on a PTY of its own
  (120x36, TERM=xterm-256color); the gateway runs the TUI on the server's side.
- ssh_spawn: the same, with the gateway told to start every TUI afresh (`WARROOM_SSH_FORK=0`),
  as it did before it forked them from its pre-imported process: the baseline for memory.
- local_pty: `warroom join URL INC-1` with the user's token, on a PTY of its own (same size and
  TERM): the baseline, a TUI without SSH, of a server that serves no SSH.

1. first paint: one session at a time, `--runs` times each way, timed from starting the process
   until its PTY output (escape sequences stripped) holds the incident's title and "online":
   the war room painted, synced with the hub. Median and every run. With `--runs 0` (the quick
   run) and one session, the paint of (2), that session alone, stands for it.
2. N at once (default 20): all started together; the time until the last one painted, each
   one's paint time under that load, then, once they have all painted and run for a while,
   memory per session: (the TUIs' resident memory + the server's growth since before the N
   started) / N. The TUIs are the server's children (ssh) or the benchmark's (local_pty); RSS
   counts the pages TUIs share (the interpreter, libraries) once per TUI, PSS splits them. The
   ssh clients are on the user's side and are not counted. Then every client is closed and the
   TUIs left over are counted (0 expected: the gateway ends a TUI when its link drops).
   `tui_pss` is the TUIs' own PSS per session (/proc/PID/smaps_rollup), without the server; the
   pre-imported process's own memory is reported beside it (`zygote_mb`), not spread over the
   sessions, and `fork_vs_spawn` puts both ssh ways side by side.

Each way gets a fresh server on a copy of the same database, so one's memory does not hide in
the other's. The ways run one after another; the quick run (`--ways-at-once`) runs the three at
the same time, as a smoke test of the harness rather than a measurement.

Figures: the PSS per session and the first paint by SSH beside a local PTY's.

Run: `python -m bench.ssh [--quick] [--runs R] [--sessions N] [--ways-at-once]` (`--repeat` is
`--runs`); prints one JSON object.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import fcntl
import os
import platform
import re
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh

from bench._kit import START_TIMEOUT, figure, main, mb, memory
from tests.kit.harness import WARROOM, Hub, isolated_env
from tests.kit.ssh import KeyedUser, Ssh, make_key, tuis, zygotes
from tests.kit.tmux import terminal_env
from warroom.cli.keys import parse_public_key
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.decide import decide
from warroom.core.domain import Actor, Role, Severity, World
from warroom.core.events import Event
from warroom.core.reducer import apply
from warroom.store import Pending, Store, open_engine

QUICK = ("--runs", "0", "--sessions", "1", "--settle", "0.2", "--notes", "0", "--ways-at-once")
WIDTH, HEIGHT = 120, 36
TITLE = "SSH bench: checkout failing in EU"
INCIDENT = "INC-1"
MANAGER = Actor("im", Role.INCIDENT_MANAGER)
PAINT_TIMEOUT = 120.0
SETTLE = 3.0
"""Seconds every session keeps running, painted, before memory is read (`--settle`)."""
GONE_TIMEOUT = 15.0

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\|\x1b[@-Z\\-_=>]"
)


def _env(folder: Path) -> dict[str, str]:
    """The harness's private HOME and XDG dirs and known terminal, without COLORTERM (OpenSSH does
    not forward it: both ways of joining get the same colours) and without an SSH agent."""
    return {
        key: value
        for key, value in terminal_env(isolated_env(folder)).items()
        if not key.startswith("SSH_") and key != "COLORTERM"
    }


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


# The benchmark ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """A database with an incident and responders who log in by key."""

    db: Path
    manager: str
    """The incident manager's token."""
    users: list[KeyedUser]


def _prepare(folder: Path, sessions: int, notes: int) -> Seeded:
    """A database with an incident and N responders (token and key each), written in this
    process with the store and the pure core, as `warroom user add` and a hub would write them
    (one interpreter instead of one per user and per command)."""
    folder.mkdir()
    db = folder / "w.db"
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        manager = store.users.add(MANAGER.name, MANAGER.role)
        users = []
        for n in range(sessions):
            key = make_key(folder / "keys", f"r{n}")
            public = parse_public_key(Path(f"{key}.pub").read_bytes())
            token = store.users.add(f"r{n}", Role.RESPONDER, ssh_keys=[public])
            users.append(KeyedUser(key, token))
        world, seq, now = World(), 0, datetime.now(UTC)
        commands: list[c.Command] = [
            c.DeclareIncident(title=TITLE, severity=Severity.SEV1, apps=("checkout",)),
            *(c.AddNote(incident=INCIDENT, text=f"seed note {n}") for n in range(notes)),
        ]
        for number, command in enumerate(commands):
            numbered: list[tuple[int, Event, str]] = []
            for event in decide(world, command, MANAGER, now):
                world = apply(world, event)
                seq += 1
                numbered.append((seq, event, protocol.event_json(event)))
            store.log.append([Pending(MANAGER.name, f"seed-{number}", numbered)])
    finally:
        store.close()
    if world.incident(INCIDENT) is None:
        raise RuntimeError(f"the seeded database has no {INCIDENT}")
    return Seeded(db, manager, users)


def _way(
    way: str,
    folder: Path,
    env: dict[str, str],
    seeded: Seeded,
    runs: int,
    sessions: int,
    settle: float,
) -> dict[str, Any]:
    """Both measurements for one way of joining, on a fresh server."""
    (folder / way).mkdir()
    hub = Hub(folder / way, {**env, "WARROOM_SSH_FORK": "0"} if way == "ssh_spawn" else env)
    hub.start_timeout = START_TIMEOUT
    shutil.copyfile(seeded.db, hub.db)
    hub.token = seeded.manager
    # The baseline serves no SSH: no gateway, no pre-imported process beside it.
    hub.start(ssh=way != "local_pty")
    assert hub.proc is not None
    server = hub.proc.pid
    ssh = Ssh(hub, folder / way / "ssh")
    users = seeded.users

    def argv(n: int) -> list[str]:
        user = users[n % len(users)]
        if way != "local_pty":
            return ssh.argv(user.key, INCIDENT)
        return [WARROOM, "join", hub.url, INCIDENT, "--token", user.token]

    def running_tuis(terms: Sequence[Term]) -> set[int]:
        if way != "local_pty":
            return tuis(hub)
        return {t.proc.pid for t in terms if t.proc.poll() is None}

    try:
        if way != "local_pty":
            # Pin the host key once, so that clients starting together do not race to.
            ssh.run(users[0].key, "true", user=INCIDENT)
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
            _wait_gone(lambda: running_tuis([]))

        # 2. N at once.
        server_before = memory(server)
        started = time.perf_counter()
        terms = [Term(argv(n), env) for n in range(sessions)]
        try:
            _pump(terms, started + PAINT_TIMEOUT, stop_when_painted=True)
            unpainted = sum(t.painted is None for t in terms)
            if unpainted:
                raise RuntimeError(f"{way}: {unpainted} of {sessions} never painted")
            all_painted = time.perf_counter() - started
            _pump(terms, time.perf_counter() + settle, stop_when_painted=False)
            running = running_tuis(terms)
            if len(running) != sessions:
                raise RuntimeError(f"{way}: {len(running)} TUIs run, not {sessions}")
            tui_memory = [memory(pid) for pid in running]
            zygote_memory = [memory(pid) for pid in zygotes(hub)] if way != "local_pty" else []
            server_after = memory(server)
        finally:
            for term in terms:
                term.close()
        leftover = _wait_gone(lambda: running_tuis([]))
    finally:
        hub.close()

    growth = server_after[0] - server_before[0]
    tui_rss = sum(rss for rss, _ in tui_memory)
    tui_pss = sum(pss for _, pss in tui_memory)
    concurrent = [t.painted or 0.0 for t in terms]
    if not paints:
        # `--runs 0` (a smoke run) with one session: that session alone was the one at a time.
        paints = concurrent
    pss = (tui_pss + max(server_after[1] - server_before[1], 0)) / sessions
    return {
        "first_paint_s": {
            "median": round(statistics.median(paints), 3),
            "all": [round(p, 3) for p in paints],
        },
        "pss_per_session_mb": pss / 2**20,
        f"{sessions}_at_once": {
            "all_painted_s": round(all_painted, 2),
            "paint_s_median": round(statistics.median(concurrent), 2),
            "paint_s_max": round(max(concurrent), 2),
            "per_session_mb": {
                "rss": mb((tui_rss + growth) / sessions),
                "pss": mb(pss),
                "tui_rss": mb(tui_rss / sessions),
                "tui_pss": mb(tui_pss / sessions),
                "server_growth": round(growth / sessions / 1024 / 1024, 2),
            },
            "server_rss_mb": {"before": mb(server_before[0]), "after": mb(server_after[0])},
            "zygote_mb": [{"rss": mb(rss), "pss": mb(pss)} for rss, pss in zygote_memory],
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
    parser.add_argument(
        "--runs", "--repeat", type=int, default=5, help="first paints timed one at a time"
    )
    parser.add_argument("--sessions", type=int, default=20, help="sessions opened at once")
    parser.add_argument("--settle", type=float, default=SETTLE, help="seconds before memory")
    parser.add_argument("--notes", type=int, default=5, help="notes in the incident")
    parser.add_argument(
        "--ways-at-once",
        action="store_true",
        help="the three ways each on its server at the same time: a smoke run's shortcut, whose "
        "paint times and shared pages each way's neighbours skew",
    )
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.runs < 0 or (args.runs == 0 and args.sessions != 1):
        parser.error("--sessions must be positive, --runs too unless --sessions is 1")
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return {"bench": "ssh", "skipped": f"{tool} is not installed (openssh-client)"}

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="warroom-bench-ssh-") as name:
        folder = Path(name)
        env = _env(folder)
        seeded = _prepare(folder / "seed", args.sessions, args.notes)
        names = ("local_pty", "ssh_spawn", "ssh")
        with ThreadPoolExecutor(max_workers=len(names) if args.ways_at_once else 1) as pool:
            done = pool.map(
                lambda way: _way(way, folder, env, seeded, args.runs, args.sessions, args.settle),
                names,
            )
            ways = dict(zip(names, done, strict=True))
    ssh_way, local, spawned = ways["ssh"], ways["local_pty"], ways["ssh_spawn"]
    at_once = f"{args.sessions}_at_once"
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    paints = {way: ways[way]["first_paint_s"]["all"] for way in ("ssh", "ssh_spawn", "local_pty")}
    pss = {way: [ways[way].pop("pss_per_session_mb")] for way in ("ssh", "ssh_spawn", "local_pty")}
    return {
        "bench": "ssh",
        "figures": [
            figure(f"PSS per session, {args.sessions} sessions at once", "MB", pss, "ssh"),
            figure("first paint, one session at a time", "s", paints, "ssh"),
        ],
        "ssh": ssh_way,
        "ssh_spawn": spawned,
        "local_pty": local,
        "fork_vs_spawn": {
            "tui_pss_per_session_mb": {
                "spawn": spawned[at_once]["per_session_mb"]["tui_pss"],
                "fork": ssh_way[at_once]["per_session_mb"]["tui_pss"],
            },
            "pss_per_session_mb": {
                "spawn": spawned[at_once]["per_session_mb"]["pss"],
                "fork": ssh_way[at_once]["per_session_mb"]["pss"],
            },
            "zygote_pss_mb": [z["pss"] for z in ssh_way[at_once]["zygote_mb"]],
            "first_paint_s": {
                "spawn": spawned["first_paint_s"]["median"],
                "fork": ssh_way["first_paint_s"]["median"],
            },
        },
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


if __name__ == "__main__":
    main(run, QUICK)
