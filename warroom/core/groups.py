"""Stakeholder groups that exist: the groups some active stakeholder holds, and the check that
an audience names only those.

An entry addressed to a group nobody holds would reach nobody, and a typo (`exce`) would hide
it without a word: such an audience is refused, with the groups there are. Which users exist is
the user directory's business, not the log's: the hub reads them and passes the groups in here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from warroom.core import commands as c
from warroom.core.domain import Actor, Role, audience_groups, parse_audience
from warroom.core.rejections import Rejected


def known_groups(users: Iterable[Actor | None]) -> tuple[str, ...]:
    """The groups held by the active stakeholders among `users` (None: revoked), sorted."""
    groups: set[str] = set()
    for user in users:
        if user is not None and user.role is Role.STAKEHOLDER:
            groups |= user.groups
    return tuple(sorted(groups))


def named_groups(command: c.Command) -> frozenset[str]:
    """The stakeholder groups `command` addresses (none for `internal`, `all` or no audience)."""
    match command:
        case (
            c.AddNote()
            | c.AddAction()
            | c.AddMitigation()
            | c.SetImpact()
            | c.ChangeAudience()
            | c.PublishUpdate()
        ):
            return _groups(command.audience)
        case c.AnswerQuestion():
            return _groups(command.audience) if command.audience is not None else frozenset()
        case (
            c.DeclareIncident()
            | c.ChangeStatus()
            | c.ChangeSeverity()
            | c.SetEta()
            | c.AddApp()
            | c.RemoveApp()
            | c.PinNote()
            | c.ChangeActionState()
            | c.AssignAction()
            | c.ChangeMitigationState()
            | c.AskQuestion()
            | c.DismissQuestion()
            | c.MergeQuestion()
            | c.ChangePrivacy()
            | c.ChangeAccess()
        ):
            return frozenset()
        case _:
            assert_never(command)


def _groups(audience: str) -> frozenset[str]:
    try:
        return audience_groups(parse_audience(audience))
    except ValueError:
        return frozenset()  # malformed: `decide` refuses it with the reason


def unknown_group(unknown: Iterable[str], known: Iterable[str]) -> Rejected:
    """The refusal of an audience naming groups nobody holds, listing the groups there are."""
    missing = ", ".join(sorted(unknown))
    there = ", ".join(sorted(known)) or "none yet (add a stakeholder with --group)"
    return Rejected("unknown-group", f"no stakeholder is in group {missing}; known groups: {there}")


def check_groups(command: c.Command, known: Iterable[str]) -> None:
    """Refuse `command` if its audience names a group outside `known`.

    Raises:
        Rejected: `unknown-group`, naming the known groups.
    """
    known = frozenset(known)
    unknown = named_groups(command) - known
    if unknown:
        raise unknown_group(unknown, known)
