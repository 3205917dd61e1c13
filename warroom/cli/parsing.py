"""How `warroom` reads its command line: click's command and group classes as the verbs need
them, the help layout, and the options many verbs share.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

import click

from warroom.cli.common import DatabaseArgs, Failure, HubArgs, Output

F = TypeVar("F", bound=Callable[..., Any])

_STAND_IN = "\N{MINUS SIGN}"
"""Replaces the leading '-' of a word that is text while click reads the line (see `Verb`)."""


class Formatter(click.HelpFormatter):
    """Help as the rest of the command speaks: `usage:` and lower-case headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "usage: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(heading.lower())


class WarroomContext(click.Context):
    formatter_class = Formatter


class _Described(click.Command):
    """Help lines as `warroom` writes them: whole, and in lower case."""

    context_class = WarroomContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "show this help message and exit"
        return option

    def get_short_help_str(self, limit: int = 45) -> str:
        # The whole line in `warroom --help`, never cut short at `limit`.
        return self.short_help or self.help or ""


class Verb(_Described):
    """A `warroom` verb.

    A word that starts with '-' and holds a space is text, not an option: `warroom impact INC
    "-30% card payments"` records that statement, as it always has. Click alone would read it as a
    cluster of short options. So is a word that starts with '-' and a digit: a time before now
    (`warroom eta INC -5m`, `warroom note INC --at -10m ...`) or a negative number. An option with
    its value attached (`--reason=dup of Q1`, `-s1 x`) stays an option, and any other word
    (`-x`) stays an unknown option.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = _attached_value_prefixes(self.get_params(ctx))
        words: list[str] = []
        texts: dict[str, str] = {}
        for index, word in enumerate(args):
            if word == "--":
                words.extend(args[index:])
                break
            textual = " " in word or word[1:2].isdigit()
            if word.startswith("-") and textual and not word.startswith(names):
                stand_in = _STAND_IN + word[1:]
                texts[stand_in] = word
                word = stand_in
            words.append(word)
        try:
            rest = super().parse_args(ctx, words)
        except click.UsageError as error:
            if not texts:
                raise
            message = error.format_message()
            for stand_in, text in texts.items():
                message = message.replace(stand_in, text)
            raise click.UsageError(message, ctx=error.ctx) from None
        if texts:
            ctx.params = {name: _restored(value, texts) for name, value in ctx.params.items()}
        return rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Failure as failure:
            failure.json = bool(ctx.params.get("as_json"))
            raise


def _attached_value_prefixes(params: list[click.Parameter]) -> tuple[str, ...]:
    """How an option with its value attached begins: `--reason=`, `-s`."""
    prefixes: list[str] = []
    for param in params:
        if isinstance(param, click.Option) and not param.is_flag:
            for name in param.opts:
                prefixes.append(f"{name}=" if name.startswith("--") else name)
    return tuple(prefixes)


def _restored(value: Any, texts: dict[str, str]) -> Any:
    if isinstance(value, str):
        return texts.get(value, value)
    if isinstance(value, tuple):
        return tuple(texts.get(item, item) if isinstance(item, str) else item for item in value)
    return value


class VerbGroup(_Described, click.Group):
    """A verb with verbs under it (`warroom`, `warroom user`), listed in the order they are
    added; an unknown or missing one is bad usage that names the choices."""

    command_class = Verb
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", False)
        kwargs.setdefault("subcommand_metavar", "ACTION ...")
        super().__init__(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def _choices(self, ctx: click.Context) -> str:
        return ", ".join(repr(name) for name in self.list_commands(ctx))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not self.invoke_without_command:
            ctx.fail(f"say what to do (choose from {self._choices(ctx)})")
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if not name.startswith("-") and self.get_command(ctx, name) is None:
            ctx.fail(f"invalid choice: {name!r} (choose from {self._choices(ctx)})")
        return super().resolve_command(ctx, args)


def verb(name: str, help: str) -> Callable[[Callable[..., Any]], Verb]:
    """Declare a verb; `help` is its one line in `warroom --help` and its own help's text."""
    return click.command(name, cls=Verb, help=help, short_help=help)


def option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """click.option, with the option's own name as its placeholder (`--at AT`, not `--at TEXT`)."""
    if not attrs.get("is_flag") and "metavar" not in attrs and "type" not in attrs:
        long = next(decl for decl in decls if decl.startswith("--"))
        attrs["metavar"] = long[2:].replace("-", "_").upper()
    return click.option(*decls, **attrs)


def _bundled(
    run: Callable[..., Any], bundle: type[Output], *options: Callable[[F], F]
) -> Callable[..., Any]:
    """Add `options` to the verb `run`; it receives their values as one `bundle`."""
    # The dataclass field `json` is the parameter `as_json`: `json` would hide the module.
    params = {
        field.name: "as_json" if field.name == "json" else field.name for field in fields(bundle)
    }

    @functools.wraps(run)
    def wrapper(**kwargs: Any) -> Any:
        given = bundle(**{name: kwargs.pop(param) for name, param in params.items()})
        return run(given, **kwargs)

    for add in reversed(options):
        wrapper = add(wrapper)
    return wrapper


_json = option("--json", "as_json", is_flag=True, help="print JSON instead of text")


def _trust(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        # Where the websocket client reads it (`warroom.net.remote.tls_context`).
        os.environ["WARROOM_CA"] = value


ca_option = option(
    "--ca",
    metavar="FILE",
    expose_value=False,
    callback=_trust,
    help="verify a wss:// hub against the certificates in FILE (WARROOM_CA)",
)
"""`--ca FILE`: the certificates a `wss://` hub is verified against, instead of the system's."""


def hub_options(run: Callable[..., Any]) -> Callable[..., Any]:
    """`--url` (or `--hub`), `--token`, `--json`, given to the verb as its first argument, a
    `HubArgs`."""
    return _bundled(
        run,
        HubArgs,
        option(
            "--url",
            "--hub",
            multiple=True,
            help="the hub's websocket URL; repeated (or comma-separated) for several hubs of one "
            "war room, tried in turn (WARROOM_URL; default from login; --hub is the same)",
        ),
        option("--token", help="your token (WARROOM_TOKEN; default from login)"),
        ca_option,
        _json,
    )


def database_options(run: Callable[..., Any]) -> Callable[..., Any]:
    """`--db`, `--json`, given to the verb as its first argument, a `DatabaseArgs`."""
    return _bundled(
        run, DatabaseArgs, option("--db", help="database URL or SQLite file (WARROOM_DB)"), _json
    )


def json_option(run: Callable[..., Any]) -> Callable[..., Any]:
    """`--json` alone, given to the verb as its first argument, an `Output`."""
    return _bundled(run, Output, _json)


audience_option = option(
    "--audience", default="internal", help="internal (default), all, or stakeholder groups"
)
