"""The report pages, in the order the Reports area lists them, and the tables the
`report` command writes. Each page is a function (session, scope, now, prices) ->
ReportPage in its own module of this package; `prices` are the AI token prices by
model (config AI_PRICES, for costs.ai_cost)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from console.services.reports import works
from console.services.reports.scope import ReportScope
from console.services.reports.tables import ReportPage

Builder = Callable[[Session, ReportScope, datetime, dict], ReportPage]

# key -> (title in the navigation, builder). Each page module adds its line.
PAGES: dict[str, tuple[str, Builder]] = {
    "works": ("What works", works.page),
}

# `flask report NAME` -> (page key, table name).
COMMANDS: dict[str, tuple[str, str]] = {
    **{name: ("works", name) for name in works.TABLES},
}


def build(
    session: Session, key: str, scope: ReportScope, now: datetime, prices: dict
) -> ReportPage:
    """The report page `key` over `scope`, AI priced at `prices`; KeyError when there is
    no such page."""
    return PAGES[key][1](session, scope, now, prices)
