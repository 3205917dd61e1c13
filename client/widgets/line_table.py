"""A table that lays out only the rows on screen, however many it holds.

Textual's `DataTable` measures, lays out and keeps a rendering of every row it is given, and
lays the whole screen out again when a row is added or taken away: a timeline of ten thousand
entries cost hundreds of milliseconds a change, a progress panel of three hundred wrapped
actions tens. Here a row is whatever its subclass keeps (a few references); its cells are made
when the row comes on screen, one line each, cut at the column's edge with an ellipsis, or (in a
table that `wraps`) wrapped onto as many lines as its longest cell needs, measured once per row
and width. Keys, a row cursor that scrolls into view, a header line that stays put, and the look
of a `DataTable`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

RowT = TypeVar("RowT")

PADDING = 1
"""Blank cells each side of a column's content, as a `DataTable`'s."""

WRAPPED_MOST = 2_000
"""The most rows kept wrapped beyond those held."""

DRAWN_MOST = 2_000
"""The most lines kept drawn (a few screenfuls; more are drawn again)."""


@dataclass(frozen=True)
class Column:
    """A column: its header, and its width in cells (None: what the others leave)."""

    key: str
    label: str
    width: int | None


def _one_line(cell: Text, width: int) -> Text:
    """`cell` on one line of exactly `width` cells: lines joined, cut with an ellipsis."""
    cell = Text(" ").join(cell.split("\n")) if "\n" in cell.plain else cell.copy()
    cell.no_wrap = True
    cell.truncate(width, overflow="ellipsis", pad=True)
    return cell


Wrapped = list[list[Text]]
"""A row's lines, each the row's cells on that line, every one exactly its column's width."""


