"""Stale edits: the hub refused an edit because the field changed since the user's version.

The user sees both versions side by side and keeps theirs (sent again, based on the version the
hub has now), takes theirs (nothing is sent) or, for the impact statement, merges both texts in
the impact form.
"""

from __future__ import annotations

from client.app_protocol import ClientApp
from client.screens.conflict import ConflictScreen, Resolution
from client.state import Answer
from warroom.core import commands as c
from warroom.core.domain import evolve
from warroom.core.rejections import ImpactConflict
from warroom.core.timeparse import local


def is_conflict(answer: Answer) -> bool:
    """Whether a refusal is a stale edit the user can resolve, not only read."""
    return answer.code == "conflict" and answer.current is not None


def resolve(app: ClientApp, answer: Answer) -> None:
    """Show both versions of the stale edit in `answer` and do what the user chooses."""
    command = answer.pending.command
    current = answer.current
    assert isinstance(command, c.SetImpact | c.SetEta) and current is not None
    if isinstance(command, c.SetImpact):
        what, mine = "impact statement", command.statement
    else:
        what = "ETA"
        mine = local(command.eta) if command.eta else "none"

    def resolved(choice: Resolution | None) -> None:
        if choice is Resolution.KEEP_MINE:
            app.submit(_rebase(command, current.version), f"{what} (kept mine)")
        elif choice is Resolution.MERGE and isinstance(command, c.SetImpact):
            theirs = current.statement if isinstance(current, ImpactConflict) else ""
            _merge(app, command, theirs)

    screen = ConflictScreen(what, answer.message, mine, current, isinstance(command, c.SetImpact))
    app.push_screen(screen, resolved)


def _merge(app: ClientApp, mine: c.SetImpact, theirs: str) -> None:
    from client.screens.impact import ImpactScreen

    incident = app.state.world.incident(mine.incident)
    if incident is None:
        return
    merged = f"{theirs}\n{mine.statement}" if theirs else mine.statement
    # Their version number, your flags: the merge is yours to save.
    based = evolve(incident.impact, customer_facing=mine.customer_facing, audience=mine.audience)
    screen = ImpactScreen(incident.id, based, text=merged, now=app.now())

    def edited(command: c.SetImpact | None) -> None:
        if command is not None:
            app.submit(command, "impact (merged)")

    app.push_screen(screen, edited)


def _rebase(command: c.SetImpact | c.SetEta, version: int) -> c.SetImpact | c.SetEta:
    """The same edit, based on the version the server has now."""
    if isinstance(command, c.SetImpact):
        return c.SetImpact(
            incident=command.incident,
            statement=command.statement,
            customer_facing=command.customer_facing,
            base_version=version,
            audience=command.audience,
        )
    return c.SetEta(
        incident=command.incident,
        eta=command.eta,
        confidence=command.confidence,
        base_version=version,
    )
