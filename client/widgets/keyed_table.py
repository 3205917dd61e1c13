"""A table updated by row key: rows are added, changed and removed in place, never refilled.

Every column has a fixed width but one, which takes the rest of the panel; its text wraps, so a
long action or question reads in full even on an 80-column terminal. A changed row is wrapped
again alone, where it stands; only a change of the panel's width wraps every row again (their
heights depend on it). It stands on `LineTable`, which draws only the lines on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message

from client.widgets.line_table import PADDING, Column, LineTable
from warroom.core.domain import entry_number

MIN_FLEX = 10
"""The narrowest the wrapping column gets."""

Cells = tuple[Any, ...]
"""What a row shows after its key, one cell a column: `Text` (a `str` is shown as it is)."""


class KeyedTable(LineTable[Cells]):
    """A table whose rows are kept equal to a list of (key, cells), in that order.

    The first column holds each row's key (N3, A2) unless the table is not `numbered`.

    Args:
        columns: (name, width) pairs; the one column whose width is None takes the rest.
        spare: columns to leave out while the wrapping column would be narrower than
            `SPARE_BELOW` with them (the lobby's applications at 80 columns).
    """

    wraps: ClassVar[bool] = True

    SPARE_BELOW: ClassVar[int] = 24
    """The wrapping column's width under which the `spare` columns make way for it."""

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
    ]
    """Enter chooses the row under the cursor; j and k move like the arrows; Home/g and End/G
    go to the first and last row."""

    @dataclass
    class Selected(Message):
        """The row under the cursor was chosen (Enter, or a click on it)."""

        table: KeyedTable
        key: str

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[tuple[str, int | None]],
        *,
        numbered: bool = True,
        id: str | None = None,
        spare: Sequence[str] = (),
    ) -> None:
        super().__init__(id=id)
        self.numbered = numbered
        """Show each row's key (N3, A2) as its first column; off, the first column goes."""
        self._all_columns = list(columns) if numbered else list(columns[1:])
        self._kept = self._all_columns
        self._spare = frozenset(spare)
        self._flex_width = 0

    def _fit(self) -> int:
        self._kept = self._all_columns
        if self._spare and self._flex_for(self._kept) < self.SPARE_BELOW:
            self._kept = [c for c in self._all_columns if c[0] not in self._spare]
        return self._flex_for(self._kept)

    def _flex_for(self, columns: Sequence[tuple[str, int | None]]) -> int:
        fixed = sum(width + 2 * PADDING for _, width in columns if width is not None)
        # Leave room for the padding of the flexible column and a vertical scrollbar, so that
        # a scrollbar coming or going never wraps the rows again.
        width = self.size.width - self.styles.scrollbar_size_vertical
        return max(MIN_FLEX, width - fixed - 2 * PADDING - 1)

    def on_mount(self) -> None:
        self._build()

    def _on_resize(self, event: events.Resize) -> None:
        before = (self._flex_width, len(self._kept))
        if (self._fit(), len(self._kept)) != before:
            self._build()
        super()._on_resize(event)

    def _build(self) -> None:
        self._flex_width = self._fit()
        self.set_columns(
            [
                Column(name, name, self._flex_width if width is None else width)
                for name, width in self._kept
            ]
        )

    def cells(self, key: str, row: Cells) -> Sequence[Text]:
        every = (key, *row) if self.numbered else row
        if len(self._kept) < len(self._all_columns):
            kept = {name for name, _ in self._kept}
            every = tuple(
                c for (name, _), c in zip(self._all_columns, every, strict=True) if name in kept
            )
        return [cell if isinstance(cell, Text) else Text(str(cell)) for cell in every]

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        return self.cursor_key

    def selected_number(self, prefix: str) -> int | None:
        """The number of the entry under the cursor (2 for A2); with none, say so and None."""
        key = self.selected_key
        if key is None:
            self.notify(f"Nothing selected in {self.id}.", severity="warning")
            return None
        return entry_number(key, prefix)

    def action_select(self) -> None:
        """Choose the row under the cursor."""
        if (key := self.cursor_key) is not None:
            self.post_message(self.Selected(self, key))

    def clicked(self, row: int) -> None:
        # A click on the row under the cursor chooses it; on another, moves the cursor there.
        if row == self.cursor_row:
            self.action_select()
        else:
            super().clicked(row)

    def show(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Make the table show exactly `rows`, in order, touching only what changed."""
        wanted = dict(rows)
        selected = self.selected_key
        for key in [key for key in self.ordered_keys if key not in wanted]:
            self.remove_row(key)
        added = []
        for key, cells in rows:
            if not self.has_row(key):
                added.append((key, cells))
            elif self.row_at(self.get_row_index(key))[1] != cells:
                self.replace_row(key, cells)
        if added:
            self.add_rows(added)
        order = [key for key, _ in rows]
        if self.ordered_keys != order:
            self.order_rows({key: index for index, key in enumerate(order)})
        if selected is not None and selected in wanted:
            # The cursor stays on the entry the user chose, not on a row number.
            self.move_cursor(row=self.get_row_index(selected), scroll=False)
