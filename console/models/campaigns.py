"""Outreach: message templates, the numbers texts go out from, campaigns, their batches
of drafted texts, every outbound message, and each lead's place in a campaign's sequence.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import Money, TeamOwned, Timestamps, UTCDateTime, utcnow
from console.models.leads import Lead
from console.models.team import User

PERSONAS: dict[str, str] = {
    "GIANNA": "GIANNA: first touches and nurture",
    "CATHY": "CATHY: follow-up nudges",
    "SABRINA": "SABRINA: booking and price",
    "NEVA": "NEVA: research and support",
}
TEMPLATE_CATEGORIES: dict[str, str] = {
    "opener": "Opener",
    "follow_up": "Follow-up",
    "nudge": "Nudge",
    "booking": "Booking",
    "nurture": "Nurture",
}
# What an outbound text is: a campaign touch, a reply from the inbox, the one apology to
# a wrong number (the number is suppressed once it has gone), or an opt-out/in/help answer.
MESSAGE_KINDS = ("campaign", "reply", "farewell", "confirmation")
REPLY_KINDS = ("reply", "farewell")
# Messages a second a new sender starts at: a 10DLC number of a standard brand gets about
# 4.5 a second on T-Mobile and more on AT&T (REFERENCE 3), so 4 stays under every
# carrier's share; sole proprietors (1) and toll-free (3) lower it in Settings > Sending.
DEFAULT_SENDER_MPS = 4.0
SENDER_KINDS: dict[str, str] = {
    "number": "Phone number",
    "messaging_service": "Messaging Service",
}
CAMPAIGN_STATUSES: tuple[str, ...] = ("draft", "active", "paused", "finished", "archived")
# A batch moves left to right; paused goes back to sending, the last two end it.
BATCH_STATUSES: tuple[str, ...] = (
    "generating",
    "in_review",
    "approved",
    "sending",
    "paused",
    "done",
    "cancelled",
)
# An outbound message: drafted, then skipped or approved; approved ones are claimed
# (`sending`) and become `sent` with Twilio's SID; callbacks move them to delivered or
# failed. `blocked` is the compliance gate's refusal at the moment of sending.
MESSAGE_STATUSES: tuple[str, ...] = (
    "draft",
    "skipped",
    "approved",
    "sending",
    "sent",
    "delivered",
    "failed",
    "blocked",
    "cancelled",
)
FINAL_MESSAGE_STATUSES: frozenset[str] = frozenset(
    {"skipped", "delivered", "failed", "blocked", "cancelled"}
)
ENROLLMENT_STATUSES: tuple[str, ...] = (
    "active",
    "finished",
    "replied",
    "opted_out",
    "deal",
    "stopped",
)


class MessageTemplate(TeamOwned, Timestamps, db.Model):
    """A text with tokens (`{firstName|there}`), in the voice of a persona.

    `body` is variant A; `variants` holds the bodies of variants B, C... for A/B tests.
    """

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    persona: Mapped[str] = mapped_column(String(10), default="GIANNA")
    category: Mapped[str] = mapped_column(String(20), default="opener")
    vertical: Mapped[str] = mapped_column(String(20), default="general")
    # "first" (a first touch: must carry opt-out wording) or "follow_up".
    touch: Mapped[str] = mapped_column(String(10), default="first")
    body: Mapped[str] = mapped_column(Text, default="")
    variants: Mapped[list] = mapped_column(JSON, default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def bodies(self) -> dict[str, str]:
        """Every variant's body by its letter: {"A": body, "B": ...}."""
        letters = "ABCDEFGH"
        return {letters[i]: text for i, text in enumerate([self.body, *(self.variants or [])])}


