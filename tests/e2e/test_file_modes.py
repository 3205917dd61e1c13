"""The files that hold secrets are owner-only whatever the umask: the database (with its -wal and
-shm), the login file, the SSH host key, and the folders warroom makes for them. Real `warroom`
processes, each started under a permissive umask."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.kit.harness import START_TIMEOUT, STOP_TIMEOUT, WARROOM, Lines

UMASKS = [0o022, 0o000]

_SERVING = re.compile(r"^warroom: serving (ws://\S+) ")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(*args: str, env: dict[str, str], umask: int) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [WARROOM, *args],
        env=env,
        umask=umask,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("umask", UMASKS, ids=["022", "000"])
def test_serve_login_and_user_add_make_owner_only_files(
    env: dict[str, str], tmp_path: Path, umask: int
) -> None:
    # The defaults: the database and the host key under the user data directory, made by serve.
    serve = subprocess.Popen(
        [WARROOM, "serve", "--port", "0", "--ssh-port", "0"],
        env=env,
        umask=umask,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert serve.stdout is not None
    lines = Lines(serve.stdout)
    try:
        _, line = lines.wait_for(lambda text: bool(_SERVING.match(text)), START_TIMEOUT)
        _, token = lines.wait_for(lambda text: text.startswith("  "), START_TIMEOUT)
        url = _SERVING.match(line).group(1)  # type: ignore[union-attr]
        data = Path(env["XDG_DATA_HOME"]) / "warroom"
        database = data / "warroom.db"
        assert _mode(data) == 0o700
        for made in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert _mode(made) == 0o600, made
        assert _mode(data / "ssh_host_ed25519_key") == 0o600

        _run("login", url, token.strip(), env=env, umask=umask)
        login = Path(env["XDG_CONFIG_HOME"]) / "warroom" / "login.json"
        assert _mode(login.parent) == 0o700 and _mode(login) == 0o600
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(STOP_TIMEOUT)
        lines.join(STOP_TIMEOUT)
    assert serve.stderr is not None and "Traceback" not in serve.stderr.read()

    # A database named by --db, in a folder that does not exist yet, made by `user add --create`.
    elsewhere = tmp_path / "new" / "folder" / "w.db"
    creating = ("--db", str(elsewhere), "--create")
    _run("user", "add", "ana", "--role", "responder", *creating, env=env, umask=umask)
    assert _mode(elsewhere.parent) == _mode(elsewhere.parent.parent) == 0o700
    assert _mode(elsewhere) == 0o600
    assert not Path(f"{elsewhere}-wal").exists() or _mode(Path(f"{elsewhere}-wal")) == 0o600


def test_a_database_others_may_read_is_made_owner_only_with_a_warning(
    env: dict[str, str], tmp_path: Path
) -> None:
    database = tmp_path / "old.db"
    creating = ("--db", str(database), "--create")
    _run("user", "add", "ana", "--role", "responder", *creating, env=env, umask=0o022)
    database.chmod(0o644)  # as an older warroom left it
    listed = _run("user", "list", "--db", str(database), env=env, umask=0o022)
    assert _mode(database) == 0o600
    assert "was readable by others (mode 644); it is now owner-only (600)" in listed.stderr
    assert "ana" in listed.stdout
