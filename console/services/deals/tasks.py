"""Tasks a person owes a lead or a deal, callbacks among them: booking, editing, giving to
a teammate, marking done, snoozing, and the count of what is due.

A callback is a task of kind "callback" due at the time the owner asked for, booked in
the owner's zone (the viewer's when nothing places the owner). Every change leaves an
audit event ("task.created", "task.done", ...) whose `after` says what the task became:
title, due time (ISO, UTC), zone and assignee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import Deal, Lead, Task, User
from console.models.records import TASK_KINDS
from console.services import audit, timezones
from console.services.deals import staleness
from console.services.deals.callback_times import read_callback_time
from console.services.tenancy import get_scoped

CALLBACK_TITLE = "Call the owner back"
TITLE_MAX = 200
NOTE_MAX = 1000
# The ways a task can be pushed later, as the buttons name them.
SNOOZES: dict[str, str] = {"hour": "+1 hour", "tomorrow": "Tomorrow 9 am", "week": "Next week"}
MORNING = time(9, 0)


class TaskProblem(ValueError):
    """A task cannot be booked or changed as asked; the message says why, for people."""


# ------------------------------------------------------------------ times people type


def local_due(date_text: str, time_text: str, zone: str) -> datetime | None:
    """The UTC moment a date ("2026-01-15") and time ("15:00") mean on the clock of `zone`;
    None when either is missing or not a real date or time."""
    try:
        day = date.fromisoformat((date_text or "").strip())
        at = time.fromisoformat((time_text or "").strip())
    except ValueError:
        return None
    tz = timezones.zone_of(zone) or UTC
    return datetime.combine(day, at.replace(tzinfo=None), tz).astimezone(UTC)


def callback_zone(lead: Lead | None, viewer_zone: str) -> tuple[str, bool]:
    """The zone a callback on `lead` is booked in: the owner's, and True; or, when
    nothing places the owner, the viewer's, and False."""
    clock = timezones.owner_clock(lead) if lead is not None else None
    if clock is not None:
        return clock.zone, True
    return viewer_zone, False


def viewer_equivalent(moment: datetime | None, viewer_zone: str) -> str:
    """ "4:00 pm EST for you": a moment on the viewer's clock."""
    if moment is None:
        return ""
    local = timezones.in_zone(moment, viewer_zone)
    return f"{timezones.clock_text(local)} {timezones.zone_abbreviation(local)} for you"


@dataclass(frozen=True)
class CallbackForm:
    """What the callback form shows: the zone it books in and the values it starts with."""

    zone: str
    owner_known: bool
    date_text: str
    time_text: str
    equivalent: str
    # The owner's clock's place ("Milwaukee", the business's city); blank: the zone's.
    city: str = ""

    @property
    def place(self) -> str:
        """ "Milwaukee": where the owner's clock is, as the lead card names it; else the
        city the zone is named after."""
        return self.city or timezones.place_name(self.zone)


def callback_form(
    lead: Lead | None, viewer_zone: str, words: str = "", received_at: datetime | None = None
) -> CallbackForm:
    """The callback form for `lead`, prefilled from the owner's `words` ("tomorrow after
    3"), read against when their reply arrived, on the owner's clock."""
    zone, known = callback_zone(lead, viewer_zone)
    clock = timezones.owner_clock(lead) if known else None
    read = read_callback_time(words, received_at, zone) if words and received_at else None
    date_text = read.date_text if read else ""
    time_text = read.time_text if read else ""
    due = local_due(date_text, time_text, zone)
    equivalent = viewer_equivalent(due, viewer_zone)
    city = clock.place if clock is not None else ""
    return CallbackForm(zone, known, date_text, time_text, equivalent, city)


# ----------------------------------------------------------------------------- changes


def _described(task: Task) -> dict:
    """What a task is, for the audit trail and the timeline that reads it."""
    return {
        "kind": task.kind,
        "title": task.title,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "zone": task.zone,
        "assignee_id": task.assignee_id,
        "state": task.state,
        "lead_id": task.lead_id,
        "deal_id": task.deal_id,
        "note": task.note,
    }


def _audit(session: Session, task: Task, actor: User | None, action: str, before=None) -> None:
    session.flush()  # the new task's id, for the event
    audit.record(
        session,
        team_id=task.team_id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=task,
        before=before,
        after=_described(task),
    )


def _touch_deal(session: Session, task: Task, at: datetime) -> None:
    """A task booked or done is activity on its deal (or its lead's open deal)."""
    staleness.touch(session, task.team_id, at, lead_id=task.lead_id, deal_id=task.deal_id)


def teammate(session: Session, team_id: int, user_id: int | None) -> User | None:
    """A user of the team by id (None for nobody); another team's user is a problem."""
    if user_id is None:
        return None
    user = get_scoped(session, User, team_id, user_id)
    if user is None:
        raise TaskProblem("Give the task to someone on your team.")
    return user


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise TaskProblem("Say what the task is.")
    return title[:TITLE_MAX]


