"""The funnel and its cost, checked figure by figure against a world built row by row:
so many leads added, lists bought, traces, line checks, texts, replies, drafts and deals,
for our team and the same again for another team that must never count.

The range is 1-14 January 2026 on the team's clock (US Eastern). Leads 1-6 were added in
it, lead 7 in December (and worked in January); what happened in December never counts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from console.extensions import db
from console.models import (
    ConsentEvent,
    Conversation,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    Lead,
    LeadSource,
    Message,
    PhoneCheck,
    Role,
    SkipTraceResult,
    SkipTraceRun,
    Team,
)
from console.services.reports import funnel, pages
from console.services.reports.scope import ReportScope
from tests.clock import TEST_NOW
from tests.conftest import TeamUsers, login, make_lead
from tests.deal_helpers import make_deal

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 14)
RANGE = {"since": FIRST.isoformat(), "until": LAST.isoformat()}
ZONE = "America/New_York"


def at(text: str) -> datetime:
    """An instant written in UTC: "2026-01-07 04:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class World:
    """Our leads by number (1-7) and the campaign their texts came from."""

    leads: dict[int, Lead]
    campaign_id: int
    other_campaign_id: int
    list_a: int


def build_world(team: Team, prefix: str) -> World:
    """The known world of one team; `prefix` keeps its phone numbers its own."""
    from console.models import Campaign

    tid = team.id

    def number(n: int) -> str:
        return f"+1{prefix}555{n:04d}"

    leads: dict[int, Lead] = {}
    for n in range(1, 8):
        lead = make_lead(team, f"Lake {n} Plumbing", owner_name=f"Dana Owner{n}")
        lead.created_at = at("2025-12-20 15:00") if n == 7 else at(f"2026-01-0{n} 15:00")
        leads[n] = lead
    # Lead 6 was added at 10 pm on 14 January in New York: already the 15th in UTC.
    leads[6].created_at = at("2026-01-15 03:00")
    # Verified mobiles for 1-3, an unchecked mobile for 4.
    from console.models import Phone

    for n in (1, 2, 3, 4, 7):
        leads[n].owner.phones.append(
            Phone(
                team_id=tid,
                e164=number(n),
                kind="mobile",
                line_type="mobile" if n != 4 else "",
                textable=True if n != 4 else None,
                validated_at=at("2026-01-05 16:00") if n != 4 else None,
            )
        )
    db.session.flush()

    # Lists bought in January: A ($300) brought 1-3, B ($100) 4, C (no price) 5; D ($1,000),
    # bought in December, brought 7.
    imports = {}
    for name, price, members, bought in (
        ("a.csv", "300", (1, 2, 3), "2026-01-02 15:00"),
        ("b.csv", "100", (4,), "2026-01-03 15:00"),
        ("c.csv", None, (5,), "2026-01-04 15:00"),
        ("d.csv", "1000", (7,), "2025-12-20 15:00"),
    ):
        job = ImportJob(
            created_at=at(bought),
            team_id=tid,
            filename=name,
            stored_path=f"/tmp/{name}",
            status="done",
            list_price=Decimal(price) if price else None,
        )
        db.session.add(job)
        db.session.flush()
        imports[name] = job.id
        for n in members:
            db.session.add(LeadSource(team_id=tid, lead_id=leads[n].id, import_id=job.id))

    # Skip tracing in January: 1-4 ($0.07, $0.07, $0.07, $0.10) and 7 ($0.50); 7 was
    # also traced in December ($0.25, not in the range).
    run = SkipTraceRun(team_id=tid, status="done")
    db.session.add(run)
    db.session.flush()
    for n, cost, when in (
        (1, "0.07", "2026-01-05 16:00"),
        (2, "0.07", "2026-01-05 16:00"),
        (3, "0.07", "2026-01-05 16:00"),
        (4, "0.10", "2026-01-05 16:00"),
        (7, "0.50", "2026-01-05 16:00"),
        (7, "0.25", "2025-12-21 16:00"),
    ):
        leads[n].traced_at = at("2026-01-05 16:00")
        leads[n].trace_status = "found"
        db.session.add(
            SkipTraceResult(
                team_id=tid,
                run_id=run.id,
                lead_id=leads[n].id,
                provider_name="Sandbox",
                outcome="hit",
                found=True,
                cost=Decimal(cost),
                created_at=at(when),
            )
        )
    # Line checks in January of the numbers of 1-3 and 7 ($0.005 each).
    for n in (1, 2, 3, 7):
        db.session.add(
            PhoneCheck(
                team_id=tid,
                e164=number(n),
                source="twilio",
                line_type="mobile",
                textable=True,
                cost=Decimal("0.005"),
                checked_at=at("2026-01-05 16:00"),
            )
        )

    campaign = Campaign(team_id=tid, name="January openers", persona="GIANNA")
    other = Campaign(team_id=tid, name="Nudges", persona="CATHY")
    db.session.add_all([campaign, other])
    db.session.flush()

    def text(n: int, sent: str | None, status: str, price=None, estimate="0.0083", **more):
        db.session.add(
            Message(
                team_id=tid,
                lead_id=leads[n].id,
                campaign_id=more.pop("campaign_id", campaign.id),
                to_e164=number(n),
                body="Hi, thinking of selling?",
                status=status,
                sent_at=at(sent) if sent else None,
                price=Decimal(price) if price else None,
                cost_estimate=Decimal(estimate),
                **more,
            )
        )

    text(1, "2026-01-06 14:00", "delivered", "0.0079")
    # 23:30 on 6 January in New York: the 6th's text, not the 7th's.
    text(1, "2026-01-07 04:30", "sent", campaign_id=other.id)
    text(2, "2026-01-07 15:00", "delivered", "0.0150")
    text(3, "2026-01-07 16:00", "failed", "0.0010", error_code=30007)
    text(5, "2026-01-08 15:00", "sent")
    text(4, None, "blocked")  # never went: no texted, no cost
    text(4, None, "approved")
    text(7, "2026-01-08 16:00", "delivered", "0.0079")
    text(7, "2026-01-14 04:30", "sent")  # 13 January, 23:30 in New York
    text(7, "2026-01-01 04:59", "sent")  # 31 December, 23:59 in New York: before the range

    def reply(n: int, received: str, label: str, body: str = "Yes, call me") -> InboxItem:
        conversation = Conversation(team_id=tid, e164=number(n), lead_id=leads[n].id)
        db.session.add(conversation)
        db.session.flush()
        inbound = InboundMessage(
            team_id=tid,
            conversation_id=conversation.id,
            lead_id=leads[n].id,
            provider_sid=f"SM{prefix}{n}",
            from_e164=number(n),
            body=body,
            received_at=at(received),
        )
        db.session.add(inbound)
        db.session.flush()
        item = InboxItem(
            team_id=tid,
            conversation_id=conversation.id,
            inbound_id=inbound.id,
            lead_id=leads[n].id,
            state="open",
            label=label,
            created_at=at(received),
        )
        db.session.add(item)
        db.session.flush()
        return item

    first = reply(1, "2026-01-07 20:00", "POSITIVE")
    second = reply(2, "2026-01-08 02:00", "CALLBACK_REQUEST")  # 7 January in New York
    reply(5, "2026-01-09 15:00", "STOP", "STOP")
    db.session.add_all(
        [
            ConsentEvent(
                team_id=tid,
                e164=number(5),
                kind="opt_out",
                lead_id=leads[5].id,
                at=at("2026-01-09 15:00"),
            ),
            ConsentEvent(
                team_id=tid,
                e164=number(3),
                kind="opt_in",
                lead_id=leads[3].id,
                at=at("2026-01-09 16:00"),
            ),
        ]
    )
    # Drafts: Sonnet 1,000 in, 200 out, 5,000 cached = $0.0075; Haiku 2,000 in, 100 out
    # = $0.0025; a template (no model) and a model with no price count nothing.
    for item, model, tokens in (
        (first, "claude-sonnet-5-5", (1000, 200, 5000)),
        (second, "claude-haiku-5-5", (2000, 100, 0)),
        (second, "", (0, 0, 0)),
        (second, "gpt-unpriced", (999, 999, 0)),
    ):
        db.session.add(
            Draft(
                team_id=tid,
                item_id=item.id,
                model=model,
                source="ai" if model else "template",
                input_tokens=tokens[0],
                output_tokens=tokens[1],
                cache_read_tokens=tokens[2],
                created_at=at("2026-01-08 15:00"),
            )
        )
    # Deals: 1 in Discovery, 2 won on 9 January, 7 (added in December) in Discovery.
    make_deal(tid, leads[1], "Discovery", at=at("2026-01-08 15:00"))
    make_deal(
        tid,
        leads[2],
        "Won",
        at=at("2026-01-09 15:00"),
        value=Decimal("250000"),
        closed_on=date(2026, 1, 9),
    )
    make_deal(tid, leads[7], "Discovery", at=at("2026-01-09 15:00"))
    db.session.commit()
    return World(leads, campaign.id, other.id, imports["a.csv"])


