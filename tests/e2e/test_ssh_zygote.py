"""Sessions' TUIs are forked from the gateway's pre-imported process, which is replaced if it
dies, without harm to the sessions it started. Real `ssh -tt` clients in tmux, real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.harness import Hub
from tests.kit.ssh import (
    GONE,
    PAINT,
    Ssh,
    alive,
    command_line,
    environ,
    exit_status,
    missing,
    new_tui,
    online_as,
    tuis,
    user_with_key,
    wait_until,
    zygotes,
)
from tests.kit.tmux import Screen, Tmux

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

LIVE = 15.0


@pytest.fixture
def spawning_hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A hub serving SSH whose gateway is told to start every TUI afresh."""
    running = Hub(tmp_path, {**env, "WARROOM_SSH_FORK": "0"})
    running.start(ssh=True)
    try:
        yield running
    finally:
        running.close()
    assert "Traceback" not in running.server_stderr()


@pytest.fixture
def tmux(ssh_hub: Hub) -> Iterator[Tmux]:
    """A private tmux server, killed (with every ssh client in it) before the hub stops."""
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (the state is [0], the parent [1])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


def _started(pid: int) -> int:
    """When the process started, in clock ticks since boot."""
    return int(_stat(pid)[19])


def _the_zygote(hub: Hub) -> int:
    found: set[int] = set()

    def one() -> bool:
        found.clear()
        found.update(zygotes(hub))
        return len(found) == 1

    wait_until(one, "one pre-imported process", PAINT)
    return found.pop()


def _lobby(screen: Screen) -> bool:
    return "search id" in screen and screen.presence() is None


