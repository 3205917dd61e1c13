"""SSH sessions come and go cleanly: a dropped link ends its TUI, several sessions run at once,
a revoked user's session ends, a stopping server ends them all, and the host key (and so the
fingerprint a client pinned) survives a restart. Real `ssh -tt` clients in tmux, real processes.
"""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kit.harness import Hub
from tests.kit.ssh import (
    GONE,
    PAINT,
    Ssh,
    alive,
    children,
    environ,
    exit_status,
    fingerprint,
    missing,
    new_tui,
    online_as,
    tuis,
    user_with_key,
    wait_until,
)
from tests.kit.tmux import Screen, Tmux

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

SESSIONS = int(os.environ.get("WARROOM_TEST_SSH_SESSIONS", "20"))
"""SSH sessions opened at once: the 20 the gateway must carry on a 2-core machine."""
CROWD = 30.0
"""How long a screen of one of the many sessions may take to change while all of them run (20
TUIs share two cores)."""


@pytest.fixture
def tmux(ssh_hub: Hub) -> Iterator[Tmux]:
    """A private tmux server, killed (with every ssh client in it) before the hub stops."""
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def _online_in(who: str, title: str) -> Callable[[Screen], bool]:
    """A screen check: online as `who`, with the incident `title` on screen."""
    online = online_as(who)
    return lambda screen: online(screen) and title in screen


def test_dropping_the_ssh_link_ends_the_tui_and_frees_it(
    ssh_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    ssh = Ssh(ssh_hub, tmp_path / "ssh")
    before = tuis(ssh_hub)
    pane = ssh.open(tmux, "ana", key)
    pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    tui = new_tui(ssh_hub, before)
    token = environ(tui)["WARROOM_TOKEN"]

    # SIGKILL the ssh client: no goodbye, the link just drops.
    clients = _descendants(pane.pid)
    assert clients, "no ssh client under the pane"
    for pid in clients:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(tui), "the TUI gone after its SSH link dropped", GONE)
    assert tui not in tuis(ssh_hub)
    # Its session token is gone too.
    assert ssh_hub.run("list", token=token).returncode == 4
    assert ssh_hub.output is not None
    ssh_hub.output.wait_for(lambda line: f"ana left (pid {tui})" in line, GONE)


def test_several_ssh_sessions_at_once(ssh_hub: Hub, tmp_path: Path, tmux: Tmux) -> None:
    ssh = Ssh(ssh_hub, tmp_path / "ssh")
    keys = [user_with_key(ssh_hub, tmp_path / "keys", f"r{n}").key for n in range(SESSIONS)]
    ssh_hub.ok("declare", "Many hands", "-s", "2")
    # Pin the host key once, so that the clients starting together do not race to write it.
    assert ssh.run(keys[0], "true").returncode == 1

    panes = [ssh.open(tmux, f"s{n}", key, user="INC-1") for n, key in enumerate(keys)]
    for n, pane in enumerate(panes):
        pane.wait_for(
            _online_in(f"r{n}", "Many hands"),
            f"r{n}'s war room",
            PAINT + 2.0 * SESSIONS,
        )
    running = tuis(ssh_hub)
    assert len(running) == SESSIONS
    # Everyone is in the room, as they see (on a screen wide enough for every name).
    everyone = {f"r{n}" for n in range(SESSIONS)}
    tmux.run("resize-window", "-t", panes[0].target, "-x", str(120 + 6 * SESSIONS))
    panes[0].wait_for(lambda s: s.presence() == everyone, "showing everyone in the room", CROWD)

    for pane in panes:
        pane.keys("q")
        pane.wait_for(lambda s: "search id" in s, "in the lobby", CROWD)
        pane.keys("q")
    assert [exit_status(pane) for pane in panes] == [0] * SESSIONS
    wait_until(lambda: not tuis(ssh_hub), "every TUI gone", CROWD)


def test_revoking_a_user_ends_their_ssh_session(ssh_hub: Hub, tmp_path: Path, tmux: Tmux) -> None:
    key = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    pane = Ssh(ssh_hub, tmp_path / "ssh").open(tmux, "ana", key)
    pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    assert ssh_hub.admin("user", "revoke", "ana").returncode == 0
    assert exit_status(pane, GONE) == 1
    screen = pane.capture()
    assert "warroom: your access was revoked" in screen, screen.text
    wait_until(lambda: not tuis(ssh_hub), "the TUI gone", GONE)


def test_stopping_the_server_ends_every_ssh_session(
    ssh_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    pane = Ssh(ssh_hub, tmp_path / "ssh").open(tmux, "ana", key)
    pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    started = tuis(ssh_hub)
    assert len(started) == 1
    assert ssh_hub.stop() == 0, ssh_hub.server_stderr()
    assert exit_status(pane, GONE) == 1
    assert "warroom: the war room is shutting down" in pane.capture()
    for pid in started:
        assert not alive(pid)


def test_the_host_key_is_made_once_and_kept_across_restarts(
    ssh_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(ssh_hub, tmp_path / "keys", "ana").key
    ssh = Ssh(ssh_hub, tmp_path / "ssh")
    printed = ssh_hub.host_key
    assert printed.startswith("SHA256:")

    # Kept under the user data directory, readable by the server's user alone.
    path = Path(ssh_hub.env["XDG_DATA_HOME"]) / "warroom" / "ssh_host_ed25519_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # The first connection pins the key; it is the one serve printed.
    first = ssh.open(tmux, "first", key)
    first.wait_for(online_as("ana"), "ana's lobby", PAINT)
    assert fingerprint(ssh.known_hosts) == printed
    tmux.run("kill-session", "-t", first.target)

    ssh_hub.restart()
    assert ssh_hub.host_key == printed
    # Strict checking against the pinned key: any other host key would fail the login.
    again = ssh.open(tmux, "again", key, strict="yes")
    again.wait_for(online_as("ana"), "ana's lobby after a restart", PAINT)


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        found |= frontier
        frontier = set().union(*(children(p) for p in frontier)) - found
    return found - {pid}
