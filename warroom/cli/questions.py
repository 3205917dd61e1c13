"""The stakeholder question queue: ask, answer, dismiss."""

from __future__ import annotations

import click

from warroom.cli.common import HubArgs, audience_of, change, parsed, text_or_stdin
from warroom.cli.parsing import hub_options, option, verb
from warroom.core import commands as c
from warroom.core.domain import entry_number


def _question(text: str) -> int:
    return parsed(lambda t: entry_number(t, "Q"), text)


@verb("ask", "ask the incident manager a question")
@hub_options
@click.argument("incident")
@click.argument("text")
def ask(hub: HubArgs, incident: str, text: str) -> None:
    change(hub, c.AskQuestion(incident=incident.upper(), text=text_or_stdin(text)))


@verb("answer", "answer a question (to the asker, or --audience to publish)")
@hub_options
@click.argument("incident")
@click.argument("question", help="question id, e.g. Q1")
@click.argument("text")
@option("--audience", help="publish the answer to this audience")
def answer(hub: HubArgs, incident: str, question: str, text: str, audience: str | None) -> None:
    command = c.AnswerQuestion(
        incident=incident.upper(),
        question=_question(question),
        text=text_or_stdin(text),
        audience=audience_of(audience) if audience else None,
    )
    change(hub, command)


@verb("dismiss", "dismiss a question")
@hub_options
@click.argument("incident")
@click.argument("question", help="question id, e.g. Q1")
@option("--reason", default="")
def dismiss(hub: HubArgs, incident: str, question: str, reason: str) -> None:
    command = c.DismissQuestion(
        incident=incident.upper(), question=_question(question), reason=reason
    )
    change(hub, command)
