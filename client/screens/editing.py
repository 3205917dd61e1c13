"""Forms that send a command, and open again when the hub refuses it.

A form closes when it is saved; the hub's answer comes later. A refusal (too long, invalid, an
audience nobody holds) opens the same form again with what was typed and the hub's reason under
it, so nothing typed is lost. A stale edit is the conflict dialog's business instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from client.app_protocol import ClientApp
from client.screens.form import FormScreen, Typed
from warroom.core.commands import Command

CommandT = TypeVar("CommandT", bound=Command)


def open_form(
    app: ClientApp,
    make: Callable[[], FormScreen[CommandT]],
    label: str,
    refill: tuple[Typed, str] | None = None,
) -> None:
    """Open the form `make` builds and send the command it describes as `label`.

    Args:
        refill: what was typed and the reason it was refused, to open the form with.
    """
    screen = make() if refill is None else make().refill(*refill)

    def saved(command: CommandT | None) -> None:
        if command is None:
            return
        typed = screen.typed

        def refused(reason: str) -> None:
            open_form(app, make, label, (typed, reason))

        app.submit(command, label, refused)

    app.push_screen(screen, saved)
