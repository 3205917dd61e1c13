"""The status page the hub serves to browsers: its few files, read from the installed package,
each answered with headers that keep the page to itself.

The page is plain HTML, CSS and one module script (`server/page/`); it is a client of the same
websocket protocol as the terminal client, so nothing here reads the log or knows a user. Only
the files listed in `FILES` are served; any other path is 404, and no path reaches the disk.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from http import HTTPStatus
from importlib.resources import files
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
"""Each path the page is served under: the file in `server/page/` and its content type."""

_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)
"""A `Host` header that may be named in the page's policy: a name or address and a port, with
nothing that could add a directive (`;`, spaces, quotes)."""


def is_upgrade(request: Request) -> bool:
    """Whether `request` asks for a websocket (any other is a plain HTTP request)."""
    return any(
        part.strip().lower() == "websocket"
        for value in request.headers.get_all("Upgrade")
        for part in value.split(",")
    )


@dataclass(frozen=True)
class PageFile:
    """One file of the page, as served."""

    body: bytes
    content_type: str


def _load() -> dict[str, PageFile]:
    folder = files("server").joinpath("page")
    loaded: dict[str, PageFile] = {}
    for path, (name, content_type) in FILES.items():
        loaded[path] = PageFile(folder.joinpath(name).read_bytes(), content_type)
    return loaded


class StatusPage:
    """Answers the plain HTTP requests for the page (read once, when the hub starts)."""

    def __init__(self) -> None:
        self._files = _load()

    def answer(self, request: Request, tls: bool) -> Response:
        """The response to a plain HTTP request: a file of the page, or why not (404 for an
        unknown path, 405 for a method other than GET or HEAD, 400 for an unusable `Host`)."""
        path = urlsplit(request.path).path
        page = self._files.get(path)
        if page is None:
            return _text(HTTPStatus.NOT_FOUND, f"no page at {path[:80]}\n")
        if request.method not in ("GET", "HEAD"):
            response = _text(HTTPStatus.METHOD_NOT_ALLOWED, "the page is read with GET\n")
            response.headers["Allow"] = "GET, HEAD"
            return response
        host = request.headers.get("Host", "")
        if not _HOST.match(host):
            return _text(HTTPStatus.BAD_REQUEST, "send the hub's address in Host\n")
        body = page.body if request.method == "GET" else b""
        headers = _headers(page.content_type, len(page.body))
        headers["Content-Security-Policy"] = policy(host, tls)
        return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, body)


def policy(host: str, tls: bool) -> str:
    """The page's Content-Security-Policy: its own scripts, styles and images only, and a
    websocket to the hub that served it (`host`, as the browser named it) and nowhere else."""
    socket = f"{'wss' if tls else 'ws'}://{host}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {socket}",  # 'self': the health check a refused sign-in makes
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _headers(content_type: str, length: int) -> Headers:
    return Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(length)),
            ("Content-Type", content_type),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            # Revalidated on every load: a hub upgraded in place serves its new page at once.
            ("Cache-Control", "no-cache"),
            ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
    )


def _text(status: HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = _headers("text/plain; charset=utf-8", len(body))
    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return Response(status.value, status.phrase, headers, body)
