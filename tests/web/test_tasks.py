"""Today and the tasks panel from the browser's side: the agenda with its filters and
CSV, done/snooze/reopen/assign by htmx posts (CSRF, another team's task a 404), the
navigation's due count, the viewer's equivalent of an owner's time, the lead page's
callback and task forms, and the dashboard's "Due today"."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import Task
from console.services.deals import tasks
from console.tasks import routes
from tests.conftest import PASSWORD, login, make_lead

# Wednesday 14 January 2026: 3 pm in Chicago, 4 pm in New York.
NOW = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)
CHICAGO, NEW_YORK = "America/Chicago", "America/New_York"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The tasks pages read the tests' clock."""
    monkeypatch.setattr(routes, "utcnow", lambda: NOW)


@pytest.fixture
def lead(crew):
    """An Illinois business with a Chicago (312) mobile; the operator reads New York time."""
    crew.operator.time_zone = NEW_YORK
    db.session.commit()
    return make_lead(crew.team, "Loop Fittings LLC", "Dana Whitfield", "+13125550101", "IL")


def add(crew, lead, title="Send the valuation", due_at=NOW + timedelta(days=2), **more) -> Task:
    values = dict(zone=CHICAGO, assignee_id=crew.operator.id, lead_id=lead.id) | more
    task = tasks.create_task(
        db.session, crew.team.id, crew.manager, title=title, due_at=due_at, **values
    )
    db.session.commit()
    return task


def fresh(task: Task) -> Task:
    db.session.expire_all()
    return db.session.get(Task, task.id)


def titles(page: str) -> list[str]:
    """The agenda's task titles, top to bottom."""
    return re.findall(
        r'<span class="tag">(?:Task|Callback)</span> ([^<]+?)(?:<br>|</td>| <span)', page
    )


def test_the_agenda_shows_overdue_today_and_upcoming_on_the_viewers_clock(client, crew, lead):
    add(crew, lead, "Overdue call", NOW - timedelta(hours=3))
    add(crew, lead, "Tonight", datetime(2026, 1, 15, 2, 0, tzinfo=UTC))
    add(crew, lead, "Next week", NOW + timedelta(days=6))
    tasks.book_callback(
        db.session, lead, crew.operator, datetime(2026, 1, 15, 21, 0, tzinfo=UTC), zone=CHICAGO
    )
    db.session.commit()
    login(client, crew.operator)

    page = client.get("/tasks").text

    assert titles(page) == ["Overdue call", "Tonight", "Call the owner back", "Next week"]
    assert "Jan 14, 2026, 9:00 pm EST" in page  # "Tonight", on the viewer's clock
    assert "Jan 15, 2026, 4:00 pm EST" in page and "3:00 pm for the owner, Chicago" in page
    for section in ("Overdue", "Due today", "Upcoming"):
        assert f">{section}</span>" in page
    assert "UTC" not in re.sub(r"<(script|head).*?</\1>", "", page, flags=re.S)


def test_the_agenda_filters_by_assignee_kind_and_state(client, crew, lead):
    add(crew, lead, "Mine open")
    add(crew, lead, "Reviewers", assignee_id=crew.reviewer.id)
    add(crew, lead, "Nobodys", assignee_id=None)
    finished = add(crew, lead, "Mine done")
    tasks.mark_done(db.session, finished, crew.operator, NOW)
    tasks.book_callback(db.session, lead, crew.operator, NOW + timedelta(days=1), zone=CHICAGO)
    db.session.commit()
    login(client, crew.operator)

    assert titles(client.get("/tasks").text) == ["Call the owner back", "Mine open"]
    everyone = titles(client.get("/tasks?who=everyone").text)
    assert set(everyone) == {"Call the owner back", "Mine open", "Reviewers", "Nobodys"}
    assert titles(client.get(f"/tasks?who={crew.reviewer.id}").text) == ["Reviewers"]
    assert titles(client.get("/tasks?kind=callback").text) == ["Call the owner back"]
    assert titles(client.get("/tasks?kind=task&who=everyone").text)[0] == "Mine open"
    assert titles(client.get("/tasks?state=done").text) == ["Mine done"]
    partial = client.get("/tasks?who=everyone", headers=HTMX).text
    assert partial.startswith('<div id="agenda"') and "<html" not in partial


