"""The hub serves the status page beside the websocket: its files with headers that keep it to
itself, 404 for anything else; a browser signs in with the subprotocols `warroom.v1` and
`bearer.<token>`, and a page of another origin than the hub's (as its `Host` names it) is
refused before the upgrade. Real sockets, no browser."""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import socket
from urllib.parse import urlsplit

import pytest
from websockets import InvalidStatus
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.kit.wire import Hub, send, until


def _get(hub: Hub, path: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    address = urlsplit(hub.url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=5)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _body(hub: Hub, path: str) -> bytes:
    address = urlsplit(hub.url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=5)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


async def test_the_page_and_its_files_are_served_with_strict_headers(hub: Hub) -> None:
    port = urlsplit(hub.url).port
    expected = {
        "/": "text/html",
        "/index.html": "text/html",
        "/app.js": "text/javascript",
        "/app.css": "text/css",
        "/favicon.svg": "image/svg+xml",
    }
    for path, kind in expected.items():
        response = await asyncio.to_thread(_get, hub, path)
        assert response.status == 200, path
        assert (response.getheader("Content-Type") or "").startswith(kind), path
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("Referrer-Policy") == "no-referrer"
        assert response.getheader("Cache-Control") == "no-cache"
        policy = response.getheader("Content-Security-Policy") or ""
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == f"'self' ws://127.0.0.1:{port}"
        assert directives["frame-ancestors"] == "'none'"
    page = await asyncio.to_thread(_body, hub, "/")
    assert b'<script type="module" src="/app.js">' in page
    assert b"<script>" not in page and b"style=" not in page, "inline code would need the CSP"
    script = await asyncio.to_thread(_body, hub, "/app.js")
    assert b"bearer." in script and b"innerHTML" not in script


async def test_unknown_paths_are_404_and_the_health_check_still_answers(hub: Hub) -> None:
    for path in ("/nope", "/../pyproject.toml", "/page/app.js", "/app.js/", "/%2e%2e/app.py"):
        response = await asyncio.to_thread(_get, hub, path)
        assert response.status == 404, path
    assert (await asyncio.to_thread(_get, hub, "/health")).status == 200
    assert await asyncio.to_thread(_body, hub, "/health") == b"ok\n"
    refused = await asyncio.to_thread(_get, hub, "/", "POST")
    assert refused.status == 405 and refused.getheader("Allow") == "GET, HEAD"
    head = await asyncio.to_thread(_get, hub, "/app.css", "HEAD")
    assert head.status == 200


async def test_a_host_that_could_bend_the_policy_is_refused(hub: Hub) -> None:
    response = await asyncio.to_thread(_get, hub, "/", Host="x; script-src *")
    assert response.status == 400


async def test_a_browser_signs_in_with_subprotocols_and_gets_only_the_protocol_back(
    hub: Hub,
) -> None:
    token = hub.tokens["exec"]
    async with connect(
        hub.url,
        subprotocols=[Subprotocol("warroom.v1"), Subprotocol(f"bearer.{token}")],
        proxy=None,
    ) as connection:
        assert connection.subprotocol == "warroom.v1"
        assert connection.response is not None
        echoed = connection.response.headers.get_all("Sec-WebSocket-Protocol")
        assert echoed == ["warroom.v1"]
        await send(connection, {"type": "hello", "cursor": 0})
        welcome = await until(connection, "welcome")
        assert welcome["user"] == "erin" and welcome["role"] == "stakeholder"
        await until(connection, "synced")


@pytest.mark.parametrize(
    "offered",
    [
        ["warroom.v1", "bearer.wr_forged"],  # no such token
        ["warroom.v1"],  # no token at all
        ["warroom.v1", "bearer."],  # an empty one
        ["bearer.{token}"],  # a valid token, without the protocol it speaks
        ["warroom.v1", "bearer.{token}", "bearer.{token}"],  # two tokens: which one?
    ],
)
async def test_a_forged_missing_or_malformed_subprotocol_token_is_401(
    hub: Hub, offered: list[str]
) -> None:
    protocols = [Subprotocol(p.format(token=hub.tokens["exec"])) for p in offered]
    with pytest.raises(InvalidStatus) as refused:
        await connect(hub.url, subprotocols=protocols, proxy=None)
    assert refused.value.response.status_code == 401
    assert hub.tokens["exec"].encode() not in refused.value.response.body


async def test_the_terminal_clients_need_no_subprotocol(hub: Hub) -> None:
    connection = await hub.connect("responder")
    assert connection.subprotocol is None
    await send(connection, {"type": "hello", "cursor": 0})
    await until(connection, "synced")


def _handshake(hub: Hub, host: str, origin: str, token: str) -> int:
    """The status of a raw websocket handshake naming `host` and `origin`."""
    address = urlsplit(hub.url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET / HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: warroom.v1, bearer.{token}\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((str(address.hostname), int(address.port or 0)), 5) as raw:
        raw.sendall(request.encode())
        status = raw.recv(1024).split(b"\r\n", 1)[0]
    return int(status.split()[1])


async def test_the_origin_must_be_the_hubs_own_address_as_the_browser_names_it(hub: Hub) -> None:
    port = int(urlsplit(hub.url).port or 0)
    token = hub.tokens["exec"]
    # Behind a name (or bound to a wildcard address), the page's origin is the Host it was
    # served under.
    named = f"warroom.example:{port}"
    assert await asyncio.to_thread(_handshake, hub, named, f"http://{named}", token) == 101
    for origin in (
        f"http://evil.example:{port}",
        f"https://{named}",  # no TLS here
        f"http://warroom.example:{port + 1}",
        "null",
    ):
        status = await asyncio.to_thread(_handshake, hub, named, origin, token)
        assert status == 403, origin
    # The check comes before the token: a foreign page learns nothing of one.
    foreign = await asyncio.to_thread(_handshake, hub, named, "http://evil.example", "wr_forged")
    assert foreign == 403
