"""The funnel with its cost: how many leads reached each step in a range, from
imported to won, what was spent in it at each step, what a reply, an interested reply,
a deal and a won deal cost, and what happened each day (texts, replies, opt-outs).

Which leads: each step counts the leads that reached it within the range (days on the
viewer's clock): added, traced, found a verified mobile, texted, delivered, replied,
replied with interest, made a deal, won one. Lists are bought and worked for weeks, so
"the last 30 days" means the work done in them, as the pipeline and the bills count it;
the costs are what was spent in the range, so they match the month's invoices, and two
ranges side by side compare like for like. A step may outrun the one before it (texts
this month to a list bought last month). The filters narrow the leads: a list to its
leads, a campaign (or a persona's campaigns) to the leads it texted and its own texts,
and a pipeline the deals counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, or_, select, union
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
from console.services.replies.classify import POSITIVE_LABELS
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
    texts = text_figures(session, scope)
    counts = step_counts(session, scope, texts)
    spend, unpriced = spend_by_kind(session, scope, prices, texts)
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
        "Each step counts the leads that reached it within these days, and the costs are "
        "what was spent in them: lists are bought and worked over weeks, so a range shows "
        "the work done in it, as the pipeline and the month's bills count it, and two "
        "ranges compare like for like. A step can outrun the one before it (texts this "
        "month to a list bought last month).",
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


# -- the steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class TextFigures:
    """The texts of the range in one pass over them: the leads texted, the leads with a
    text delivered, and what the texts cost."""

    texted: int
    delivered: int
    cost: Decimal


def text_figures(session: Session, scope: ReportScope) -> TextFigures:
    """The range's texts (of the scope's campaign or persona, to the scope's list's
    leads) read once: a team can have a million texts, and three passes cost three
    times one."""
    delivered_lead = case((Message.status == "delivered", Message.lead_id))
    texted, delivered, cost = session.execute(
        select(
            func.count(func.distinct(Message.lead_id)),
            func.count(func.distinct(delivered_lead)),
            func.sum(message_cost()),
        ).where(
            *_texts(scope),
            Message.sent_at >= scope.start,
            Message.sent_at < scope.end,
            *_from_list(scope, Message.lead_id),
        )
    ).one()
    return TextFigures(texted or 0, delivered or 0, cost or ZERO)


def step_counts(
    session: Session, scope: ReportScope, texts: TextFigures | None = None
) -> dict[str, int]:
    """How many leads reached each step in the scope's range (`texts`: the range's texts
    read already)."""
    team_id = scope.team_id
    texts = texts or text_figures(session, scope)

    def leads(column, *conditions) -> int:
        return (
            session.scalar(
                select(func.count(func.distinct(column))).where(
                    column.is_not(None), *conditions, *_lead_filters(scope, column)
                )
            )
            or 0
        )

    def within(column) -> list:
        return [column >= scope.start, column < scope.end]

    deals = [Deal.team_id == team_id, *within(Deal.created_at)]
    won = [
        Deal.team_id == team_id,
        Deal.closed_on >= scope.first_day,
        Deal.closed_on <= scope.last_day,
        Deal.stage_id.in_(select(PipelineStage.id).where(PipelineStage.outcome == "won")),
    ]
    if scope.pipeline_id:
        deals.append(Deal.pipeline_id == scope.pipeline_id)
        won.append(Deal.pipeline_id == scope.pipeline_id)
    return {
        "imported": leads(Lead.id, Lead.team_id == team_id, *within(Lead.created_at)),
        "traced": leads(Lead.id, Lead.team_id == team_id, *within(Lead.traced_at)),
        "verified_mobile": _verified_mobiles(session, scope),
        "texted": texts.texted,
        "delivered": texts.delivered,
        "replied": leads(
            InboundMessage.lead_id,
            InboundMessage.team_id == team_id,
            *within(InboundMessage.received_at),
        ),
        "positive": leads(
            InboxItem.lead_id,
            InboxItem.team_id == team_id,
            InboxItem.label.in_(POSITIVE_LABELS),
            *within(InboxItem.created_at),
        ),
        "deal": leads(Deal.lead_id, *deals),
        "won": leads(Deal.lead_id, *won),
    }


def _verified_mobiles(session: Session, scope: ReportScope) -> int:
    """Leads with a number a line-type check in the range found to be a textable mobile."""
    checked = [
        Phone.team_id == scope.team_id,
        Phone.verified_mobile,
        Phone.validated_at >= scope.start,
        Phone.validated_at < scope.end,
    ]
    found = union(
        select(Lead.id).join(Phone, Phone.owner_id == Lead.owner_id).where(*checked),
        select(Lead.id).join(Phone, Phone.business_id == Lead.business_id).where(*checked),
    ).subquery()
    return (
        session.scalar(
            select(func.count()).select_from(found).where(*_lead_filters(scope, found.c.id))
        )
        or 0
    )


# -- what it cost --------------------------------------------------------------------


def spend_by_kind(
    session: Session, scope: ReportScope, prices: dict, texts: TextFigures | None = None
) -> tuple[dict[str, Decimal], set[str]]:
    """Dollars spent in the range by kind (SPEND's keys), on the scope's leads when a
    filter names some, and the AI models that have no price (`texts`: the range's texts
    read already)."""
    team_id = scope.team_id
    texts = texts or text_figures(session, scope)

    def total(query) -> Decimal:
        return session.scalar(query) or ZERO

    def within(column) -> list:
        return [column >= scope.start, column < scope.end]

    trace = total(
        select(func.sum(SkipTraceResult.cost)).where(
            SkipTraceResult.team_id == team_id,
            *within(SkipTraceResult.created_at),
            *_lead_filters(scope, SkipTraceResult.lead_id),
        )
    )
    checks = [PhoneCheck.team_id == team_id, *within(PhoneCheck.checked_at)]
    if _lead_filters(scope, Lead.id):
        leads = select(Lead.owner_id, Lead.business_id).where(
            Lead.team_id == team_id, *_lead_filters(scope, Lead.id)
        )
        numbers = select(Phone.e164).where(
            Phone.team_id == team_id,
            or_(
                Phone.owner_id.in_(leads.with_only_columns(Lead.owner_id)),
                Phone.business_id.in_(leads.with_only_columns(Lead.business_id)),
            ),
        )
        checks.append(PhoneCheck.e164.in_(numbers))
    line_check = total(select(func.sum(PhoneCheck.cost)).where(*checks))
    sms = texts.cost
    ai, unpriced = _ai_spend(session, scope, prices)
    spend = {
        "list": _list_spend(session, scope),
        "trace": trace,
        "line_check": line_check,
        "sms": sms,
        "ai": ai,
    }
    return spend, unpriced


def _list_spend(session: Session, scope: ReportScope) -> Decimal:
    """The prices of the lists imported in the range (the scope's list alone when it
    names one); when a campaign or persona narrows the leads, each list's price is
    shared evenly among its leads and only the share of those leads counts."""
    query = select(ImportJob.id, ImportJob.list_price).where(
        ImportJob.team_id == scope.team_id,
        ImportJob.list_price.is_not(None),
        ImportJob.created_at >= scope.start,
        ImportJob.created_at < scope.end,
    )
    if scope.import_id:
        query = query.where(ImportJob.id == scope.import_id)
    priced = dict(session.execute(query).all())
    if not priced or not (scope.campaign_id or scope.persona):
        return sum(priced.values(), ZERO)

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
    ours = leads_by_import(*_lead_filters(scope, LeadSource.lead_id))
    spent = sum(
        (priced[import_id] * count / everyone[import_id] for import_id, count in ours.items()),
        ZERO,
    )
    return spent.quantize(MICRO)


def _ai_spend(session: Session, scope: ReportScope, prices: dict) -> tuple[Decimal, set[str]]:
    """What the drafts written in the range cost, by model."""
    rows = session.execute(
        select(
            Draft.model,
            func.sum(Draft.input_tokens),
            func.sum(Draft.output_tokens),
            func.sum(Draft.cache_read_tokens),
        )
        .join(InboxItem, InboxItem.id == Draft.item_id)
        .where(
            Draft.team_id == scope.team_id,
            Draft.model != "",
            Draft.created_at >= scope.start,
            Draft.created_at < scope.end,
            *_lead_filters(scope, InboxItem.lead_id),
        )
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
            "question or an email given. Deal: a deal made for the lead; won: a deal closed "
            "as won. "
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
        note="Everything spent in the range, over the leads that got each result in it.",
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
