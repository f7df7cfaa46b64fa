"""The tasks service: booking, editing, giving to a teammate, done and reopened,
snoozed on the task's clock, the due count, the agenda's sections and groups, and the
audit trail each change leaves; another team's lead or user is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, Task
from console.services.deals import agenda, tasks
from tests.conftest import make_lead

# Wednesday 14 January 2026: 3 pm in Chicago, 4 pm in New York.
NOW = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)
CHICAGO, NEW_YORK = "America/Chicago", "America/New_York"


@pytest.fixture
def lead(crew):
    """Our lead: an Illinois business with a Chicago (312) mobile."""
    return make_lead(crew.team, "Loop Fittings LLC", "Dana Whitfield", "+13125550101", "IL")


def book(crew, lead, due_at=NOW + timedelta(days=1), **more) -> Task:
    values = (
        dict(
            title="Send the valuation",
            due_at=due_at,
            zone=CHICAGO,
            assignee_id=crew.operator.id,
            lead_id=lead.id,
        )
        | more
    )
    task = tasks.create_task(db.session, crew.team.id, crew.manager, **values)
    db.session.commit()
    return task


def events(task: Task) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "tasks", AuditEvent.entity_id == task.id)
            .order_by(AuditEvent.id)
        )
    )


def test_a_new_task_is_open_on_the_lead_and_audited_with_what_it_is(crew, lead):
    task = book(crew, lead, note="  bring the comps  ")
    assert (task.state, task.kind, task.lead_id, task.created_by_id) == (
        "open",
        "task",
        lead.id,
        crew.manager.id,
    )
    assert task.note == "bring the comps"
    (created,) = events(task)
    assert (created.action, created.actor_id) == ("task.created", crew.manager.id)
    assert created.after["title"] == "Send the valuation"
    assert created.after["due_at"] == (NOW + timedelta(days=1)).isoformat()
    assert (created.after["zone"], created.after["assignee_id"]) == (CHICAGO, crew.operator.id)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": "   "}, "Say what the task is."),
        ({"due_at": None}, "Pick a date and time for the task."),
        ({"zone": "Mars/Olympus"}, "Pick a time zone for the task."),
        ({"lead_id": None}, "A task belongs to a lead or a deal."),
    ],
)
def test_a_task_needs_a_title_a_time_a_zone_and_a_lead(crew, lead, change, problem):
    with pytest.raises(tasks.TaskProblem, match=problem):
        book(crew, lead, **change)


def test_another_teams_lead_or_user_is_refused(crew, outsider, lead):
    theirs = make_lead(outsider.team, "Rival Secret Bakery Inc")
    with pytest.raises(tasks.TaskProblem):
        book(crew, lead, lead_id=theirs.id)
    db.session.rollback()
    with pytest.raises(tasks.TaskProblem):
        book(crew, lead, assignee_id=outsider.operator.id)
    db.session.rollback()
    task = book(crew, lead)
    with pytest.raises(tasks.TaskProblem):
        tasks.reassign(db.session, task, crew.manager, outsider.operator.id)
    assert db.session.scalars(select(Task)).all() == [task]


def test_done_and_reopened_are_recorded(crew, lead):
    task = book(crew, lead)
    tasks.mark_done(db.session, task, crew.operator, NOW)
    assert (task.state, task.done_at, task.done_by_id) == ("done", NOW, crew.operator.id)
    tasks.mark_done(db.session, task, crew.operator, NOW)  # twice is once
    tasks.reopen(db.session, task, crew.manager)
    assert (task.state, task.done_at, task.done_by_id) == ("open", None, None)
    db.session.commit()
    assert [e.action for e in events(task)] == ["task.created", "task.done", "task.reopened"]
    assert events(task)[1].before["state"] == "open"
    assert events(task)[1].after["state"] == "done"


@pytest.mark.parametrize(
    ("how", "due"),
    [
        ("hour", NOW + timedelta(hours=1)),
        # Tomorrow 9 am in Chicago (the task's zone), not in UTC or New York.
        ("tomorrow", datetime(2026, 1, 15, 15, 0, tzinfo=UTC)),
        # Next Monday 9 am in Chicago.
        ("week", datetime(2026, 1, 19, 15, 0, tzinfo=UTC)),
    ],
)
def test_snooze_moves_the_due_time_on_the_tasks_clock(crew, lead, how, due):
    task = book(crew, lead, due_at=NOW - timedelta(hours=2))
    tasks.snooze(db.session, task, crew.operator, how, NOW, NEW_YORK)
    db.session.commit()
    assert (task.due_at, task.snoozes) == (due, 1)
    snoozed = events(task)[-1]
    assert snoozed.action == "task.snoozed"
    assert snoozed.after["due_at"] == due.isoformat()
    assert snoozed.before["due_at"] == (NOW - timedelta(hours=2)).isoformat()


def test_snoozing_tomorrow_crosses_a_dst_change_on_the_local_clock(crew, lead):
    # Saturday 7 March 2026 noon in Chicago; Sunday the clocks go forward.
    saturday = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)
    task = book(crew, lead, due_at=saturday)
    tasks.snooze(db.session, task, crew.operator, "tomorrow", saturday, NEW_YORK)
    assert task.due_at == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)  # 9 am CDT


def test_a_done_task_cannot_be_snoozed_nor_an_unknown_way(crew, lead):
    task = book(crew, lead)
    with pytest.raises(tasks.TaskProblem):
        tasks.snooze(db.session, task, crew.operator, "forever", NOW, CHICAGO)
    tasks.mark_done(db.session, task, crew.operator, NOW)
    with pytest.raises(tasks.TaskProblem):
        tasks.snooze(db.session, task, crew.operator, "hour", NOW, CHICAGO)


def test_edit_and_reassign_are_audited_with_before_and_after(crew, lead):
    task = book(crew, lead)
    later = NOW + timedelta(days=3)
    tasks.edit_task(
        db.session, task, crew.operator, title="Send comps", due_at=later, zone=NEW_YORK, note="x"
    )
    tasks.reassign(db.session, task, crew.operator, crew.reviewer.id)
    db.session.commit()
    edited, assigned = events(task)[1:]
    assert (edited.action, edited.before["title"], edited.after["title"]) == (
        "task.edited",
        "Send the valuation",
        "Send comps",
    )
    assert edited.after["zone"] == NEW_YORK and edited.after["due_at"] == later.isoformat()
    assert (assigned.action, assigned.after["assignee_id"]) == ("task.assigned", crew.reviewer.id)
    tasks.reassign(db.session, task, crew.operator, None)
    assert task.assignee_id is None


def test_the_due_count_is_the_users_open_tasks_due_by_now(crew, outsider, lead):
    book(crew, lead, due_at=NOW - timedelta(days=2))
    book(crew, lead, due_at=NOW)
    book(crew, lead, due_at=NOW + timedelta(minutes=1))  # not yet
    book(crew, lead, due_at=NOW - timedelta(hours=1), assignee_id=crew.reviewer.id)
    done = book(crew, lead, due_at=NOW - timedelta(hours=1))
    tasks.mark_done(db.session, done, crew.operator, NOW)
    theirs = make_lead(outsider.team, "Rival Secret Bakery Inc")
    tasks.create_task(
        db.session,
        outsider.team.id,
        outsider.operator,
        title="Theirs",
        due_at=NOW - timedelta(hours=1),
        zone=CHICAGO,
        assignee_id=outsider.operator.id,
        lead_id=theirs.id,
    )
    db.session.commit()
    assert tasks.due_count(db.session, crew.team.id, crew.operator.id, NOW) == 2
    assert tasks.due_count(db.session, crew.team.id, crew.reviewer.id, NOW) == 1


def test_the_agenda_puts_tasks_in_sections_on_the_viewers_day_grouped_by_assignee(crew, lead):
    crew.operator.time_zone = NEW_YORK
    overdue = book(crew, lead, due_at=NOW - timedelta(hours=1))
    tonight = book(crew, lead, due_at=datetime(2026, 1, 15, 4, 30, tzinfo=UTC))  # 11:30 pm NY
    after_midnight = book(crew, lead, due_at=datetime(2026, 1, 15, 5, 30, tzinfo=UTC))
    theirs = book(crew, lead, assignee_id=crew.reviewer.id)
    nobodys = book(crew, lead, assignee_id=None)
    everyone = agenda.AgendaFilters(who="everyone")

    rows = agenda.agenda_rows(db.session, crew.team.id, crew.operator, everyone, NOW)

    sections = {row.task.id: row.section for row in rows}
    assert sections[overdue.id] == "overdue"
    assert sections[tonight.id] == "today"
    assert sections[after_midnight.id] == "upcoming"
    groups = agenda.by_assignee(rows, crew.operator)
    assert [g.name for g in groups] == ["Mine", crew.reviewer.name, "Nobody"]
    assert [r.task.id for r in groups[1].rows] == [theirs.id]
    assert [r.task.id for r in groups[2].rows] == [nobodys.id]
    row = next(r for r in rows if r.task.id == tonight.id)
    assert row.due_text == "Jan 14, 2026, 11:30 pm EST"
    assert row.owner_text == ""  # a task, not a callback
    mine = agenda.agenda_rows(db.session, crew.team.id, crew.operator, agenda.AgendaFilters(), NOW)
    assert {r.task.assignee_id for r in mine} == {crew.operator.id}


def test_a_callback_shows_the_owners_time_beside_the_viewers(crew, lead):
    crew.operator.time_zone = NEW_YORK
    due = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
    callback = tasks.book_callback(db.session, lead, crew.operator, due, zone=CHICAGO)
    db.session.commit()
    (row,) = agenda.agenda_rows(
        db.session, crew.team.id, crew.operator, agenda.AgendaFilters(kind="callback"), NOW
    )
    assert (row.due_text, row.owner_text) == (
        "Jan 15, 2026, 4:00 pm EST",
        "3:00 pm for the owner, Chicago",
    )
    assert agenda.callback_when(callback, NEW_YORK) == (
        "Thu Jan 15, 3:00 pm CST for the owner, Chicago = 4:00 pm EST for you"
    )
    assert events(callback)[0].after["kind"] == "callback"


def test_the_callback_form_books_on_the_owners_clock_or_says_it_is_the_viewers(crew, lead):
    form = tasks.callback_form(lead, NEW_YORK, "tomorrow after 3", NOW)
    assert (form.zone, form.owner_known, form.place) == (CHICAGO, True, "Chicago")
    assert (form.date_text, form.time_text, form.equivalent) == (
        "2026-01-15",
        "15:00",
        "4:00 pm EST for you",
    )
    nowhere = make_lead(crew.team, "Nowhere Holdings", state="")
    nowhere.business.city = ""
    form = tasks.callback_form(nowhere, NEW_YORK, "tomorrow after 3", NOW)
    assert (form.zone, form.owner_known) == (NEW_YORK, False)
    assert (form.date_text, form.time_text) == ("2026-01-15", "15:00")
    assert tasks.callback_form(lead, NEW_YORK, "whenever", NOW).date_text == ""


@pytest.mark.parametrize(
    ("day", "at", "zone", "expected"),
    [
        ("2026-01-15", "15:00", CHICAGO, datetime(2026, 1, 15, 21, 0, tzinfo=UTC)),
        ("2026-07-15", "15:00", CHICAGO, datetime(2026, 7, 15, 20, 0, tzinfo=UTC)),
        ("2026-01-15", "15:00", NEW_YORK, datetime(2026, 1, 15, 20, 0, tzinfo=UTC)),
        ("2026-02-30", "15:00", CHICAGO, None),
        ("2026-01-15", "", CHICAGO, None),
        ("", "15:00", CHICAGO, None),
        ("2026-01-15", "25:00", CHICAGO, None),
    ],
)
def test_a_typed_date_and_time_mean_a_moment_on_the_zones_clock(day, at, zone, expected):
    assert tasks.local_due(day, at, zone) == expected