@pytest.fixture
def world(crew: TeamUsers, outsider: TeamUsers) -> World:
    """Our world, and the same again for the other team."""
    build_world(outsider.team, "312")
    return build_world(crew.team, "512")


def scope_of(team: Team, first: date = FIRST, last: date = LAST, **filters) -> ReportScope:
    return ReportScope(team.id, first, last, ZONE, **filters)


def build(app, scope: ReportScope):
    return pages.build(db.session, "funnel", scope, TEST_NOW, app.config["AI_PRICES"])


D = Decimal
EXPECTED_FUNNEL = [
    # step, leads, from previous, from top, cost
    ("imported", 6, None, 1.0, D("400")),  # lists A and B; D was bought in December
    ("traced", 5, 5 / 6, 5 / 6, D("0.81")),
    ("verified_mobile", 4, 4 / 5, 4 / 6, D("0.02")),
    ("texted", 5, 5 / 4, 5 / 6, D("0.0567")),
    ("delivered", 3, 3 / 5, 3 / 6, None),
    ("replied", 3, 3 / 3, 3 / 6, D("0.0100")),
    ("positive", 2, 2 / 3, 2 / 6, None),
    ("deal", 3, 3 / 2, 3 / 6, None),
    ("won", 1, 1 / 3, 1 / 6, None),
]
TOTAL = D("400.8967")


