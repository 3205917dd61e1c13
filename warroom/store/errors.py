"""The store's errors: each carries a sentence for the user."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation that cannot be done, with a sentence for the user."""


class DuplicateCommand(StoreError):
    """An append that repeats a committed (actor, command id), or otherwise breaks a key."""
