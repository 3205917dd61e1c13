"""The event store: one append-only table of events with a gapless global `seq`, and the users.

SQLModel over SQLite by default (a file under the user's data directory, WAL, synchronous=FULL),
PostgreSQL by URL through the same code. The store is synchronous; the server calls it from one
writer thread (appends) and from worker threads (reads), never from the event loop.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, SQLModel, col, create_engine

from warroom.core import protocol
from warroom.core.domain import Actor, Role, parse_group
from warroom.core.events import Envelope, Event
from warroom.core.sshkeys import PublicKey, blob_of


class EventRow(SQLModel, table=True):
    """One event of the log. Rows are only ever inserted."""

    __tablename__ = "events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    incident: str = Field(index=True)
    type: str
    actor: str
    at: str
    data: str


class CommandRow(SQLModel, table=True):
    """A committed command, so a retried command id is applied once."""

    __tablename__ = "commands"

    actor: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    last_seq: int


class SecretRow(SQLModel, table=True):
    """A server secret, made once (e.g. the key that seals stakeholders' cursors)."""

    __tablename__ = "secrets"

    name: str = Field(primary_key=True)
    value: str


class UserRow(SQLModel, table=True):
    """A user and the hash of their token (the token itself is never stored)."""

    __tablename__ = "users"

    name: str = Field(primary_key=True)
    role: str
    groups: str = ""
    token_hash: str = Field(index=True, unique=True)
    created_at: str
    revoked_at: str | None = None


class SshKeyRow(SQLModel, table=True):
    """An SSH public key that logs its user in to the SSH gateway (one key, one user)."""

    __tablename__ = "ssh_keys"

    fingerprint: str = Field(primary_key=True)
    """`SHA256:...` of the key blob."""
    user: str = Field(index=True)
    algorithm: str
    blob: str = Field(unique=True)
    """The key's wire form, base64: what a client offers at login."""
    comment: str = ""
    created_at: str


class StoreError(Exception):
    """A store operation that cannot be done, with a sentence for the user."""


class DuplicateCommand(StoreError):
    """An append that repeats a committed (actor, command id), or otherwise breaks a key."""


TOKEN_PREFIX = "wr_"

_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")


@dataclass(frozen=True)
class Pending:
    """A decided command ready to be committed: its id and its events, already numbered."""

    actor: str
    command_id: str
    events: Sequence[tuple[int, Event, str]]
    """(seq, event, encoded event) for each event the command caused."""


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


@dataclass(frozen=True)
class SshKey:
    """An SSH key as listed by `warroom user key list`."""

    user: str
    algorithm: str
    fingerprint: str
    comment: str
    created_at: str


def default_url() -> str:
    """The SQLite file under the user's data directory (`WARROOM_DB` overrides it)."""
    configured = os.environ.get("WARROOM_DB")
    if configured:
        return normalise_url(configured)
    folder = Path(platformdirs.user_data_dir("warroom"))
    return f"sqlite:///{folder / 'warroom.db'}"


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL, `postgresql://...` or a plain file path."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: in WAL mode NORMAL may lose committed transactions on power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _active_actor(row: Any) -> Actor | None:
    """The actor of a users row, or None for no row or a revoked user."""
    if row is None or row.revoked_at is not None:
        return None
    groups = frozenset(g for g in row.groups.split(",") if g)
    return Actor(name=row.name, role=Role(row.role), groups=groups)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class EventStore:
    """The log and the users, over one database URL."""

    def __init__(self, url: str | None = None) -> None:
        self.url = normalise_url(url) if url else default_url()
        if self.url.startswith("sqlite:///"):
            path = Path(self.url.removeprefix("sqlite:///"))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create the folder {path.parent}: {error}") from None
            self.engine: Engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 10}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        try:
            SQLModel.metadata.create_all(self.engine)
        except Exception as error:  # the driver's own error types vary
            raise StoreError(f"cannot open the database {self.describe()}: {error}") from None

    def describe(self) -> str:
        """The URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    # The log ----------------------------------------------------------------------------------

    def head(self) -> int:
        """The seq of the newest event (0 for an empty log)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(col(EventRow.seq)))).scalar()
        return int(value or 0)

    def append(self, batch: Sequence[Pending]) -> None:
        """Commit the events and command ids of `batch` in one transaction.

        Raises:
            StoreError: if the transaction failed; nothing of the batch was committed.
        """
        event_rows: list[dict[str, Any]] = []
        command_rows: list[dict[str, Any]] = []
        for pending in batch:
            for seq, item, encoded in pending.events:
                event_rows.append(
                    {
                        "seq": seq,
                        "incident": item.incident,
                        "type": item.type,
                        "actor": item.actor,
                        "at": item.at.isoformat(),
                        "data": encoded,
                    }
                )
            command_rows.append(
                {
                    "actor": pending.actor,
                    "id": pending.command_id,
                    "last_seq": pending.events[-1][0],
                }
            )
        try:
            with self.engine.begin() as connection:
                if event_rows:
                    connection.execute(insert(EventRow), event_rows)
                if command_rows:
                    connection.execute(insert(CommandRow), command_rows)
        except IntegrityError as error:
            raise DuplicateCommand(f"the log refused the batch: {error.orig}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"the log could not commit the batch: {error}") from None

    def find_command(self, actor: str, command_id: str) -> int | None:
        """The last seq of an already committed command, or None."""
        with self.engine.connect() as connection:
            value = connection.execute(
                select(col(CommandRow.last_seq)).where(
                    col(CommandRow.actor) == actor, col(CommandRow.id) == command_id
                )
            ).scalar()
        return None if value is None else int(value)

    def read_raw(
        self, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[tuple[int, str]]:
        """(seq, encoded event) of the events after `after` (and up to `upto`), in order."""
        query = (
            select(col(EventRow.seq), col(EventRow.data))
            .where(col(EventRow.seq) > after)
            .order_by(col(EventRow.seq))
        )
        if upto is not None:
            query = query.where(col(EventRow.seq) <= upto)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [(int(seq), str(data)) for seq, data in connection.execute(query)]

    def read_incident(
        self, incident: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[tuple[int, str]]:
        """(seq, encoded event) of `incident`'s events after `after` (and up to `upto`), in order.

        Served by the index on `events.incident`: the cost follows the incident's size, not the
        log's."""
        query = (
            select(col(EventRow.seq), col(EventRow.data))
            .where(col(EventRow.incident) == incident, col(EventRow.seq) > after)
            .order_by(col(EventRow.seq))
        )
        if upto is not None:
            query = query.where(col(EventRow.seq) <= upto)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [(int(seq), str(data)) for seq, data in connection.execute(query)]

    def read(self, after: int = 0, limit: int | None = None) -> list[Envelope]:
        """The events after `after`, decoded, in order."""
        return [
            Envelope(seq=seq, event=protocol.load_event(data))
            for seq, data in self.read_raw(after, limit)
        ]

    # Secrets ----------------------------------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """The secret called `name`: made (32 random bytes) on first use, the same ever after."""
        with self.engine.connect() as connection:
            value = connection.execute(
                select(col(SecretRow.value)).where(col(SecretRow.name) == name)
            ).scalar()
        if value is None:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        insert(SecretRow), [{"name": name, "value": secrets.token_hex(32)}]
                    )
            except IntegrityError:
                pass  # made at the same moment by another process: read theirs
            with self.engine.connect() as connection:
                value = connection.execute(
                    select(col(SecretRow.value)).where(col(SecretRow.name) == name)
                ).scalar_one()
        return bytes.fromhex(value)

    # Users ------------------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: Role,
        groups: Sequence[str] = (),
        ssh_keys: Sequence[PublicKey] = (),
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
        # The prefix names what the secret is (for secret scanners) and keeps a token from ever
        # starting with "-", which a command line would take for an option.
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": clean,
            "role": role.value,
            "groups": ",".join(group_names),
            "token_hash": token_hash(token),
            "created_at": _now(),
        }
        with self.engine.begin() as connection:
            try:
                connection.execute(insert(UserRow), [row])
            except IntegrityError:
                raise StoreError(f"a user named {clean} already exists") from None
            for key in ssh_keys:
                self._insert_key(connection, clean, key)
        return token

    def users(self) -> list[User]:
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
                groups=tuple(g for g in row.groups.split(",") if g),
                created_at=row.created_at,
                revoked=row.revoked_at is not None,
                ssh_keys=int(counts.get(row.name, 0)),
            )
            for row in rows
        ]

    def revoke_user(self, name: str) -> None:
        """Revoke a user's token.

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

    def user_states(self) -> dict[str, Actor | None]:
        """Every user by name: their actor, or None once revoked."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(UserRow)).all()
        return {
            row.name: None
            if row.revoked_at is not None
            else Actor(
                name=row.name,
                role=Role(row.role),
                groups=frozenset(g for g in row.groups.split(",") if g),
            )
            for row in rows
        }

    def change_user(
        self, name: str, role: Role | None = None, groups: Sequence[str] | None = None
    ) -> None:
        """Change an active user's role and/or stakeholder groups.

        Raises:
            StoreError: for an unknown or revoked user, or groups on a non-stakeholder.
        """
        current = self.user_states().get(name)
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
        """The user a token belongs to, or None for an unknown or revoked token."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(UserRow).where(col(UserRow.token_hash) == token_hash(token))
            ).first()
        return _active_actor(row)

    def actor(self, name: str) -> Actor | None:
        """The active user named `name` as they are now (None: unknown or revoked)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(UserRow).where(col(UserRow.name) == name)).first()
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

    def _insert_key(self, connection: Any, name: str, key: PublicKey) -> SshKey:
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
        return SshKey(row.user, row.algorithm, row.fingerprint, row.comment, row.created_at)

    def ssh_keys(self, name: str | None = None) -> list[SshKey]:
        """The SSH keys of `name` (of everyone if None), by user then date."""
        query = select(SshKeyRow).order_by(col(SshKeyRow.user), col(SshKeyRow.created_at))
        if name is not None:
            query = query.where(col(SshKeyRow.user) == name)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            SshKey(row.user, row.algorithm, row.fingerprint, row.comment, row.created_at)
            for row in rows
        ]

    def user_for_key(self, public_data: bytes) -> Actor | None:
        """The active user a key (its wire form, as offered at an SSH login) belongs to."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(UserRow)
                .join(SshKeyRow, col(SshKeyRow.user) == col(UserRow.name))
                .where(col(SshKeyRow.blob) == blob_of(public_data))
            ).first()
        return _active_actor(row)
