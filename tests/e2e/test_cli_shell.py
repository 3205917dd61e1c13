"""The CLI as a shell tool: pipes that close early, databases that are not there, times before
now, a full-screen verb without a terminal, and the demo's hints that keep tokens out of `ps`."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.harness import WARROOM, Hub, warroom
from tests.kit.tmux import ONLINE, TMUX, Tmux, terminal_env

EXIT_SIGPIPE = 141


def test_tail_into_head_ends_quietly_when_head_has_read_enough(hub: Hub) -> None:
    incident = hub.ok("declare", "Checkout down", "-s", "2").strip()
    tail = subprocess.Popen(
        [WARROOM, "tail"],
        env=hub.client_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert tail.stdout is not None
        # `tail` streams from the moment it is connected: note until it has printed a line.
        for attempt in range(100):
            hub.ok("note", incident, f"first {attempt}")
            ready, _, _ = select.select([tail.stdout], [], [], 0.5)
            if ready:
                break
        assert b"first" in tail.stdout.readline()
        tail.stdout.close()  # `head -1` has what it wanted and goes
        deadline = time.monotonic() + 10
        number = 0
        while tail.poll() is None and time.monotonic() < deadline:
            number += 1
            hub.ok("note", incident, f"more {number}")
            time.sleep(0.1)
        assert tail.poll() == EXIT_SIGPIPE
        assert tail.stderr is not None
        assert tail.stderr.read() == b""
    finally:
        tail.kill()
        tail.wait()


@pytest.mark.parametrize(
    ("where", "sentence"),
    [
        ("missing/folder/warroom.db", "there is no war room database at {tmp}/missing/folder/"),
        ("not-yet.db", "there is no war room database at {tmp}/not-yet.db: `warroom serve`"),
        ("mysql://db.example/warroom", "unsupported database URL mysql://...: warroom runs on"),
        ("sqlite://relative", "unsupported database URL sqlite://..."),
    ],
)
@pytest.mark.parametrize(
    "verb", [["user", "list"], ["verify"], ["user", "add", "bo", "--role=observer"]]
)
def test_an_admin_command_on_a_database_that_is_not_there_says_so_and_makes_nothing(
    tmp_path: Path, env: dict[str, str], where: str, sentence: str, verb: list[str]
) -> None:
    before = sorted(tmp_path.rglob("*"))
    target = where if "://" in where else str(tmp_path / where)
    result = warroom(*verb, "--db", target, env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warroom: "), result.stderr
    assert sentence.format(tmp=tmp_path) in lines[0]
    assert sorted(tmp_path.rglob("*")) == before


def test_user_add_creates_the_database_when_asked(tmp_path: Path, env: dict[str, str]) -> None:
    database = tmp_path / "fresh" / "warroom.db"
    added = warroom(
        "user", "add", "ana", "--role=responder", "--create", "--db", str(database), env=env
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("wr_")
    listed = warroom("user", "list", "--db", str(database), env=env)
    assert listed.returncode == 0 and "ana" in listed.stdout


def test_a_time_before_now_is_a_time_not_an_option(hub: Hub) -> None:
    incident = hub.ok("declare", "Checkout down", "-s", "2").strip()
    past = hub.run("eta", incident, "-5m")
    assert past.returncode == 1
    assert past.stderr == "warroom: the ETA is in the past\n"
    noted = hub.ok("note", incident, "--at", "-10m", "rollback started")
    assert "rollback started" in noted and "(at " in noted
    unknown = hub.run("note", incident, "-x")
    assert unknown.returncode == 2 and "no such option '-x'" in unknown.stderr


@pytest.mark.parametrize("stdin_is_terminal", [False, True])
def test_join_without_a_terminal_is_refused(hub: Hub, stdin_is_terminal: bool) -> None:
    if stdin_is_terminal:
        # Only standard output is a pipe: the screen would land in it.
        primary, secondary = os.openpty()
        try:
            result = subprocess.run(
                [WARROOM, "join"],
                env=hub.client_env(),
                stdin=secondary,
                capture_output=True,
                text=True,
                timeout=30,
            )
        finally:
            os.close(primary)
            os.close(secondary)
    else:
        result = warroom("join", env=hub.client_env(), input="")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("warroom: join opens the war room on a terminal")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_the_demos_join_hints_run_as_written_and_keep_tokens_off_the_command_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    database = tmp_path / "demo" / "demo.db"
    database.parent.mkdir()
    shell_env = terminal_env(env) | {"PATH": f"{Path(WARROOM).parent}:{os.environ['PATH']}"}
    tmux = Tmux()
    try:
        demo = tmux.spawn("demo", [WARROOM, "demo", "--db", str(database)], shell_env)
        demo.wait_for(lambda s: ONLINE in s, "the demo's war room", 20)
        hints = (database.parent / "join.txt").read_text().splitlines()[1:]
        assert len(hints) == 3
        for hint in hints:
            assert "--token" not in hint and hint.strip().startswith("WARROOM_TOKEN=wr_")
        responder = next(hint for hint in hints if hint.endswith("# responder"))
        joined = tmux.spawn("ana", ["sh", "-c", responder.strip()], shell_env)
        joined.wait_for(lambda s: f"{ONLINE}  ana " in s, "ana in the demo's room", 20)
    finally:
        tmux.close()
