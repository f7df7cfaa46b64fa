"""Deals: made from a lead (one open deal a lead) in a pipeline's stage, and exported.

Moving them is `moves`; pipelines and stages are `pipelines`; where they came from is
`attribution`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Campaign, Deal, DealStageHistory, Lead, PipelineStage, User
from console.models.deals import REQUIRABLE
from console.services.deals import attribution, pipelines
from console.services.sending import sequences

MAX_VALUE = Decimal("10000000000")  # $10 billion: more is a typing slip


class DealProblem(ValueError):
    """A deal's stage or value that cannot be taken as typed; the message says why."""


def open_stage(session: Session, team_id: int, stage_id: int | str | None) -> PipelineStage:
    """The team's open stage picked (by id) for a new deal, or DealProblem."""
    stage = pipelines.stage_of(session, team_id, stage_id)
    if stage is None or not stage.is_open:
        raise DealProblem("Pick the pipeline and stage the deal starts in.")
    return stage


def deal_value(text: str | Decimal | None) -> Decimal | None:
    """A deal's value typed in dollars ("1,250,000", "$950000.50"); None when left blank,
    DealProblem when it is not an amount from $0 to $10 billion."""
    typed = str(text if text is not None else "").strip().replace(",", "").removeprefix("$")
    if not typed:
        return None
    try:
        value = Decimal(typed.strip())
    except InvalidOperation as exc:
        raise DealProblem("Type the deal's value in dollars, such as 1,250,000.") from exc
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise DealProblem("A deal's value is between $0 and $10,000,000,000.")
    return value.quantize(Decimal("0.01"))


def open_deal_of(session: Session, lead: Lead) -> Deal | None:
    """The lead's deal still in the pipeline, if it has one."""
    return session.scalars(
        select(Deal)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(
            Deal.team_id == lead.team_id,
            Deal.lead_id == lead.id,
            PipelineStage.outcome == "open",
        )
    ).first()


def open_deal(
    session: Session,
    lead: Lead,
    user: User,
    *,
    stage: PipelineStage | None = None,
    value: Decimal | None = None,
    conversation_id: int | None = None,
    note: str = "",
) -> tuple[Deal, bool]:
    """The lead's open deal, made now in the open `stage` (the default pipeline's first
    when None) unless it has one (one open deal a lead); whether it was made. The lead
    becomes a deal and its sequences stop. DealProblem when `stage` needs a value and
    none is given."""
    deal = open_deal_of(session, lead)
    created = deal is None
    if deal is None:
        if stage is None:
            stage = pipelines.first_open_stage(
                session, pipelines.default_pipeline(session, lead.team_id).id
            )
        if not stage.is_open or stage.team_id != lead.team_id:
            raise DealProblem("A new deal starts in an open stage.")
        if "value" in (stage.required_fields or ()) and value is None:
            raise DealProblem(f"{stage.name} needs the deal's {REQUIRABLE['value'].lower()}.")
        business = lead.business
        deal = Deal(
            team_id=lead.team_id,
            title=(business.name if business is not None else lead.code)[:255],
            lead_id=lead.id,
            conversation_id=conversation_id,
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            value=value,
            assignee_id=lead.assignee_id or user.id,
            created_by_id=user.id,
        )
        session.add(deal)
        attribution.stamp(session, deal)
        session.flush()
        session.add(
            DealStageHistory(
                team_id=lead.team_id,
                deal_id=deal.id,
                to_stage_id=stage.id,
                to_stage=stage.name,
                by_id=user.id,
                note=note[:255],
            )
        )
    lead.status = "deal"
    sequences.stop_for_lead(session, lead.team_id, lead.id, "deal", "Converted to a deal")
    return deal, created


# The deals export (the CLI's and the board's): the issue names the pipeline columns.
EXPORT_COLUMNS = (
    "deal", "title", "pipeline", "stage", "probability", "value", "weighted_value",
    "expected_close", "assignee", "stage_entered_at", "days_in_stage", "stale",
    "source_campaign", "first_touch_persona", "closing_persona", "lost_reason",
    "closed_at", "lead", "business", "owner", "phone", "created_at", "created_by",
)  # fmt: skip


def with_cards(query):
    """`query` of deals loading what a card, a list row or an export line shows."""
    return query.options(
        joinedload(Deal.stage),
        joinedload(Deal.pipeline),
        joinedload(Deal.assignee),
        joinedload(Deal.lost_reason),
        joinedload(Deal.lead).joinedload(Lead.business),
        joinedload(Deal.lead).joinedload(Lead.owner),
    )


def team_deals(session: Session, team_id: int) -> Iterator[Deal]:
    """A team's deals, oldest first, with what their export shows."""
    yield from session.scalars(
        with_cards(select(Deal).where(Deal.team_id == team_id).order_by(Deal.id))
    ).unique()


def weighted_value(deal: Deal) -> Decimal | None:
    """The deal's value times its stage's chance of winning."""
    if deal.value is None:
        return None
    return (deal.value * deal.stage.probability / 100).quantize(Decimal("0.01"))


def days_in_stage(deal: Deal, now: datetime) -> int:
    """Whole days the deal has been in its stage."""
    return max(0, (now - deal.stage_at) // timedelta(days=1))


def campaign_names(session: Session, team_id: int) -> dict[int, str]:
    """The names of the team's campaigns, for the export's source campaign."""
    return dict(
        session.execute(select(Campaign.id, Campaign.name).where(Campaign.team_id == team_id)).all()
    )


def export_rows(
    deals: Iterable[Deal],
    now: datetime,
    phones: dict[int, str] | None = None,
    campaigns: dict[int, str] | None = None,
) -> Iterator[tuple]:
    """CSV rows of deals in EXPORT_COLUMNS order; days in stage counted to `now`."""
    phones, campaigns = phones or {}, campaigns or {}

    def money(amount: Decimal | None) -> str:
        return "" if amount is None else f"{amount:.2f}"

    for deal in deals:
        lead = deal.lead
        owner = lead.owner if lead is not None else None
        assignee = deal.assignee
        yield (
            deal.id,
            deal.title,
            deal.pipeline.name,
            deal.stage.name,
            deal.stage.probability,
            money(deal.value),
            money(weighted_value(deal)),
            deal.expected_close.isoformat() if deal.expected_close else "",
            (assignee.name or assignee.email) if assignee is not None else "",
            deal.stage_at.isoformat() if deal.stage_at else "",
            days_in_stage(deal, now),
            "yes" if deal.stale_at else "",
            campaigns.get(deal.source_campaign_id or 0, ""),
            deal.first_touch_persona,
            deal.closing_persona,
            deal.lost_reason.name if deal.lost_reason is not None else "",
            deal.closed_on.isoformat() if deal.closed_on else "",
            lead.code if lead is not None else "",
            lead.business.name if lead is not None and lead.business is not None else "",
            owner.full_name if owner is not None else "",
            phones.get(deal.conversation_id or 0, ""),
            deal.created_at.isoformat() if deal.created_at else "",
            deal.created_by_id or "",
        )


def conversation_numbers(session: Session, team_id: int) -> dict[int, str]:
    """The number of each of a team's conversations, for the export."""
    from console.models import Conversation

    return dict(
        session.execute(
            select(Conversation.id, Conversation.e164).where(Conversation.team_id == team_id)
        ).all()
    )
