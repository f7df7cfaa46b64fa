"""What works: campaigns, templates and variants, personas, lists, skip-trace providers
and senders side by side, each with the figures a manager compares them on.

Definitions every table shares (and the campaign page's "Replied" reads):

- A text is a campaign text (`kind` "campaign") Twilio accepted or the sandbox sent
  (`sent_at` set); it counts when it was sent in the range.
- An owner's reply, or an opt-out, *answers* the latest campaign text sent to that number
  before it arrived, whenever it arrived (so the last days of a range are not cut short).
- A lead replied to a campaign (template, sender...) when a reply answered one of its
  texts to the lead: once per lead, however many texts the owner sent.
- Positive: a reply whose reading (its inbox item's label) is one of `POSITIVE_LABELS`.
- An opt-out: a STOP-type consent event (every opt-out suppression writes one, and it is
  kept when the owner opts back in) that answered one of the texts.
- 30007: texts Twilio failed for carrier filtering, over texts sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Numeric,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
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
    MessageTemplate,
    Phone,
    PhoneCheck,
    Sender,
    SkipTraceResult,
)
from console.services.replies.classify import POSITIVE_LABELS
from console.services.reports.costs import ZERO, ai_cost, message_cost
from console.services.reports.scope import ReportScope
from console.services.reports.tables import Column, ReportPage, Table, rate
from console.services.sql import without_jit
from console.services.tracing.apply import source_label
from console.services.tracing.pass_reports import ACCEPTED, provider_tallies

CARRIER_FILTERED = 30007
REPLY, POSITIVE, OPT_OUT, DRAFT = "reply", "positive", "opt_out", "draft"
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens")


# ---------------------------------------------------------------- replies and opt-outs


def answered_texts(team_id: int, since=None, *, numbers=None, with_drafts: bool = False):
    """SQL (a CTE): each reply, positive reply and opt-out of the team, with the
    campaign text it answered (`message_id`): the latest sent to its number before it.
    `since` leaves out texts sent before it (and so anything answering them); `numbers`
    (a SELECT of E.164 numbers), events from other numbers. With `with_drafts`, also
    each draft written for a reply (kind "draft", with its model and tokens), answering
    what its reply answered."""
    blank = [literal("").label("model"), *(literal(0).label(k) for k in TOKENS)]
    if numbers is not None:
        # Each number once, worked out once for every branch below.
        wanted = _materialized(numbers.distinct(), "numbers")
        numbers = select(wanted.c[0])
    branches = [
        select(
            literal(REPLY).label("kind"),
            InboundMessage.id.label("event_id"),
            InboundMessage.from_e164.label("e164"),
            InboundMessage.received_at.label("at"),
            *blank,
        ).where(
            InboundMessage.team_id == team_id,
            *_after(InboundMessage.received_at, since),
            *_among(InboundMessage.from_e164, numbers),
        ),
        select(
            literal(POSITIVE),
            InboundMessage.id,
            InboundMessage.from_e164,
            InboundMessage.received_at,
            *blank,
        )
        .join(InboxItem, InboxItem.inbound_id == InboundMessage.id)
        .where(
            InboundMessage.team_id == team_id,
            InboxItem.label.in_(POSITIVE_LABELS),
            *_after(InboundMessage.received_at, since),
            *_among(InboundMessage.from_e164, numbers),
        ),
        select(literal(OPT_OUT), ConsentEvent.id, ConsentEvent.e164, ConsentEvent.at, *blank).where(
            ConsentEvent.team_id == team_id,
            ConsentEvent.kind == "opt_out",
            *_after(ConsentEvent.at, since),
            *_among(ConsentEvent.e164, numbers),
        ),
    ]
    if with_drafts:
        branches.append(
            select(
                literal(DRAFT),
                Draft.id,
                InboundMessage.from_e164,
                InboundMessage.received_at,
                Draft.model,
                Draft.input_tokens,
                Draft.output_tokens,
                Draft.cache_read_tokens,
            )
            .join(InboxItem, InboxItem.id == Draft.item_id)
            .join(InboundMessage, InboundMessage.id == InboxItem.inbound_id)
            .where(
                Draft.team_id == team_id,
                *_after(InboundMessage.received_at, since),
                *_among(InboundMessage.from_e164, numbers),
            )
        )
    events = union_all(*branches).subquery("events")
    # The latest campaign text to the number before the event: one index probe of
    # ix_messages_team_to_sent an event.
    latest = (
        select(Message.id)
        .where(
            Message.team_id == team_id,
            Message.to_e164 == events.c.e164,
            Message.sent_at <= events.c.at,
            *_after(Message.sent_at, since),
            Message.kind == "campaign",
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(events)
        .scalar_subquery()
    )
    return _materialized(
        select(
            events.c.kind,
            events.c.event_id,
            events.c.model,
            *(events.c[k] for k in TOKENS),
            latest.label("message_id"),
        ),
        "answered",
    )


def _after(column, since) -> list:
    return [] if since is None else [column >= since]


def _among(column, numbers) -> list:
    return [] if numbers is None else [column.in_(numbers)]


def replied_leads(session: Session, team_id: int, campaign_ids: list[int]) -> dict[int, int]:
    """Per campaign (any time): the leads whose reply answered one of its texts (the
    campaign page's "Replied", by the same rule as the report)."""
    if not campaign_ids:
        return {}
    # Nothing before the campaigns' first text can answer one of them.
    first_text = session.scalar(
        select(func.min(Message.sent_at)).where(
            Message.team_id == team_id, Message.campaign_id.in_(campaign_ids)
        )
    )
    if first_text is None:
        return {}
    # One campaign's replies are looked for among the numbers it texted; for many, a
    # list of every number they texted costs more than it saves.
    numbers = None
    if len(campaign_ids) == 1:
        numbers = select(Message.to_e164).where(
            Message.team_id == team_id, Message.campaign_id == campaign_ids[0]
        )
    without_jit(session)
    answered = answered_texts(team_id, first_text, numbers=numbers)
    return dict(
        session.execute(
            select(Message.campaign_id, func.count(distinct(Message.lead_id)))
            .join(answered, answered.c.message_id == Message.id)
            .where(answered.c.kind == REPLY, Message.campaign_id.in_(campaign_ids))
            .group_by(Message.campaign_id)
        ).all()
    )


# ---------------------------------------------------------------- figures of texts


@dataclass
class TextFigures:
    """What a group of texts came to (a campaign's, a template variant's, a sender's)."""

    sent: int = 0
    delivered: int = 0
    leads: int = 0
    filtered: int = 0
    sms_cost: Decimal = ZERO
    replied: int = 0
    positive: int = 0
    opted_out: int = 0
    ai_cost: Decimal = ZERO

    def add(self, other: TextFigures) -> None:
        for key in self.__dataclass_fields__:
            setattr(self, key, getattr(self, key) + getattr(other, key))

    def row(self) -> dict:
        """The figures as a table row: counts, rates over leads texted or texts sent."""
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "leads": self.leads,
            "replied": self.replied,
            "reply_rate": rate(self.replied, self.leads),
            "positive": self.positive,
            "positive_rate": rate(self.positive, self.leads),
            "opted_out": self.opted_out,
            "opt_out_rate": rate(self.opted_out, self.leads),
            "filtered": self.filtered,
            "filtered_rate": rate(self.filtered, self.sent),
            "delivery_rate": rate(self.delivered, self.sent),
            "sms_cost": self.sms_cost,
            "ai_cost": self.ai_cost,
            "cost": self.sms_cost + self.ai_cost,
        }


