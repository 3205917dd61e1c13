"""SSH keys in the users table, on every backend: add, look up, remove, refuse, revoke.

Keys are real ones, made with asyncssh; a key is found by its wire form (what a client offers).
"""

from __future__ import annotations

import asyncssh
import pytest

from warroom.cli.keys import BadKey, parse_public_key
from warroom.core.domain import Actor, Role
from warroom.core.sshkeys import PublicKey
from warroom.store import Store, StoreError


def _key(comment: str = "ana@laptop") -> tuple[PublicKey, bytes]:
    """A fresh ed25519 public key, parsed, and its wire form."""
    private = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    public = private.convert_to_public()
    return parse_public_key(public.export_public_key("openssh")), public.public_data


def test_a_key_logs_its_user_in_with_their_current_role(store: Store) -> None:
    key, wire = _key()
    store.users.add("ana", Role.RESPONDER)
    added = store.users.add_ssh_key("ana", key)
    assert (added.user, added.fingerprint, added.comment) == ("ana", key.fingerprint, "ana@laptop")
    assert store.users.actor_for_key(wire) == Actor("ana", Role.RESPONDER)

    store.users.change("ana", Role.STAKEHOLDER, ["exec"])
    assert store.users.actor_for_key(wire) == Actor("ana", Role.STAKEHOLDER, frozenset({"exec"}))
    assert store.users.ssh_keys("ana") == [added]
    assert [u.ssh_keys for u in store.users.all()] == [1]


def test_an_unknown_key_finds_nobody(store: Store) -> None:
    key, _ = _key()
    _, other = _key()
    store.users.add("ana", Role.RESPONDER, ssh_keys=[key])
    assert store.users.actor_for_key(other) is None


def test_a_user_added_with_keys_gets_them_all(store: Store) -> None:
    (first, first_wire), (second, second_wire) = _key("one"), _key("two")
    store.users.add("olga", Role.OBSERVER, ssh_keys=[first, second])
    assert {k.fingerprint for k in store.users.ssh_keys("olga")} == {
        first.fingerprint,
        second.fingerprint,
    }
    for wire in (first_wire, second_wire):
        assert store.users.actor_for_key(wire) == Actor("olga", Role.OBSERVER)


def test_a_key_belongs_to_one_user_only(store: Store) -> None:
    key, wire = _key()
    store.users.add("ana", Role.RESPONDER, ssh_keys=[key])
    store.users.add("bob", Role.RESPONDER)
    with pytest.raises(StoreError, match="already ana's"):
        store.users.add_ssh_key("bob", key)
    with pytest.raises(StoreError, match="already theirs"):
        store.users.add_ssh_key("ana", key)
    # A user created with a taken key is not created at all.
    with pytest.raises(StoreError, match="already ana's"):
        store.users.add("carol", Role.RESPONDER, ssh_keys=[key])
    assert [u.name for u in store.users.all()] == ["ana", "bob"]
    assert store.users.actor_for_key(wire) == Actor("ana", Role.RESPONDER)
    assert len(store.users.ssh_keys()) == 1


def test_removing_a_key_stops_it_and_keeps_the_others(store: Store) -> None:
    (first, first_wire), (second, second_wire) = _key("one"), _key("two")
    store.users.add("ana", Role.RESPONDER, ssh_keys=[first, second])
    removed = store.users.remove_ssh_key("ana", first.fingerprint)
    assert removed.fingerprint == first.fingerprint
    assert store.users.actor_for_key(first_wire) is None
    assert store.users.actor_for_key(second_wire) == Actor("ana", Role.RESPONDER)
    with pytest.raises(StoreError, match="has no SSH key"):
        store.users.remove_ssh_key("ana", first.fingerprint)
    # Someone else's key cannot be removed through another name.
    store.users.add("bob", Role.RESPONDER)
    with pytest.raises(StoreError, match="bob has no SSH key"):
        store.users.remove_ssh_key("bob", second.fingerprint)
    assert store.users.actor_for_key(second_wire) == Actor("ana", Role.RESPONDER)


def test_a_revoked_users_keys_stop_working(store: Store) -> None:
    key, wire = _key()
    store.users.add("ana", Role.RESPONDER, ssh_keys=[key])
    store.users.revoke("ana")
    assert store.users.actor_for_key(wire) is None
    assert store.users.actor("ana") is None
    with pytest.raises(StoreError, match="no active user"):
        store.users.add_ssh_key("ana", _key()[0])
    with pytest.raises(StoreError, match="no active user"):
        store.users.add_ssh_key("nobody", _key()[0])


def test_actor_reads_the_user_as_they_are_now(store: Store) -> None:
    store.users.add("carol", Role.STAKEHOLDER, ["exec"])
    assert store.users.actor("carol") == Actor("carol", Role.STAKEHOLDER, frozenset({"exec"}))
    store.users.change("carol", groups=["support"])
    assert store.users.actor("carol") == Actor("carol", Role.STAKEHOLDER, frozenset({"support"}))
    assert store.users.actor("nobody") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not an SSH public key"),
        ("ssh-ed25519 AAAAnotbase64!! me", "not an SSH public key"),
        ("hello world", "not an SSH public key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----", "private"),
    ],
)
def test_text_that_is_not_one_public_key_is_refused(text: str, reason: str) -> None:
    with pytest.raises(BadKey, match=reason):
        parse_public_key(text)


def test_a_private_key_and_a_list_of_keys_are_refused() -> None:
    private = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(BadKey, match="private key"):
        parse_public_key(private.export_private_key())
    two = _key()[0].line + "\n" + _key()[0].line + "\n"
    with pytest.raises(BadKey, match="several"):
        parse_public_key(two)


def test_the_fingerprint_is_the_one_openssh_prints() -> None:
    private = asyncssh.generate_private_key("ssh-ed25519")
    public = private.convert_to_public()
    parsed = parse_public_key(public.export_public_key("openssh"))
    assert parsed.fingerprint == public.get_fingerprint("sha256")
    assert parsed.algorithm == "ssh-ed25519"
    assert parse_public_key(parsed.line) == parsed
