"""The hub's configuration as read from its file: the retry policy of deliveries (backoff that
doubles up to its ceiling), the cadence with its defaults, and who is notified, as the README
says; the README's own example is read as it stands. The refusals of a bad file are
`tests/e2e/test_config_errors.py`'s."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from server.config import Retry, load
from warroom.core.cadence import DEFAULT_CADENCE
from warroom.core.domain import Severity
from warroom.core.recipients import Notify


def test_a_failed_delivery_waits_twice_as_long_each_time_up_to_the_ceiling() -> None:
    retry = Retry(attempts=8, backoff=2.0, max_backoff=10.0)
    assert [retry.delay(failed) for failed in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert Retry().delay(1) == 2.0 and Retry().delay(20) == 300.0


def test_an_empty_file_means_the_default_cadence_and_nothing_to_send(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("")
    config = load(path)
    assert config.cadence == DEFAULT_CADENCE
    intervals = {s: config.cadence.interval(s) for s in Severity}
    assert intervals == {
        Severity.SEV1: timedelta(minutes=15),
        Severity.SEV2: timedelta(minutes=30),
        Severity.SEV3: timedelta(minutes=60),
        Severity.SEV4: None,
    }
    assert config.cadence.response_target == timedelta(minutes=15)
    assert (config.smtp, config.notify, config.retry) == (None, (), Retry())


def test_every_section_reads_as_the_readme_describes_it(tmp_path: Path) -> None:
    path = tmp_path / "warroom.toml"
    path.write_text(
        """
[smtp]
host = "127.0.0.1"
port = 8025
sender = "warroom@example.com"

[cadence]
SEV1 = "10m"
SEV4 = "none"
response = "5m"

[delivery]
attempts = 3
backoff = "5s"
max_backoff = "1m"
timeout = "20s"

[[notify]]
audience = "exec"
email = ["cto@example.com"]
webhook = "http://127.0.0.1:9000/hook"

[[notify]]
audience = "all"
email = "all@example.com"
"""
    )
    config = load(path)
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.port, config.smtp.sender) == (
        "127.0.0.1", 8025, "warroom@example.com",
    )  # fmt: skip
    assert config.cadence.interval(Severity.SEV1) == timedelta(minutes=10)
    assert config.cadence.interval(Severity.SEV2) == timedelta(minutes=30)  # the default
    assert config.cadence.interval(Severity.SEV4) is None
    assert config.cadence.response_target == timedelta(minutes=5)
    assert config.retry == Retry(attempts=3, backoff=5.0, max_backoff=60.0, timeout=20.0)
    assert config.notify == (
        Notify("exec", ("cto@example.com",), ("http://127.0.0.1:9000/hook",)),
        Notify("all", ("all@example.com",)),
    )
    assert config.hooks_at == {"http://127.0.0.1:9000/hook": 21}  # its line, for a refusal


def test_the_readme_example_is_a_configuration_the_hub_reads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("\n### Keeping stakeholders informed\n") :]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the section shows the configuration"
    path = tmp_path / "warroom.toml"
    path.write_text(block.group(1))
    config = load(path)
    assert config.smtp is not None and (config.smtp.host, config.smtp.port) == ("127.0.0.1", 8025)
    assert config.cadence.interval(Severity.SEV1) == timedelta(minutes=15)
    assert config.cadence.response_target == timedelta(minutes=15)
    assert config.retry == Retry(attempts=8, backoff=2.0, max_backoff=300.0, timeout=10.0)
    assert config.notify == (Notify("exec", ("cto@example.com",), ("http://127.0.0.1:9000/hook",)),)