class LineTable(ScrollView, Generic[RowT], can_focus=True):
    """Rows of cells in columns, one line a row, the cursor on one row at a time.

    A subclass says what a row shows (`cells`); rows are added, taken away, replaced and sorted
    by key, in time proportional to the rows touched (a sort to the rows held), never to the
    rows shown.
    """

    wraps: ClassVar[bool] = False
    """Whether a row's cells wrap onto as many lines as its longest needs (else: one line each,
    cut with an ellipsis)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-table--header", "line-table--cursor"}

    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .line-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .line-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .line-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .line-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .line-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "First", show=False),
        Binding("ctrl+end", "scroll_bottom", "Last", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """Another row is under the cursor (or the cursor's row shows another entry)."""

        table: LineTable[Any]
        row: int
        key: str | None

        @property
        def control(self) -> LineTable[Any]:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: list[Column] = []
        self._rows: list[tuple[str, RowT]] = []
        self._where: dict[str, int] | None = {}
        """Each key's row; None once rows moved (rebuilt when next asked)."""
        self.cursor_row = 0
        self._highlighted: str | None = None
        self._looks: tuple[Style, Style, Style, list[int]] = (Style(), Style(), Style(), [])
        """The styles and column widths of the lines being drawn."""
        self._drawn: dict[tuple[str, int], tuple[RowT, tuple[object, bool], Strip]] = {}
        """Each row's lines as last drawn, by key and line of the row: the row, what else
        it showed (`drawn_as`, and whether the cursor was on it) and the line."""
        self._drawn_width = 0
        self._wrapped: dict[str, tuple[RowT, list[int], Wrapped]] = {}
        """A wrapping table's rows as wrapped: each row, the widths it was wrapped to, its lines;
        kept a while after a row goes, for a row that comes back the same (a replay that jumps
        back and forth)."""
        self._tops: list[int] | None = []
        """A wrapping table's first line of each row, and after them the line count; None once
        rows changed (counted again when next asked)."""

    # What a subclass says ---------------------------------------------------------------------

    def cells(self, key: str, row: RowT) -> Sequence[Text]:
        """The cells a row shows, one per column, in column order."""
        raise NotImplementedError

    # Columns and rows -------------------------------------------------------------------------

    def add_column(self, label: str, *, key: str, width: int | None = None) -> None:
        """Add a column; one of width None takes the width the others leave."""
        self._columns.append(Column(key, label, width))
        self._relaid()

    def set_width(self, key: str, width: int | None) -> None:
        """Make column `key` `width` cells wide."""
        self._columns = [
            Column(column.key, column.label, width if column.key == key else column.width)
            for column in self._columns
        ]
        self._relaid()

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Show these columns in place of the ones shown."""
        self._columns = list(columns)
        self._relaid()

    def _relaid(self) -> None:
        """The columns changed: a wrapping table counts its lines again."""
        self._tops = None
        self._resized()

    def widths(self) -> list[int]:
        """Each column's width in cells, as laid out now (padding not counted)."""
        room = self.scrollable_content_region.width
        fixed = sum(column.width or 0 for column in self._columns)
        padding = 2 * PADDING * len(self._columns)
        rest = max(1, room - fixed - padding)
        return [rest if column.width is None else column.width for column in self._columns]

    @property
    def ordered_keys(self) -> list[str]:
        """The rows' keys, top to bottom."""
        return [key for key, _ in self._rows]

    @property
    def row_count(self) -> int:
        """How many rows the table holds."""
        return len(self._rows)

    def has_row(self, key: str) -> bool:
        """Whether a row has this key."""
        return key in self._index()

    def get_row_index(self, key: str) -> int:
        """The index of the row with this key.

        Raises:
            KeyError: if no row has it.
        """
        return self._index()[key]

    def row_at(self, index: int) -> tuple[str, RowT]:
        """The key and row at `index`."""
        return self._rows[index]

    def get_row(self, key: str) -> Sequence[Text]:
        """The cells of the row with this key.

        Raises:
            KeyError: if no row has it.
        """
        return self.get_row_at(self._index()[key])

    def get_row_at(self, index: int) -> Sequence[Text]:
        """The cells of the row at `index`."""
        key, row = self._rows[index]
        return self.cells(key, row)

    def add_rows(self, rows: Sequence[tuple[str, RowT]]) -> None:
        """Add rows after the last one."""
        where = self._where
        if where is not None:
            start = len(self._rows)
            for offset, (key, _) in enumerate(rows):
                where[key] = start + offset
        self._rows.extend(rows)
        self._tops = None
        self._resized()

    def replace_rows(self, rows: Sequence[tuple[str, RowT]]) -> None:
        """Show each row in place of the row with its key, where it is.

        Raises:
            KeyError: if no row has one of the keys.
        """
        where = self._index()
        for key, row in rows:
            self._rows[where[key]] = (key, row)
        if self.wraps:
            self._tops = None  # their heights may change
            self._resized()
        else:
            self.refresh()

    def remove_rows(self, keys: Iterable[str]) -> None:
        """Take away the rows with these keys (the keys no row has are passed over)."""
        gone = set(keys) & self._index().keys()
        if not gone:
            return
        self._rows = [item for item in self._rows if item[0] not in gone]
        self._where = None
        self._tops = None
        if self.cursor_row >= len(self._rows):
            self.cursor_row = max(0, len(self._rows) - 1)
        self._resized()

    def remove_row(self, key: str) -> None:
        """Take away the row with this key (nothing if there is none)."""
        index = self._index().get(key)
        if index is None:
            return
        del self._rows[index]
        self._tops = None
        if index == len(self._rows) and self._where is not None:
            del self._where[key]
        else:
            self._where = None
        if self.cursor_row >= len(self._rows):
            self.cursor_row = max(0, len(self._rows) - 1)
        self._resized()

    def sort_rows(self, by: Callable[[RowT], Any]) -> None:
        """Order the rows by `by(row)` (a stable sort: ties keep their order)."""
        self._rows.sort(key=lambda item: by(item[1]))
        self._moved()

    def order_rows(self, rank: Mapping[str, int]) -> None:
        """Order the rows by their keys' rank (every key held must have one)."""
        self._rows.sort(key=lambda item: rank[item[0]])
        self._moved()

    def _moved(self) -> None:
        self._where = None
        self._tops = None
        self.refresh()
        self._tell_highlighted()

    def clear(self) -> None:
        """Take away every row (the columns stay)."""
        self._rows.clear()
        self._where = {}
        self._wrapped.clear()
        self._drawn.clear()
        self._tops = []
        self.cursor_row = 0
        self._resized()

    def _index(self) -> dict[str, int]:
        if self._where is None:
            self._where = {key: index for index, (key, _) in enumerate(self._rows)}
        return self._where

    def _line_count(self) -> int:
        """How many lines the rows take."""
        return self._lines()[-1] if self.wraps else len(self._rows)

    def _lines(self) -> list[int]:
        """A wrapping table's first line of each row, then the line count."""
        tops = self._tops
        if tops is None:
            widths = self.widths()
            tops = [0]
            for key, row in self._rows:
                tops.append(tops[-1] + len(self._wrap(key, row, widths)))
            self._tops = tops
        return tops

    def _wrap(self, key: str, row: RowT, widths: list[int]) -> Wrapped:
        """`row` wrapped to `widths`, as wrapped before if neither changed."""
        done = self._wrapped.get(key)
        if done is not None and done[1] == widths:
            if done[0] is row:
                return done[2]
            if done[0] == row:
                self._wrapped[key] = (row, widths, done[2])
                return done[2]
        if len(self._wrapped) > WRAPPED_MOST + len(self._rows):
            held = self._index()
            self._wrapped = {k: v for k, v in self._wrapped.items() if k in held}
        console = self.app.console
        columns = [
            cell.wrap(console, width, justify="left", overflow="fold")
            for cell, width in zip(self.cells(key, row), widths, strict=False)
        ]
        height = max((len(lines) for lines in columns), default=1) or 1
        blanks = [Text(" " * width) for width in widths]
        lines = [
            [
                column[n] if n < len(column) else blank
                for column, blank in zip(columns, blanks, strict=False)
            ]
            for n in range(height)
        ]
        self._wrapped[key] = (row, widths, lines)
        return lines

    def _row_of_line(self, line: int) -> int:
        """The row on `line` of the rows (past the last: the row count)."""
        if not self.wraps:
            return min(line, len(self._rows))
        return min(bisect_right(self._lines(), line) - 1, len(self._rows))

    def _resized(self) -> None:
        if self.wraps and not self.size:
            # Not laid out yet: the rows are wrapped once the table has its width.
            self.refresh()
            self._tell_highlighted()
            return
        size = Size(self.scrollable_content_region.width, self._line_count() + 1)
        before, room = self.virtual_size, self.size.height
        shaped = self.styles.width
        if (
            self.is_mounted
            and (size.width == before.width or not (shaped is not None and shaped.is_auto))
            and (size.height > room) == (before.height > room) == self.show_vertical_scrollbar
        ):
            # The scrollbar stays as it was: its extent changes, nothing else on screen moves,
            # so no layout of the screen (a row added a step would cost one a step). The width
            # moves nothing unless the table's width follows it: it never scrolls sideways.
            self.set_reactive(LineTable.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size
        self.refresh()
        self._tell_highlighted()

    # The cursor -------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self._rows:
            return None
        return self._rows[min(self.cursor_row, len(self._rows) - 1)][0]

    def move_cursor(self, *, row: int, scroll: bool = True, animate: bool = False) -> None:
        """Put the cursor on row `row` (kept within the rows), scrolled into view with `scroll`."""
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        if scroll:
            self._scroll_to_cursor(animate)
        self.refresh()
        self._tell_highlighted()

    def _scroll_to_cursor(self, animate: bool = False) -> None:
        shown = max(1, self.scrollable_content_region.height - 1)  # the header takes a line
        top = round(self.scroll_y)
        first, end = self.cursor_row, self.cursor_row + 1
        if self.wraps and self._rows:
            tops = self._lines()
            first, end = tops[self.cursor_row], tops[self.cursor_row + 1]
        if first < top or end - first > shown:
            self.scroll_to(y=first, animate=animate, force=True)
        elif end > top + shown:
            self.scroll_to(y=end - shown, animate=animate, force=True)

    def _tell_highlighted(self) -> None:
        key = self.cursor_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(self, self.cursor_row, key))

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def _page(self, way: int) -> None:
        """Move the cursor a screenful of lines up (-1) or down (1)."""
        page = max(1, self.scrollable_content_region.height - 1)
        if not self.wraps or not self._rows:
            self.move_cursor(row=self.cursor_row + way * page)
            return
        line = self._lines()[self.cursor_row] + way * page
        row = self._row_of_line(max(0, line))
        if row == self.cursor_row:
            row += way  # a row taller than the screen: on to the next one
        self.move_cursor(row=row)

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    async def _on_click(self, event: events.Click) -> None:
        await super()._on_click(event)  # what a widget does with a click besides
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = self._row_of_line(round(self.scroll_y) + offset.y - 1)
        if row < len(self._rows):
            self.clicked(row)

    def clicked(self, row: int) -> None:
        """A click on row `row`: the cursor goes there."""
        self.move_cursor(row=row)

    def _on_resize(self, event: events.Resize) -> None:
        if self.wraps:
            self._tops = None  # the rows are wrapped again where their columns' widths changed
        self.virtual_size = Size(self.scrollable_content_region.width, self._line_count() + 1)
        self.refresh()

    # Drawing ----------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles of this pass, looked up once for all its lines.
        base = self.rich_style
        looks = (
            base,
            base + self.get_component_rich_style("line-table--header"),
            base + self.get_component_rich_style("line-table--cursor"),
            self.widths(),
        )
        width = self.scrollable_content_region.width
        if looks != self._looks or width != self._drawn_width:
            self._looks, self._drawn_width = looks, width
            self._drawn.clear()  # every line drawn is of other styles or widths
        elif len(self._drawn) > DRAWN_MOST:
            self._drawn.clear()
        return super().render_lines(crop)

    def drawn_as(self, key: str, row: RowT) -> object:
        """What a row's lines show besides the row itself (the lines drawn are kept while the
        row, this and the styles stay the same); a subclass whose cells read anything else
        says so here."""
        return None

    def render_line(self, y: int) -> Strip:
        width = self._drawn_width
        base, header, cursor, widths = self._looks
        if y == 0:
            labels = [Text(column.label) for column in self._columns]
            return self._strip(labels, widths, width, header)
        line = round(self.scroll_y) + y - 1
        index = self._row_of_line(line)
        if index >= len(self._rows):
            return Strip.blank(width, base)
        key, row = self._rows[index]
        part = line - self._lines()[index] if self.wraps else 0
        at_cursor = index == self.cursor_row
        shows = self.drawn_as(key, row)
        drawn = self._drawn.get((key, part))
        if drawn is not None and drawn[0] is row and drawn[1] == (shows, at_cursor):
            return drawn[2]
        style = cursor if at_cursor else base
        if self.wraps:
            cells = self._wrap(key, row, widths)[part]
            strip = self._strip(cells, widths, width, style, at_cursor, fitted=True)
        else:
            strip = self._strip(self.cells(key, row), widths, width, style, at_cursor)
        self._drawn[key, part] = (row, (shows, at_cursor), strip)
        return strip

    def _strip(
        self,
        cells: Sequence[Text],
        widths: Sequence[int],
        width: int,
        style: Style,
        on_top: bool = False,
        fitted: bool = False,
    ) -> Strip:
        """A line of `cells` in `style`: under their own styles, or `on_top` of them (the
        cursor's text colour and attributes win, a cell's own background stays, as a severity
        badge's); `fitted` cells are already their columns' widths."""
        pad = " " * PADDING
        line = Text()
        for cell, cell_width in zip(cells, widths, strict=False):
            line.append(pad)
            line.append_text(cell if fitted else _one_line(cell, cell_width))
            line.append(pad)
        line.truncate(width, pad=True)
        console = self.app.console
        segments = list(line.render(console))
        if on_top:
            over = Style(
                color=style.color,
                bold=style.bold,
                dim=style.dim,
                italic=style.italic,
                underline=style.underline,
                reverse=style.reverse,
                strike=style.strike,
            )
            segments = list(Segment.apply_style(segments, style=style, post_style=over))
        else:
            segments = list(Segment.apply_style(segments, style=style))
        return Strip(segments, width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
