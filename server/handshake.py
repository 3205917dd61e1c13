"""The hub's handshake: who a connection is, from its bearer token, before the upgrade.

A token is either a user's stored token or an in-memory session token that the SSH gateway holds
for one of its sessions (`Handshake.session_token`). Either way the user is read as they are now,
so a revocation or a change of role applies to the next connection at once.

A browser cannot set `Authorization` on a websocket: it offers the subprotocols `warroom.v1` and
`bearer.<token>` instead, and the hub selects `warroom.v1` (never the token). Plain HTTP requests
(no upgrade) get the status page's files (`server.web`), or 404; `/health` and `/healthz`
(`server.health`) answer without a token.

One user holds at most `MAX_CONNECTIONS_PER_USER` connections; the next is refused with 429
before the upgrade. What is kept of a request that passed the check is held weakly: a request
that never becomes a websocket (a plain GET) leaves nothing behind.
"""

from __future__ import annotations

import logging
import secrets
import weakref
from collections import Counter
from collections.abc import Sequence
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from server import readers
from server.health import Health
from server.limits import MAX_CONNECTIONS_PER_USER, Outbox
from server.session import Session, seat
from server.transport import Origins
from server.web import StatusPage, is_upgrade
from warroom.core import protocol
from warroom.core.domain import Actor
from warroom.store import StoreError, UserDirectory

log = logging.getLogger(__name__)


class Handshake:
    """Checks each connection's token in `process_request`, and hands its session to the hub."""

    def __init__(self, users: UserDirectory, outbox: Outbox, health: Health) -> None:
        self.users = users
        self.health = health
        self.outbox = outbox
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, Actor] = (
            weakref.WeakKeyDictionary()
        )
        """Connections past the token check whose handler has not started yet (weakly: one
        that never upgrades is forgotten with it)."""
        self._observers: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self.open: Counter[str] = Counter()
        """Each user's connections whose handler runs, by name."""
        self._session_tokens: dict[str, str] = {}
        """In-memory tokens of the SSH gateway's sessions, by token: the user's name."""
        self.origins: Origins | None = None
        """The web origins that may connect (set once the hub listens); a request that names no
        origin (the CLI, the TUI) is not a browser's and needs none."""
        self.page = StatusPage()

    async def authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        """`process_request`: refuse a web page of another origin; answer health checks
        (`/health`: the process answers; `/healthz`: its store does too); refuse the upgrade
        without a valid token."""
        origin = request.headers.get("Origin")
        host = request.headers.get("Host")
        if origin is not None and (self.origins is None or not self.origins.admits(origin, host)):
            return connection.respond(HTTPStatus.FORBIDDEN, "this origin may not connect here\n")
        path = urlsplit(request.path).path
        if path == "/healthz":
            return await self.health.answer()
        if path == "/health":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if not is_upgrade(request):
            return self.page.answer(
                request, tls=self.origins is not None and self.origins.scheme == "https"
            )
        token, problem = _token(request)
        if problem:
            return _unauthorized(connection, problem)
        name = self._session_tokens.get(token)
        try:
            if name is not None:
                # The user as they are now: a revocation or a change of role applies at once.
                actor = await readers.read(self.users.actor, name)
            else:
                actor = await readers.read(self.users.authenticate, token)
        except StoreError as error:
            # The database's own words may name others' data: they go to the log only.
            log.warning("could not check a token: %s", error)
            return connection.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "the war room cannot check your token right now (its database does not "
                "answer); try again shortly\n",
            )
        if actor is None:
            return _unauthorized(connection, "unknown or revoked token\n")
        held = self.open[actor.name] + sum(a.name == actor.name for a in self._admitted.values())
        if held >= MAX_CONNECTIONS_PER_USER:
            return connection.respond(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"{actor.name} already holds {held} connections, the most one user may; "
                "close one first\n",
            )
        query = parse_qs(urlsplit(request.path).query)
        self._admitted[connection] = actor
        if query.get("mode") == ["observer"]:
            self._observers.add(connection)
        return None

    def admit(self, connection: ServerConnection) -> Session | None:
        """The session of a connection that passed `authenticate`, or None if it did not."""
        actor = self._admitted.pop(connection, None)
        if actor is None:
            return None
        observer_mode = connection in self._observers
        self._observers.discard(connection)
        self.open[actor.name] += 1
        return Session(
            connection, seat(actor, observer_mode), self.outbox, observer_mode=observer_mode
        )

    def release(self, session: Session) -> None:
        """`session`'s handler ended: its user holds one connection fewer."""
        name = session.actor.name
        self.open[name] -= 1
        if self.open[name] <= 0:
            del self.open[name]

    def session_token(self, name: str) -> str:
        """A token that logs the user `name` in until `end_session_token` (never stored)."""
        token = "wrs_" + secrets.token_urlsafe(32)
        self._session_tokens[token] = name
        return token

    def end_session_token(self, token: str) -> None:
        """Stop `token` logging anyone in (open connections are left to close with it)."""
        self._session_tokens.pop(token, None)


def select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """`select_subprotocol` of `serve`: `warroom.v1` for a browser that offers it (never the
    subprotocol that carries its token); no subprotocol for the CLI and the TUI, which offer
    none."""
    return Subprotocol(protocol.SUBPROTOCOL) if protocol.SUBPROTOCOL in offered else None


def _token(request: Request) -> tuple[str, str]:
    """The bearer token of `request` and "", or "" and what to send instead: `Authorization:
    Bearer`, or a browser's subprotocols `warroom.v1` and `bearer.<token>`."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip(), ""
        return "", "send Authorization: Bearer <token>\n"
    offered = [
        part.strip()
        for value in request.headers.get_all("Sec-WebSocket-Protocol")
        for part in value.split(",")
    ]
    tokens = [p.removeprefix(protocol.BEARER_SUBPROTOCOL) for p in offered]
    tokens = [t for t, p in zip(tokens, offered, strict=True) if t != p and t]
    if len(tokens) == 1 and protocol.SUBPROTOCOL in offered:
        return tokens[0], ""
    return "", (
        f"send Authorization: Bearer <token>, or from a browser the subprotocols "
        f"{protocol.SUBPROTOCOL} and {protocol.BEARER_SUBPROTOCOL}<token>\n"
    )


def _unauthorized(connection: ServerConnection, text: str) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, text)
    response.headers["WWW-Authenticate"] = 'Bearer realm="warroom"'
    return response
