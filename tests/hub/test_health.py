"""`/healthz` tells a load balancer whether the hub can serve: 200 while its event store
answers, 503 while it fails, and 200 again once it recovers; without a token, and with nothing
about the incidents in it. A real hub, a real HTTP client; and a store that hangs, on the check
alone."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import create_engine

from server import health
from server.health import Health
from tests.kit.wire import TIMEOUT, Hub, declare, hello, submit


def _get(hub: Hub, path: str) -> tuple[int, dict[str, str], bytes]:
    address = urlsplit(hub.url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=5)
    try:
        connection.request("GET", path)  # no Authorization: a load balancer has no token
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


async def _until_status(hub: Hub, status: int) -> bytes:
    """GET /healthz until it answers `status` (bounded); return that body."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        got, _, body = await asyncio.to_thread(_get, hub, "/healthz")
        if got == status:
            return body
        assert time.monotonic() < deadline, f"/healthz still {got} after {TIMEOUT}s: {body!r}"
        await asyncio.sleep(0.05)  # polling a condition, with a deadline


async def test_a_serving_hub_answers_ok_with_nothing_about_its_incidents(hub: Hub) -> None:
    manager = await hub.connect()
    await hello(manager, None)
    secret = "Breach of the card vault"
    answer = await submit(manager, {**declare(secret), "private": True})
    assert answer["type"] == "ack", answer

    status, headers, body = await asyncio.to_thread(_get, hub, "/healthz")

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(body) == {"status": "ok"}
    assert b"card" not in body and str(answer["seq"]).encode() not in body
    # The older check still answers as it did.
    assert (await asyncio.to_thread(_get, hub, "/health"))[::2] == (200, b"ok\n")


async def test_a_failing_store_makes_the_hub_unhealthy_until_it_recovers(
    hub: Hub, tmp_path: Path
) -> None:
    manager = await hub.connect()
    await hello(manager, None)
    assert (await submit(manager, declare()))["type"] == "ack"
    working = hub.store.log.engine
    # The database becomes unreachable: every connection the log opens fails.
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
    hub.store.log.engine = unreachable
    try:
        refused = await submit(manager, {"type": "note.add", "incident": "INC-1", "text": "x"})
        assert refused["type"] == "rejected" and refused["code"] == "storage", refused

        body = await _until_status(hub, 503)

        assert json.loads(body) == {"status": "unavailable"}
        assert b"gone.db" not in body and b"sqlite" not in body.lower()
    finally:
        hub.store.log.engine = working
        unreachable.dispose()

    assert json.loads(await _until_status(hub, 200)) == {"status": "ok"}
    again = await submit(manager, {"type": "note.add", "incident": "INC-1", "text": "back"})
    assert again["type"] == "ack", again


async def test_a_store_that_hangs_reads_unavailable_and_holds_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "PROBE_TIMEOUT", 0.2)
    release = threading.Event()
    probes: list[float] = []
    now = [0.0]

    def hanging_read() -> None:
        probes.append(now[0])
        release.wait(TIMEOUT)

    checks = Health(hanging_read, clock=lambda: now[0])
    try:
        assert not await checks.serving()
        now[0] += health.PROBE_EVERY  # the verdict is stale: the next check probes again...
        assert not await checks.serving()
        assert probes == [0.0]  # ...but not beside a read that still hangs
    finally:
        release.set()
    deadline = time.monotonic() + TIMEOUT
    while not await checks.serving():
        assert time.monotonic() < deadline, "the store answered, but the check still fails"
        now[0] += health.PROBE_EVERY
        await asyncio.sleep(0.01)  # polling a condition, with a deadline
    assert len(probes) == 2
