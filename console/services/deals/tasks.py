"""Tasks a person owes a lead or a deal, callbacks among them.

A callback is a task of kind "callback" due at the time the owner asked for, booked in
the owner's zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Lead, Task, User


def book_callback(
    session: Session,
    lead: Lead,
    user: User | None,
    when: datetime,
    *,
    zone: str = "",
    note: str = "",
    inbox_item_id: int | None = None,
) -> Task:
    """An open callback task on `lead` at `when` (UTC), given to the user who booked it."""
    task = Task(
        team_id=lead.team_id,
        kind="callback",
        title="Call the owner back",
        note=note[:1000],
        due_at=when,
        zone=zone,
        lead_id=lead.id,
        inbox_item_id=inbox_item_id,
        assignee_id=user.id if user is not None else None,
        created_by_id=user.id if user is not None else None,
    )
    session.add(task)
    return task


def next_callback(session: Session, lead_id: int) -> Task | None:
    """The lead's earliest open callback, if one is booked."""
    return session.scalars(
        select(Task)
        .where(Task.lead_id == lead_id, Task.kind == "callback", Task.state == "open")
        .order_by(Task.due_at, Task.id)
        .limit(1)
    ).first()
