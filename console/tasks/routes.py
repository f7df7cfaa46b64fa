"""Today: the agenda of tasks and callbacks, the count of what is due in the navigation,
the tasks panel of the lead page, and the posts that book, finish, snooze and give
tasks to teammates.

Every change answers htmx with 204 and a `tasks-changed` event: the agenda, the lead's
panel, the dashboard's list and the navigation count each fetch themselves again.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from console.extensions import db
from console.models import Deal, Lead, Task, User
from console.models.base import utcnow
from console.models.records import TASK_KINDS
from console.services import accounts, timezones
from console.services.deals import agenda, tasks
from console.services.numbers import whole_number
from console.web import csv_download, render, team_get_or_404

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
CHANGED = {"HX-Trigger": "tasks-changed"}


def _zone() -> str:
    return timezones.viewer_zone_name(current_user)


def _teammates() -> list[User]:
    return accounts.teammates(db.session, current_user.team_id)


@dataclass(frozen=True)
class TaskPanel:
    """What the lead page's tasks panel shows."""

    lead: Lead
    rows: list[agenda.AgendaRow]
    callback_form: tasks.CallbackForm
    teammates: list[User]
    viewer_zone: str
    error: str = ""
    # On the deal page: what is booked there carries the deal as well as its lead.
    deal_id: int | None = None


def task_panel(lead: Lead, error: str = "", deal: Deal | None = None) -> TaskPanel:
    """The lead page's tasks panel (or the lead's `deal`'s page's) for the signed-in user."""
    zone = _zone()
    return TaskPanel(
        lead=lead,
        rows=agenda.lead_rows(db.session, lead, current_user, utcnow()),
        callback_form=tasks.callback_form(lead, zone),
        teammates=_teammates(),
        viewer_zone=zone,
        error=error,
        deal_id=deal.id if deal is not None else None,
    )


def _deal_of_form(lead: Lead) -> Deal | None:
    """The lead's deal a request names (`deal_id`), for tasks booked on the deal's page;
    another team's deal, or another lead's, is a 404."""
    deal_id = whole_number(request.values.get("deal_id"))
    if deal_id is None:
        return None
    deal = team_get_or_404(Deal, deal_id)
    if deal.lead_id != lead.id:
        abort(404)
    return deal


@bp.app_context_processor
def _task_helpers() -> dict:
    """`callback_when(task)` for any page that shows a booked callback."""

    def callback_when(task: Task) -> str:
        return agenda.callback_when(task, _zone())

    return {"callback_when": callback_when, "snoozes": tasks.SNOOZES}


@bp.get("")
@login_required
def index():
    """The agenda: overdue, due today and upcoming, grouped by assignee; or its CSV."""
    filters = agenda.AgendaFilters.from_args(request.args)
    rows = agenda.agenda_rows(db.session, current_user.team_id, current_user, filters, utcnow())
    if request.args.get("format") == "csv":
        lines = [agenda.export_row(row) for row in rows]
        return csv_download(f"tasks-{utcnow():%Y%m%d-%H%M}.csv", agenda.EXPORT_COLUMNS, lines)
    return render(
        "tasks/index.html",
        "tasks/_agenda.html",
        filters=filters,
        groups=agenda.by_assignee(rows, current_user),
        sections=agenda.SECTIONS,
        kinds=TASK_KINDS,
        teammates=_teammates(),
        viewer_zone=_zone(),
    )


@bp.get("/count")
@login_required
def count():
    """The navigation's badge: the user's tasks due now (empty when none)."""
    due = tasks.due_count(db.session, current_user.team_id, current_user.id, utcnow())
    return render_template("tasks/_count.html", due=due)


@bp.get("/due-today")
@login_required
def due_today_panel():
    """The dashboard's "Due today" panel, fetched again when a task changes."""
    return render_template(
        "tasks/_due_today.html", due_rows=agenda.due_today(db.session, current_user, utcnow())
    )


@bp.get("/equivalent")
@login_required
def equivalent():
    """ "= 4:00 pm EST for you": a date and time on another zone's clock, on the viewer's."""
    zone = request.args.get("zone", "")
    due = tasks.local_due(request.args.get("date", ""), request.args.get("time", ""), zone)
    text = tasks.viewer_equivalent(due, _zone()) if timezones.valid_zone(zone) else ""
    return render_template("tasks/_equivalent.html", equivalent=text)


@bp.get("/lead/<int:lead_id>")
@login_required
def lead_panel(lead_id: int):
    """The lead page's tasks panel alone."""
    lead = team_get_or_404(Lead, lead_id)
    panel = task_panel(lead, deal=_deal_of_form(lead))
    return render_template("tasks/_lead_tasks.html", tasks_panel=panel)


