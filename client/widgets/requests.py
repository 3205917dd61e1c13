"""Whether a panel's key that asks for an edit is offered: the screen that would do it decides.

A panel never edits: its keys post request messages (`ProgressPanel.AdvanceRequested`, ...) and
the screen that handles them says, through `offers`, whether the user may ask (True), may not
(None: the key is greyed out) or never can (False: the key is hidden). A screen without `offers`
(a read-only one: the preview, the stakeholder's room) handles no request, so none of these keys
shows there.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.message import Message
from textual.widget import Widget


@runtime_checkable
class TakesRequests(Protocol):
    """A screen that handles some of its panels' request messages."""

    def offers(self, request: type[Message]) -> bool | None:
        """True if the user may ask for `request` now, None (greyed) if not, False (hidden)
        if the screen does not take it."""
        ...


def offered(panel: Widget, request: type[Message] | None) -> bool | None:
    """The state of `panel`'s key that posts `request`, as its screen `offers` it: the answer
    of the panel's `check_action`. A key that requests nothing (`request` None: the cursor keys)
    is always on.
    """
    if request is None:
        return True
    screen = panel.screen
    return screen.offers(request) if isinstance(screen, TakesRequests) else False
