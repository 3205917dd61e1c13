"""`warroom stats` for people: the numbers as a rich table and the resolve times per month and
application as bars. Every name is shown as text, never read as markup."""

from __future__ import annotations

from datetime import timedelta

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from warroom.core.domain import Severity
from warroom.core.report import span
from warroom.core.stats import Figures, Stats
from warroom.core.text import visible


def _brief(gap: timedelta | None) -> str:
    """A duration in its two largest units (`10d 16h`, `1h 45m`, `9m 30s`): a table's cell."""
    if gap is None:
        return "-"
    seconds = int(gap.total_seconds())
    units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    for index, (name, size) in enumerate(units):
        if seconds >= size or name == "s":
            whole, rest = divmod(seconds, size)
            if name == "s":
                return f"{whole}s"
            smaller, small = units[index + 1]
            return f"{whole}{name} {rest // small}{smaller}" if rest // small else f"{whole}{name}"
    return "-"


_COLUMNS = (
    "app", "count", "SEV1/2/3/4", "identify", "mitigate", "resolve", "MTBF", "on time",
    "answer",
)  # fmt: skip


def _row(name: str, numbers: Figures) -> list[Text]:
    share = numbers.punctuality
    on_time = "-" if share is None else f"{share:.0%}/{numbers.updates_due}"
    cells = [
        str(numbers.incidents),
        "/".join(str(numbers.by_severity[severity]) for severity in Severity),
        _brief(numbers.identify),
        _brief(numbers.mitigate),
        _brief(numbers.resolve),
        _brief(numbers.between_failures),
        on_time,
        _brief(numbers.response),
    ]
    # Names are people's text: shown as text (never read as markup), control characters too.
    return [Text(visible(name, multiline=False)), *(Text(cell) for cell in cells)]


BAR = "█"
PARTS = " ▏▎▍▌▋▊▉"
"""Eighths of a block, for bars that grow smoothly."""


def bar(value: float, most: float, width: int) -> str:
    """A bar of `value` on a scale where `most` fills `width` cells, to the eighth of a cell."""
    eighths = round(width * 8 * value / most) if most > 0 else 0
    whole, part = divmod(max(eighths, 1 if value > 0 else 0), 8)
    return BAR * whole + (PARTS[part] if part else "")


def chart(numbers: Stats, width: int = 32) -> Text:
    """Resolve times per month and application as bars, every bar on the same scale."""
    most = max(
        (gap.total_seconds() for months in numbers.monthly.values() for gap in months.values()),
        default=0.0,
    )
    lines = Text()
    lines.append("Mean time to resolve, by month of declaration\n", style="bold")
    if not numbers.monthly:
        lines.append("no resolved incident\n")
    label = max((len(visible(name, multiline=False)) for name in numbers.monthly), default=0)
    for name, months in numbers.monthly.items():
        for index, (month, gap) in enumerate(months.items()):
            shown = visible(name, multiline=False) if index == 0 else ""
            lines.append(f"{shown:<{label}}  {month}  ")
            lines.append(bar(gap.total_seconds(), most, width), style="cyan")
            lines.append(f" {span(gap)}\n")
    return lines


def print_stats(numbers: Stats) -> None:
    """Print the table and the chart on standard output."""
    table = Table(
        title="Incident handling: mean times; on time: share of the updates due/how many",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for index, column in enumerate(_COLUMNS):
        if index == 0:
            table.add_column(column, min_width=8)
        else:
            table.add_column(column, justify="right", no_wrap=True)
    for name, figures in numbers.apps.items():
        table.add_row(*_row(name, figures))
    table.add_row(*_row("all", numbers.overall), style="bold", end_section=True)
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 120)  # a file or a pipe: no need to squeeze
    console.print(table)
    console.print(chart(numbers))