def _text_filters(scope: ReportScope) -> list[ColumnElement]:
    """The scope's filters on the texts counted (pipeline does not apply)."""
    conditions = []
    if scope.campaign_id:
        conditions.append(Message.campaign_id == scope.campaign_id)
    if scope.import_id:
        conditions.append(
            Message.lead_id.in_(
                select(LeadSource.lead_id).where(
                    LeadSource.team_id == scope.team_id, LeadSource.import_id == scope.import_id
                )
            )
        )
    if scope.persona:
        conditions.append(
            Message.campaign_id.in_(
                select(Campaign.id).where(
                    Campaign.team_id == scope.team_id, Campaign.persona == scope.persona
                )
            )
        )
    return conditions


# The groupings of texts the page shows: table -> the Message columns of its key.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "campaigns": ("campaign_id",),
    "templates": ("template_id", "variant"),
    "senders": ("sender_id",),
}


def text_figures(
    session: Session, scope: ReportScope, prices: dict
) -> dict[str, dict[tuple, TextFigures]]:
    """The scope's campaign texts by each of `GROUPINGS`: sent, delivered, leads texted,
    30007s, SMS cost; leads that replied, replied positively and opted out; and the AI
    spent drafting answers to those replies. One statement: the range's texts are read
    once, and each reply's text looked up once."""
    without_jit(session)
    texts = _materialized(
        select(
            Message.id,
            Message.campaign_id,
            Message.template_id,
            Message.variant,
            Message.sender_id,
            Message.lead_id,
            Message.to_e164,
            case((Message.status == "delivered", 1), else_=0).label("delivered"),
            case((Message.error_code == CARRIER_FILTERED, 1), else_=0).label("filtered"),
            message_cost().label("cost"),
        ).where(
            Message.team_id == scope.team_id,
            Message.kind == "campaign",
            Message.sent_at >= scope.start,
            Message.sent_at < scope.end,
            *_text_filters(scope),
        ),
        "texts",
    )
    answered = answered_texts(
        scope.team_id, scope.start, numbers=select(texts.c.to_e164), with_drafts=True
    )
    pairs = _materialized(
        select(texts, answered.c.kind, answered.c.model, *(answered.c[k] for k in TOKENS)).join(
            answered, answered.c.message_id == texts.c.id
        ),
        "pairs",
    )
    parts = [
        _grouped(name, rows, about_texts)
        for name in GROUPINGS
        for rows, about_texts in ((texts, True), (pairs, False))
    ]
    found: dict[str, dict[tuple, TextFigures]] = {name: {} for name in GROUPINGS}
    counted = {REPLY: "replied", POSITIVE: "positive", OPT_OUT: "opted_out"}
    for (
        name,
        k1,
        k2,
        kind,
        model,
        leads,
        count,
        delivered,
        filtered,
        cost,
        *tokens,
    ) in session.execute(union_all(*parts)):
        figures = found[name].setdefault((k1, k2)[: len(GROUPINGS[name])], TextFigures())
        if not kind:
            figures.sent, figures.delivered, figures.leads = count, delivered or 0, leads
            figures.filtered, figures.sms_cost = filtered or 0, Decimal(cost or 0)
        elif kind == DRAFT:
            figures.ai_cost += ai_cost(prices, model, *(int(t or 0) for t in tokens))
        else:
            setattr(figures, counted[kind], leads)
    return found


