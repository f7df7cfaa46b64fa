"""Held work in a real browser, on a console whose clock stands at 3 am in New York
(`tests.clock.NIGHT`): a batch approved at night says when its first texts go and when
all are expected sent; a reply sent from the inbox says when it goes, for the viewer
and the owner; the sandbox's "treat recipients' hours as open" setting and its banner.
Screenshots for a person to look at: `/tmp/shots/held-*.png`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.models import Role
from tests import clock
from tests.e2e.conftest import expect, running_console, sign_in, url_path

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
JOB_TIMEOUT_MS = 30_000
TEMPLATE = "General opener: one quick question"
SANDBOX_SENDER = "Sandbox number (+15125550100)"


def snap(page, name: str, **only) -> None:
    """A full-page screenshot at `/tmp/shots/held-<name>.png` (`clip` for a part)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"held-{name}.png", full_page=True, **only)


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, at 3 am in New York on a Wednesday."""
    instance = tmp_path_factory.mktemp("held-instance")
    with running_console(instance, test_clock=True, at=clock.NIGHT) as server:
        yield server


def test_a_batch_approved_at_night_says_when_it_goes(page):
    sign_in(page, Role.ADMIN)
    page.goto("/campaigns/new")
    page.wait_for_load_state("load")
    page.get_by_label("Name", exact=True).fill("Ohio owners")
    page.get_by_label("States").fill("OH")
    page.get_by_label("Opening template").select_option(label=f"{TEMPLATE} (GIANNA)")
    page.get_by_label("Send from").select_option(label=SANDBOX_SENDER)
    page.get_by_role("button", name="Save campaign").click()
    expect(page).to_have_url(url_path(r"/campaigns/\d+$"))
    page.get_by_role("button", name=re.compile(r"^Draft next batch")).click()
    approve = page.get_by_role("button", name=re.compile(r"^Approve all \d+"))
    expect(approve).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    page.once("dialog", lambda dialog: dialog.accept())  # "Approve all N texts?"
    approve.click()

    eta = page.locator("#batch-counters .eta")
    expect(eta).to_have_text(
        re.compile(r"^First texts go at \d+:\d\d am E[SD]T; all \d+ expected sent by .+\.$"),
        timeout=JOB_TIMEOUT_MS,
    )
    expect(page.locator("#batch-counters .eta")).to_have_count(1)
    page.wait_for_timeout(2500)  # one more poll of the counters: still one line
    expect(page.locator("#batch-counters .eta")).to_have_count(1)
    snap(page, "batch-eta")


def test_a_reply_sent_at_night_says_when_it_goes(page):
    sign_in(page, Role.ADMIN)
    page.goto("/inbox")
    first = page.locator("#inbox-list .inbox-row").first
    href = first.locator(".row-link").get_attribute("href")
    page.goto(href)
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state("networkidle")

    page.goto(href)
    queued = page.locator(".turn.queued time")
    expect(queued).to_have_text(
        re.compile(r"^Goes (tomorrow |on \w+ )?at \d+:\d\d am E[SD]T .*· held: "),
        timeout=JOB_TIMEOUT_MS,
    )
    snap(page, "inbox-held-reply")


def test_the_sandbox_hours_setting_and_its_banner(page):
    sign_in(page, Role.ADMIN)
    page.goto("/settings/sending")
    panel = page.locator("section#sandbox-hours")
    expect(panel).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    panel.screenshot(path=SHOTS / "held-settings-sandbox-hours.png")
    banner = page.locator(".sandbox-banner")
    expect(banner).not_to_contain_text("Recipients' hours are treated as open.")

    panel.get_by_label("Sandbox: treat recipients' hours as open").check()
    panel.get_by_role("button", name="Save sandbox hours").click()

    expect(banner).to_contain_text("Recipients' hours are treated as open.")
    expect(panel.get_by_label("Sandbox: treat recipients' hours as open")).to_be_checked()
    snap(page, "sandbox-banner-open", clip={"x": 0, "y": 0, "width": 1366, "height": 140})
    panel.screenshot(path=SHOTS / "held-settings-sandbox-hours-on.png")
