"""Leads: codes, the filtered list operators work from, and the lead record."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from console.models import (
    AuditEvent,
    Business,
    Email,
    Lead,
    LeadSource,
    MergeHistory,
    Owner,
    Phone,
    Team,
)
from console.models.base import utcnow
from console.models.leads import LEAD_STATUSES
from console.services.numbers import whole_number
from console.services.paging import Paged
from console.services.tenancy import of_team, scoped
from console.services.tracing.scoring import ACTIONS, QUEUES

CODE_PATTERN = re.compile(r"^LEAD-\d{4}-\d{6,}$")
SORTS = {
    "newest": (Lead.created_at.desc(), Lead.id.desc()),
    "oldest": (Lead.created_at.asc(), Lead.id.asc()),
    "score": (Lead.quality_score.desc().nulls_last(), Lead.id.desc()),
    "priority": (Lead.priority.desc().nulls_last(), Lead.id.desc()),
    "business": (Business.name.asc(), Lead.id.asc()),
}


def format_code(year: int, number: int) -> str:
    """`LEAD-<year>-<number>`, the number zero-padded to six digits."""
    return f"LEAD-{year}-{number:06d}"


def allocate_codes(
    session: Session, team_id: int, count: int, when: datetime | None = None
) -> list[str]:
    """Reserve `count` new lead codes for a team.

    One UPDATE bumps the team's counter, so concurrent importers (which lock the team
    row on PostgreSQL) never hand out the same number twice.
    """
    year = (when or utcnow()).year
    last = session.execute(
        update(Team)
        .where(Team.id == team_id)
        .values(lead_seq=Team.lead_seq + count)
        .returning(Team.lead_seq)
    ).scalar_one()
    return [format_code(year, n) for n in range(last - count + 1, last + 1)]


@dataclass
class LeadFilters:
    """What the leads list is narrowed to, as typed in its filter bar."""

    q: str = ""
    status: str = ""
    state: str = ""
    tag: str = ""
    has_mobile: str = ""  # "yes", "no" or ""
    industry: str = ""
    score_min: int | None = None
    score_max: int | None = None
    import_id: int | None = None
    traced: str = ""  # "yes", "no", "found", "not_found" or ""
    mobile_verified: str = ""  # "yes", "no" or ""
    queue: str = ""
    action: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args) -> LeadFilters:
        """Filters from query-string arguments, ignoring unknown values."""
        filters = cls(
            q=(args.get("q") or "").strip()[:100],
            status=args.get("status") or "",
            state=(args.get("state") or "").strip().upper()[:2],
            tag=(args.get("tag") or "").strip()[:40],
            has_mobile=args.get("has_mobile") or "",
            industry=(args.get("industry") or "").strip()[:80],
            score_min=_int_arg(args.get("score_min")),
            score_max=_int_arg(args.get("score_max")),
            import_id=_int_arg(args.get("import_id")),
            traced=args.get("traced") or "",
            mobile_verified=args.get("mobile_verified") or "",
            queue=args.get("queue") or "",
            action=args.get("action") or "",
            sort=args.get("sort") or "newest",
        )
        if filters.status not in LEAD_STATUSES:
            filters.status = ""
        if filters.has_mobile not in ("yes", "no"):
            filters.has_mobile = ""
        if filters.sort not in SORTS:
            filters.sort = "newest"
        if filters.traced not in ("yes", "no", "found", "not_found"):
            filters.traced = ""
        if filters.mobile_verified not in ("yes", "no"):
            filters.mobile_verified = ""
        if filters.queue not in QUEUES:
            filters.queue = ""
        if filters.action not in ACTIONS:
            filters.action = ""
        return filters

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them."""
        return {
            k: v
            for k, v in self.__dict__.items()
            if v not in ("", None) and not (k == "sort" and v == "newest")
        }


def _int_arg(value) -> int | None:
    """A whole number typed in a filter box, or None (also when no row could match it)."""
    return whole_number(value)


@dataclass
class LeadPage(Paged):
    """One page of the leads list."""

    rows: list[Lead]
    total: int
    page: int
    per_page: int
    filters: LeadFilters = field(default_factory=LeadFilters)


def _mobile_exists():
    """A lead has a mobile: on its owner, or on its business when no owner is known.

    The lead's owner and business already belong to its team, so the phones are found
    through them alone (which lets the planner use the owner and business indexes).
    """
    on_owner = exists().where(Phone.owner_id == Lead.owner_id, Phone.kind == "mobile")
    on_business = exists().where(Phone.business_id == Lead.business_id, Phone.kind == "mobile")
    return or_(on_owner, on_business)


