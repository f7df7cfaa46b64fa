"""The audit trail: who did what to which record, with before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.models.base import TeamOwned, UTCDateTime, utcnow


class AuditEvent(TeamOwned, db.Model):
    """One recorded action on a team's data."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "team_id", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
