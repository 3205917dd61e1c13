"""Refusals: `Rejected`, with a stable code and a sentence for the user, and the current value a
stale edit met (`ImpactConflict`, `EtaConflict`), which travels on the wire with the refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, PlainSerializer

from warroom.core.domain import Confidence


@dataclass(frozen=True, kw_only=True)
class ImpactConflict:
    """The impact statement as it is now, which an edit based on an older version would have
    overwritten."""

    type: Literal["impact.conflict"] = "impact.conflict"
    version: int
    statement: str
    customer_facing: bool
    updated_by: str | None
    """None before the first statement."""
    audience: str = "internal"
    """Who sees the statement now."""


@dataclass(frozen=True, kw_only=True)
class EtaConflict:
    """The ETA as it is now, which an edit based on an older version would have overwritten;
    `eta`, `confidence` and `set_by` are None before the first estimate."""

    type: Literal["eta.conflict"] = "eta.conflict"
    version: int
    eta: Annotated[AwareDatetime, PlainSerializer(datetime.isoformat, when_used="json")] | None
    """Written as `datetime.isoformat` writes it (`+00:00`), as the CLI's `--json` shows it."""
    confidence: Confidence | None
    set_by: str | None


Conflict = Annotated[ImpactConflict | EtaConflict, Field(discriminator="type")]
"""The current value a stale edit met, tagged on the wire (`impact.conflict`, `eta.conflict`)."""


class Rejected(Exception):
    """A command the war room refuses; `message` is a sentence for the user.

    Attributes:
        code: a stable machine-readable reason (`not-found`, `invalid`, `conflict`, ...).
        message: one sentence saying why, fit to show as it is.
        current: for a `conflict`, the current value the user's edit would have overwritten.
    """

    def __init__(self, code: str, message: str, current: Conflict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = current


def no_such_incident(incident_id: str) -> Rejected:
    """The refusal for an incident that does not exist, or that the user may not know of: the
    two must read the same."""
    return Rejected("not-found", f"there is no incident {incident_id.upper()}")