def test_the_agenda_exports_the_filtered_list_as_csv(client, crew, lead):
    add(crew, lead, '=HYPERLINK("x")')
    add(crew, lead, "Reviewers", assignee_id=crew.reviewer.id)
    tasks.book_callback(
        db.session, lead, crew.operator, datetime(2026, 1, 15, 21, 0, tzinfo=UTC), zone=CHICAGO
    )
    db.session.commit()
    login(client, crew.operator)

    response = client.get("/tasks?format=csv&who=mine")

    assert response.headers["Content-Disposition"].startswith('attachment; filename="tasks-')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["title"] for row in rows] == ["Call the owner back", '\'=HYPERLINK("x")']
    callback = rows[0]
    assert (callback["due"], callback["owner_time"], callback["kind"]) == (
        "Jan 15, 2026, 4:00 pm EST",
        "3:00 pm for the owner, Chicago",
        "Callback",
    )
    assert callback["due_at_utc"] == "2026-01-15T21:00:00+00:00"
    assert (callback["lead"], callback["business"]) == (lead.code, "Loop Fittings LLC")


def test_done_snooze_reopen_and_assign_are_htmx_posts_that_announce_the_change(client, crew, lead):
    task = add(crew, lead, due_at=NOW - timedelta(hours=1))
    login(client, crew.operator)

    snoozed = client.post(f"/tasks/{task.id}/snooze", data={"how": "tomorrow"}, headers=HTMX)
    assert (snoozed.status_code, snoozed.headers["HX-Trigger"]) == (204, "tasks-changed")
    assert fresh(task).due_at == datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 9 am in Chicago
    assert client.post(f"/tasks/{task.id}/done", headers=HTMX).status_code == 204
    assert fresh(task).state == "done"
    assert client.post(f"/tasks/{task.id}/reopen", headers=HTMX).status_code == 204
    assert fresh(task).state == "open"
    assigned = client.post(
        f"/tasks/{task.id}/assign", data={"assignee": str(crew.reviewer.id)}, headers=HTMX
    )
    assert assigned.status_code == 204 and fresh(task).assignee_id == crew.reviewer.id
    refused = client.post(f"/tasks/{task.id}/snooze", data={"how": "never"}, headers=HTMX)
    assert refused.status_code == 422 and "how long" in refused.text
    # Without htmx, a post goes back to the agenda.
    plain = client.post(f"/tasks/{task.id}/done")
    assert (plain.status_code, plain.headers["Location"]) == (302, "/tasks")


def test_another_teams_task_is_a_404_everywhere(client, crew, outsider, lead):
    theirs_lead = make_lead(outsider.team, "Rival Secret Bakery Inc")
    theirs = tasks.create_task(
        db.session,
        outsider.team.id,
        outsider.operator,
        title="Rival secret task",
        due_at=NOW - timedelta(hours=1),
        zone=CHICAGO,
        assignee_id=outsider.operator.id,
        lead_id=theirs_lead.id,
    )
    db.session.commit()
    mine = add(crew, lead)
    login(client, crew.manager)

    for path, form in [
        ("done", {}),
        ("reopen", {}),
        ("snooze", {"how": "hour"}),
        ("assign", {"assignee": str(crew.manager.id)}),
        ("edit", {"title": "Mine now", "date": "2026-02-01", "time": "09:00"}),
    ]:
        assert client.post(f"/tasks/{theirs.id}/{path}", data=form).status_code == 404, path
    assert client.get(f"/tasks/{theirs.id}/edit").status_code == 404
    assert client.get(f"/tasks/lead/{theirs_lead.id}").status_code == 404
    assert client.post(f"/tasks/callback/{theirs_lead.id}", data={}).status_code == 404
    created = client.post(
        "/tasks",
        data={"lead_id": theirs_lead.id, "title": "x", "date": "2026-02-01", "time": "9:00"},
    )
    assert created.status_code == 404
    # Nor may our task go to their user.
    given = client.post(f"/tasks/{mine.id}/assign", data={"assignee": str(outsider.operator.id)})
    assert given.status_code == 404
    assert "Rival secret task" not in client.get("/tasks?who=everyone").text
    stored = fresh(theirs)
    assert (stored.state, stored.title, stored.snoozes) == ("open", "Rival secret task", 0)
    assert fresh(mine).assignee_id == crew.operator.id


