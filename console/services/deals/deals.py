"""Deals: what the inbox converts interested owners into, and their export.

The pipeline pages (stages, values, analytics) come with their own issue; the rows and
their stage history are kept from the first conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Deal, Lead
from console.models.replies import DEAL_STAGES

# A deal is open until it is won or lost; a conversion starts one in an open stage.
CLOSED_STAGES = ("won", "lost")
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
