"""Deals: what the inbox converts interested owners into, and their export.

The pipeline pages (stages, values, analytics) come with their own issue; the rows and
their stage history are kept from the first conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Deal, Lead
from console.models.replies import DEAL_STAGES

EXPORT_COLUMNS = (
    "deal", "title", "stage", "stage_name", "since", "lead", "business", "owner", "phone",
    "value", "created_at", "created_by",
)  # fmt: skip


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