@pytest.fixture
def csrf_client(app):
    """A client with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    return found.group(1)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/tasks/{id}/done", {}),
        ("/tasks/{id}/snooze", {"how": "hour"}),
        ("/tasks/{id}/assign", {"assignee": ""}),
        ("/tasks/{id}/edit", {"title": "Changed", "date": "2026-02-01", "time": "09:00"}),
        ("/tasks", {"lead_id": "{lead}", "title": "New", "date": "2026-02-01", "time": "09:00"}),
        ("/tasks/callback/{lead}", {"date": "2026-02-01", "time": "09:00"}),
    ],
)
def test_task_posts_need_the_csrf_token(csrf_client, crew, lead, path, form):
    task = add(crew, lead)
    path = path.format(id=task.id, lead=lead.id)
    form = {k: v.format(lead=lead.id) for k, v in form.items()}
    token = _token(csrf_client.get("/login").text)
    csrf_client.post(
        "/login", data={"email": crew.operator.email, "password": PASSWORD, "csrf_token": token}
    )
    token = _token(csrf_client.get("/tasks").text)
    before = db.session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1))

    assert csrf_client.post(path, data=form, headers=HTMX).status_code == 400
    assert fresh(task).state == "open" and fresh(task).title == "Send the valuation"
    assert db.session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1)) == before

    accepted = csrf_client.post(path, data=form, headers={**HTMX, "X-CSRFToken": token})
    assert accepted.status_code in (204, 302)


def test_the_navigation_counts_the_users_tasks_due_now_and_polls(client, crew, lead):
    add(crew, lead, due_at=NOW - timedelta(days=1))
    add(crew, lead, due_at=NOW - timedelta(minutes=5))
    add(crew, lead, due_at=NOW + timedelta(hours=1))
    add(crew, lead, due_at=NOW - timedelta(hours=1), assignee_id=crew.reviewer.id)
    login(client, crew.operator)

    page = client.get("/").text
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', page, re.S).group(0)
    badge = re.search(r'<a href="/tasks"[^>]*>Today <span ([^>]*)>', nav).group(1)
    assert 'hx-get="/tasks/count"' in badge and "every 15s" in badge and "tasks-changed" in badge
    assert client.get("/tasks/count").text.startswith("2<")
    other = client.application.test_client()
    login(other, crew.admin)
    assert other.get("/tasks/count").text.strip() == ""


def test_the_viewers_equivalent_of_an_owners_time(client, crew, lead):
    login(client, crew.operator)
    answer = client.get("/tasks/equivalent?date=2026-01-15&time=15:00&zone=America/Chicago")
    assert answer.text.strip() == "= 4:00 pm EST for you"
    summer = client.get("/tasks/equivalent?date=2026-07-15&time=15:00&zone=America/Chicago")
    assert summer.text.strip() == "= 4:00 pm EDT for you"
    for query in ("date=&time=15:00&zone=America/Chicago", "date=2026-01-15&time=15:00&zone=Nope"):
        assert client.get(f"/tasks/equivalent?{query}").text.strip() == ""


def test_the_callback_form_names_the_owners_clock_as_the_lead_card_does(client, crew):
    milwaukee = make_lead(crew.team, "Bluebonnet Fabrication", "David White", state="WI",
                          city="Milwaukee")  # fmt: skip
    login(client, crew.operator)
    page = client.get(f"/leads/{milwaukee.id}").text
    assert "the owner's time, Milwaukee" in page and "the owner's time, Chicago" not in page


def test_the_lead_page_books_a_callback_on_the_owners_clock_and_lists_it(client, crew, lead):
    login(client, crew.operator)
    page = client.get(f"/leads/{lead.id}").text
    panel = re.search(r'<section class="panel lead-tasks".*?</section>', page, re.S).group(0)
    assert "Schedule a callback" in panel and "the owner's time, Chicago" in panel
    assert f'hx-post="/tasks/callback/{lead.id}"' in panel
    assert "No tasks or callbacks on this lead." in panel

    booked = client.post(
        f"/tasks/callback/{lead.id}",
        data={"date": "2026-01-15", "time": "15:00", "zone": "Asia/Tokyo", "note": "Ask <b>"},
        headers=HTMX,
    )

    assert (booked.status_code, booked.headers["HX-Trigger"]) == (204, "tasks-changed")
    callback = tasks.next_callback(db.session, lead.id)
    assert (callback.due_at, callback.zone) == (datetime(2026, 1, 15, 21, 0, tzinfo=UTC), CHICAGO)
    panel = client.get(f"/tasks/lead/{lead.id}").text
    assert "Thu Jan 15, 3:00 pm CST for the owner, Chicago = 4:00 pm EST for you" in panel
    assert "Ask &lt;b&gt;" in panel and "Ask <b>" not in panel
    refused = client.post(f"/tasks/callback/{lead.id}", data={"date": "2026-01-15"}, headers=HTMX)
    assert refused.status_code == 422 and "Pick a date and time" in refused.text


def test_the_lead_page_adds_a_task_on_the_bookers_clock(client, crew, lead):
    login(client, crew.operator)
    added = client.post(
        "/tasks",
        data={
            "lead_id": lead.id,
            "title": "<script>alert(1)</script>",
            "date": "2026-01-16",
            "time": "09:00",
            "assignee": str(crew.reviewer.id),
        },
        headers=HTMX,
    )
    assert added.status_code == 204
    (task,) = db.session.scalars(select(Task)).all()
    assert (task.due_at, task.zone, task.assignee_id, task.kind) == (
        datetime(2026, 1, 16, 14, 0, tzinfo=UTC),  # 9 am in New York, the operator's zone
        NEW_YORK,
        crew.reviewer.id,
        "task",
    )
    page = client.get(f"/leads/{lead.id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    refused = client.post(
        "/tasks", data={"lead_id": lead.id, "title": " ", "date": "2026-01-16", "time": "09:00"}
    )
    assert refused.status_code == 422 and "Say what the task is." in refused.text


def test_editing_a_task_keeps_the_clock_it_was_booked_on(client, crew, lead):
    callback = tasks.book_callback(db.session, lead, crew.operator, NOW, zone=CHICAGO)
    db.session.commit()
    login(client, crew.operator)
    form = client.get(f"/tasks/{callback.id}/edit").text
    assert 'value="2026-01-14"' in form and 'value="15:00"' in form and CHICAGO in form

    saved = client.post(
        f"/tasks/{callback.id}/edit",
        data={"title": "Call Dana", "date": "2026-01-20", "time": "10:30", "back": "lead"},
    )

    assert saved.headers["Location"] == f"/leads/{lead.id}"
    edited = fresh(callback)
    assert (edited.title, edited.due_at) == ("Call Dana", datetime(2026, 1, 20, 16, 30, tzinfo=UTC))
    bad = client.post(f"/tasks/{callback.id}/edit", data={"title": "x", "date": "", "time": ""})
    assert bad.status_code == 422 and "Pick a date and time" in bad.text


def test_the_dashboard_lists_what_is_due_today(client, crew, lead):
    add(crew, lead, "Overdue one", NOW - timedelta(days=1))
    add(crew, lead, "Later today", NOW + timedelta(hours=2))
    add(crew, lead, "Tomorrow's", NOW + timedelta(days=1))
    login(client, crew.operator)

    page = client.get("/").text

    panel = re.search(r'<section class="panel due-today".*?</section>', page, re.S).group(0)
    assert "Overdue one" in panel and "Later today" in panel and "Tomorrow's" not in panel
    assert "Jan 14, 2026, 6:00 pm EST" in panel
    assert client.get("/tasks/due-today").text.count("<li") == 2
