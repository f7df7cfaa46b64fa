"""Moving a deal from one stage to another: who may, what the stage asks for on entry,
the outcome a won or lost stage records, and two people moving the same card at once.

A move is one transaction: the deal's row changes with a compare-and-set on the stage
the mover saw, and its stage history row (and audit event) are written with it. When
someone else moved the deal first, the second move is refused with who moved it where
(`MoveConflict`), never applied on top: the second person sees the card where it now
is and decides again. Both databases give this from the one UPDATE, with no lock held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models import Deal, DealStageHistory, LostReason, PipelineStage, Role, User
from console.models.base import utcnow
from console.models.deals import REQUIRABLE
from console.services import audit
from console.services.deals import attribution
from console.services.deals.deals import DealProblem
from console.services.timezones import format_when, local_date

# Roles that move any deal; the others move the deals assigned to them.
MOVE_ANY = (Role.MANAGER,)


class MoveRefused(DealProblem):
    """A move that may not happen as asked; the message says why."""


class NeedsFields(MoveRefused):
    """The stage asks for fields the deal does not have: ask for them, then move."""

    def __init__(self, stage: PipelineStage, missing: list[str]):
        self.stage, self.missing = stage, missing
        names = ", ".join(REQUIRABLE.get(key, key).lower() for key in missing)
        super().__init__(f"{stage.name} needs the deal's {names}.")


class MoveConflict(MoveRefused):
    """Someone moved the deal since the mover last saw it."""

    def __init__(self, deal: Deal, move: DealStageHistory | None, by: str, zone: str):
        self.deal, self.move = deal, move
        if move is None:
            super().__init__(
                "This deal has moved since you loaded the board; it is shown where it is now."
            )
        else:
            super().__init__(
                f"{by} moved this deal to {move.to_stage} at {format_when(move.at, zone)}; "
                "it is shown where it is now."
            )


@dataclass
class MoveFields:
    """What the mover typed for the stage: blank fields keep the deal's own."""

    value: Decimal | None = None
    expected_close: date | None = None
    lost_reason_id: int | None = None
    lost_note: str = ""
    closed_on: date | None = None
    note: str = ""
    given: set[str] = field(default_factory=set)


def can_move(user: User, deal: Deal) -> bool:
    """Managers and admins move any deal; operators and reviewers their own."""
    return any(user.can(role) for role in MOVE_ANY) or (
        deal.assignee_id is not None and deal.assignee_id == user.id
    )


def required_fields(stage: PipelineStage) -> list[str]:
    """The fields a deal needs to enter `stage`, in REQUIRABLE order: the stage's own,
    and always a lost reason for a lost stage."""
    wanted = set(stage.required_fields or ())
    if stage.outcome == "lost":
        wanted.add("lost_reason")
    return [key for key in REQUIRABLE if key in wanted]


def missing_fields(deal: Deal, stage: PipelineStage, fields: MoveFields | None = None) -> list[str]:
    """The fields `stage` requires that neither the deal nor the mover has given."""
    fields = fields or MoveFields()
    have = {
        "value": fields.value if fields.value is not None else deal.value,
        "expected_close": fields.expected_close or deal.expected_close,
        "lost_reason": fields.lost_reason_id,
    }
    return [key for key in required_fields(stage) if have.get(key) in (None, "")]


