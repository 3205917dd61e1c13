"""The README's walk-through of keeping stakeholders informed, run as written by bash against a
real `warroom serve --config` with a real SMTP server and a real webhook receiver: the alert and
two updates reach their audiences, the asker is emailed the answer, every delivery is sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.kit.harness import WARROOM, Hub
from tests.kit.receivers import HookReceiver, SmtpReceiver

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.timeout(240)


def _walk_through() -> str:
    text = README.read_text()
    section = text[text.index("\n#### A walk-through\n") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the walk-through has a shell block"
    return block.group(1)


def test_the_walk_through_runs_as_written_and_reaches_everyone(
    tmp_path: Path, env: dict[str, str]
) -> None:
    smtp = SmtpReceiver().start()
    hooks = HookReceiver().start()
    config = tmp_path / "warroom.toml"
    config.write_text(f"""
[smtp]
host = "127.0.0.1"
port = {smtp.port}
sender = "warroom@example.com"

[delivery]
backoff = "1s"

[[notify]]
audience = "exec"
email = ["cto@example.com"]
webhook = "{hooks.url("/exec")}"

[[notify]]
audience = "all"
email = ["everyone@example.com"]
""")
    hub = Hub(tmp_path, env)
    hub.options = ["--config", str(config)]
    try:
        hub.start()
        shell = {key: value for key, value in hub.env.items() if not key.startswith("WARROOM_")}
        shell |= {
            "PATH": f"{Path(WARROOM).parent}:{os.environ['PATH']}",
            "WARROOM_URL": hub.url,
            "WARROOM_TOKEN": hub.token,
            "WARROOM_DB": str(hub.db),
        }
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _walk_through()],
            cwd=tmp_path, env=shell, capture_output=True, text=True, timeout=200,
        )  # fmt: skip
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        assert "Q1 [open, asked" in result.stdout  # the queue, before the answer
        assert "[SEV1] INC-1 update U3: Card payments failing\nto: exec" in result.stdout

        mails = smtp.wait_for(6)
        by_subject: dict[str, set[str]] = {}
        for mail in mails:
            by_subject.setdefault(str(mail.message["Subject"]), set()).add(mail.recipient)
        assert by_subject["[SEV1] INC-1 alert: Card payments failing"] == {
            "cto@example.com", "everyone@example.com",
        }  # fmt: skip
        assert by_subject["[SEV1] INC-1 update U2: Card payments failing"] == {
            "cto@example.com", "everyone@example.com",
        }  # fmt: skip
        assert by_subject["[SEV1] INC-1 update U3: Card payments failing"] == {"cto@example.com"}
        (told,) = [m for m in mails if m.recipient == "carol@example.com"]
        assert "Yes: refunds run on another system." in told.text
        posts = hooks.wait_for(3)
        assert sorted(post.json()["update"] for post in posts) == [1, 2, 3]
        # Each is marked sent just after it went: ask (a bounded number of times) until it is.
        for _ in range(20):
            deliveries = subprocess.run(
                [WARROOM, "deliveries", "INC-1", "--json"],
                env=shell, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert deliveries.returncode == 0, deliveries.stderr
            data = json.loads(deliveries.stdout)
            rows = data["deliveries"] if isinstance(data, dict) else data
            if len(rows) == 9 and all(row["state"] == "sent" for row in rows):
                break
        assert len(rows) == 9 and all(row["state"] == "sent" for row in rows), rows
    finally:
        hub.close()
        smtp.stop()
        hooks.stop()
