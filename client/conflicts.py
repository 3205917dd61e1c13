"""Stale edits: the hub refused an edit because the field changed since the user's version.

The user sees every field of both versions side by side, those that differ named, and keeps
theirs (sent again, based on the version the hub has now), takes the other (nothing is sent) or
merges: the form opens with, for each field, what the user changed, and for the fields they left
alone, what is there now; two different texts are both kept, for the user to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from client.app_protocol import ClientApp
from client.screens.conflict import ConflictScreen, FieldRow, Resolution
from client.screens.editing import open_form
from client.screens.form import FormScreen
from client.state import Answer, ClientState
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.domain import Confidence, EtaRevision, Impact, World, evolve
from warroom.core.reducer import apply
from warroom.core.rejections import EtaConflict, ImpactConflict
from warroom.core.timeparse import local


def is_conflict(answer: Answer) -> bool:
    """Whether a refusal is a stale edit the user can resolve, not only read."""
    return answer.code == "conflict" and answer.current is not None


@dataclass(frozen=True)
class _Eta:
    """The fields of an ETA edit."""

    eta: datetime | None
    confidence: Confidence | None


def resolve(app: ClientApp, answer: Answer) -> None:
    """Show both versions of the stale edit in `answer` and do what the user chooses."""
    command, current = answer.pending.command, answer.current
    assert isinstance(command, c.SetImpact | c.SetEta) and current is not None
    merge: Callable[[], None]
    if isinstance(command, c.SetImpact):
        assert isinstance(current, ImpactConflict)
        what, author = "impact statement", current.updated_by
        theirs = Impact(current.statement, current.customer_facing, current.audience)
        mine = Impact(command.statement, command.customer_facing, command.audience)
        rows = _impact_rows(theirs, mine)
        base = _impact_at(app.state, command.incident, command.base_version)

        def merge() -> None:
            _merge_impact(app, command, evolve(theirs, version=current.version), base)

    else:
        assert isinstance(current, EtaConflict)
        what, author = "ETA", current.set_by
        theirs_eta = _Eta(current.eta, current.confidence)
        mine_eta = _Eta(command.eta, command.confidence)
        rows = _eta_rows(theirs_eta, mine_eta)
        base_eta = _eta_at(app.state, command.incident, command.base_version)

        def merge() -> None:
            _merge_eta(app, command, theirs_eta, base_eta, current)

    def resolved(choice: Resolution | None) -> None:
        if choice is Resolution.KEEP_MINE:
            app.submit(_rebase(command, current.version), f"{what} (kept mine)")
        elif choice is Resolution.MERGE:
            merge()

    title = f"Theirs (v{current.version}, {author or 'someone'})"
    app.push_screen(ConflictScreen(what, answer.message, title, rows), resolved)


def _impact_rows(theirs: Impact, mine: Impact) -> list[FieldRow]:
    def facing(impact: Impact) -> str:
        return "yes" if impact.customer_facing else "no"

    return [
        FieldRow("text", theirs.statement or "(none)", mine.statement),
        FieldRow("customer-facing", facing(theirs), facing(mine)),
        FieldRow("audience", theirs.audience, mine.audience),
    ]


def _eta_rows(theirs: _Eta, mine: _Eta) -> list[FieldRow]:
    def when(eta: _Eta) -> str:
        return local(eta.eta) if eta.eta is not None else "(none)"

    def sure(eta: _Eta) -> str:
        return eta.confidence.value if eta.confidence is not None else "(none)"

    return [
        FieldRow("ETA", when(theirs), when(mine)),
        FieldRow("confidence", sure(theirs), sure(mine)),
    ]


def _before(state: ClientState, incident: str, newer: Callable[[e.Event], bool]) -> World:
    """The room as it was before the first of its events that `newer` picks."""
    world = World()
    for item in state.log:
        if item.event.incident == incident and newer(item.event):
            break
        world = apply(world, item.event)
    return world


def _impact_at(state: ClientState, incident: str, version: int) -> Impact:
    """The impact statement the user's edit was based on (version `version`)."""
    world = _before(
        state, incident, lambda ev: isinstance(ev, e.ImpactUpdated) and ev.version > version
    )
    found = world.incident(incident)
    return found.impact if found is not None else Impact()


def _eta_at(state: ClientState, incident: str, version: int) -> _Eta:
    """The ETA the user's edit was based on (version `version`)."""
    world = _before(state, incident, lambda ev: isinstance(ev, e.EtaSet) and ev.version > version)
    found = world.incident(incident)
    revision = found.eta if found is not None else None
    if revision is None:
        return _Eta(None, None)
    return _Eta(revision.eta, revision.confidence)


T = TypeVar("T")


def _kept(mine: T, base: T, theirs: T) -> T:
    """A field of a merge: the user's if they changed it, else what is there now."""
    return theirs if mine == base else mine


def _merge_impact(app: ClientApp, mine: c.SetImpact, theirs: Impact, base: Impact) -> None:
    if mine.statement == base.statement or mine.statement == theirs.statement:
        text = theirs.statement
    elif theirs.statement == base.statement:
        text = mine.statement
    else:
        text = f"{theirs.statement}\n{mine.statement}"
    merged = evolve(
        theirs,
        customer_facing=_kept(mine.customer_facing, base.customer_facing, theirs.customer_facing),
        audience=_kept(mine.audience, base.audience, theirs.audience),
    )
    from client.screens.impact import ImpactScreen

    groups, now = app.known_groups, app.now()

    def form() -> ImpactScreen:
        return _holding(ImpactScreen(mine.incident, merged, text=text, now=now, groups=groups))

    open_form(app, form, "impact (merged)")


def _merge_eta(
    app: ClientApp, mine: c.SetEta, theirs: _Eta, base: _Eta, current: EtaConflict
) -> None:
    incident = app.state.world.incident(mine.incident)
    if incident is None:
        return
    eta = _kept(mine.eta, base.eta, theirs.eta)
    confidence = _kept(mine.confidence, base.confidence, theirs.confidence)
    revision = EtaRevision(
        version=current.version,
        eta=eta,
        confidence=confidence or Confidence.MEDIUM,
        set_by=current.set_by or "",
        set_at=app.now(),
    )
    from client.screens.eta import EtaScreen

    based = evolve(incident, eta=revision)
    open_form(app, lambda: _holding(EtaScreen(based, app.now())), "ETA (merged)")


FormT = TypeVar("FormT", bound=FormScreen[Any])


def _holding(form: FormT) -> FormT:
    """`form`, opened with the user's edit in it: Esc asks before it drops it."""
    form.holds_typing = True
    return form


def _rebase(command: c.SetImpact | c.SetEta, version: int) -> c.SetImpact | c.SetEta:
    """The same edit, based on the version the server has now."""
    return evolve(command, base_version=version)
