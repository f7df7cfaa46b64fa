"""The "What works" report: a known world of two campaigns (A/B variants), two personas,
two lists, two skip-trace providers and two senders (one paused), with replies, opt-outs
and 30007s, and every figure of every table checked against it, on both databases."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from console.extensions import db
from console.models import (
    Campaign,
    ConsentEvent,
    Conversation,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    Lead,
    Message,
    MessageTemplate,
    Phone,
    PhoneCheck,
    Role,
    Sender,
    SkipTraceResult,
    SkipTraceRun,
)
from console.services.campaigns import campaigns
from console.services.reports import pages, works
from console.services.reports.scope import ReportScope
from tests.conftest import TeamUsers, login, make_lead
from tests.deal_helpers import make_deal

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 14)
RANGE = {"since": FIRST.isoformat(), "until": LAST.isoformat()}
DAY = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # inside the range in every US zone
BEFORE = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)  # before it
MODEL = "claude-sonnet-4-5"  # $3 in, $15 out, $0.30 cache read per million tokens
PRICES = {"claude-sonnet": {"input": "3", "output": "15", "cache_read": "0.30"}}


def mobile(n: int) -> str:
    return f"+1512555{n:04d}"


@dataclass
class World:
    crew: TeamUsers
    leads: dict[int, Lead]
    c1: Campaign
    c2: Campaign
    t1: MessageTemplate
    t2: MessageTemplate
    s1: Sender
    s2: Sender
    i1: ImportJob
    i2: ImportJob


def text(
    world_team,
    lead,
    n,
    campaign,
    template,
    sender,
    variant,
    at,
    *,
    status="delivered",
    price=Decimal("0.0100"),
    estimate=Decimal("0.0080"),
    error=None,
    kind="campaign",
    conversation=None,
) -> Message:
    message = Message(
        team_id=world_team.id,
        kind=kind,
        lead_id=lead.id,
        campaign_id=campaign.id if campaign else None,
        template_id=template.id if template else None,
        sender_id=sender.id,
        conversation_id=conversation.id if conversation else None,
        variant=variant,
        to_e164=mobile(n),
        body="Hi",
        status=status,
        price=price,
        cost_estimate=estimate,
        error_code=error,
        sent_at=at,
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def reply(team, conversation, n, at, label="", *, body="ok") -> InboxItem:
    inbound = InboundMessage(
        team_id=team.id,
        conversation_id=conversation.id,
        lead_id=conversation.lead_id,
        provider_sid=f"SM{team.id}in{n}{at:%m%d%H%M}",
        from_e164=mobile(n),
        body=body,
        received_at=at,
    )
    db.session.add(inbound)
    db.session.flush()
    item = InboxItem(
        team_id=team.id,
        conversation_id=conversation.id,
        inbound_id=inbound.id,
        lead_id=conversation.lead_id,
        campaign_id=conversation.campaign_id,
        state="done",
        label=label,
        created_at=at,
    )
    db.session.add(item)
    db.session.flush()
    return item


def draft(team, item, persona, state, *, edited=False, tokens=(0, 0, 0), message=None) -> Draft:
    row = Draft(
        team_id=team.id,
        item_id=item.id,
        persona=persona,
        source="ai" if any(tokens) else "template",
        model=MODEL if any(tokens) else "",
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cache_read_tokens=tokens[2],
        state=state,
        edited=edited,
        message_id=message.id if message else None,
        created_at=item.created_at + timedelta(minutes=5),
    )
    db.session.add(row)
    db.session.flush()
    return row


def build_world(crew: TeamUsers, *, label: str = "") -> World:
    """The known world (see the module's tests for what each figure must be)."""
    team = crew.team
    s1 = Sender(team_id=team.id, label=f"Austin line{label}", address=f"+1512555010{len(label)}")
    s2 = Sender(
        team_id=team.id,
        label=f"Dallas line{label}",
        address=f"+1214555010{len(label)}",
        paused=True,
        paused_reason="30007 rate climbed",
    )
    t1 = MessageTemplate(team_id=team.id, name="Opener", body="Hi A", variants=["Hi B"])
    t2 = MessageTemplate(team_id=team.id, name="Nudge", persona="CATHY", body="Nudge")
    db.session.add_all([s1, s2, t1, t2])
    db.session.flush()
    c1 = Campaign(team_id=team.id, name="Spring owners", template_id=t1.id, sender_id=s1.id)
    c2 = Campaign(
        team_id=team.id, name="Fall owners", persona="CATHY", template_id=t2.id, sender_id=s2.id
    )
    at = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    i1 = ImportJob(
        team_id=team.id,
        filename="texas.csv",
        stored_path="x",
        list_price=Decimal(100),
        created_at=at,
    )
    i2 = ImportJob(team_id=team.id, filename="ohio.csv", stored_path="y", created_at=at)
    db.session.add_all([c1, c2, i1, i2])
    db.session.flush()
    leads = {}
    for n in range(1, 7):
        lead = make_lead(team, f"Shop {n}", owner_name=f"Dana Owner{n}", mobile=mobile(n))
        lead.sources[0].import_id = (i1 if n <= 4 else i2).id
        leads[n] = lead
    conversations = {
        n: Conversation(
            team_id=team.id,
            e164=mobile(n),
            lead_id=leads[n].id,
            sender_id=s1.id,
            campaign_id=(c1 if n <= 4 else c2).id,
        )
        for n in range(1, 7)
    }
    db.session.add_all(conversations.values())
    db.session.flush()
    h = timedelta(hours=1)
    # Campaign texts in the range: C1 (template 1, sender 1) to leads 1-4, C2 to 5-6.
    text(team, leads[1], 1, c1, t1, s1, "A", DAY)
    text(team, leads[2], 2, c1, t1, s1, "B", DAY, price=None)  # estimate: $0.0080
    text(team, leads[3], 3, c1, t1, s1, "A", DAY, status="failed", error=30007)
    text(team, leads[4], 4, c1, t1, s1, "B", DAY)
    text(team, leads[1], 1, c1, t1, s1, "A", DAY + 48 * h)  # a second touch, no reply
    text(team, leads[5], 5, c2, t2, s2, "A", DAY)
    text(team, leads[6], 6, c2, t2, s2, "A", DAY, status="failed", error=30007, price=None)
    # Before the range: C1 texted lead 6, who answered then (counts only for its list).
    text(team, leads[6], 6, c1, t1, s1, "A", BEFORE)
    reply(team, conversations[6], 6, BEFORE + h, "QUESTION")
    # Lead 1: interested, GIANNA's draft sent as drafted, then a callback request.
    item = reply(team, conversations[1], 1, DAY + h, "POSITIVE")
    sent = text(
        team,
        leads[1],
        1,
        None,
        None,
        s1,
        "A",
        DAY + 2 * h,
        kind="reply",
        conversation=conversations[1],
    )
    draft(team, item, "GIANNA", "sent", tokens=(1000, 200, 0), message=sent)
    reply(team, conversations[1], 1, DAY + 26 * h, "CALLBACK_REQUEST")
    # Lead 2: a question; CATHY's draft sent edited (no answer), GIANNA's discarded.
    item = reply(team, conversations[2], 2, DAY + h, "QUESTION")
    sent = text(
        team,
        leads[2],
        2,
        None,
        None,
        s1,
        "A",
        DAY + 3 * h,
        kind="reply",
        conversation=conversations[2],
    )
    draft(team, item, "CATHY", "sent", edited=True, tokens=(2000, 400, 0), message=sent)
    draft(team, item, "GIANNA", "discarded")
    # Lead 4: STOP.
    reply(team, conversations[4], 4, DAY + h, "STOP", body="STOP")
    db.session.add(ConsentEvent(team_id=team.id, e164=mobile(4), kind="opt_out", at=DAY + h))
    # Lead 5: a price question; CATHY's draft still proposed.
    item = reply(team, conversations[5], 5, DAY + h, "PRICE_INQUIRY")
    draft(team, item, "CATHY", "proposed", tokens=(1000, 0, 10000))
    # Skip tracing: Acme finds lead 1 (a verified mobile), misses lead 2, errs on lead 3;
    # Beta finds lead 2 (a landline) and lead 5 (a verified mobile).
    run = SkipTraceRun(team_id=team.id, status="done")
    db.session.add(run)
    db.session.flush()
    for n, provider, outcome, cost, line in (
        (1, "Acme", "hit", "0.10", "mobile"),
        (2, "Acme", "miss", "0.10", None),
        (3, "Acme", "error", "0", None),
        (2, "Beta", "hit", "0.15", "landline"),
        (5, "Beta", "hit", "0.15", "mobile"),
    ):
        db.session.add(
            SkipTraceResult(
                team_id=team.id,
                run_id=run.id,
                lead_id=leads[n].id,
                provider_name=provider,
                outcome=outcome,
                found=outcome == "hit",
                applied=outcome == "hit",
                cost=Decimal(cost),
                created_at=DAY,
            )
        )
        if line:
            number = f"+1737555{n:02d}{len(provider):02d}"
            db.session.add(
                Phone(
                    team_id=team.id,
                    owner_id=leads[n].owner_id,
                    e164=number,
                    kind="mobile",
                    line_type=line,
                    textable=line == "mobile",
                    source=f"skiptrace:{provider}",
                )
            )
            db.session.add(
                PhoneCheck(team_id=team.id, e164=number, source="twilio", cost=Decimal("0.005"))
            )
    db.session.add(
        PhoneCheck(team_id=team.id, e164=mobile(1), source="twilio", cost=Decimal("0.005"))
    )
    make_deal(team.id, leads[1], at=DAY + 30 * h)
    make_deal(team.id, leads[5], at=DAY + 30 * h)
    db.session.commit()
    return World(crew, leads, c1, c2, t1, t2, s1, s2, i1, i2)


@pytest.fixture
def world(crew, outsider) -> World:
    # Another team with the same shape: none of its rows may count for ours.
    build_world(outsider, label="x")
    return build_world(crew)


def report(world: World, **filters):
    scope = ReportScope(world.crew.team.id, FIRST, LAST, "America/Chicago", **filters)
    return works.page(db.session, scope, DAY, PRICES)


def money(text: str) -> Decimal:
    return Decimal(text)


def test_campaigns_every_figure_and_total(world):
    table = report(world).table("campaigns")
    rows = {row["campaign"]: row for row in table.rows}
    assert list(rows) == ["Fall owners", "Spring owners"]
    spring, fall = rows["Spring owners"], rows["Fall owners"]
    assert spring["link"] == f"/campaigns/{world.c1.id}"
    # Spring: 5 texts to 4 leads, 3 delivered, one 30007; leads 1, 2, 4 replied, lead 1
    # positively, lead 4 opted out. SMS 4 x $0.01 + $0.008; AI: GIANNA's $0.006 (lead 1)
    # and CATHY's $0.012 (lead 2).
    assert {
        k: spring[k]
        for k in ("sent", "delivered", "leads", "replied", "positive", "opted_out", "filtered")
    } == {
        "sent": 5,
        "delivered": 4,
        "leads": 4,
        "replied": 3,
        "positive": 1,
        "opted_out": 1,
        "filtered": 1,
    }
    assert spring["reply_rate"] == 3 / 4 and spring["positive_rate"] == 1 / 4
    assert spring["opt_out_rate"] == 1 / 4 and spring["filtered_rate"] == 1 / 5
    assert spring["sms_cost"] == money("0.048") and spring["ai_cost"] == money("0.018")
    assert spring["cost"] == money("0.066")
    # Fall: 2 texts to leads 5, 6; one 30007; lead 5 asked the price (positive); lead 6's
    # reply answered December's Spring text, so counts for neither.
    assert (fall["sent"], fall["delivered"], fall["leads"], fall["replied"]) == (2, 1, 2, 1)
    assert (fall["positive"], fall["opted_out"], fall["filtered"]) == (1, 0, 1)
    assert fall["reply_rate"] == 1 / 2 and fall["filtered_rate"] == 1 / 2
    assert fall["sms_cost"] == money("0.018") and fall["ai_cost"] == money("0.006")
    totals = table.totals
    assert (totals["sent"], totals["delivered"], totals["leads"], totals["replied"]) == (7, 5, 6, 4)
    assert (totals["positive"], totals["opted_out"], totals["filtered"]) == (2, 1, 2)
    assert totals["reply_rate"] == 4 / 6 and totals["filtered_rate"] == 2 / 7
    assert totals["opt_out_rate"] == 1 / 6 and totals["positive_rate"] == 2 / 6
    assert totals["cost"] == money("0.090")


def test_templates_by_variant(world):
    table = report(world).table("templates")
    rows = {(row["template"], row["variant"]): row for row in table.rows}
    assert list(rows) == [("Nudge", "A"), ("Opener", "A"), ("Opener", "B")]
    a, b = rows[("Opener", "A")], rows[("Opener", "B")]
    assert a["link"] == f"/templates/{world.t1.id}"
    # A: leads 1 (twice) and 3 (30007); lead 1 replied positively.
    assert (a["sent"], a["delivered"], a["leads"], a["replied"], a["positive"]) == (3, 2, 2, 1, 1)
    assert (a["filtered"], a["opted_out"]) == (1, 0)
    assert a["sms_cost"] == money("0.030") and a["ai_cost"] == money("0.006")
    # B: leads 2 and 4; both replied, lead 4 opted out.
    assert (b["sent"], b["delivered"], b["leads"], b["replied"], b["positive"]) == (2, 2, 2, 2, 0)
    assert (b["opted_out"], b["opt_out_rate"], b["filtered_rate"]) == (1, 1 / 2, 0)
    assert b["sms_cost"] == money("0.018") and b["ai_cost"] == money("0.012")
    assert (table.totals["sent"], table.totals["replied"], table.totals["cost"]) == (
        7,
        4,
        money("0.090"),
    )


def test_personas(world):
    table = report(world).table("personas")
    rows = {row["persona"]: row for row in table.rows}
    assert rows["GIANNA"] == {
        "persona": "GIANNA",
        "drafts": 2,
        "as_drafted": 1,
        "as_drafted_rate": 1 / 2,
        "edited": 0,
        "edited_rate": 0.0,
        "replies_after": 1,
        "positive_after": 1,
    }
    assert rows["CATHY"] == {
        "persona": "CATHY",
        "drafts": 2,
        "as_drafted": 0,
        "as_drafted_rate": 0.0,
        "edited": 1,
        "edited_rate": 1 / 2,
        "replies_after": 0,
        "positive_after": 0,
    }
    assert table.totals == {
        "persona": "Total",
        "drafts": 4,
        "as_drafted": 1,
        "as_drafted_rate": 1 / 4,
        "edited": 1,
        "edited_rate": 1 / 4,
        "replies_after": 1,
        "positive_after": 1,
    }
    only = report(world, persona="CATHY").table("personas")
    assert [row["persona"] for row in only.rows] == ["CATHY"]


def test_imports(world):
    table = report(world).table("imports")
    rows = {row["import"]: row for row in table.rows}
    texas, ohio = rows["texas.csv"], rows["ohio.csv"]
    assert texas["link"] == f"/imports/{world.i1.id}"
    # Texas: leads 1-4, traced 1-3, all texted, 1, 2, 4 replied, lead 1 has a deal.
    assert (texas["leads"], texas["traced"], texas["texted"], texas["replied"]) == (4, 3, 4, 3)
    assert texas["deals"] == 1 and texas["reply_rate"] == 3 / 4
    # $100 list + Acme $0.20 + Beta $0.15 + checks of lead 1's two numbers and lead 2's
    # landline ($0.015) + SMS $0.048.
    assert texas["list_cost"] == money("100") and texas["trace_cost"] == money("0.35")
    assert texas["check_cost"] == money("0.015") and texas["sms_cost"] == money("0.048")
    assert texas["cost"] == money("100.413") and texas["cost_per_deal"] == money("100.41")
    # Ohio: leads 5, 6; lead 6's December text and reply count here (a list's whole life).
    assert (ohio["leads"], ohio["traced"], ohio["texted"], ohio["replied"]) == (2, 1, 2, 2)
    assert ohio["deals"] == 1 and ohio["list_cost"] == 0
    assert ohio["trace_cost"] == money("0.15") and ohio["check_cost"] == money("0.005")
    assert ohio["sms_cost"] == money("0.028") and ohio["cost"] == money("0.183")
    totals = table.totals
    assert (totals["leads"], totals["traced"], totals["texted"], totals["replied"]) == (6, 4, 6, 5)
    assert totals["deals"] == 2 and totals["cost"] == money("100.596")
    assert totals["cost_per_deal"] == money("50.30") and totals["reply_rate"] == 5 / 6


def test_providers_reuse_the_pass_definitions(world):
    table = report(world).table("providers")
    rows = {row["provider"]: row for row in table.rows}
    assert rows["Acme"] == {
        "provider": "Acme",
        "searches": 3,
        "hits": 1,
        "hit_rate": 1 / 2,
        "verified_mobiles": 1,
        "cost": money("0.20"),
        "cost_per_verified_mobile": money("0.20"),
    }
    assert rows["Beta"] == {
        "provider": "Beta",
        "searches": 2,
        "hits": 2,
        "hit_rate": 1.0,
        "verified_mobiles": 1,
        "cost": money("0.30"),
        "cost_per_verified_mobile": money("0.30"),
    }
    assert table.totals["searches"] == 5 and table.totals["hit_rate"] == 3 / 4
    assert table.totals["cost_per_verified_mobile"] == money("0.25")


def test_senders_with_the_paused_one(world):
    table = report(world).table("senders")
    rows = {row["sender"].split(" (")[0]: row for row in table.rows}
    austin, dallas = rows["Austin line"], rows["Dallas line"]
    assert (austin["sent"], austin["delivered"], austin["filtered"], austin["opted_out"]) == (
        5,
        4,
        1,
        1,
    )
    assert austin["delivery_rate"] == 4 / 5 and austin["opt_out_rate"] == 1 / 4
    assert austin["paused"] == ""
    assert dallas["paused"] == "Paused: 30007 rate climbed"
    assert (dallas["sent"], dallas["delivered"], dallas["filtered_rate"]) == (2, 1, 1 / 2)
    assert table.totals["filtered_rate"] == 2 / 7 and table.totals["delivery_rate"] == 5 / 7


def test_filters_campaign_and_list(world):
    only = report(world, campaign_id=world.c2.id).table("campaigns")
    assert [row["campaign"] for row in only.rows] == ["Fall owners"]
    texas = report(world, import_id=world.i1.id)
    assert [row["campaign"] for row in texas.table("campaigns").rows] == ["Spring owners"]
    assert [row["import"] for row in texas.table("imports").rows] == ["texas.csv"]
    assert texas.table("providers").totals["searches"] == 4


def test_campaign_page_replied_reads_the_report_rule(world, client):
    # The page counted the conversations of replies: a reply the webhook has stored but
    # no job has matched to its conversation yet (or whose matching failed) was missed,
    # and a conversation's campaign took replies that answered another campaign's text.
    waiting = InboundMessage(
        team_id=world.crew.team.id,
        provider_sid="SMwait",
        from_e164=mobile(3),
        body="Who is this?",
        received_at=DAY + timedelta(hours=5),
    )
    db.session.add(waiting)
    db.session.commit()
    stats = campaigns.campaign_stats(db.session, [world.c1.id, world.c2.id])
    # Spring, any time: leads 1-4, and lead 6 who answered its December text.
    assert stats[world.c1.id]["replied"] == 5
    # Fall: lead 5 only (lead 6 wrote before Fall's text reached them).
    assert stats[world.c2.id]["replied"] == 1
    login(client, world.crew.manager)
    page = client.get(f"/campaigns/{world.c1.id}").text
    assert "<dt>Replied</dt><dd>5</dd>" in page


def test_page_and_csv_for_managers_only(world, client):
    login(client, world.crew.manager)
    page = client.get("/reports/works", query_string=RANGE)
    assert page.status_code == 200
    assert "What works" in page.text and "Spring owners" in page.text
    assert "Rival" not in page.text
    response = client.get("/reports/works/campaigns.csv", query_string=RANGE)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    spring = next(row for row in rows if row["campaign"] == "Spring owners")
    assert spring["sent"] == "5" and spring["reply_rate"] == "0.7500"
    assert spring["cost"] == "0.0660"
    for name in works.TABLES:
        assert client.get(f"/reports/works/{name}.csv", query_string=RANGE).status_code == 200


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_are_refused(world, client, role):
    login(client, world.crew.by_role(role))
    assert client.get("/reports/works", query_string=RANGE).status_code in (403, 404)
    assert client.get("/reports/works/campaigns.csv", query_string=RANGE).status_code in (403, 404)


def test_admins_see_it(world, client):
    login(client, world.crew.admin)
    assert client.get("/reports/works", query_string=RANGE).status_code == 200


@pytest.mark.parametrize(
    ("name", "first_cell"),
    [
        ("campaigns", "Fall owners"),
        ("templates", "Nudge"),
        ("personas", "CATHY"),
        ("imports", "texas.csv"),
        ("providers", "Acme"),
        ("senders", "Austin line"),
    ],
)
def test_report_command_for_each_table(world, runner, name, first_cell):
    assert pages.COMMANDS[name] == ("works", name)
    result = runner.invoke(
        args=[
            "report",
            name,
            "--team",
            world.crew.team.name,
            "--since",
            FIRST.isoformat(),
            "--until",
            LAST.isoformat(),
            "-o",
            "-",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    table = report(world).table(name)
    assert rows[0] == table.header()
    assert rows[1][0].startswith(first_cell)
    assert len(rows) == 1 + len(table.rows)


def test_the_pipeline_filter_is_said_not_to_apply(world):
    assert report(world).notes == []
    notes = report(world, pipeline_id=1).notes
    assert notes == ["The pipeline filter does not apply to this page: it compares sources."]


def test_the_reports_index_opens_a_page_keeping_only_the_scope(world, client):
    login(client, world.crew.manager)
    response = client.get("/reports/", query_string=RANGE | {"endpoint": "x", "campaign": "7"})
    assert response.status_code == 302
    assert response.location.startswith("/reports/")
    assert "since=2026-01-01" in response.location and "campaign=7" in response.location
    assert "endpoint" not in response.location
