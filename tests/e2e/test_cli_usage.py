"""The command line itself: help, bad usage, words that look like options, a closed pipe."""

from __future__ import annotations

import json
import os
import subprocess

from tests.kit.harness import COMMAND_TIMEOUT, WARROOM, Hub, concurrently, warroom

INC = "INC-1"

VERBS = [
    "serve",
    "demo",
    "join",
    "user",
    "invite-link",
    "verify",
    "backup",
    "login",
    "declare",
    "invite",
    "privacy",
    "status",
    "severity",
    "impact",
    "eta",
    "app",
    "note",
    "pin",
    "action",
    "action-state",
    "action-owner",
    "mitigate",
    "mitigation-state",
    "ask",
    "answer",
    "dismiss",
    "merge",
    "questions",
    "publish",
    "list",
    "show",
    "audience",
    "tail",
    "export",
    "subscribe",
    "subscriptions",
    "deliveries",
    "report",
    "stats",
]


def test_help_is_on_stdout_and_names_every_verb_and_option(env: dict[str, str]) -> None:
    top, short, note, key_add = concurrently(
        lambda: warroom("--help", env=env),
        lambda: warroom("-h", env=env),
        lambda: warroom("note", "-h", env=env),
        lambda: warroom("user", "key", "add", "--help", env=env),
    )
    for result in (top, short, note, key_add):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout.startswith("usage: warroom"), result.stdout
    assert top.stdout == short.stdout
    commands = top.stdout.split("\ncommands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in commands if line[2:3] != " "] == VERBS
    assert "--at AT" in note.stdout and "when it happened (ISO 8601, HH:MM, -15m)" in note.stdout
    assert "--audience AUDIENCE" in note.stdout and "--url, --hub URL" in note.stdout
    assert "the public key file (.pub), or - for standard input" in key_add.stdout


def test_bad_usage_is_the_usage_and_one_reason_with_exit_code_2(env: dict[str, str]) -> None:
    cases = [
        (("list", "--bogus"), "warroom: no such option '--bogus'"),
        (("note", INC), "warroom: missing argument 'TEXT'"),
        (("list", "extra"), "warroom: got unexpected extra argument (extra)"),
        (("serve", "--port", "x"), "warroom: invalid value for '--port'"),
        (("privacy", INC, "secret"), "'secret' is not one of 'private', 'public'"),
        (("user",), "choose from 'add', 'list', 'change', 'revoke', 'key'"),
        (("user", "key", "frob"), "warroom: invalid choice: 'frob'"),
        # A word that starts with '-' and has no space is an option, known or not.
        (("note", INC, "-x"), "warroom: no such option '-x'"),
    ]
    results = concurrently(*(lambda args=args: warroom(*args, env=env) for args, _ in cases))
    for (args, reason), result in zip(cases, results, strict=True):
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[0].startswith(f"usage: warroom {args[0]}"), (args, lines)
        assert [line for line in lines if line.startswith("warroom: ")] == [lines[-1]], lines
        assert reason in lines[-1], (args, lines)


def test_text_that_starts_with_a_dash_is_text(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "2")
    hub.ok("impact", INC, "-30% card payments in the EU", "--audience", "all")
    hub.ok("note", INC, "-> paged the DBA", "--at", "-5m")
    hub.ok("action", INC, "--force push reverted", "--owner", "bob")
    # An option with its value attached stays an option, space or not.
    hub.ok("action", INC, "Call the bank", "--owner=bob jones")
    incident = json.loads(hub.ok("export", INC))["incident"]
    assert incident["impact"]["statement"] == "-30% card payments in the EU"
    assert [note["text"] for note in incident["notes"]] == ["-> paged the DBA"]
    assert [(action["text"], action["owner"]) for action in incident["actions"]] == [
        ("--force push reverted", "bob"),
        ("Call the bank", "bob jones"),
    ]
    refused = hub.run("declare", "Nope", "-s9 now")
    assert refused.returncode == 2 and "unknown severity '9 now'" in refused.stderr


def test_a_reader_that_stops_early_gets_no_traceback(hub: Hub) -> None:
    hub.ok("declare", "Checkout failing", "-s", "2")
    read, write = os.pipe()
    os.close(read)  # `warroom show INC-1 | head -0`: nobody reads any of it
    try:
        result = subprocess.run(
            [WARROOM, "show", INC],
            env=hub.client_env(),
            stdin=subprocess.DEVNULL,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    finally:
        os.close(write)
    assert result.stderr == ""
    assert result.returncode == 141
