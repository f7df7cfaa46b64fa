"""The `job_runs` record of background work: created, claimed, advanced, finished.

The row is the source of truth for a job's state; Redis entries expire, these do not.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from console.models import JobRun
from console.models.base import utcnow
from console.services.tenancy import scoped

TITLE_CHARS = JobRun.__table__.c.title.type.length
# How often progress is written to the database while a job runs.
PROGRESS_INTERVAL_SECONDS = 0.5


def create_run(
    session: Session,
    *,
    team_id: int,
    kind: str,
    title: str,
    params: dict | None = None,
    started_by_id: int | None = None,
) -> JobRun:
    """A new queued job run; the caller commits and then enqueues it."""
    run = JobRun(
        team_id=team_id,
        kind=kind,
        title=title[:TITLE_CHARS],
        params=params or {},
        started_by_id=started_by_id,
        status="queued",
    )
    session.add(run)
    session.flush()
    return run


def claim_run(session: Session, run_id: int) -> JobRun | None:
    """Move a queued run to running; None when another worker has it or it is finished.

    The conditional UPDATE makes the claim safe when the same run is delivered twice.
    """
    claimed = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == "queued")
        .values(status="running", started_at=utcnow(), attempts=JobRun.attempts + 1, error="")
    ).rowcount
    session.commit()
    if not claimed:
        return None
    return session.get(JobRun, run_id)


def finish_run(session: Session, run: JobRun, message: str = "") -> None:
    """Record a run as done."""
    run.status = "done"
    run.finished_at = utcnow()
    if run.progress_total is not None:
        run.progress_done = run.progress_total
    if message:
        run.message = message[:255]
    session.commit()


class JobCancelled(Exception):
    """Raised by a job that stopped because a person asked it to."""


def cancel_run(session: Session, run: JobRun, message: str = "") -> None:
    """Record a run as cancelled: stopped on request, with what it had done kept."""
    run.status = "cancelled"
    run.finished_at = utcnow()
    if message:
        run.message = message[:255]
    session.commit()


def fail_run(session: Session, run_id: int, error: BaseException | str) -> None:
    """Record a run as failed with its error, whatever state the session was in."""
    session.rollback()
    run = session.get(JobRun, run_id)
    if run is None:
        return
    if isinstance(error, BaseException):
        summary = f"{type(error).__name__}: {error}"
        detail = "".join(traceback.format_exception(error))
        run.error = f"{summary}\n\n{detail}"[:20000]
    else:
        run.error = error
    run.status = "failed"
    run.finished_at = utcnow()
    session.commit()


def requeue_run(session: Session, run: JobRun) -> None:
    """Put a failed run back in the queue to try again; the caller enqueues it."""
    if run.status != "failed":
        raise ValueError("Only a failed job can be retried.")
    run.status = "queued"
    run.error = ""
    run.message = ""
    run.progress_done = 0
    run.finished_at = None
    session.commit()


def first_line(error: str) -> str:
    """The one-line summary of a stored error."""
    return error.split("\n", 1)[0]


class Progress:
    """Reports a running job's progress to its row, at most twice a second."""

    def __init__(
        self,
        session: Session,
        run: JobRun,
        on_write: Callable[[JobRun], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.run = run
        self.on_write = on_write
        self.clock = clock
        self._last_write = 0.0

    def set_total(self, total: int) -> None:
        """Say how many steps the job has."""
        self.run.progress_total = total
        self._write()

    def advance(self, steps: int = 1, message: str = "", **counts: int) -> None:
        """Count `steps` more as done and add to the named counters."""
        self.run.progress_done += steps
        if counts:
            merged = dict(self.run.counts or {})
            for key, value in counts.items():
                merged[key] = merged.get(key, 0) + value
            self.run.counts = merged
        if message:
            self.run.message = message[:255]
        if self.clock() - self._last_write >= PROGRESS_INTERVAL_SECONDS:
            self._write()

    def update(self, done: int, total: int | None, counts: dict[str, int]) -> None:
        """Set the steps done, the total and the counters outright (resumable jobs)."""
        self.run.progress_done = done
        self.run.progress_total = total
        self.run.counts = counts
        if self.clock() - self._last_write >= PROGRESS_INTERVAL_SECONDS:
            self._write()

    def _write(self) -> None:
        self.session.commit()
        self._last_write = self.clock()
        if self.on_write is not None:
            self.on_write(self.run)


def unfinished_runs(session: Session) -> list[JobRun]:
    """Runs that the database says are queued or running, oldest first."""
    return list(
        session.scalars(
            select(JobRun).where(JobRun.status.in_(("queued", "running"))).order_by(JobRun.id)
        )
    )


def stale(run: JobRun, now: datetime | None = None, lease: timedelta = timedelta(hours=2)) -> bool:
    """Whether a running run has gone past any reasonable lease."""
    started = run.started_at or run.created_at
    return run.status == "running" and (now or utcnow()) - started > lease


def team_runs(
    session: Session, team_id: int, *, status: str = "", kind: str = "", limit: int | None = 200
) -> list[JobRun]:
    """A team's job runs, newest first, optionally of one status or kind."""
    return list(session.scalars(_team_runs_query(team_id, status, kind, limit)))


def _team_runs_query(team_id: int, status: str, kind: str, limit: int | None) -> Select:
    """The query behind `team_runs`."""
    query = scoped(JobRun, team_id).order_by(JobRun.id.desc())
    if status:
        query = query.where(JobRun.status == status)
    if kind:
        query = query.where(JobRun.kind == kind)
    if limit:
        query = query.limit(limit)
    return query


EXPORT_COLUMNS = (
    "id",
    "kind",
    "title",
    "status",
    "done",
    "total",
    "message",
    "error",
    "started_by",
    "created_at",
    "started_at",
    "finished_at",
)


def export_rows(
    session: Session, team_id: int, *, status: str = "", kind: str = ""
) -> Iterator[list]:
    """Every run of a team (of one status or kind) as CSV rows, starters loaded with them.

    A generator: the query runs when the rows are read, so a streamed download reads them
    in the session open while it streams, never through objects of a closed one.
    """
    query = _team_runs_query(team_id, status, kind, None).options(selectinload(JobRun.started_by))
    for run in session.scalars(query):
        yield export_row(run)


def export_row(run: JobRun) -> list:
    """A job run as one CSV row in `EXPORT_COLUMNS` order."""

    def iso(value):
        return value.isoformat(timespec="seconds") if value else ""

    return [
        run.id,
        run.kind,
        run.title,
        run.status,
        run.progress_done,
        run.progress_total,
        run.message,
        first_line(run.error),
        run.started_by.email if run.started_by else "",
        iso(run.created_at),
        iso(run.started_at),
        iso(run.finished_at),
    ]
