"""Reports > Pipeline velocity: a known world of deals and their moves, every figure
checked (entries by week, conversion, days in stage, forecast, won and lost), the CSV
export and the `report velocity` command, who may see it, and another team's deals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from console.extensions import db
from console.models import Campaign, DealStageHistory, LostReason, Role
from console.models.base import set_clock_offset
from console.services.reports import pages
from console.services.reports.scope import ReportScope
from tests import clock
from tests.clock import TEST_NOW
from tests.conftest import login
from tests.deal_helpers import make_deal, stage_named

ZONE = "America/Chicago"
SCOPE_ARGS = {"since": "2026-01-01", "until": "2026-01-14"}
STAGES = ["Discovery", "Qualified", "Valuation", "LOI", "Due diligence", "Closing", "Won", "Lost"]


def at(day: int, hour: int = 15, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def moved(deal, stage: str, when: datetime, **fields) -> None:
    """The deal moves to `stage` at `when`, with its history row."""
    placed = stage_named(deal.team_id, stage)
    db.session.add(
        DealStageHistory(
            team_id=deal.team_id,
            deal_id=deal.id,
            from_stage_id=deal.stage_id,
            to_stage_id=placed.id,
            to_stage=placed.name,
            at=when,
        )
    )
    deal.stage_id, deal.stage_at = placed.id, when
    for name, value in fields.items():
        setattr(deal, name, value)
    db.session.flush()


def reason(team_id: int, name: str) -> int:
    return db.session.query(LostReason).filter_by(team_id=team_id, name=name).one().id


@pytest.fixture
def world(crew, outsider):
    """Harbor's deals around 1-14 January 2026 (Chicago):

    D1 Discovery 2nd, Qualified 6th, Valuation 13th 09:00 UTC; open, $100,000, closing March.
    D2 Discovery 5th, Lost 8th (Price gap), $50,000, no campaign.
    D3 Discovery 20 Dec, Qualified 7th, Won 12th, $200,000, from Spring.
    D4 Discovery 12th, open, no value, no expected close, from Spring.
    D5 Discovery 9th, Lost 13th (Not selling), $30,000, from Fall.
    D6 Closing since 1 Dec, $80,000, closing 2 March; D7 LOI since 15 Dec, $10,000, Feb.
    D8 Lost 28 Dec ($5,000): before the range. The outsider's deal moves in the range.
    """
    team = crew.team
    team.settings = {**(team.settings or {}), "time_zone": ZONE}
    tid = team.id
    spring = Campaign(team_id=tid, name="Spring")
    fall = Campaign(team_id=tid, name="Fall")
    db.session.add_all([spring, fall])
    db.session.flush()
    d1 = make_deal(tid, None, "Discovery", at=at(2), value=Decimal(100000))
    moved(d1, "Qualified", at(6))
    moved(d1, "Valuation", at(13, 9), expected_close=date(2026, 3, 15))
    d2 = make_deal(tid, None, "Discovery", at=at(5), value=Decimal(50000))
    moved(d2, "Lost", at(8), closed_on=date(2026, 1, 8), lost_reason_id=reason(tid, "Price gap"))
    d3 = make_deal(tid, None, "Discovery", at=at(20, month=12, year=2025), value=Decimal(200000))
    d3.source_campaign_id = spring.id
    moved(d3, "Qualified", at(7))
    moved(d3, "Won", at(12), closed_on=date(2026, 1, 12))
    make_deal(tid, None, "Discovery", at=at(12), source_campaign_id=spring.id)
    d5 = make_deal(tid, None, "Discovery", at=at(9), value=Decimal(30000))
    d5.source_campaign_id = fall.id
    moved(
        d5, "Lost", at(13), closed_on=date(2026, 1, 13), lost_reason_id=reason(tid, "Not selling")
    )
    make_deal(
        tid,
        None,
        "Closing",
        at=at(1, month=12, year=2025),
        value=Decimal(80000),
        expected_close=date(2026, 3, 2),
    )
    make_deal(
        tid,
        None,
        "LOI",
        at=at(15, month=12, year=2025),
        value=Decimal(10000),
        expected_close=date(2026, 2, 10),
    )
    d8 = make_deal(tid, None, "Discovery", at=at(1, month=12, year=2025), value=Decimal(5000))
    moved(d8, "Lost", at(28, month=12, year=2025), closed_on=date(2025, 12, 28))
    theirs = make_deal(outsider.team.id, None, "Discovery", at=at(5), value=Decimal(999))
    moved(theirs, "Won", at(6), closed_on=date(2026, 1, 6))
    db.session.commit()
    return crew


def built(crew):
    scope = ReportScope(crew.team.id, date(2026, 1, 1), date(2026, 1, 14), ZONE)
    return pages.build(db.session, "velocity", scope, TEST_NOW, {})


def test_stage_table_counts_entries_conversion_and_days(world):
    table = built(world).table("stages")
    got = {
        row["stage"]: (row["entered"], row["moved_on"], row["conversion"], row["median_days"])
        for row in table.rows
    }
    assert list(got) == STAGES
    assert got == {
        # D1 went on; D2 and D5 were lost; D4 is still there. Days 4, 3, 2.25 (to now), 4.
        "Discovery": (4, 1, 0.25, 3.5),
        "Qualified": (2, 2, 1.0, 5.9),  # D1 6.75 days, D3 5 days: 5.875
        "Valuation": (1, 0, 0.0, 1.5),  # D1 since 13th 09:00 UTC, until now
        "LOI": (0, 0, None, None),
        "Due diligence": (0, 0, None, None),
        "Closing": (0, 0, None, None),
        "Won": (1, None, None, None),
        "Lost": (2, None, None, None),
    }
    assert table.totals == {
        "stage": "All stages",
        "entered": 10,
        "moved_on": 3,
        "median_days": 4.0,  # 1.5, 2.25, 3, 4, 4, 5, 6.75
    }


def test_weekly_entries_and_their_chart(world):
    report = built(world)
    weekly = report.table("weekly")
    keys = [column.key for column in weekly.columns[1:]]
    as_names = {column.key: column.label for column in weekly.columns}
    rows = [(row["week"], {as_names[k]: row[k] for k in keys if row[k]}) for row in weekly.rows]
    assert rows == [
        ("Jan 1", {"Discovery": 1}),
        ("Jan 5", {"Discovery": 2, "Qualified": 2, "Lost": 1}),
        ("Jan 12", {"Discovery": 1, "Valuation": 1, "Won": 1, "Lost": 1}),
    ]
    totals = {as_names[k]: weekly.totals[k] for k in keys}
    assert totals == dict.fromkeys(STAGES, 0) | {
        "Discovery": 4,
        "Qualified": 2,
        "Valuation": 1,
        "Won": 1,
        "Lost": 2,
    }
    chart = report.charts[0]
    assert (chart.kind, chart.table, chart.labels) == (
        "lines",
        "weekly",
        ["Jan 1", "Jan 5", "Jan 12"],
    )
    assert chart.series == {"Discovery": [1, 2, 1], "Won": [0, 0, 1], "Lost": [0, 1, 1]}


def test_forecast_weighs_open_deals_by_month(world):
    forecast = built(world).table("forecast")
    assert forecast.rows == [
        {
            "month": "February 2026",
            "deals": 1,
            "value": Decimal("10000.00"),
            "weighted": Decimal("6000.00"),
        },
        {
            "month": "March 2026",
            "deals": 2,
            "value": Decimal("180000.00"),
            "weighted": Decimal("107000.00"),
        },
        {
            "month": "No expected close",
            "deals": 1,
            "value": Decimal("0.00"),
            "weighted": Decimal("0.00"),
        },
    ]
    assert forecast.totals == {
        "month": "All open deals",
        "deals": 4,
        "value": Decimal("190000.00"),
        "weighted": Decimal("113000.00"),
    }


def test_won_and_lost_by_reason_and_by_campaign(world):
    report = built(world)
    outcomes = report.table("outcomes")
    assert [(r["outcome"], r["reason"], r["deals"], r["value"]) for r in outcomes.rows] == [
        ("Won", "", 1, Decimal("200000.00")),
        ("Lost", "Not selling", 1, Decimal("30000.00")),
        ("Lost", "Price gap", 1, Decimal("50000.00")),
    ]
    assert (outcomes.totals["deals"], outcomes.totals["value"]) == (3, Decimal("280000.00"))
    campaigns = report.table("campaigns")
    assert [
        (r["campaign"], r["won"], r["won_value"], r["lost"], r["lost_value"], r["win_rate"])
        for r in campaigns.rows
    ] == [
        ("Fall", 0, Decimal("0.00"), 1, Decimal("30000.00"), 0.0),
        ("Spring", 1, Decimal("200000.00"), 0, Decimal("0.00"), 1.0),
        ("No campaign", 0, Decimal("0.00"), 1, Decimal("50000.00"), 0.0),
    ]
    totals = campaigns.totals
    assert (totals["won"], totals["won_value"], totals["lost"], totals["lost_value"]) == (
        1,
        Decimal("200000.00"),
        2,
        Decimal("80000.00"),
    )
    assert totals["win_rate"] == pytest.approx(1 / 3)


def test_the_campaign_filter_keeps_its_deals(world):
    spring = db.session.query(Campaign).filter_by(team_id=world.team.id, name="Spring").one()
    scope = ReportScope(
        world.team.id, date(2026, 1, 1), date(2026, 1, 14), ZONE, campaign_id=spring.id
    )
    report = pages.build(db.session, "velocity", scope, TEST_NOW, {})
    entered = {row["stage"]: row["entered"] for row in report.table("stages").rows}
    assert (entered["Discovery"], entered["Qualified"], entered["Won"]) == (1, 1, 1)
    assert report.table("forecast").totals["deals"] == 1


def test_another_teams_deals_never_count(world, outsider):
    scope = ReportScope(outsider.team.id, date(2026, 1, 1), date(2026, 1, 14), ZONE)
    report = pages.build(db.session, "velocity", scope, TEST_NOW, {})
    assert report.table("stages").totals["entered"] == 2
    assert report.table("outcomes").totals["value"] == Decimal("999.00")
    assert built(world).table("outcomes").totals["deals"] == 3


@pytest.fixture
def console_clock():
    set_clock_offset(clock.offset_seconds())
    yield
    set_clock_offset(0)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_read_the_page(client, world, console_clock, role):
    login(client, world.by_role(role))
    page = client.get("/reports/velocity", query_string=SCOPE_ARGS)
    assert page.status_code == 200
    assert "Pipeline velocity" in page.text and "March 2026" in page.text


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_are_refused(client, world, role):
    login(client, world.by_role(role))
    assert client.get("/reports/velocity").status_code == 403
    assert client.get("/reports/velocity/stages.csv").status_code == 403


def test_csv_and_command_write_the_stage_table(client, runner, world, console_clock):
    expected = [
        ["stage", "probability", "entered", "moved_on", "conversion", "median_days"],
        ["Discovery", "0.1000", "4", "1", "0.2500", "3.5"],
        ["Qualified", "0.2000", "2", "2", "1.0000", "5.9"],
        ["Valuation", "0.3500", "1", "0", "0.0000", "1.5"],
        ["LOI", "0.6000", "0", "0", "", ""],
        ["Due diligence", "0.7500", "0", "0", "", ""],
        ["Closing", "0.9000", "0", "0", "", ""],
        ["Won", "1.0000", "1", "", "", ""],
        ["Lost", "0.0000", "2", "", "", ""],
    ]
    login(client, world.manager)
    got = client.get("/reports/velocity/stages.csv", query_string=SCOPE_ARGS)
    assert list(csv.reader(io.StringIO(got.text))) == expected
    args = ["--team", world.team.name, "--since", "2026-01-01", "--until", "2026-01-14"]
    result = runner.invoke(args=["report", "velocity", *args])
    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.stdout))) == expected