def test_every_funnel_figure_agrees_with_the_rows(app, crew, world):
    report = build(app, scope_of(crew.team))
    table = report.table("funnel")
    assert table.header() == [
        "step",
        "leads",
        "conversion_from_previous",
        "conversion_from_top",
        "cost_usd",
    ]
    got = [
        (
            row["step"],
            row["leads"],
            row["conversion_from_previous"],
            row["conversion_from_top"],
            row["cost_usd"],
        )
        for row in table.rows
    ]
    assert [row[:2] for row in got] == [row[:2] for row in EXPECTED_FUNNEL]
    for row, expected in zip(got, EXPECTED_FUNNEL, strict=True):
        for value, wanted in zip(row[2:4], expected[2:4], strict=True):
            assert value == (pytest.approx(wanted) if wanted is not None else None), row
        assert row[4] == expected[4], row
    assert table.totals["cost_usd"] == TOTAL
    bars = next(chart for chart in report.charts if chart.table == "funnel")
    assert bars.kind == "bars"
    assert bars.series["Leads"] == [6, 5, 4, 5, 3, 3, 2, 3, 1]


def test_spend_unit_costs_and_unpriced_models(app, crew, world):
    report = build(app, scope_of(crew.team))
    spend = {row["kind"]: row["cost_usd"] for row in report.table("spend").rows}
    assert spend == {
        "List prices": D("400"),
        "Skip tracing": D("0.81"),
        "Line-type checks": D("0.02"),
        "Texts (SMS)": D("0.0567"),
        "AI drafts": D("0.0100"),
    }
    assert report.table("spend").totals["cost_usd"] == TOTAL
    units = {
        row["measure"]: (row["leads"], row["cost_usd"]) for row in report.table("unit_costs").rows
    }
    assert units == {
        "Cost per reply": (3, D("133.63")),
        "Cost per interested reply": (2, D("200.45")),
        "Cost per deal": (3, D("133.63")),
        "Cost per won deal": (1, D("400.90")),
    }
    assert report.table("unit_costs").totals["cost_usd"] == TOTAL
    assert any("gpt-unpriced" in note for note in report.notes)