def _grouped(name: str, rows, about_texts: bool):
    """One part of `text_figures`' statement: the CTE `rows` (texts, or answered texts
    with their kind) grouped by `name`'s key; the columns of both kinds line up."""
    key = [rows.c[column] for column in GROUPINGS[name]]
    second = key[1] if len(key) > 1 else cast(null(), String)
    whole, money = cast(null(), BigInteger), cast(null(), Numeric)
    if about_texts:
        kind = [literal(""), literal("")]
        sums = [func.sum(rows.c.delivered), func.sum(rows.c.filtered), func.sum(rows.c.cost)]
        sums += [whole] * len(TOKENS)
        extra = []
    else:
        kind = extra = [rows.c.kind, rows.c.model]
        sums = [whole, whole, money, *(func.sum(rows.c[k]) for k in TOKENS)]
    return select(
        literal(name).label("grouping"),
        key[0].label("k1"),
        second.label("k2"),
        kind[0].label("kind"),
        kind[1].label("model"),
        func.count(distinct(rows.c.lead_id)).label("leads"),
        func.count().label("count"),
        *(value.label(f"v{i}") for i, value in enumerate(sums)),
    ).group_by(*key, *extra)


def _materialized(query, name: str):
    """`query` as a CTE computed once for the statement (PostgreSQL and SQLite)."""
    return query.cte(name).prefix_with("MATERIALIZED")


