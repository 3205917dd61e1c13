"""The README's "Using it" block, run as written: by bash, line after line, against a real hub,
with `warroom` on the PATH, on the hub's machine, at whatever time of day the test runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.kit.harness import WARROOM, Hub, warroom

README = Path(__file__).resolve().parents[2] / "README.md"


def _using_it() -> str:
    text = README.read_text()
    section = text[text.index("\n## Using it\n") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Using it section has a shell block"
    return block.group(1)


def test_the_using_it_block_runs_as_written(hub: Hub, tmp_path: Path) -> None:
    script = _using_it()
    work = tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in hub.env.items() if not key.startswith("WARROOM_")}
    env |= {
        "PATH": f"{Path(WARROOM).parent}:{os.environ['PATH']}",
        "URL": hub.url,
        "TOKEN": hub.token,
        "WARROOM_DB": str(hub.db),  # "on the hub's machine": its database is the user's default
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr

    exported = json.loads((work / "INC-1.json").read_text())
    assert exported["incident"]["title"] == "Checkout failing in EU"
    client = hub.client_env()
    shown = warroom("show", "INC-1", "--json", env=client)
    state = json.loads(shown.stdout)["incident"]
    assert state["private"] is True
    assert [(action["state"], action["owner"]) for action in state["actions"]] == [("done", "ana")]
    assert [workaround["state"] for workaround in state["mitigations"]] == ["verified"]
    deploy, output = state["notes"]
    assert deploy["pinned"] and deploy["text"] == "Deploy 4812 rolled out"
    assert "Filesystem" in output["text"]  # df's output, piped in
    assert output["audience"] == "exec"
    listed = json.loads(warroom("list", "--json", env=client).stdout)
    (secret,) = [row["id"] for row in listed if row["id"] != "INC-1"]
    shown = json.loads(warroom("show", secret, "--json", env=client).stdout)["incident"]
    assert shown["private"] is True and "ana" in shown["invited"]
