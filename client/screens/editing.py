"""Forms that send a command, and open again when the hub refuses it.

A form (or a one-line prompt) closes when it is saved; the hub's answer comes later. A refusal
(too long, invalid, an audience nobody holds) opens the same form again with what was typed and
the hub's reason under it, so nothing typed is lost. A stale edit is the conflict dialog's
business instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from client.app_protocol import ClientApp
from client.screens.form import FormScreen, Typed
from client.screens.prompt import PromptScreen
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


Built = tuple[Command, str] | None
"""The command a prompt's text makes, and its label; None: nothing to send."""


def open_prompt(
    app: ClientApp,
    make: Callable[[], PromptScreen],
    build: Callable[[str], Built],
    refill: tuple[Typed, str] | None = None,
) -> None:
    """Open the prompt `make` builds; send the command `build` makes of its text, and open the
    prompt again with that text and the reason if the hub refuses it."""
    screen = make()
    if refill is not None:
        screen.refill(*refill)

    def answered(text: str | None) -> None:
        built = None if text is None else build(text)
        if built is None:
            return
        command, label = built
        typed = screen.typed

        def refused(reason: str) -> None:
            open_prompt(app, make, build, (typed, reason))

        app.submit(command, label, refused)

    app.push_screen(screen, answered)
