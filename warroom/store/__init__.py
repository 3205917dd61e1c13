"""Persistence: the event log, the user directory and the server's secrets, in one database.

SQLModel over SQLite by default (a file under the user's data directory), PostgreSQL by URL,
through the same code. The wiring of a program opens the engine and hands it over:

    store = Store(open_engine(url))   # the schema brought to this code's version
    store.log.append(batch); store.users.authenticate(token); store.secrets.get("disclosure")

Everything here is synchronous: the server calls it from one writer thread (appends) and from
worker threads (reads), never from the event loop.
"""

from __future__ import annotations

from warroom.store.engine import default_url, describe, normalise_url, open_engine
from warroom.store.errors import DuplicateCommand, StoreError
from warroom.store.log import EventLog, Pending, Recorded, Turn
from warroom.store.outbox import Deliveries, Delivery, Planned, Subscriptions
from warroom.store.schema import CURRENT_VERSION, UPGRADES, Upgrade, prepare
from warroom.store.secrets import Secrets
from warroom.store.snapshots import Snapshot, Snapshots
from warroom.store.store import Store
from warroom.store.users import TOKEN_PREFIX, SshKey, User, UserDirectory, token_hash

__all__ = [
    "CURRENT_VERSION",
    "TOKEN_PREFIX",
    "UPGRADES",
    "Deliveries",
    "Delivery",
    "DuplicateCommand",
    "EventLog",
    "Pending",
    "Planned",
    "Recorded",
    "Secrets",
    "Snapshot",
    "Snapshots",
    "SshKey",
    "Store",
    "StoreError",
    "Subscriptions",
    "Turn",
    "Upgrade",
    "User",
    "UserDirectory",
    "default_url",
    "describe",
    "normalise_url",
    "open_engine",
    "prepare",
    "token_hash",
]
