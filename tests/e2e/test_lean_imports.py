"""Each `warroom` process imports what its verb needs and no more: a verb that talks to the hub
loads no database layer, no server, no terminal UI and no SSH; a hub that serves no SSH loads no
SSH library and no terminal UI, even once clients came and went, and on SQLite no PostgreSQL
dialect.

Every process here is a real one (a hub and its clients, through the console script); each writes
the modules it held as it exited, from a `sitecustomize` put on its path for the test.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.kit.harness import Hub, isolated_env

_RECORDER = textwrap.dedent(
    """
    import atexit, json, os, sys

    def _record():
        folder = os.environ["WARROOM_TEST_MODULES"]
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as out:
            json.dump({"argv": sys.argv[1:], "modules": sorted(sys.modules)}, out)

    atexit.register(_record)
    """
)

HEAVY_FOR_A_CLIENT = ["sqlalchemy", "sqlmodel", "textual", "asyncssh", "server", "client"]
"""What a verb that only talks to the hub over its websocket must not import."""

HEAVY_FOR_A_HUB = ["asyncssh", "textual", "client", "aiosmtplib", "httpx"]
"""What a hub serving no SSH and configured with no delivery must not import."""

POSTGRESQL = ["sqlalchemy.dialects.postgresql", "psycopg", "psycopg2"]
"""What a hub on SQLite must not import."""


def _loaded(found: list[str], forbidden: list[str]) -> list[str]:
    return sorted(
        name for name in found for top in forbidden if name == top or name.startswith(top + ".")
    )


def _recorded(folder: Path) -> dict[str, list[str]]:
    """Each recorded process's verb, and the modules it held at exit."""
    runs: dict[str, list[str]] = {}
    for path in folder.glob("*.json"):
        run = json.loads(path.read_text())
        runs[run["argv"][0]] = run["modules"]
    return runs


def test_client_verbs_and_a_hub_without_ssh_import_only_what_they_need(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_RECORDER)
    modules = tmp_path / "modules"
    modules.mkdir()
    env = isolated_env(tmp_path)
    env["PYTHONPATH"] = str(hooks)
    env["WARROOM_TEST_MODULES"] = str(modules)
    hub = Hub(tmp_path, env)
    hub.start()
    try:
        incident = hub.ok("declare", "Checkout down", "-s", "2").strip()
        hub.ok("note", incident, "a line from a script")
        listed = hub.ok("list")
        assert incident in listed
        assert "Checkout down" in listed
    finally:
        hub.close()
    runs = _recorded(modules)
    assert {"serve", "declare", "note", "list"} <= set(runs), sorted(runs)
    for verb in ("note", "list"):
        # It did talk to the hub over a websocket, and loaded nothing else heavy.
        assert "websockets" in runs[verb], verb
        assert _loaded(runs[verb], HEAVY_FOR_A_CLIENT) == [], verb
    # The hub did serve (its store and its websocket server are there) without SSH or a TUI.
    assert {"sqlalchemy", "websockets", "server.hub"} <= set(runs["serve"])
    assert _loaded(runs["serve"], HEAVY_FOR_A_HUB) == []
    # Its database is SQLite: it wrote the snapshots of the incident as it stopped (an insert
    # that updates on conflict, in the dialect of its database) and held no PostgreSQL dialect.
    assert "sqlalchemy.dialects.sqlite" in runs["serve"]
    assert _loaded(runs["serve"], POSTGRESQL) == []
