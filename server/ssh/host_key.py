"""The gateway's SSH host key: where it is kept, and made on first use."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh
import platformdirs

from server.ssh.settings import GatewayError
from warroom.store.files import private_folder


def default_host_key() -> Path:
    """The host key's default path, beside the default database."""
    return Path(platformdirs.user_data_dir("warroom")) / "ssh_host_ed25519_key"


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The host key in `path`, made (ed25519, mode 0600) if there is none yet.

    Raises:
        GatewayError: if the file cannot be read, made, or is not a private key.
    """
    try:
        return asyncssh.read_private_key(path)
    except FileNotFoundError:
        pass
    except (OSError, asyncssh.KeyImportError, ValueError) as error:
        raise GatewayError(f"cannot use the SSH host key {path}: {error}") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="warroom host key")
    try:
        private_folder(path.parent)
        # Written whole under another name, then linked in: a crash never leaves half a key, and
        # two servers starting at once keep the same one.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.export_private_key())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            partial.unlink()
            return load_host_key(path)
        partial.unlink()
    except OSError as error:
        raise GatewayError(f"cannot create the SSH host key {path}: {error}") from None
    return key