TEXT_COLUMNS = [
    Column("sent", "Sent", "count"),
    Column("delivered", "Delivered", "count"),
    Column("leads", "Leads texted", "count"),
    Column("replied", "Replied", "count"),
    Column("reply_rate", "Reply rate", "rate"),
    Column("positive", "Positive", "count"),
    Column("positive_rate", "Positive rate", "rate"),
    Column("opted_out", "Opted out", "count"),
    Column("opt_out_rate", "Opt-out rate", "rate"),
    Column("filtered_rate", "30007 rate", "rate"),
    Column("sms_cost", "SMS", "money"),
    Column("ai_cost", "AI", "money"),
    Column("cost", "Cost", "money"),
]
RULES_NOTE = (
    "Texts sent in the range; a reply or opt-out counts for the latest text sent to its "
    "number before it, whenever it came, once per lead. Rates are over leads texted "
    "(30007: over texts sent). Positive: read as {labels}. Opted out: STOP-type "
    "opt-outs. AI: tokens of the drafts written for those replies."
)


def _rules_note() -> str:
    return RULES_NOTE.format(
        labels=", ".join(label.replace("_", " ").lower() for label in POSITIVE_LABELS)
    )


def _totals(label_key: str, label: str, figures: Iterable[TextFigures]) -> dict:
    total = TextFigures()
    for one in figures:
        total.add(one)
    return {label_key: label, **total.row()}


def campaigns_table(session: Session, scope: ReportScope, found: dict) -> Table:
    """By campaign: the texts' figures (`text_figures`), linked to each campaign."""
    names = dict(
        session.execute(
            select(Campaign.id, Campaign.name).where(
                Campaign.team_id == scope.team_id, Campaign.id.in_([k[0] for k in found])
            )
        ).all()
    )
    rows = [
        {
            "campaign": names.get(cid, "(no campaign)"),
            "link": f"/campaigns/{cid}" if cid in names else "",
            **figures.row(),
        }
        for (cid,), figures in sorted(found.items(), key=lambda kv: _last_if_none(names, kv[0][0]))
    ]
    return Table(
        "campaigns",
        "By campaign",
        [Column("campaign", "Campaign", "text", "link"), *TEXT_COLUMNS],
        rows,
        _totals("campaign", "Total", found.values()),
        _rules_note(),
    )


def _last_if_none(names: dict, key) -> tuple:
    """Sort by name, rows without a known name last."""
    return (key not in names, names.get(key, ""))


def templates_table(session: Session, scope: ReportScope, found: dict) -> Table:
    """By template and variant: the texts' figures, linked to each template."""
    names = dict(
        session.execute(
            select(MessageTemplate.id, MessageTemplate.name).where(
                MessageTemplate.team_id == scope.team_id,
                MessageTemplate.id.in_([k[0] for k in found]),
            )
        ).all()
    )
    ordered = sorted(
        found.items(), key=lambda kv: (*_last_if_none(names, kv[0][0]), kv[0][1] or "")
    )
    rows = [
        {
            "template": names.get(tid, "(no template)"),
            "variant": variant,
            "link": f"/templates/{tid}" if tid in names else "",
            **figures.row(),
        }
        for (tid, variant), figures in ordered
    ]
    return Table(
        "templates",
        "By template and variant",
        [
            Column("template", "Template", "text", "link"),
            Column("variant", "Variant"),
            *TEXT_COLUMNS,
        ],
        rows,
        _totals("template", "Total", found.values()),
        _rules_note(),
    )


