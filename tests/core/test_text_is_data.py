"""Text is data: what a terminal or a markup parser would obey never enters the log, and whatever
an old log holds is shown as text by the CLI's views, in any time zone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.kit.hostile import (
    CONTROL,
    HOSTILE,
    MARKUP,
    TOO_EARLY,
    TOO_LATE,
    hostile_incident,
    wrapped,
)
from warroom.core import commands as c
from warroom.core import events as e
from warroom.core.decide import decide
from warroom.core.domain import Actor, IncidentState, Role, Severity, World
from warroom.core.events import Envelope
from warroom.core.reducer import apply, replay
from warroom.core.rejections import Rejected
from warroom.core.summary import IncidentSummary, summarize
from warroom.core.text import first_hidden, is_hidden, strip_colours, visible
from warroom.core.timeparse import local, parse_time, relative
from warroom.core.views import describe, event_line, incident_page, incident_row

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
IM = Actor("ines", Role.INCIDENT_MANAGER)
INC = "INC-1"

COMMANDS: dict[str, Callable[[str], c.Command]] = {
    "title": lambda t: c.DeclareIncident(title=t, severity=Severity.SEV2),
    "app (declared)": lambda t: c.DeclareIncident(title="x", severity=Severity.SEV2, apps=(t,)),
    "app": lambda t: c.AddApp(incident=INC, app=t),
    "note": lambda t: c.AddNote(incident=INC, text=t),
    "impact": lambda t: c.SetImpact(incident=INC, statement=t, base_version=0),
    "action": lambda t: c.AddAction(incident=INC, text=t),
    "owner": lambda t: c.AddAction(incident=INC, text="x", owner=t),
    "owner (assigned)": lambda t: c.AssignAction(incident=INC, action=1, owner=t),
    "workaround": lambda t: c.AddMitigation(incident=INC, text=t),
    "app (workaround)": lambda t: c.AddMitigation(incident=INC, text="x", apps=(t,)),
    "question": lambda t: c.AskQuestion(incident=INC, text=t),
    "answer": lambda t: c.AnswerQuestion(incident=INC, question=1, text=t),
    "dismiss reason": lambda t: c.DismissQuestion(incident=INC, question=1, reason=t),
    "invited user": lambda t: c.ChangeAccess(incident=INC, user=t),
}
"""Every text a command carries, by field."""


def _world() -> World:
    world = World()
    for command in (
        c.DeclareIncident(title="Checkout down", severity=Severity.SEV1),
        c.AddAction(incident=INC, text="roll back"),
        c.AskQuestion(incident=INC, text="when?"),
    ):
        for event in decide(world, command, IM, NOW):
            world = apply(world, event)
    return world


WORLD = _world()


@pytest.mark.parametrize("name", CONTROL)
@pytest.mark.parametrize("field", COMMANDS)
def test_every_text_field_refuses_control_characters(field: str, name: str) -> None:
    with pytest.raises(Rejected) as refused:
        decide(WORLD, COMMANDS[field](wrapped(name)), IM, NOW)
    assert refused.value.code == "invalid"
    field_word = field.split(" (")[0].replace("invited ", "")
    assert field_word.split()[-1] in refused.value.message
    assert "U+" in refused.value.message and first_hidden(refused.value.message) is None


@pytest.mark.parametrize("name", MARKUP)
@pytest.mark.parametrize("field", ["title", "note", "app", "owner", "question", "answer"])
def test_markup_is_kept_as_the_text_it_is(field: str, name: str) -> None:
    events = decide(WORLD, COMMANDS[field](wrapped(name)), IM, NOW)
    assert any(wrapped(name) in str(event) for event in events)


def test_long_texts_keep_newlines_and_tabs_and_titles_fold_them() -> None:
    (note,) = decide(WORLD, c.AddNote(incident=INC, text="pods:\r\n\tweb-1\tOK\r\n"), IM, NOW)
    assert isinstance(note, e.NoteAdded) and note.text == "pods:\n\tweb-1\tOK"
    title = "a\nb\t c"
    (declared,) = decide(World(), c.DeclareIncident(title=title, severity=Severity.SEV1), IM, NOW)
    assert isinstance(declared, e.IncidentDeclared) and declared.title == "a b c"


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u2066", "\ufeff", "\n", "\t"])
def test_names_refuse_invisible_characters(char: str) -> None:
    with pytest.raises(Rejected, match="owner"):
        decide(WORLD, c.AssignAction(incident=INC, action=1, owner=f"b{char}ob"), IM, NOW)


def test_piped_colour_codes_are_stripped_and_other_escapes_kept_for_refusal() -> None:
    coloured = "\x1b[1;31mERROR\x1b[0m\x1b[K pod \x1b[32mweb\x1b[m"
    assert strip_colours(coloured) == "ERROR pod web"
    assert strip_colours("a\x1b]0;x\x07") == "a\x1b]0;x\x07"


@pytest.mark.parametrize(
    "command",
    [
        c.AddNote(incident=INC, text="x", occurred_at=TOO_EARLY),
        c.AddNote(incident=INC, text="x", occurred_at=datetime(1969, 12, 31, tzinfo=UTC)),
        c.SetEta(incident=INC, eta=TOO_LATE, base_version=0),
        c.SetEta(incident=INC, eta=datetime(9000, 1, 2, tzinfo=UTC), base_version=0),
    ],
    ids=["note-year-1", "note-1969", "eta-year-9999", "eta-year-9000"],
)
def test_note_times_and_etas_stay_within_the_calendar(command: c.Command) -> None:
    with pytest.raises(Rejected, match="between the years 1970 and 8999"):
        decide(WORLD, command, IM, NOW)


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59+14:00", "+9999999d"])
def test_typed_times_out_of_the_calendar_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_time(typed, NOW)


@pytest.fixture(params=["Pacific/Kiritimati", "Etc/GMT+12", "UTC"])
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone, for the length of a test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize(
    "moment",
    [datetime.min.replace(tzinfo=UTC), TOO_EARLY, TOO_LATE, datetime.max.replace(tzinfo=UTC)],
)
def test_showing_any_stored_time_never_fails(zone: str, moment: datetime) -> None:
    assert str(moment.year) in local(moment)
    assert relative(moment, NOW).endswith("ago") or relative(moment, NOW).startswith("in ")


def _log(name: str) -> list[Envelope]:
    return [Envelope(seq=n, event=ev) for n, ev in enumerate(hostile_incident(1, wrapped(name)), 1)]


def _summary(incident: IncidentState) -> IncidentSummary:
    summary = summarize(incident, Actor("ines", Role.INCIDENT_MANAGER))
    assert summary is not None
    return summary


@pytest.mark.parametrize("name", HOSTILE)
def test_the_cli_views_show_hostile_text_as_text(zone: str, name: str) -> None:
    log = _log(name)
    world = replay(item.event for item in log)
    incident = world.incident(INC)
    assert incident is not None
    lines = [
        *incident_page(incident, log, NOW),
        incident_row(_summary(incident), NOW),
        *(event_line(item) for item in log),
        *(describe(item.event) for item in log),
    ]
    for line in lines:
        assert first_hidden(line, "\t") is None, f"{line!r} holds a control character"
    page = "\n".join(lines)
    shown = visible(wrapped(name))
    # Every field reads in full on the page: title, impact, apps, note, action and its owner,
    # workaround, questions, answer, dismiss reason, and the author of an entry.
    assert page.count(shown) >= 11, page
    if name in CONTROL:
        assert HOSTILE[name] not in page
    assert "9999-12-31" in page and "1-01-01 00:00" in page


@pytest.mark.parametrize("name", [*CONTROL, *MARKUP])
def test_audiences_take_only_plain_group_names(name: str) -> None:
    command = c.AddNote(incident=INC, text="x", audience=f"exec,{wrapped(name)}")
    with pytest.raises(Rejected, match="bad stakeholder group") as refused:
        decide(WORLD, command, IM, NOW)
    assert first_hidden(refused.value.message) is None


def _first_hidden_by_hand(text: str, allowed: str, names: bool) -> tuple[int, str] | None:
    for index, char in enumerate(text):
        if is_hidden(char, allowed, names):
            return index, char
    return None


@given(
    text=st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from("\n\t\x1b\x9b\x85\u202e\u2066\u2028\u200b\ufeff\ue000\u00ad"),
        ),
        max_size=40,
    ),
    allowed=st.sampled_from(["", "\n\t", "\n", "\t\x1b"]),
    names=st.booleans(),
)
def test_first_hidden_finds_what_a_look_at_each_character_finds(
    text: str, allowed: str, names: bool
) -> None:
    assert first_hidden(text, allowed, names) == _first_hidden_by_hand(text, allowed, names)
