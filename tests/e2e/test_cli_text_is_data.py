"""Text is data on the CLI: a log holding escape sequences, control characters and markup in
every text field (as an older warroom accepted them) prints as text, byte for byte free of
control characters, from `show`, `list` and `tail`; `--json` and `export` keep it exactly, as
data; and what enters now is refused or cleaned where it comes in. In a zone far east of UTC,
with a note dated year 1 and an ETA in year 9999."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kit.harness import WARROOM, Hub, isolated_env
from tests.kit.hostile import CONTROL, HOSTILE, hostile_log, incident_of, wrapped
from warroom.core import protocol
from warroom.core.text import visible
from warroom.store import Pending, Store, open_engine

ZONE = "Pacific/Kiritimati"
"""UTC+14: a year-1 or year-9999 time cannot be converted to it."""


def plant(db: Path) -> None:
    """Write the hostile log straight into the database, as an older warroom would have."""
    store = Store(open_engine(f"sqlite:///{db}"))
    try:
        events = [(n, ev, protocol.event_json(ev)) for n, ev in enumerate(hostile_log(), 1)]
        store.log.append([Pending("morgan", uuid.uuid4().hex, events)])
    finally:
        store.engine.dispose()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub over the hostile log, for every test of the module."""
    root = tmp_path_factory.mktemp("hostile")
    env = isolated_env(root)
    env["TZ"] = ZONE
    running = Hub(root, env)
    plant(running.db)
    running.start()
    try:
        yield running
    finally:
        running.close()
    assert "Traceback" not in running.server_stderr()


def output(hub: Hub, *args: str) -> bytes:
    """What `warroom ARGS` writes to stdout, as bytes; it must succeed."""
    done = subprocess.run(
        [WARROOM, *args], env=hub.client_env(), capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
    assert not any(byte < 0x20 and byte not in b"\n\t" for byte in done.stderr), done.stderr
    return done.stdout


def assert_text(out: bytes) -> str:
    """`out` holds no control byte (C0, DEL, C1, bidi controls) but newlines and tabs."""
    bad = [byte for byte in out if (byte < 0x20 and byte not in b"\n\t") or byte == 0x7F]
    assert not bad, f"control bytes {bad[:5]} in the output"
    text = out.decode()
    assert visible(text) == text, "a C1 or bidi control character in the output"
    return text


def tail_lines(hub: Hub, *options: str) -> list[str]:
    """Every line `tail --all` prints for the hostile log (one per event)."""
    tail = hub.spawn("tail", "--all", *options)
    seen: list[str] = []

    def all_seen(line: str) -> bool:
        seen.append(line)
        return len(seen) == len(hostile_log())

    try:
        tail.lines.wait_for(all_seen, 30)
    finally:
        tail.interrupt()
    return seen


@pytest.mark.parametrize("verb", ["show", "list", "tail"])
def test_text_outputs_show_every_field_as_text(hub: Hub, verb: str) -> None:
    if verb == "show":
        pages = {name: assert_text(output(hub, "show", incident_of(name))) for name in HOSTILE}
    elif verb == "list":
        listed = assert_text(output(hub, "list"))
        pages = {name: listed for name in HOSTILE}
    else:
        lines = tail_lines(hub)
        pages = {name: assert_text("\n".join(lines).encode()) for name in HOSTILE}
    for name, page in pages.items():
        assert visible(wrapped(name))[:40] in page, f"{name} is not readable in `{verb}`"
        if name in CONTROL:
            assert wrapped(name) not in page
    if verb == "show":
        assert "9999-12-31" in pages["bel"] and "1-01-01" in pages["bel"]


def _texts(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in _texts(value)]
    if isinstance(data, list):
        return [text for value in data for text in _texts(value)]
    return [data] if isinstance(data, str) else []


@pytest.mark.parametrize("verb", ["show --json", "list --json", "export", "tail --json"])
def test_json_outputs_keep_every_field_as_data(hub: Hub, verb: str) -> None:
    name = "osc-title"
    if verb.startswith("tail"):
        documents = [json.loads(line) for line in tail_lines(hub, "--json")]
    elif verb.startswith("list"):
        documents = [json.loads(output(hub, "list", "--json"))]
    else:
        args = verb.split()
        documents = [json.loads(output(hub, args[0], incident_of(name), *args[1:]))]
    texts = _texts(documents)
    assert texts.count(wrapped(name)) >= (1 if verb.startswith("list") else 10)


def test_piped_output_loses_its_colours_and_other_escapes_are_refused(hub: Hub) -> None:
    inc = incident_of("markup-bold")
    hub.ok("note", inc, "-", input="\x1b[1;31mERROR\x1b[0m pod\tweb-1\n")
    notes = json.loads(hub.ok("show", inc, "--json"))["incident"]["notes"]
    assert notes[-1]["text"] == "ERROR pod\tweb-1"
    refused = hub.run("note", inc, "-", input="ok\x1b]0;pwned\x07\n")
    assert refused.returncode == 1
    assert "U+001B" in refused.stderr and "note" in refused.stderr