def senders_table(session: Session, scope: ReportScope, found: dict) -> Table:
    """By sender: volume, delivery, 30007 and opt-out rates, and whether it is paused now."""
    senders = {
        sender.id: sender
        for sender in session.scalars(
            select(Sender).where(
                Sender.team_id == scope.team_id, Sender.id.in_([k[0] for k in found])
            )
        )
    }
    rows = []
    for (sid,), figures in sorted(
        found.items(), key=lambda kv: _sender_name(senders.get(kv[0][0]))
    ):
        sender = senders.get(sid)
        paused = ""
        if sender is not None and sender.paused:
            paused = f"Paused: {sender.paused_reason}" if sender.paused_reason else "Paused"
        rows.append({"sender": _sender_name(sender), "paused": paused, **figures.row()})
    columns = [
        Column("sender", "Sender"),
        Column("sent", "Volume", "count"),
        Column("delivered", "Delivered", "count"),
        Column("delivery_rate", "Delivery rate", "rate"),
        Column("filtered", "30007", "count"),
        Column("filtered_rate", "30007 rate", "rate"),
        Column("leads", "Leads texted", "count"),
        Column("opted_out", "Opted out", "count"),
        Column("opt_out_rate", "Opt-out rate", "rate"),
        Column("paused", "Paused now"),
    ]
    note = (
        "Campaign texts sent in the range from each sender; opt-outs count for the sender "
        "of the latest text before them, once per lead, over leads texted. Paused: the "
        "sender's state now, with the reason given when it was paused."
    )
    return Table(
        "senders", "By sender", columns, rows, _totals("sender", "Total", found.values()), note
    )


def _sender_name(sender: Sender | None) -> str:
    if sender is None:
        return "(no sender)"
    return f"{sender.label} ({sender.address})"


# ---------------------------------------------------------------- personas


def personas_table(session: Session, scope: ReportScope) -> Table:
    """By persona: drafts written in the range, how many went out as drafted or edited,
    and how many the owner answered (positively) before the next draft went out."""
    conditions = [
        Draft.team_id == scope.team_id,
        Draft.created_at >= scope.start,
        Draft.created_at < scope.end,
    ]
    if scope.persona:
        conditions.append(Draft.persona == scope.persona)
    if scope.campaign_id:
        conditions.append(InboxItem.campaign_id == scope.campaign_id)
    if scope.import_id:
        conditions.append(
            InboxItem.lead_id.in_(
                select(LeadSource.lead_id).where(
                    LeadSource.team_id == scope.team_id, LeadSource.import_id == scope.import_id
                )
            )
        )
    drafts = (
        select(
            Draft.id,
            Draft.persona,
            Draft.state,
            Draft.edited,
            InboxItem.conversation_id,
            Message.sent_at,
        )
        .join(InboxItem, InboxItem.id == Draft.item_id)
        .outerjoin(Message, and_(Message.id == Draft.message_id, Message.sent_at.is_not(None)))
        .where(*conditions)
        .subquery("drafts")
    )
    # Every sent reply of the team's conversations, with the next one: a reply answers
    # the draft sent last before it.
    sent = (
        select(
            Message.conversation_id,
            Message.sent_at,
            func.lead(Message.sent_at)
            .over(partition_by=Message.conversation_id, order_by=(Message.sent_at, Message.id))
            .label("next_at"),
        )
        .where(
            Message.team_id == scope.team_id,
            Message.kind == "reply",
            Message.sent_at >= scope.start,
        )
        .subquery("sent")
    )
    window = and_(
        InboundMessage.conversation_id == drafts.c.conversation_id,
        InboundMessage.received_at > drafts.c.sent_at,
        or_(sent.c.next_at.is_(None), InboundMessage.received_at <= sent.c.next_at),
    )
    answered = select(InboundMessage.id).where(window).exists()
    positive = (
        select(InboundMessage.id)
        .join(InboxItem, InboxItem.inbound_id == InboundMessage.id)
        .where(window, InboxItem.label.in_(POSITIVE_LABELS))
        .exists()
    )
    is_sent = drafts.c.state == "sent"
    rows = session.execute(
        select(
            drafts.c.persona,
            func.count(),
            func.sum(case((is_sent & drafts.c.edited.is_(False), 1), else_=0)),
            func.sum(case((is_sent & drafts.c.edited.is_(True), 1), else_=0)),
            func.sum(case((answered, 1), else_=0)),
            func.sum(case((positive, 1), else_=0)),
        )
        .outerjoin(
            sent,
            and_(
                sent.c.conversation_id == drafts.c.conversation_id,
                sent.c.sent_at == drafts.c.sent_at,
            ),
        )
        .group_by(drafts.c.persona)
        .order_by(drafts.c.persona)
    ).all()
    table_rows = [_persona_row(persona or "(none)", *figures) for persona, *figures in rows]
    sums = [sum(row[i] or 0 for row in rows) for i in range(1, 6)]
    columns = [
        Column("persona", "Persona"),
        Column("drafts", "Drafts", "count"),
        Column("as_drafted", "Sent as drafted", "count"),
        Column("as_drafted_rate", "Sent as drafted %", "rate"),
        Column("edited", "Sent edited", "count"),
        Column("edited_rate", "Edited %", "rate"),
        Column("replies_after", "Replies after", "count"),
        Column("positive_after", "Positive after", "count"),
    ]
    note = (
        "Drafts written in the range (AI or the persona's template), on replies of the "
        "chosen campaign and list. % are of drafts written. Replies after: sent drafts "
        "the owner answered before the next reply went out; positive after: that answer "
        "was read as interested."
    )
    return Table("personas", "By persona", columns, table_rows, _persona_row("Total", *sums), note)


