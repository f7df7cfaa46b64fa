"""The kinds of job the console runs, each a function of (session, run, progress)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from console.models import ImportJob, JobRun, Team
from console.services import demo, imports
from console.services.jobruns import JobCancelled, Progress

JobFunction = Callable[[Session, JobRun, Progress], str]


@dataclass(frozen=True)
class JobKind:
    """A job kind: what it is called on the page and the function that does it."""

    label: str
    run: JobFunction
    # Called when a run of this kind is found dead (its worker gone), to settle its records.
    on_abandoned: Callable[[Session, JobRun], None] | None = None


def seed_demo(session: Session, run: JobRun, progress: Progress) -> str:
    """Load the shipped sample businesses into the run's team."""
    team = session.get(Team, run.params.get("team_id", run.team_id))
    if team is None:
        raise LookupError(f"Team {run.params.get('team_id')} does not exist.")

    def report(done: int, total: int) -> None:
        progress.update(done, total, run.counts or {})

    counts = demo.seed_sample(
        session, team, Path(current_app.config["UPLOAD_DIR"]), progress=report
    )
    run.counts = counts
    return f"{counts['created']} leads created, {counts['skipped']} rows already loaded."


def import_list(session: Session, run: JobRun, progress: Progress) -> str:
    """Import an uploaded list to the end, resuming after the rows already committed."""
    import_id = int(run.params["import_id"])

    def report(job, _result) -> None:
        counts = job.counts
        progress.update(
            job.rows_done,
            job.total_rows,
            {key: counts.get(key, 0) for key in ("created", "merged", "review", "rejected")},
        )

    try:
        job = imports.run_import(session, import_id, on_chunk=report)
    except JobCancelled:
        imports.delete_file(session.get(ImportJob, import_id))
        raise
    except Exception as exc:
        imports.mark_failed(session, import_id, exc)
        raise
    report(job, None)
    imports.delete_file(job)
    counts = job.counts
    return (
        f"{counts.get('rows', 0):,} rows: {counts.get('created', 0):,} leads created, "
        f"{counts.get('merged', 0):,} merged, {counts.get('review', 0):,} to review, "
        f"{counts.get('rejected', 0):,} rejected."
    )


def import_abandoned(session: Session, run: JobRun) -> None:
    """A worker died during an import: the import shows as failed, ready to resume."""
    imports.mark_failed(session, int(run.params["import_id"]), run.error)


def worker_check(session: Session, run: JobRun, progress: Progress) -> str:
    """A short job that proves a worker picks up work and reports progress."""
    steps = int(run.params.get("steps", 5))
    pause = float(run.params.get("pause", 0.3))
    progress.set_total(steps)
    for step in range(steps):
        time.sleep(pause)
        progress.advance(1, message=f"Step {step + 1} of {steps}")
    return f"Worker {socket.gethostname()} (pid {os.getpid()}) ran {steps} steps."


JOB_KINDS: dict[str, JobKind] = {
    "seed_demo": JobKind("Load demo data", seed_demo),
    "import_list": JobKind("List import", import_list, on_abandoned=import_abandoned),
    "worker_check": JobKind("Worker check", worker_check),
}
