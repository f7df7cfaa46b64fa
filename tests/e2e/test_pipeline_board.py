"""The pipeline board in a real browser: a manager drags a card to the next stage, moves
one by keyboard, drops one into LOI and fills the dialog asking for its value, loses one
with a reason, finds the stale deal by its badge and the "Stale only" filter, and
downloads the filtered deals as CSV.

The module runs a console of its own on the test clock (`tests.clock`). Its demo team
gets about 20 deals over the stages, written straight to the console's database (the
demo deals are another slice's). Screenshots for a person to look at:
/tmp/shots/board-*.png.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from console.models import Deal, DealStageHistory, Lead, Note, PipelineStage, Role, Task, User
from console.services.deals import pipelines
from tests import clock
from tests.e2e.conftest import (
    DEMO_EMAILS,
    assert_not_reloaded,
    expect,
    mark_page,
    running_console,
    sign_in,
)

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots")
# (title, stage, days in it, value, assigned to the operator?)
DEALS = (
    ("Drag Me Plumbing", "Discovery", 2, 350_000, False),
    ("Key Move Dental", "Discovery", 3, 420_000, False),
    ("Needs Value HVAC", "Valuation", 6, None, False),
    ("Lose Me Bakery", "Qualified", 4, 180_000, False),
    ("Gone Quiet Landscaping", "Qualified", 30, 260_000, True),
    ("Lakeside Auto Body", "Discovery", 1, 900_000, True),
    ("Prairie Vet Clinic", "Discovery", 8, 1_200_000, False),
    ("Union Street Deli", "Qualified", 5, 240_000, True),
    ("Northside Printing", "Qualified", 12, 610_000, False),
    ("Cedar Roofing", "Valuation", 9, 1_750_000, False),
    ("Harbor Marine Supply", "Valuation", 25, 2_400_000, True),
    ("Maple Dry Cleaners", "LOI", 7, 520_000, False),
    ("Summit Physical Therapy", "LOI", 11, 1_450_000, False),
    ("Westgate Signs", "Due diligence", 14, 780_000, True),
    ("Riverbend Pharmacy", "Due diligence", 35, 3_100_000, False),
    ("Oak Park Daycare", "Closing", 4, 1_050_000, False),
    ("Metro Locksmiths", "Closing", 2, 330_000, True),
    ("Birch Pool Service", "Won", 10, 690_000, False),
    ("Keystone Machining", "Lost", 20, 1_900_000, False),
    ("Elm Street Florist", "Discovery", 16, 150_000, False),
)
STALE = "Gone Quiet Landscaping"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own, on the test clock."""
    with running_console(tmp_path_factory.mktemp("board-instance"), test_clock=True) as server:
        yield server


