"""SSH public keys as the users table knows them: parsed and checked with asyncssh, fingerprinted.

A key is stored as its algorithm, its base64 blob (the exact bytes a client offers at login),
its comment and its SHA256 fingerprint, the form `ssh-keygen -l` and OpenSSH print.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import asyncssh

MAX_KEY_TEXT = 64 * 1024
"""A public key file is a line or a few; anything longer is not one."""


class BadKey(ValueError):
    """Text that is not one usable SSH public key, with a sentence for the user."""


@dataclass(frozen=True)
class PublicKey:
    """One parsed SSH public key."""

    algorithm: str
    """e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`."""
    blob: str
    """The key's wire form, base64 (the middle field of an OpenSSH public key line)."""
    comment: str
    fingerprint: str
    """`SHA256:...`, as `ssh-keygen -lf` prints it."""

    @property
    def line(self) -> str:
        """The key as one OpenSSH `authorized_keys` line."""
        return f"{self.algorithm} {self.blob} {self.comment}".rstrip()


def fingerprint(public_data: bytes) -> str:
    """The SHA256 fingerprint of a key's wire form, as OpenSSH prints it."""
    digest = base64.b64encode(hashlib.sha256(public_data).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def blob_of(public_data: bytes) -> str:
    """The base64 form of a key's wire form, as stored."""
    return base64.b64encode(public_data).decode("ascii")


def parse_public_key(text: str | bytes) -> PublicKey:
    """Parse one public key (an OpenSSH `.pub` line, or RFC 4716 / PEM).

    Raises:
        BadKey: for a private key, several keys, or text that is not a public key.
    """
    data = text.encode() if isinstance(text, str) else text
    if len(data) > MAX_KEY_TEXT:
        raise BadKey("this is too long for a public key file")
    if b"PRIVATE KEY" in data:
        raise BadKey("this is a private key: give the public key (the .pub file) instead")
    lines = [line for line in data.splitlines() if line.strip() and not line.startswith(b"#")]
    if len(lines) > 1 and all(b"---- BEGIN" not in line for line in lines):
        raise BadKey("this holds several lines: give one public key at a time")
    try:
        key = asyncssh.import_public_key(data)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise BadKey(
            "this is not an SSH public key (expected a line like `ssh-ed25519 AAAA... me`)"
        ) from None
    comment = key.get_comment() or ""
    return PublicKey(
        algorithm=key.get_algorithm(),
        blob=blob_of(key.public_data),
        comment=" ".join(comment.split()),
        fingerprint=fingerprint(key.public_data),
    )
