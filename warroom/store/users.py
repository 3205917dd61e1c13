"""The user directory: users with their role, stakeholder groups and token, and the SSH keys that
log them in (found by fingerprint or by the key a client offers).

A token is shown once, when its user is made, and stored only as a hash. A revoked user stays
listed (their name stays taken) and no longer authenticates, by token or by key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from warroom.core.domain import Actor, Role, parse_group
from warroom.core.recipients import parse_address
from warroom.core.sshkeys import PublicKey, blob_of
from warroom.store.engine import driver_marks, is_sqlite
from warroom.store.errors import StoreError
from warroom.store.schema import SshKeyRow, UserRow

TOKEN_PREFIX = "wr_"

_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")


@dataclass(frozen=True)
class User:
    """A user as listed by `warroom user list`."""

    name: str
    role: Role
    groups: tuple[str, ...]
    created_at: str
    revoked: bool
    ssh_keys: int = 0
    """How many SSH keys log this user in."""
    email: str | None = None
    """Where they are told their question was answered (None: nowhere)."""


@dataclass(frozen=True)
class SshKey:
    """An SSH key as listed by `warroom user key list`."""

    user: str
    algorithm: str
    fingerprint: str
    comment: str
    created_at: str


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _groups(row: Any) -> tuple[str, ...]:
    return tuple(g for g in row.groups.split(",") if g)


def _active_actor(row: Any) -> Actor | None:
    """The actor of a users row, or None for no row or a revoked user."""
    if row is None or row.revoked_at is not None:
        return None
    return Actor(name=row.name, role=Role(row.role), groups=frozenset(_groups(row)))


def _ssh_key(row: Any) -> SshKey:
    return SshKey(row.user, row.algorithm, row.fingerprint, row.comment, row.created_at)


class UserDirectory:
    """The users of one database (its schema prepared: see `warroom.store.schema.prepare`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        name: str,
        role: Role,
        groups: Sequence[str] = (),
        ssh_keys: Sequence[PublicKey] = (),
        email: str | None = None,
    ) -> str:
        """Create a user, with the SSH keys that log them in, and return their new token (shown
        once, stored only as a hash). Nothing is created if anything is refused.

        Raises:
            StoreError: if the name is taken or malformed, or a key is already someone's.
        """
        clean = name.strip()
        if not _USER_NAME.match(clean):
            raise StoreError(
                f"bad user name {name!r}: letters, digits and . _ @ -, at most 80 characters"
            )
        try:
            group_names = sorted({parse_group(g) for g in groups})
        except ValueError as error:
            raise StoreError(str(error)) from None
        if group_names and role is not Role.STAKEHOLDER:
            raise StoreError("only stakeholders belong to stakeholder groups")
        try:
            address = None if email is None else parse_address(email)
        except ValueError as error:
            raise StoreError(str(error)) from None
        # The prefix names what the secret is (for secret scanners) and keeps a token from ever
        # starting with "-", which a command line would take for an option.
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": clean,
            "role": role.value,
            "groups": ",".join(group_names),
            "token_hash": token_hash(token),
            "created_at": _now(),
            "email": address,
        }
        with self.engine.begin() as connection:
            try:
                connection.execute(insert(UserRow), [row])
            except IntegrityError:
                raise StoreError(f"a user named {clean} already exists") from None
            for key in ssh_keys:
                self._insert_key(connection, clean, key)
        return token

    def all(self) -> list[User]:
        """Every user, in name order."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(UserRow).order_by(col(UserRow.name))).all()
            counts = dict(
                connection.execute(
                    select(col(SshKeyRow.user), func.count()).group_by(col(SshKeyRow.user))
                ).all()
            )
        return [
            User(
                name=row.name,
                role=Role(row.role),
                groups=_groups(row),
                created_at=row.created_at,
                revoked=row.revoked_at is not None,
                ssh_keys=int(counts.get(row.name, 0)),
                email=row.email,
            )
            for row in rows
        ]

    def emails(self) -> dict[str, str]:
        """The email address of every active user who gave one, by name."""
        query = select(col(UserRow.name), col(UserRow.email)).where(
            col(UserRow.email).is_not(None), col(UserRow.revoked_at).is_(None)
        )
        with self.engine.connect() as connection:
            return {str(name): str(email) for name, email in connection.execute(query)}

    def revoke(self, name: str) -> None:
        """Revoke a user's token (and SSH keys).

        Raises:
            StoreError: if there is no such active user.
        """
        with self.engine.begin() as connection:
            result = connection.execute(
                update(UserRow)
                .where(col(UserRow.name) == name, col(UserRow.revoked_at).is_(None))
                .values(revoked_at=_now())
            )
        if result.rowcount == 0:
            raise StoreError(f"there is no active user named {name}")

    def reissue(self, name: str) -> str:
        """Give an active user a new token and return it (shown once, stored only as a hash):
        the one they held before logs in no more; open connections carry on.

        Raises:
            StoreError: if there is no such active user.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            result = connection.execute(
                update(UserRow)
                .where(col(UserRow.name) == name, col(UserRow.revoked_at).is_(None))
                .values(token_hash=token_hash(token))
            )
        if result.rowcount == 0:
            raise StoreError(f"there is no active user named {name}")
        return token

    def states(self) -> dict[str, Actor | None]:
        """Every user by name: their actor, or None once revoked."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(UserRow)).all()
        return {row.name: _active_actor(row) for row in rows}

    def states_of(
        self, names: Iterable[str], connection: Connection | None = None
    ) -> dict[str, Actor | None]:
        """The users named: their actor as they are now, or None (revoked or unknown).

        Inside `connection`'s transaction the rows read stay locked against changes until it
        ends (SQLite: the writer's lock does it), so a revocation or a change of role commits
        either before what that transaction decided with them, or after it.

        Raises:
            StoreError: if the database could not be read (the writer refuses the group with
                `storage`, one line in the log, not a traceback per group while it is down).
        """
        wanted = sorted(set(names))
        if not wanted:
            return {}
        # The writer reads its group's users twice a commit (to decide, then to check inside
        # the commit): the statement is handed to the driver as it is, as the log's inserts are.
        # Built and compiled by SQLAlchemy each time it cost a millisecond, as much as deciding
        # a hundred notes.
        marks = driver_marks(self.engine, len(wanted))
        query = f"SELECT name, role, groups, revoked_at FROM users WHERE name IN ({marks})"
        try:
            if connection is None:
                with self.engine.connect() as own:
                    rows = own.exec_driver_sql(query, tuple(wanted)).all()
            else:
                # SQLite: the writer's lock keeps them; PostgreSQL: a share lock on each row.
                locked = query if is_sqlite(self.engine) else f"{query} FOR SHARE"
                rows = connection.exec_driver_sql(locked, tuple(wanted)).all()
        except SQLAlchemyError as error:
            raise StoreError(f"the users could not be read: {error}") from None
        found = {row.name: _active_actor(row) for row in rows}
        return {name: found.get(name) for name in wanted}

    def change(
        self, name: str, role: Role | None = None, groups: Sequence[str] | None = None
    ) -> None:
        """Change an active user's role and/or stakeholder groups.

        Raises:
            StoreError: for an unknown or revoked user, or groups on a non-stakeholder.
        """
        current = self.actor(name)
        if current is None:
            raise StoreError(f"there is no active user named {name}")
        new_role = role or current.role
        try:
            new_groups = (
                sorted({parse_group(g) for g in groups})
                if groups is not None
                else sorted(current.groups)
            )
        except ValueError as error:
            raise StoreError(str(error)) from None
        if new_role is not Role.STAKEHOLDER:
            if groups:
                raise StoreError("only stakeholders belong to stakeholder groups")
            new_groups = []
        with self.engine.begin() as connection:
            connection.execute(
                update(UserRow)
                .where(col(UserRow.name) == name)
                .values(role=new_role.value, groups=",".join(new_groups))
            )

    def authenticate(self, token: str) -> Actor | None:
        """The user a token belongs to, or None for an unknown or revoked token.

        Raises:
            StoreError: if the database could not be read.
        """
        return self._one(select(UserRow).where(col(UserRow.token_hash) == token_hash(token)))

    def actor(self, name: str) -> Actor | None:
        """The active user named `name` as they are now (None: unknown or revoked).

        Raises:
            StoreError: if the database could not be read.
        """
        return self._one(select(UserRow).where(col(UserRow.name) == name))

    def _one(self, query: Select[UserRow]) -> Actor | None:
        try:
            with self.engine.connect() as connection:
                row = connection.execute(query).first()
        except SQLAlchemyError as error:
            raise StoreError(f"the users could not be read: {error}") from None
        return _active_actor(row)

    # SSH keys ---------------------------------------------------------------------------------

    def add_ssh_key(self, name: str, key: PublicKey) -> SshKey:
        """Let `key` log the active user `name` in over SSH.

        Raises:
            StoreError: for an unknown or revoked user, or a key that is already someone's.
        """
        with self.engine.begin() as connection:
            row = connection.execute(select(UserRow).where(col(UserRow.name) == name)).first()
            if row is None or row.revoked_at is not None:
                raise StoreError(f"there is no active user named {name}")
            return self._insert_key(connection, name, key)

    def _insert_key(self, connection: Connection, name: str, key: PublicKey) -> SshKey:
        owner = connection.execute(
            select(col(SshKeyRow.user)).where(col(SshKeyRow.blob) == key.blob)
        ).scalar()
        if owner is not None:
            whose = "already theirs" if owner == name else f"already {owner}'s"
            raise StoreError(f"the key {key.fingerprint} is {whose}")
        created = _now()
        try:
            connection.execute(
                insert(SshKeyRow),
                [
                    {
                        "fingerprint": key.fingerprint,
                        "user": name,
                        "algorithm": key.algorithm,
                        "blob": key.blob,
                        "comment": key.comment,
                        "created_at": created,
                    }
                ],
            )
        except IntegrityError:  # taken by a concurrent writer since the check above
            raise StoreError(f"the key {key.fingerprint} is already someone's") from None
        return SshKey(name, key.algorithm, key.fingerprint, key.comment, created)

    def remove_ssh_key(self, name: str, fingerprint: str) -> SshKey:
        """Stop the key with this `SHA256:...` fingerprint from logging `name` in.

        Raises:
            StoreError: if `name` has no such key.
        """
        with self.engine.begin() as connection:
            row = connection.execute(
                select(SshKeyRow).where(
                    col(SshKeyRow.user) == name, col(SshKeyRow.fingerprint) == fingerprint
                )
            ).first()
            if row is None:
                raise StoreError(f"{name} has no SSH key {fingerprint}")
            connection.execute(delete(SshKeyRow).where(col(SshKeyRow.fingerprint) == fingerprint))
        return _ssh_key(row)

    def ssh_keys(self, name: str | None = None) -> list[SshKey]:
        """The SSH keys of `name` (of everyone if None), by user then date."""
        query = select(SshKeyRow).order_by(col(SshKeyRow.user), col(SshKeyRow.created_at))
        if name is not None:
            query = query.where(col(SshKeyRow.user) == name)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [_ssh_key(row) for row in rows]

    def actor_for_key(self, public_data: bytes) -> Actor | None:
        """The active user a key (its wire form, as offered at an SSH login) belongs to."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(UserRow)
                .join(SshKeyRow, col(SshKeyRow.user) == col(UserRow.name))
                .where(col(SshKeyRow.blob) == blob_of(public_data))
            ).first()
        return _active_actor(row)