def _persona_row(persona: str, drafts, as_drafted, edited, replies, positive) -> dict:
    return {
        "persona": persona,
        "drafts": drafts or 0,
        "as_drafted": as_drafted or 0,
        "as_drafted_rate": rate(as_drafted or 0, drafts),
        "edited": edited or 0,
        "edited_rate": rate(edited or 0, drafts),
        "replies_after": replies or 0,
        "positive_after": positive or 0,
    }


# ---------------------------------------------------------------- lists


def imports_table(session: Session, scope: ReportScope) -> Table:
    """By list: the leads of the imports made in the range, and what became of them
    since: traced, texted, replied, deals, and everything they cost."""
    imports = select(ImportJob.id, ImportJob.filename, ImportJob.list_price).where(
        ImportJob.team_id == scope.team_id,
        ImportJob.created_at >= scope.start,
        ImportJob.created_at < scope.end,
    )
    if scope.import_id:
        imports = imports.where(ImportJob.id == scope.import_id)
    jobs = session.execute(imports.order_by(ImportJob.created_at, ImportJob.id)).all()
    ids = [job.id for job in jobs]
    members = (
        select(LeadSource.import_id, LeadSource.lead_id)
        .where(LeadSource.team_id == scope.team_id, LeadSource.import_id.in_(ids))
        .distinct()
        .subquery("members")
    )
    texts = [
        Message.team_id == scope.team_id,
        Message.kind == "campaign",
        Message.sent_at.is_not(None),
    ]
    if scope.campaign_id:
        texts.append(Message.campaign_id == scope.campaign_id)

    def per_import(*columns, where=()) -> dict:
        query = select(members.c.import_id, *columns).select_from(members)
        for join in where:
            query = join(query)
        return {row[0]: row[1:] for row in session.execute(query.group_by(members.c.import_id))}

    leads = per_import(func.count(members.c.lead_id))
    traced = per_import(
        func.count(distinct(SkipTraceResult.lead_id)),
        func.sum(SkipTraceResult.cost),
        where=[
            lambda q: q.join(
                SkipTraceResult,
                and_(
                    SkipTraceResult.lead_id == members.c.lead_id,
                    SkipTraceResult.team_id == scope.team_id,
                ),
            )
        ],
    )
    # The members' campaign texts, read once: what they cost, and which were answered.
    member_texts = _materialized(
        select(
            members.c.import_id,
            Message.id,
            Message.lead_id,
            Message.to_e164,
            message_cost().label("cost"),
        ).join(Message, and_(Message.lead_id == members.c.lead_id, *texts)),
        "member_texts",
    )
    answered = answered_texts(scope.team_id, numbers=select(member_texts.c.to_e164))
    texted_part = select(
        literal(True).label("texted"),
        member_texts.c.import_id,
        func.count(distinct(member_texts.c.lead_id)),
        func.sum(member_texts.c.cost),
    ).group_by(member_texts.c.import_id)
    replied_part = (
        select(
            literal(False),
            member_texts.c.import_id,
            func.count(distinct(member_texts.c.lead_id)),
            cast(null(), Numeric),
        )
        .join(
            answered,
            and_(answered.c.message_id == member_texts.c.id, answered.c.kind == REPLY),
        )
        .group_by(member_texts.c.import_id)
    )
    texted, replied = {}, {}
    for is_texted, import_id, count, cost in session.execute(union_all(texted_part, replied_part)):
        if is_texted:
            texted[import_id] = (count, cost)
        else:
            replied[import_id] = (count,)
    deals = per_import(
        func.count(distinct(Deal.lead_id)),
        where=[
            lambda q: q.join(
                Deal, and_(Deal.lead_id == members.c.lead_id, Deal.team_id == scope.team_id)
            )
        ],
    )
    checks = _line_check_costs(session, scope.team_id, members)
    rows, sums = [], dict.fromkeys(("leads", "traced", "texted", "replied", "deals"), 0)
    cost_keys = ("list_cost", "trace_cost", "check_cost", "sms_cost", "cost")
    money_sums = dict.fromkeys(cost_keys, ZERO)
    for job in jobs:
        row = {
            "import": job.filename,
            "link": f"/imports/{job.id}",
            "leads": leads.get(job.id, (0,))[0],
            "traced": traced.get(job.id, (0, None))[0],
            "texted": texted.get(job.id, (0, None))[0],
            "replied": replied.get(job.id, (0,))[0],
            "deals": deals.get(job.id, (0,))[0],
            "list_cost": job.list_price or ZERO,
            "trace_cost": Decimal(traced.get(job.id, (0, 0))[1] or 0),
            "check_cost": checks.get(job.id, ZERO),
            "sms_cost": Decimal(texted.get(job.id, (0, 0))[1] or 0),
        }
        row["cost"] = row["list_cost"] + row["trace_cost"] + row["check_cost"] + row["sms_cost"]
        for key in sums:
            sums[key] += row[key]
        for key in cost_keys:
            money_sums[key] += row[key]
        rows.append(_import_rates(row))
    columns = [
        Column("import", "List", "text", "link"),
        Column("leads", "Leads", "count"),
        Column("traced", "Traced", "count"),
        Column("texted", "Texted", "count"),
        Column("replied", "Replied", "count"),
        Column("reply_rate", "Reply rate", "rate"),
        Column("deals", "Deals", "count"),
        Column("list_cost", "List price", "money"),
        Column("trace_cost", "Skip trace", "money"),
        Column("check_cost", "Line checks", "money"),
        Column("sms_cost", "SMS", "money"),
        Column("cost", "Cost", "money"),
        Column("cost_per_deal", "Cost per deal", "money"),
    ]
    note = (
        "Lists imported in the range, and what became of their leads since, whenever it "
        "happened (a list is judged on its whole life; a lead merged from two lists counts "
        "in both). Traced: leads a skip-trace provider was called for. Texted: leads sent "
        "a campaign text. Replied: leads whose reply answered one. Deals: leads with a "
        "deal. Cost: the list's price, the skip-trace calls, the line checks of its leads' "
        "numbers and the campaign texts to them."
    )
    totals = _import_rates({"import": "Total", **sums, **money_sums})
    return Table("imports", "By list", columns, rows, totals, note)


