"""The `warroom` command: serve the hub, manage users, and drive incidents from a shell or script.

Client verbs talk to a running hub (`--url` / `WARROOM_URL`, `--token` / `WARROOM_TOKEN`, or what
`warroom login` stored). Output is plain text for people and JSON with `--json`. Exit codes: 0 done,
1 refused, 2 bad usage, 3 conflict (a stale edit), 4 cannot reach or log in to the hub.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from warroom.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_READER_GONE,
    EXIT_USAGE,
    Failure,
    report,
)
from warroom.cli.parsing import VerbGroup
from warroom.core.text import visible

VERBS = {
    "serve": "hub:serve",
    "demo": "hub:demo",
    "join": "hub:join",
    "user": "users:user",
    "invite-link": "users:invite_link",
    "verify": "integrity:verify",
    "backup": "integrity:backup",
    "login": "hub:login",
    "declare": "incidents:declare",
    "invite": "incidents:invite",
    "privacy": "incidents:privacy",
    "status": "incidents:status",
    "severity": "incidents:severity",
    "impact": "entries:impact",
    "eta": "entries:eta",
    "app": "entries:app",
    "note": "entries:note",
    "pin": "entries:pin",
    "action": "entries:action",
    "action-state": "entries:action_state",
    "action-owner": "entries:action_owner",
    "mitigate": "entries:mitigate",
    "mitigation-state": "entries:mitigation_state",
    "ask": "questions:ask",
    "answer": "questions:answer",
    "dismiss": "questions:dismiss",
    "merge": "updates:merge",
    "questions": "updates:questions",
    "publish": "updates:publish",
    "list": "reads:list_",
    "show": "reads:show",
    "audience": "entries:change_audience",
    "tail": "reads:tail",
    "export": "reads:export",
    "subscribe": "notify:subscribe",
    "subscriptions": "notify:subscriptions",
    "deliveries": "notify:deliveries",
    "report": "postmortem:report_",
    "stats": "postmortem:stats_",
}
"""Each verb, in the order `warroom --help` lists them, and where it lives (`module:name` in
this package). A verb's module is imported only when that verb runs (or help lists them all):
`warroom note` never loads what `warroom serve` or `warroom join` need."""


class _Verbs(VerbGroup):
    """The `warroom` command: its verbs found in `VERBS`, each imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = VERBS.get(cmd_name)
        if where is None:
            return None
        if cmd_name not in self.commands:
            module, name = where.split(":")
            found = getattr(importlib.import_module(f"warroom.cli.{module}"), name)
            assert isinstance(found, click.Command) and found.name == cmd_name, where
            self.add_command(found)
        return self.commands[cmd_name]


@click.group(
    "warroom",
    cls=_Verbs,
    help="A terminal-native war room for live incidents.",
    invoke_without_command=True,
    subcommand_metavar="VERB ...",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.pass_context
def warroom(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_USAGE)


def _usage_error(error: click.UsageError) -> int:
    """Bad usage, as the verbs' own: the usage line, then one `warroom: ...` line."""
    if error.ctx is not None:
        print(error.ctx.get_usage(), file=sys.stderr)
    message = visible(error.format_message())
    print(f"warroom: {message[:1].lower()}{message[1:].removesuffix('.')}", file=sys.stderr)
    return error.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `warroom` command; return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with warroom.make_context("warroom", args) as ctx:
            warroom.invoke(ctx)
        sys.stdout.flush()
    except BrokenPipeError:
        # Whoever read the output stopped (`warroom tail | head -3`): end quietly, as `head` meant,
        # and let nothing else try to write to the closed pipe on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_READER_GONE
    except Failure as failure:
        report(failure)
        return failure.code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        return _usage_error(error)
    except click.ClickException as error:
        print(f"warroom: {visible(error.format_message())}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0
