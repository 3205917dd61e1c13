"""How the hub is reached: its TLS context, which addresses it may serve without TLS, and which
web origins may open a websocket to it."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Origin = tuple[str, str, int]
"""A web origin: scheme, host (lower case, IPv6 without brackets), port."""


class TransportError(Exception):
    """The hub cannot be served as asked, with a sentence for the operator."""


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS context serving the certificate chain `cert` with the private key `key`.

    Raises:
        TransportError: if either file cannot be read or they do not belong together.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or error
        message = f"cannot use the TLS certificate {cert} and key {key}: {reason}"
        raise TransportError(message) from None
    return context


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) is reachable from this machine alone."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(text: str) -> Origin | None:
    """`text` (`https://host:port`, as a browser sends it in `Origin`) as an `Origin`; None if it
    names no scheme and host (`null`, say)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def allowed_origins(texts: Iterable[str]) -> frozenset[Origin]:
    """The origins `--allow-origin` names.

    Raises:
        TransportError: if one is not an origin.
    """
    allowed: set[Origin] = set()
    for text in texts:
        origin = origin_of(text)
        if origin is None:
            raise TransportError(f"--allow-origin {text}: not an origin (https://host[:port])")
        allowed.add(origin)
    return frozenset(allowed)


class Origins:
    """The web origins that may open a websocket: the hub's own address as served (its page's
    origin: `http` or, with TLS, `https`), and those the operator allows."""

    def __init__(self, host: str, port: int, tls: bool, allowed: Iterable[Origin] = ()) -> None:
        scheme = "https" if tls else "http"
        self.scheme = scheme
        """The scheme of the hub's own page: `https` with TLS, else `http`."""
        hosts = {host.strip("[]").lower()}
        if is_loopback(host):
            hosts |= {"localhost", "127.0.0.1", "::1"}
        self.admitted = {(scheme, name, port) for name in hosts} | set(allowed)

    def admits(self, origin: str, host: str | None = None) -> bool:
        """Whether a request with the header `Origin: origin` may open a websocket: `host` is
        its `Host` header, the hub's address as the browser sees it (behind a name, or a
        wildcard address), whose page has the origin of that host with the hub's scheme."""
        seen = origin_of(origin)
        if seen is None:
            return False
        if seen in self.admitted:
            return True
        return host is not None and seen == origin_of(f"{self.scheme}://{host}")