def _import_rates(row: dict) -> dict:
    row["reply_rate"] = rate(row["replied"], row["texted"])
    row["cost_per_deal"] = (
        (row["cost"] / row["deals"]).quantize(Decimal("0.01")) if row["deals"] else None
    )
    return row


def _line_check_costs(session: Session, team_id: int, members) -> dict[int, Decimal]:
    """Per import: what the line checks of its leads' numbers (owner's or business's)
    cost, each number's check counted once for a list."""
    numbers = union_all(
        select(members.c.import_id, Phone.e164)
        .join(Lead, Lead.id == members.c.lead_id)
        .join(Phone, and_(Phone.owner_id == Lead.owner_id, Phone.team_id == team_id)),
        select(members.c.import_id, Phone.e164)
        .join(Lead, Lead.id == members.c.lead_id)
        .join(Phone, and_(Phone.business_id == Lead.business_id, Phone.team_id == team_id)),
    ).subquery("numbers")
    distinct_numbers = select(numbers.c.import_id, numbers.c.e164).distinct().subquery("each")
    return {
        import_id: Decimal(cost or 0)
        for import_id, cost in session.execute(
            select(distinct_numbers.c.import_id, func.sum(PhoneCheck.cost))
            .join(
                PhoneCheck,
                and_(PhoneCheck.e164 == distinct_numbers.c.e164, PhoneCheck.team_id == team_id),
            )
            .group_by(distinct_numbers.c.import_id)
        )
    }


