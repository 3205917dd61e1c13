"""No single user can starve the room: while one abuser floods a real `warroom serve`, twenty
healthy responders go on posting notes, and the time from each submit to its event coming back
stays short; where memory is the point, the hub's RSS stays bounded.

Each abuser runs in a process of its own (`tests.kit.abuse`, at the lowest priority, as if on
another machine), so its flood costs the hub and not the measuring clients' event loop. A second,
unabused hub with twenty healthy clients of its own runs at the same time as the control: both
see the same machine, so the comparison measures what the abuser costs, not what the two shared
cores happen to be doing. The abused p99 must stay under `WARROOM_ABUSE_P99_MS` (50 ms), or,
when the machine is so busy that the control itself is slow, under twice the control's, on the
best of up to `WARROOM_ABUSE_ATTEMPTS` (3) runs (see `ATTEMPTS`).

Adjust by environment for a larger run by hand, e.g.
`WARROOM_ABUSE_SECONDS=60 WARROOM_ABUSE_WATCHERS=1000 pytest tests/reliability/test_abuse.py -s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets import ConnectionClosed
from websockets.asyncio.client import ClientConnection, connect

from tests.kit.abuse import ABUSES
from tests.kit.harness import Hub
from tests.kit.wire import declare, hello, send, submit
from warroom.core.domain import Role
from warroom.store import Store, open_engine

HEALTHY = int(os.environ.get("WARROOM_ABUSE_HEALTHY", "20"))
"""Healthy responders per hub, each posting a note every `PACE` seconds."""
PACE = float(os.environ.get("WARROOM_ABUSE_PACE", "0.2"))
SECONDS = float(os.environ.get("WARROOM_ABUSE_SECONDS", "4"))
"""Seconds the abuse runs, measured."""
WATCHERS = int(os.environ.get("WARROOM_ABUSE_WATCHERS", "50"))
"""Connections of the presence and silent abusers (one user each)."""
P99_MS = float(os.environ.get("WARROOM_ABUSE_P99_MS", "50"))
GROWTH_MB = float(os.environ.get("WARROOM_ABUSE_GROWTH_MB", "40"))
"""How much the hub's RSS may grow during the abuses where memory is the point."""

MEMORY = {"presence", "silent", "stale", "lists"}
ROOT = Path(__file__).resolve().parents[2]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p99(samples: list[float]) -> float:
    assert samples, "no note came back"
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


@dataclass
class Healthy:
    """A responder posting a note every `PACE` seconds and timing each until its event."""

    name: str
    connection: ClientConnection
    sent: dict[str, float] = field(default_factory=dict)
    latencies: list[tuple[float, float]] = field(default_factory=list)
    """(submitted at, seconds until the event came back), per note."""

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in self.connection:
                frame = json.loads(message)
                if frame["type"] == "event":
                    text = frame["event"].get("text", "")
                    if text in self.sent:
                        submitted = self.sent.pop(text)
                        self.latencies.append((submitted, time.monotonic() - submitted))

    async def post(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            text = f"{self.name} note {n}"
            n += 1
            self.sent[text] = time.monotonic()
            command = {"type": "note.add", "incident": "INC-1", "text": text}
            ident = text.replace(" ", "-")
            await send(self.connection, {"type": "submit", "id": ident, "command": command})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PACE)


async def _connect(hub: Hub, token: str) -> ClientConnection:
    return await connect(
        hub.url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None
    )


def _users(hub: Hub, names: list[str], role: Role) -> list[str]:
    store = Store(open_engine(f"sqlite:///{hub.db}"))
    try:
        return [store.users.add(name, role) for name in names]
    finally:
        store.close()


@dataclass
class Room:
    """A hub with INC-1 (and a 15,000-character impact statement: what a stale edit meets) and
    its healthy clients, posting until `stop` is set."""

    hub: Hub
    clients: list[Healthy] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self) -> None:
        tokens = _users(self.hub, [f"h{n}" for n in range(HEALTHY)], Role.RESPONDER)
        manager = await _connect(self.hub, self.hub.token)
        assert (await submit(manager, declare()))["type"] == "ack"
        statement = "the whole EU cannot pay. " * 600
        impact = {"type": "impact.set", "incident": "INC-1", "statement": statement}
        assert (await submit(manager, {**impact, "base_version": 0}))["type"] == "ack"
        await manager.close()
        for n, token in enumerate(tokens):
            client = Healthy(f"h{n}", await _connect(self.hub, token))
            await hello(client.connection, None)
            await send(client.connection, {"type": "view", "incident": "INC-1"})
            self.clients.append(client)
        self.tasks = [asyncio.create_task(client.read()) for client in self.clients]
        self.tasks += [asyncio.create_task(client.post(self.stop)) for client in self.clients]

    async def close(self) -> list[str]:
        """Stop posting, wait (bounded) for every event, close; return the notes never back."""
        self.stop.set()
        for _ in range(100):
            if not any(client.sent for client in self.clients):
                break
            await asyncio.sleep(0.1)
        for task in self.tasks:
            task.cancel()
        for client in self.clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.connection.close(), 2)
        return [text for client in self.clients for text in client.sent]

    def p99(self, start: float, end: float) -> tuple[float, int]:
        """The p99 of the notes submitted between `start` and `end`, in ms, and their number."""
        took = [t for c in self.clients for at, t in c.latencies if start <= at < end]
        return _p99(took), len(took)


