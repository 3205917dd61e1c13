"""The hub keeps everything it acknowledged: across SIGTERM, and across SIGKILL."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.kit.harness import Hub, concurrently, warroom

INC = "INC-1"


def _export(hub: Hub) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(hub.ok("export", INC))
    del document["exported_at"]
    return document


def test_graceful_restart_keeps_every_panel(hub: Hub) -> None:
    carol = hub.user_add("carol", "stakeholder", "exec")
    hub.ok("declare", "Checkout failing in EU", "-s", "1", "--app", "checkout")
    hub.ok("impact", INC, "EU card payments fail", "--customer-facing", "--audience", "all")
    hub.ok("eta", INC, "+45m", "--confidence", "low")
    hub.ok("note", INC, "Deploy 4812 rolled out", "--at", "-10m", "--pin")
    hub.ok("action", INC, "Roll back deploy 4812", "--owner", "bob")
    hub.ok("mitigate", INC, "Route EU traffic via US", "--app", "checkout")
    hub.ok("ask", INC, "Is it fixed yet?", token=carol)
    hub.ok("answer", INC, "Q1", "Not yet", "--audience", "exec")

    def read() -> list[Any]:
        return concurrently(
            lambda: json.loads(hub.ok("show", INC, "--json")),
            lambda: _export(hub),
            lambda: json.loads(hub.ok("show", INC, "--json", token=carol)),
        )

    before = read()
    exported = before[1]

    hub.restart()

    # The database already has its incident manager: no new one, no token printed.
    assert hub.output is not None
    extra = hub.output.drain(0.3)
    assert not any("created incident manager" in line for line in extra), extra
    shown, export, seen_by_carol = read()
    assert shown == before[0]
    assert export == exported
    assert seen_by_carol == before[2]

    # Numbering goes on from where it was.
    last = exported["events"][-1]["seq"]
    added = json.loads(hub.ok("note", INC, "after the restart", "--json"))
    assert added["seq"] == last + 1
    assert added["events"][0]["note"] == 2


@dataclass(frozen=True)
class Outcome:
    text: str
    code: int
    ended: float
    stderr: str


def test_sigkill_loses_nothing_that_was_acknowledged(hub: Hub) -> None:
    hub.ok("declare", "Writes under fire", "-s", "2")
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def writer(name: str) -> None:
        for number in range(1, 200):
            text = f"{name}-{number}"
            result = hub.run("note", INC, text)
            with lock:
                outcomes.append(Outcome(text, result.returncode, time.monotonic(), result.stderr))
            if result.returncode != 0:
                return

    threads = [threading.Thread(target=writer, args=(f"w{i}",), daemon=True) for i in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while True:
        with lock:
            done = sum(o.code == 0 for o in outcomes)
        if done >= 9:
            break
        assert time.monotonic() < deadline, f"too few writes succeeded: {outcomes}"
        time.sleep(0.02)
    killed_at = time.monotonic()
    hub.kill()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()

    assert all(o.code in (0, 4) for o in outcomes), [o for o in outcomes if o.code not in (0, 4)]
    failures = [o for o in outcomes if o.code != 0]
    assert len(failures) == len(threads)  # every writer stopped at the dead hub...
    assert all(o.ended >= killed_at for o in failures)  # ...and nothing failed before it died
    assert all(len(o.stderr.splitlines()) == 1 for o in failures), failures
    acknowledged = {o.text for o in outcomes if o.code == 0}

    hub.start(hub.port)
    document = json.loads(hub.ok("export", INC))
    kept = [note["text"] for note in document["incident"]["notes"]]
    missing = acknowledged - set(kept)
    assert not missing, f"acknowledged but lost: {sorted(missing)}"
    assert len(kept) == len(set(kept))  # no note applied twice
    assert [note["id"] for note in document["incident"]["notes"]] == list(range(1, len(kept) + 1))
    seqs = [item["seq"] for item in document["events"]]
    assert seqs == list(range(1, len(seqs) + 1))  # the log is gapless after recovery
    hub.ok("note", INC, "the hub is back")


def test_serve_on_a_busy_port_fails_with_one_line(hub: Hub, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    result = warroom("serve", "--port", str(hub.port), "--db", str(other), env=hub.env)
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"warroom: cannot listen on 127.0.0.1:{hub.port}: ")
    assert "address already in use" in line
    hub.ok("list")  # the running hub is unaffected


def test_a_serve_that_cannot_listen_does_not_swallow_the_first_token(
    hub: Hub, tmp_path: Path
) -> None:
    (tmp_path / "second").mkdir()
    second = Hub(tmp_path / "second", hub.env)
    failed = warroom("serve", "--port", str(hub.port), "--db", str(second.db), env=hub.env)
    assert failed.returncode == 1
    second.start(expect_token=False)
    try:
        assert second.output is not None
        printed = second.output.texts() + second.output.drain(0.5)
    finally:
        second.close()
    assert any("created incident manager" in line for line in printed), printed