def _verified_mobile_exists():
    """A lead has a number a line-type check found to be a textable mobile."""
    on_owner = exists().where(Phone.owner_id == Lead.owner_id, Phone.verified_mobile)
    on_business = exists().where(Phone.business_id == Lead.business_id, Phone.verified_mobile)
    return or_(on_owner, on_business)


def filtered_leads(team_id: int, filters: LeadFilters):
    """The SELECT of a team's leads narrowed by `filters` (no ordering or paging).

    Businesses and owners are joined only when a filter or the sort needs them.
    """
    query = scoped(Lead, team_id)
    if filters.q or filters.state or filters.industry or filters.sort == "business":
        query = query.outerjoin(Business, Lead.business_id == Business.id)
    if filters.q:
        query = query.outerjoin(Owner, Lead.owner_id == Owner.id)
    if filters.q:
        query = query.where(_search_clause(team_id, filters.q))
    if filters.status:
        query = query.where(Lead.status == filters.status)
    if filters.state:
        query = query.where(Business.state == filters.state)
    if filters.tag:
        query = query.where(
            cast(Lead.tags, String).like(f'%"{_escape_like(filters.tag)}"%', escape="\\")
        )
    if filters.industry:
        query = query.where(
            func.lower(Business.industry).like(
                f"%{_escape_like(filters.industry.lower())}%", escape="\\"
            )
        )
    if filters.score_min is not None:
        query = query.where(Lead.quality_score >= filters.score_min)
    if filters.score_max is not None:
        query = query.where(Lead.quality_score <= filters.score_max)
    if filters.import_id is not None:
        query = query.where(
            exists().where(
                LeadSource.lead_id == Lead.id,
                of_team(LeadSource, team_id),
                LeadSource.import_id == filters.import_id,
            )
        )
    if filters.has_mobile == "yes":
        query = query.where(_mobile_exists())
    elif filters.has_mobile == "no":
        query = query.where(~_mobile_exists())
    if filters.mobile_verified == "yes":
        query = query.where(_verified_mobile_exists())
    elif filters.mobile_verified == "no":
        query = query.where(~_verified_mobile_exists())
    if filters.traced == "yes":
        query = query.where(Lead.traced_at.is_not(None))
    elif filters.traced == "no":
        query = query.where(Lead.traced_at.is_(None))
    elif filters.traced in ("found", "not_found"):
        query = query.where(Lead.trace_status == filters.traced)
    if filters.queue:
        query = query.where(Lead.queue == filters.queue)
    if filters.action:
        query = query.where(Lead.recommended_action == filters.action)
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_clause(team_id: int, q: str):
    """Match a lead by code, business, owner, phone digits or email."""
    like = f"%{_escape_like(q.lower())}%"
    clauses = [
        func.lower(Lead.code).like(like, escape="\\"),
        func.lower(Business.name).like(like, escape="\\"),
        func.lower(Owner.full_name).like(like, escape="\\"),
    ]
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4:
        clauses.append(
            exists().where(
                of_team(Phone, team_id),
                or_(Phone.owner_id == Lead.owner_id, Phone.business_id == Lead.business_id),
                Phone.e164.like(f"%{digits}%"),
            )
        )
    if "@" in q or "." in q:
        clauses.append(
            exists().where(
                of_team(Email, team_id),
                Email.owner_id == Lead.owner_id,
                Email.address.like(like, escape="\\"),
            )
        )
    return or_(*clauses)


def search_leads(
    session: Session, team_id: int, filters: LeadFilters, page: int = 1, per_page: int = 50
) -> LeadPage:
    """One page of a team's leads matching `filters`, with the total count."""
    query = filtered_leads(team_id, filters)
    total = session.scalar(
        select(func.count()).select_from(query.with_only_columns(Lead.id).subquery())
    )
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    # The page's ids first, on the narrow query; then those rows with what they show.
    ids = list(
        session.scalars(
            query.with_only_columns(Lead.id)
            .order_by(*SORTS[filters.sort])
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    loaded = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(ids))
            .options(
                joinedload(Lead.business).selectinload(Business.phones),
                joinedload(Lead.owner).selectinload(Owner.phones),
            )
        ).unique()
    }
    rows = [loaded[i] for i in ids if i in loaded]
    return LeadPage(rows=rows, total=total, page=page, per_page=per_page, filters=filters)


