"""The database's tables (SQLModel), made where missing when a database is opened."""

from __future__ import annotations

from sqlalchemy import Engine, Table
from sqlmodel import Field, SQLModel

from warroom.store.engine import describe
from warroom.store.errors import StoreError


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


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel for table=True
    assert isinstance(table, Table)
    return table


DATA_TABLES: tuple[Table, ...] = tuple(
    _table(model) for model in (EventRow, CommandRow, SecretRow, UserRow, SshKeyRow)
)
"""Every table of the database."""


def prepare(engine: Engine) -> None:
    """Make the tables the database lacks.

    Raises:
        StoreError: if the database cannot be reached.
    """
    try:
        with engine.begin() as connection:
            for table in DATA_TABLES:
                table.create(connection, checkfirst=True)
    except Exception as error:  # the driver's own error types vary
        raise StoreError(f"cannot open the database {describe(engine)}: {error}") from None
