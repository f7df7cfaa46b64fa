"""The duplicate review queue: uncertain pairs side by side, and decisions on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from console.models import Business, Lead, MatchReview, MergeHistory, Owner
from console.models.imports import REVIEW_STATUSES
from console.services.lists import merge_undo, resolve
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
    # For a merged pair: the merge (its snapshot shows the newer side), and why it
    # cannot be undone ("" when it can).
    merge: MergeHistory | None = None
    undo_problem: str = ""


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


def _snapshot_facts(snap: dict) -> dict[str, str]:
    """`_facts` of a lead merged away, from the copy its merge kept."""
    business, owner = snap.get("business") or {}, snap.get("owner") or {}
    phones = sorted({p["e164"] for p in snap.get("phones") or []})
    return {
        "Business": business.get("name", ""),
        "Owner": owner.get("full_name", ""),
        "Title": owner.get("title", ""),
        "Street": " ".join(v for v in (business.get("street"), business.get("unit")) if v),
        "City": business.get("city", ""),
        "State": business.get("state", ""),
        "ZIP": business.get("zip", ""),
        "Phones": ", ".join(display_phone(n) for n in phones),
        "Emails": ", ".join(sorted({e["address"] for e in snap.get("emails") or []})),
        "Industry": business.get("industry", ""),
        "Website": business.get("website", ""),
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
    pairs = []
    for review in reviews:
        merge = merge_undo.merge_of_review(session, review)
        problem = merge_undo.undo_problem(session, merge) if merge is not None else ""
        newer, older = leads.get(review.lead_id), leads.get(review.other_lead_id)
        pairs.append(pair_of(review, newer, older, merge, problem))
    return pairs, total


def pair_of(
    review: MatchReview,
    newer: Lead | None,
    older: Lead | None,
    merge: MergeHistory | None = None,
    undo_problem: str = "",
) -> ReviewPair:
    """A review with its two leads' facts lined up; a merged newer lead as its merge kept it."""
    left, right = _facts(newer), _facts(older)
    snap = (merge.details or {}).get("snapshot") if merge is not None else None
    if newer is None and snap:
        left = _snapshot_facts(snap)
    labels = list(left or right)
    fields = [FieldPair(label, left.get(label, ""), right.get(label, "")) for label in labels]
    return ReviewPair(review, newer, older, fields, merge, undo_problem)


def undo_review_merge(
    session: Session, team_id: int, review_id: int, actor_id: int | None
) -> Lead | None:
    """Undo the merge a pair of the team was decided with (None: no such merged pair).

    Raises merge_undo.UndoRefused, with the reason, when it can no longer be undone.
    """
    review = session.scalars(
        scoped(MatchReview, team_id).where(MatchReview.id == review_id)
    ).first()
    merge = merge_undo.merge_of_review(session, review) if review is not None else None
    if merge is None:
        return None
    lead = merge_undo.undo_merge(session, merge, actor_id)
    scoring.rescore_leads(session, team_id, sorted({lead.id, merge.survivor_id}))
    return lead


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