def iter_leads_for_export(
    session: Session, team_id: int, filters: LeadFilters, chunk: int = 1000
) -> Iterator[Lead]:
    """Every lead matching `filters`, in code order, loaded a chunk at a time."""
    last_id = 0
    base = filtered_leads(team_id, filters).options(
        joinedload(Lead.business).selectinload(Business.phones),
        joinedload(Lead.business).selectinload(Business.emails),
        joinedload(Lead.owner).selectinload(Owner.phones),
        joinedload(Lead.owner).selectinload(Owner.emails),
        selectinload(Lead.sources),
    )
    while True:
        rows = (
            session.scalars(base.where(Lead.id > last_id).order_by(Lead.id).limit(chunk))
            .unique()
            .all()
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


EXPORT_COLUMNS = (
    "lead_code",
    "status",
    "quality_score",
    "priority",
    "queue",
    "recommended_action",
    "persona",
    "traced_at",
    "business_name",
    "street",
    "city",
    "state",
    "zip",
    "industry",
    "sic_code",
    "owner_name",
    "owner_title",
    "mobile_phones",
    "other_phones",
    "emails",
    "tags",
    "source",
    "source_file",
    "source_rows",
    "created_at",
)


def export_row(lead: Lead) -> list:
    """A lead as one CSV row in `EXPORT_COLUMNS` order, provenance included."""
    business, owner = lead.business, lead.owner
    phones = lead.phones
    provenance = lead.provenance or {}
    files = list(dict.fromkeys(s.filename for s in lead.sources if s.filename))
    return [
        lead.code,
        lead.status,
        lead.quality_score,
        lead.priority,
        lead.queue,
        lead.recommended_action,
        lead.persona,
        lead.traced_at.isoformat(timespec="seconds") if lead.traced_at else "",
        business.name if business else "",
        " ".join(v for v in (business.street, business.unit) if v) if business else "",
        business.city if business else "",
        business.state if business else "",
        business.zip if business else "",
        business.industry if business else "",
        business.sic_code if business else "",
        owner.full_name if owner else "",
        owner.title if owner else "",
        " ".join(p.e164 for p in phones if p.kind == "mobile"),
        " ".join(p.e164 for p in phones if p.kind != "mobile"),
        " ".join(e.address for e in lead.emails),
        " ".join(lead.tags or []),
        provenance.get("source", ""),
        " | ".join(files) or provenance.get("file", ""),
        " ".join(str(s.row_number) for s in lead.sources if s.row_number is not None),
        lead.created_at.isoformat(timespec="seconds"),
    ]


def lead_history(session: Session, lead: Lead, limit: int = 50) -> list[AuditEvent]:
    """The audit events recorded on a lead, newest first."""
    return list(
        session.scalars(
            scoped(AuditEvent, lead.team_id)
            .where(AuditEvent.entity_type == Lead.__tablename__, AuditEvent.entity_id == lead.id)
            .order_by(AuditEvent.at.desc())
            .limit(limit)
        )
    )


def lead_merges(session: Session, lead: Lead, limit: int = 50) -> list[MergeHistory]:
    """What was merged into a lead (rows and other leads), newest first; undone merges not."""
    merges = session.scalars(
        scoped(MergeHistory, lead.team_id)
        .where(MergeHistory.survivor_id == lead.id)
        .order_by(MergeHistory.id.desc())
        .limit(limit)
    )
    return [m for m in merges if not (m.details or {}).get("undone_at")]


def clean_tag(text: str) -> str:
    """A tag as stored: lower case, one word (spaces become hyphens), at most 40 characters."""
    return "-".join(text.lower().split())[:40]


def tag_leads(session: Session, team_id: int, lead_ids: Iterable[int], tag: str) -> int:
    """Add `tag` to the team's leads among `lead_ids`; how many gained it."""
    tag = clean_tag(tag)
    if not tag:
        return 0
    ids = sorted(set(lead_ids))
    changed = 0
    for start in range(0, len(ids), 1000):
        for lead in session.scalars(
            scoped(Lead, team_id).where(Lead.id.in_(ids[start : start + 1000]))
        ):
            if tag not in (lead.tags or []):
                lead.tags = sorted({*(lead.tags or []), tag})
                changed += 1
        session.flush()
    return changed


def matching_ids(
    session: Session, team_id: int, filters: LeadFilters, *, sort: str = ""
) -> list[int]:
    """Every lead id the filters match (for acting on all of them), in `sort` order if given."""
    query = filtered_leads(team_id, filters).with_only_columns(Lead.id)
    if sort:
        query = query.order_by(*SORTS[sort])
    return list(session.scalars(query))


def status_counts(session: Session, team_id: int) -> dict[str, int]:
    """How many of a team's leads are in each status, every status listed."""
    found = dict(
        session.execute(
            select(Lead.status, func.count()).where(of_team(Lead, team_id)).group_by(Lead.status)
        ).all()
    )
    return {status: found.get(status, 0) for status in LEAD_STATUSES}


def team_states(session: Session, team_id: int) -> list[str]:
    """The states a team's businesses are in, for the filter menu."""
    return list(
        session.scalars(
            select(Business.state)
            .where(of_team(Business, team_id), Business.state != "")
            .distinct()
            .order_by(Business.state)
        )
    )