@pytest.fixture(scope="module")
def database(console_server):
    """A session on the console's own SQLite database."""
    engine = create_engine(f"sqlite:///{console_server.log.parent / 'console.db'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="module")
def deals(database) -> dict[str, Deal]:
    """About 20 deals of the demo team over the stages, one stale, one with an overdue
    next step; by title."""
    manager = database.scalars(select(User).where(User.email == DEMO_EMAILS[Role.MANAGER])).one()
    operator = database.scalars(select(User).where(User.email == DEMO_EMAILS[Role.OPERATOR])).one()
    team_id = manager.team_id
    _clear_demo_deals(database, team_id)
    pipeline = pipelines.ensure_pipelines(database, team_id)[0]
    stages = {stage.name: stage for stage in pipelines.stages_of(database, pipeline.id)}
    taken = select(Deal.lead_id).where(Deal.lead_id.is_not(None))
    leads = database.scalars(
        select(Lead)
        .where(Lead.team_id == team_id, Lead.owner_id.is_not(None), Lead.id.not_in(taken))
        .order_by(Lead.id)
        .limit(len(DEALS))
    ).all()
    reasons = pipelines.lost_reasons(database, team_id)
    made = {}
    for lead, (title, stage_name, days, value, mine) in zip(leads, DEALS, strict=True):
        stage = stages[stage_name]
        at = clock.TEST_NOW - timedelta(days=days, hours=3)
        deal = Deal(
            team_id=team_id,
            title=title,
            lead_id=lead.id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            value=Decimal(value) if value else None,
            assignee_id=operator.id if mine else manager.id,
            stage_at=at,
            created_at=at,
            # Worked yesterday, except the stale one: the console's daily sweep (which
            # may run after this) marks only it.
            last_touch_at=at if title == STALE else max(at, clock.TEST_NOW - timedelta(days=1)),
            stale_at=clock.TEST_NOW - timedelta(hours=5) if title == STALE else None,
            closed_on=at.date() if not stage.is_open else None,
            lost_reason_id=reasons[1].id if stage.outcome == "lost" else None,
        )
        lead.business.name = title
        database.add(deal)
        database.flush()
        database.add(
            DealStageHistory(
                team_id=team_id, deal_id=deal.id, to_stage_id=stage.id, to_stage=stage.name, at=at
            )
        )
        made[title] = deal
    database.add(
        Task(
            team_id=team_id,
            title="Send the NDA",
            deal_id=made["Harbor Marine Supply"].id,
            due_at=clock.TEST_NOW - timedelta(hours=20),
            assignee_id=operator.id,
        )
    )
    database.add(
        Task(
            team_id=team_id,
            title="Call about the lease",
            lead_id=made["Cedar Roofing"].lead_id,
            due_at=clock.TEST_NOW + timedelta(days=1),
            assignee_id=manager.id,
        )
    )
    database.commit()
    return made


def _clear_demo_deals(database, team_id: int) -> None:
    """The demo's own deals, their tasks, notes and history, and its second pipeline
    go: this module's deals are the board's whole content, in one pipeline."""
    deal_ids = select(Deal.id).where(Deal.team_id == team_id)
    for model in (Task, Note, DealStageHistory):
        database.execute(delete(model).where(model.deal_id.in_(deal_ids)))
    demo_leads = select(Deal.lead_id).where(Deal.team_id == team_id)
    database.execute(delete(Task).where(Task.lead_id.in_(demo_leads)))
    database.execute(delete(Deal).where(Deal.team_id == team_id))
    first, *others = pipelines.pipelines_of(database, team_id)
    for pipeline in others:
        database.execute(delete(PipelineStage).where(PipelineStage.pipeline_id == pipeline.id))
        database.delete(pipeline)
    database.flush()


def column(page, stage: str):
    return page.locator(f".board-column[data-stage-name='{stage}']")


def card(page, title: str):
    return page.locator(".card", has=page.get_by_role("link", name=title, exact=True))


def open_board(page, deals, query: str = ""):
    sign_in(page, Role.MANAGER)
    page.get_by_role("link", name="Pipeline", exact=True).click()
    if query:
        page.goto("/pipeline?" + query)
    expect(page.get_by_role("heading", name="Pipeline", exact=True)).to_be_visible()


def test_the_board_shows_columns_with_totals_and_cards(page, deals):
    open_board(page, deals)
    expect(page.locator(".board-column")).to_have_count(8)
    discovery = column(page, "Discovery")
    expect(discovery.locator(".column-count")).to_have_text("5")
    expect(discovery.locator(".column-total")).to_have_text("$3,020,000")
    expect(discovery.locator(".column-weighted")).to_have_text("$302,000")
    harbor = card(page, "Harbor Marine Supply")
    expect(harbor.locator(".badge", has_text="Overdue")).to_be_visible()
    expect(harbor.locator(".days.late")).to_have_text("25 d in stage")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "board-board.png", full_page=True)


def drag(page, title: str, stage: str) -> None:
    """Drag a card onto a column, on a window tall enough that neither scrolls meanwhile
    (Chromium starts the drag from the element under the pointer after a scroll)."""
    page.set_viewport_size({"width": 1366, "height": 1600})
    card(page, title).drag_to(column(page, stage))


