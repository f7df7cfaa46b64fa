"""Where a deal came from: the list it was imported from, the campaign, template and
variant of the first text, the persona that opened and the one that closed it, the texts
it took to get a reply, and the days it took to close.

The facts live in the lead's sources, texts, replies and drafts; `stamp` copies the
few the board filters on onto the deal when it is made (and `stamp_closing` the
closing persona when it is won), and `for_deal` reads the whole story for its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import (
    Campaign,
    Conversation,
    Deal,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    LeadSource,
    Message,
    MessageTemplate,
)


@dataclass(frozen=True)
class Attribution:
    """A deal's attribution as its page shows it."""

    import_id: int | None
    import_name: str
    campaign_id: int | None
    campaign_name: str
    template_name: str
    variant: str
    first_touch_persona: str
    closing_persona: str
    touches_before_reply: int | None
    days_to_close: int | None


def first_message(session: Session, team_id: int, lead_id: int) -> Message | None:
    """The first text sent to the lead."""
    return session.scalar(
        select(Message)
        .where(
            Message.team_id == team_id,
            Message.lead_id == lead_id,
            Message.sent_at.is_not(None),
        )
        .order_by(Message.sent_at, Message.id)
        .limit(1)
    )


def source_import_id(session: Session, lead_id: int) -> int | None:
    """The import the lead first came from."""
    return session.scalar(
        select(LeadSource.import_id)
        .where(LeadSource.lead_id == lead_id, LeadSource.import_id.is_not(None))
        .order_by(LeadSource.at, LeadSource.id)
        .limit(1)
    )


def touches_before_reply(session: Session, team_id: int, lead_id: int) -> int | None:
    """Texts sent to the lead before its first reply; None when it never replied."""
    first_reply = session.scalar(
        select(func.min(InboundMessage.received_at)).where(
            InboundMessage.team_id == team_id, InboundMessage.lead_id == lead_id
        )
    )
    if first_reply is None:
        return None
    return session.scalar(
        select(func.count(Message.id)).where(
            Message.team_id == team_id,
            Message.lead_id == lead_id,
            Message.sent_at.is_not(None),
            Message.sent_at < first_reply,
        )
    )


def persona_of(session: Session, message: Message | None) -> str:
    """The persona a text went out as: its campaign's, else its template's."""
    if message is None:
        return ""
    if message.campaign_id is not None:
        persona = session.scalar(select(Campaign.persona).where(Campaign.id == message.campaign_id))
        if persona:
            return persona
    if message.template_id is not None:
        return (
            session.scalar(
                select(MessageTemplate.persona).where(MessageTemplate.id == message.template_id)
            )
            or ""
        )
    return ""


def last_sent_persona(session: Session, team_id: int, lead_id: int) -> str:
    """The persona of the last reply draft a person sent to the lead."""
    return (
        session.scalar(
            select(Draft.persona)
            .join(InboxItem, InboxItem.id == Draft.item_id)
            .join(Conversation, Conversation.id == InboxItem.conversation_id)
            .where(
                Conversation.team_id == team_id,
                Conversation.lead_id == lead_id,
                Draft.state == "sent",
                Draft.persona != "",
            )
            .order_by(Draft.decided_at.desc(), Draft.id.desc())
            .limit(1)
        )
        or ""
    )


def stamp(session: Session, deal: Deal) -> None:
    """Copy the lead's attribution onto a new deal."""
    if deal.lead_id is None:
        return
    message = first_message(session, deal.team_id, deal.lead_id)
    deal.first_message_id = message.id if message else None
    deal.source_campaign_id = message.campaign_id if message else None
    deal.first_touch_persona = persona_of(session, message)
    deal.source_import_id = source_import_id(session, deal.lead_id)
    deal.touches_before_reply = touches_before_reply(session, deal.team_id, deal.lead_id)


def stamp_closing(session: Session, deal: Deal) -> None:
    """Record the persona that closed a deal just won: the last one a person sent,
    else the one that opened it."""
    closing = ""
    if deal.lead_id is not None:
        closing = last_sent_persona(session, deal.team_id, deal.lead_id)
    deal.closing_persona = closing or deal.first_touch_persona


def days_to_close(deal: Deal) -> int | None:
    """Days from the deal's making to its close date; None while open."""
    if deal.closed_on is None:
        return None
    made: date = deal.created_at.date()
    return max(0, (deal.closed_on - made).days)


def for_deal(session: Session, deal: Deal) -> Attribution:
    """A deal's attribution, named for its page."""
    message = session.get(Message, deal.first_message_id) if deal.first_message_id else None
    campaign = session.get(Campaign, deal.source_campaign_id) if deal.source_campaign_id else None
    template = (
        session.get(MessageTemplate, message.template_id)
        if message is not None and message.template_id
        else None
    )
    imported = session.get(ImportJob, deal.source_import_id) if deal.source_import_id else None
    return Attribution(
        import_id=deal.source_import_id,
        import_name=_import_name(imported),
        campaign_id=deal.source_campaign_id,
        campaign_name=campaign.name if campaign else "",
        template_name=template.name if template else "",
        variant=message.variant if message else "",
        first_touch_persona=deal.first_touch_persona,
        closing_persona=deal.closing_persona,
        touches_before_reply=deal.touches_before_reply,
        days_to_close=days_to_close(deal),
    )


def _import_name(job: ImportJob | None) -> str:
    if job is None:
        return ""
    return job.filename or f"Import {job.id}"
