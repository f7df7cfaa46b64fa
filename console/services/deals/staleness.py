"""When each deal last saw activity, and which open deals have gone stale.

Activity on a deal is any of these, each read from the table that holds it:
- a stage move (`deal_stage_history.at`), its opening move included;
- an edit of the deal (an audit event on the deal);
- a note written on the deal or its lead;
- a task on the deal or its lead: booked (`created_at`) or done (`done_at`);
- a text sent to the lead (`messages.sent_at`) or received from it
  (`inbound_messages.received_at`).

`sweep`, run once a day for each team (by the ticker, or `flask deals mark-stale`),
copies the latest of these onto `deals.last_touch_at` and marks `stale_at` on the open
deals that have gone their stage's stale days without any, clearing it on those that
have not. Between sweeps the cheap paths (a reply received, a note or task written) keep
`last_touch_at` fresh with one UPDATE each (`touch`); texts sent are left to the sweep,
so sending pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from console.models import (
    AuditEvent,
    Deal,
    DealStageHistory,
    InboundMessage,
    JobRun,
    Message,
    Note,
    PipelineStage,
    Task,
    Team,
)
from console.models.base import UTCDateTime
from console.services import timezones

# Deals read per round of grouped queries (keeps every IN list short on both databases).
CHUNK = 500
# The job run of a team's daily sweep: the record of which day it was swept.
SWEEP_KIND = "mark_stale"


@dataclass(frozen=True)
class SweepReport:
    """What a sweep of one team did: open deals checked, last touches moved, deals
    newly marked stale and deals no longer stale."""

    checked: int = 0
    touched: int = 0
    marked: int = 0
    cleared: int = 0

    def sentence(self) -> str:
        """ "3 deals marked stale, 1 no longer stale (40 open deals checked)." """
        deals = "deal" if self.marked == 1 else "deals"
        return (
            f"{self.marked:,} {deals} marked stale, {self.cleared:,} no longer stale "
            f"({self.checked:,} open deals checked)."
        )


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _on_deal_or_lead(model):
    """A note's or task's join to the deal it is on, or to the deal of its lead."""
    return and_(
        model.team_id == Deal.team_id,
        or_(model.deal_id == Deal.id, model.lead_id == Deal.lead_id),
    )


def _activity_queries(team_id: int, ids: list[int]) -> Iterator[Select]:
    """One grouped query per kind of activity: (deal id, its latest time) rows."""
    yield (
        select(DealStageHistory.deal_id, func.max(DealStageHistory.at))
        .where(DealStageHistory.team_id == team_id, DealStageHistory.deal_id.in_(ids))
        .group_by(DealStageHistory.deal_id)
    )
    yield (
        select(AuditEvent.entity_id, func.max(AuditEvent.at))
        .where(
            AuditEvent.team_id == team_id,
            AuditEvent.entity_type == Deal.__tablename__,
            AuditEvent.entity_id.in_(ids),
        )
        .group_by(AuditEvent.entity_id)
    )
    yield (
        select(Deal.id, func.max(Note.created_at))
        .join(Note, _on_deal_or_lead(Note))
        .where(Deal.team_id == team_id, Deal.id.in_(ids))
        .group_by(Deal.id)
    )
    task_time = func.coalesce(Task.done_at, Task.created_at, type_=UTCDateTime())
    yield (
        select(Deal.id, func.max(task_time))
        .join(Task, _on_deal_or_lead(Task))
        .where(Deal.team_id == team_id, Deal.id.in_(ids))
        .group_by(Deal.id)
    )
    yield (
        select(Deal.id, func.max(Message.sent_at))
        .join(Message, and_(Message.lead_id == Deal.lead_id, Message.team_id == team_id))
        .where(Deal.team_id == team_id, Deal.id.in_(ids), Message.sent_at.is_not(None))
        .group_by(Deal.id)
    )
    yield (
        select(Deal.id, func.max(InboundMessage.received_at))
        .join(
            InboundMessage,
            and_(InboundMessage.lead_id == Deal.lead_id, InboundMessage.team_id == team_id),
        )
        .where(Deal.team_id == team_id, Deal.id.in_(ids))
        .group_by(Deal.id)
    )


def last_touches(session: Session, team_id: int, deal_ids: Iterable[int]) -> dict[int, datetime]:
    """The time of each of the team's deals' last activity (see the module's list), by
    deal id; a deal with none recorded (no history row, even) is left out. Six grouped
    queries per 500 deals."""
    ids = sorted(set(deal_ids))
    latest: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        for query in _activity_queries(team_id, chunk):
            for deal_id, at in session.execute(query):
                if at is not None and (deal_id not in latest or at > latest[deal_id]):
                    latest[deal_id] = at
    return latest


def is_stale(last_touch: datetime, stale_days: int | None, now: datetime) -> bool:
    """Whether a deal untouched since `last_touch` is past its stage's `stale_days`."""
    return stale_days is not None and now - last_touch > timedelta(days=stale_days)


def sweep(session: Session, team_id: int, now: datetime) -> SweepReport:
    """Bring every open deal of the team up to date at `now`: `last_touch_at` becomes
    its last activity (never earlier than a cheap path already set it), `stale_at` is
    set to `now` on a deal newly past its stage's stale days and cleared on one that is
    no longer (or whose stage never goes stale). Closed deals are left alone. Does not
    commit."""
    rows = session.execute(
        select(Deal.id, Deal.last_touch_at, Deal.stale_at, PipelineStage.stale_days)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.team_id == team_id, PipelineStage.outcome == "open")
    ).all()
    touches = last_touches(session, team_id, [row.id for row in rows])
    changes, touched, marked, cleared = [], 0, 0, 0
    for row in rows:
        found = [at for at in (touches.get(row.id), row.last_touch_at) if at is not None]
        last = max(found) if found else now
        stale = is_stale(last, row.stale_days, now)
        stale_at = (row.stale_at or now) if stale else None
        if last == row.last_touch_at and stale_at == row.stale_at:
            continue
        touched += last != row.last_touch_at
        marked += stale and row.stale_at is None
        cleared += not stale and row.stale_at is not None
        changes.append({"id": row.id, "last_touch_at": last, "stale_at": stale_at})
    if changes:
        session.execute(update(Deal), changes)
    return SweepReport(len(rows), touched, marked, cleared)


