"""The console in a real browser: sign-in, the dashboard, leads, users, jobs, sign-out.

Every test drives headless Chromium against `flask --app app run` in the embedded
default, as one of the demo team's users. Expected figures are counted from the shipped
sample file the demo team was loaded from, never typed in.
"""

from __future__ import annotations

import csv
import re
import uuid
from functools import cache
from urllib.parse import urlsplit

import pytest

from console.models import Role
from console.models.base import utcnow
from console.services.demo import (
    DEMO_DEALS,
    DEMO_PASSWORD,
    DEMO_REPLIES,
    DEMO_USERS,
    SAMPLE_FILE,
)
from console.services.lists.leads import EXPORT_COLUMNS
from console.services.phones import display, to_e164
from tests.e2e.conftest import (
    DEMO_EMAILS,
    assert_fits_width,
    assert_not_reloaded,
    expect,
    mark_page,
    sign_in,
    url_path,
)

pytestmark = pytest.mark.e2e

SANDBOX_BANNER = "Sandbox: no real texts are sent."
JOB_TIMEOUT_MS = 20_000


@cache
def sample() -> tuple[dict[str, str], ...]:
    """The rows of the sample file the demo team was seeded from."""
    with SAMPLE_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def sample_matching(text: str) -> list[dict[str, str]]:
    """Sample rows the leads search finds for `text` (in the business or owner name)."""
    text = text.lower()
    return [
        row
        for row in sample()
        if text in row["Company Name"].lower() or text in row["Contact Name"].lower()
    ]


def sample_owners_with_mobile() -> int:
    """Sample rows with an owner and a mobile number (each row has its own owner)."""
    return sum(1 for row in sample() if row["Contact Name"].strip() and to_e164(row["Mobile"]))


def sample_lead_with_mobile() -> dict[str, str]:
    """A sample row with an owner and a mobile, whose business name finds only itself."""
    return next(
        row
        for row in sample()
        if row["Contact Name"].strip()
        and to_e164(row["Mobile"])
        and len(sample_matching(row["Company Name"])) == 1
    )


def main_nav(page):
    """The top navigation of a signed-in page."""
    return page.get_by_role("navigation", name="Main")


def tile_value(page, label: str):
    """The number on the dashboard tile labelled exactly `label`."""
    tiles = page.get_by_role("region", name="Headline numbers").locator(".tile")
    label_of = page.locator(".tile-label").get_by_text(label, exact=True)
    return tiles.filter(has=label_of).locator(".tile-value")


def lead_rows(page):
    """The rows of the leads list."""
    return page.locator("#lead-rows tbody tr")


def lead_count(page):
    """The leads list's "Showing a–b of n leads" line."""
    return page.locator("#lead-rows .count")


LEAD_COLUMNS = ("Code", "Business", "Owner", "Location")


def lead_column(page, number: int) -> list[str]:
    """The texts of one column of the leads list: 1 Code, 2 Business, 3 Owner, 4 Location."""
    headers = [h.strip().lower() for h in page.locator("#lead-rows thead th").all_inner_texts()]
    index = headers.index(LEAD_COLUMNS[number - 1].lower()) + 1
    return page.locator(f"#lead-rows tbody tr td:nth-child({index})").all_inner_texts()


def is_sign_in_post(response) -> bool:
    """Whether `response` answers a posted sign-in form."""
    return response.request.method == "POST" and "/login" in response.url


# Signing in and out


def test_login_page_shows_the_demo_sign_ins(page, shoot):
    page.goto("/login")

    demo = page.get_by_role("complementary", name="Demo sign-in")
    for role, email, _name in DEMO_USERS:
        expect(demo.get_by_role("row").filter(has_text=email)).to_contain_text(role.label)
    expect(demo).to_contain_text(f"password is {DEMO_PASSWORD}")
    expect(page.get_by_text(SANDBOX_BANNER)).to_be_visible()
    shoot("login")


