"""The funnel with its cost: how many of the leads added in a range reached each step,
from imported to won, what was spent on them at each step, what a reply, an interested
reply, a deal and a won deal cost, and what happened each day (texts, replies,
opt-outs).

Which leads: the leads added to the team in the range (imported, on the viewer's
clock), followed to today. Each step counts those of them that reached it, whenever
they did, so the steps narrow like a funnel and a range's figures do not change when
the next range begins; a recent range keeps filling in as its leads move on. The costs
are what was spent on those same leads, so cost per deal is the cost of the leads that
became the deals. The filters narrow the leads: a list to its leads, a campaign (or a
persona's campaigns) to the leads it texted, and a pipeline the deals counted.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session

from console.models import (
    Campaign,
    ConsentEvent,
    Deal,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    Lead,
    LeadSource,
    Message,
    Phone,
    PhoneCheck,
    PipelineStage,
    SkipTraceResult,
)
from console.services.lists.leads import verified_mobile_exists
from console.services.replies.inbox import INTERESTED
from console.services.reports import days
from console.services.reports.costs import ZERO, ai_cost, message_cost, model_prices
from console.services.reports.scope import ReportScope
from console.services.reports.tables import Chart, Column, ReportPage, Table, rate

TITLE = "Funnel and cost"
# The steps, in order, as the `report funnel` command names them, and as people read them.
STEPS: dict[str, str] = {
    "imported": "Imported",
    "traced": "Traced",
    "verified_mobile": "Verified mobile",
    "texted": "Texted",
    "delivered": "Delivered",
    "replied": "Replied",
    "positive": "Interested",
    "deal": "Deal",
    "won": "Won",
}
# Where each kind of spend sits in the funnel: the step it pays for.
SPEND: dict[str, tuple[str, str]] = {
    "list": ("imported", "List prices"),
    "trace": ("traced", "Skip tracing"),
    "line_check": ("verified_mobile", "Line-type checks"),
    "sms": ("texted", "Texts (SMS)"),
    "ai": ("replied", "AI drafts"),
}
MICRO = Decimal("0.000001")

FUNNEL_COLUMNS = [
    Column("step", "Step"),
    Column("leads", "Leads", "count"),
    Column("conversion_from_previous", "From previous step", "rate"),
    Column("conversion_from_top", "From imported", "rate"),
    Column("cost_usd", "Cost", "money"),
]


def page(session: Session, scope: ReportScope, now: datetime, prices: dict) -> ReportPage:
    """The funnel page over `scope`: the funnel, what was spent, unit costs, and days."""
    counts = step_counts(session, scope)
    spend, unpriced = spend_by_kind(session, scope, prices)
    funnel = funnel_table(counts, spend)
    daily = daily_table(session, scope)
    charts = [
        Chart(
            "Leads at each step",
            "bars",
            list(STEPS.values()),
            {"Leads": [counts[step] for step in STEPS]},
            table="funnel",
            unit="count",
        ),
        Chart(
            "Texts sent, replies and opt-outs a day",
            "lines",
            [f"{row['day']:%b} {row['day'].day}" for row in daily.rows],
            {
                "Texts sent": [row["sent"] for row in daily.rows],
                "Replies": [row["replies"] for row in daily.rows],
                "Opt-outs": [row["opt_outs"] for row in daily.rows],
            },
            table="daily",
            unit="count",
        ),
    ]
    notes = [
        "Which leads: those added in the range, followed to today. Each step counts the "
        "ones that reached it, whenever they did, so a range's funnel is the story of its "
        "own leads and keeps filling in while they are worked; compare ranges of the same "
        "age. The daily table counts what happened on each day, whoever it happened to.",
    ]
    if unpriced:
        notes.append(
            "AI calls of models with no price in AI_PRICES are counted at $0: "
            + ", ".join(sorted(unpriced))
            + "."
        )
    return ReportPage(
        key="funnel",
        title=TITLE,
        tables=[funnel, spend_table(spend), unit_cost_table(counts, spend), daily],
        charts=charts,
        notes=notes,
    )


# -- which leads ---------------------------------------------------------------------


def _texts(scope: ReportScope) -> list:
    """Conditions on Message: the team's texts Twilio took (or the sandbox sent), of the
    campaign or the persona's campaigns when the scope names one."""
    conditions = [Message.team_id == scope.team_id, Message.sent_at.is_not(None)]
    if scope.campaign_id:
        conditions.append(Message.campaign_id == scope.campaign_id)
    if scope.persona:
        conditions.append(
            Message.campaign_id.in_(
                select(Campaign.id).where(
                    Campaign.team_id == scope.team_id, Campaign.persona == scope.persona
                )
            )
        )
    return conditions


