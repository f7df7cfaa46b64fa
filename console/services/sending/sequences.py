"""Follow-up sequences: each lead in a campaign is enrolled; its next touch comes due a
number of days after the last one went, and the enrollment stops on any reply,
opt-out or deal, cancelling whatever had not gone yet."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models import Campaign, Enrollment, Lead, Message
from console.models.base import utcnow

# A lead in one of these has answered or is closed: no more touches.
ENDED_LEAD_STATUSES = ("replied", "interested", "deal", "not_interested", "do_not_contact")
# Texts not yet gone; stopping an enrollment cancels these.
UNSENT = ("draft", "approved")


def touch_plan(campaign: Campaign, touch: int) -> dict | None:
    """The campaign's follow-up number `touch` (1-based), or None when there is none."""
    touches = campaign.touches or []
    return touches[touch - 1] if 0 < touch <= len(touches) else None


def after_sent(session: Session, message: Message, campaign: Campaign | None) -> None:
    """Advance the enrollment of a text that just went: its next touch comes due."""
    enrollment = message.enrollment if message.enrollment_id is not None else None
    for name, value in (advance(enrollment, message, campaign) or {}).items():
        setattr(enrollment, name, value)


def advance(
    enrollment: Enrollment | None, message: Message, campaign: Campaign | None
) -> dict | None:
    """The enrollment's columns once `message` went (touches sent, and the next touch's
    due time, or finished); None when it does not move (none, or no longer active)."""
    if enrollment is None or campaign is None or enrollment.status != "active":
        return None
    touches = max(enrollment.touches_sent, message.touch + 1)
    plan = touch_plan(campaign, touches)
    if plan is None:
        return {"touches_sent": touches, "status": "finished", "next_due_at": None}
    after = timedelta(days=float(plan.get("after_days") or 1))
    return {
        "touches_sent": touches,
        "status": "active",
        "next_due_at": (message.sent_at or utcnow()) + after,
    }


def stop_for_number(session: Session, team_id: int, e164: str, status: str, reason: str) -> int:
    """Stop every active enrollment to a number and cancel its unsent texts."""
    return _stop_where(
        session, team_id, Enrollment.e164 == e164, Message.to_e164 == e164, status, reason
    )


def stop_for_lead(session: Session, team_id: int, lead_id: int, status: str, reason: str) -> int:
    """Stop a lead's active enrollments (a reply, a deal) and cancel its unsent campaign
    texts; replies a person approved in the inbox still go."""
    return _stop_where(
        session,
        team_id,
        Enrollment.lead_id == lead_id,
        (Message.lead_id == lead_id) & (Message.kind == "campaign"),
        status,
        reason,
    )


def _stop_where(session, team_id, enrollments, messages, status: str, reason: str) -> int:
    ids = list(
        session.scalars(
            select(Enrollment.id).where(
                Enrollment.team_id == team_id, enrollments, Enrollment.status == "active"
            )
        )
    )
    _stop(session, ids, status, reason)
    session.execute(
        update(Message)
        .where(Message.team_id == team_id, messages, Message.status.in_(UNSENT))
        .values(status="cancelled", blocked_reason=reason[:255])
        .execution_options(synchronize_session="fetch")
    )
    return len(ids)


def _stop(session: Session, ids: list[int], status: str, reason: str) -> None:
    if not ids:
        return
    session.execute(
        update(Enrollment)
        .where(Enrollment.id.in_(ids))
        .values(status=status, stopped_reason=reason[:200], stopped_at=utcnow(), next_due_at=None)
        .execution_options(synchronize_session="fetch")
    )


def due_enrollments(session: Session, now: datetime | None = None) -> dict[tuple[int, int], list]:
    """Active enrollments whose next touch is due, by (campaign id, touch number).

    An enrollment already waiting in an unsent follow-up batch is not due again.
    """
    now = now or utcnow()
    pending = (
        select(Message.id)
        .where(Message.enrollment_id == Enrollment.id, Message.status.in_(UNSENT))
        .exists()
    )
    rows = session.scalars(
        select(Enrollment)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .join(Lead, Lead.id == Enrollment.lead_id)
        .where(
            Enrollment.status == "active",
            Lead.status.not_in(ENDED_LEAD_STATUSES),
            Enrollment.next_due_at.is_not(None),
            Enrollment.next_due_at <= now,
            Campaign.status == "active",
            ~pending,
        )
        .order_by(Enrollment.id)
    )
    grouped: dict[tuple[int, int], list] = defaultdict(list)
    for enrollment in rows:
        grouped[(enrollment.campaign_id, enrollment.touches_sent)].append(enrollment)
    return dict(grouped)
