"""The report pages, in the order the Reports area lists them, and the tables the
`report` command writes. Each page is a function (session, scope, now, prices) ->
ReportPage in its own module of this package; `prices` are the AI token prices by
model (config AI_PRICES, for costs.ai_cost)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from console.services.reports import funnel, operations, response, velocity, works
from console.services.reports.scope import ReportScope
from console.services.reports.tables import ReportPage

Builder = Callable[[Session, ReportScope, datetime, dict], ReportPage]

# key -> (title in the navigation, builder). Each page module adds its line.
PAGES: dict[str, tuple[str, Builder]] = {
    "funnel": (funnel.TITLE, funnel.page),
    "works": ("What works", works.page),
    "response": ("Response time", response.page),
    "velocity": ("Pipeline velocity", velocity.page),
    operations.KEY: (operations.TITLE, operations.page),
}

# `flask report NAME` -> (page key, table name).
COMMANDS: dict[str, tuple[str, str]] = {
    "funnel": ("funnel", "funnel"),
    **{name: ("works", name) for name in works.TABLES},
    "reviewers": ("response", "reviewers"),
    "response-times": ("response", "histogram"),
    "velocity": ("velocity", "stages"),
    "operations": (operations.KEY, operations.STATUS_TABLE),
}


def build(
    session: Session, key: str, scope: ReportScope, now: datetime, prices: dict
) -> ReportPage:
    """The report page `key` over `scope`, AI priced at `prices`; KeyError when there is
    no such page."""
    return PAGES[key][1](session, scope, now, prices)
