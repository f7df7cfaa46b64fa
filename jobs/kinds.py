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

from console.models import ImportJob, JobRun, SkipTraceRun, Team
from console.models.base import utcnow
from console.services import demo
from console.services.campaigns import batches
from console.services.deals import staleness
from console.services.jobruns import JobCancelled, Progress
from console.services.lists import imports
from console.services.tracing import result_files, scoring, waterfall

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


def skiptrace_pass(session: Session, run: JobRun, progress: Progress) -> str:
    """Trace a pass's leads through the providers, then check and score them."""
    pass_id = int(run.params["skiptrace_run_id"])

    def report(trace: SkipTraceRun) -> None:
        counts = trace.counts or {}
        progress.update(
            counts.get("leads_done", 0),
            counts.get("leads_total"),
            {
                "hits": counts.get("hits", 0),
                "partial": counts.get("partial", 0),
                "mobiles found": counts.get("mobiles_found", 0),
                "spent ($)": f"{trace.spent:,.2f}",
            },
        )

    options = waterfall.pass_options(
        current_app.config,
        on_progress=report,
        should_stop=lambda: waterfall.cancel_requested(session, pass_id),
    )
    try:
        trace = waterfall.run_pass(session, pass_id, options)
    except waterfall.PassCancelled as stop:
        waterfall.mark_finished(session, pass_id, "cancelled", str(stop))
        raise JobCancelled(str(stop)) from stop
    except Exception as exc:
        waterfall.mark_finished(session, pass_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    report(trace)
    return waterfall.outcome_sentence(trace)


def skiptrace_abandoned(session: Session, run: JobRun) -> None:
    """A worker died during a pass: it shows as failed, ready to resume from its job."""
    waterfall.mark_finished(session, int(run.params["skiptrace_run_id"]), "failed", run.error)


def skiptrace_file(session: Session, run: JobRun, progress: Progress) -> str:
    """Read a vendor's result file and match its rows to the team's leads."""
    file_id = int(run.params["file_id"])

    def report(done: int, total: int | None, counts: dict) -> None:
        progress.update(done, total, counts)

    try:
        trace_file = result_files.load_file(session, file_id, on_progress=report)
    except Exception as exc:
        result_files.mark_failed(session, file_id, exc)
        raise
    counts = trace_file.counts
    return (
        f"{counts.get('rows', 0):,} rows: {counts.get('matched', 0):,} matched to leads, "
        f"{counts.get('unmatched', 0):,} matched nothing."
    )


def rescore_team(session: Session, run: JobRun, progress: Progress) -> str:
    """Score every lead of the team again (after the weights changed)."""
    changed = scoring.rescore_leads(session, run.team_id)
    return f"{changed:,} leads changed score, queue, action or persona."


def generate_batch(session: Session, run: JobRun, progress: Progress) -> str:
    """Render every text of a batch for review."""
    batch_id = int(run.params["batch_id"])

    def report(done: int, total: int) -> None:
        progress.update(done, total, {"texts": done})

    batch = batches.draft(session, batch_id, on_progress=report)
    excluded = sum(v for k, v in (batch.excluded or {}).items() if k not in ("eligible", "matched"))
    texts = "text" if batch.size == 1 else "texts"
    leads = "lead" if excluded == 1 else "leads"
    return f"{batch.size:,} {texts} drafted for review; {excluded:,} {leads} left out."


def mark_stale(session: Session, run: JobRun, progress: Progress) -> str:
    """The team's daily sweep of its open deals: last touches brought up to date, the
    deals past their stage's stale days marked, those no longer past it cleared."""
    report = staleness.sweep(session, run.team_id, utcnow())
    run.counts = {"checked": report.checked, "marked": report.marked, "cleared": report.cleared}
    progress.update(report.checked, report.checked, run.counts)
    return report.sentence()


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
    "skiptrace_pass": JobKind("Skip trace", skiptrace_pass, on_abandoned=skiptrace_abandoned),
    "skiptrace_file": JobKind("Skip-trace result file", skiptrace_file),
    "rescore_team": JobKind("Score leads", rescore_team),
    "generate_batch": JobKind("Draft a batch", generate_batch),
    staleness.SWEEP_KIND: JobKind("Mark stale deals", mark_stale),
    "worker_check": JobKind("Worker check", worker_check),
}
