"""The Operations report in a real browser: a manager reads the alerts of the demo team,
each with its state, and follows one to the rows behind it. Screenshot for a person to
look at: `/tmp/shots/ops-e2e-*.png`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.models import Role
from tests.e2e.conftest import expect, sign_in, url_path

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
ALERTS = (
    "Webhook failures",
    "Classification failures",
    "Send failures",
    "Queue backlog",
    "Human response over 4 h",
)


def test_a_manager_reads_the_alerts_and_opens_the_owners_waiting(page):
    sign_in(page, Role.MANAGER)
    page.goto("/reports/operations")
    expect(page.get_by_role("heading", name="Operations", exact=True)).to_be_visible()
    rows = page.locator("#table-status tbody tr")
    expect(rows).to_have_count(len(ALERTS))
    for n, name in enumerate(ALERTS):
        row = rows.nth(n)
        expect(row.locator("td").first).to_have_text(name)
        expect(row.locator(".badge")).to_have_text(re.compile(r"^(Green|Amber|Red)$"))
    expect(rows.nth(3)).to_contain_text(re.compile(r"\d+ texts due, not sent"))
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "ops-e2e-operations.png", full_page=True)

    rows.nth(4).get_by_role("link").click()
    expect(page).to_have_url(url_path(r"/inbox\?waiting=4$"))
    expect(page.get_by_label("Waiting over 4 h")).to_be_checked()
