"""The SSH gateway's small parts: the host key file, the incident a user name picks, the
environment a session's TUI gets, and the TUI taking its PTY as its controlling terminal."""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.ssh.child import child_env, incident_of
from server.ssh.host_key import load_host_key
from server.ssh.settings import GatewayError


def test_the_host_key_is_made_once_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ssh_host_ed25519_key"
    made = load_host_key(path)
    assert made.get_algorithm() == "ssh-ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_host_key(path)
    assert again.get_fingerprint() == made.get_fingerprint()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # nothing half-written left


def test_a_host_key_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("not a key\n")
    with pytest.raises(GatewayError, match="cannot use the SSH host key"):
        load_host_key(path)
    assert path.read_text() == "not a key\n"  # left as it was


@pytest.mark.parametrize(
    ("username", "incident"),
    [
        ("INC-7", "INC-7"),
        ("inc-12", "INC-12"),
        ("root", None),
        ("INC-", None),
        ("INC-0", None),
        ("INC-7; ls", None),
        ("ana", None),
        ("", None),
    ],
)
def test_the_user_name_picks_an_incident_or_the_lobby(username: str, incident: str | None) -> None:
    assert incident_of(username) == incident


def test_a_tui_gets_the_clients_terminal_and_nothing_it_should_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WARROOM_DB", "postgresql://secret@db/warroom")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent")
    monkeypatch.setenv("TEXTUAL", "devtools")
    client = {
        "COLORTERM": "truecolor",
        "LANG": "fr_FR.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "LD_PRELOAD": "/tmp/evil.so",
        "PYTHONPATH": "/tmp/evil",
        "NO_COLOR": "bad\x1b[31m",
    }
    env = child_env("xterm-256color", client, "wrs_token")
    assert env["TERM"] == "xterm-256color"
    assert env["COLORTERM"] == "truecolor"
    assert env["LANG"] == "fr_FR.UTF-8" and env["LC_TIME"] == "en_GB.UTF-8"
    assert env["WARROOM_TOKEN"] == "wrs_token"
    for dropped in ("WARROOM_DB", "SSH_AUTH_SOCK", "TEXTUAL", "LD_PRELOAD", "NO_COLOR"):
        assert dropped not in env
    assert env.get("PYTHONPATH") != "/tmp/evil"
    assert child_env("", {}, "t")["TERM"] == "xterm"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LANG", "fr_FR.UTF-8"),
        ("LANG", "C"),
        ("LANG", "POSIX"),
        ("LANG", "C.UTF-8"),
        ("LANG", "en"),
        ("LC_ALL", "de_DE.utf8"),
        ("LC_MESSAGES", "sr_RS@latin"),
        ("LC_CTYPE", "tzm_MA.UTF-8"),
        ("COLORTERM", "truecolor"),
        ("COLORTERM", "24bit"),
    ],
)
def test_a_well_formed_terminal_or_locale_setting_reaches_the_tui(name: str, value: str) -> None:
    assert child_env("xterm", {name: value}, "t")[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LC_ALL", "/etc/passwd"),
        ("LANG", "../../tmp/locale"),
        ("LANG", "fr_FR.UTF-8\nX=1"),
        ("LC_TIME", "en_GB.UTF-8 extra"),
        ("LC_CTYPE", ""),
        ("LC_FOO", "en_GB.UTF-8"),
        ("LC_", "C"),
        ("COLORTERM", "true color"),
        ("COLORTERM", "\x1b]0;x\x07"),
        ("COLORTERM", "x" * 65),
        ("NO_COLOR", "1"),
        ("LD_PRELOAD", "/tmp/evil.so"),
    ],
)
def test_any_other_client_setting_is_dropped(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.delenv(name, raising=False)
    env = child_env("xterm-256color", {name: value}, "t")
    assert name not in env
    assert env["TERM"] == "xterm-256color"


@pytest.mark.parametrize("term", ["", "xterm 256", "/etc/passwd", "x\x1b[2J", "t" * 65])
def test_a_malformed_terminal_type_becomes_xterm(term: str) -> None:
    assert child_env(term, {}, "t")["TERM"] == "xterm"


_PROBE = """
import os, sys
if sys.argv[1] == "take":
    from client.launch import take_terminal
    take_terminal()
try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    print("controlling terminal")
except OSError:
    print("no controlling terminal")
"""
"""Says whether the process has a controlling terminal, after `take_terminal` or not."""


def _on_a_fresh_pty(argv: list[str], within: float = 30.0) -> str:
    """What `argv` writes when run as the gateway runs a TUI: leading a new session, on a PTY."""
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True
        )
    finally:
        os.close(slave)
    output = b""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                output += chunk
        assert process.wait(within) == 0, output
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return output.decode(errors="replace")


@pytest.mark.parametrize(
    ("take", "expected"),
    [("take", "controlling terminal"), ("leave", "no controlling terminal")],
)
def test_a_tui_takes_its_pty_as_its_controlling_terminal(take: str, expected: str) -> None:
    # Without it the kernel would tell the TUI of no resize of the SSH client's window.
    said = _on_a_fresh_pty([sys.executable, "-c", _PROBE, take])
    assert said.strip().splitlines()[-1] == expected
