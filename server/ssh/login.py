"""The login of one SSH connection: by public key only, against the users table on every
attempt; terminal sessions for who logged in; every forwarding refused, and the refusals told."""

from __future__ import annotations

import logging

import asyncssh

from server import readers
from server.ssh.terminal import Terminals, TerminalSession

log = logging.getLogger(__name__)

_NO_FORWARDING = "warroom: no forwarding is served here"


class Login(asyncssh.SSHServer):
    """One SSH connection: public-key login against the users table; sessions; no forwarding."""

    def __init__(
        self, terminals: Terminals, connections: set[asyncssh.SSHServerConnection]
    ) -> None:
        self.terminals = terminals
        self.connections = connections
        """The gateway's open connections, this one among them while it lasts."""
        self.user: str | None = None
        self.key = ""
        """The fingerprint of the key the user logged in with."""
        self.peer = "?"
        self.username = ""
        self.offered: list[str] = []
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.connections.add(conn)
        peer = conn.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.connections.discard(self.conn)
        if self.user is None and self.offered:
            self.terminals.announce(
                f"ssh: refused {self.peer}: no user has the key {', '.join(self.offered)}"
            )

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Called for every key the client offers, and again for the one it signs with; the
        # last key accepted is the one the login succeeds with.
        users = self.terminals.hub.store.users
        try:
            actor = await readers.read(users.actor_for_key, key.public_data)
        except Exception as error:
            log.warning("warroom: ssh: could not check a key of %s: %s", self.peer, error)
            return False
        fingerprint = str(key.get_fingerprint("sha256"))
        if actor is None:
            if fingerprint not in self.offered:
                self.offered.append(fingerprint)
            return False
        self.user = actor.name
        self.key = fingerprint
        return True

    def session_requested(self) -> TerminalSession | bool:
        if self.user is None:  # pragma: no cover - asyncssh opens sessions only after login
            return False
        return TerminalSession(self.terminals, self.user, self.key, self.username, self.peer)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self._refused_forwarding(f"to {dest_host}:{dest_port}")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, _NO_FORWARDING)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self._refused_forwarding(f"from {listen_host}:{listen_port}")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self._refused_forwarding(f"to {dest_path}")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, _NO_FORWARDING)

    def unix_server_requested(self, listen_path: str) -> bool:
        self._refused_forwarding(f"from {listen_path}")
        return False

    def _refused_forwarding(self, what: str) -> None:
        self.terminals.announce(f"ssh: refused {self.user} ({self.peer}) a forwarding {what}")
