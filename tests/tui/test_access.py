"""Private incidents in the terminal: declaring one, the incident manager's access key, and the
client starting over when the hub says what the user may see has changed."""

from __future__ import annotations

from textual.widgets import Checkbox

from client.screens.choice import ChoiceScreen
from client.screens.declare import DeclareScreen
from client.screens.prompt import PromptScreen
from client.widgets.timeline_panel import TimelinePanel
from tests.kit.tui import (
    ANA,
    ROOM,
    Step,
    app_of,
    paste,
    play,
    rendered,
    replay,
    running,
    seed_steps,
    settled,
    shown,
    submitted,
)
from warroom.core import commands as c
from warroom.core import protocol
from warroom.core.domain import Role, Severity


async def test_d_declares_a_private_incident(fake):
    async with running(fake, incident=None) as pilot:
        await pilot.press("d")
        assert isinstance(pilot.app.screen, DeclareScreen)
        await paste(pilot, "Card data exposed")
        pilot.app.screen.query_one("#private", Checkbox).value = True
        await pilot.press("ctrl+s")
        submit = await submitted(pilot, fake)
    assert submit.command == c.DeclareIncident(
        title="Card data exposed", severity=Severity.SEV2, private=True
    )


async def test_capital_i_makes_the_incident_private_and_invites_people(fake):
    async with running(fake) as pilot:
        await pilot.press("I")
        await settled(pilot)
        chooser = pilot.app.screen
        assert isinstance(chooser, ChoiceScreen)
        assert [label for label, _ in chooser.choices] == ["make it private", "invite someone"]
        await pilot.press("enter")
        await settled(pilot)
        assert fake.submits == [], "privacy changes only once confirmed"
        await pilot.press("y")
        first = await submitted(pilot, fake)
        await pilot.press("I", "down", "enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, PromptScreen)
        await paste(pilot, "carol")
        await pilot.press("enter")
        second = await submitted(pilot, fake, 2)
    assert first.command == c.ChangePrivacy(incident=ROOM, private=True)
    assert second.command == c.ChangeAccess(incident=ROOM, user="carol")


async def test_the_access_key_offers_to_take_invitations_back(fake):
    steps = [
        *seed_steps(),
        Step(
            ANA,
            40,
            c.DeclareIncident(title="Vault", severity=Severity.SEV1, private=True, suffix="1"),
        ),
    ]
    _, frames = play(steps)
    async with running(fake, incident="INC-P1", frames=replay(events=frames)) as pilot:
        assert "PRIVATE" in shown(pilot.app.screen.query_one("#header"))
        await pilot.press("I")
        await settled(pilot)
        chooser = pilot.app.screen
        assert isinstance(chooser, ChoiceScreen)
        labels = [label for label, _ in chooser.choices]
        assert labels == ["make it public", "invite someone", "take back ana's invitation"]
        await pilot.press("down", "down", "enter")
        submit = await submitted(pilot, fake)
    assert submit.command == c.ChangeAccess(incident="INC-P1", user="ana", invited=False)


async def test_only_the_incident_manager_has_the_access_key(fake):
    async with running(fake, frames=replay(user="ana", role=Role.RESPONDER)) as pilot:
        assert pilot.app.screen.check_action("access", ()) is None
        await pilot.press("I")
        await settled(pilot)
        assert not isinstance(pilot.app.screen, ChoiceScreen)
    assert fake.submits == []


async def test_a_resync_drops_what_was_known_before_the_new_summaries(fake):
    # ana was shown INC-2, then her role changed so that it is no longer hers to see: the hub
    # closes with 4409, the client forgets, and the summaries it gets next no longer hold it.
    async with running(
        fake, incident=None, frames=replay(user="ana", role=Role.RESPONDER)
    ) as pilot:
        app = app_of(pilot)
        assert set(app.state.summaries) == {"INC-1", ROOM}
        app.forget()
        await settled(pilot)
        assert app.state.summaries == {}
        without = [f for f in replay(user="ana", role=Role.RESPONDER) if _not_in_room(f)]
        fake.push(*without)
        await settled(pilot)
        assert set(app.state.summaries) == {"INC-1"}
        assert app.state.world.incidents == {} and tuple(app.state.log) == ()  # no room is open


def _not_in_room(frame: protocol.ServerFrameType) -> bool:
    return not (isinstance(frame, protocol.EventFrame) and frame.event.incident == ROOM)


async def test_an_incident_that_vanishes_and_comes_back_is_laid_out_again(fake):
    frames = replay(user="ana", role=Role.RESPONDER)
    async with running(fake, frames=frames) as pilot:
        screen = pilot.app.screen
        timeline = screen.query_one("#timeline", TimelinePanel)
        width = timeline.widths()[2]
        app_of(pilot).forget()
        fake.push(*[f for f in frames if _not_in_room(f)])
        await settled(pilot)
        assert not screen.query_one("#panels").display
        assert "not (or no longer) visible to you" in shown(screen.query_one("#gone"))
        app_of(pilot).forget()
        fake.push(*frames)  # invited again
        await settled(pilot)
        assert screen.query_one("#panels").display
        assert not screen.query_one("#gone").display
        assert timeline.widths()[2] == width > 20
        assert "Status page updated" in rendered(timeline)
