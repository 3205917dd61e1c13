"""Hearing of the other hubs' commits to a PostgreSQL log: a thread that `LISTEN`s on the log's
channel (`warroom.store.log.CHANNEL`) over a connection of its own.

Each notification says the head another hub committed; the thread passes it on at once. A
notification can be lost (this connection was down when it was sent) or coalesced, so the
thread also asks once every `POLL` seconds without one: whoever it tells reads the log beyond
its head, which finds whatever any notification would have announced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from warroom.store.log import CHANNEL

log = logging.getLogger(__name__)

POLL = 1.0
"""Seconds between two asks without a notification: the longest a lost one delays an event."""

CONNECT_TIMEOUT = 5
"""Seconds to wait for the database when (re)connecting."""


class Listener:
    """Calls `heard` with the head another hub committed (0: unknown, read anyway) on every
    notification, and at least every `every` seconds, from a thread of its own.

    Args:
        engine: the PostgreSQL engine of the log (only its URL is used: the listening
            connection is its own, outside the engine's pool).
        heard: told of each commit; must return at once (it runs on the listening thread).
        every: seconds between two calls without a notification.
    """

    def __init__(self, engine: Engine, heard: Callable[[int], None], every: float = POLL) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._heard = heard
        self._every = every
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening."""
        self._thread = threading.Thread(target=self._run, name="warroom-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (blocks up to `every` seconds and a bit)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(self._every + CONNECT_TIMEOUT)

    def _run(self) -> None:
        import psycopg  # installed with the PostgreSQL extra, which a PostgreSQL log needs

        failing = False
        while not self._stopped.is_set():
            try:
                with psycopg.connect(
                    self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
                ) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    if failing:
                        log.warning("listening to the other hubs' commits again")
                    failing = False
                    self._heard(0)  # what was committed while nobody listened
                    while not self._stopped.is_set():
                        for notice in connection.notifies(timeout=self._every):
                            self._heard(_head(notice.payload))
                        self._heard(0)
            except psycopg.Error as error:
                if not failing:
                    log.warning("cannot listen to the other hubs' commits: %s", error)
                failing = True
                self._heard(0)
                self._stopped.wait(self._every)


def _head(payload: str) -> int:
    try:
        return max(0, int(payload))
    except ValueError:
        return 0
