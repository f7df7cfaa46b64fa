"""The agenda: a team's tasks and callbacks, overdue, due today and upcoming, grouped by
who owes them, each with its time on the viewer's clock (and, for a callback, the
owner's); the same rows for a lead's panel, the dashboard and the CSV export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Lead, Task, User
from console.models.records import TASK_KINDS, TASK_STATES
from console.services import timezones
from console.services.numbers import whole_number

SECTIONS: dict[str, str] = {
    "overdue": "Overdue",
    "today": "Due today",
    "upcoming": "Upcoming",
    "done": "Done",
}
LIMIT = 500
EXPORT_COLUMNS = (
    "due",
    "due_at_utc",
    "owner_time",
    "when",
    "kind",
    "title",
    "state",
    "assignee",
    "lead",
    "business",
    "note",
)


@dataclass(frozen=True)
class AgendaFilters:
    """Whose tasks (mine, everyone, or a teammate's id), which kind, which state."""

    who: str = "mine"
    kind: str = ""
    state: str = "open"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AgendaFilters:
        """Filters from a query string; anything unknown falls back to the default."""
        who = args.get("who", "mine")
        if who not in ("mine", "everyone") and whole_number(who) is None:
            who = "mine"
        kind = args.get("kind", "")
        state = args.get("state", "open")
        return cls(
            who=who,
            kind=kind if kind in TASK_KINDS else "",
            state=state if state in TASK_STATES else "open",
        )

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for links and the CSV export)."""
        return {"who": self.who, "kind": self.kind, "state": self.state}


@dataclass(frozen=True)
class AgendaRow:
    """One task as the agenda shows it."""

    task: Task
    section: str
    due_text: str  # on the viewer's clock, zone named
    owner_text: str  # a callback's time for the owner: "3:00 pm for the owner, Chicago"

    @property
    def lead(self) -> Lead | None:
        return self.task.lead

    @property
    def who(self) -> str:
        assignee = self.task.assignee
        return (assignee.name or assignee.email) if assignee is not None else "Nobody"


@dataclass
class AssigneeGroup:
    """The rows one person owes (or nobody does)."""

    name: str
    rows: list[AgendaRow] = field(default_factory=list)


def end_of_today(now: datetime, zone: str) -> datetime:
    """Midnight at the end of the viewer's today, in UTC."""
    local = timezones.in_zone(now, zone)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, datetime.min.time(), local.tzinfo).astimezone(UTC)


def owner_time_text(task: Task) -> str:
    """ "3:00 pm for the owner, Chicago": a callback's time on the clock it was booked
    on (the owner's); "" for other tasks."""
    if task.kind != "callback" or not task.zone:
        return ""
    local = timezones.in_zone(task.due_at, task.zone)
    return f"{timezones.clock_text(local)} for the owner, {timezones.place_name(task.zone)}"


def section_of(task: Task, now: datetime, today_ends: datetime) -> str:
    """Which part of the agenda a task sits in."""
    if task.state == "done":
        return "done"
    if task.due_at <= now:
        return "overdue"
    return "today" if task.due_at < today_ends else "upcoming"


def as_row(task: Task, now: datetime, zone: str, today_ends: datetime) -> AgendaRow:
    """A task with its section and times for the viewer."""
    return AgendaRow(
        task=task,
        section=section_of(task, now, today_ends),
        due_text=timezones.format_when(task.due_at, zone),
        owner_text=owner_time_text(task),
    )


def _query(team_id: int):
    return (
        select(Task)
        .where(Task.team_id == team_id)
        .options(
            joinedload(Task.assignee),
            joinedload(Task.lead).joinedload(Lead.business),
            joinedload(Task.lead).joinedload(Lead.owner),
        )
    )


def agenda_rows(
    session: Session, team_id: int, viewer: User, filters: AgendaFilters, now: datetime
) -> list[AgendaRow]:
    """The tasks the filters choose, soonest due first (done ones latest done first)."""
    query = _query(team_id).where(Task.state == filters.state)
    if filters.who == "mine":
        query = query.where(Task.assignee_id == viewer.id)
    elif filters.who != "everyone":
        query = query.where(Task.assignee_id == whole_number(filters.who))
    if filters.kind:
        query = query.where(Task.kind == filters.kind)
    if filters.state == "done":
        query = query.order_by(Task.done_at.desc(), Task.id.desc())
    else:
        query = query.order_by(Task.due_at, Task.id)
    zone = timezones.viewer_zone_name(viewer)
    today_ends = end_of_today(now, zone)
    tasks = session.scalars(query.limit(LIMIT)).unique().all()
    return [as_row(task, now, zone, today_ends) for task in tasks]


def by_assignee(rows: list[AgendaRow], viewer: User) -> list[AssigneeGroup]:
    """The rows grouped by who owes them: the viewer first, then teammates by name,
    then nobody's; each group keeps the rows' order."""
    groups: dict[int | None, AssigneeGroup] = {}
    for row in rows:
        key = row.task.assignee_id
        if key not in groups:
            name = "Mine" if key == viewer.id else row.who
            groups[key] = AssigneeGroup(name)
        groups[key].rows.append(row)

    def order(key: int | None) -> tuple:
        return (key != viewer.id, key is None, groups[key].name.lower())

    return [groups[key] for key in sorted(groups, key=order)]


def lead_rows(
    session: Session, lead: Lead, viewer: User, now: datetime, recent_done: int = 5
) -> list[AgendaRow]:
    """A lead's open tasks, soonest first, then its few latest done ones."""
    zone = timezones.viewer_zone_name(viewer)
    today_ends = end_of_today(now, zone)
    base = _query(lead.team_id).where(Task.lead_id == lead.id)
    open_tasks = session.scalars(
        base.where(Task.state == "open").order_by(Task.due_at, Task.id)
    ).unique()
    done = session.scalars(
        base.where(Task.state == "done").order_by(Task.done_at.desc()).limit(recent_done)
    ).unique()
    return [as_row(task, now, zone, today_ends) for task in [*open_tasks, *done]]


def export_row(row: AgendaRow) -> list:
    """One CSV line of the agenda, in `EXPORT_COLUMNS` order."""
    task, lead = row.task, row.lead
    business = lead.business if lead is not None else None
    return [
        row.due_text,
        task.due_at.astimezone(UTC).isoformat(),
        row.owner_text,
        SECTIONS[row.section],
        TASK_KINDS.get(task.kind, task.kind),
        task.title,
        task.state,
        row.who,
        lead.code if lead is not None else "",
        business.name if business is not None else "",
        task.note,
    ]


def callback_when(task: Task, viewer_zone: str) -> str:
    """ "Thu Jan 15, 3:00 pm CST for the owner, Chicago = 4:00 pm EST for you": a booked
    callback on the clock it was booked on, and on the viewer's."""
    zone = task.zone if timezones.valid_zone(task.zone) else viewer_zone
    local = timezones.in_zone(task.due_at, zone)
    mine = timezones.in_zone(task.due_at, viewer_zone)
    return (
        f"{local:%a} {local:%b} {local.day}, {timezones.clock_text(local)} "
        f"{timezones.zone_abbreviation(local)} for the owner, {timezones.place_name(zone)} = "
        f"{timezones.clock_text(mine)} {timezones.zone_abbreviation(mine)} for you"
    )


def due_today(session: Session, user: User, now: datetime) -> list[AgendaRow]:
    """`user`'s open tasks due by the end of their today: overdue, then today's."""
    rows = agenda_rows(session, user.team_id, user, AgendaFilters(), now)
    return [row for row in rows if row.section in ("overdue", "today")]
