"""The deal page in a real browser: a manager opens a lead's deal from the lead page,
changes its value and writes a note, and sees both (on a console of its own).

Screenshots for a person to look at: `tests/e2e/screenshots/deal-page*.png`.
"""

from __future__ import annotations

import pytest

from console.models import Role
from tests.e2e.conftest import assert_fits_width, expect, running_console, sign_in, url_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own: the lead it makes a deal of (and its note) would
    change what other modules count on the shared one."""
    with running_console(tmp_path_factory.mktemp("deal-page-instance")) as server:
        yield server


def open_a_deal(page) -> None:
    """From the first lead of the list, open its deal (converting it first if need be)."""
    page.goto("/leads/")
    page.locator("#lead-rows tbody a[href*='/leads/']").first.click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    work = page.get_by_role("region", name="Work this lead")
    if work.get_by_role("button", name="Convert to a deal").count():
        work.get_by_label("Value ($)").fill("450000")
        work.get_by_role("button", name="Convert to a deal").click()
        expect(page.locator(".flash-success")).to_contain_text("Converted to a deal")
    work.locator("a[href*='/deals/']").first.click()
    expect(page).to_have_url(url_path(r"/deals/\d+$"))


def test_open_a_deal_change_its_value_and_write_a_note(page, shoot):
    sign_in(page, Role.MANAGER)
    open_a_deal(page)
    for heading in ("Conversation", "Stage history", "Attribution", "Notes", "Timeline"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()

    page.get_by_label("Value ($)").fill("$1,250,000")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".flash-success")).to_contain_text("Saved the value")
    figures = page.get_by_role("region", name="Deal figures")
    expect(figures).to_contain_text("$1,250,000.00")

    notes = page.get_by_role("region", name="Notes")
    notes.get_by_label("Note", exact=True).fill("Owner wants <cash> at close; CPA on the call")
    notes.get_by_role("button", name="Add note").click()
    expect(page.locator(".flash-success")).to_contain_text("Note added")
    notes = page.get_by_role("region", name="Notes")
    expect(notes.locator("li").first).to_contain_text(
        "Owner wants <cash> at close; CPA on the call"
    )
    expect(page.locator("ol.timeline.events li").first).to_contain_text("Note: Owner wants")
    assert_fits_width(page)
    shoot("deal-page")
