"""Deals: what the inbox converts interested owners into, and their export.

The pipeline pages (stages, values, analytics) come with their own issue; the rows and
their stage history are kept from the first conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Deal, DealStageHistory, Lead, User
from console.models.replies import DEAL_STAGES
from console.services.sending import sequences

# Stages a deal has finished in; a lead has at most one deal in any other stage.
CLOSED_STAGES = ("won", "lost")
# The stages a conversion may start a deal in.
OPEN_STAGES = {key: name for key, name in DEAL_STAGES.items() if key not in CLOSED_STAGES}
MAX_VALUE = Decimal("10000000000")  # $10 billion: more is a typing slip


class DealProblem(ValueError):
    """A deal's stage or value that cannot be taken as typed; the message says why."""


def open_stage(stage: str) -> str:
    """The open stage picked for a new deal, or DealProblem."""
    if stage not in OPEN_STAGES:
        raise DealProblem("Pick the deal's stage: " + ", ".join(OPEN_STAGES.values()) + ".")
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


EXPORT_COLUMNS = (
    "deal", "title", "stage", "stage_name", "since", "lead", "business", "owner", "phone",
    "value", "created_at", "created_by",
)  # fmt: skip


def open_deal_of(session: Session, lead: Lead) -> Deal | None:
    """The lead's deal still in the pipeline, if it has one."""
    return session.scalars(
        select(Deal).where(
            Deal.team_id == lead.team_id,
            Deal.lead_id == lead.id,
            Deal.stage.not_in(CLOSED_STAGES),
        )
    ).first()


def open_deal(
    session: Session,
    lead: Lead,
    user: User,
    *,
    stage: str = "discovery",
    value: Decimal | None = None,
    conversation_id: int | None = None,
    note: str = "",
) -> tuple[Deal, bool]:
    """The lead's open deal, made now in `stage` unless it has one (one open deal a lead);
    whether it was made. The lead becomes a deal and its sequences stop."""
    deal = open_deal_of(session, lead)
    created = deal is None
    if deal is None:
        business = lead.business
        deal = Deal(
            team_id=lead.team_id,
            title=(business.name if business is not None else lead.code)[:255],
            lead_id=lead.id,
            conversation_id=conversation_id,
            stage=stage if stage in DEAL_STAGES else "discovery",
            value=value,
            owner_id=user.id,
            created_by_id=user.id,
        )
        session.add(deal)
        session.flush()
        session.add(
            DealStageHistory(
                team_id=lead.team_id,
                deal_id=deal.id,
                to_stage=deal.stage,
                by_id=user.id,
                note=note[:255],
            )
        )
    lead.status = "deal"
    sequences.stop_for_lead(session, lead.team_id, lead.id, "deal", "Converted to a deal")
    return deal, created


def team_deals(session: Session, team_id: int) -> Iterator[Deal]:
    """A team's deals, oldest first, with their leads."""
    yield from session.scalars(
        select(Deal)
        .where(Deal.team_id == team_id)
        .options(joinedload(Deal.lead).joinedload(Lead.business))
        .options(joinedload(Deal.lead).joinedload(Lead.owner))
        .order_by(Deal.id)
    ).unique()


def export_rows(deals: Iterable[Deal], phones: dict[int, str] | None = None) -> Iterator[tuple]:
    """CSV rows of deals in EXPORT_COLUMNS order."""
    phones = phones or {}
    for deal in deals:
        lead = deal.lead
        owner = lead.owner if lead is not None else None
        yield (
            deal.id,
            deal.title,
            deal.stage,
            DEAL_STAGES.get(deal.stage, deal.stage),
            deal.stage_at.isoformat() if deal.stage_at else "",
            lead.code if lead is not None else "",
            lead.business.name if lead is not None and lead.business is not None else "",
            owner.full_name if owner is not None else "",
            phones.get(deal.conversation_id or 0, ""),
            "" if deal.value is None else f"{deal.value:.2f}",
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
