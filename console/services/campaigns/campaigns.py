"""Campaigns: which leads (selection criteria), who is left out and why (exclusions),
and the campaign records operators build, start, pause and finish."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import String, and_, cast, func, not_, or_, select, true, update
from sqlalchemy.orm import Session

from console.models import (
    Business,
    Campaign,
    Enrollment,
    Lead,
    Message,
    MessageTemplate,
    Phone,
    Sender,
    Suppression,
)
from console.models.base import utcnow
from console.models.leads import LEAD_STATUSES
from console.providers.lookup import NOT_TEXTABLE, VOIP
from console.services.tenancy import scoped

MAX_BATCH = 2000
ENRICHMENT: dict[str, str] = {
    "": "Any",
    "verified": "Verified mobile",
    "found": "Traced, owner found",
    "not_found": "Traced, not found",
    "never": "Never traced",
}
EXCLUSIONS: dict[str, str] = {
    "opted_out": "Opted out",
    "suppressed": "On the do-not-contact list",
    "closed": "Not interested or already a deal",
    "no_mobile": "No textable mobile",
    "recent": "Texted recently",
    "other_campaign": "In another active campaign",
    "enrolled": "Already in this campaign",
}
# Lead statuses that end outreach.
CLOSED = {"do_not_contact": "opted_out", "not_interested": "closed", "deal": "closed"}


@dataclass
class Criteria:
    """Who a campaign selects (the seed's CampaignSelectionCriteria)."""

    score_min: int | None = None
    score_max: int | None = None
    statuses: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    zips: list[str] = field(default_factory=list)
    sic_codes: list[str] = field(default_factory=list)
    naics_codes: list[str] = field(default_factory=list)
    employees_min: int | None = None
    employees_max: int | None = None
    revenue_min: int | None = None
    revenue_max: int | None = None
    enrichment: str = ""
    never_contacted: bool = False
    last_contacted_before: str = ""  # ISO date
    # Leads added by hand from their page: selected whatever the filters say (the
    # exclusions still apply when a batch is drafted).
    lead_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Criteria:
        """Criteria saved on a campaign (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @classmethod
    def from_form(cls, data: Mapping) -> Criteria:
        """Criteria from the builder form's cleaned data."""
        before = data.get("last_contacted_before")
        return cls(
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            statuses=[s for s in data.get("statuses") or [] if s in LEAD_STATUSES],
            tags=split_list(data.get("tags")),
            exclude_tags=split_list(data.get("exclude_tags")),
            states=[s.upper()[:2] for s in split_list(data.get("states"))],
            zips=[z[:5] for z in split_list(data.get("zips")) if z[:3].isdigit()],
            sic_codes=[c for c in split_list(data.get("sic_codes")) if c.isdigit()],
            naics_codes=[c for c in split_list(data.get("naics_codes")) if c.isdigit()],
            employees_min=data.get("employees_min"),
            employees_max=data.get("employees_max"),
            revenue_min=data.get("revenue_min"),
            revenue_max=data.get("revenue_max"),
            enrichment=data.get("enrichment") if data.get("enrichment") in ENRICHMENT else "",
            never_contacted=bool(data.get("never_contacted")),
            last_contacted_before=before.isoformat() if isinstance(before, date) else "",
        )

    def as_dict(self) -> dict:
        """For the campaign's JSON column."""
        return asdict(self)

    def describe(self) -> list[str]:
        """The criteria in words, one a line, for the campaign page."""
        words = []
        if self.score_min is not None or self.score_max is not None:
            words.append(f"Score {self.score_min or 0}-{self.score_max or 100}")
        for label, values in (
            ("Status", self.statuses),
            ("Tagged", self.tags),
            ("Not tagged", self.exclude_tags),
            ("States", self.states),
            ("ZIPs", self.zips),
            ("SIC", self.sic_codes),
            ("NAICS", self.naics_codes),
        ):
            if values:
                words.append(f"{label}: {', '.join(values)}")
        if self.employees_min is not None or self.employees_max is not None:
            words.append(f"Employees {_range(self.employees_min, self.employees_max)}")
        if self.revenue_min is not None or self.revenue_max is not None:
            words.append(f"Revenue ${_range(self.revenue_min, self.revenue_max)}")
        if self.enrichment:
            words.append(ENRICHMENT[self.enrichment])
        if self.never_contacted:
            words.append("Never contacted")
        if self.last_contacted_before:
            words.append(f"Last contacted before {self.last_contacted_before}")
        words = words or ["Every lead"]
        if self.lead_ids:
            count = len(self.lead_ids)
            words.append(f"Plus {count} lead{'' if count == 1 else 's'} added by hand")
        return words


def _range(low, high) -> str:
    if high is None:
        return f"{low:,}+"
    return f"{low or 0:,}-{high:,}"


def split_list(text) -> list[str]:
    """Values typed in one box, separated by commas, spaces or new lines."""
    if isinstance(text, list | tuple):
        return [str(v).strip() for v in text if str(v).strip()]
    return [part for part in re.split(r"[,\s]+", str(text or "").strip()) if part]


def _tag_clause(tag: str):
    escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Lead.tags, String).like(f'%"{escaped}"%', escape="\\")