def test_daily_table_counts_each_day_on_the_viewers_clock(app, crew, world):
    report = build(app, scope_of(crew.team))
    daily = report.table("daily")
    assert [row["day"] for row in daily.rows] == [date(2026, 1, d) for d in range(1, 15)]
    busy = {
        row["day"].day: (row["sent"], row["replies"], row["opt_outs"])
        for row in daily.rows
        if row["sent"] or row["replies"] or row["opt_outs"]
    }
    assert busy == {6: (2, 0, 0), 7: (2, 2, 0), 8: (2, 0, 0), 9: (0, 1, 1), 13: (1, 0, 0)}
    assert {k: daily.totals[k] for k in ("sent", "replies", "opt_outs")} == {
        "sent": 7,
        "replies": 3,
        "opt_outs": 1,
    }
    lines = next(chart for chart in report.charts if chart.table == "daily")
    assert lines.kind == "lines" and lines.labels[0] == "Jan 1"
    assert sum(lines.series["Texts sent"]) == 7


def test_filters_narrow_the_funnel(app, crew, world):
    def leads(**filters) -> list[int]:
        rows = build(app, scope_of(crew.team, **filters)).table("funnel").rows
        return [row["leads"] for row in rows]

    # List A: leads 1-3 and A's price alone.
    report = build(app, scope_of(crew.team, import_id=world.list_a))
    assert [row["leads"] for row in report.table("funnel").rows] == [3, 3, 3, 3, 2, 2, 2, 2, 1]
    assert report.table("funnel").rows[0]["cost_usd"] == D("300")
    # The Nudges campaign texted lead 1 alone; its texts' cost only (the estimate 0.0083).
    report = build(app, scope_of(crew.team, campaign_id=world.other_campaign_id))
    assert [row["leads"] for row in report.table("funnel").rows] == [1, 1, 1, 1, 0, 1, 1, 1, 0]
    assert report.table("funnel").rows[3]["cost_usd"] == D("0.0083")
    assert report.table("funnel").rows[0]["cost_usd"] == D("100")  # a third of list A
    assert leads(persona="CATHY") == [1, 1, 1, 1, 0, 1, 1, 1, 0]
    assert leads(persona="SABRINA") == [0] * 9
    # Another pipeline holds none of the deals.
    from console.services.deals import pipelines

    other = pipelines.add_pipeline(db.session, crew.team.id, "Roll-ups")
    db.session.commit()
    assert leads(pipeline_id=other.id)[-2:] == [0, 0]


def test_funnel_agrees_with_the_exports(app, crew, world, runner):
    """Over every day the team has, deals equal `export deals`' rows and texted equals
    the leads of `export messages` whose texts were sent."""
    report = build(app, scope_of(crew.team, first=date(2025, 12, 1)))
    counts = {row["step"]: row["leads"] for row in report.table("funnel").rows}

    def export(kind: str) -> list[dict]:
        result = runner.invoke(args=["export", kind, "--team", crew.team.name, "-o", "-"])
        assert result.exit_code == 0, result.output
        return list(csv.DictReader(io.StringIO(result.stdout)))

    assert counts["deal"] == len(export("deals")) == 3
    sent = {row["lead_code"] for row in export("messages") if row["sent_at"]}
    assert counts["texted"] == len(sent) == 5


