"""What an SSH client may not have: more than its key's share of sessions, or a say in its TUI's
environment beyond well-formed terminal and locale settings. The real OpenSSH client in tmux."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.harness import Hub
from tests.kit.ssh import (
    PAINT,
    Ssh,
    environ,
    exit_status,
    missing,
    new_tui,
    online_as,
    tuis,
    user_with_key,
    wait_until,
)
from tests.kit.tmux import Tmux

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

PER_KEY = 2


@pytest.fixture
def limited_hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """A hub serving SSH that lets one key hold `PER_KEY` sessions at once."""
    running = Hub(tmp_path, env)
    running.options = ["--ssh-sessions-per-key", str(PER_KEY)]
    running.start(ssh=True)
    try:
        yield running
    finally:
        running.close()
    assert "Traceback" not in running.server_stderr()


@pytest.fixture
def tmux(limited_hub: Hub) -> Iterator[Tmux]:
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def test_one_key_holds_a_bounded_number_of_sessions(
    limited_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(limited_hub, tmp_path / "keys", "ana").key
    bob = user_with_key(limited_hub, tmp_path / "keys", "bob").key
    ssh = Ssh(limited_hub, tmp_path / "ssh")
    assert ssh.run(key, "true").returncode == 1  # pins the host key before the panes race
    panes = [ssh.open(tmux, f"ana{n}", key) for n in range(PER_KEY)]
    for pane in panes:
        pane.wait_for(online_as("ana"), "ana's lobby", PAINT)

    over = ssh.run(key, tty=True)
    assert over.returncode == 1
    assert f"warroom: this key already holds {PER_KEY} war room sessions" in over.stderr
    assert len(tuis(limited_hub)) == PER_KEY
    # Another key is not held back by ana's.
    other = ssh.open(tmux, "bob", bob)
    other.wait_for(online_as("bob"), "bob's lobby", PAINT)

    # Once one of ana's sessions ends, her key may open another.
    panes[0].keys("q")
    assert exit_status(panes[0]) == 0
    wait_until(lambda: len(tuis(limited_hub)) == PER_KEY, "ana's first TUI gone", PAINT)
    again = ssh.open(tmux, "again", key)
    again.wait_for(online_as("ana"), "ana's lobby again", PAINT)


def test_the_tui_gets_only_well_formed_locale_and_terminal_settings(
    limited_hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(limited_hub, tmp_path / "keys", "ana").key
    ssh = Ssh(limited_hub, tmp_path / "ssh")
    sent = "LC_ALL=/etc/passwd LC_FOO=en_GB.UTF-8 LC_TIME=en_GB.UTF-8 COLORTERM=truecolor"
    before = tuis(limited_hub)
    pane = ssh.open(tmux, "ana", key, extra=["-o", f"SetEnv={sent}"])
    pane.wait_for(online_as("ana"), "ana's lobby", PAINT)
    child = environ(new_tui(limited_hub, before))
    assert child.get("LC_ALL") != "/etc/passwd"
    assert "LC_FOO" not in child
    # What is well formed does arrive: the client's settings reached the gateway.
    assert child["LC_TIME"] == "en_GB.UTF-8"
    assert child["COLORTERM"] == "truecolor"
