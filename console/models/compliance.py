"""Who must not be texted, and the record of every consent given or taken back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.models.base import TeamOwned, UTCDateTime, utcnow


class Suppression(TeamOwned, db.Model):
    """A number the team must never text (opt-out, DNC, wrong number...)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("team_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(60), default="")
    scope: Mapped[str] = mapped_column(String(20), default="team")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Set by delivery.suppress_number: whether that call added the row (not stored).
    created = False


class ConsentEvent(TeamOwned, db.Model):
    """An opt-out, opt-in or help request from a number, kept as an audit trail."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_team_e164", "team_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