def test_report_command_writes_the_funnel(app, crew, world, runner):
    result = runner.invoke(
        args=[
            "report",
            "funnel",
            "--team",
            crew.team.name,
            "--since",
            "2026-01-01",
            "--until",
            "2026-01-14",
            "-o",
            "-",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "step",
        "leads",
        "conversion_from_previous",
        "conversion_from_top",
        "cost_usd",
    ]
    assert [row[0] for row in rows[1:]] == list(funnel.STEPS)
    assert rows[1] == ["imported", "6", "", "1.0000", "400.00"]
    assert rows[4] == ["texted", "5", "1.2500", "0.8333", "0.0567"]
    assert rows[5] == ["delivered", "3", "0.6000", "0.5000", ""]
    assert rows[9] == ["won", "1", "0.3333", "0.1667", ""]


def test_page_and_csv_for_managers(app, client, crew, world):
    login(client, crew.manager)
    page = client.get("/reports/funnel", query_string=RANGE)
    assert page.status_code == 200
    html = page.text
    assert "Funnel and cost" in html and "$400.90" in html and "verified_mobile" in html
    assert 'aria-current="page">Reports</a>' in html
    response = client.get("/reports/funnel/funnel.csv", query_string=RANGE)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[3] == ["verified_mobile", "4", "0.8000", "0.6667", "0.02"]
    daily = list(
        csv.reader(io.StringIO(client.get("/reports/funnel/daily.csv", query_string=RANGE).text))
    )
    assert daily[0] == ["day", "sent", "replies", "opt_outs"] and len(daily) == 15


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_are_refused(app, client, crew, world, role):
    login(client, crew.by_role(role))
    assert client.get("/reports/funnel").status_code == 403
    assert client.get("/reports/funnel/funnel.csv").status_code == 403
    assert ">Reports</a>" not in client.get("/leads/").text


def test_admins_see_it_in_the_navigation(app, client, crew, world):
    login(client, crew.admin)
    home = client.get("/leads/").text
    assert ">Reports</a>" in home
    assert client.get("/reports/funnel", query_string=RANGE).status_code == 200


def test_another_teams_rows_never_count(app, client, crew, outsider, world):
    """The other team's world is the same as ours: its figures are its own, not doubled."""
    ours = build(app, scope_of(crew.team)).table("funnel")
    theirs = build(app, scope_of(outsider.team)).table("funnel")
    assert [row["leads"] for row in ours.rows] == [row["leads"] for row in theirs.rows]
    assert ours.totals == theirs.totals
    # An empty team has an empty funnel.
    from tests.conftest import make_team

    empty = make_team("Quiet Co")
    report = build(app, scope_of(empty.team))
    assert [row["leads"] for row in report.table("funnel").rows] == [0] * 9
    assert report.table("funnel").totals["cost_usd"] == 0


def test_days_follow_the_clock_across_daylight_saving(app, crew):
    """New York springs forward on 8 March 2026: midnight is 05:00 UTC before, 04:00 after."""
    from console.services.reports import days

    start, end = at("2026-03-01 05:00"), at("2026-03-16 04:00")
    assert days.offsets(ZONE, start, end) == [(at("2026-03-08 07:00"), -18000), (None, -14400)]
    lead = make_lead(crew.team, "Spring Roofing", owner_name="Dana Spring")
    for sent in ("2026-03-08 04:30", "2026-03-09 03:30", "2026-03-09 04:30"):
        db.session.add(
            Message(
                team_id=crew.team.id,
                lead_id=lead.id,
                to_e164="+15125550123",
                body="Hi",
                status="sent",
                sent_at=at(sent),
            )
        )
    db.session.commit()
    report = build(app, scope_of(crew.team, date(2026, 3, 1), date(2026, 3, 15)))
    sent = {row["day"].day: row["sent"] for row in report.table("daily").rows if row["sent"]}
    # 23:30 on the 7th (EST), 23:30 on the 8th (EDT), 00:30 on the 9th (EDT).
    assert sent == {7: 1, 8: 1, 9: 1}
