"""The Timeline panel: every event and note in time order, pinned notes marked, filterable and
searchable; Enter reads the entry under the cursor whole.

New log entries are appended as rows; a backdated note triggers a re-sort; a filter or search
change is the one case that refills the table. A row is its event: its cells are made when it
comes on screen (a `LineTable`), so a room of ten thousand entries costs what its screenful
costs. A user who moved up to read is told how many new entries arrived below (in the panel's
bottom border) until they are back at the newest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from client.entry_text import of_event
from client.render import shown, stamp, timeline_row
from client.screens.entry import read_entry
from client.widgets.line_table import LineTable
from client.widgets.requests import offered
from client.widgets.timeline_rows import (
    IMPACT,
    TimelineFilter,
    When,
    apps_of,
    entry_of,
    moment,
    number,
)
from client.widgets.timeline_search import TimelineSearch
from warroom.core import events as e
from warroom.core.domain import IncidentState, find_entry, find_index
from warroom.core.events import Envelope
from warroom.core.timeparse import in_local_zone
from warroom.core.views import describe


class Held:
    """The entries a viewer holds now, looked up in the folded incident as asked (a set of them
    rebuilt on every event cost a pass over every note of a room of ten thousand)."""

    def __init__(self, incident: IncidentState | None) -> None:
        self.incident = incident

    def __contains__(self, entry: tuple[str, int]) -> bool:
        incident = self.incident
        if incident is None:
            return False
        kind, number = entry
        if entry == IMPACT:
            # A statement withdrawn from a stakeholder leaves them none (version 0).
            return incident.impact.version > 0
        match kind:
            case "N":
                return find_index(incident.notes, number) >= 0
            case "A":
                return find_index(incident.actions, number) >= 0
            case "M":
                return find_index(incident.mitigations, number) >= 0
        return False

    def pinned(self, note: int) -> bool:
        """Whether the note numbered `note` is pinned now."""
        found = None if self.incident is None else find_entry(self.incident.notes, note)
        return found is not None and found.pinned


REWIND_MOST = 64
"""The most entries a shorter log takes away row by row (a row taken away from the middle
renumbers every row after it); past that the table is refilled, which costs one pass."""

Row = tuple[When, e.Event]
"""A timeline row: when it sorts, and the event it shows."""


class TimelinePanel(LineTable[Row]):
    """The incident's log as a table: time, who, what."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "read", "Read"),
        Binding("r", "read", "Read", show=False),
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("space", "pin", "Pin/unpin"),
        Binding("f", "filter", "Filter"),
        Binding("u", "audience", "Audience"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
    ]
    """Enter (or r) reads the entry under the cursor whole; / searches, Esc clears the search;
    Space pins the note under the cursor; f cycles all / pinned / notes / per application."""

    DEFAULT_CSS = """
    TimelinePanel { height: 1fr; }
    """

    @dataclass
    class PinRequested(Message):
        """Pin the note, or unpin it if it is pinned."""

        note: int

    @dataclass
    class FilterRequested(Message):
        """Show the next filter: all, pinned, notes, then each application."""

    @dataclass
    class AudienceRequested(Message):
        """Show the note to another audience."""

        note: int

    @dataclass
    class SearchRequested(Message):
        """Open the search box under the timeline."""

    REQUESTS: ClassVar[dict[str, type[Message]]] = {
        "pin": PinRequested,
        "filter": FilterRequested,
        "audience": AudienceRequested,
    }
    """Which request each of the panel's actions posts."""

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.numbered = numbered
        """Name entries by number; off for a stakeholder, whose numbers are disguised."""
        self.filter = TimelineFilter.ALL
        self.app_filter: str | None = None
        self.search = ""
        """Show only the entries whose text holds this (any case); "" shows all."""
        self.unseen = 0
        """New entries added below while the user reads further up."""
        self._incident: str | None = None
        self._seen = 0
        self._last: When | None = None
        self._log: Sequence[Envelope] = ()
        self._held = Held(None)
        """The entries the viewer holds now: a row of one withdrawn from them goes."""
        self._today = date.min
        self._time_width = 5
        """HH:MM while every entry is of today; room for the date once one is not."""
        self.add_column("time", key="time", width=self._time_width)
        self.add_column("who", key="who", width=7)
        self.add_column("what", key="what")

    def cells(self, key: str, row: Row) -> tuple[Text, Text, Text]:
        when, event = row
        _, who, what = timeline_row(event, self._pinned(event), self.numbered)
        return Text(str(when)), who, what

    def drawn_as(self, key: str, row: Row) -> object:
        return self._pinned(row[1])

    def _pinned(self, event: e.Event) -> bool:
        # Today's pin, not the pin at the time: the log is folded already.
        return isinstance(event, e.NoteAdded) and self._held.pinned(event.note)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return bool(self.search)
        if action == "search":
            # Only a room with a search box under its timeline searches (not the preview).
            return bool(self.screen.query("#timeline-search"))
        return offered(self, self.REQUESTS.get(action))

    def action_read(self) -> None:
        """Open the entry under the cursor whole, to read and copy from."""
        event = self.highlighted_event
        read_entry(self, of_event(event, self.numbered) if event is not None else None)

    def action_search(self) -> None:
        """Ask for the search box."""
        self.post_message(self.SearchRequested())

    def action_clear_search(self) -> None:
        """Show every entry again (the screen retitles the panel)."""
        self.post_message(TimelineSearch.Searched(""))

    def action_pin(self) -> None:
        """Ask to pin or unpin the note under the cursor."""
        note = self.selected_note
        if note is None:
            self.notify("Put the cursor on a note to pin it.", severity="warning")
        else:
            self.post_message(self.PinRequested(note))

    def action_filter(self) -> None:
        """Ask for the next filter."""
        self.post_message(self.FilterRequested())

    def action_audience(self) -> None:
        """Ask to show the note under the cursor to another audience."""
        note = self.selected_note
        if note is None:
            self.notify("Put the cursor on a note, an action or a workaround.", severity="warning")
        else:
            self.post_message(self.AudienceRequested(note))

    @property
    def highlighted_event(self) -> e.Event | None:
        """The event under the cursor."""
        key = self.cursor_key
        return None if key is None else self.event_at(key)

    def detail(self) -> Text:
        """The whole of the highlighted entry, for the line under the table (rows are cut at
        the panel's edge)."""
        event = self.highlighted_event
        if event is None:
            return Text("")
        when = event.occurred_at if isinstance(event, e.NoteAdded) else event.at
        line = describe(event, brief=True, numbered=self.numbered)
        return Text.assemble(shown(f"{stamp(when)}  {event.actor}  ", "bold", False), line)

    def event_at(self, row_key: str) -> e.Event | None:
        """The event a row shows (for the detail line under the table)."""
        if not self.has_row(row_key):
            return None
        return self.row_at(self.get_row_index(row_key))[1][1]

    @property
    def selected_note(self) -> int | None:
        """The note under the cursor, if the cursor is on a note."""
        event = self.highlighted_event
        return event.note if isinstance(event, e.NoteAdded) else None

    def describe_filter(self) -> str:
        """The filter in words, for the panel title."""
        kind = f"app {self.app_filter}" if self.app_filter else self.filter.value
        return f"{kind}, /{self.search}" if self.search else kind

    def set_search(self, text: str) -> None:
        """Show only the entries whose text holds `text` (any case); "" shows them all."""
        if text != self.search:
            self.search = text
            self._refill(self._log)

    def next_filter(self, apps: tuple[str, ...]) -> tuple[TimelineFilter, str | None]:
        """The filter after the current one: all, pinned, notes, then each of `apps`."""
        steps: list[tuple[TimelineFilter, str | None]] = [
            (TimelineFilter.ALL, None),
            (TimelineFilter.PINNED, None),
            (TimelineFilter.NOTES, None),
            *((TimelineFilter.ALL, app) for app in apps),
        ]
        current = (self.filter, self.app_filter)
        index = steps.index(current) if current in steps else -1
        return steps[(index + 1) % len(steps)]

    def set_filter(self, kind: TimelineFilter, app: str | None, log: Sequence[Envelope]) -> None:
        """Change what the timeline shows and refill it from the log."""
        self.filter, self.app_filter = kind, app
        self._log = log
        self._refill(log)

    def show(self, incident: IncidentState, log: Sequence[Envelope], now: datetime) -> None:
        """Bring the table up to date with the log (only new entries are added)."""
        seen, before = self._seen, self._log
        self._log = log
        self._held = Held(incident)
        today = now.astimezone().date()
        if today != self._today and self.row_count:
            self._today = today
            self._incident = incident.id
            self._refill(log)  # yesterday's rows must now show their date
            return
        self._today = today
        # The same log cut shorter (a replay stepping back): take the later rows away.
        shorter = 0 < len(log) < seen <= len(before) and log[-1] is before[len(log) - 1]
        if shorter and self._rewind(before[len(log) : seen]):
            self._seen = len(log)
            return
        # A room read again (after a reconnect) is another log, even where it matches the old.
        other_log = seen > 0 and (
            len(log) < seen or len(before) < seen or log[seen - 1] is not before[seen - 1]
        )
        if incident.id != self._incident or other_log:
            self._incident = incident.id
            self._refill(log)
            return
        if self._append(log[self._seen :]):
            self._refill(log)  # a pin changed while only pinned notes are shown

    def _rewind(self, dropped: Sequence[Envelope]) -> bool:
        """Take away the rows of `dropped`, the last entries of the log; False (nothing done)
        where that is not enough: a pin or an audience change among them changed rows above."""
        if len(dropped) > REWIND_MOST:
            return False  # each row taken away costs a pass over the table's: refill instead
        if any(isinstance(item.event, e.NotePinned | e.AudienceChanged) for item in dropped):
            return False
        following = self.row_count > 0 and self.cursor_row >= self.row_count - 1
        removed = 0
        for item in reversed(dropped):
            key = str(item.seq)
            if self.has_row(key):
                self.remove_row(key)
                removed += 1
        # The rows are in time order: the last one is the latest left.
        self._last = self.row_at(self.row_count - 1)[1][0] if self.row_count else None
        if self.unseen:
            self._mark_unseen(max(0, self.unseen - removed))
        if following and self.row_count:
            self._follow()
        return True

    def _refill(self, log: Sequence[Envelope]) -> None:
        self.clear()
        self._mark_unseen(0)
        self._seen, self._last = 0, None
        self._append(log)

    def _keep(self, event: e.Event) -> bool:
        entry = entry_of(event)
        if entry is not None and entry not in self._held:
            return False  # withdrawn from this viewer: it is gone for them
        if self.search and not self._found(event):
            return False
        if self.app_filter is not None:
            return self.app_filter.lower() in (a.lower() for a in apps_of(event))
        if self.filter is TimelineFilter.NOTES:
            return isinstance(event, e.NoteAdded)
        if self.filter is TimelineFilter.PINNED:
            # Today's pins, not the pin at the time: the log is folded already.
            return isinstance(event, e.NoteAdded) and self._held.pinned(event.note)
        return True

    def _append(self, entries: Sequence[Envelope]) -> bool:
        """Add rows for `entries`; True if the pinned-only view needs a refill."""
        added: list[tuple[str, Row]] = []
        resort = refill = False
        live = self._seen > 0
        for envelope in entries:
            event = envelope.event
            if event.incident != self._incident:
                continue
            if isinstance(event, e.NotePinned):
                self.refresh()  # rows show today's pins
                refill = refill or self.filter is TimelineFilter.PINNED
            if isinstance(event, e.AudienceChanged) and live:
                # An entry withdrawn from this viewer takes its rows with it.
                moved = (
                    IMPACT if event.entry == "impact" else (event.entry[:1], number(event.entry))
                )
                refill = refill or (moved[0] in "NAMI" and moved not in self._held)
            if not self._keep(event):
                continue
            key = str(envelope.seq)
            when = When(moment(event), envelope.seq, self._today)
            resort = resort or (self._last is not None and when < self._last)
            self._last = max(when, self._last) if self._last is not None else when
            added.append((key, (when, event)))
        self._seen += len(entries)
        # Like tail -f: a user reading the newest entry keeps following the new ones; a user who
        # moved up to read stays where they are.
        following = not live or (self.row_count > 0 and self.cursor_row >= self.row_count - 1)
        selected = self.cursor_key if live and not following else None
        self.add_rows(added)
        if resort:
            self.sort_rows(lambda row: row[0])
            if selected is not None:
                # A live entry sorted in above the cursor must not move the user's selection.
                self.move_cursor(row=self.get_row_index(selected), scroll=False)
        if following and added and self.row_count:
            self._follow()
        elif added and live:
            self._mark_unseen(self.unseen + len(added))
        if self._time_width < 11 and any(
            in_local_zone(row[0].moment).date() != self._today for _, row in added
        ):
            self._time_width = 11
            self.set_width("time", self._time_width)
        return refill

    def _found(self, event: e.Event) -> bool:
        whole = of_event(event, self.numbered)
        return self.search.lower() in f"{whole.heading}\n{whole.body}".lower()

    def _mark_unseen(self, count: int) -> None:
        self.unseen = count
        self.border_subtitle = f"↓ {count} new below (End)" if count else ""

    def on_line_table_highlighted(self, message: LineTable.Highlighted) -> None:
        # Back at the newest entry: nothing is unseen any more (the screen hears it too).
        if self.unseen and self.cursor_row >= self.row_count - 1:
            self._mark_unseen(0)

    def _follow(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
