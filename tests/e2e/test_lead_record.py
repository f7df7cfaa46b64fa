"""The lead page in a real browser: an operator edits the owner's title and writes a
note, and both show at the top of the lead's timeline.

Screenshots for a person to look at: `tests/e2e/screenshots/lead-record*.png`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.models import Role
from tests.e2e.conftest import assert_fits_width, expect, sign_in, url_path

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")


def open_a_lead(page) -> str:
    """Open the first lead of the list; its code."""
    page.goto("/leads/")
    link = page.locator("#lead-rows tbody a[href*='/leads/']").first
    code = link.inner_text().strip()
    link.click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    return code


def test_edit_the_owners_title_and_write_a_note_both_in_the_timeline(page, shoot):
    sign_in(page, Role.OPERATOR)
    open_a_lead(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "record-lead-page.png", full_page=True)
    if page.get_by_text("Edit the owner").count():
        page.get_by_text("Edit the owner").click()
        page.get_by_label("Title", exact=True).fill("Founder & CEO")
        page.get_by_role("button", name="Save the owner").click()
        expect(page.locator(".flash-success")).to_contain_text("owner's title")
        first = page.locator("ol.timeline.events li").first
        expect(first).to_contain_text("Edited owner's title:")
        expect(first).to_contain_text("→ Founder & CEO")
        expect(first).to_contain_text("by ")
    page.get_by_role("region", name="Timeline").get_by_label("Note", exact=True).fill(
        "Owner prefers <mornings>; call before 10"
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".flash-success")).to_contain_text("Note added")
    first = page.locator("ol.timeline.events li").first
    expect(first).to_contain_text("Note: Owner prefers <mornings>; call before 10")
    assert_fits_width(page)
    page.locator("label.check", has_text="Notes").locator("input").check()
    expect(page.locator("ol.timeline.events li")).to_have_count(1)
    expect(page.locator("ol.timeline.events li").first).to_contain_text("Note:")
    shoot("lead-record")
    page.screenshot(path=SHOTS / "record-after-note.png", full_page=True)