def selected_leads(team_id: int, criteria: Criteria):
    """SELECT of the ids of the team's leads the criteria match."""
    query = _Conditions()
    c = criteria
    if c.score_min is not None:
        query = query.where(Lead.quality_score >= c.score_min)
    if c.score_max is not None:
        query = query.where(Lead.quality_score <= c.score_max)
    if c.statuses:
        query = query.where(Lead.status.in_(c.statuses))
    if c.tags:
        query = query.where(or_(*(_tag_clause(t) for t in c.tags)))
    for tag in c.exclude_tags:
        query = query.where(not_(_tag_clause(tag)))
    if c.states:
        query = query.where(Business.state.in_(c.states))
    if c.zips:
        query = query.where(or_(*(Business.zip.like(f"{z}%") for z in c.zips)))
    if c.sic_codes:
        query = query.where(or_(*(Business.sic_code.like(f"{s}%") for s in c.sic_codes)))
    if c.naics_codes:
        query = query.where(or_(*(Business.naics_code.like(f"{s}%") for s in c.naics_codes)))
    if c.employees_min is not None:
        query = query.where(Business.employees_high >= c.employees_min)
    if c.employees_max is not None:
        query = query.where(Business.employees_low <= c.employees_max)
    if c.revenue_min is not None:
        query = query.where(Business.revenue_high >= c.revenue_min)
    if c.revenue_max is not None:
        query = query.where(Business.revenue_low <= c.revenue_max)
    if c.enrichment == "never":
        query = query.where(Lead.traced_at.is_(None))
    elif c.enrichment == "found":
        query = query.where(Lead.trace_status.in_(("hit", "partial")))
    elif c.enrichment == "not_found":
        query = query.where(Lead.traced_at.is_not(None), Lead.trace_status.in_(("miss", "")))
    elif c.enrichment == "verified":
        on_owner = (
            select(Phone.id).where(Phone.owner_id == Lead.owner_id, Phone.verified_mobile).exists()
        )
        query = query.where(on_owner)
    if c.never_contacted:
        query = query.where(Lead.last_contacted_at.is_(None))
    if c.last_contacted_before:
        before = datetime.combine(date.fromisoformat(c.last_contacted_before), time())
        query = query.where(or_(Lead.last_contacted_at.is_(None), Lead.last_contacted_at < before))
    selected = scoped(Lead, team_id).outerjoin(Business, Lead.business_id == Business.id)
    selected = selected.with_only_columns(Lead.id)
    if c.lead_ids:
        return selected.where(or_(and_(true(), *query.clauses), Lead.id.in_(c.lead_ids)))
    return selected.where(*query.clauses)


class _Conditions:
    """The criteria's conditions, gathered so hand-added leads can join them with OR."""

    def __init__(self) -> None:
        self.clauses: list = []

    def where(self, clause) -> _Conditions:
        """Add a condition every selected lead meets."""
        self.clauses.append(clause)
        return self


@dataclass(frozen=True)
class Candidate:
    """A lead that may be texted, with the number to text."""

    lead_id: int
    e164: str
    verified: bool
    line_type: str
    priority: int


@dataclass
class Audience:
    """Who a campaign reaches: matched by the criteria, left out by reason, eligible."""

    matched: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    eligible: list[Candidate] = field(default_factory=list)

    @property
    def excluded_total(self) -> int:
        """Leads left out, whatever the reason."""
        return sum(self.excluded.values())


def _phone_rank(kind: str, line_type: str, textable, on_owner: bool, confidence) -> tuple | None:
    """How good a number is for texting the owner; None when it can't take texts."""
    if line_type in NOT_TEXTABLE or textable is False:
        return None
    verified = line_type == "mobile" and textable is True
    if not (verified or line_type == "mobile" or line_type in VOIP or kind == "mobile"):
        return None
    return (verified, line_type == "mobile", on_owner, kind == "mobile", confidence or 0)


