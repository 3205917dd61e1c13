"""Two `warroom serve` processes at once on one PostgreSQL database, and clients given both with
`--hub`: a note written through B reaches a tail on A, and when A is SIGKILLed the tail carries
on through B, with nothing lost or doubled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kit.harness import Hub, free_port, isolated_env
from tests.kit.postgres import POSTGRES_ADMIN_URL, postgres_database
from warroom.core.domain import Role
from warroom.store import Store, open_engine

INC = "INC-1"
TIMEOUT = 30.0

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="WARROOM_TEST_POSTGRES names no server"
)


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    with postgres_database() as url:
        store = Store(open_engine(url))
        try:
            token = store.users.add("alice", Role.INCIDENT_MANAGER)
        finally:
            store.close()
        env = isolated_env(tmp_path)
        running: list[Hub] = []
        try:
            for name in ("a", "b"):
                (tmp_path / name).mkdir()
                hub = Hub(tmp_path / name, env, database=url)
                hub.token = token
                running.append(hub)
                hub.start(free_port(), expect_token=False)
            yield running[0], running[1]
        finally:
            for hub in running:
                hub.close()
        for hub in running:
            problems = hub.server_stderr()
            assert "Traceback" not in problems, f"warroom serve printed a traceback:\n{problems}"


def _text(line: str) -> str | None:
    event: dict[str, Any] = json.loads(line)["event"]
    text = event.get("text")
    return text if isinstance(text, str) else None


def test_a_tail_given_both_hubs_sees_every_note_and_outlives_its_hub(
    hubs: tuple[Hub, Hub],
) -> None:
    a, b = hubs
    assert b.ok("declare", "Payments degraded", "-s", "2", "--hub", b.url).strip() == INC
    tail = a.spawn("tail", "--json", "--all", "--hub", a.url, "--hub", b.url)
    tail.lines.wait_for(lambda line: json.loads(line)["seq"] == 1, TIMEOUT)

    b.ok("note", INC, "written through b", "--hub", b.url)
    tail.lines.wait_for(lambda line: _text(line) == "written through b", TIMEOUT)

    assert a.kill() == -9
    both = f"--hub={a.url},{b.url}"
    noted = a.run("note", INC, "after a died", both, "--json")
    assert noted.returncode == 0, noted.stderr
    tail.lines.wait_for(lambda line: _text(line) == "after a died", TIMEOUT)
    assert tail.proc.poll() is None, f"tail ended with hub a: {tail.stderr()}"

    exported = json.loads(b.ok("export", INC, "--format", "json", "--hub", b.url))
    logged = [(item["seq"], item["event"].get("text")) for item in exported["events"]]
    printed = [(json.loads(line)["seq"], _text(line)) for line in tail.lines.texts()]
    assert printed == logged, "the tail lost, repeated or reordered an event"
    assert [seq for seq, _ in logged] == [1, 2, 3]
    assert tail.interrupt() == 0
