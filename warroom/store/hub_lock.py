"""The single-hub lock: a SQLite war room is served by one `warroom serve` at a time.

Two hubs on one SQLite file would each number events from their own head and collide on seq.
The first hub holds an exclusive `flock` on a lock file beside the database (owner-only, like
the database itself); the kernel drops it when the process ends, however it ends, so a hub that
was SIGKILLed leaves nothing stale behind. Only hubs take it: the admin verbs that open the
database directly (`user`, `backup`, `verify`, ...) run beside the hub as before. PostgreSQL
databases are not locked here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from warroom.store.engine import sqlite_file
from warroom.store.errors import StoreError
from warroom.store.files import FILE_MODE, private_folder, tighten


def lock_file(database: Path) -> Path:
    """The lock file of the SQLite database `database`: beside it, named after it."""
    return database.with_name(f"{database.name}.hub-lock")


@contextlib.contextmanager
def single_hub(url: str) -> Iterator[None]:
    """Hold the single-hub lock of the database `url` (normalised) while the block runs; for a
    PostgreSQL database or SQLite in memory, do nothing.

    Raises:
        StoreError: naming the database and what to do, if another hub holds it, or if the lock
            file cannot be made.
    """
    database = sqlite_file(url)
    if database is None:
        yield
        return
    path = lock_file(database)
    try:
        private_folder(path.parent)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as error:
        raise StoreError(f"cannot create the hub's lock file {path}: {error.strerror}") from None
    try:
        tighten(descriptor, path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
            by = f" (process {holder})" if holder.isdigit() else ""
            raise StoreError(
                f"another warroom serve{by} is already serving the database {database}: a SQLite "
                "war room has one hub at a time; connect to that one (warroom join), or stop it "
                "before starting this one"
            ) from None
        # Who holds it, for the sentence a second hub prints; the lock itself is the flock.
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the flock
