"""Replies: conversations with owners, their inbound texts, the inbox items a reviewer
works, and the drafts written for them (the deals that come out of them: models.deals)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import TeamOwned, UTCDateTime, utcnow

if TYPE_CHECKING:
    from console.models.campaigns import Campaign, Sender
    from console.models.leads import Lead
    from console.models.team import User

# An inbox item waits for its job (classification, draft), then for a person.
INBOX_STATES: dict[str, str] = {
    "processing": "Being read",
    "open": "Open",
    "escalated": "Escalated",
    "done": "Done",
}
# How a done item was closed.
RESOLUTIONS: dict[str, str] = {
    "sent": "Reply sent",
    "auto_sent": "Reply sent automatically",
    "archived": "Archived",
    "suppressed": "Number suppressed",
    "opted_out": "Opted out",
    "converted": "Converted to a deal",
    "callback": "Callback scheduled",
}
DRAFT_SOURCES: dict[str, str] = {
    "ai": "AI",
    "template": "Template",
    "person": "Written by a person",
}
DRAFT_STATES = ("proposed", "sent", "discarded", "superseded")


class Conversation(TeamOwned, db.Model):
    """Everything said between the team and one number, in and out."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("team_id", "e164"),)
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16))
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    # The sender the owner heard from; replies go out from it (no number rotation).
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(10), default="initial")
    persona: Mapped[str] = mapped_column(String(10), default="")
    inbound_count: Mapped[int] = mapped_column(Integer, default=0)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead | None] = relationship()
    sender: Mapped[Sender | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()


class InboundMessage(db.Model):
    """A text an owner sent, stored once per Twilio MessageSid before anything else.

    `team_id` is empty only when the number it was sent to belongs to no team; such a
    text is kept (never lost) and logged for an administrator.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_team_received", "team_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    provider_sid: Mapped[str] = mapped_column(String(40), unique=True)
    from_e164: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str] = mapped_column(String(40), default="")
    messaging_service_sid: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The body Twilio posted was longer than `twilio_fields.BODY_LIMIT`; its start is kept.
    body_truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    media: Mapped[list] = mapped_column(JSON, default=list)
    # What the rules read in the request: opt_out, opt_in, help or ""
    # (console.services.replies.optout).
    intent: Mapped[str] = mapped_column(String(10), default="")
    intent_exact: Mapped[bool] = mapped_column(Boolean, default=False)
    intent_matched: Mapped[str] = mapped_column(String(80), default="")
    # What the request did about it: "suppressed", "opted_in", "help", "already" or "".
    handled: Mapped[str] = mapped_column(String(12), default="")
    # Jobs that began matching it to its lead; past `inbound.MAX_ATTACH_ATTEMPTS` none retries.
    attach_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conversation: Mapped[Conversation | None] = relationship()


class InboxItem(TeamOwned, db.Model):
    """A reply waiting for a person: its reading, priority, deadline and draft."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_team_state_priority", "team_id", "state", "priority"),
        Index("ix_inbox_conversation", "conversation_id", "state"),
        # Reports read the replies that arrived in a range.
        Index("ix_inbox_team_created", "team_id", "created_at"),
    )
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # The newest inbound text the item is about (a second text joins an open item).
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12), default="processing")
    resolution: Mapped[str] = mapped_column(String(12), default="")
    label: Mapped[str] = mapped_column(String(20), default="")
    confidence: Mapped[int] = mapped_column(Integer, default=0)
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # Claude thinks this may be a revocation the rules missed; a person confirms.
    opt_out_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    extracted: Mapped[dict] = mapped_column(JSON, default=dict)
    classified_by: Mapped[str] = mapped_column(String(10), default="")
    classify_note: Mapped[str] = mapped_column(String(255), default="")
    # Readings of the current text begun; past MAX_READ_ATTEMPTS a person reads it.
    read_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="low")
    route: Mapped[str] = mapped_column(String(12), default="review")
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(10), default="initial")
    persona: Mapped[str] = mapped_column(String(10), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_note: Mapped[str] = mapped_column(String(255), default="")
    # No lead matched the number (the "unmatched" bucket).
    unmatched: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    conversation: Mapped[Conversation] = relationship()
    inbound: Mapped[InboundMessage] = relationship()
    lead: Mapped[Lead | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class Draft(TeamOwned, db.Model):
    """A reply proposed for an inbox item, and what became of it (the AI quality log)."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_item", "item_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbox_items.id", ondelete="CASCADE"))
    persona: Mapped[str] = mapped_column(String(10), default="")
    label: Mapped[str] = mapped_column(String(20), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="template")
    model: Mapped[str] = mapped_column(String(60), default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    # Why the template was used instead of Claude ("no API key", "timed out after 4 s"...).
    fallback_reason: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(12), default="proposed")
    # What went out, when a person sent it; `edited` says whether it differs from `body`.
    sent_body: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