def _lead_filters(scope: ReportScope, lead_id) -> list:
    """Conditions on a lead id column: from the list, texted by the campaign or persona."""
    conditions = _from_list(scope, lead_id)
    if scope.campaign_id or scope.persona:
        conditions.append(lead_id.in_(select(Message.lead_id).where(*_texts(scope))))
    return conditions


def _from_list(scope: ReportScope, lead_id) -> list:
    """Conditions on a lead id column: a lead the scope's list brought (none without one)."""
    if not scope.import_id:
        return []
    return [
        lead_id.in_(
            select(LeadSource.lead_id).where(
                LeadSource.team_id == scope.team_id, LeadSource.import_id == scope.import_id
            )
        )
    ]


def _cohort(scope: ReportScope) -> list:
    """Conditions on Lead: the team's leads added in the range, narrowed by the filters."""
    return [
        Lead.team_id == scope.team_id,
        Lead.created_at >= scope.start,
        Lead.created_at < scope.end,
        *_lead_filters(scope, Lead.id),
    ]


def _deals(scope: ReportScope):
    """The team's deals with a lead (in the pipeline, when the scope names one)."""
    query = select(Deal.lead_id).where(Deal.team_id == scope.team_id, Deal.lead_id.is_not(None))
    if scope.pipeline_id:
        query = query.where(Deal.pipeline_id == scope.pipeline_id)
    return query


# -- the steps -----------------------------------------------------------------------


def step_counts(session: Session, scope: ReportScope) -> dict[str, int]:
    """How many of the scope's leads reached each step, counted in one query."""
    team_id = scope.team_id
    texted = Message.lead_id == Lead.id, *_texts(scope)
    reached = {
        "traced": Lead.traced_at.is_not(None),
        "verified_mobile": verified_mobile_exists(),
        "texted": exists().where(*texted),
        "delivered": exists().where(*texted, Message.status == "delivered"),
        "replied": Lead.id.in_(
            select(InboundMessage.lead_id).where(
                InboundMessage.team_id == team_id, InboundMessage.lead_id.is_not(None)
            )
        ),
        "positive": Lead.id.in_(
            select(InboxItem.lead_id).where(
                InboxItem.team_id == team_id,
                InboxItem.lead_id.is_not(None),
                InboxItem.label.in_(sorted(INTERESTED)),
            )
        ),
        "deal": Lead.id.in_(_deals(scope)),
        "won": Lead.id.in_(
            _deals(scope)
            .join(PipelineStage, PipelineStage.id == Deal.stage_id)
            .where(PipelineStage.outcome == "won")
        ),
    }
    row = session.execute(
        select(
            func.count(Lead.id),
            *(func.coalesce(func.sum(case((test, 1), else_=0)), 0) for test in reached.values()),
        ).where(*_cohort(scope))
    ).one()
    return {step: int(value or 0) for step, value in zip(STEPS, row, strict=True)}


# -- what it cost --------------------------------------------------------------------


