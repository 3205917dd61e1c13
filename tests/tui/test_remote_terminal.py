"""The app an SSH session runs writes none of the server's files: its palette offers no
screenshot, and a screenshot, a file delivery or a link asked for any way (a key, an action
named in text, a call) is refused with a notice; the local app keeps them."""

from __future__ import annotations

from pathlib import Path

from client.app import WarRoomApp
from client.remote import RemoteWarRoomApp
from tests.kit.tui import CLOCK, FakeConnection, connect, messages, settled


def _files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


async def test_an_ssh_session_offers_and_runs_no_command_that_writes_files(
    fake: FakeConnection, tmp_path: Path
) -> None:
    app = RemoteWarRoomApp(connection=fake, clock=lambda: CLOCK)
    async with app.run_test() as pilot:
        await connect(pilot, fake)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Screenshot" not in titles and "Quit" in titles
        await app.run_action(f"app.screenshot('shot.svg', '{tmp_path}')")
        assert app.deliver_screenshot(path=str(tmp_path)) is None
        assert app.deliver_text(tmp_path / "x.txt", save_directory=tmp_path) is None
        app.open_url("https://example.com/")
        await settled(pilot)
        refusals = [m for severity, _, m in messages(app) if severity == "warning"]
        assert len(refusals) == 4 and all("Not over SSH" in m for m in refusals)
    assert _files(tmp_path) == []


async def test_the_local_app_keeps_its_screenshot(fake: FakeConnection, tmp_path: Path) -> None:
    app = WarRoomApp(connection=fake, clock=lambda: CLOCK)
    async with app.run_test() as pilot:
        await connect(pilot, fake)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Screenshot" in titles
        await app.run_action(f"app.screenshot('shot.svg', '{tmp_path}')")
        await settled(pilot)
    assert _files(tmp_path) == [tmp_path / "shot.svg"]
