"""Reading SSH public key files with asyncssh, for `warroom user key add` and `user add --ssh-key`.

A key is checked and turned into the store's `PublicKey` (algorithm, base64 blob, comment,
SHA256 fingerprint).
"""

from __future__ import annotations

import asyncssh

from warroom.core.sshkeys import PublicKey, blob_of, fingerprint

MAX_KEY_TEXT = 64 * 1024
"""A public key file is a line or a few; anything longer is not one."""


class BadKey(ValueError):
    """Text that is not one usable SSH public key, with a sentence for the user."""


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
