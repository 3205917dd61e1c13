"""`Store`: one database's event log, user directory, secrets, delivery outbox and snapshots,
over one engine."""

from __future__ import annotations

from sqlalchemy import Engine

from warroom.store.backup import LOG_SECRET, log_identity
from warroom.store.engine import check_durable, describe
from warroom.store.log import EventLog
from warroom.store.outbox import Deliveries, Subscriptions
from warroom.store.schema import prepare
from warroom.store.secrets import Secrets
from warroom.store.snapshots import Snapshots
from warroom.store.users import UserDirectory


class Store:
    """The parts of the store over one engine, which it takes over (`close` disposes of it).

    Made from an engine the caller opened (`warroom.store.engine.open_engine`), so the wiring of
    a program decides which database it uses; the schema is brought to this code's version
    first (`warroom.store.schema.prepare`).

    Raises:
        StoreError: if the database cannot be reached, or its schema cannot be brought to this
            code's version (the engine is then disposed of).
    """

    def __init__(self, engine: Engine) -> None:
        try:
            prepare(engine)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine
        self.log = EventLog(engine)
        self.users = UserDirectory(engine)
        self.secrets = Secrets(engine)
        self.deliveries = Deliveries(engine)
        self.subscriptions = Subscriptions(engine)
        self.snapshots = Snapshots(engine)

    def log_identity(self) -> str:
        """Which log this database holds: a restored one holds another (`backup.log_identity`)."""
        return log_identity(self.engine, self.secrets.get(LOG_SECRET))

    def check_durable(self) -> None:
        """Refuse a database that could lose a commit on power loss (`engine.check_durable`)."""
        check_durable(self.engine)

    def describe(self) -> str:
        """The database's URL with any password hidden, for messages."""
        return describe(self.engine)

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()
