"""`warroom user ...`: users, their roles and groups, and the SSH keys that log them in, on the
database directly (`--db` / WARROOM_DB), whether or not the hub runs; and `warroom invite-link`,
a user's sign-in link to the hub's status page.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from warroom.cli.common import (
    EXIT_USAGE,
    DatabaseArgs,
    Failure,
    HubArgs,
    opened_store,
    parsed,
)
from warroom.cli.parsing import VerbGroup, database_options, hub_options, option, verb
from warroom.core.domain import Role, parse_enum
from warroom.core.recipients import parse_address

if TYPE_CHECKING:
    from warroom.core.sshkeys import PublicKey
    from warroom.store import SshKey

_ROLES = ", ".join(r.value for r in Role)


@click.group("user", cls=VerbGroup, help="manage users (on the database directly)")
def user() -> None:
    pass


def _role(text: str) -> Role:
    return parsed(lambda t: parse_enum(Role, t, "role"), text)


def _read_key(path: str) -> PublicKey:
    """The SSH public key in the file `path` (`-`: standard input), checked."""
    from warroom.cli.keys import BadKey, parse_public_key

    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise Failure(f"cannot read {path}: {error.strerror or error}", EXIT_USAGE) from None
    try:
        return parse_public_key(text)
    except BadKey as error:
        raise Failure(f"{path}: {error}", EXIT_USAGE) from None


@user.command("add", help="add a user and print their token")
@database_options
@click.argument("name")
@option("--role", required=True, help=_ROLES)
@option("--group", multiple=True, help="stakeholder group (repeatable)")
@option(
    "--ssh-key",
    multiple=True,
    metavar="FILE",
    help="an SSH public key (.pub) that logs them in over SSH (repeatable)",
)
@option("--email", metavar="ADDR", help="where they are told their question was answered")
@option("--create", is_flag=True, help="make the database if it does not exist yet")
def add(
    db: DatabaseArgs,
    name: str,
    role: str,
    group: tuple[str, ...],
    ssh_key: tuple[str, ...],
    email: str | None,
    create: bool,
) -> None:
    kind = _role(role)
    keys = [_read_key(path) for path in ssh_key]
    address = parsed(parse_address, email) if email is not None else None
    with opened_store(db.db, create=create) as store:
        token = store.users.add(name, kind, list(group), keys, address)
    data = {
        "name": name,
        "role": kind.value,
        "token": token,
        "ssh_keys": [key.fingerprint for key in keys],
        "email": address,
    }
    db.emit(data, token)


@user.command("list", help="list users")
@database_options
def list_(db: DatabaseArgs) -> None:
    with opened_store(db.db) as store:
        users = store.users.all()
    data = [
        {
            "name": u.name,
            "role": u.role.value,
            "groups": list(u.groups),
            "created_at": u.created_at,
            "revoked": u.revoked,
            "ssh_keys": u.ssh_keys,
            "email": u.email,
        }
        for u in users
    ]
    lines = [
        f"{u.name:<16} {u.role.value:<17} {','.join(u.groups) or '-':<20} "
        f"{'revoked' if u.revoked else 'active'}"
        + (f"  {u.ssh_keys} ssh key{'s' if u.ssh_keys > 1 else ''}" if u.ssh_keys else "")
        + (f"  {u.email}" if u.email else "")
        for u in users
    ] or ["no users"]
    db.emit(data, lines)


@user.command("change", help="change a user's role or groups (live on the hub)")
@database_options
@click.argument("name")
@option("--role", help=_ROLES)
@option("--group", multiple=True, help="stakeholder group (repeatable)")
@option("--no-groups", is_flag=True, help="remove every group")
def change(
    db: DatabaseArgs, name: str, role: str | None, group: tuple[str, ...], no_groups: bool
) -> None:
    kind = _role(role) if role else None
    groups = list(group) if group else ([] if no_groups else None)
    with opened_store(db.db) as store:
        store.users.change(name, kind, groups)
        changed = store.users.states()[name]
    assert changed is not None
    data = {"name": name, "role": changed.role.value, "groups": sorted(changed.groups)}
    text = f"{name}: {changed.role.value} {','.join(sorted(changed.groups)) or ''}".strip()
    db.emit(data, text)


@user.command("revoke", help="revoke a user's token")
@database_options
@click.argument("name")
def revoke(db: DatabaseArgs, name: str) -> None:
    with opened_store(db.db) as store:
        store.users.revoke(name)
    db.emit({"name": name, "revoked": True}, f"revoked {name}")


@user.group("key", help="manage the SSH keys that log users in")
def key() -> None:
    pass


def _key_data(key: SshKey) -> dict[str, Any]:
    return {
        "user": key.user,
        "fingerprint": key.fingerprint,
        "algorithm": key.algorithm,
        "comment": key.comment,
        "created_at": key.created_at,
    }


@key.command("add", help="let an SSH public key log a user in")
@database_options
@click.argument("name")
@click.argument("file", help="the public key file (.pub), or - for standard input")
def key_add(db: DatabaseArgs, name: str, file: str) -> None:
    public = _read_key(file)
    with opened_store(db.db) as store:
        added = store.users.add_ssh_key(name, public)
    db.emit(_key_data(added), f"{name} can now log in over SSH with {public.fingerprint}")


@key.command("remove", help="stop an SSH key logging a user in")
@database_options
@click.argument("name")
@click.argument("key", metavar="FINGERPRINT|FILE", help="SHA256:... or the public key file")
def key_remove(db: DatabaseArgs, name: str, key: str) -> None:
    fingerprint = key if key.startswith("SHA256:") else _read_key(key).fingerprint
    with opened_store(db.db) as store:
        removed = store.users.remove_ssh_key(name, fingerprint)
    db.emit(_key_data(removed), f"removed {fingerprint} from {name}")


@key.command("list", help="list SSH keys (SHA256 fingerprints)")
@database_options
@click.argument("name", required=False, help="only this user's keys")
def key_list(db: DatabaseArgs, name: str | None) -> None:
    with opened_store(db.db) as store:
        keys = store.users.ssh_keys(name)
    lines = [
        f"{key.user:<16} {key.fingerprint}  {key.algorithm:<20} {key.comment}".rstrip()
        for key in keys
    ] or ["no SSH keys"]
    db.emit([_key_data(key) for key in keys], lines)


@verb("invite-link", "print a sign-in link to the status page for a user (incident manager)")
@hub_options
@option("--db", help="database URL or SQLite file (WARROOM_DB)")
@click.argument("name")
@option("--role", help=f"for a new user: {_ROLES} (default: stakeholder)")
@option("--group", multiple=True, help="for a new user: stakeholder group (repeatable)")
def invite_link(
    hub: HubArgs, db: str | None, name: str, role: str | None, group: tuple[str, ...]
) -> None:
    target = hub.target()
    page = page_url(target.url)
    kind = _role(role) if role else Role.STAKEHOLDER
    with opened_store(db) as store:
        caller = store.users.authenticate(target.token)
        if caller is None or caller.role is not Role.INCIDENT_MANAGER:
            raise Failure(
                "only an incident manager of this war room may make sign-in links "
                f"(the token for {target.url} is not one in this database)"
            )
        known = {user.name: user for user in store.users.all()}
        user = known.get(name.strip())
        if user is None:
            token = store.users.add(name, kind, list(group))
            created = True
        elif role or group:
            raise Failure(
                f"{user.name} already exists: change their role or groups with "
                f"`warroom user change {user.name}`",
                EXIT_USAGE,
            )
        else:
            token = store.users.reissue(user.name)
            created = False
        actor = store.users.actor(name.strip())
    assert actor is not None
    link = f"{page}#token={token}"
    if not created:
        print(f"warroom: {actor.name}'s previous token no longer logs in", file=sys.stderr)
    data = {
        "name": actor.name,
        "role": actor.role.value,
        "groups": sorted(actor.groups),
        "created": created,
        "link": link,
    }
    hub.emit(data, link)


def page_url(url: str) -> str:
    """The status page's address on the hub at `url` (`ws://host:port` gives
    `http://host:port/`, `wss://` gives `https://`).

    Raises:
        Failure: if `url` names no hub.
    """
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise Failure(
            f"{url} is not a hub's address (ws://host:port or wss://host:port)", EXIT_USAGE
        )
    return f"{scheme}://{parts.netloc}/"
