"""The link bar: who you are, whether the war room is reachable, and what is still in flight."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from client.render import shown
from client.state import ClientState, Link
from client.widgets import steady
from warroom.core.domain import Role


def render_link(state: ClientState) -> Text:
    """One line: the link state (as words, not only colour), the user, pending commands."""
    if state.link is Link.ONLINE and state.synced:
        link = Text("● online", style="bold green")
    elif state.link is Link.OFFLINE:
        link = Text("✕ OFFLINE", style="bold white on red")
    else:
        link = Text("… connecting", style="bold yellow")
    who = (
        Text.assemble("  ", (state.me.name, "bold"), f" ({state.me.role.value})")
        if state.me is not None
        else Text("")
    )
    detail = (
        shown(f"  {state.link_detail}", "italic", multiline=False)
        if state.link is not Link.ONLINE
        else Text("")
    )
    pending = Text("")
    if state.pending:
        labels = ", ".join(p.label for p in list(state.pending.values())[:3])
        more = "…" if len(state.pending) > 3 else ""
        pending = shown(f"  ⧗ sending {len(state.pending)}: {labels}{more}", "yellow", False)
    line = Text.assemble(link, who, pending, detail)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


class LinkBar(Static):
    """Docked at the top of every screen."""

    DEFAULT_CSS = """
    LinkBar { dock: top; height: 1; }
    """

    def show(self, state: ClientState) -> None:
        """Render the link state."""
        steady.update(self, render_link(state))


class ObserverBanner(Static):
    """A visible reminder that this session only reads."""

    DEFAULT_CSS = """
    ObserverBanner { height: 1; display: none; }
    """

    def show(self, state: ClientState) -> None:
        """Shown for observers only."""
        self.display = state.role is Role.OBSERVER
        steady.update(
            self,
            Text(
                " OBSERVER: read only. You see the war room live; you cannot change it. ",
                style="bold black on yellow",
            ),
        )
