"""The main pages in a real browser under the Content-Security-Policy: nothing refused,
nothing logged as an error, and the moved inline handlers still work."""

from __future__ import annotations

import pytest

from console.models import Role
from tests.e2e.conftest import expect, sign_in, url_path

pytestmark = pytest.mark.e2e

TEMPLATE = "General opener: one quick question"
SANDBOX_SENDER = "Sandbox number (+15125550100)"
DRAFT_TIMEOUT_MS = 20_000


def collect_console_errors(page) -> list[str]:
    """Every console error (policy refusals among them) and failed request from now on."""
    errors: list[str] = []

    def note(message) -> None:
        where = message.location.get("url", "")
        # The console has no favicon; the browser's own request for one is no page's error.
        if message.type == "error" and not where.endswith("/favicon.ico"):
            errors.append(f"{message.text} ({where})")

    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


def visit(page, path: str) -> None:
    """Open `path`, served under the policy, and let its htmx requests settle."""
    response = page.goto(path)
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
    page.wait_for_load_state("networkidle")


def draft_a_batch(page) -> None:
    """A two-text campaign of the demo team's Washington leads, its batch drafted."""
    visit(page, "/campaigns/new")
    page.get_by_label("Name", exact=True).fill("E2E policy WA")
    page.get_by_label("States").fill("WA")
    page.get_by_label("Batch size").fill("2")
    page.get_by_label("Opening template").select_option(label=f"{TEMPLATE} (GIANNA)")
    page.get_by_label("Send from").select_option(label=SANDBOX_SENDER)
    page.get_by_role("button", name="Save campaign").click()
    expect(page).to_have_url(url_path(r"/campaigns/\d+$"))
    page.get_by_role("button", name="Draft next batch (2)").click()
    expect(page).to_have_url(url_path(r"/campaigns/batches/\d+$"))
    expect(page.locator("#queue tr.message-row")).to_have_count(2, timeout=DRAFT_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")


def test_main_pages_break_no_rule_of_the_policy(page):
    errors = collect_console_errors(page)
    sign_in(page, Role.ADMIN)
    for path in ("/", "/tasks", "/leads/", "/imports/", "/campaigns/", "/inbox", "/settings/"):
        visit(page, path)
        expect(page.locator("main")).to_be_visible()
    visit(page, "/leads/")
    page.locator("a.code").first.click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    page.wait_for_load_state("networkidle")
    draft_a_batch(page)
    assert not errors, errors


def test_the_reply_buttons_work_without_inline_handlers(page):
    errors = collect_console_errors(page)
    sign_in(page, Role.REVIEWER)
    visit(page, "/inbox")
    reply = page.locator("form.reply textarea[name=body]")
    expect(reply).not_to_have_value("")
    page.get_by_role("button", name="Write my own").click()
    expect(reply).to_have_value("")
    expect(reply).to_be_focused()
    reply.fill("Happy to talk. Reply STOP to opt out")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(reply).to_be_focused()
    selected = page.evaluate(
        "() => { const t = document.activeElement; return t.selectionEnd - t.selectionStart; }"
    )
    assert selected == len("Happy to talk. Reply STOP to opt out")
    assert not errors, errors
