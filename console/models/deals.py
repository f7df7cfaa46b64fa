"""Deals: the pipelines a team runs, their stages, the reasons deals are lost, the deals
themselves and every move of a deal from one stage to another."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import Money, TeamOwned, UTCDateTime, utcnow

if TYPE_CHECKING:
    from console.models.leads import Lead
    from console.models.team import User

# What entering a stage does to a deal: it stays open, or it is won or lost.
OUTCOMES: dict[str, str] = {"open": "Open", "won": "Won", "lost": "Lost"}
# The fields a stage may require on entry, by the deal attribute that holds each.
REQUIRABLE: dict[str, str] = {
    "value": "Value",
    "expected_close": "Expected close date",
    "lost_reason": "Lost reason",
}


class Pipeline(TeamOwned, db.Model):
    """A sequence of stages deals of one kind go through (brokerage, roll-up, real
    estate); every deal is in exactly one."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("team_id", "name"),)
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stages: Mapped[list[PipelineStage]] = relationship(
        back_populates="pipeline", order_by="PipelineStage.position"
    )


class PipelineStage(TeamOwned, db.Model):
    """One column of a pipeline: its order, its chance of winning, when a deal in it
    goes stale, what it asks for on entry, and whether it closes the deal."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (UniqueConstraint("pipeline_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Chance of winning a deal in this stage, 0-100; weighted value = value x this / 100.
    probability: Mapped[int] = mapped_column(Integer, default=0)
    # Days without activity after which a deal here is stale; None: never.
    stale_days: Mapped[int | None] = mapped_column(Integer)
    # Keys of REQUIRABLE a deal must have to enter.
    required_fields: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(4), default="open")

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    @property
    def is_open(self) -> bool:
        return self.outcome == "open"


class LostReason(TeamOwned, db.Model):
    """A reason a team gives for losing a deal; the list is the team's to edit."""

    __tablename__ = "lost_reasons"
    __table_args__ = (UniqueConstraint("team_id", "name"),)
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Retired reasons stay on the deals lost for them but are no longer offered.
    active: Mapped[bool] = mapped_column(default=True)


class Deal(TeamOwned, db.Model):
    """An owner who is interested, followed through a pipeline to won or lost.

    `stage_at` is when it entered its stage; `last_touch_at` its last activity (a move,
    an edit, a note, a text either way), from which the daily job sets `stale_at`.
    The attribution columns are copied from the lead's history when the deal is made
    (and the closing persona when it is won), so the board filters on them cheaply.
    """

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_board", "team_id", "pipeline_id", "stage_id", "stage_at"),
        Index("ix_deals_stage", "stage_id"),
    )
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id"))
    value: Mapped[Decimal | None] = mapped_column(Money())
    expected_close: Mapped[date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stage_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_touch_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set by the daily job when the deal has gone its stage's stale days untouched.
    stale_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Outcome: the close date of a won or lost deal, and why a lost one was lost.
    closed_on: Mapped[date | None] = mapped_column(Date)
    lost_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("lost_reasons.id", ondelete="SET NULL")
    )
    lost_note: Mapped[str] = mapped_column(String(255), default="")
    # Attribution.
    source_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="SET NULL")
    )
    source_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    first_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    first_touch_persona: Mapped[str] = mapped_column(String(10), default="")
    closing_persona: Mapped[str] = mapped_column(String(10), default="")
    # Texts sent to the owner before their first reply.
    touches_before_reply: Mapped[int | None] = mapped_column(Integer)

    lead: Mapped[Lead | None] = relationship()
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[PipelineStage] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    lost_reason: Mapped[LostReason | None] = relationship()


class DealStageHistory(TeamOwned, db.Model):
    """One move of a deal from a stage to the next, by whom and when.

    The stages' names are kept as they were at the move, so history reads the same
    after a stage is renamed; the ids follow the stages while they exist.
    """

    __tablename__ = "deal_stage_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_stages.id", ondelete="SET NULL")
    )
    to_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline_stages.id", ondelete="SET NULL")
    )
    from_stage: Mapped[str] = mapped_column(String(80), default="")
    to_stage: Mapped[str] = mapped_column(String(80))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    by: Mapped[User | None] = relationship()
