"""What the SSH gateway refuses, through the real OpenSSH clients (`ssh`, `sftp`, `scp`): unknown,
removed and revoked keys, passwords, commands, sessions without a terminal, file transfer, and
every kind of forwarding. Nothing refused starts a TUI or changes the war room.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.harness import Hub, free_port
from tests.kit.ssh import (
    CLIENT_TIMEOUT,
    PAINT,
    SCP,
    SFTP,
    Ssh,
    exit_status,
    make_key,
    missing,
    online_as,
    tuis,
    user_with_key,
)
from tests.kit.tmux import Tmux

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

ONLY = "warroom: only the war room is served here"


@pytest.fixture
def ana(ssh_hub: Hub, tmp_path: Path) -> Path:
    """A responder's key, known to the hub."""
    return user_with_key(ssh_hub, tmp_path / "keys", "ana").key


@pytest.fixture
def ssh(ssh_hub: Hub, tmp_path: Path) -> Ssh:
    return Ssh(ssh_hub, tmp_path / "ssh")


def test_an_unknown_key_is_refused(ssh_hub: Hub, ssh: Ssh, tmp_path: Path, ana: Path) -> None:
    stranger = make_key(tmp_path / "keys", "stranger")
    tmux = Tmux()
    try:
        pane = ssh.open(tmux, "stranger", stranger, user="INC-1")
        assert exit_status(pane) == 255
        screen = pane.capture()
        assert "Permission denied (publickey)" in screen, screen.text
    finally:
        tmux.close()
    assert not tuis(ssh_hub)
    # The operator can tell whose key it was not.
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", f"{stranger}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert ssh_hub.output is not None
    ssh_hub.output.wait_for(lambda line: "refused" in line and fingerprint in line, 5.0)


def test_passwords_and_keyboard_interactive_are_refused(ssh: Ssh, ana: Path) -> None:
    asked = ssh.run(
        ana,
        extra=["-o", "PreferredAuthentications=password,keyboard-interactive"],
        tty=True,
    )
    assert asked.returncode == 255
    assert "Permission denied (publickey)" in asked.stderr


def test_a_key_works_from_when_it_is_added_until_it_is_removed(
    ssh_hub: Hub, ssh: Ssh, tmp_path: Path
) -> None:
    key = make_key(tmp_path / "keys", "bob")
    ssh_hub.user_add("bob", "responder")
    assert ssh.run(key, "ls").returncode == 255  # not bob's yet

    # Added while serve runs: it works at once.
    added = ssh_hub.admin("user", "key", "add", "bob", f"{key}.pub")
    assert added.returncode == 0, added.stderr
    tmux = Tmux()
    try:
        pane = ssh.open(tmux, "bob", key)
        pane.wait_for(online_as("bob"), "bob's lobby", PAINT)
    finally:
        tmux.close()

    removed = ssh_hub.admin("user", "key", "remove", "bob", f"{key}.pub")
    assert removed.returncode == 0, removed.stderr
    after = ssh.run(key, tty=True)
    assert after.returncode == 255 and "Permission denied" in after.stderr


def test_a_revoked_users_key_is_refused(ssh_hub: Hub, ssh: Ssh, ana: Path) -> None:
    assert ssh_hub.admin("user", "revoke", "ana").returncode == 0
    refused = ssh.run(ana, tty=True)
    assert refused.returncode == 255
    assert "Permission denied (publickey)" in refused.stderr


def test_a_command_is_refused(ssh_hub: Hub, ssh: Ssh, ana: Path) -> None:
    for tty in (False, True):
        ran = ssh.run(ana, "ls", "/", tty=tty)
        assert ran.returncode == 1, ran
        assert ONLY in ran.stderr
        assert "etc" not in ran.stdout  # nothing ran
    assert not tuis(ssh_hub)


def test_a_session_without_a_terminal_is_refused(ssh: Ssh, ana: Path) -> None:
    ran = ssh.run(ana, extra=["-T"])
    assert ran.returncode == 1
    assert ONLY in ran.stderr and "ssh -t" in ran.stderr


def test_sftp_and_scp_are_refused(ssh_hub: Hub, ssh: Ssh, ana: Path, tmp_path: Path) -> None:
    assert SFTP is not None and SCP is not None
    options = [option for option in ssh.options(ana) if option != "-p"]
    # sftp and scp spell the port -P.
    port_at = options.index(str(ssh_hub.ssh_port))
    options[port_at : port_at + 1] = []
    options = ["-P", str(ssh_hub.ssh_port), *options]
    sftp = subprocess.run(
        [SFTP, *options, "127.0.0.1"],
        input="ls\n",
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
    )
    assert sftp.returncode != 0
    assert "subsystem request failed" in sftp.stderr, sftp.stderr

    copied = tmp_path / "copied"
    for mode in ([], ["-O"]):  # the SFTP protocol, then the legacy one (an exec of scp)
        scp = subprocess.run(
            [SCP, *mode, *options, "127.0.0.1:/etc/hostname", str(copied)],
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert scp.returncode != 0, (mode, scp)
        assert not copied.exists()
    assert not tuis(ssh_hub)


def test_local_forwarding_is_refused(ssh_hub: Hub, ssh: Ssh, ana: Path) -> None:
    local = free_port()
    forward = f"{local}:127.0.0.1:{ssh_hub.port}"
    forwarding = subprocess.Popen(
        ssh.argv(ana, tty=False, extra=["-N", "-o", "ExitOnForwardFailure=yes", "-L", forward]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ssh_hub.env,
    )
    try:
        # The client listens locally; what comes through must not reach the hub.
        reply = b""
        deadline = time.monotonic() + CLIENT_TIMEOUT
        while True:
            assert forwarding.poll() is None, forwarding.communicate()[1]
            try:
                with socket.create_connection(("127.0.0.1", local), timeout=5) as through:
                    through.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    through.settimeout(5)
                    try:
                        reply = through.recv(1024)
                    except (ConnectionResetError, TimeoutError):
                        reply = b""
                break
            except ConnectionRefusedError:  # not listening yet
                assert time.monotonic() < deadline, "the client never listened"
                time.sleep(0.05)
        assert b"ok" not in reply and b"HTTP" not in reply, reply
    finally:
        forwarding.terminate()
        _, errors = forwarding.communicate(timeout=CLIENT_TIMEOUT)
    assert "administratively prohibited" in errors, errors
    # The hub itself answers, so it was the gateway that said no.
    with socket.create_connection(("127.0.0.1", ssh_hub.port), timeout=5) as direct:
        direct.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"ok" in direct.recv(1024)


def test_remote_and_stdio_forwarding_are_refused(ssh_hub: Hub, ssh: Ssh, ana: Path) -> None:
    remote = ssh.run(
        ana,
        extra=["-N", "-o", "ExitOnForwardFailure=yes", "-R", f"{free_port()}:127.0.0.1:9"],
    )
    assert remote.returncode == 255
    assert "remote port forwarding failed" in remote.stderr, remote.stderr

    stdio = ssh.run(ana, extra=["-W", f"127.0.0.1:{ssh_hub.port}"])
    assert stdio.returncode == 255
    assert "stdio forwarding failed" in stdio.stderr, stdio.stderr
