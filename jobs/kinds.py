"""The kinds of job the console runs, each a function of (session, run, progress)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.models import JobRun, Team
from console.services import demo
from console.services.jobruns import Progress

JobFunction = Callable[[Session, JobRun, Progress], str]


@dataclass(frozen=True)
class JobKind:
    """A job kind: what it is called on the page and the function that does it."""

    label: str
    run: JobFunction


def seed_demo(session: Session, run: JobRun, progress: Progress) -> str:
    """Load the shipped sample businesses into the run's team."""
    team = session.get(Team, run.params.get("team_id", run.team_id))
    if team is None:
        raise LookupError(f"Team {run.params.get('team_id')} does not exist.")

    def report(done: int, total: int) -> None:
        if run.progress_total != total:
            progress.set_total(total)
        progress.advance(1)

    counts = demo.seed_sample(session, team, progress=report)
    run.counts = counts
    return f"{counts['created']} leads created, {counts['skipped']} rows already loaded."


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
    "worker_check": JobKind("Worker check", worker_check),
}