def best_numbers(
    session: Session, team_id: int, lead_ids_query
) -> dict[int, tuple[str, str, bool]]:
    """The best textable number of each lead: {lead id: (e164, line type, verified)}."""
    sub = lead_ids_query.subquery()
    best: dict[int, tuple[tuple, str, str, bool]] = {}
    for on_owner, join in (
        (True, Phone.owner_id == Lead.owner_id),
        (False, Phone.business_id == Lead.business_id),
    ):
        rows = session.execute(
            select(
                Lead.id, Phone.e164, Phone.kind, Phone.line_type, Phone.textable, Phone.confidence
            )
            .join(Phone, and_(join, Phone.team_id == team_id))
            .where(Lead.id.in_(select(sub.c.id)))
        )
        for lead_id, e164, kind, line_type, textable, confidence in rows:
            rank = _phone_rank(kind, line_type, textable, on_owner, confidence)
            if rank is None:
                continue
            current = best.get(lead_id)
            if current is None or rank > current[0]:
                best[lead_id] = (rank, e164, line_type, rank[0])
    return {lead_id: (e164, lt, verified) for lead_id, (_r, e164, lt, verified) in best.items()}


def audience(
    session: Session,
    team_id: int,
    criteria: Criteria,
    *,
    recent_days: int = 30,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> Audience:
    """Match the criteria, then leave out (counting each reason once per lead, in order):
    opted out, closed, no textable mobile, suppressed, texted recently, in another
    active campaign, already in this campaign. Eligible leads come highest priority first.
    """
    now = now or utcnow()
    query = selected_leads(team_id, criteria)
    leads = session.execute(
        select(Lead.id, Lead.status, Lead.last_contacted_at, Lead.priority).where(
            Lead.id.in_(query.scalar_subquery())
        )
    ).all()
    result = Audience(matched=len(leads), excluded=dict.fromkeys(EXCLUSIONS, 0))
    if not leads:
        return result
    numbers = best_numbers(session, team_id, query)
    suppressed = {
        e164: reason
        for e164, reason in session.execute(
            select(Suppression.e164, Suppression.reason).where(Suppression.team_id == team_id)
        )
    }
    busy = _enrolled_elsewhere(session, team_id, campaign_id)
    mine = _enrolled_in(session, campaign_id)
    recent_since = now - timedelta(days=recent_days) if recent_days else None
    for lead_id, status, last_contacted, priority in leads:
        reason = _exclusion(
            lead_id, status, last_contacted, numbers, suppressed, busy, mine, recent_since
        )
        if reason:
            result.excluded[reason] += 1
            continue
        e164, line_type, verified = numbers[lead_id]
        result.eligible.append(Candidate(lead_id, e164, verified, line_type, priority or 0))
    result.eligible.sort(key=lambda c: (-c.priority, c.lead_id))
    return result


def _exclusion(lead_id, status, last_contacted, numbers, suppressed, busy, mine, recent_since):
    if status in CLOSED:
        return CLOSED[status]
    number = numbers.get(lead_id)
    if number is None:
        return "no_mobile"
    reason = suppressed.get(number[0])
    if reason is not None:
        return "opted_out" if reason.startswith("opt") else "suppressed"
    if lead_id in mine:
        return "enrolled"
    if recent_since is not None and last_contacted is not None and last_contacted >= recent_since:
        return "recent"
    if lead_id in busy:
        return "other_campaign"
    return ""


def _enrolled_elsewhere(session: Session, team_id: int, campaign_id: int | None) -> set[int]:
    query = (
        select(Enrollment.lead_id)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(
            Enrollment.team_id == team_id,
            Enrollment.status == "active",
            Campaign.status.in_(("active", "paused")),
        )
    )
    if campaign_id is not None:
        query = query.where(Enrollment.campaign_id != campaign_id)
    return set(session.scalars(query))


def _enrolled_in(session: Session, campaign_id: int | None) -> set[int]:
    if campaign_id is None:
        return set()
    return set(
        session.scalars(select(Enrollment.lead_id).where(Enrollment.campaign_id == campaign_id))
    )


# Campaigns a lead can be added to from its page.
OPEN_FOR_LEADS = ("draft", "active")


def open_campaigns(session: Session, team_id: int) -> list[Campaign]:
    """The team's draft and active campaigns, newest first."""
    return list(
        session.scalars(
            scoped(Campaign, team_id)
            .where(Campaign.status.in_(OPEN_FOR_LEADS))
            .order_by(Campaign.id.desc())
        )
    )


def lead_exclusion(
    session: Session, campaign: Campaign, lead: Lead, now: datetime | None = None
) -> str:
    """Why the campaign would leave `lead` out (a key of EXCLUSIONS), "" when it may text it.

    The same rules a batch applies when it is drafted, asked of one lead.
    """
    now = now or utcnow()
    one = select(Lead.id).where(Lead.id == lead.id, Lead.team_id == campaign.team_id)
    numbers = best_numbers(session, campaign.team_id, one)
    number = numbers.get(lead.id)
    suppressed = {}
    if number is not None:
        suppressed = {
            e164: reason
            for e164, reason in session.execute(
                select(Suppression.e164, Suppression.reason).where(
                    Suppression.team_id == campaign.team_id, Suppression.e164 == number[0]
                )
            )
        }
    days = campaign.recent_contact_days
    return _exclusion(
        lead.id,
        lead.status,
        lead.last_contacted_at,
        numbers,
        suppressed,
        _enrolled_elsewhere(session, campaign.team_id, campaign.id),
        _enrolled_in(session, campaign.id),
        now - timedelta(days=days) if days else None,
    )


def add_lead(session: Session, campaign: Campaign, lead: Lead) -> str:
    """Add `lead` to a draft or active campaign by hand; "" when added, else why not
    (in words). Its first text goes with the campaign's next batch."""
    if campaign.status not in OPEN_FOR_LEADS:
        return f"The campaign is {campaign.status}; only draft and active campaigns take leads."
    reason = lead_exclusion(session, campaign, lead)
    if reason:
        return EXCLUSIONS[reason]
    criteria = Criteria.from_dict(campaign.criteria)
    if lead.id in criteria.lead_ids:
        return "Already added to this campaign."
    criteria.lead_ids = [*criteria.lead_ids, lead.id]
    campaign.criteria = criteria.as_dict()
    return ""


def campaign_query(team_id: int, status: str = "", persona: str = "", q: str = ""):
    """The team's campaigns narrowed by the list's filters, newest first."""
    query = scoped(Campaign, team_id).order_by(Campaign.id.desc())
    if status:
        query = query.where(Campaign.status == status)
    if persona:
        query = query.where(Campaign.persona == persona)
    if q:
        query = query.where(Campaign.name.ilike(f"%{q}%"))
    return query


def save_campaign(
    session: Session,
    team_id: int,
    values: Mapping,
    user_id: int | None,
    campaign: Campaign | None = None,
) -> Campaign:
    """Create or update a campaign from the builder's values; the caller commits.

    `values`: name, persona, criteria (Criteria), recent_contact_days, template_id,
    split, sender_id, start_at, daily_cap, batch_size, touches.
    """
    if campaign is None:
        campaign = Campaign(team_id=team_id, created_by_id=user_id, status="draft")
        session.add(campaign)
    campaign.name = values["name"].strip()
    campaign.persona = values["persona"]
    criteria = values["criteria"]
    if not criteria.lead_ids:  # the builder has no box for leads added from their page
        criteria.lead_ids = list((campaign.criteria or {}).get("lead_ids") or [])
    campaign.criteria = criteria.as_dict()
    campaign.recent_contact_days = values["recent_contact_days"]
    campaign.template_id = values["template_id"]
    campaign.split = values["split"]
    campaign.sender_id = values["sender_id"]
    campaign.start_at = values["start_at"]
    campaign.daily_cap = values["daily_cap"]
    campaign.batch_size = min(values["batch_size"], MAX_BATCH)
    campaign.touches = values["touches"]
    session.flush()
    return campaign


def opening_templates(session: Session, team_id: int) -> list[MessageTemplate]:
    """The team's templates a campaign may open with: first touches not archived."""
    return [t for t in team_templates(session, team_id) if t.touch == "first"]


def team_templates(session: Session, team_id: int) -> list[MessageTemplate]:
    """The team's templates not archived, by persona and name (follow-ups take any)."""
    return list(
        session.scalars(
            scoped(MessageTemplate, team_id)
            .where(MessageTemplate.archived.is_(False))
            .order_by(MessageTemplate.persona, MessageTemplate.name)
        )
    )


def ownership_problem(
    session: Session, team_id: int, template_ids: list[int], sender_id: int | None
) -> tuple[str, str] | None:
    """(field, words) when a chosen template or the sender is not the team's own."""
    for template_id in template_ids:
        template = session.get(MessageTemplate, template_id)
        if template is None or template.team_id != team_id:
            return "template_id", "Choose one of your templates."
    sender = session.get(Sender, sender_id) if sender_id else None
    if sender is None or sender.team_id != team_id:
        return "sender_id", "Choose one of your senders."
    return None


# Campaign statuses that draft no batch until resumed.
NOT_DRAFTING = ("finished", "archived", "paused")


def draft_problem(campaign: Campaign) -> str:
    """Why the campaign cannot draft a batch now, "" when it can."""
    if campaign.status in NOT_DRAFTING:
        return f"The campaign is {campaign.status}; resume it to draft a batch."
    if campaign.template is None or campaign.sender is None:
        return "Choose a template and a sender first."
    return ""


CAMPAIGN_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (from statuses, to status)
    "pause": (("active",), "paused"),
    "resume": (("paused",), "active"),
    "finish": (("draft", "active", "paused"), "finished"),
    "archive": (("finished", "draft"), "archived"),
}


