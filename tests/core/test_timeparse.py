"""parse_time and relative: the times people type and the way they read them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warroom.core.timeparse import parse_time, relative

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")  # UTC+1 in November, UTC+2 in July
NEW_YORK = ZoneInfo("America/New_York")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T14:05:00+00:00", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05Z", utc(2026, 11, 27, 14, 5)),
        ("2026-11-27T14:05:30-05:00", utc(2026, 11, 27, 19, 5, 30)),
        ("2026-11-27 14:05+01:00", utc(2026, 11, 27, 13, 5)),
    ],
)
def test_iso_with_a_zone_ignores_the_local_zone(text: str, expected: datetime) -> None:
    for zone in (PARIS, NEW_YORK, UTC):
        parsed = parse_time(text, NOW, zone)
        assert parsed == expected
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-11-27T14:05", PARIS, utc(2026, 11, 27, 13, 5)),
        ("2026-07-01T14:05", PARIS, utc(2026, 7, 1, 12, 5)),
        ("2026-11-27T14:05", NEW_YORK, utc(2026, 11, 27, 19, 5)),
        ("2026-11-27T14:05", UTC, utc(2026, 11, 27, 14, 5)),
        ("2026-11-27", PARIS, utc(2026, 11, 26, 23, 0)),
    ],
)
def test_naive_iso_is_read_in_the_local_zone(text: str, zone: ZoneInfo, expected: datetime) -> None:
    parsed = parse_time(text, NOW, zone)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("14:05", NOW, utc(2026, 11, 27, 13, 5)),
        ("9:30", NOW, utc(2026, 11, 27, 8, 30)),
        (" 00:00 ", NOW, utc(2026, 11, 26, 23, 0)),
        ("23:59", NOW, utc(2026, 11, 27, 22, 59)),
        # 23:30 UTC is already the 28th in Paris: "today" is the local day.
        ("08:00", utc(2026, 11, 27, 23, 30), utc(2026, 11, 28, 7, 0)),
        # Summer time: Paris is UTC+2.
        ("14:05", utc(2026, 7, 1, 10, 0), utc(2026, 7, 1, 12, 5)),
    ],
)
def test_clock_time_is_today_in_the_local_zone(
    text: str, now: datetime, expected: datetime
) -> None:
    parsed = parse_time(text, now, PARIS)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_clock_time_with_now_given_in_another_zone() -> None:
    now = NOW.astimezone(NEW_YORK)  # 07:00 in New York, 13:00 in Paris
    assert parse_time("14:05", now, PARIS) == utc(2026, 11, 27, 13, 5)
    assert parse_time("14:05", now, NEW_YORK) == utc(2026, 11, 27, 19, 5)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("now", timedelta(0)),
        ("NOW", timedelta(0)),
        (" now ", timedelta(0)),
        ("-15m", timedelta(minutes=-15)),
        ("+2h", timedelta(hours=2)),
        ("+1d", timedelta(days=1)),
        ("-30s", timedelta(seconds=-30)),
        ("+0m", timedelta(0)),
        ("- 5m", timedelta(minutes=-5)),
        (" +90m ", timedelta(minutes=90)),
    ],
)
def test_now_and_relative_times(text: str, delta: timedelta) -> None:
    for now in (NOW, NOW.astimezone(PARIS)):
        parsed = parse_time(text, now, PARIS)
        assert parsed == NOW + delta
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "",
        "   ",
        "15m",
        "+2w",
        "+h",
        "-15 minutes",
        "24:00",
        "12:60",
        "1:2",
        "123:45",
        "2026-13-01T00:00",
        "2026-11-27T25:00",
        "tomorrow",
    ],
)
def test_unreadable_times_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_time(text, NOW, PARIS)
    assert repr(text) in str(info.value)


def test_the_error_shows_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"ISO 8601.*HH:MM.*-15m"):
        parse_time("yesterday-ish", NOW, PARIS)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(0), "0s ago"),
        (timedelta(seconds=45), "in 45s"),
        (timedelta(seconds=-45), "45s ago"),
        (timedelta(minutes=-12), "12m ago"),
        (timedelta(minutes=25), "in 25m"),
        (timedelta(minutes=59, seconds=59), "in 59m"),
        (timedelta(hours=1), "in 1h 0m"),
        (timedelta(hours=-2, minutes=-5), "2h 5m ago"),
        (timedelta(hours=23, minutes=59), "in 23h 59m"),
        (timedelta(days=1), "in 1d 0h"),
        (timedelta(days=-3, hours=-4, minutes=-30), "3d 4h ago"),
    ],
)
def test_relative_wording(delta: timedelta, words: str) -> None:
    assert relative(NOW + delta, NOW) == words


def test_relative_compares_instants_not_wall_clocks() -> None:
    assert relative(NOW.astimezone(PARIS) + timedelta(minutes=5), NOW) == "in 5m"
