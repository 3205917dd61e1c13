"""Which keys the footer shows first: at 80 columns it holds about eight, so the keys that matter
most for the user's role come first, then the focused panel's, then the rest; keys the role may
not use (greyed) come last."""

from __future__ import annotations

from textual.binding import ActiveBinding

from warroom.core.domain import Role

FIRST: dict[Role, tuple[str, ...]] = {
    Role.INCIDENT_MANAGER: ("app.show_help_panel", "note", "status", "impact", "eta", "compose"),
    Role.RESPONDER: ("app.show_help_panel", "note", "add_action", "workaround", "impact"),
    Role.OBSERVER: ("app.show_help_panel",),
    Role.STAKEHOLDER: ("app.show_help_panel",),
}
"""The screen's keys each role reaches for first (by action)."""


def by_role(
    bindings: dict[str, ActiveBinding], role: Role | None, screen_keys: set[str]
) -> dict[str, ActiveBinding]:
    """`bindings` reordered: the role's first keys, the focused panel's usable keys, the other
    usable keys of the screen, then every greyed key (`screen_keys`: the screen's own keys)."""
    first = FIRST.get(role, ()) if role is not None else ()

    def rank(item: tuple[str, ActiveBinding]) -> tuple[int, int]:
        key, active = item
        action = active.binding.action
        if not active.enabled:
            return (3, 0)
        if action in first:
            return (0, first.index(action))
        return (2, 0) if key in screen_keys else (1, 0)

    return dict(sorted(bindings.items(), key=rank))