def change_status(session: Session, campaign: Campaign, action: str) -> None:
    """Pause, resume, finish or archive a campaign; its sending batches follow."""
    from console.models import Batch

    allowed, target = CAMPAIGN_ACTIONS[action]
    if campaign.status not in allowed:
        raise ValueError(f"A {campaign.status} campaign can't be {target}.")
    campaign.status = target
    batches = session.scalars(select(Batch).where(Batch.campaign_id == campaign.id)).all()
    for batch in batches:
        if target == "paused" and batch.status in ("approved", "sending"):
            batch.status = "paused"
        elif target == "active" and batch.status == "paused":
            batch.status = "sending"
    if target == "finished":
        session.execute(
            update(Enrollment)
            .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active")
            .values(status="finished", next_due_at=None, stopped_at=utcnow())
        )


def replied_numbers(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    """Per campaign: the leads whose reply answered one of its texts, by the reports'
    rule (`reports.works.replied_leads`): a reply answers the latest campaign text sent
    to its number before it, and counts once per lead, whenever it came."""
    from console.services.reports.works import replied_leads

    teams = session.scalars(
        select(Campaign.team_id).where(Campaign.id.in_(campaign_ids)).distinct()
    ).all()
    found: dict[int, int] = {}
    for team_id in teams:
        found |= replied_leads(session, team_id, campaign_ids)
    return found


def campaign_stats(session: Session, campaign_ids: list[int]) -> dict[int, dict]:
    """Per campaign: leads enrolled, texts sent, delivered, failed, blocked, cost, and the
    numbers that replied (`replied_numbers`)."""
    stats = {
        cid: dict.fromkeys(("enrolled", "replied", "sent", "delivered", "failed", "blocked"), 0)
        | {"cost": Decimal(0)}
        for cid in campaign_ids
    }
    if not campaign_ids:
        return stats
    for cid, count in session.execute(
        select(Enrollment.campaign_id, func.count(Enrollment.id))
        .where(Enrollment.campaign_id.in_(campaign_ids))
        .group_by(Enrollment.campaign_id)
    ):
        stats[cid]["enrolled"] = count
    for cid, count in replied_numbers(session, campaign_ids).items():
        stats[cid]["replied"] = count
    for cid, status, count, cost in session.execute(
        select(
            Message.campaign_id,
            Message.status,
            func.count(Message.id),
            func.coalesce(func.sum(Message.price), 0),
        )
        .where(Message.campaign_id.in_(campaign_ids))
        .group_by(Message.campaign_id, Message.status)
    ):
        row = stats[cid]
        if status in ("sent", "delivered", "failed"):
            row["sent"] += count
        if status in ("delivered", "failed", "blocked"):
            row[status] += count
        row["cost"] += Decimal(cost or 0)
    return stats


EXPORT_COLUMNS = (
    "id",
    "name",
    "persona",
    "status",
    "template",
    "sender",
    "enrolled",
    "sent",
    "delivered",
    "failed",
    "blocked",
    "replied",
    "cost",
    "created_at",
)


def export_rows(campaigns: list[Campaign], stats: dict[int, dict]):
    """CSV rows for the campaigns list."""
    for c in campaigns:
        s = stats[c.id]
        yield (
            c.id,
            c.name,
            c.persona,
            c.status,
            c.template.name if c.template else "",
            c.sender.label if c.sender else "",
            s["enrolled"],
            s["sent"],
            s["delivered"],
            s["failed"],
            s["blocked"],
            s["replied"],
            f"{s['cost']:.4f}",
            c.created_at.isoformat() if c.created_at else "",
        )
