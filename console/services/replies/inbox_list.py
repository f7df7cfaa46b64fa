"""The inbox list: what a reviewer sees (views, filters, counts, CSV export) and how
drafts fared; read only, the actions are in `inbox`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from console.models import Deal, Draft, InboxItem, Lead, Message
from console.models.base import utcnow
from console.services.deals import tasks
from console.services.numbers import whole_number
from console.services.replies import priority, reading
from console.services.replies.inbox import WORKING_STATES

VIEWS: dict[str, str] = {
    "open": "To do",
    "escalated": "Escalated",
    "processing": "Being read",
    "done": "Done",
    "all": "All",
}
# Items an owner waits on: being read, open or escalated (the "To do" view).
WAITING_STATES = (*WORKING_STATES, "processing")
EXPORT_COLUMNS = (
    "item", "received", "number", "lead", "business", "campaign", "text", "label",
    "confidence", "read_by", "priority", "bucket", "route", "sla_due", "breached", "persona",
    "state", "resolution", "assignee", "extracted",
)  # fmt: skip


@dataclass
class InboxFilters:
    """What the reviewer narrowed the inbox to (all optional)."""

    view: str = "open"
    bucket: str = ""
    label: str = ""
    campaign: int | None = None
    persona: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    breached: bool = False
    unmatched: bool = False
    # Only items waiting for a person longer than this many hours (the Operations alert).
    waiting: int | None = None
    # Only items whose reading failed or fell back to the rules.
    unread: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> InboxFilters:
        """Filters from a query string (unknown values are ignored)."""
        return cls(
            view=args.get("view", "open") if args.get("view", "open") in VIEWS else "open",
            bucket=args.get("bucket", "")
            if args.get("bucket", "") in priority.BUCKET_NAMES
            else "",
            label=args.get("label", "").upper(),
            campaign=whole_number(args.get("campaign")),
            persona=args.get("persona", "").upper(),
            assignee=_assignee_arg(args.get("assignee", "")),
            breached=args.get("breached") in ("1", "on", "true"),
            unmatched=args.get("unmatched") in ("1", "on", "true"),
            waiting=whole_number(args.get("waiting")),
            unread=args.get("unread") in ("1", "on", "true"),
            q=args.get("q", "").strip()[:80],
        )

    def args(self) -> dict[str, str]:
        """The filters as query-string values (only those set)."""
        values = {
            "view": self.view if self.view != "open" else "",
            "bucket": self.bucket,
            "label": self.label,
            "campaign": str(self.campaign or ""),
            "persona": self.persona,
            "assignee": self.assignee,
            "breached": "1" if self.breached else "",
            "unmatched": "1" if self.unmatched else "",
            "waiting": str(self.waiting or ""),
            "unread": "1" if self.unread else "",
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}


def _assignee_arg(value: str) -> str:
    """The assignee filter as typed: "me", "none", a user id, or "" for anything else."""
    if value in ("me", "none"):
        return value
    user_id = whole_number(value)
    return "" if user_id is None else str(user_id)


def reading_failed():
    """SQL: the item's reading failed (nobody could read it: a person must) or fell back
    to the rules because Claude was asked and failed."""
    return or_(
        InboxItem.classified_by == "none",
        InboxItem.classify_note.contains(reading.FELL_BACK, autoescape=True),
    )


def waiting_since():
    """SQL: since when the owner waits on an item: its first unanswered text (a newer
    text joins the open item, the wait does not start again)."""
    return InboxItem.created_at


def items_query(team_id: int, filters: InboxFilters, user_id: int, now: datetime | None = None):
    """The team's items as filtered, most urgent first (priority, then deadline)."""
    now = now or utcnow()
    query = select(InboxItem).where(InboxItem.team_id == team_id)
    if filters.view == "open":
        query = query.where(InboxItem.state.in_(WAITING_STATES))
    elif filters.view != "all":
        query = query.where(InboxItem.state == filters.view)
    if filters.bucket:
        query = query.where(InboxItem.bucket == filters.bucket)
    if filters.label:
        query = query.where(InboxItem.label == filters.label)
    if filters.campaign:
        query = query.where(InboxItem.campaign_id == filters.campaign)
    if filters.persona:
        query = query.where(InboxItem.persona == filters.persona)
    if filters.assignee == "me":
        query = query.where(InboxItem.assignee_id == user_id)
    elif filters.assignee == "none":
        query = query.where(InboxItem.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(InboxItem.assignee_id == int(filters.assignee))
    if filters.breached:
        query = query.where(InboxItem.state.in_(WORKING_STATES), InboxItem.sla_due_at < now)
    if filters.unmatched:
        query = query.where(InboxItem.unmatched.is_(True))
    if filters.waiting:
        query = query.where(
            InboxItem.state.in_(WAITING_STATES),
            waiting_since() < now - timedelta(hours=filters.waiting),
        )
    if filters.unread:
        query = query.where(reading_failed())
    if filters.q:
        from console.models import InboundMessage

        like = f"%{filters.q}%"
        query = query.join(InboundMessage, InboundMessage.id == InboxItem.inbound_id).where(
            (InboundMessage.body.ilike(like)) | (InboundMessage.from_e164.ilike(like))
        )
    return query.options(
        joinedload(InboxItem.inbound),
        joinedload(InboxItem.conversation),
        joinedload(InboxItem.lead).joinedload(Lead.business),
        joinedload(InboxItem.lead).joinedload(Lead.owner),
        joinedload(InboxItem.campaign),
        joinedload(InboxItem.assignee),
    ).order_by(
        (InboxItem.state == "processing").desc(),
        InboxItem.priority.desc(),
        InboxItem.sla_due_at.asc(),
        InboxItem.id.desc(),
    )


def summary(session: Session, team_id: int, now: datetime | None = None) -> dict:
    """Open items per bucket, breached, being read, escalated: the inbox's head."""
    now = now or utcnow()
    rows = session.execute(
        select(
            InboxItem.bucket,
            func.count(InboxItem.id),
            func.count(InboxItem.id).filter(InboxItem.sla_due_at < now),
        )
        .where(InboxItem.team_id == team_id, InboxItem.state.in_(WORKING_STATES))
        .group_by(InboxItem.bucket)
    ).all()
    buckets = {name: 0 for name in priority.BUCKET_NAMES}
    breached = 0
    for bucket, count, late in rows:
        buckets[bucket] = buckets.get(bucket, 0) + count
        breached += late
    states = dict(
        session.execute(
            select(InboxItem.state, func.count(InboxItem.id))
            .where(InboxItem.team_id == team_id, InboxItem.state.in_(("processing", "escalated")))
            .group_by(InboxItem.state)
        ).all()
    )
    return {
        "buckets": buckets,
        "open": sum(buckets.values()),
        "breached": breached,
        "processing": states.get("processing", 0),
        "escalated": states.get("escalated", 0),
    }


def version(session: Session, team_id: int) -> str:
    """Changes when any of the team's items changes: the live list polls this."""
    latest, count = session.execute(
        select(func.max(InboxItem.updated_at), func.count(InboxItem.id)).where(
            InboxItem.team_id == team_id
        )
    ).one()
    return f"{count}-{latest.timestamp() if latest else 0:.6f}"


def export_rows(items, now: datetime | None = None):
    """CSV rows of items, in EXPORT_COLUMNS order."""
    now = now or utcnow()
    for item in items:
        lead = item.lead
        yield (
            item.id,
            item.inbound.received_at.isoformat() if item.inbound else "",
            item.conversation.e164 if item.conversation else "",
            lead.code if lead else "",
            lead.business.name if lead and lead.business else "",
            item.campaign.name if item.campaign else "",
            item.inbound.body if item.inbound else "",
            item.label,
            item.confidence,
            item.classified_by,
            item.priority,
            item.bucket,
            item.route,
            item.sla_due_at.isoformat() if item.sla_due_at else "",
            "yes" if breached(item, now) else "",
            item.persona,
            item.state,
            item.resolution,
            (item.assignee.email if item.assignee else ""),
            "; ".join(f"{k}={v}" for k, v in (item.extracted or {}).items()),
        )


def breached(item: InboxItem, now: datetime | None = None) -> bool:
    """The item is still open past its deadline."""
    return (
        item.state in WORKING_STATES
        and item.sla_due_at is not None
        and item.sla_due_at < (now or utcnow())
    )


def lead_replies(session: Session, lead: Lead) -> dict:
    """What the lead page shows of the inbox: deals, the latest items, the callback."""
    deals = session.scalars(
        select(Deal).where(Deal.team_id == lead.team_id, Deal.lead_id == lead.id).order_by(Deal.id)
    ).all()
    items = session.scalars(
        select(InboxItem)
        .where(InboxItem.team_id == lead.team_id, InboxItem.lead_id == lead.id)
        .options(joinedload(InboxItem.inbound))
        .order_by(InboxItem.id.desc())
        .limit(5)
    ).all()
    return {"deals": deals, "items": items, "callback": tasks.next_callback(session, lead.id)}


@dataclass(frozen=True)
class DraftQuality:
    """How one source's drafts fared once a person decided (the AI quality figures)."""

    source: str
    sent: int
    as_written: int
    edited: int
    discarded: int
    avg_latency_ms: int

    @property
    def share_as_written(self) -> float | None:
        """Of the drafts sent, the share sent without a change."""
        return self.as_written / self.sent if self.sent else None


def draft_quality(session: Session, team_id: int) -> list[DraftQuality]:
    """Drafts by source (AI, template, a person's own): sent as written, edited,
    discarded, and Claude's mean latency; the last row is the total."""
    rows = session.execute(
        select(
            Draft.source,
            func.count(Draft.id).filter(Draft.state == "sent"),
            func.count(Draft.id).filter(Draft.state == "sent", Draft.edited.is_(False)),
            func.count(Draft.id).filter(Draft.state == "sent", Draft.edited.is_(True)),
            func.count(Draft.id).filter(Draft.state == "discarded"),
            func.avg(Draft.latency_ms).filter(Draft.source == "ai"),
        )
        .where(Draft.team_id == team_id)
        .group_by(Draft.source)
        .order_by(Draft.source)
    ).all()
    result = [
        DraftQuality(source, sent, same, edited, dropped, int(latency or 0))
        for source, sent, same, edited, dropped, latency in rows
    ]
    if result:
        result.append(
            DraftQuality(
                "total",
                sum(r.sent for r in result),
                sum(r.as_written for r in result),
                sum(r.edited for r in result),
                sum(r.discarded for r in result),
                next((r.avg_latency_ms for r in result if r.source == "ai"), 0),
            )
        )
    return result


def recent_numbers(session: Session, team_id: int, limit: int = 30) -> list[str]:
    """Numbers the team texted last (the sandbox's "simulate a reply" suggests them)."""
    rows = session.execute(
        select(Message.to_e164, func.max(Message.sent_at))
        .where(Message.team_id == team_id, Message.sent_at.is_not(None))
        .group_by(Message.to_e164)
        .order_by(func.max(Message.sent_at).desc())
        .limit(limit)
    ).all()
    return [e164 for e164, _ in rows]