ATTEMPTS = int(os.environ.get("WARROOM_ABUSE_ATTEMPTS", "3"))
"""Runs of one abuse at most, each on two fresh hubs. Memory, CPU and delivery hold on every
run; the latency bound holds on the best. A stall of the machine itself (another process, the
disk's flush) lands on one run and not the next; an abuser that starves the room does it on
every run, so the best run is the honest figure of what the abuse costs."""


@dataclass
class Run:
    """What one run of an abuse measured."""

    output: str
    abused_p99: float
    abused_count: int
    control_p99: float
    control_count: int
    growth: float
    cpu: float
    late: list[str]

    @property
    def bound(self) -> float:
        return max(P99_MS, 2 * self.control_p99)

    @property
    def fast(self) -> bool:
        return self.abused_p99 <= self.bound


async def _run(root: Path, env: dict[str, str], kind: str) -> Run:
    """One run: an abused hub and an unabused control hub, twenty healthy clients on each,
    the abuser's process against the first."""
    for name in ("abused", "control"):
        (root / name).mkdir(parents=True)
    hubs = [Hub(root / name, env) for name in ("abused", "control")]
    for each in hubs:
        each.start()
    try:
        hub, control_hub = hubs
        role = Role.OBSERVER if kind == "forbidden" else Role.RESPONDER
        count = WATCHERS if kind in ("presence", "silent") else 4 if kind == "lists" else 1
        abuser_tokens = _users(hub, [f"x{n}" for n in range(count)], role)
        abused, control = Room(hub), Room(control_hub)
        try:
            await abused.open()
            await control.open()
            assert hub.proc is not None
            await asyncio.sleep(0.5)  # both rooms settle
            started, rss_before = time.monotonic(), _rss_mb(hub.proc.pid)
            cpu_before = _cpu_seconds(hub.proc.pid)
            abuser = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.kit.abuse",
                kind,
                hub.url,
                str(SECONDS),
                *abuser_tokens,
                cwd=ROOT,
                stdout=subprocess.PIPE,
            )
            output, _ = await asyncio.wait_for(abuser.communicate(), SECONDS + 30)
            ended = time.monotonic()
            cpu = (_cpu_seconds(hub.proc.pid) - cpu_before) / (ended - started)
            await asyncio.sleep(0.5)  # what the hub still holds once the abuser is gone
            rss_after = _rss_mb(hub.proc.pid)
        finally:
            late = await abused.close()
            await control.close()
    finally:
        for each in hubs:
            each.close()
    for each in hubs:
        problems = each.server_stderr()
        assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"
    control_p99, control_count = control.p99(started, ended)
    abused_p99, abused_count = abused.p99(started, ended)
    return Run(
        output.decode().strip(),
        abused_p99,
        abused_count,
        control_p99,
        control_count,
        rss_after - rss_before,
        cpu,
        late,
    )


@pytest.mark.parametrize("kind", ABUSES)
async def test_healthy_clients_stay_fast_and_the_hub_small_while_one_abuses(
    env: dict[str, str], tmp_path: Path, kind: str
) -> None:
    print(
        f"\nabuse {kind}: healthy={HEALTHY} pace={PACE}s seconds={SECONDS}s "
        f"watchers={WATCHERS} p99<={P99_MS}ms growth<={GROWTH_MB}MB attempts<={ATTEMPTS}"
    )
    runs: list[Run] = []
    for attempt in range(ATTEMPTS):
        run = await _run(tmp_path / f"run{attempt}", env, kind)
        runs.append(run)
        print(
            f"abuse {kind}, run {attempt + 1}: {run.output}\n"
            f"  healthy p99 {run.abused_p99:.1f} ms ({run.abused_count} notes; "
            f"bound {run.bound:.0f} ms), control hub {run.control_p99:.1f} ms "
            f"({run.control_count} notes)\n"
            f"  hub RSS {run.growth:+.0f} MB; hub CPU {run.cpu:.0%} of a core"
        )
        assert not run.late, f"{len(run.late)} healthy notes never came back"
        assert run.abused_count >= HEALTHY * SECONDS / PACE / 2, (
            "the healthy clients could barely post"
        )
        if kind in MEMORY:
            assert run.growth <= GROWTH_MB, (
                f"the hub grew {run.growth:.0f} MB while {kind} abused it"
            )
        if run.fast:
            break
    best = min(runs, key=lambda run: run.abused_p99 / run.bound)
    assert best.fast, (
        f"healthy p99 {best.abused_p99:.0f} ms (bound {best.bound:.0f} ms) while {kind} abuses, "
        f"the best of {len(runs)} runs"
    )
