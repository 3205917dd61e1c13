"""The `warroom` command: serve the hub, manage users, and drive incidents from a shell or script.

Client verbs talk to a running hub (`--url` / `WARROOM_URL`, `--token` / `WARROOM_TOKEN`, or what
`warroom login` stored). Output is plain text for people and JSON with `--json`. Exit codes: 0 done,
1 refused, 2 bad usage, 3 conflict (a stale edit), 4 cannot reach or log in to the hub.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from warroom.cli import (
    entries,
    hub,
    incidents,
    integrity,
    notify,
    postmortem,
    questions,
    reads,
    updates,
    users,
)
from warroom.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_READER_GONE,
    EXIT_USAGE,
    Failure,
    report,
)
from warroom.cli.parsing import VerbGroup
from warroom.core.text import visible


@click.group(
    "warroom",
    cls=VerbGroup,
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


for _verb in (
    hub.serve,
    hub.demo,
    hub.join,
    users.user,
    users.invite_link,
    integrity.verify,
    integrity.backup,
    hub.login,
    incidents.declare,
    incidents.invite,
    incidents.privacy,
    incidents.status,
    incidents.severity,
    entries.impact,
    entries.eta,
    entries.app,
    entries.note,
    entries.pin,
    entries.action,
    entries.action_state,
    entries.action_owner,
    entries.mitigate,
    entries.mitigation_state,
    questions.ask,
    questions.answer,
    questions.dismiss,
    updates.merge,
    updates.questions,
    updates.publish,
    reads.list_,
    reads.show,
    entries.change_audience,
    reads.tail,
    reads.export,
    notify.subscribe,
    notify.subscriptions,
    notify.deliveries,
    postmortem.report_,
    postmortem.stats_,
):
    warroom.add_command(_verb)


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
