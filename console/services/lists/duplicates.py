"""The duplicate review queue: uncertain pairs side by side, and decisions on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from console.models import Business, Lead, MatchReview, Owner
from console.models.imports import REVIEW_STATUSES
from console.services.lists import resolve
from console.services.numbers import whole_number
from console.services.phones import display as display_phone
from console.services.tenancy import of_team, scoped
from console.services.tracing import scoring


@dataclass(frozen=True)
class FieldPair:
    """One compared fact of the two leads."""

    label: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        """Whether the two values differ (ignoring case and spacing)."""
        return " ".join(self.left.lower().split()) != " ".join(self.right.lower().split())


@dataclass(frozen=True)
class ReviewPair:
    """A review with both of its leads and their facts side by side."""

    review: MatchReview
    newer: Lead | None
    older: Lead | None
    fields: list[FieldPair]


def _facts(lead: Lead | None) -> dict[str, str]:
    if lead is None:
        return {}
    business, owner = lead.business, lead.owner
    return {
        "Business": business.name if business else "",
        "Owner": owner.full_name if owner else "",
        "Title": owner.title if owner else "",
        "Street": " ".join(v for v in ((business.street, business.unit) if business else ()) if v),
        "City": business.city if business else "",
        "State": business.state if business else "",
        "ZIP": business.zip if business else "",
        "Phones": ", ".join(display_phone(n) for n in sorted({p.e164 for p in lead.phones})),
        "Emails": ", ".join(sorted({e.address for e in lead.emails})),
        "Industry": business.industry if business else "",
        "Website": business.website if business else "",
    }


def review_filters(args) -> dict:
    """Queue filters from query arguments: status (pending by default), import, rule."""
    status = args.get("status", "pending")
    rule = args.get("rule", "")
    return {
        "status": status if status in REVIEW_STATUSES else "pending",
        "import_id": whole_number(args.get("import_id")),
        "rule": rule if rule in resolve.RULES else "",
    }


def _query(team_id: int, status: str, import_id: int | None, rule: str):
    query = scoped(MatchReview, team_id).where(MatchReview.status == status)
    if import_id:
        query = query.where(MatchReview.import_id == import_id)
    if rule:
        query = query.where(MatchReview.rule == rule)
    return query


def review_page(
    session: Session, team_id: int, filters: dict, page: int = 1, per_page: int = 25
) -> tuple[list[ReviewPair], int]:
    """One page of the queue as side-by-side pairs, and how many match the filters."""
    query = _query(team_id, **filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    reviews = session.scalars(
        query.order_by(MatchReview.score.desc(), MatchReview.id)
        .limit(per_page)
        .offset((max(1, page) - 1) * per_page)
    ).all()
    ids = {r.lead_id for r in reviews} | {r.other_lead_id for r in reviews}
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(of_team(Lead, team_id), Lead.id.in_(ids))
            .options(
                selectinload(Lead.business).selectinload(Business.phones),
                selectinload(Lead.business).selectinload(Business.emails),
                selectinload(Lead.owner).selectinload(Owner.phones),
                selectinload(Lead.owner).selectinload(Owner.emails),
            )
        )
    }
    return [pair_of(r, leads.get(r.lead_id), leads.get(r.other_lead_id)) for r in reviews], total


def pair_of(review: MatchReview, newer: Lead | None, older: Lead | None) -> ReviewPair:
    """A review with its two leads' facts lined up."""
    left, right = _facts(newer), _facts(older)
    labels = list(left or right)
    fields = [FieldPair(label, left.get(label, ""), right.get(label, "")) for label in labels]
    return ReviewPair(review, newer, older, fields)


def decide(
    session: Session, team_id: int, review_ids: list[int], decision: str, actor_id: int | None
) -> int:
    """Apply one decision to several pending reviews of the team; how many were decided.

    Each review is read again before it is decided: merging one pair may settle another.
    """
    done, touched = 0, set()
    for review_id in sorted(set(review_ids)):
        review = session.scalars(
            scoped(MatchReview, team_id).where(
                MatchReview.id == review_id, MatchReview.status == "pending"
            )
        ).first()
        if review is not None:
            touched.update(i for i in (review.lead_id, review.other_lead_id) if i)
            resolve.decide_review(session, review, decision, actor_id)
            done += 1
    if decision == "merge" and touched:
        session.flush()
        scoring.rescore_leads(session, team_id, sorted(touched))  # merged facts, new scores
    return done


def matching_ids(session: Session, team_id: int, filters: dict) -> list[int]:
    """Every review id the filters match, for deciding them all at once."""
    return list(session.scalars(_query(team_id, **filters).with_only_columns(MatchReview.id)))


def pending_for_lead(session: Session, lead: Lead) -> list[MatchReview]:
    """Undecided pairs a lead is part of, for its page."""
    return list(
        session.scalars(
            scoped(MatchReview, lead.team_id).where(
                MatchReview.status == "pending",
                (MatchReview.lead_id == lead.id) | (MatchReview.other_lead_id == lead.id),
            )
        )
    )
