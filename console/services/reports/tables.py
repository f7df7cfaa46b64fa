"""A report's tables as data: named columns of a kind (a count, a rate, dollars, a
duration...), rows, and a totals row. The page renders them, the CSV export and the
`report` command write them, so a figure has one home whatever shows it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

# How a column's values read: on the page (formatted) and in CSV (plain numbers).
# "state" is an alert's "green", "amber" or "red" (a badge on the page, the word in CSV).
KINDS = ("text", "count", "rate", "money", "seconds", "number", "date", "state")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    # A link for each row's value, from the row: the rows behind the figure.
    link_key: str = ""


@dataclass
class Table:
    """One table of a report page. `rows` and `totals` map column keys to values: a
    rate is a fraction (0.25, shown 25.0%), money a Decimal, seconds a number."""

    name: str  # the CSV's name and the `report` command's
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    totals: dict | None = None
    note: str = ""

    def header(self) -> list[str]:
        """The CSV header: the columns' keys."""
        return [column.key for column in self.columns]

    def csv_rows(self, *, with_totals: bool = False) -> Iterator[list]:
        """Each row as plain values in column order (money to the cent or finer, rates
        as fractions to 4 places, blanks as ""); the totals row last when asked."""
        rows = [*self.rows, *([self.totals] if with_totals and self.totals else [])]
        for row in rows:
            yield [plain(row.get(column.key), column.kind) for column in self.columns]


@dataclass
class Chart:
    """A chart beside a table: `kind` "bars" (one value a label) or "lines" (a series
    a name over the same labels); `table` names the table holding its numbers."""

    title: str
    kind: str
    labels: list[str]
    series: dict[str, list[float]]
    table: str = ""
    unit: str = ""  # "count", "rate" or "money": how the axis reads


@dataclass
class ReportPage:
    """What a report page shows: its tables and charts, and notes (how fresh, what is
    left out)."""

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)


def plain(value, kind: str) -> str | int | float:
    """A value as a CSV cell."""
    if value is None or value == "":
        return ""
    if kind == "rate":
        return f"{float(value):.4f}"
    if kind == "money":
        amount = Decimal(value)
        return f"{amount:.2f}" if amount == amount.quantize(Decimal("0.01")) else f"{amount:.4f}"
    if kind == "seconds":
        return round(float(value))
    return value


def rate(part: int | float | None, whole: int | float | None) -> float | None:
    """part / whole, None when there is no whole."""
    if not whole or part is None:
        return None
    return part / whole
