"""SSH public keys as the users table knows them: algorithm, blob, comment and fingerprint.

A key is stored as its algorithm, its base64 blob (the exact bytes a client offers at login),
its comment and its SHA256 fingerprint, the form `ssh-keygen -l` and OpenSSH print.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass


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
