"""A configuration the hub cannot use stops `warroom serve` before it starts, with one sentence
naming the file, the line and the reason, exit code 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.harness import free_port, warroom

SMTP_LINE = '[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "warroom@example.com"\n'

CASES = [
    # (name, configuration, line, what the reason says)
    ("syntax", '[cadence]\nSEV1 = "15m\n', 2, "not valid toml"),
    ("unknown key", '[cadence]\nSEV1 = "15m"\nSEV9 = "1h"\n', 3, "unknown key 'SEV9'"),
    ("unknown section", '[cadence]\nSEV1 = "15m"\n\n[smpt]\nhost = "x"\n', 4, "'smpt'"),
    ("bad duration", '[cadence]\nSEV1 = "15m"\nSEV2 = "soon"\n', 3, "bad duration 'soon'"),
    (
        "bad audience",
        '[[notify]]\naudience = "internal"\nwebhook = "http://127.0.0.1:9/h"\n',
        2,
        "bad audience 'internal'",
    ),
    (
        "bad address",
        SMTP_LINE + '\n[[notify]]\naudience = "exec"\nemail = ["cto-at-example.com"]\n',
        8,
        "bad email address",
    ),
    (
        "bad scheme",
        '[[notify]]\naudience = "all"\nwebhook = "ftp://127.0.0.1/hook"\n',
        3,
        "scheme must be http or https",
    ),
    ("nothing listening", SMTP_LINE, 2, "nothing is listening at 127.0.0.1:{port}"),
    (
        "hook not listening",
        '\n[[notify]]\naudience = "exec"\nwebhook = "http://127.0.0.1:{port}/hook"\n',
        4,
        "nothing is listening at 127.0.0.1:{port}",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "reason"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_configuration_is_one_sentence_with_file_line_and_reason(
    tmp_path: Path, env: dict[str, str], name: str, text: str, line: int, reason: str
) -> None:
    port = free_port()  # nothing listens there
    path = tmp_path / "hub config.toml"
    path.write_text(text.replace("{port}", str(port)))
    result = warroom(
        "serve", "--port", "0", "--db", str(tmp_path / "w.db"), "--config", str(path), env=env
    )
    assert result.returncode == 2, (name, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"warroom: {path}, line {line}: "), lines[0]
    assert (
        reason.replace("{port}", str(port)) in lines[0].lower()
        or reason.replace("{port}", str(port)) in lines[0]
    ), lines[0]
    assert "serving" not in result.stdout
    assert not (tmp_path / "w.db").exists()  # the hub never started


def test_the_configuration_may_come_from_the_environment(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "warroom.toml"
    path.write_text("[delivery]\nattempts = 0\n")
    result = warroom(
        "serve",
        "--port",
        "0",
        "--db",
        str(tmp_path / "w.db"),
        env={**env, "WARROOM_CONFIG": str(path)},
    )
    assert result.returncode == 2
    assert f"{path}, line 2: [delivery] attempts must be" in result.stderr
