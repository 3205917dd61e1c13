"""The real OpenSSH client against `warroom serve --ssh-port 0`: keys made with `ssh-keygen`,
`ssh -tt` in tmux panes (see `tests.kit.tmux`), and a look at the processes the gateway starts.

Every client ignores the machine's and the user's SSH configuration (`-F /dev/null`), offers only
the key it is given, never prompts, and keeps the host key in the test's own known_hosts file,
under one alias so that a restart on another port still checks the same key. Every wait is a
bounded poll.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from tests.kit.harness import Hub
from tests.kit.tmux import POLL, Pane, Screen, Tmux, terminal_env

SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")
SFTP = shutil.which("sftp")
SCP = shutil.which("scp")

HOST_ALIAS = "warroom-e2e"
EXITED = "[ssh exited]"
CLIENT_TIMEOUT = 30.0
PAINT = 20.0
"""How long an SSH session may take from `ssh` to the war room on screen."""
GONE = 10.0
"""How long a TUI may outlive its SSH link (the gateway hangs up, then kills after 2 s)."""


def missing() -> str | None:
    """Why the SSH tests cannot run here, or None."""
    for name, path in (("ssh", SSH), ("ssh-keygen", SSH_KEYGEN), ("tmux", shutil.which("tmux"))):
        if path is None:
            return f"{name} is not installed (package openssh-client / tmux)"
    return None


def make_key(folder: Path, name: str) -> Path:
    """A new ed25519 key pair `folder/name` and `folder/name.pub`; return the private key."""
    assert SSH_KEYGEN is not None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@e2e", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=CLIENT_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return path


class KeyedUser(NamedTuple):
    """A user who logs in over SSH with a key of their own."""

    key: Path
    """The private key (the public one is beside it, `.pub`)."""
    token: str
    """The user's token, for the websocket."""


def user_with_key(
    hub: Hub, folder: Path, name: str, role: str = "responder", *groups: str
) -> KeyedUser:
    """A new user `name` of `hub` who owns a new key pair `folder/name`."""
    key = make_key(folder, name)
    return KeyedUser(key, hub.user_add(name, role, *groups, ssh_key=Path(f"{key}.pub")))


def fingerprint(public: Path) -> str:
    """`SHA256:...` of a public key file (or known_hosts line), as `ssh-keygen -l` says."""
    assert SSH_KEYGEN is not None
    out = subprocess.run(
        [SSH_KEYGEN, "-l", "-f", str(public)],
        check=True,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
    ).stdout
    return out.split()[1]


class Ssh:
    """OpenSSH clients of one hub's gateway, sharing one known_hosts file."""

    def __init__(self, hub: Hub, folder: Path) -> None:
        self.hub = hub
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.known_hosts = folder / "known_hosts"

    def options(self, key: Path, strict: str = "accept-new") -> list[str]:
        """The options every client here uses (`strict`: StrictHostKeyChecking)."""
        return [
            "-F", "/dev/null",
            "-p", str(self.hub.ssh_port),
            "-i", str(key),
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", f"StrictHostKeyChecking={strict}",
            "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", f"HostKeyAlias={HOST_ALIAS}",
            "-o", "ConnectTimeout=10",
        ]  # fmt: skip

    def argv(
        self,
        key: Path,
        user: str = "",
        *command: str,
        tty: bool = True,
        extra: Sequence[str] = (),
        strict: str = "accept-new",
    ) -> list[str]:
        """`ssh [-tt] OPTIONS [USER@]127.0.0.1 [COMMAND]`."""
        assert SSH is not None
        target = f"{user}@127.0.0.1" if user else "127.0.0.1"
        return [
            SSH,
            *(["-tt"] if tty else []),
            *self.options(key, strict),
            *extra,
            target,
            *command,
        ]

    def run(
        self,
        key: Path,
        *command: str,
        user: str = "",
        tty: bool = False,
        extra: Sequence[str] = (),
        strict: str = "accept-new",
    ) -> subprocess.CompletedProcess[str]:
        """Run an ssh client to its end, without a terminal; return what it did."""
        return subprocess.run(
            self.argv(key, user, *command, tty=tty, extra=extra, strict=strict),
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=self.hub.env,
        )

    def open(
        self,
        tmux: Tmux,
        name: str,
        key: Path,
        user: str = "",
        extra: Sequence[str] = (),
        strict: str = "accept-new",
    ) -> Pane:
        """`ssh -tt` in a tmux pane of its own, as a person at a terminal would run it; when it
        ends, the pane says its exit status (see `exit_status`)."""
        argv = self.argv(key, user, extra=extra, strict=strict)
        # The shell exits with ssh's status too: tmux may drop a dying pane's last line.
        script = f'"$@"; status=$?; echo "{EXITED} $status"; exit $status'
        shell = ["/bin/sh", "-c", script, "sh", *argv]
        return tmux.spawn(name, shell, terminal_env(self.hub.env))


def online_as(who: str) -> Callable[[Screen], bool]:
    """A screen check: the top line says the client is online, as `who`."""
    return lambda screen: f"● online  {who} (" in screen


def exit_status(pane: Pane, timeout: float = CLIENT_TIMEOUT) -> int:
    """Wait for the ssh client of a pane made by `Ssh.open` to exit; return its exit status (as
    the pane says it, or as its shell ended with it)."""
    screen, _ = pane.wait_for(
        lambda s: EXITED in s or pane.dead(), "showing that ssh exited", timeout
    )
    found = re.search(rf"{re.escape(EXITED)} (\d+)", screen.text)
    if found is not None:
        return int(found.group(1))
    status = pane.dead_status()
    assert status is not None, screen.text
    return status


def children(pid: int) -> set[int]:
    """The live (not zombie) processes whose parent is `pid`."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True if `pid` runs (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def environ(pid: int) -> dict[str, str]:
    """The environment a process started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def command_line(pid: int) -> list[str]:
    """The argv a process started with."""
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [arg.decode(errors="replace") for arg in raw.split(b"\0")[:-1]]


def owns_its_terminal(pid: int) -> bool:
    """True if the process has a controlling terminal and is in its foreground process group
    (what the kernel sends SIGWINCH to)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    process_group, tty, foreground = int(fields[2]), int(fields[4]), int(fields[5])
    return tty != 0 and foreground == process_group


def wait_until(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll `check` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {timeout}s"
        time.sleep(POLL)


FORK_SESSIONS = "--fork-sessions"
"""What names the gateway's pre-imported process on its command line."""


def zygotes(hub: Hub) -> set[int]:
    """The hub's pre-imported processes that fork the TUIs (one while SSH is served)."""
    assert hub.proc is not None
    return {pid for pid in children(hub.proc.pid) if FORK_SESSIONS in _started_as(pid)}


def tuis(hub: Hub) -> set[int]:
    """The TUI processes the hub's gateway runs now: forked by its pre-imported process, or
    started afresh by the hub itself."""
    assert hub.proc is not None
    found: set[int] = set()
    for pid in children(hub.proc.pid):
        if FORK_SESSIONS in _started_as(pid):
            found |= children(pid)
        else:
            found.add(pid)
    return found


def _started_as(pid: int) -> list[str]:
    try:
        return command_line(pid)
    except OSError:
        return []


def new_tui(hub: Hub, before: set[int], timeout: float = PAINT) -> int:
    """Wait for one TUI that was not in `before`; return its pid."""
    found: set[int] = set()

    def started() -> bool:
        found.update(tuis(hub) - before)
        return bool(found)

    wait_until(started, "a TUI started by the gateway", timeout)
    assert len(found) == 1, found
    return found.pop()
