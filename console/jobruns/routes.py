"""Background jobs: the list, a job's page with its live progress, and retry."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from console.extensions import db
from console.models import JobRun, Role
from console.models.base import utcnow
from console.models.jobs import JOB_STATUSES
from console.services import jobruns
from console.web import csv_download, render, roles_required, team_get_or_404, wants_partial
from jobs import queue as job_queue
from jobs.kinds import JOB_KINDS

bp = Blueprint("jobruns", __name__, url_prefix="/jobs")


def _list_filters() -> dict[str, str]:
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    return {
        "status": status if status in JOB_STATUSES else "",
        "kind": kind if kind in JOB_KINDS else "",
    }


@bp.get("/")
@login_required
def index():
    """The team's jobs, newest first, filtered by status and kind."""
    filters = _list_filters()
    runs = jobruns.team_runs(db.session, current_user.team_id, **filters)
    return render(
        "jobs/index.html",
        "jobs/_rows.html",
        runs=runs,
        filters=filters,
        statuses=JOB_STATUSES,
        kinds=JOB_KINDS,
    )


@bp.get("/export.csv")
@login_required
def export():
    """The filtered job list as CSV."""
    return csv_download(
        f"jobs-{utcnow():%Y%m%d-%H%M}.csv",
        jobruns.EXPORT_COLUMNS,
        jobruns.export_rows(db.session, current_user.team_id, **_list_filters()),
    )


@bp.get("/<int:run_id>")
@login_required
def show(run_id: int):
    """A job's page; htmx polls get only the progress fragment."""
    run = team_get_or_404(JobRun, run_id)
    response = make_response(
        render("jobs/show.html", "jobs/_progress.html", run=run, kinds=JOB_KINDS)
    )
    if run.finished and wants_partial():
        # Pages that show a job's outcome (an import's summary) refresh on this event.
        response.headers["HX-Trigger"] = "job-finished"
    return response


@bp.post("/<int:run_id>/retry")
@login_required
def retry(run_id: int):
    """Queue a failed job again (its starter, or a manager)."""
    run = team_get_or_404(JobRun, run_id)
    if run.started_by_id != current_user.id and not current_user.can(Role.MANAGER):
        abort(403)
    if run.status != "failed":
        abort(409)
    job_queue.retry(run)
    flash("The job is queued again.", "success")
    return redirect(url_for("jobruns.show", run_id=run.id))


@bp.post("/worker-check")
@roles_required(Role.ADMIN, Role.MANAGER)
def worker_check():
    """Start a short job that shows whether workers are picking up work."""
    run = job_queue.start(
        kind="worker_check",
        title="Worker check",
        team_id=current_user.team_id,
        started_by_id=current_user.id,
        params={"steps": 5, "pause": 0.4},
    )
    return redirect(url_for("jobruns.show", run_id=run.id))
