"""The work people do on a lead or a deal: notes they write and tasks they owe.

A callback the owner asked for is a task of kind "callback", due at the owner's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import TeamOwned, UTCDateTime, utcnow

if TYPE_CHECKING:
    from console.models.leads import Lead
    from console.models.team import User

TASK_KINDS: dict[str, str] = {"task": "Task", "callback": "Callback"}
TASK_STATES: dict[str, str] = {"open": "Open", "done": "Done"}


class Note(TeamOwned, db.Model):
    """Something a person wrote down about a lead (or its deal)."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_lead", "lead_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()


class Task(TeamOwned, db.Model):
    """Something a person owes a lead or a deal by a time: a call back, a follow-up.

    `due_at` is UTC; `zone` is the IANA zone it was booked in (the owner's, for a
    callback), so the page can say "3:00 pm for the owner, Chicago".
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_team_state_due", "team_id", "state", "due_at"),
        Index("ix_tasks_lead", "lead_id", "state"),
    )
    team_id_indexed = False

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="task")
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    zone: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(8), default="open")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    # The reply the owner asked for it in, when it came from the inbox.
    inbox_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Times it was pushed later ("snoozed"); the due time moves with it.
    snoozes: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    lead: Mapped[Lead | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
