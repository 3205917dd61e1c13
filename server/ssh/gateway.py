"""The SSH gateway of one hub (`Gateway`): listens, hands each connection to a `Login`, and ends
sessions on shutdown or when their user is revoked."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncssh
from asyncssh.connection import SSHConnection

from server import readers
from server.hub import Hub
from server.ssh.child import HANGUP_GRACE
from server.ssh.forked import Zygote, wanted
from server.ssh.host_key import default_host_key, load_host_key
from server.ssh.login import Login
from server.ssh.settings import GatewayError, SshSettings
from server.ssh.terminal import Terminals

log = logging.getLogger(__name__)

USER_POLL = 1.0
"""Seconds between two checks that the users of open sessions are still active."""


class Gateway:
    """The SSH server of one hub: listens, logs users in by key, runs a TUI per session."""

    def __init__(self, hub: Hub, url: str, settings: SshSettings) -> None:
        self.hub = hub
        self.settings = settings
        self.terminals = Terminals(hub, url, settings)
        """The open sessions; `url` is the hub's websocket URL, as their children reach it."""
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.host_key: asyncssh.SSHKey | None = None
        self.port = 0
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def fingerprint(self) -> str:
        """The host key's SHA256 fingerprint, as `ssh` shows it."""
        assert self.host_key is not None
        return str(self.host_key.get_fingerprint("sha256"))

    async def start(self, host: str) -> None:
        """Listen on `host` and the settings' port.

        Raises:
            GatewayError: if the host key cannot be used or the port cannot be bound.
        """
        path = self.settings.host_key or default_host_key()
        self.host_key = await asyncio.to_thread(load_host_key, path)
        try:
            self._acceptor = await asyncssh.listen(
                host,
                self.settings.port,
                server_factory=lambda: Login(self.terminals, self.connections),
                server_host_keys=[self.host_key],
                encoding=None,
                public_key_auth=True,
                password_auth=False,
                kbdint_auth=False,
                gss_auth=False,
                host_based_auth=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                server_version="warroom",
                login_timeout=30,
                keepalive_interval=15,
                keepalive_count_max=4,
            )
        except OSError as error:
            raise GatewayError(
                f"cannot listen for SSH on {host}:{self.settings.port}: {error.strerror or error}"
            ) from None
        self.port = self._acceptor.get_port()
        if wanted():
            # Started with the gateway, so that it has imported everything by the first session.
            zygote = Zygote(self.settings.session_command, self.terminals.announce)
            zygote.start()
            self.terminals.zygote = zygote
        self._watcher = asyncio.create_task(self._watch_users())
        if self.settings.on_ready is not None:
            self.settings.on_ready(host, self.port, self.fingerprint)

    async def close(self) -> None:
        """Stop listening, end every session (their TUIs are hung up, then killed), and wait."""
        if self._watcher is not None:
            self._watcher.cancel()
        if self._acceptor is not None:
            self._acceptor.close()
        ending = list(self.terminals.open)
        for session in ending:
            session.end("the war room is shutting down")
        # A session's connection is left to its client, which closes it once it has the reason
        # and the exit status (closing it here could cut both off); the others go now.
        held: set[SSHConnection] = {s.chan.get_connection() for s in ending if s.chan is not None}
        for connection in [c for c in self.connections if c not in held]:
            connection.close()  # logging in, or refused and lingering
        if held:
            closing = [asyncio.ensure_future(c.wait_closed()) for c in held]
            await asyncio.wait(closing, timeout=HANGUP_GRACE)
            for lingering in held:
                lingering.close()
            for task in closing:
                task.cancel()
        await self.terminals.reaped(HANGUP_GRACE * 3)
        if self.terminals.zygote is not None:
            await self.terminals.zygote.close(HANGUP_GRACE)
        if self._acceptor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), HANGUP_GRACE)

    async def _watch_users(self) -> None:
        """End the sessions of users who were revoked since they logged in."""
        while True:
            await asyncio.sleep(USER_POLL)
            if not self.terminals.open:
                continue
            try:
                users = await readers.read(self.hub.store.users.states)
            except Exception as error:
                log.warning("warroom: ssh: could not read the users: %s", error)
                continue
            for session in list(self.terminals.open):
                if users.get(session.user) is None:
                    session.end("your access was revoked")
