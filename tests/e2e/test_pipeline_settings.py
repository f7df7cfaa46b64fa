"""Settings > Pipeline in a real browser: an admin adds a stage "Site visit" after
Valuation, at 40% and asking for a value, and sees it listed in its place.

The console is this module's own, so the stage added does not move other tests' cards.
Screenshots for a person to look at: `/tmp/shots/setup-*.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.models import Role
from tests.e2e.conftest import assert_fits_width, expect, running_console, sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own: its pipeline changes stay here."""
    with running_console(tmp_path_factory.mktemp("pipeline-settings")) as server:
        yield server


def test_admin_adds_a_site_visit_stage_after_valuation(page):
    sign_in(page, Role.ADMIN)
    page.goto("/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Pipeline").click()
    expect(page.get_by_role("heading", name="Stages of Deals")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "setup-pipeline.png", full_page=True)

    form = page.locator("form.stage-add")
    form.get_by_label("Name", exact=True).fill("Site visit")
    form.get_by_label("Place after").select_option(label="Valuation")
    form.get_by_label("Win probability (%)").fill("40")
    form.get_by_label("Value", exact=True).check()
    form.get_by_role("button", name="Add stage").click()

    expect(page.locator(".flash-success")).to_contain_text("Site visit added.")
    rows = page.locator("table.stages tbody tr")
    expect(rows.locator("th")).to_have_text(
        ["Discovery", "Qualified", "Valuation", "Site visit", "LOI", "Due diligence",
         "Closing", "Won", "Lost"]
    )  # fmt: skip
    visit = rows.filter(has=page.get_by_role("rowheader", name="Site visit", exact=True))
    expect(visit).to_contain_text("40%")
    expect(visit).to_contain_text("Value")
    assert_fits_width(page)

    visit.get_by_role("link", name="Edit Site visit").click()
    expect(page.get_by_role("heading", name="Edit the stage Site visit")).to_be_visible()
    # Photographed last: a screenshot taken before an htmx swap leaves the swap an inline
    # style to copy, which the Content-Security-Policy refuses.
    page.screenshot(path=SHOTS / "setup-pipeline-edit.png", full_page=True)
