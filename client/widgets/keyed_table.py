"""A DataTable updated by row key: rows are added, changed and removed in place, never refilled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


class KeyedTable(DataTable[Any]):
    """A table whose rows are kept equal to a list of (key, cells), in that order.

    The first column holds each row's key as text, which is how the table restores the order.
    """

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_row_labels=False)
        self._column_names = list(columns)
        self._rows: dict[str, tuple[Any, ...]] = {}

    def on_mount(self) -> None:
        for name in self._column_names:
            self.add_column(name, key=name)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def show(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Make the table show exactly `rows`, in order, touching only what changed."""
        wanted = dict(rows)
        for key in [key for key in self._rows if key not in wanted]:
            self.remove_row(key)
            del self._rows[key]
        for key, cells in rows:
            shown = self._rows.get(key)
            if shown is None:
                self.add_row(Text(key), *cells, key=key)
            elif shown != cells:
                for name, old, new in zip(self._column_names[1:], shown, cells, strict=True):
                    if old != new:
                        self.update_cell(key, name, new)
            self._rows[key] = cells
        order = [key for key, _ in rows]
        if [str(row.key.value) for row in self.ordered_rows] != order:
            rank = {key: index for index, key in enumerate(order)}
            self.sort(self._column_names[0], key=lambda cell: rank[str(cell)])
