"""The server's secrets: random keys made once and kept in the database (e.g. the key that seals
stakeholders' cursors, which must still open them after a restart)."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from warroom.store.schema import SecretRow

SECRET_BYTES = 32


class Secrets:
    """The secrets of one database (its schema prepared: see `warroom.store.schema.prepare`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, name: str) -> bytes:
        """The secret called `name`: made (32 random bytes) on first use, the same ever after."""
        value = self._read(name)
        if value is None:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        insert(SecretRow),
                        [{"name": name, "value": secrets.token_hex(SECRET_BYTES)}],
                    )
            except IntegrityError:
                pass  # made at the same moment by another process: read theirs
            value = self._read(name)
            assert value is not None
        return bytes.fromhex(value)

    def _read(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(col(SecretRow.value)).where(col(SecretRow.name) == name)
            ).scalar()
        return None if value is None else str(value)