def create_task(
    session: Session,
    team_id: int,
    actor: User | None,
    *,
    title: str,
    due_at: datetime | None,
    zone: str,
    assignee_id: int | None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    note: str = "",
    kind: str = "task",
) -> Task:
    """An open task of the team on a lead or a deal, due at `due_at` (UTC), booked in
    `zone`; audited as "task.created"."""
    if kind not in TASK_KINDS:
        raise TaskProblem("Pick a task or a callback.")
    if due_at is None:
        raise TaskProblem("Pick a date and time for the task.")
    if not timezones.valid_zone(zone):
        raise TaskProblem("Pick a time zone for the task.")
    lead = get_scoped(session, Lead, team_id, lead_id) if lead_id is not None else None
    deal = get_scoped(session, Deal, team_id, deal_id) if deal_id is not None else None
    if (lead_id is not None and lead is None) or (deal_id is not None and deal is None):
        raise TaskProblem("That lead or deal is not your team's.")
    if lead is None and deal is None:
        raise TaskProblem("A task belongs to a lead or a deal.")
    assignee = teammate(session, team_id, assignee_id)
    task = Task(
        team_id=team_id,
        kind=kind,
        title=_clean_title(title),
        note=(note or "").strip()[:NOTE_MAX],
        due_at=due_at,
        zone=zone,
        lead_id=lead.id if lead is not None else (deal.lead_id if deal is not None else None),
        deal_id=deal.id if deal is not None else None,
        assignee_id=assignee.id if assignee is not None else None,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(task)
    _audit(session, task, actor, "task.created")
    _touch_deal(session, task, task.created_at)
    return task


def book_callback(
    session: Session,
    lead: Lead,
    user: User | None,
    when: datetime,
    *,
    zone: str = "",
    note: str = "",
    inbox_item_id: int | None = None,
    deal_id: int | None = None,
) -> Task:
    """An open callback task on `lead` (and its deal `deal_id`, when booked on the deal's
    page) at `when` (UTC), given to the user who booked it."""
    task = Task(
        team_id=lead.team_id,
        kind="callback",
        title=CALLBACK_TITLE,
        note=(note or "")[:NOTE_MAX],
        due_at=when,
        zone=zone,
        lead_id=lead.id,
        deal_id=deal_id,
        inbox_item_id=inbox_item_id,
        assignee_id=user.id if user is not None else None,
        created_by_id=user.id if user is not None else None,
    )
    session.add(task)
    _audit(session, task, user, "task.created")
    _touch_deal(session, task, task.created_at)
    return task


def edit_task(
    session: Session,
    task: Task,
    actor: User,
    *,
    title: str,
    due_at: datetime | None,
    zone: str,
    note: str,
) -> Task:
    """Change what a task says and when it is due; audited as "task.edited"."""
    if due_at is None:
        raise TaskProblem("Pick a date and time for the task.")
    if not timezones.valid_zone(zone):
        raise TaskProblem("Pick a time zone for the task.")
    before = _described(task)
    task.title = _clean_title(title)
    task.due_at, task.zone = due_at, zone
    task.note = (note or "").strip()[:NOTE_MAX]
    _audit(session, task, actor, "task.edited", before)
    return task


def reassign(session: Session, task: Task, actor: User, assignee_id: int | None) -> Task:
    """Give the task to a teammate (or nobody); audited as "task.assigned"."""
    assignee = teammate(session, task.team_id, assignee_id)
    before = _described(task)
    task.assignee_id = assignee.id if assignee is not None else None
    _audit(session, task, actor, "task.assigned", before)
    return task


def mark_done(session: Session, task: Task, actor: User, now: datetime) -> Task:
    """The task is done (by `actor`, at `now`); audited as "task.done"."""
    if task.state != "done":
        before = _described(task)
        task.state, task.done_at, task.done_by_id = "done", now, actor.id
        _audit(session, task, actor, "task.done", before)
        _touch_deal(session, task, now)
    return task


def reopen(session: Session, task: Task, actor: User) -> Task:
    """A done task is open again; audited as "task.reopened"."""
    if task.state == "done":
        before = _described(task)
        task.state, task.done_at, task.done_by_id = "open", None, None
        _audit(session, task, actor, "task.reopened", before)
    return task


def snoozed_until(how: str, now: datetime, zone: str) -> datetime:
    """When a task snoozed `how` falls due: in an hour, tomorrow at 9 am, or next Monday
    at 9 am, on the clock of `zone` (the task's)."""
    if how == "hour":
        return now + timedelta(hours=1)
    local = timezones.in_zone(now, zone).date()
    days = 1 if how == "tomorrow" else 7 - local.weekday()
    tz = timezones.zone_of(zone) or UTC
    return datetime.combine(local + timedelta(days=days), MORNING, tz).astimezone(UTC)


def snooze(
    session: Session, task: Task, actor: User, how: str, now: datetime, fallback_zone: str
) -> Task:
    """Push an open task later (see `SNOOZES`); audited as "task.snoozed"."""
    if how not in SNOOZES:
        raise TaskProblem("Pick how long to snooze the task.")
    if task.state != "open":
        raise TaskProblem("Only an open task can be snoozed.")
    before = _described(task)
    task.due_at = snoozed_until(how, now, task.zone or fallback_zone)
    task.snoozes = (task.snoozes or 0) + 1
    _audit(session, task, actor, "task.snoozed", before)
    return task


# ----------------------------------------------------------------------------- reading


def next_callback(session: Session, lead_id: int) -> Task | None:
    """The lead's earliest open callback, if one is booked."""
    return session.scalars(
        select(Task)
        .where(Task.lead_id == lead_id, Task.kind == "callback", Task.state == "open")
        .order_by(Task.due_at, Task.id)
        .limit(1)
    ).first()


def due_count(session: Session, team_id: int, user_id: int, now: datetime) -> int:
    """How many of the user's open tasks are due by `now` (overdue or due now): one
    count on the team/state/due index."""
    return session.scalar(
        select(func.count(Task.id)).where(
            Task.team_id == team_id,
            Task.state == "open",
            Task.due_at <= now,
            Task.assignee_id == user_id,
        )
    )
