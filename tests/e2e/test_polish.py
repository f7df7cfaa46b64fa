"""Confirmations, notices and demo polish in a real browser: the demo sign-in fills the
form, pages that poll leave the browser's console clean, "Approve all" asks with the
count (in a dialog, or on a page without script), "Convert to deal" asks the stage and
the value, a batch over the operator's size says it waits for a manager (and managers
see it), and "Simulate a reply" says where the reply went.

The module runs a console of its own (it approves, converts and changes the team's
limit for an operator's approval). Screenshots for a person to look at:
`/tmp/shots/defc-*.png`.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from console.models import Role
from console.services.campaigns import segments
from console.services.demo import DEMO_PASSWORD
from tests.e2e.conftest import (
    CLIENT_ADDRESSES,
    DEMO_EMAILS,
    VIEWPORT,
    expect,
    running_console,
    sign_in,
    url_path,
)
from tests.e2e.test_campaigns import choose_template_and_sender, demo_campaign, figure, main_nav

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the `browser` fixture skips, and says how to install it
    PlaywrightError = Exception

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
# The team's size over which a batch needs a manager: 1, so a batch of 2 waits.
MANAGER_LIMIT = 1


def shot(page, name: str) -> None:
    """A full-page screenshot at /tmp/shots/defc-<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"defc-{name}.png", full_page=True)


def console_errors(page) -> list[str]:
    """Every error the page writes to the browser's console from now on (a list that
    fills as they come)."""
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(f"{m.text} ({page.url})") if m.type == "error" else None
    )
    return errors


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own: its batches and deals stay here."""
    with running_console(tmp_path_factory.mktemp("polish-instance")) as server:
        yield server


@pytest.fixture(scope="module")
def limited(browser, console_server):
    """The demo team's batches need a manager over one text (saved by the admin)."""
    context = browser.new_context(
        viewport=VIEWPORT,
        base_url=console_server.url,
        extra_http_headers={"X-Forwarded-For": next(CLIENT_ADDRESSES)},
    )
    context.set_default_timeout(10_000)
    admin = context.new_page()
    sign_in(admin, Role.ADMIN)
    admin.goto("/settings/sending")
    rules = admin.locator("section#rules")
    rules.get_by_label("Batches need a manager over").fill(str(MANAGER_LIMIT))
    rules.get_by_role("button", name="Save sending rules").click()
    expect(admin.get_by_text("Sending rules saved.")).to_be_visible()
    context.close()
    return MANAGER_LIMIT


# ----------------------------------------------------------------------- the tests


def test_demo_sign_in_fills_the_form(page):
    errors = console_errors(page)
    page.goto("/login")
    demo = page.get_by_role("complementary", name="Demo sign-in")
    shot(page, "01-login")
    demo.get_by_role("button", name=re.compile(r"^Fill the form as Operator")).click()
    expect(page.get_by_label("Email")).to_have_value(DEMO_EMAILS[Role.OPERATOR])
    expect(page.get_by_label("Password")).to_have_value(DEMO_PASSWORD)
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    # The icon the browser asks for answers too (no 404 in the console).
    assert page.request.get("/favicon.ico").status == 200
    assert not errors, errors


def test_approve_all_asks_with_the_count(page, limited):
    sign_in(page, Role.MANAGER)
    demo_campaign(page, "E2E approve-all NE", "NE", 2)
    approve = page.get_by_role("button", name="Approve all 2")
    counters = page.locator("#batch-counters")

    # Said no to: nothing is approved.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    approve.click()
    expect(approve).to_be_visible()
    assert asked == ["Approve all 2 texts in this batch?"]
    expect(figure(counters, "Waiting for review")).to_have_text("2")

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    approve.click()
    expect(page.get_by_text("2 texts approved; they send as each recipient")).to_be_visible()
    assert asked[-1] == "Approve all 2 texts in this batch?"
    expect(figure(counters, "Waiting for review")).to_have_text("0")


def test_approve_all_asks_on_a_page_without_script(browser, console_server, limited):
    context = browser.new_context(
        viewport=VIEWPORT,
        base_url=console_server.url,
        java_script_enabled=False,
        extra_http_headers={"X-Forwarded-For": next(CLIENT_ADDRESSES)},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(DEMO_EMAILS[Role.MANAGER])
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
        page.goto("/campaigns")
        # A batch drafted by the script-running test above would do; draft one here.
        page.get_by_role("link", name="New campaign").click()
        page.get_by_label("Name", exact=True).fill("E2E no-script MN")
        page.get_by_label("States").fill("MN")
        page.get_by_label("Batch size").fill("2")
        choose_template_and_sender(page)
        page.get_by_role("button", name="Save campaign").click()
        page.get_by_role("button", name="Draft next batch (2)").click()
        for _ in range(15):  # the queue does not poll without script: reload
            if page.get_by_role("button", name="Approve all 2").count():
                break
            page.wait_for_timeout(1000)
            page.reload()
        page.get_by_role("button", name="Approve all 2").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Approve all 2 texts in this batch?"
        )
        shot(page, "02-approve-all-page")
        page.get_by_role("button", name="Approve all 2").click()
        expect(page.get_by_text("2 texts approved; they send as each recipient")).to_be_visible()
    finally:
        context.close()


