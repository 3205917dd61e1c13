"""Owner-only files: the folders warroom makes and the files that hold secrets (the database, the
login file, the SSH host key) are readable by their owner alone, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(folder: Path) -> None:
    """Make `folder` and any missing parent, each owner-only (0700); folders that exist are left
    as they are (a home or a shared data folder is not warroom's to change)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        # mkdir's mode passes through the umask, which only ever takes bits away; say it anyway.
        path.chmod(FOLDER_MODE)


def private_file(path: Path) -> None:
    """Make `path` an owner-only (0600) empty file if it does not exist; if it does and others may
    read or write it, take their access away, with a warning.

    Raises:
        OSError: if the file cannot be made.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        tighten(descriptor, path)
    finally:
        os.close(descriptor)


def tighten(descriptor: int, path: Path) -> None:
    """Take group and other access away from the open file `descriptor` (named `path`), with a
    warning if it had any: it may have been read already."""
    mode = stat.S_IMODE(os.fstat(descriptor).st_mode)
    if not mode & 0o077:
        return
    try:
        os.fchmod(descriptor, mode & ~0o077)
    except OSError as error:
        log.warning("warroom: %s is readable by others (mode %o): %s", path, mode, error)
        return
    log.warning(
        "warroom: %s was readable by others (mode %o); it is now owner-only (%o)",
        path,
        mode,
        mode & ~0o077,
    )
