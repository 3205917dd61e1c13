"""A hub restarted on a log with snapshots serves the very room a replay of the whole log gives,
and trusts no snapshot that is not true of the log: damaged, past the head, or of another
format."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.kit.harness import Hub
from warroom.core import snapshots

INC, OTHER = "INC-1", "INC-2"

pytestmark = pytest.mark.timeout(240)


def _listed(hub: Hub, carol: str) -> list[Any]:
    """The incidents as the hub's own world summarises them, to the incident manager and to a
    stakeholder."""
    return [json.loads(hub.ok("list", "--json", token=token)) for token in (None, carol)]


def _room(hub: Hub, carol: str) -> list[Any]:
    """The list, what the incident manager and a stakeholder are shown of INC-1 (folded by the
    client from the events the hub sends them), and its export."""
    shown = [json.loads(hub.ok("show", INC, "--json", token=token)) for token in (None, carol)]
    document = json.loads(hub.ok("export", INC))
    del document["exported_at"]
    return [*_listed(hub, carol), *shown, document]


def _fill(hub: Hub) -> str:
    """Two incidents, INC-1 resolved (so its snapshot is written) and reopened; return a
    stakeholder's token."""
    carol = hub.user_add("carol", "stakeholder", "exec")
    hub.ok("declare", "Checkout failing in EU", "-s", "1", "--app", "checkout")
    hub.ok("declare", "Slow search", "-s", "3")
    hub.ok("impact", INC, "EU card payments fail", "--customer-facing", "--audience", "all")
    hub.ok("note", INC, "Deploy 4812 rolled out", "--at", "-10m", "--pin")
    hub.ok("ask", INC, "Is it fixed yet?", token=carol)
    hub.ok("answer", INC, "Q1", "Not yet", "--audience", "exec")
    hub.ok("status", INC, "resolved")  # a resolved incident's snapshot is written
    hub.ok("status", INC, "monitoring")  # then events after it: folded on top
    hub.ok("note", INC, "reopened: errors are back", "--audience", "all")
    hub.ok("note", OTHER, "folded from its first event: it has no snapshot")
    return carol


def _snapshots(db: Path) -> dict[str, tuple[int, str]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT incident, seq, state FROM snapshots").fetchall()
    return {incident: (seq, state) for incident, seq, state in rows}


def _set(db: Path, incident: str, seq: int, state: str, format: int = snapshots.FORMAT) -> None:
    """Rewrite a snapshot's seq, state and format, its digest made to match."""
    digest = hashlib.sha256(state.encode()).hexdigest()
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE snapshots SET seq = ?, state = ?, digest = ?, format = ? WHERE incident = ?",
            (seq, state, digest, format, incident),
        )


def _head(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT max(seq) FROM events").fetchone()[0])


def _retitled(state: str) -> str:
    """The incident's snapshot with another title."""
    data = json.loads(state)
    data["state"]["title"] = "Changed behind the log's back"
    return json.dumps(data)


def test_a_restart_from_snapshots_serves_the_room_a_full_replay_serves(hub: Hub) -> None:
    carol = _fill(hub)
    before = _room(hub, carol)
    hub.kill()

    # Killed: only the resolution's snapshot was written, and events came after it.
    kept = _snapshots(hub.db)
    assert list(kept) == [INC]  # INC-2 has neither 1,000 events nor a resolution
    seq, _ = kept[INC]
    assert 0 < seq < _head(hub.db)

    hub.start(hub.port)
    assert _room(hub, carol) == before
    # Numbering goes on from the head, not from the snapshot.
    added = json.loads(hub.ok("note", INC, "after the restart", "--json"))
    assert added["seq"] == _head(hub.db)
    assert added["events"][0]["note"] == 3
    before = _room(hub, carol)
    hub.stop()

    # Stopped: every incident with events since its snapshot has one at the head.
    head = _head(hub.db)
    assert {incident: at for incident, (at, _) in _snapshots(hub.db).items()} == {
        INC: head,
        OTHER: head,
    }
    hub.start(hub.port)
    assert _room(hub, carol) == before


def test_a_snapshot_is_trusted_only_while_it_is_true_of_the_log(hub: Hub) -> None:
    carol = _fill(hub)
    before = _listed(hub, carol)
    hub.stop()
    seq, state = _snapshots(hub.db)[INC]

    # A snapshot true of the log is what the restart starts from: a title changed in it shows.
    _set(hub.db, INC, seq, _retitled(state))
    hub.start(hub.port)
    listed = {row["id"]: row for row in json.loads(hub.ok("list", "--json"))}
    assert listed[INC]["title"] == "Changed behind the log's back"
    hub.stop()

    # The same change in a snapshot that is not true of the log is ignored: INC-1 is folded
    # from its first event, and the room is the one the log holds.
    untrue = {
        "damaged": (seq, state[: len(state) // 2], snapshots.FORMAT),
        "past the head": (_head(hub.db) + 5, _retitled(state), snapshots.FORMAT),
        "of another format": (seq, _retitled(state), snapshots.FORMAT + 1),
    }
    for what, (at, text, format) in untrue.items():
        _set(hub.db, INC, at, text, format)
        hub.start(hub.port)
        assert _listed(hub, carol) == before, what
        hub.stop()

    # And with no snapshot at all, the same room again.
    with sqlite3.connect(hub.db) as connection:
        connection.execute("DELETE FROM snapshots")
    hub.start(hub.port)
    assert _listed(hub, carol) == before