def test_drag_a_card_to_the_next_stage(page, deals):
    open_board(page, deals)
    mark_page(page)
    drag(page, "Drag Me Plumbing", "Qualified")
    expect(column(page, "Qualified").locator(".card", has_text="Drag Me Plumbing")).to_be_visible()
    expect(column(page, "Discovery").locator(".card", has_text="Drag Me Plumbing")).to_have_count(0)
    expect(page.locator("#board-status")).to_have_text(
        "Moved Drag Me Plumbing from Discovery to Qualified."
    )
    expect(column(page, "Discovery").locator(".column-count")).to_have_text("4")
    expect(column(page, "Qualified").locator(".column-count")).to_have_text("5")
    assert_not_reloaded(page)
    page.reload()
    expect(column(page, "Qualified").locator(".card", has_text="Drag Me Plumbing")).to_be_visible()


def test_move_a_card_by_keyboard(page, deals):
    open_board(page, deals)
    mark_page(page)
    moving = card(page, "Key Move Dental")
    moving.focus()
    page.keyboard.press("Alt+ArrowRight")
    moved = column(page, "Qualified").locator(".card", has_text="Key Move Dental")
    expect(moved).to_be_visible()
    expect(moved).to_be_focused()
    expect(page.locator("#board-status")).to_have_text(
        "Moved Key Move Dental from Discovery to Qualified."
    )
    page.keyboard.press("Alt+ArrowLeft")
    expect(column(page, "Discovery").locator(".card", has_text="Key Move Dental")).to_be_visible()
    assert_not_reloaded(page)


def test_drop_into_loi_asks_for_the_value(page, deals):
    open_board(page, deals)
    mark_page(page)
    drag(page, "Needs Value HVAC", "LOI")
    dialog = page.get_by_role("dialog", name="Move Needs Value HVAC to LOI")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("LOI needs the deal's value.")
    page.screenshot(path=SHOTS / "board-dialog.png")
    dialog.get_by_label("Value (dollars)").fill("1,100,000")
    dialog.get_by_role("button", name="Move to LOI").click()
    expect(dialog).to_be_hidden()
    moved = column(page, "LOI").locator(".card", has_text="Needs Value HVAC")
    expect(moved.locator(".card-value")).to_have_text("$1,100,000")
    expect(column(page, "LOI").locator(".column-total")).to_have_text("$3,070,000")
    assert_not_reloaded(page)


def test_lost_with_a_reason(page, deals):
    open_board(page, deals)
    lost = card(page, "Lose Me Bakery")
    lost.get_by_label("Stage of Lose Me Bakery").select_option(label="Lost")
    lost.get_by_role("button", name="Move").click()
    dialog = page.get_by_role("dialog", name="Move Lose Me Bakery to Lost")
    expect(dialog.get_by_label("Close date")).to_have_value("2026-01-14")
    dialog.get_by_label("Lost reason").select_option(label="Price gap")
    dialog.get_by_label("Note").fill("Wants 2x what it is worth")
    dialog.get_by_role("button", name="Move to Lost").click()
    moved = column(page, "Lost").locator(".card", has_text="Lose Me Bakery")
    expect(moved.locator(".badge", has_text="Price gap")).to_be_visible()


def test_the_stale_deal_shows_its_badge_and_the_filter_finds_it(page, deals):
    open_board(page, deals)
    stale = card(page, STALE)
    expect(stale.locator(".badge", has_text="Stale")).to_be_visible()
    page.get_by_label("Stale only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"stale=1"))
    expect(page.locator(".card")).to_have_count(1)
    expect(card(page, STALE)).to_be_visible()


def test_filter_and_download_the_csv(page, deals):
    open_board(page, deals)
    page.get_by_label("Search").fill("Harbor Marine")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".card")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [row["title"] for row in rows] == ["Harbor Marine Supply"]
    assert rows[0]["stage"] == "Valuation" and rows[0]["value"] == "2400000.00"
    assert rows[0]["weighted_value"] == "840000.00"
    page.get_by_role("link", name="List view").click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()
    expect(page.locator("table.deals-list tbody tr")).to_have_count(1)


def test_the_list_view_sorts(page, deals):
    open_board(page, deals)
    page.get_by_role("link", name="List view").click()
    page.get_by_role("link", name="Value", exact=True).click()
    page.get_by_role("link", name="Value ▲").click()
    first = page.locator("table.deals-list tbody tr").first
    expect(first).to_contain_text("Riverbend Pharmacy")
    page.screenshot(path=SHOTS / "board-list.png", full_page=True)
