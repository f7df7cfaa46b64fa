"""Time people can read, in a real browser: an admin sets the team's zone, a user picks
their own, times read in the user's zone with the zone named, and the lead page shows
the owner's clock.

The console runs on the test clock (`tests.clock`), in an instance of this module's own
(the team's zone changes here), so the times on the pages are known to the minute.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.models import Role
from console.services import timezones
from tests import clock
from tests.e2e.conftest import expect, running_console, sign_in, url_path
from tests.e2e.test_campaigns import demo_campaign
from tests.e2e.test_console import lead_rows, main_nav, sample, sample_matching

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, on the test clock."""
    with running_console(tmp_path_factory.mktemp("zones-instance"), test_clock=True) as server:
        yield server


@pytest.fixture
def shot(page):
    """Save a full-page screenshot as /tmp/shots/zones-<name>.png."""

    def save(name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SHOTS / f"zones-{name}.png", full_page=True)

    return save


def _illinois_lead() -> dict[str, str]:
    """A sample business in Illinois with a Central-time mobile whose name finds only it."""
    return next(
        row
        for row in sample()
        if row["State"] == "IL" and row["Mobile"] and len(sample_matching(row["Company Name"])) == 1
    )


def _texts_between(render, load) -> set[str]:
    """What `render(now)` gives at the test clock's time before and after `load()`: the
    page was drawn at one of the two minutes."""
    before = clock.now()
    load()
    return {render(before), render(clock.now())}


def test_user_in_new_york_reads_eastern_time_and_the_owners_chicago_clock(page, shot):
    sign_in(page, Role.ADMIN)

    # The admin moves the team to Pacific time.
    main_nav(page).get_by_role("link", name="Settings").click()
    team_zone = page.locator("#team-zone")
    team_zone.get_by_label("Time zone").select_option(label="Pacific (Los Angeles)")
    team_zone.get_by_role("button", name="Save the team's zone").click()
    expect(page.locator(".flash")).to_have_text("The team's time zone is saved.")
    expect(page.locator("#team-zone")).to_contain_text(" PST here.")
    shot("settings")

    # Then picks New York for themselves on Your account.
    page.get_by_role("banner").get_by_role("link", name="Your account").click()
    expect(page).to_have_url(url_path(r"/account$"))
    select = page.get_by_label("Time zone")
    expect(select.locator("option").first).to_have_text("The team's zone: Pacific (Los Angeles)")
    select.select_option(label="Eastern (New York)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Your time zone is saved.")
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    shot("account")

    # A job started now shows its time in New York's winter time, the zone named.
    main_nav(page).get_by_role("link", name="Settings").click()
    queued = _texts_between(
        lambda now: timezones.format_when(now, "America/New_York"),
        lambda: page.get_by_role("button", name="Run a worker check").click(),
    )
    expect(page).to_have_url(url_path(r"/jobs/\d+$"))
    shown = page.locator('dl.facts dt:text-is("Queued") + dd').inner_text()
    assert shown in queued, (shown, queued)
    assert re.fullmatch(r"Jan \d{1,2}, 2026, .+ EST", shown), shown
    assert "UTC" not in page.locator("main").inner_text()

    # The lead page of an Illinois owner shows the owner's Chicago clock.
    row = _illinois_lead()
    page.goto("/leads/")
    page.get_by_role("searchbox", name="Search").fill(row["Company Name"])
    expect(lead_rows(page)).to_have_count(1)
    owner_now = _texts_between(
        lambda now: timezones.OwnerClock("America/Chicago", "", False, row["City"]).now_text(now),
        lambda: lead_rows(page).get_by_role("link").first.click(),
    )
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    owner_clock = page.locator(".page-head .owner-clock")
    # Named after the business's city, on Chicago's clock.
    expect(owner_clock).to_have_text(re.compile(rf"for the owner, {row['City']}$"))
    assert owner_clock.inner_text() in owner_now, (owner_clock.inner_text(), owner_now)
    expect(owner_clock).to_have_attribute("title", re.compile(r"state IL"))
    shot("lead")


def test_inbox_item_and_batch_rows_show_the_owners_time(page, shot):
    sign_in(page, Role.OPERATOR)

    # An owner's reply: the lead card says what time it is where they are.
    main_nav(page).get_by_role("link", name="Inbox").click()
    card = page.get_by_role("complementary", name="Lead")
    expect(card.locator(".owner-clock dd")).to_have_text(re.compile(r" for the owner, [A-Z]"))
    shot("inbox")

    # A batch to Illinois owners: each row has the owner's time, compact.
    rows = demo_campaign(page, "Springfield owners", "IL", 3)
    for index in range(3):
        expect(rows.nth(index).locator(".owner-time")).to_have_text(
            re.compile(r"^(\d{1,2}:\d\d [ap]m|noon|midnight), Chicago$")
        )
    shot("batch")
