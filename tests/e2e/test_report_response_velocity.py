"""Reports > Response time and Pipeline velocity in a browser, on the demo team of a
console of this module's own: a person answers three of the demo's replies (moved to
yesterday; answered 10 min, 40 min and 5 h after them), then a manager opens both
pages and reads the figures; the pages are saved as screenshots to look at."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from console.models import InboxItem, Message, Role, User
from tests.clock import TEST_NOW
from tests.e2e.conftest import DEMO_EMAILS, running_console, sign_in

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own (its demo replies are answered here)."""
    with running_console(tmp_path_factory.mktemp("response-instance"), test_clock=True) as server:
        yield server


@pytest.fixture(scope="module")
def answered(console_server) -> int:
    """Three of the demo's replies answered by the demo reviewer; how many."""
    engine = create_engine(f"sqlite:///{console_server.log.parent / 'console.db'}")
    with Session(engine) as session:
        reviewer = session.scalars(
            select(User).where(User.email == DEMO_EMAILS[Role.REVIEWER])
        ).one()
        items = session.scalars(
            select(InboxItem)
            .where(
                InboxItem.team_id == reviewer.team_id,
                InboxItem.resolution.not_in(("opted_out", "suppressed", "auto_sent")),
            )
            .order_by(InboxItem.id)
        ).all()[:3]
        for n, (item, minutes) in enumerate(zip(items, (10, 40, 300), strict=True)):
            item.created_at = TEST_NOW - timedelta(days=1, hours=n)
            when = item.created_at + timedelta(minutes=minutes)
            session.add(
                Message(
                    team_id=item.team_id,
                    kind="reply",
                    conversation_id=item.conversation_id,
                    to_e164=item.conversation.e164,
                    body="Happy to talk: when suits you?",
                    status="sent",
                    approved_by_id=reviewer.id,
                    approved_at=when,
                    sent_at=when,
                )
            )
        session.commit()
    engine.dispose()
    return 3


def test_a_manager_reads_response_times_and_velocity(page, answered):
    sign_in(page, Role.MANAGER)
    page.goto("/reports/response")
    expect(page.get_by_role("heading", name="Response time").first).to_be_visible()
    summary = page.locator("table").first
    expect(summary.locator("tbody td").nth(1)).to_have_text(str(answered))
    expect(page.get_by_text("Riley Reviewer").first).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "response-times.png", full_page=True)
    page.goto("/reports/velocity")
    expect(page.get_by_role("heading", name="Pipeline velocity").first).to_be_visible()
    expect(page.get_by_text("Weighted forecast by month of expected close")).to_be_visible()
    page.screenshot(path=SHOTS / "response-velocity.png", full_page=True)
