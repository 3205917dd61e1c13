"""A SQLite war room has one hub: a second `warroom serve` on the same file is refused at start
with a sentence, the admin verbs keep working beside the hub, and a SIGKILLed hub leaves no stale
lock behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.kit.harness import Hub, warroom
from warroom.store.hub_lock import lock_file

REFUSAL_TIMEOUT = 15.0


def _second_serve(hub: Hub) -> tuple[int, str, str]:
    result = warroom(
        "serve", "--port", "0", "--db", str(hub.db), env=hub.env, timeout=REFUSAL_TIMEOUT
    )
    return result.returncode, result.stdout, result.stderr


def test_a_second_hub_on_the_same_file_is_refused_and_the_first_carries_on(hub: Hub) -> None:
    hub.ok("declare", "Payments degraded", "-s", "2")
    assert hub.proc is not None

    code, out, err = _second_serve(hub)

    assert code == 1, (out, err)
    assert "serving" not in out
    [line] = err.splitlines()
    assert line.startswith(f"warroom: another warroom serve (process {hub.proc.pid}) is already")
    assert f"serving the database {hub.db}:" in line
    assert line.endswith("connect to that one (warroom join), or stop it before starting this one")
    # Nothing of the second start reached the log, and the first hub still serves.
    assert hub.ok("note", "INC-1", "still here", "--json")
    assert json.loads(hub.ok("show", "INC-1", "--json"))["incident"]["notes"][-1]["text"] == (
        "still here"
    )
    mode = stat.S_IMODE(lock_file(hub.db).stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_the_admin_verbs_open_the_database_beside_the_running_hub(hub: Hub, tmp_path: Path) -> None:
    hub.ok("declare", "Payments degraded", "-s", "2")
    ana = hub.user_add("ana", "responder")
    assert hub.ok("note", "INC-1", "from ana", token=ana)
    listed = hub.admin("user", "list")
    assert listed.returncode == 0 and "ana" in listed.stdout, listed.stderr
    copy = tmp_path / "copy.db"
    backup = warroom("backup", str(copy), "--db", str(hub.db), env=hub.env)
    assert backup.returncode == 0, backup.stderr
    verified = warroom("verify", "--db", str(copy), env=hub.env)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stderr


def test_a_killed_hub_leaves_no_stale_lock(hub: Hub) -> None:
    hub.ok("declare", "Payments degraded", "-s", "2")
    assert hub.kill() == -9
    assert lock_file(hub.db).exists()  # the file stays; the lock died with the process

    hub.start()

    assert json.loads(hub.ok("show", "INC-1", "--json"))["incident"]["title"] == (
        "Payments degraded"
    )
    code, _, err = _second_serve(hub)
    assert code == 1 and "already serving the database" in err, err
