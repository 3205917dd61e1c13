"""A DataTable updated by row key: rows are added, changed and removed in place, never refilled.

Every column has a fixed width but one, which takes the rest of the panel; its text wraps, so a
long action or question reads in full even on an 80-column terminal. Only a change of the
panel's width rebuilds the table (the wrapped heights depend on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from warroom.core.domain import entry_number

MIN_FLEX = 10
"""The narrowest the wrapping column gets."""


class KeyedTable(DataTable[Any]):
    """A table whose rows are kept equal to a list of (key, cells), in that order.

    The first column holds each row's key as text, which is how the table restores the order.

    Args:
        columns: (name, width) pairs; the one column whose width is None takes the rest.
        spare: columns to leave out while the wrapping column would be narrower than
            `SPARE_BELOW` with them (the lobby's applications at 80 columns).
    """

    SPARE_BELOW: ClassVar[int] = 24
    """The wrapping column's width under which the `spare` columns make way for it."""

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
    ]
    """j and k move like the arrows; Home/g and End/G go to the first and last row."""

    def __init__(
        self,
        columns: Sequence[tuple[str, int | None]],
        *,
        numbered: bool = True,
        id: str | None = None,
        spare: Sequence[str] = (),
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_row_labels=False)
        self.numbered = numbered
        """Show each row's key (N3, A2) as its first column; off, the first column goes."""
        self._all_columns = list(columns) if numbered else list(columns[1:])
        self._columns = self._all_columns
        self._spare = frozenset(spare)
        self._column_names = [name for name, _ in columns]
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._order: list[str] = []
        self._flex_width = 0

    def _fit(self) -> int:
        self._columns = self._all_columns
        if self._spare and self._flex_for(self._columns) < self.SPARE_BELOW:
            self._columns = [c for c in self._all_columns if c[0] not in self._spare]
        return self._flex_for(self._columns)

    def _flex_for(self, columns: Sequence[tuple[str, int | None]]) -> int:
        fixed = sum(width + 2 * self.cell_padding for _, width in columns if width is not None)
        # Leave room for the cell padding of the flexible column and a vertical scrollbar.
        width = self.size.width - self.styles.scrollbar_size_vertical
        return max(MIN_FLEX, width - fixed - 2 * self.cell_padding - 1)

    def on_mount(self) -> None:
        self._build()

    def _on_resize(self, event: events.Resize) -> None:
        super()._on_resize(event)
        before = (self._flex_width, len(self._columns))
        if (self._fit(), len(self._columns)) != before:
            self._build()

    def _build(self) -> None:
        cursor = self.cursor_row
        self.clear(columns=True)
        self._flex_width = self._fit()
        for name, width in self._columns:
            self.add_column(name, key=name, width=width if width is not None else self._flex_width)
        for key in self._order:
            self.add_row(*self._cells(key, self._rows[key]), key=key, height=None)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    def _cells(self, key: str, cells: tuple[Any, ...]) -> tuple[Any, ...]:
        every = (Text(key), *cells) if self.numbered else cells
        if len(self._columns) == len(self._all_columns):
            return every
        kept = {name for name, _ in self._columns}
        return tuple(
            c for (name, _), c in zip(self._all_columns, every, strict=True) if name in kept
        )

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def selected_number(self, prefix: str) -> int | None:
        """The number of the entry under the cursor (2 for A2); with none, say so and None."""
        key = self.selected_key
        if key is None:
            self.notify(f"Nothing selected in {self.id}.", severity="warning")
            return None
        return entry_number(key, prefix)

    def show(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Make the table show exactly `rows`, in order, touching only what changed."""
        wanted = dict(rows)
        selected = self.selected_key
        for key in [key for key in self._rows if key not in wanted]:
            self.remove_row(key)
            del self._rows[key]
        moved = False
        for key, cells in rows:
            shown = self._rows.get(key)
            if shown == cells:
                continue
            if shown is not None:
                # Replaced rather than updated in place: a wrapped row's height may change.
                self.remove_row(key)
                moved = True
            self.add_row(*self._cells(key, cells), key=key, height=None)
            self._rows[key] = cells
        order = [key for key, _ in rows]
        if not self.numbered and (self._order != order or moved):
            # Nothing to sort by on screen: lay the rows out again in their order.
            self._order = order
            self._build()
            if selected in order:
                self.move_cursor(row=order.index(selected), scroll=False)
        elif self._order != order or moved:
            self._order = order
            rank = {key: index for index, key in enumerate(order)}
            self.sort(self._column_names[0], key=lambda cell: rank[str(cell)])
            if selected in rank:
                # The cursor stays on the entry the user chose, not on a row number.
                self.move_cursor(row=rank[selected], scroll=False)
