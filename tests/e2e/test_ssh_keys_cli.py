"""`warroom user ... --ssh-key` and `warroom user key add|remove|list`: real processes on a real
database, keys made with `ssh-keygen`. A bad key file is a usage error (exit 2) that changes
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.harness import Hub, warroom
from tests.kit.ssh import fingerprint, make_key, missing
from warroom.store import Store, open_engine

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@pytest.fixture
def db(tmp_path: Path, env: dict[str, str]) -> Hub:
    """A database to administer, made as `warroom serve` makes it (no server is started)."""
    administered = Hub(tmp_path, env)
    Store(open_engine(str(administered.db))).close()
    return administered


def test_keys_are_added_listed_and_removed(db: Hub, tmp_path: Path) -> None:
    one, two = make_key(tmp_path / "k", "one"), make_key(tmp_path / "k", "two")
    added = db.admin("user", "add", "ana", "--role=responder", f"--ssh-key={one}.pub")
    assert added.returncode == 0, added.stderr
    assert len(added.stdout.split()) == 1 and added.stdout.startswith("wr_")  # the token alone

    more = db.admin("user", "key", "add", "ana", f"{two}.pub")
    assert more.returncode == 0, more.stderr
    assert fingerprint(Path(f"{two}.pub")) in more.stdout

    listed = json.loads(db.admin("user", "key", "list", "ana", "--json").stdout)
    assert {(k["user"], k["fingerprint"], k["comment"]) for k in listed} == {
        ("ana", fingerprint(Path(f"{one}.pub")), "one@e2e"),
        ("ana", fingerprint(Path(f"{two}.pub")), "two@e2e"),
    }
    users = db.admin("user", "list").stdout
    assert "2 ssh keys" in users, users

    # By fingerprint, and by file.
    by_print = db.admin("user", "key", "remove", "ana", fingerprint(Path(f"{one}.pub")))
    assert by_print.returncode == 0, by_print.stderr
    by_file = db.admin("user", "key", "remove", "ana", f"{two}.pub")
    assert by_file.returncode == 0, by_file.stderr
    assert db.admin("user", "key", "list").stdout.strip() == "no SSH keys"
    again = db.admin("user", "key", "remove", "ana", f"{two}.pub")
    assert again.returncode == 1 and "ana has no SSH key" in again.stderr


@pytest.mark.parametrize("bad", ["private", "garbage", "missing"])
def test_a_bad_key_file_is_a_usage_error_and_changes_nothing(
    db: Hub, tmp_path: Path, bad: str
) -> None:
    key = make_key(tmp_path / "k", "ana")
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("ssh-ed25519 not-a-key ana\n")
    path = {"private": key, "garbage": garbage, "missing": tmp_path / "nope.pub"}[bad]

    refused = db.admin("user", "add", "ana", "--role=responder", f"--ssh-key={path}")
    assert refused.returncode == 2, refused
    assert refused.stderr.startswith("warroom: ") and len(refused.stderr.splitlines()) == 1
    assert db.admin("user", "list").stdout.strip() == "no users"

    assert db.admin("user", "add", "ana", "--role=responder").returncode == 0
    refused = db.admin("user", "key", "add", "ana", str(path))
    assert refused.returncode == 2, refused
    assert db.admin("user", "key", "list").stdout.strip() == "no SSH keys"


def test_a_key_is_one_users_only(db: Hub, tmp_path: Path) -> None:
    key = make_key(tmp_path / "k", "shared")
    first = db.admin("user", "add", "ana", "--role=responder", f"--ssh-key={key}.pub")
    assert first.returncode == 0, first.stderr
    taken = db.admin("user", "add", "bob", "--role=observer", f"--ssh-key={key}.pub")
    assert taken.returncode == 1 and "already ana's" in taken.stderr
    names = [u["name"] for u in json.loads(db.admin("user", "list", "--json").stdout)]
    assert names == ["ana"]


def test_a_key_can_be_read_from_standard_input(
    db: Hub, tmp_path: Path, env: dict[str, str]
) -> None:
    key = make_key(tmp_path / "k", "ana")
    assert db.admin("user", "add", "ana", "--role=responder").returncode == 0
    piped = warroom(
        "user", "key", "add", "ana", "-", "--db", str(db.db),
        env=env, input=Path(f"{key}.pub").read_text(),
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert fingerprint(Path(f"{key}.pub")) in db.admin("user", "key", "list").stdout