def test_an_operators_big_batch_waits_for_a_manager_who_sees_it(
    page, browser, console_server, limited
):
    sign_in(page, Role.OPERATOR)
    demo_campaign(page, "E2E waits UT", "UT", 2)
    bar = page.locator("#approve-bar")
    expect(bar).to_contain_text("Waits for a manager.")
    expect(bar.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    batch_url = page.url
    shot(page, "03-operator-waits")

    manager = browser.new_context(
        viewport=VIEWPORT,
        base_url=console_server.url,
        extra_http_headers={"X-Forwarded-For": next(CLIENT_ADDRESSES)},
    )
    manager.set_default_timeout(10_000)
    boss = manager.new_page()
    try:
        sign_in(boss, Role.MANAGER)
        count = (
            main_nav(boss).get_by_role("link", name=re.compile(r"^Campaigns")).locator(".nav-count")
        )
        expect(count).to_have_text(re.compile(r"^\d+"))
        waiting = boss.get_by_role("region", name="Batches awaiting approval")
        expect(waiting).to_contain_text("await")
        link = waiting.get_by_role("link", name=re.compile(r"^E2E waits UT, batch #\d+"))
        expect(link).to_be_visible()
        shot(boss, "04-manager-dashboard")
        link.click()
        expect(boss).to_have_url(batch_url)
    finally:
        manager.close()


def test_convert_to_deal_asks_the_stage_and_the_value(page):
    sign_in(page, Role.OPERATOR)
    page.goto("/inbox")
    panel = page.locator("#inbox-detail .inbox-item")
    expect(panel).to_be_visible()
    lead_card = panel.get_by_role("complementary", name="Lead")
    expect(lead_card.get_by_role("link").first).to_be_visible()  # a lead, so a deal
    item_id = panel.get_attribute("data-item")

    page.locator("body").focus()
    page.keyboard.press("c")
    question = page.get_by_role("dialog", name="Convert to a deal")
    expect(question).to_be_visible()
    stage = question.get_by_label("Pipeline and stage")
    expect(stage.locator("option:checked")).to_have_text("Discovery")
    # The open stages of each pipeline (not won or lost), one group a pipeline.
    expect(stage.locator("optgroup[label='Deals'] option")).to_have_count(6)
    expect(stage.locator("optgroup")).to_have_count(2)  # the demo's Deals and Real estate
    stage.select_option(label="Valuation")
    question.get_by_label(re.compile(r"^Value")).fill("1,250,000")
    shot(page, "05-deal-dialog")

    # Cancel leaves everything as it was.
    question.get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    expect(panel).to_have_attribute("data-item", item_id)

    panel.get_by_role("button", name="Convert to deal…").click()
    expect(question).to_be_visible()
    stage.select_option(label="Valuation")
    question.get_by_label(re.compile(r"^Value")).fill("1,250,000")
    question.get_by_role("button", name="Convert to deal").click()
    expect(panel).not_to_have_attribute("data-item", item_id)
    page.goto(f"/inbox/{item_id}")
    deal = lead_card.locator("dl > div").filter(has=page.locator("dt", has_text="Deal"))
    expect(deal.locator("dd")).to_have_text(re.compile(r"\(Valuation\)$"))


def test_simulate_a_reply_says_where_it_went(page):
    sign_in(page, Role.OPERATOR)
    page.goto("/inbox")
    page.get_by_text("Simulate a reply (sandbox)").click()
    form = page.locator("details.simulate form")
    form.get_by_label("From").fill("+13125550100")
    form.get_by_label("Text").fill("Who is this?")
    form.get_by_role("button", name="Receive").click()
    said = page.locator("#simulate-result")
    expect(said).to_contain_text("Reply from (312) 555-0100 received; it is in the inbox.")
    expect(said.get_by_role("link", name="Open it")).to_have_attribute(
        "href", re.compile(r"^/inbox/\d+$")
    )
    shot(page, "06-simulated")


def test_pages_that_poll_leave_the_console_clean(page, limited):
    errors = console_errors(page)
    sign_in(page, Role.MANAGER)

    # The inbox: its list asks for changes every 3 s; the reply's count follows typing,
    # its answers slower than the keys (held here), each waiting for the one before.
    page.goto("/inbox")
    with page.expect_response(url_path(r"/inbox/changes\?")):
        pass
    held = []
    page.route("**/inbox/measure", lambda route: held.append(route))
    editor = page.locator("#inbox-detail textarea[name=body]")
    editor.fill("")
    editor.focus()
    for letter in "Happy to talk":
        page.keyboard.type(letter)
        page.wait_for_timeout(200)
    page.unroute("**/inbox/measure")
    for route in held:
        with contextlib.suppress(PlaywrightError):  # an aborted request has no route left
            route.continue_()
    expect(page.locator("#inbox-detail .measure")).to_contain_text(
        segments.measure("Happy to talk").summary
    )
    with page.expect_response(url_path(r"/inbox/changes\?")):
        pass
    main_nav(page).get_by_role("link", name="Leads").click()

    # A batch that sends: its counters poll every 2 s; leave while one is on its way.
    demo_campaign(page, "E2E polling WA", "WA", 2)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve all 2").click()
    with page.expect_response(url_path(r"/campaigns/batches/\d+/counters$")):
        pass
    page.route("**/counters", lambda route: None)  # the next poll never answers
    with page.expect_request(url_path(r"/campaigns/batches/\d+/counters$")):
        pass
    main_nav(page).get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.unroute("**/counters")
    assert not errors, errors


def test_settings_show_the_webhook_address_the_console_runs_at(page, console_server):
    sign_in(page, Role.ADMIN)
    page.goto("/settings/")
    facts = page.locator("dl.facts dd").filter(has_text="webhooks")
    expect(facts.locator("code").first).to_have_text(console_server.url)
    expect(facts).to_contain_text(f"{console_server.url}/webhooks/twilio/sms")
    expect(facts).not_to_contain_text(":5000")
    shot(page, "07-settings-webhook")