def test_operator_lands_on_a_dashboard_counting_the_sample(page, shoot):
    total, with_mobile = len(sample()), sample_owners_with_mobile()
    assert total > 250 and 0 < with_mobile < total

    sign_in(page, Role.OPERATOR)

    expect(page).to_have_url(url_path("/$"))
    expect(page.get_by_text(SANDBOX_BANNER)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Oli Operator")
    expect(tile_value(page, "Leads")).to_have_text(f"{total:,}")
    # The demo's deals came from leads imported two months ago, before their campaigns.
    expect(tile_value(page, "New this week")).to_have_text(f"{total - len(DEMO_DEALS):,}")
    expect(tile_value(page, "Owners with a mobile")).to_have_text(f"{with_mobile:,}")
    by_status = page.locator("table.chart-table")
    # The demo inbox's owners answered an opener; the demo deals' owners are deals.
    untouched = total - len(DEMO_REPLIES) - len(DEMO_DEALS)
    expect(by_status.get_by_role("row", name=re.compile(r"^New \d"))).to_contain_text(
        f"{untouched:,} {untouched / total:.1%}"
    )
    expect(by_status.locator("tfoot")).to_contain_text(f"{total:,}")
    assert_fits_width(page)
    shoot("dashboard")


def test_wrong_password_is_refused_with_a_clear_message(page):
    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_EMAILS[Role.OPERATOR])
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response(is_sign_in_post) as answer:
        page.get_by_role("button", name="Sign in").click()

    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an active account."
    )
    expect(page.get_by_label("Email")).to_have_value(DEMO_EMAILS[Role.OPERATOR])
    expect(page.get_by_label("Password")).to_have_value("")
    expect(main_nav(page)).to_have_count(0)


def test_five_failed_sign_ins_bring_the_throttle_message(page, shoot):
    page.goto("/login")
    email = f"guesser-{uuid.uuid4().hex[:8]}@demo.example.com"
    statuses = []
    for attempt in range(6):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(f"guess-number-{attempt}")
        with page.expect_response(is_sign_in_post) as answer:
            page.get_by_role("button", name="Sign in").click()
        statuses.append(answer.value.status)
        expect(page.get_by_label("Password")).to_have_value("")  # the answer page is shown

    assert statuses == [401] * 5 + [429]
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many failed sign-ins\. Try again in \d+ seconds\.$")
    )
    shoot("login-throttled")


def test_keyboard_reaches_the_sign_in_fields_and_button(page):
    page.goto("/login")
    skip = page.get_by_role("link", name="Skip to content")
    email = page.get_by_label("Email")
    password = page.get_by_label("Password")
    submit = page.get_by_role("button", name="Sign in")

    expect(email).to_be_focused()  # autofocus
    page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.type(DEMO_EMAILS[Role.OPERATOR])
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    expect(submit).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def test_untouched_sign_in_fields_are_not_announced_as_invalid(page):
    page.goto("/login")

    for name in ("Email", "Password"):
        field = page.get_by_label(name)
        expect(field).not_to_have_attribute("aria-invalid", re.compile(".*"), timeout=1000)
        expect(field).not_to_have_attribute("aria-describedby", re.compile(".*"), timeout=1000)


