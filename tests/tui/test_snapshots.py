"""What a person sees: SVG snapshots of the lobby, the war room, every modal, observer mode, the
link down and a conflict. The clock, the time zone and the text cursors are fixed (see
conftest.py), so the pictures are stable.

Regenerate with `pytest tests/tui --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.kit.tui import (
    BOB,
    CAROL,
    MORGAN,
    NOW,
    ROOM,
    FakeConnection,
    Step,
    connect,
    later,
    make_app,
    paste,
    replay,
    running,
    seed_events,
    stakeholder_replay,
    steady,
    submitted,
    type_text,
    until,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import Role, UpdateKind
from warroom.core.rejections import ImpactConflict

WIDE = (120, 36)

ServerFrame = protocol.ServerFrameType


def _run(
    fake: FakeConnection,
    then: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    frames: Sequence[protocol.ServerFrameType] | None = None,
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """A `run_before` that connects the app, then does `then`."""

    async def run_before(pilot: Pilot[None]) -> None:
        await connect(pilot, fake, frames)
        if then is not None:
            await then(pilot)
        await steady(pilot)

    return run_before


def _keys(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def press(pilot: Pilot[None]) -> None:
        await pilot.press(*keys)

    return press


def _shot(
    snap_compare: Callable[..., bool],
    incident: str | None = ROOM,
    then: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    frames: Sequence[protocol.ServerFrameType] | None = None,
    size: tuple[int, int] = WIDE,
) -> bool:
    fake = FakeConnection()
    app = make_app(fake, incident)
    return snap_compare(app, terminal_size=size, run_before=_run(fake, then, frames))


# Screens ---------------------------------------------------------------------------------------


def test_lobby(snap_compare):
    assert _shot(snap_compare, incident=None)


def test_war_room(snap_compare):
    fake = FakeConnection()
    app = make_app(fake, ROOM)

    async def present(pilot: Pilot[None]) -> None:
        fake.push(protocol.Presence(incident=ROOM, users=("ana", "bob", "morgan")))

    assert snap_compare(app, terminal_size=WIDE, run_before=_run(fake, present))


def test_war_room_at_80x24(snap_compare):
    assert _shot(snap_compare, size=(80, 24))


def test_stakeholder_view(snap_compare):
    # carol (exec) gets what is addressed to all or exec, her own questions and their answers,
    # and a key to ask; numbers disguised and positions opaque, as the hub sends them.
    assert _shot(snap_compare, frames=stakeholder_replay(CAROL))


def test_stakeholder_lobby(snap_compare):
    assert _shot(snap_compare, incident=None, frames=stakeholder_replay(CAROL))


def test_observer(snap_compare):
    assert _shot(snap_compare, frames=replay(user="olga", role=Role.OBSERVER))


def test_disconnected_with_a_command_held(snap_compare):
    fake = FakeConnection()
    app = make_app(fake, ROOM)

    async def drop(pilot: Pilot[None]) -> None:
        fake.drop("connection lost; retrying in 2s (attempt 2)")
        await steady(pilot)
        await pilot.press("n")
        await paste(pilot, "Written while offline")
        await pilot.press("ctrl+s")
        await steady(pilot)

    assert snap_compare(app, terminal_size=WIDE, run_before=_run(fake, drop))


SIZES = [WIDE, (80, 24)]
"""The sizes new and changed dialogs are pictured at."""


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_conflict(snap_compare, size):
    fake = FakeConnection()
    app = make_app(fake, ROOM)

    async def conflict(pilot: Pilot[None]) -> None:
        # Bob's edit lands first and the timeline follows it before the form opens, so the
        # picture behind the modals does not depend on timing; the hub's refusal is played.
        fake.push(
            *later(Step(BOB, 29, c.SetImpact(incident=ROOM, statement="theirs", base_version=1)))
        )
        await steady(pilot)
        await pilot.press("i", "f7")
        await paste(pilot, "EU card payments fail at checkout; PayPal works.")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        current = ImpactConflict(
            version=2, statement="theirs", customer_facing=False, updated_by="bob"
        )
        fake.push(
            protocol.RejectedFrame(
                id=submit.id,
                code="conflict",
                message="the impact statement of INC-2 changed since version 1: "
                "version 2 by bob is current",
                current=current,
            )
        )

    assert snap_compare(app, terminal_size=size, run_before=_run(fake, conflict))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_discard_what_you_typed(snap_compare, size):
    async def typed_then_esc(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await paste(pilot, "Half a thought about the gateway")
        await pilot.press("escape")

    assert _shot(snap_compare, then=typed_then_esc, size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_a_refused_note_open_again(snap_compare, size):
    fake = FakeConnection()
    app = make_app(fake, ROOM)

    async def refused(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await paste(pilot, "Gateway pods restarted in eu-west-1")
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
        reason = "no stakeholder is in group finance; known groups: exec, support"
        fake.push(protocol.RejectedFrame(id=submit.id, code="unknown-group", message=reason))
        await steady(pilot)
        app.clear_notifications()  # the form is the picture; the toast fades on its own

    assert snap_compare(app, terminal_size=size, run_before=_run(fake, refused))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_several_groups(snap_compare, size):
    assert _shot(
        snap_compare, then=_keys("3", "u", "end", "enter", "down", "down", "space"), size=size
    )


# Modals ----------------------------------------------------------------------------------------


def test_declare_form(snap_compare):
    async def fill(pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await paste(pilot, "Search returns nothing")
        await pilot.press("tab", "tab")
        await type_text(pilot, "search")

    assert _shot(snap_compare, incident=None, then=fill)


def test_note_form(snap_compare):
    async def fill(pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await paste(pilot, "Gateway pods restarted in eu-west-1")
        await pilot.press("tab")
        await type_text(pilot, "-15m")
        await pilot.press("tab", "space")

    assert _shot(snap_compare, then=fill)


def test_impact_form(snap_compare):
    assert _shot(snap_compare, then=_keys("i"))


def test_eta_form(snap_compare):
    assert _shot(snap_compare, then=_keys("e"))


def test_action_form(snap_compare):
    async def fill(pilot: Pilot[None]) -> None:
        await pilot.press("a")
        await paste(pilot, "Raise the acquirer's rate limits")
        await pilot.press("tab")
        await type_text(pilot, "ana")

    assert _shot(snap_compare, then=fill)


def test_workaround_form(snap_compare):
    assert _shot(snap_compare, then=_keys("w"))


def test_answer_form(snap_compare):
    assert _shot(snap_compare, then=_keys("5", "enter"))


def test_status_choice(snap_compare):
    assert _shot(snap_compare, then=_keys("s"))


def test_severity_choice(snap_compare):
    assert _shot(snap_compare, then=_keys("v", "down"))


def test_apps_menu(snap_compare):
    assert _shot(snap_compare, then=_keys("p"))


def test_owner_prompt(snap_compare):
    assert _shot(snap_compare, then=_keys("3", "down", "o"))


def test_dismiss_prompt(snap_compare):
    assert _shot(snap_compare, then=_keys("5", "x"))


def test_preview_as_all_stakeholders(snap_compare):
    assert _shot(snap_compare, then=_keys("P", "enter"))


def test_audience_picker(snap_compare):
    assert _shot(snap_compare, then=_keys("home", "u"))


# What keeps the pictures stable ----------------------------------------------------------------


async def test_a_focused_field_looks_the_same_a_blink_later(fake: FakeConnection) -> None:
    """The owner prompt's field has focus; a picture taken after one blink period (0.5 s) is the
    same as one taken before it (see `still_cursors` in conftest.py)."""
    async with running(fake) as pilot:
        await pilot.press("3", "down", "o")
        await until(pilot, lambda: isinstance(pilot.app.focused, Input), "the owner prompt")
        before = pilot.app.export_screenshot()
        await pilot.pause(0.6)
        assert pilot.app.export_screenshot() == before


# Reading, searching, confirming ------------------------------------------------------------------


def _long_note() -> Sequence[protocol.EventFrame]:
    text = "\n".join(
        [
            "kubectl logs payments-gateway-7f9c --since=10m",
            *(
                f"2026-11-27T14:{n:02}:07Z ERROR acquirer timeout after 30000ms region=eu-west-1"
                for n in range(20)
            ),
        ]
    )
    return later(Step(BOB, 29, c.AddNote(incident=ROOM, text=text)))


def _reading(fake: FakeConnection) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def read(pilot: Pilot[None]) -> None:
        fake.push(*_long_note())
        await steady(pilot)
        await pilot.press("2", "end", "enter")

    return read


def test_entry_view(snap_compare):
    fake = FakeConnection()
    app = make_app(fake, ROOM)
    assert snap_compare(app, terminal_size=WIDE, run_before=_run(fake, _reading(fake)))


def test_confirm_resolve(snap_compare):
    assert _shot(snap_compare, then=_keys("s", "down", "enter"))


def test_timeline_search(snap_compare):
    async def search(pilot: Pilot[None]) -> None:
        await pilot.press("2", "slash")
        await type_text(pilot, "rollb")

    assert _shot(snap_compare, then=search)


# At 80x24: every screen keeps its buttons and the keys that matter in sight ---------------------

SMALL = (80, 24)


def test_lobby_at_80x24(snap_compare):
    assert _shot(snap_compare, incident=None, size=SMALL)


def test_stakeholder_view_at_80x24(snap_compare):
    assert _shot(snap_compare, frames=stakeholder_replay(CAROL), size=SMALL)


def test_observer_at_80x24(snap_compare):
    assert _shot(snap_compare, frames=replay(user="olga", role=Role.OBSERVER), size=SMALL)


def test_entry_view_at_80x24(snap_compare):
    fake = FakeConnection()
    app = make_app(fake, ROOM)
    assert snap_compare(app, terminal_size=SMALL, run_before=_run(fake, _reading(fake)))


def test_declare_form_at_80x24(snap_compare):
    assert _shot(snap_compare, incident=None, then=_keys("d"), size=SMALL)


def test_note_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("n"), size=SMALL)


def test_impact_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("i"), size=SMALL)


def test_eta_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("e"), size=SMALL)


def test_action_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("a"), size=SMALL)


def test_workaround_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("w"), size=SMALL)


def test_answer_form_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("5", "enter"), size=SMALL)


def test_status_choice_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("s"), size=SMALL)


def test_confirm_resolve_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("s", "down", "enter"), size=SMALL)


def test_timeline_search_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("2", "slash", "r", "o", "l", "l", "b"), size=SMALL)


def test_keys_panel_at_80x24(snap_compare):
    assert _shot(snap_compare, then=_keys("question_mark"), size=SMALL)


# Stakeholder communication ----------------------------------------------------------------------


def _with(*steps: Step, cadence: dict[str, int | None] | None = None) -> list[ServerFrame]:
    """The seed and `steps` after it, replayed to the incident manager."""
    return replay(events=[*seed_events(), *later(*steps)], cadence=cadence)


def _published(minutes: float, audience: str, summary: str) -> Step:
    return Step(MORGAN, minutes, c.PublishUpdate(incident=ROOM, audience=audience, summary=summary))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_composer(snap_compare, size):
    assert _shot(snap_compare, then=_keys("U"), size=size)


def test_composer_preview(snap_compare):
    assert _shot(snap_compare, then=_keys("U", "f2"))


def test_header_next_update_due(snap_compare):
    # SEV1 owes an update every 15 minutes: after one at 14:25, the next is due at 14:40.
    frames = _with(_published(25, "all", "Rollback under way."))
    assert _shot(snap_compare, frames=frames, size=SMALL)


def test_header_update_overdue(snap_compare):
    # The only update went to exec at 14:05: exec was owed the next at 14:20.
    frames = _with(_published(5, "exec", "We are on it."))
    assert _shot(snap_compare, frames=frames, size=SMALL)


def test_questions_triage(snap_compare):
    # A ten-minute response target: Q2 has waited 12 minutes (OVERDUE), Q4 merged into Q2.
    frames = _with(
        Step(CAROL, 22, c.AskQuestion(incident=ROOM, text="Is the regulator told?")),
        Step(MORGAN, 23, c.MergeQuestion(incident=ROOM, question=4, into=2)),
        cadence={"response": 600},
    )
    assert _shot(snap_compare, frames=frames, then=_keys("5"))


def _deliveries() -> list[protocol.DeliveryFrame]:
    at = NOW + timedelta(minutes=26)
    return [
        protocol.DeliveryFrame(
            incident=ROOM,
            update=2,
            channel="email",
            recipient=recipient,
            state="sent",
            attempts=1,
            at=at,
        )
        for recipient in ("cto@example.com", "support-leads@example.com")
    ] + [
        protocol.DeliveryFrame(
            incident=ROOM,
            update=2,
            channel="webhook",
            recipient="https://hooks.example.com/eu",
            state="retrying",
            attempts=2,
            error="HTTP 503 Service Unavailable",
            at=at,
        )
    ]


def _updates_sent() -> list[ServerFrame]:
    return [
        *_with(
            Step(
                MORGAN,
                3,
                c.PublishUpdate(
                    incident=ROOM,
                    audience="all",
                    kind=UpdateKind.ALERT,
                    summary="We are responding to a SEV1 incident: EU card payments fail.",
                ),
            ),
            _published(25, "exec", "Rollback at 60%; the US acquirer takes EU card payments."),
        ),
        *_deliveries(),
    ]


def test_updates_sent_with_their_delivery(snap_compare):
    assert _shot(snap_compare, frames=_updates_sent(), then=_keys("D"))


def test_deliveries_of_one_update(snap_compare):
    assert _shot(snap_compare, frames=_updates_sent(), then=_keys("D", "enter"))


def test_stakeholder_next_update_expected(snap_compare):
    steps = [_published(25, "all", "Rollback at 60%: EU card payments recovering.")]
    assert _shot(snap_compare, frames=stakeholder_replay(CAROL, steps))