def move_deal(
    session: Session,
    deal: Deal,
    to_stage: PipelineStage,
    user: User,
    *,
    seen_stage_id: int | None = None,
    fields: MoveFields | None = None,
    now: datetime | None = None,
    today: date | None = None,
    zone: str = "UTC",
) -> DealStageHistory | None:
    """Move `deal` to `to_stage` as `user`; the history row written, None when it was
    already there. `seen_stage_id` is the stage the mover saw the deal in (the board's
    card); when the deal has left it since, MoveConflict (its time in the viewer's
    `zone`). `today` is the mover's date (by default today in `zone`), the close date of
    a won or lost deal unless one is typed. Does not commit."""
    fields = fields or MoveFields()
    now = now or utcnow()
    if not can_move(user, deal):
        raise MoveRefused("Only the deal's assignee, a manager or an admin moves this deal.")
    if to_stage.team_id != deal.team_id or to_stage.pipeline_id != deal.pipeline_id:
        raise MoveRefused("Pick a stage of the deal's own pipeline.")
    seen = deal.stage_id if seen_stage_id is None else seen_stage_id
    if to_stage.id == seen and to_stage.id == deal.stage_id:
        return None
    missing = missing_fields(deal, to_stage, fields)
    if missing:
        raise NeedsFields(to_stage, missing)
    reason = _lost_reason(session, deal, fields.lost_reason_id, to_stage)
    from_stage = session.get(PipelineStage, deal.stage_id)
    changes = _changes(deal, to_stage, fields, reason, now, today or local_date(now, zone))
    done = session.execute(
        update(Deal)
        .where(Deal.id == deal.id, Deal.team_id == deal.team_id, Deal.stage_id == seen)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.refresh(deal)
        last = session.scalar(
            select(DealStageHistory)
            .where(DealStageHistory.deal_id == deal.id)
            .order_by(DealStageHistory.at.desc(), DealStageHistory.id.desc())
            .limit(1)
        )
        by = (last.by.name or last.by.email) if last is not None and last.by else "Someone"
        raise MoveConflict(deal, last, by, zone)
    before = {
        "stage": from_stage.name if from_stage else "",
        "value": _money(deal.value),
        "lost_reason": deal.lost_reason.name if deal.lost_reason else "",
    }
    session.refresh(deal)
    if to_stage.outcome == "won":
        attribution.stamp_closing(session, deal)
    move = DealStageHistory(
        team_id=deal.team_id,
        deal_id=deal.id,
        from_stage_id=from_stage.id if from_stage else None,
        to_stage_id=to_stage.id,
        from_stage=from_stage.name if from_stage else "",
        to_stage=to_stage.name,
        by_id=user.id,
        note=fields.note[:255],
        at=now,
    )
    session.add(move)
    reopened = from_stage is not None and not from_stage.is_open and to_stage.is_open
    audit.record(
        session,
        team_id=deal.team_id,
        actor_id=user.id,
        action="deal.reopened" if reopened else f"deal.{_verb(to_stage)}",
        entity=deal,
        before=before,
        after={
            "stage": to_stage.name,
            "value": _money(deal.value),
            "lost_reason": reason.name if reason else "",
            "closed_on": deal.closed_on.isoformat() if deal.closed_on else "",
        },
    )
    session.flush()
    return move


def _changes(
    deal: Deal,
    stage: PipelineStage,
    fields: MoveFields,
    reason: LostReason | None,
    now: datetime,
    today: date,
) -> dict:
    """The deal's columns after entering `stage` with `fields`."""
    changes: dict = {
        "stage_id": stage.id,
        "stage_at": now,
        "last_touch_at": now,
        "stale_at": None,
    }
    if fields.value is not None:
        changes["value"] = fields.value
    if fields.expected_close is not None:
        changes["expected_close"] = fields.expected_close
    if stage.is_open:
        changes.update(closed_on=None, lost_reason_id=None, lost_note="")
    else:
        changes["closed_on"] = fields.closed_on or today
        if stage.outcome == "lost":
            changes.update(
                lost_reason_id=reason.id if reason else None, lost_note=fields.lost_note[:255]
            )
        else:
            changes.update(lost_reason_id=None, lost_note="")
    return changes


def _lost_reason(
    session: Session, deal: Deal, reason_id: int | None, stage: PipelineStage
) -> LostReason | None:
    """The team's lost reason picked for a lost stage; MoveRefused when it is not one,
    or is retired (unless it is the deal's own already)."""
    if stage.outcome != "lost":
        return None
    reason = session.get(LostReason, reason_id) if reason_id else None
    if reason is None or reason.team_id != deal.team_id:
        raise MoveRefused("Pick why the deal was lost.")
    if not reason.active and reason.id != deal.lost_reason_id:
        raise MoveRefused(f"“{reason.name}” is retired; pick another reason.")
    return reason


def _verb(stage: PipelineStage) -> str:
    return {"won": "won", "lost": "lost"}.get(stage.outcome, "moved")


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"
