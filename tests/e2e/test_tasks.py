"""Callbacks in a real browser: an owner in Chicago asks to be called "tomorrow after 3";
a reviewer who reads New York time finds the form filled in on the owner's clock with
their own time beside it, books it, and finds it on Today; when it comes due, the count
in the navigation shows it without a reload, and Done clears it.

The module runs a console of its own on the test clock (`tests.clock`: Wednesday 3 pm
in Chicago). The lead and the viewer's zone are written straight to the console's
database (the settings page for a person's zone is another slice's); the reply comes
through the inbox's sandbox "Simulate a reply" form and is read by the embedded worker.
Screenshots for a person to look at: /tmp/shots/tasks-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from console.models import Business, Lead, Owner, Phone, Role, Task, User
from console.services.lists.leads import allocate_codes
from tests import clock
from tests.e2e.conftest import (
    DEMO_EMAILS,
    assert_not_reloaded,
    expect,
    mark_page,
    running_console,
    sign_in,
)
from tests.e2e.test_campaigns import sample_numbers
from tests.e2e.test_inbox import detail, fact, open_inbox, open_item, read_row, receive

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
OWNER_NUMBER = "+13125550142"
OWNER_NAME = "Rosa Kowalczyk"
# The count in the navigation polls every 15 s.
POLL_TIMEOUT_MS = 25_000


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, on the test clock."""
    with running_console(tmp_path_factory.mktemp("tasks-instance"), test_clock=True) as server:
        yield server


@pytest.fixture(scope="module")
def database(console_server):
    """A session on the console's own SQLite database."""
    engine = create_engine(f"sqlite:///{console_server.log.parent / 'console.db'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def chicago_lead(database) -> Lead:
    """An Illinois business whose owner's mobile is a Chicago (312) number; the demo
    operator reads New York time."""
    assert OWNER_NUMBER not in sample_numbers()
    operator = database.scalars(select(User).where(User.email == DEMO_EMAILS[Role.OPERATOR])).one()
    operator.time_zone = "America/New_York"
    team_id = operator.team_id
    owner = Owner(team_id=team_id, full_name=OWNER_NAME, first_name="Rosa", last_name="Kowalczyk")
    owner.phones.append(Phone(team_id=team_id, e164=OWNER_NUMBER, kind="mobile"))
    business = Business(
        team_id=team_id, name="Loop Fittings LLC", city="Chicago", state="IL", zip="60601"
    )
    (code,) = allocate_codes(database, team_id, 1)
    lead = Lead(
        team_id=team_id,
        code=code,
        business=business,
        owner=owner,
        provenance={"source": "e2e"},
        created_at=clock.now(),
    )
    database.add(lead)
    database.commit()
    return lead


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"tasks-{name}.png", full_page=True)


