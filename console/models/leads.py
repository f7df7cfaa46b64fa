"""Businesses, their owners, how to reach them, and the leads that tie them together."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, relationship, validates

from console.extensions import db
from console.models.base import TeamOwned, Timestamps, UTCDateTime

if TYPE_CHECKING:
    from console.models.imports import LeadSource

# Lead statuses in the order a lead moves through them; the last two end outreach.
LEAD_STATUSES: tuple[str, ...] = (
    "new",
    "ready",
    "contacted",
    "replied",
    "interested",
    "deal",
    "not_interested",
    "do_not_contact",
)

PHONE_KINDS: tuple[str, ...] = ("mobile", "office", "other")


class Business(TeamOwned, Timestamps, db.Model):
    """A company found in a list: the thing an owner might sell."""

    team_id_indexed = False  # ix_businesses_team_normalized starts with it
    __tablename__ = "businesses"
    __table_args__ = (
        Index("ix_businesses_team_normalized", "team_id", "normalized_name", "zip"),
        Index("ix_businesses_team_state", "team_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets imports insert thousands of rows with RETURNING in one statement, in order.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    name: Mapped[str] = mapped_column(String(255))
    normalized_name: Mapped[str] = mapped_column(String(255), default="")
    street: Mapped[str] = mapped_column(String(255), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    county: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    sic_code: Mapped[str] = mapped_column(String(8), default="")
    naics_code: Mapped[str] = mapped_column(String(8), default="")
    industry: Mapped[str] = mapped_column(String(255), default="")
    employees_low: Mapped[int | None] = mapped_column(Integer)
    employees_high: Mapped[int | None] = mapped_column(Integer)
    revenue_low: Mapped[int | None] = mapped_column(BigInteger)
    revenue_high: Mapped[int | None] = mapped_column(BigInteger)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="business", cascade="all, delete-orphan", passive_deletes=True
    )
    emails: Mapped[list[Email]] = relationship(
        back_populates="business", cascade="all, delete-orphan", passive_deletes=True
    )


class Owner(TeamOwned, Timestamps, db.Model):
    """A person who owns or runs a business: the one we want to talk to."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets imports insert thousands of rows with RETURNING in one statement, in order.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    first_name: Mapped[str] = mapped_column(String(80), default="")
    last_name: Mapped[str] = mapped_column(String(80), default="")
    full_name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(120), default="")
    # Other names and titles sources gave for this owner: [{"name", "title", "source"}].
    alt_names: Mapped[list] = mapped_column(JSON, default=list)
    # Addresses found for the owner (home, mailing): [{"street", "city", "state", "zip",
    # "source"}].
    addresses: Mapped[list] = mapped_column(JSON, default=list)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    emails: Mapped[list[Email]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class Phone(TeamOwned, Timestamps, db.Model):
    """A phone number in E.164, tied to an owner, a business, or both."""

    team_id_indexed = False  # ix_phones_team_e164 starts with it
    __tablename__ = "phones"
    __table_args__ = (
        Index("ix_phones_team_e164", "team_id", "e164"),
        Index("ix_phones_team_kind_owner", "team_id", "kind", "owner_id"),
        Index("ix_phones_owner_kind", "owner_id", "kind"),
        Index("ix_phones_business_kind", "business_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up through ix_phones_owner_kind and ix_phones_business_kind.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str] = mapped_column(String(10), default="")
    kind: Mapped[str] = mapped_column(String(10), default="other")
    line_type: Mapped[str] = mapped_column(String(20), default="")
    carrier: Mapped[str] = mapped_column(String(120), default="")
    textable: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(60), default="")
    # How sure the source was that the number is this owner's (0-100), when it said.
    confidence: Mapped[int | None] = mapped_column(Integer)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[Owner | None] = relationship(back_populates="phones")

    @hybrid_property
    def verified_mobile(self) -> bool:
        """Whether a line-type check found this number to be a mobile that takes texts."""
        return self.line_type == "mobile" and bool(self.textable)

    @verified_mobile.inplace.expression
    @classmethod
    def _verified_mobile_expression(cls):
        return and_(cls.line_type == "mobile", cls.textable.is_(True))

    business: Mapped[Business | None] = relationship(back_populates="phones")


class Email(TeamOwned, Timestamps, db.Model):
    """An email address of an owner or a business."""

    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(60), default="")

    owner: Mapped[Owner | None] = relationship(back_populates="emails")
    business: Mapped[Business | None] = relationship(back_populates="emails")


class Lead(TeamOwned, Timestamps, db.Model):
    """One business-and-owner pair the team may work, with its code, status and scores."""

    team_id_indexed = False  # the code and date indexes start with it
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("team_id", "code"),
        Index("ix_leads_team_created_id", "team_id", "created_at", "id"),
        Index("ix_leads_team_status", "team_id", "status"),
        Index("ix_leads_team_priority", "team_id", "priority"),
        Index("ix_leads_team_queue", "team_id", "queue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets imports insert thousands of rows with RETURNING in one statement, in order.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    code: Mapped[str] = mapped_column(String(20))
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="new")
    quality_score: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the lead came from: {"source": ..., "file": ..., "rows": [...]}.
    provenance: Mapped[dict] = mapped_column(JSON, default=dict)
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # LUCI's preparation (console.services.tracing.scoring): why the score is what it is, the
    # queue, the next step and the persona that should write to this owner.
    score_breakdown: Mapped[list] = mapped_column(JSON, default=list)
    queue: Mapped[str] = mapped_column(String(20), default="")
    recommended_action: Mapped[str] = mapped_column(String(40), default="")
    persona: Mapped[str] = mapped_column(String(10), default="")
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last finished skip trace: when, and whether it found the owner's contact.
    traced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trace_status: Mapped[str] = mapped_column(String(12), default="")
    # The teammate who works this lead.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    business: Mapped[Business | None] = relationship()
    owner: Mapped[Owner | None] = relationship()
    sources: Mapped[list[LeadSource]] = relationship(
        order_by="LeadSource.id", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("status")
    def _status_sets_next_step(self, _key: str, status: str) -> str:
        """A new status brings the next step that follows from it (no outreach for a
        do-not-contact lead, work the deal for a deal...), recorded at once."""
        from console.services.tracing.scoring import step_after_status_change  # builds on us

        step = step_after_status_change(self, status)
        if step is not None and step != self.recommended_action:
            self.recommended_action = step
        return status

    @property
    def phones(self) -> list[Phone]:
        """Every number the lead can be reached on: the owner's, then the business's."""
        return (self.owner.phones if self.owner else []) + (
            self.business.phones if self.business else []
        )

    @property
    def emails(self) -> list[Email]:
        """Every email address of the lead: the owner's, then the business's."""
        return (self.owner.emails if self.owner else []) + (
            self.business.emails if self.business else []
        )
