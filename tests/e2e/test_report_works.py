"""The "What works" report in a real browser: a manager of the demo team opens it and
reads the same figures the report's service computes over the console's own database.
Screenshots for a person to look at: /tmp/shots/works-*.png."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from console.models import Role, User
from console.services.reports import works
from console.services.reports.scope import ReportScope
from console.services.timezones import viewer_zone_name
from tests import clock
from tests.e2e.conftest import DEMO_EMAILS, expect, running_console, sign_in

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
FIRST, LAST = date(2025, 10, 1), clock.TEST_NOW.date()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, on the test clock."""
    with running_console(tmp_path_factory.mktemp("works-instance"), test_clock=True) as server:
        yield server


def expected_campaigns(console_server):
    """The campaigns table as the service computes it over the console's database."""
    engine = create_engine(f"sqlite:///{console_server.log.parent / 'console.db'}")
    with Session(engine) as session:
        manager = session.scalars(select(User).where(User.email == DEMO_EMAILS[Role.MANAGER])).one()
        scope = ReportScope(manager.team_id, FIRST, LAST, viewer_zone_name(manager))
        table = works.campaigns_table(
            session, scope, works.text_figures(session, scope, {})["campaigns"]
        )
    engine.dispose()
    return table


def test_a_manager_reads_what_works(page, console_server):
    sign_in(page, Role.MANAGER)
    page.goto(f"/reports/works?since={FIRST.isoformat()}&until={LAST.isoformat()}")
    expect(page.get_by_role("heading", name="What works", exact=True)).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "works-page.png", full_page=True)
    table = expected_campaigns(console_server)
    assert table.rows, "the demo team's campaigns texted in the range"
    section = page.locator("#table-campaigns")
    first = next(row for row in table.rows if row["link"])
    row = section.locator("tbody tr", has_text=first["campaign"]).first
    expect(row.locator("td").nth(1)).to_have_text(f"{first['sent']:,}")
    expect(section.locator("tfoot td").nth(1)).to_have_text(f"{table.totals['sent']:,}")
    expect(row.get_by_role("link", name=first["campaign"])).to_have_attribute("href", first["link"])
    section.screenshot(path=SHOTS / "works-campaigns.png")