def _changed(task: Task | None = None) -> Response:
    """After a change: 204 and the event for htmx; else back to the lead or the agenda."""
    db.session.commit()
    if request.headers.get("HX-Request"):
        return Response(status=204, headers=CHANGED)
    if task is not None and task.lead_id and request.form.get("back") == "lead":
        return redirect(url_for("leads.show", lead_id=task.lead_id))
    return redirect(url_for("tasks.index"))


def _problem(problem: tasks.TaskProblem) -> Response:
    db.session.rollback()
    return Response(render_template("tasks/_problem.html", problem=str(problem)), status=422)


@bp.post("")
@login_required
def create():
    """A task on a lead, due at a date and time on the booker's clock."""
    lead = team_get_or_404(Lead, whole_number(request.form.get("lead_id")) or 0)
    deal = _deal_of_form(lead)
    form, zone = request.form, _zone()
    try:
        task = tasks.create_task(
            db.session,
            current_user.team_id,
            current_user,
            title=form.get("title", ""),
            due_at=tasks.local_due(form.get("date", ""), form.get("time", ""), zone),
            zone=zone,
            assignee_id=whole_number(form.get("assignee")),
            lead_id=lead.id,
            deal_id=deal.id if deal is not None else None,
            note=form.get("note", ""),
        )
    except tasks.TaskProblem as problem:
        return _problem(problem)
    return _changed(task)


@bp.post("/callback/<int:lead_id>")
@login_required
def book_callback(lead_id: int):
    """A callback on the lead at a date and time on the owner's clock."""
    lead = team_get_or_404(Lead, lead_id)
    zone, _known = tasks.callback_zone(lead, _zone())
    when = tasks.local_due(request.form.get("date", ""), request.form.get("time", ""), zone)
    if when is None:
        return _problem(tasks.TaskProblem("Pick a date and time for the callback."))
    deal = _deal_of_form(lead)
    task = tasks.book_callback(
        db.session,
        lead,
        current_user,
        when,
        zone=zone,
        note=request.form.get("note", ""),
        deal_id=deal.id if deal is not None else None,
    )
    return _changed(task)


def _task_or_404(task_id: int) -> Task:
    return team_get_or_404(Task, task_id)


@bp.post("/<int:task_id>/done")
@login_required
def done(task_id: int):
    """Mark a task done."""
    task = _task_or_404(task_id)
    tasks.mark_done(db.session, task, current_user, utcnow())
    return _changed(task)


@bp.post("/<int:task_id>/reopen")
@login_required
def reopen(task_id: int):
    """Open a done task again."""
    task = _task_or_404(task_id)
    tasks.reopen(db.session, task, current_user)
    return _changed(task)


@bp.post("/<int:task_id>/snooze")
@login_required
def snooze(task_id: int):
    """Push a task an hour, to tomorrow 9 am, or to next week."""
    task = _task_or_404(task_id)
    try:
        tasks.snooze(db.session, task, current_user, request.form.get("how", ""), utcnow(), _zone())
    except tasks.TaskProblem as problem:
        return _problem(problem)
    return _changed(task)


@bp.post("/<int:task_id>/assign")
@login_required
def assign(task_id: int):
    """Give a task to a teammate (or nobody); another team's user is a 404."""
    task = _task_or_404(task_id)
    try:
        tasks.reassign(db.session, task, current_user, whole_number(request.form.get("assignee")))
    except tasks.TaskProblem:
        abort(404)
    return _changed(task)


def _save_edit(task: Task, zone: str) -> str:
    """Apply the edit form to `task` and commit; the problem in words, if any."""
    form = request.form
    try:
        tasks.edit_task(
            db.session,
            task,
            current_user,
            title=form.get("title", ""),
            due_at=tasks.local_due(form.get("date", ""), form.get("time", ""), zone),
            zone=zone,
            note=form.get("note", ""),
        )
    except tasks.TaskProblem as problem:
        db.session.rollback()
        return str(problem)
    db.session.commit()
    return ""


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
def edit(task_id: int):
    """Change a task's title, due time (on the clock it was booked on) and note."""
    task = _task_or_404(task_id)
    zone = task.zone if timezones.valid_zone(task.zone) else _zone()
    back = request.values.get("back", "")
    error = _save_edit(task, zone) if request.method == "POST" else ""
    if request.method == "POST" and not error:
        if task.lead_id and back == "lead":
            return redirect(url_for("leads.show", lead_id=task.lead_id))
        return redirect(url_for("tasks.index"))
    local = timezones.in_zone(task.due_at, zone)
    page = render_template(
        "tasks/edit.html", task=task, zone=zone, local=local, error=error, back=back
    )
    return page, (422 if error else 200)
