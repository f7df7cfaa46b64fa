"""Reports > Response time and Pipeline velocity in a browser, on the demo team: a
manager opens both, reads the histogram's buckets and the stage table, and the pages
are saved as screenshots to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from console.models import Role
from tests.e2e.conftest import sign_in

SHOTS = Path("/tmp/shots")


def test_a_manager_reads_response_times_and_velocity(page):
    sign_in(page, Role.MANAGER)
    page.goto("/reports/response")
    expect(page.get_by_role("heading", name="Response time").first).to_be_visible()
    expect(page.get_by_text("24 h+").first).to_be_visible()
    expect(page.get_by_text("Median first response").first).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "response-times.png", full_page=True)
    page.goto("/reports/velocity")
    expect(page.get_by_role("heading", name="Pipeline velocity").first).to_be_visible()
    expect(page.get_by_text("Weighted forecast by month of expected close")).to_be_visible()
    expect(page.get_by_text("Discovery").first).to_be_visible()
    page.screenshot(path=SHOTS / "response-velocity.png", full_page=True)