def spend_by_kind(
    session: Session, scope: ReportScope, prices: dict
) -> tuple[dict[str, Decimal], set[str]]:
    """Dollars spent on the scope's leads by kind (SPEND's keys), and the AI models that
    have no price."""
    cohort = select(Lead.id).where(*_cohort(scope))
    team_id = scope.team_id

    def total(query) -> Decimal:
        return session.scalar(query) or ZERO

    trace = total(
        select(func.sum(SkipTraceResult.cost)).where(
            SkipTraceResult.team_id == team_id, SkipTraceResult.lead_id.in_(cohort)
        )
    )
    numbers = select(Phone.e164).where(
        Phone.team_id == team_id,
        or_(
            Phone.owner_id.in_(select(Lead.owner_id).where(*_cohort(scope))),
            Phone.business_id.in_(select(Lead.business_id).where(*_cohort(scope))),
        ),
    )
    line_check = total(
        select(func.sum(PhoneCheck.cost)).where(
            PhoneCheck.team_id == team_id, PhoneCheck.e164.in_(numbers)
        )
    )
    sms = total(
        select(func.sum(message_cost())).where(*_texts(scope), Message.lead_id.in_(cohort))
    )
    ai, unpriced = _ai_spend(session, scope, cohort, prices)
    spend = {
        "list": _list_spend(session, scope, cohort),
        "trace": trace,
        "line_check": line_check,
        "sms": sms,
        "ai": ai,
    }
    return spend, unpriced


def _list_spend(session: Session, scope: ReportScope, cohort) -> Decimal:
    """The lists' prices, each shared evenly among the leads it brought: a list's whole
    price when all its leads are the scope's, its share for those that are."""
    priced = dict(
        session.execute(
            select(ImportJob.id, ImportJob.list_price).where(
                ImportJob.team_id == scope.team_id, ImportJob.list_price.is_not(None)
            )
        ).all()
    )
    if not priced:
        return ZERO

    def leads_by_import(*conditions) -> dict[int, int]:
        return dict(
            session.execute(
                select(LeadSource.import_id, func.count(func.distinct(LeadSource.lead_id)))
                .where(
                    LeadSource.team_id == scope.team_id,
                    LeadSource.import_id.in_(list(priced)),
                    *conditions,
                )
                .group_by(LeadSource.import_id)
            ).all()
        )

    everyone = leads_by_import()
    ours = leads_by_import(LeadSource.lead_id.in_(cohort))
    spent = sum(
        (priced[import_id] * count / everyone[import_id] for import_id, count in ours.items()),
        ZERO,
    )
    return spent.quantize(MICRO)


def _ai_spend(
    session: Session, scope: ReportScope, cohort, prices: dict
) -> tuple[Decimal, set[str]]:
    """What the drafts written for the scope's leads' replies cost, by model."""
    rows = session.execute(
        select(
            Draft.model,
            func.sum(Draft.input_tokens),
            func.sum(Draft.output_tokens),
            func.sum(Draft.cache_read_tokens),
        )
        .join(InboxItem, InboxItem.id == Draft.item_id)
        .where(Draft.team_id == scope.team_id, Draft.model != "", InboxItem.lead_id.in_(cohort))
        .group_by(Draft.model)
    ).all()
    spent = sum(
        (ai_cost(prices, model, *(int(n or 0) for n in tokens)) for model, *tokens in rows),
        ZERO,
    )
    unpriced = {model for model, *_ in rows if model_prices(prices, model) is None}
    return spent.quantize(MICRO), unpriced


# -- the tables ----------------------------------------------------------------------


def funnel_table(counts: dict[str, int], spend: dict[str, Decimal]) -> Table:
    """The funnel: leads at each step, the conversions, and the spend each step carries."""
    by_step = {step: ZERO for step in STEPS}
    for kind, (step, _label) in SPEND.items():
        by_step[step] += spend[kind]
    rows, previous = [], None
    for step in STEPS:
        rows.append(
            {
                "step": step,
                "leads": counts[step],
                "conversion_from_previous": rate(counts[step], previous),
                "conversion_from_top": rate(counts[step], counts["imported"]),
                "cost_usd": by_step[step] if step in _PAID_STEPS else None,
            }
        )
        previous = counts[step]
    return Table(
        "funnel",
        "The funnel",
        FUNNEL_COLUMNS,
        rows,
        totals={"step": "Total cost", "cost_usd": sum(spend.values(), ZERO)},
        note=(
            "Texted: a text Twilio accepted (or the sandbox sent). Delivered: a text "
            "Twilio confirmed delivered. Replied: the owner texted back, whatever they "
            "said. Interested: a reply read as interested, a callback request, a price "
            "question or an email given. Deal and won: a deal made (won) for the lead. "
            "Each step carries its own spend: the lists at imported, skip tracing at "
            "traced, line-type checks at verified mobile, texts at texted, AI drafts at "
            "replied."
        ),
    )


