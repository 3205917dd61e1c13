"""Text is data over SSH: a war room whose every field holds every hostile string at once reaches
the real OpenSSH client's terminal with not one control byte of them, reads as text, leaves the
window title alone, and its session offers no command that writes the server's files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.harness import Hub, isolated_env
from tests.kit.hostile import HOSTILE, hostile_log, room_of_everything, wrapped
from tests.kit.ssh import PAINT, Ssh, command_line, missing, new_tui, online_as, tuis, user_with_key
from tests.kit.tmux import Tmux
from warroom.core import protocol
from warroom.core.text import first_hidden, visible
from warroom.store import Pending, Store, open_engine

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

ROOM = f"INC-{len(HOSTILE) + 1}"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub serving SSH over a log that holds the hostile incidents and the room of them all."""
    running = Hub(tmp_path, isolated_env(tmp_path))
    store = Store(open_engine(f"sqlite:///{running.db}"))
    try:
        log = [*hostile_log(), *room_of_everything(len(HOSTILE) + 1)]
        events = [(n, ev, protocol.event_json(ev)) for n, ev in enumerate(log, 1)]
        store.log.append([Pending("morgan", uuid.uuid4().hex, events)])
    finally:
        store.engine.dispose()
    running.start(ssh=True)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def tmux(hub: Hub) -> Iterator[Tmux]:
    server = Tmux()
    try:
        yield server
    finally:
        server.close()


def _raw_prefix(name: str) -> bytes:
    """`wrapped(name)` up to its first control character and the three characters after it, as
    a terminal would get it: the control sequence the text holds, not only its first byte (a
    line cut at the screen's edge just after the name ends in the terminal's own escape)."""
    text = wrapped(name)
    found = first_hidden(text)
    assert found is not None
    return text[: found[0] + 4].encode()


def test_an_ssh_session_gets_hostile_text_as_text_and_no_file_command(
    hub: Hub, tmp_path: Path, tmux: Tmux
) -> None:
    key = user_with_key(hub, tmp_path / "keys", "ines", "incident-manager").key
    ssh = Ssh(hub, tmp_path / "ssh")
    before = tuis(hub)
    pane = ssh.open(tmux, "ines", key, user=ROOM)
    raw = tmp_path / "pty.bytes"
    # Everything the session writes to its terminal, byte for byte, from before the TUI starts.
    tmux.run("pipe-pane", "-o", "-t", pane.target, f"cat >> {raw}")
    screen, _ = pane.wait_for(
        lambda s: online_as("ines")(s) and "osc-title<" in s and wrapped("markup-close") in s,
        "the room of everything, its panels filled",
        PAINT,
    )
    assert "--remote-terminal" in command_line(new_tui(hub, before))

    # On screen: the strings read as text, their control characters visible.
    assert visible(wrapped("osc-title")) in screen.text
    assert wrapped("markup-close") in screen.text
    assert "pwned" not in tmux.run("display", "-p", "-t", pane.target, "#{pane_title}").stdout

    # The palette of an SSH session offers no screenshot (it would write the server's disk).
    pane.keys("C-p")
    pane.wait_text("Search for commands")
    pane.type("screensh")
    pane.hold(lambda s: "SVG" not in s, "without a screenshot command", 1.0)
    pane.keys("Escape")

    # In the bytes the terminal received: not one control character from the text.
    data = raw.read_bytes()
    assert b"markup-close<[/]>" in data
    controls = [name for name in HOSTILE if first_hidden(wrapped(name)) is not None]
    assert controls and all(_raw_prefix(name) not in data for name in controls), [
        name for name in controls if _raw_prefix(name) in data
    ]
