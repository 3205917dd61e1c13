"""Fixtures of the reliability tests: the end-to-end tier's real `warroom serve` process."""

from __future__ import annotations

from tests.e2e.conftest import env, hub

__all__ = ["env", "hub"]