def test_owner_time_callback_is_prefilled_booked_listed_and_counted(page, database, chicago_lead):
    sign_in(page, Role.OPERATOR)
    receive(page, OWNER_NUMBER, "call me tomorrow after 3")
    open_inbox(page)
    open_item(page, read_row(page, OWNER_NAME, "Callback request", live=False))
    panel = detail(page)
    item_id = panel.get_attribute("data-item")

    # Prefilled on the owner's clock: tomorrow (Thursday 15 January), 3 pm in Chicago;
    # the viewer's own time beside it.
    form = panel.locator("form.callback")
    expect(form.get_by_label("Callback on")).to_have_value("2026-01-15")
    expect(form.get_by_label("Callback at")).to_have_value("15:00")
    expect(form).to_contain_text("the owner's time, Chicago")
    equivalent = form.locator("output.equivalent")
    expect(equivalent).to_have_text("= 4:00 pm EST for you")
    shot(page, "1-inbox-prefilled")

    # The viewer's time follows the inputs as they change.
    form.get_by_label("Callback at").fill("15:30")
    expect(equivalent).to_have_text("= 4:30 pm EST for you")
    form.get_by_label("Callback at").fill("15:00")
    expect(equivalent).to_have_text("= 4:00 pm EST for you")
    form.get_by_role("button", name="Schedule").click()
    # The item is done: the page moves on to the next reply; open this one again.
    expect(panel).not_to_have_attribute("data-item", item_id)
    page.goto(f"/inbox/{item_id}")
    expect(fact(panel, "State")).to_contain_text("done")
    lead_card = panel.get_by_role("complementary", name="Lead")
    expect(fact(lead_card, "Callback")).to_have_text(
        "Thu Jan 15, 3:00 pm CST for the owner, Chicago = 4:00 pm EST for you · tomorrow after 3"
    )
    shot(page, "2-inbox-booked")

    # On Today: upcoming, at 4:00 pm EST for the viewer and 3:00 pm for the owner.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    row = page.locator("#agenda tr.task").filter(has_text="Call the owner back")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Upcoming")
    expect(row.locator(".due-text")).to_have_text("Jan 15, 2026, 4:00 pm EST")
    expect(row.locator(".owner-time")).to_have_text("3:00 pm for the owner, Chicago")
    expect(row).to_contain_text(OWNER_NAME)
    badge = page.locator("#due-count")
    expect(badge).to_have_text("")
    shot(page, "3-agenda-upcoming")

    # The time comes: the navigation's count shows it at its next poll, no reload.
    mark_page(page)
    due = clock.now() - timedelta(minutes=1)
    database.execute(
        update(Task).where(Task.lead_id == chicago_lead.id).values(due_at=due.replace(tzinfo=None))
    )
    database.commit()
    expect(badge).to_have_text("1 due now", timeout=POLL_TIMEOUT_MS)
    assert_not_reloaded(page)
    shot(page, "4-nav-count")

    # Done from the list: the agenda and the count refresh themselves.
    page.reload()
    row = page.locator("#agenda tr.task").filter(has_text="Call the owner back")
    expect(row).to_contain_text("Overdue")
    mark_page(page)
    row.get_by_role("button", name="Done").click()
    expect(page.locator("#agenda tr.task").filter(has_text="Call the owner back")).to_have_count(0)
    expect(badge).to_have_text("")
    assert_not_reloaded(page)
    page.get_by_label("State").select_option("done")
    expect(page.locator("#agenda tr.task").filter(has_text="Call the owner back")).to_have_count(1)
    shot(page, "5-agenda-done")

    # The lead page: its tasks panel, the callback form on the owner's clock.
    page.goto(f"/leads/{chicago_lead.id}")
    tasks_panel = page.locator("#lead-tasks")
    expect(tasks_panel).to_contain_text("Call the owner back")
    expect(tasks_panel).to_contain_text("the owner's time, Chicago")
    tasks_panel.get_by_label("Task", exact=True).fill("Send the valuation")
    tasks_panel.get_by_label("Due", exact=True).fill("2026-01-14")
    tasks_panel.get_by_label("Due at").fill("18:00")
    tasks_panel.get_by_role("button", name="Add task").click()
    expect(tasks_panel.locator("li.task").filter(has_text="Send the valuation")).to_contain_text(
        "Jan 14, 2026, 6:00 pm EST"
    )
    shot(page, "6-lead-panel")

    # Edited on the clock it was booked on (the operator's), back to the lead.
    valuation = tasks_panel.locator("li.task").filter(has_text="Send the valuation")
    valuation.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit task")).to_be_visible()
    expect(page.get_by_label("Due at")).to_have_value("18:00")
    expect(page.get_by_text("On the clock it was booked in (America/New_York).")).to_be_visible()
    shot(page, "8-edit")
    page.get_by_label("Title").fill("Send the valuation and comps")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#lead-tasks")).to_contain_text("Send the valuation and comps")

    # Due this evening: on the dashboard's "Due today".
    page.goto("/")
    expect(page.locator("#due-today")).to_contain_text("Send the valuation")
    expect(page.locator("#due-today")).to_contain_text("Jan 14, 2026, 6:00 pm EST")
    shot(page, "7-dashboard")
