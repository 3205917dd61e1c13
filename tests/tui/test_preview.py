"""Preview as an audience: the incident manager sees the room exactly as stakeholders do."""

from __future__ import annotations

from client.screens.audience import AudienceScreen
from client.screens.choice import ChoiceScreen
from client.screens.preview import PreviewScreen
from client.screens.war_room import WarRoomScreen
from client.widgets.impact_panel import ImpactPanel
from client.widgets.mitigation_panel import MitigationPanel
from client.widgets.progress_panel import ProgressPanel
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import MORGAN, ROOM, Step, later, replay, running, seed_events, settled
from warroom.core import commands as c
from warroom.core.domain import Role


def _timeline_text(screen: PreviewScreen) -> str:
    timeline = screen.query_one(TimelinePanel)
    return "\n".join(str(timeline.get_row_at(i)[2]) for i in range(timeline.row_count))


async def test_p_previews_the_room_as_an_audience_and_esc_goes_back(fake):
    exec_note = later(Step(MORGAN, 29, c.AddNote(incident=ROOM, text="for execs", audience="exec")))
    async with running(fake, frames=replay(events=[*seed_events(), *exec_note])) as pilot:
        await pilot.press("P")
        await settled(pilot)
        chooser = pilot.app.screen
        assert isinstance(chooser, ChoiceScreen)
        # The groups there are (some stakeholder holds each), as every picker offers them.
        assert [label for label, _ in chooser.choices] == [
            "all stakeholders", "group exec", "group support",
        ]  # fmt: skip
        await pilot.press("enter")  # all stakeholders
        await settled(pilot)
        preview = pilot.app.screen
        assert isinstance(preview, PreviewScreen)
        everyone = _timeline_text(preview)
        assert "Status page updated" in everyone  # a note to all
        assert "Rollback at 60%" not in everyone  # an internal note
        assert "for execs" not in everyone
        actions = preview.query_one(ProgressPanel)
        # One action, keyed A4 but shown without its number, as the audience sees it.
        assert actions.ordered_keys == ["A4"]
        assert "A4" not in str(actions.get_row_at(0))
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("P", "down", "enter")  # group exec
        await settled(pilot)
        preview = pilot.app.screen
        assert isinstance(preview, PreviewScreen)
        assert "for execs" in _timeline_text(preview)
        await pilot.press("q")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)
    assert fake.submits == []


async def test_only_the_incident_manager_may_preview(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        assert pilot.app.screen.check_action("preview", ()) is None
        await pilot.press("P")
        await settled(pilot)
        assert isinstance(pilot.app.screen, WarRoomScreen)


async def test_u_shows_the_entry_under_the_cursor_to_another_audience(fake):
    async with running(fake) as pilot:
        await pilot.press("home", "u")  # the earliest timeline entry is note N2
        await settled(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, ChoiceScreen)
        assert picker.current == "internal"
        # internal is current, so disabled: the first choice offered is all stakeholders
        await pilot.press("enter")
        await settled(pilot)
        await pilot.press("3", "u")  # action A1 to several groups at once
        await settled(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, ChoiceScreen)
        assert [value for _, value in picker.choices] == [
            "internal", "all", "exec", "support", "several groups…",
        ]  # fmt: skip
        await pilot.press("end", "enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, AudienceScreen)
        await pilot.press("down", "down", "space", "down", "space", "ctrl+s")
        await settled(pilot)
        await pilot.press("1", "u", "enter")  # the impact statement (shown to all) back inside
        await settled(pilot)
    sent = [submit.command for submit in fake.submits]
    assert sent == [
        c.ChangeAudience(incident=ROOM, entry="N2", audience="all"),
        c.ChangeAudience(incident=ROOM, entry="A1", audience="exec,support"),
        c.ChangeAudience(incident=ROOM, entry="impact", audience="internal"),
    ]


async def test_only_the_incident_manager_moves_entries(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, WarRoomScreen)
        for panel in (ImpactPanel, TimelinePanel, ProgressPanel, MitigationPanel):
            assert screen.offers(panel.AudienceRequested) is None, panel


async def test_the_preview_offers_no_key_that_would_act_on_the_war_room(fake):
    async with running(fake) as pilot:
        await pilot.press("P", "enter")
        await settled(pilot)
        preview = pilot.app.screen
        assert isinstance(preview, PreviewScreen)
        preview.query_one(TimelinePanel).focus()
        await settled(pilot)
        active = preview.active_bindings
        assert not {"space", "f", "u"} & set(active)
        assert "escape" in active
        await pilot.press("space", "u", "f")
        await settled(pilot)
        assert pilot.app.screen is preview
    assert fake.submits == []