def test_sign_out_sends_leads_back_to_the_login(page):
    sign_in(page, Role.OPERATOR)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(url_path("/login$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/leads/")
    expect(page).to_have_url(url_path(r"/login\?next=%2Fleads%2F$"))
    expect(page.get_by_text("Sign in to continue.")).to_be_visible()
    expect(main_nav(page)).to_have_count(0)


# Leads


def test_leads_search_narrows_the_rows_without_a_reload(page, shoot):
    found = len(sample_matching("roofing"))
    assert 0 < found < 50
    sign_in(page, Role.OPERATOR)
    main_nav(page).get_by_role("link", name="Leads").click()
    expect(lead_count(page)).to_have_text(f"Showing 1–50 of {len(sample()):,} leads")
    expect(lead_rows(page)).to_have_count(50)
    assert_fits_width(page)
    shoot("leads")
    mark_page(page)

    page.get_by_role("searchbox", name="Search").press_sequentially("roofing", delay=20)

    expect(lead_count(page)).to_have_text(f"Showing 1–{found} of {found} leads")
    expect(lead_rows(page)).to_have_count(found)
    assert all("roofing" in name.lower() for name in lead_column(page, 2))
    expect(page).to_have_url(url_path(r"/leads/\?q=roofing(&|$)"))
    expect(page.get_by_role("link", name=f"Export {found} as CSV")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    assert_not_reloaded(page)


def test_leads_pages_forward_in_place(page):
    sign_in(page, Role.OPERATOR)
    page.goto("/leads/")
    first_page_codes = set(lead_column(page, 1))
    mark_page(page)

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()

    expect(lead_count(page)).to_have_text(f"Showing 51–100 of {len(sample()):,} leads")
    expect(page).to_have_url(url_path(r"/leads/\?page=2$"))
    assert not set(lead_column(page, 1)) & first_page_codes
    assert_not_reloaded(page)


def test_leads_filter_by_state_and_export_what_is_shown(page, tmp_path):
    in_texas = sum(1 for row in sample() if row["State"].strip().upper() == "TX")
    sign_in(page, Role.OPERATOR)
    page.goto("/leads/")
    mark_page(page)

    page.get_by_label("State").select_option("TX")

    expect(lead_count(page)).to_have_text(f"Showing 1–{in_texas} of {in_texas} leads")
    expect(lead_rows(page)).to_have_count(in_texas)
    assert all(place.endswith(", TX") for place in lead_column(page, 4))
    expect(page).to_have_url(url_path(r"/leads/\?.*state=TX"))
    assert_not_reloaded(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Export {in_texas} as CSV").click()
    download = download_info.value
    assert re.fullmatch(r"leads-\d{8}-\d{4}\.csv", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[0] == "lead_code"
    assert tuple(header) == EXPORT_COLUMNS
    assert len(rows) == in_texas
    assert {row[header.index("state")] for row in rows} == {"TX"}
    assert {row[header.index("source_file")] for row in rows} == {SAMPLE_FILE.name}


def test_lead_page_shows_code_owner_and_business(page, shoot):
    row = sample_lead_with_mobile()
    sign_in(page, Role.OPERATOR)
    page.goto("/leads/")
    page.get_by_role("searchbox", name="Search").fill(row["Company Name"])
    expect(lead_rows(page)).to_have_count(1)
    listed_code = lead_column(page, 1)[0]
    assert re.fullmatch(rf"LEAD-{utcnow().year}-\d{{6}}", listed_code)

    page.get_by_role("link", name=listed_code).click()

    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(listed_code)
    expect(heading).to_contain_text(row["Company Name"])
    owner = page.locator("section.panel", has=page.get_by_role("heading", name="Owner"))
    expect(owner.locator("dl.facts")).to_contain_text(row["Contact Name"])
    expect(owner.get_by_role("table")).to_contain_text(display(to_e164(row["Mobile"])))
    business = page.locator("section.panel", has=page.get_by_role("heading", name="Business"))
    expect(business.locator("dl.facts")).to_contain_text(row["Company Name"])
    expect(business.locator("dl.facts")).to_contain_text(f"{row['City']}, {row['State']}")
    provenance = page.locator("section.panel", has=page.get_by_role("heading", name="Provenance"))
    expect(provenance).to_contain_text(SAMPLE_FILE.name)
    assert_fits_width(page)
    shoot("lead")


# Users and roles


def test_admin_invites_a_user_who_joins_and_gets_a_new_role(page, shoot, console_server):
    sign_in(page, Role.ADMIN)
    main_nav(page).get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    email = f"casey-{uuid.uuid4().hex[:8]}@demo.example.com"

    invite = page.locator("form", has=page.get_by_role("button", name="Invite user"))
    invite.get_by_label("Name").fill("Casey Closer")
    invite.get_by_label("Email").fill(email)
    invite.get_by_label("Role").select_option(label="Reviewer")
    invite.get_by_role("button", name="Invite user").click()

    expect(page.get_by_text(f"Invitation recorded for {email}")).to_be_visible()
    link = page.get_by_label("Invitation link").input_value()
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("Reviewer")

    newcomer = page.context.browser.new_context(base_url=console_server.url)
    try:
        joining = newcomer.new_page()
        joining.goto(urlsplit(link).path)
        expect(joining.get_by_label("Your name")).to_have_value("Casey Closer")
        joining.get_by_label("Password", exact=True).fill("caseys-own-password")
        joining.get_by_label("Repeat the password").fill("caseys-own-password")
        joining.get_by_role("button", name="Join the team").click()
        # A reviewer's work is the inbox; that is where they land.
        expect(joining.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    finally:
        newcomer.close()

    page.reload()
    member = page.get_by_role("row").filter(has=page.get_by_label(f"Role of {email}"))
    expect(member).to_contain_text("Casey Closer")
    expect(member.get_by_label(f"Role of {email}")).to_have_value(Role.REVIEWER.value)

    member.get_by_label(f"Role of {email}").select_option(label="Manager")
    member.get_by_role("button", name="Save").click()

    expect(page.get_by_text(f"{email} saved.")).to_be_visible()
    expect(page.get_by_label(f"Role of {email}")).to_have_value(Role.MANAGER.value)
    assert_fits_width(page)
    shoot("users")


def test_operator_gets_a_styled_forbidden_page_for_user_admin(page, shoot):
    sign_in(page, Role.OPERATOR)
    expect(main_nav(page).get_by_role("link", name="Settings")).to_have_count(0)

    response = page.goto("/settings/users")

    assert response.status == 403
    error = page.get_by_role("alert")
    expect(error.get_by_role("heading")).to_have_text("403 · Forbidden")
    expect(error).to_contain_text("Your role does not allow this.")
    # Styled: inside the console's own frame, in its panel look, not a bare error text.
    expect(main_nav(page)).to_be_visible()
    expect(page.get_by_text(SANDBOX_BANNER)).to_be_visible()
    expect(error).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(error).to_have_css("border-radius", "6px")
    shoot("forbidden")

    error.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


# Background jobs


def test_manager_watches_a_worker_check_run_to_done_without_reload(page, shoot):
    sign_in(page, Role.MANAGER)
    main_nav(page).get_by_role("link", name="Settings").click()

    page.get_by_role("button", name="Run a worker check").click()

    expect(page).to_have_url(url_path(r"/jobs/\d+$"))
    run_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Worker check #{run_id}")
    job = page.locator(f"#job-{run_id}")
    status = job.locator(".status")
    expect(status).to_have_text(re.compile(r"^(queued|running)$"))
    mark_page(page)

    expect(status).to_have_text("done", timeout=JOB_TIMEOUT_MS)

    progress = job.get_by_role("progressbar", name="Worker check")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(job).to_contain_text("5 of 5")
    expect(job).to_contain_text("ran 5 steps")
    expect(page.locator(f"#job-{run_id}[hx-get]")).to_have_count(0)  # it stopped polling
    assert_not_reloaded(page)
    assert_fits_width(page)
    shoot("job")

    page.get_by_role("link", name="Jobs", exact=True).click()
    listed = page.get_by_role("row").filter(has=page.locator(f'a[href$="/jobs/{run_id}"]'))
    expect(listed).to_contain_text(DEMO_EMAILS[Role.MANAGER])
    expect(listed).to_contain_text("Worker check")
    expect(listed).to_contain_text("done")
    assert_fits_width(page)
    shoot("jobs")