def test_a_session_is_forked_from_the_pre_imported_process(
    ssh_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    # The gateway starts it with SSH, before any session, as the session's own command.
    zygote = _the_zygote(ssh_hub)
    assert ssh_hub.proc is not None
    assert _parent(zygote) == ssh_hub.proc.pid
    assert command_line(zygote)[1:-1] == [
        "-m", "warroom", "join", "--remote-terminal", "--fork-sessions"
    ]  # fmt: skip
    assert "WARROOM_TOKEN" not in environ(zygote)

    key = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    before = tuis(ssh_hub)
    pane = Ssh(ssh_hub, tmp_path / "ssh").open(tmux, "ana", key)
    pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    tui = new_tui(ssh_hub, before)
    # The TUI is a child of that process, which was running before the session opened: it was
    # forked with everything already imported, not started afresh.
    assert _parent(tui) == zygote
    assert _started(zygote) <= _started(tui)
    assert ssh_hub.output is not None
    ssh_hub.output.wait_for(
        lambda line: "ana opened the lobby" in line and f"(pid {tui})" in line, GONE
    )

    # It quits as any TUI does: the ssh client gets its status, the gateway the TUI's end.
    pane.keys("q")
    assert exit_status(pane) == 0, pane.capture().text
    wait_until(lambda: not alive(tui), "the TUI gone", GONE)
    ssh_hub.output.wait_for(lambda line: f"ana left (pid {tui})" in line, GONE)
    assert zygotes(ssh_hub) == {zygote}


def test_a_killed_pre_imported_process_is_replaced_and_open_sessions_carry_on(
    ssh_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    ssh = Ssh(ssh_hub, tmp_path / "ssh")
    ana = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    bob = user_with_key(ssh_hub, tmp_path / "keys", "bob").key
    first = _the_zygote(ssh_hub)
    before = tuis(ssh_hub)
    open_pane = ssh.open(tmux, "ana", ana)
    open_pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    running = new_tui(ssh_hub, before)
    assert _parent(running) == first

    os.kill(first, signal.SIGKILL)
    assert ssh_hub.output is not None
    _, said = ssh_hub.output.wait_for(
        lambda line: "pre-imported session process ended (signal 9)" in line, GONE
    )
    second = _the_zygote(ssh_hub)
    assert second != first
    assert f"(pid {second})" in said

    # The session it had forked still runs, answers keys, and ends with its own status.
    assert alive(running)
    open_pane.keys("d")
    open_pane.wait_text("What is broken, for whom", LIVE)
    open_pane.keys("Escape")
    open_pane.wait_for(_lobby, "back in the lobby", LIVE)

    # A new session is forked by the new process.
    before = tuis(ssh_hub)
    new_pane = ssh.open(tmux, "bob", bob)
    new_pane.wait_for(online_as("bob"), "bob's lobby", PAINT)
    fresh = new_tui(ssh_hub, before)
    assert _parent(fresh) == second

    open_pane.keys("q")
    assert exit_status(open_pane) == 0, open_pane.capture().text
    wait_until(lambda: not alive(running), "ana's TUI gone", GONE)
    ssh_hub.output.wait_for(lambda line: f"ana left (pid {running})" in line, GONE)
    new_pane.keys("q")
    assert exit_status(new_pane) == 0, new_pane.capture().text


def test_with_forking_off_every_session_is_started_afresh(
    spawning_hub: Hub, tmp_path: Path
) -> None:
    tmux = Tmux()
    try:
        key = user_with_key(spawning_hub, tmp_path / "keys", "ana").key
        before = tuis(spawning_hub)
        pane = Ssh(spawning_hub, tmp_path / "ssh").open(tmux, "ana", key)
        pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
        tui = new_tui(spawning_hub, before)
        assert not zygotes(spawning_hub)
        assert spawning_hub.proc is not None
        assert _parent(tui) == spawning_hub.proc.pid
        assert command_line(tui)[1:] == [
            "-m",
            "warroom",
            "join",
            "--remote-terminal",
            spawning_hub.url,
        ]
        pane.keys("q")
        assert exit_status(pane) == 0, pane.capture().text
    finally:
        tmux.close()


_SESSION = """
import asyncio, json, sys

from client.launch import preload

preload()
from warroom.core import protocol

modules, adapters = set(sys.modules), set(protocol._by_class)

from textual import events

from client.connection import WebSocketConnection
from client.remote import RemoteWarRoomApp

HARNESS = {"textual.drivers.headless_driver"}  # the test's terminal, not an SSH session's
url, token, incident = sys.argv[1:4]


async def session() -> None:
    app = RemoteWarRoomApp(WebSocketConnection([url], token), incident=incident)

    def notes() -> list[str]:
        room = app.state.world.incident(incident)
        return [] if room is None else [note.text for note in room.notes]

    async with app.run_test(size=(120, 36)) as pilot:

        async def until(condition, what: str) -> None:
            for _ in range(1200):
                if condition():
                    return
                await pilot.pause(0.05)
            raise TimeoutError(what)

        await until(lambda: "seeded" in notes(), "the room read")
        await pilot.press("n")
        app.post_message(events.Paste("from the session"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(lambda: "from the session" in notes(), "the note back from the hub")
        for keys in (["d"], ["escape", "ctrl+p"], ["escape", "question_mark"], ["escape"]):
            await pilot.press(*keys)  # a form with pickers, the palette, the keys
            await pilot.pause(0.2)


asyncio.run(session())
print(json.dumps({
    "modules": sorted(set(sys.modules) - modules - HARNESS),
    "adapters": sorted(kind.__name__ for kind in set(protocol._by_class) - adapters),
}))
"""


def test_a_session_imports_and_builds_nothing_after_what_the_pre_imported_process_did(
    hub: Hub,
) -> None:
    # What a forked session imports or builds after the fork is in its own memory, once per
    # session: the pre-imported process's `preload` must leave nothing for it to do. A war room
    # on a real hub reads an incident, sends a note, gets it back, opens a form, the palette
    # and the keys: no module is imported and no frame adapter built after `preload`.
    incident = hub.ok("declare", "Checkout failing", "-s", "1").strip()
    hub.ok("note", incident, "seeded")
    done = subprocess.run(
        [sys.executable, "-c", _SESSION, hub.url, hub.token, incident],
        capture_output=True,
        text=True,
        env=hub.client_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout.strip().splitlines()[-1])
    assert after == {"modules": [], "adapters": []}