# ---------------------------------------------------------------- providers


def providers_table(session: Session, scope: ReportScope) -> Table:
    """By skip-trace provider: searches, hits and hit rate (`pass_reports`' tallies),
    the mobiles it found that a line check confirmed, cost and cost per such mobile."""
    conditions = [
        SkipTraceResult.team_id == scope.team_id,
        SkipTraceResult.created_at >= scope.start,
        SkipTraceResult.created_at < scope.end,
    ]
    if scope.import_id:
        conditions.append(
            SkipTraceResult.lead_id.in_(
                select(LeadSource.lead_id).where(
                    LeadSource.team_id == scope.team_id, LeadSource.import_id == scope.import_id
                )
            )
        )
    tallies = provider_tallies(session, *conditions)
    names = {
        tally.name: (source_label(tally.name, False), source_label(tally.name, True))
        for tally in tallies
    }
    verified = {}
    for name, labels in names.items():
        verified[name] = session.scalar(
            select(func.count(distinct(SkipTraceResult.lead_id)))
            .join(Lead, Lead.id == SkipTraceResult.lead_id)
            .join(Phone, and_(Phone.owner_id == Lead.owner_id, Phone.team_id == scope.team_id))
            .where(
                *conditions,
                ACCEPTED,
                SkipTraceResult.provider_name == name,
                Phone.verified_mobile,
                Phone.source.in_(labels),
            )
        )
    rows = [
        _provider_row(t.name, t.calls, t.found, t.errors, verified[t.name], t.cost) for t in tallies
    ]
    totals = _provider_row(
        "Total",
        sum(t.calls for t in tallies),
        sum(t.found for t in tallies),
        sum(t.errors for t in tallies),
        sum(verified.values()),
        sum((t.cost for t in tallies), ZERO),
    )
    columns = [
        Column("provider", "Provider"),
        Column("searches", "Searches", "count"),
        Column("hits", "Hits", "count"),
        Column("hit_rate", "Hit rate", "rate"),
        Column("verified_mobiles", "Verified mobiles", "count"),
        Column("cost", "Cost", "money"),
        Column("cost_per_verified_mobile", "Cost per verified mobile", "money"),
    ]
    note = (
        "Skip-trace calls made in the range. Hits: calls that found someone; hit rate: "
        "hits over calls answered (errors left out), as on a pass's page. Verified "
        "mobiles: leads whose accepted result came from the provider and who have a "
        "number from it that a line check found to be a textable mobile. Cost: the calls' "
        "(line checks are counted by list, above)."
    )
    return Table("providers", "By skip-trace provider", columns, rows, totals, note)


def _provider_row(name, calls, found, errors, verified, cost) -> dict:
    return {
        "provider": name,
        "searches": calls,
        "hits": found,
        "hit_rate": rate(found, calls - errors),
        "verified_mobiles": verified,
        "cost": cost,
        "cost_per_verified_mobile": (cost / verified).quantize(Decimal("0.0001"))
        if verified
        else None,
    }


# ---------------------------------------------------------------- the page


def page(session: Session, scope: ReportScope, now, prices: dict) -> ReportPage:
    """The "What works" report over `scope`."""
    notes = []
    if scope.pipeline_id:
        notes.append("The pipeline filter does not apply to this page: it compares sources.")
    texts = text_figures(session, scope, prices)
    return ReportPage(
        "works",
        "What works",
        [
            campaigns_table(session, scope, texts["campaigns"]),
            templates_table(session, scope, texts["templates"]),
            personas_table(session, scope),
            imports_table(session, scope),
            providers_table(session, scope),
            senders_table(session, scope, texts["senders"]),
        ],
        notes=notes,
    )


# The tables, each a `report` command of the same name.
TABLES = ("campaigns", "templates", "personas", "imports", "providers", "senders")