class Sender(TeamOwned, Timestamps, db.Model):
    """A Twilio phone number or Messaging Service the team's texts go out from.

    An address belongs to one team console-wide: replies to it are routed by it alone.
    """

    __tablename__ = "senders"
    __table_args__ = (UniqueConstraint("address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), default="number")
    # E.164 for a number, MG... for a Messaging Service.
    address: Mapped[str] = mapped_column(String(40))
    # Messages a second Twilio takes from this sender (10DLC trust score, toll-free...).
    mps: Mapped[float] = mapped_column(Float, default=DEFAULT_SENDER_MPS)
    # The person texts from this sender are signed by ({senderName}); empty means the
    # sending user's display name.
    sender_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # Texts a day from this sender (carrier caps), 0 = no cap of our own.
    daily_cap: Mapped[int] = mapped_column(Integer, default=0)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str] = mapped_column(Text, default="")
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_service(self) -> bool:
        """Whether Twilio picks the number (a Messaging Service)."""
        return self.kind == "messaging_service"


class Campaign(TeamOwned, Timestamps, db.Model):
    """Who to text (selection criteria and exclusions), what, from where, and when."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    persona: Mapped[str] = mapped_column(String(10), default="GIANNA")
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    # console.services.campaigns.campaigns.Criteria as a dict (score range, states, tags...).
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    # Leads texted by the team within this many days are left out (0 = no rule).
    recent_contact_days: Mapped[int] = mapped_column(Integer, default=30)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    # Share of each variant: {"A": 50, "B": 50}; empty = variant A only.
    split: Mapped[dict] = mapped_column(JSON, default=dict)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Texts a day this campaign sends, 0 = no cap of its own.
    daily_cap: Mapped[int] = mapped_column(Integer, default=0)
    batch_size: Mapped[int] = mapped_column(Integer, default=500)
    # Follow-up touches: [{"after_days": 3, "template_id": 7}], sent only if no reply.
    touches: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    template: Mapped[MessageTemplate | None] = relationship()
    sender: Mapped[Sender | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class Batch(TeamOwned, db.Model):
    """Up to 2,000 drafted texts of one campaign touch, previewed and approved together."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    # 0 for the first touch, n for the campaign's n-th follow-up.
    touch: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="generating", index=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    # Leads left out while generating, by reason ({"suppressed": 3, ...}).
    excluded: Mapped[dict] = mapped_column(JSON, default=dict)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who paused or cancelled, and when: [{"action", "by", "at"}].
    history: Mapped[list] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Enrollment(TeamOwned, db.Model):
    """A lead in a campaign: the number and sender of the conversation, the next touch."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "lead_id"),
        Index("ix_enrollments_team_lead", "team_id", "lead_id"),
        Index("ix_enrollments_due", "status", "next_due_at"),
    )
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    variant: Mapped[str] = mapped_column(String(2), default="A")
    status: Mapped[str] = mapped_column(String(10), default="active")
    # Touches sent so far (1 after the opener); the next one comes due at next_due_at.
    touches_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lead: Mapped[Lead] = relationship()
    campaign: Mapped[Campaign] = relationship()


class Message(TeamOwned, db.Model):
    """One outbound text: drafted in a batch, approved by a person, sent exactly once."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_batch_status", "batch_id", "status"),
        Index("ix_messages_due", "status", "due_at"),
        Index("ix_messages_team_to_sent", "team_id", "to_e164", "sent_at"),
        Index("ix_messages_sender_sent", "sender_id", "sent_at"),
        Index("ix_messages_campaign_status", "campaign_id", "status"),
        Index("ix_messages_lead", "lead_id"),
        # Reports count a team's texts sent in a range, and a campaign's.
        # On PostgreSQL it also holds what they read of each text (an index-only scan).
        Index(
            "ix_messages_team_sent",
            "team_id",
            "sent_at",
            postgresql_include=["lead_id", "campaign_id", "status", "price", "cost_estimate"],
        ),
        Index("ix_messages_campaign_sent", "campaign_id", "sent_at"),
    )
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL")
    )
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    # A campaign text, a reply from the inbox, or the one opt-out/in confirmation.
    kind: Mapped[str] = mapped_column(String(12), default="campaign", server_default="campaign")
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    touch: Mapped[int] = mapped_column(Integer, default=0)
    variant: Mapped[str] = mapped_column(String(2), default="A")
    to_e164: Mapped[str] = mapped_column(String(16))
    # Where the recipient is, for quiet hours: the business's state and ZIP.
    to_state: Mapped[str] = mapped_column(String(2), default="")
    to_zip: Mapped[str] = mapped_column(String(10), default="")
    body: Mapped[str] = mapped_column(Text)
    # The text as the template rendered it, kept when a person edits `body`.
    rendered_body: Mapped[str] = mapped_column(Text, default="")
    # Token spans of the rendered text: [[start, end, token, fallback_used]].
    token_spans: Mapped[list] = mapped_column(JSON, default=list)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(6), default="GSM-7")
    cost_estimate: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    # Compliance and content flags found when drafted: ["fallback:firstName", ...].
    flags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Not to be sent before this (schedule, quiet hours, caps, retries).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why an approved message waits (quiet hours, cap...), in words; "" when it does not.
    hold_reason: Mapped[str] = mapped_column(String(255), default="")
    blocked_reason: Mapped[str] = mapped_column(String(255), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Exactly once: set when a worker claims the message, before it calls Twilio.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whose claim it is: written with each claim and taken over by the reconciler, so a
    # worker that stalled past its lease can no longer send or record the message.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The last status Twilio gave (queued, sent, delivered, undelivered...).
    provider_status: Mapped[str] = mapped_column(String(12), default="")
    from_address: Mapped[str] = mapped_column(String(40), default="")
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[Decimal | None] = mapped_column(Money())
    # "twilio" when the price came from Twilio, "estimate" from the rate per segment.
    price_source: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lead: Mapped[Lead | None] = relationship()
    batch: Mapped[Batch | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    enrollment: Mapped[Enrollment | None] = relationship()
    sender: Mapped[Sender | None] = relationship()
    template: Mapped[MessageTemplate | None] = relationship()


class MessageEvent(db.Model):
    """A status callback as received: one row per (SID, status), so replays change nothing."""

    __tablename__ = "message_events"
    __table_args__ = (UniqueConstraint("provider_sid", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    provider_sid: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    error_code: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10), default="webhook")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SandboxMessage(TeamOwned, db.Model):
    """A text the sandbox Twilio "sent": its SID, and the callbacks it will play back."""

    __tablename__ = "sandbox_messages"
    __table_args__ = (Index("ix_sandbox_messages_to", "to_e164", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(40), unique=True)
    to_e164: Mapped[str] = mapped_column(String(16))
    from_address: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    # The callbacks still to play: [[status, error_code, due ISO time]].
    pending: Mapped[list] = mapped_column(JSON, default=list)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
