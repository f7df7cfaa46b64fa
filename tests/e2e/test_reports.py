"""The funnel report in a real browser, over the demo's data: a manager opens Reports
from the navigation and reads the funnel, its bars, and what each deal cost.

Screenshots for a person to look at: `tests/e2e/screenshots/report-funnel*.png` (and
under /tmp/shots when that folder exists).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from console.models import Role
from tests.e2e.conftest import assert_fits_width, expect, running_console, sign_in, url_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, with the demo's campaigns, replies and deals."""
    with running_console(tmp_path_factory.mktemp("reports-instance")) as server:
        yield server


def keep(path: Path, name: str) -> None:
    if Path("/tmp/shots").is_dir():
        shutil.copy(path, Path("/tmp/shots") / name)


def test_a_manager_reads_the_funnel_from_the_navigation(page, shoot):
    sign_in(page, Role.MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page).to_have_url(url_path(r"/reports/funnel"))
    expect(page.get_by_role("heading", name="Funnel and cost", level=1)).to_be_visible()
    funnel = page.locator("#table-funnel table")
    expect(funnel.locator("tbody tr")).to_have_count(9)
    # Of the demo's 22 deals, two were won in the last 30 days (12 and 3 days ago); 7 or
    # 8 were made in them (one was made 30 days ago, moved to the next business hour).
    won = funnel.locator("tbody tr").filter(has=page.get_by_role("cell", name="won", exact=True))
    expect(won.locator("td").nth(1)).to_have_text("2")
    deal = funnel.locator("tbody tr").filter(has=page.get_by_role("cell", name="deal", exact=True))
    expect(deal.locator("td").nth(1)).to_have_text(re.compile(r"^[78]$"))
    expect(page.locator("#table-funnel svg[role=img]")).to_be_visible()
    expect(page.locator("#table-daily svg[role=img]")).to_be_visible()
    assert_fits_width(page)
    keep(shoot("report-funnel"), "funnel-page.png")


def test_operators_find_no_reports(page):
    sign_in(page, Role.OPERATOR)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports")
    ).to_have_count(0)