def touch(
    session: Session,
    team_id: int,
    at: datetime,
    *,
    lead_id: int | None = None,
    deal_id: int | None = None,
) -> None:
    """Activity at `at` on the deal `deal_id` or on the lead `lead_id` (its open deal):
    their `last_touch_at` moves up to `at` and a stale mark is lifted. One UPDATE."""
    which = []
    if deal_id is not None:
        which.append(Deal.id == deal_id)
    if lead_id is not None:
        open_stages = select(PipelineStage.id).where(
            PipelineStage.team_id == team_id, PipelineStage.outcome == "open"
        )
        which.append(and_(Deal.lead_id == lead_id, Deal.stage_id.in_(open_stages)))
    if not which:
        return
    session.execute(
        update(Deal)
        .where(Deal.team_id == team_id, or_(*which), Deal.last_touch_at < at)
        .values(last_touch_at=at, stale_at=None)
        .execution_options(synchronize_session=False)
    )


# -------------------------------------------------------------------- the daily sweep


def team_day(team: Team, moment: datetime) -> date:
    """The date it is at `moment` in the team's zone: the day a sweep belongs to."""
    return timezones.local_date(moment, timezones.team_zone_name(team))


def teams_to_sweep(session: Session, now: datetime) -> list[Team]:
    """The teams whose deals have not been swept yet on their own day at `now`: those
    without a sweep run (job kind SWEEP_KIND) queued since their day began."""
    last = dict(
        session.execute(
            select(JobRun.team_id, func.max(JobRun.created_at))
            .where(JobRun.kind == SWEEP_KIND)
            .group_by(JobRun.team_id)
        ).all()
    )
    return [
        team
        for team in session.scalars(select(Team).order_by(Team.id))
        if team.id not in last or team_day(team, last[team.id]) < team_day(team, now)
    ]