_PAID_STEPS = frozenset(step for step, _label in SPEND.values())


def spend_table(spend: dict[str, Decimal]) -> Table:
    """Where the money went, by kind."""
    rows = [{"kind": label, "cost_usd": spend[kind]} for kind, (_step, label) in SPEND.items()]
    return Table(
        "spend",
        "Where the money went",
        [Column("kind", "Spent on"), Column("cost_usd", "Cost", "money")],
        rows,
        totals={"kind": "Total", "cost_usd": sum(spend.values(), ZERO)},
        note=(
            "A list's price is shared evenly among the leads it brought. A text costs "
            "Twilio's price, else the estimate made when it was drafted. AI is the drafts' "
            "tokens at the prices per model in AI_PRICES; reading replies is not counted "
            "(its tokens are not recorded). Email and calls are not sent yet."
        ),
    )


# What each unit cost divides the spend by.
UNITS: dict[str, str] = {
    "replied": "Cost per reply",
    "positive": "Cost per interested reply",
    "deal": "Cost per deal",
    "won": "Cost per won deal",
}


def unit_cost_table(counts: dict[str, int], spend: dict[str, Decimal]) -> Table:
    """The spend over replies, interested replies, deals and won deals."""
    spent = sum(spend.values(), ZERO)
    rows = [
        {
            "measure": label,
            "leads": counts[step],
            "cost_usd": (spent / counts[step]).quantize(Decimal("0.01")) if counts[step] else None,
        }
        for step, label in UNITS.items()
    ]
    return Table(
        "unit_costs",
        "What each result cost",
        [
            Column("measure", "Measure"),
            Column("leads", "Leads", "count"),
            Column("cost_usd", "Cost each", "money"),
        ],
        rows,
        totals={"measure": "All spend", "cost_usd": spent},
        note="Everything spent on the range's leads, over the leads that got each result.",
    )


def daily_table(session: Session, scope: ReportScope) -> Table:
    """Texts sent, replies and opt-outs on each day of the range (the viewer's days)."""
    team_id = scope.team_id

    def per_day(column, *conditions) -> dict[int, int]:
        day = days.day_number(session, column, scope)
        return dict(
            session.execute(
                select(day, func.count())
                .where(column >= scope.start, column < scope.end, *conditions)
                .group_by(day)
            ).all()
        )

    sent = per_day(Message.sent_at, *_texts(scope), *_from_list(scope, Message.lead_id))
    replies = per_day(
        InboundMessage.received_at,
        InboundMessage.team_id == team_id,
        *_lead_filters(scope, InboundMessage.lead_id),
    )
    opt_outs = per_day(
        ConsentEvent.at,
        ConsentEvent.team_id == team_id,
        ConsentEvent.kind == "opt_out",
        *_lead_filters(scope, ConsentEvent.lead_id),
    )
    rows = []
    for day in days.days_of(scope):
        number = (day - days.EPOCH_DAY).days
        rows.append(
            {
                "day": day,
                "sent": sent.get(number, 0),
                "replies": replies.get(number, 0),
                "opt_outs": opt_outs.get(number, 0),
            }
        )
    return Table(
        "daily",
        "Day by day",
        [
            Column("day", "Day", "date"),
            Column("sent", "Texts sent", "count"),
            Column("replies", "Replies", "count"),
            Column("opt_outs", "Opt-outs", "count"),
        ],
        rows,
        totals={
            "day": "Total",
            "sent": sum(sent.values()),
            "replies": sum(replies.values()),
            "opt_outs": sum(opt_outs.values()),
        },
        note=(
            "Texts sent: every text Twilio accepted that day (campaign touches and inbox "
            "replies). Replies: texts owners sent us. Opt-outs: numbers that asked us to "
            "stop. Days run midnight to midnight on the clock named above."
        ),
    )
