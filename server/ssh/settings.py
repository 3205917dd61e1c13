"""What the SSH gateway is asked to do (`SshSettings`), and the error it cannot start with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class GatewayError(Exception):
    """The gateway cannot start, with a sentence for the operator."""


@dataclass
class SshSettings:
    """What `warroom serve --ssh-port` asks of the gateway."""

    port: int
    session_command: Sequence[str]
    """The program each session runs, as the start of its argv (e.g. `[sys.executable, "-m",
    "warroom", "join"]`): the gateway adds the hub's URL and, if the SSH user name picks one, the
    incident. It runs on the session's PTY as the leader of a new session, with `child_env`, and
    must take the PTY as its controlling terminal, or the kernel tells it of no resize. With
    `--fork-sessions FD` added, it must be the pre-imported process of `server.ssh.zygote`, on
    the socket FD, which forks each session's TUI from itself."""
    host_key: Path | None = None
    """The host key file (default: under the user data directory; made on first use)."""
    on_ready: Callable[[str, int, str], None] | None = None
    """Called with (host, port, host key fingerprint) once the gateway listens."""
    tls_pin: Path | None = None
    """With TLS, the hub's certificate: a session's TUI trusts it alone, whatever its names
    (it reaches the hub on a loopback address, which the certificate need not name)."""
    sessions_per_key: int = 5
    """Sessions one key may hold open at once; the next is refused, with the reason."""
    announce: Callable[[str], None] | None = None
    """Told, in one line, of each session that opens or ends and each refused login."""
