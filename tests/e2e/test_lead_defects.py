"""Leads in a real browser, for defects of issue 15: tagging every lead a filter matches
keeps the list on its filters, and an email an owner gives in a reply lands on the lead.

The module runs a console of its own (replies change the demo leads' statuses, and the
session's demo team must stay as the sample made it). Screenshots for a person to look
at: `/tmp/shots/defa-*.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.models import Role
from console.services.phones import to_e164
from tests.e2e.conftest import expect, running_console, sign_in, url_path
from tests.e2e.test_console import (
    lead_column,
    lead_count,
    lead_rows,
    sample,
    sample_lead_with_mobile,
)

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
# A reply is read by the one embedded worker thread; the lead page shows it after.
READ_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own: its leads are tagged and answered here."""
    with running_console(tmp_path_factory.mktemp("lead-defects-instance")) as server:
        yield server


def snap(page, name: str) -> None:
    """A full-page screenshot at `/tmp/shots/defa-<name>.png`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"defa-{name}.png", full_page=True)


def test_tag_all_matching_under_a_filter_tags_them_and_keeps_the_filter(page):
    in_texas = sum(1 for row in sample() if row["State"].strip().upper() == "TX")
    assert in_texas > 1
    sign_in(page, Role.OPERATOR)
    page.goto("/leads/")
    page.get_by_label("State").select_option("TX")
    expect(lead_count(page)).to_have_text(f"Showing 1–{in_texas} of {in_texas} leads")

    page.get_by_label("Tag to add").fill("Texas Push")
    page.get_by_role("button", name=f"Tag all {in_texas} matching").click()

    expect(page.get_by_text(f"Tagged {in_texas} leads 'texas-push'.")).to_be_visible()
    expect(page).to_have_url(url_path(r"/leads/\?state=TX$"))
    expect(page.get_by_label("State")).to_have_value("TX")
    expect(page.locator("form.filters input[name=tag]")).to_have_value("")
    expect(lead_count(page)).to_have_text(f"Showing 1–{in_texas} of {in_texas} leads")
    expect(lead_rows(page).filter(has_text="texas-push")).to_have_count(in_texas)
    assert all(place.endswith(", TX") for place in lead_column(page, 4))
    snap(page, "leads-tagged")

    page.goto("/leads/?tag=texas-push")
    expect(lead_count(page)).to_have_text(f"Showing 1–{in_texas} of {in_texas} leads")


def test_an_email_given_in_a_reply_shows_on_the_lead_with_its_source(page):
    row = sample_lead_with_mobile()
    sign_in(page, Role.OPERATOR)
    page.goto("/inbox")
    page.get_by_text("Simulate a reply (sandbox)").click()
    form = page.locator("details.simulate form")
    form.get_by_label("From").fill(to_e164(row["Mobile"]))
    form.get_by_label("Text").fill("Sure, send me info at Bob.Smith@gmail.com")
    with page.expect_response(url_path("/inbox/simulate$")) as answer:
        form.get_by_role("button", name="Receive").click()
    assert answer.value.status == 200

    page.goto("/leads/")
    page.get_by_role("searchbox", name="Search").fill(row["Company Name"])
    expect(lead_rows(page)).to_have_count(1)
    page.get_by_role("link", name=lead_column(page, 1)[0]).click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    emails = page.locator("section.panel", has=page.get_by_role("heading", name="Emails"))
    for _ in range(READ_TIMEOUT_MS // 2000):  # the worker reads the reply, then it shows
        if emails.get_by_text("bob.smith@gmail.com").count():
            break
        page.wait_for_timeout(2000)
        page.reload()
    given = emails.locator("li").filter(has_text="bob.smith@gmail.com")
    expect(given).to_contain_text("· reply")
    expect(
        page.get_by_text("Email bob.smith@gmail.com saved from the owner's reply")
    ).to_be_visible()
    snap(page, "lead-email-from-reply")


def test_a_reviewer_lands_on_the_inbox_and_cannot_export_leads(page):
    sign_in(page, Role.REVIEWER)
    expect(page).to_have_url(url_path("/inbox$"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)
    snap(page, "reviewer-lands-on-inbox")
    page.goto("/")
    expect(page).to_have_url(url_path("/inbox$"))
    page.goto("/leads/")
    expect(lead_count(page)).to_contain_text("leads")
    expect(page.get_by_role("link", name="Export")).to_have_count(0)
    snap(page, "reviewer-leads")


def test_the_dashboard_counts_verified_mobiles_as_leads_and_says_so(page):
    sign_in(page, Role.OPERATOR)
    tile = page.locator(".tile").filter(has=page.get_by_text("Verified mobiles", exact=True))
    expect(tile.locator(".tile-hint")).to_have_text(
        "leads with a number a line-type check found to be a mobile that takes texts"
    )
    snap(page, "dashboard")
