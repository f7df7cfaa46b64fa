"""Background work as the console sees it: one row per job, kept after Redis forgets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import TeamOwned, UTCDateTime, utcnow
from console.models.team import User

JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
FINISHED_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class JobRun(TeamOwned, db.Model):
    """A job started by a person or the system, with its progress and outcome."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rq_job_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    # The arguments the job was started with, so a failed job can be run again.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    started_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        """Whether the job has stopped, done or failed."""
        return self.status in FINISHED_STATUSES

    @property
    def elapsed_seconds(self) -> float | None:
        """Seconds the job has run (until now, or until it finished)."""
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()

    @property
    def rate(self) -> float | None:
        """Steps done per second so far."""
        elapsed = self.elapsed_seconds
        if not elapsed or not self.progress_done:
            return None
        return self.progress_done / elapsed

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far, while running with a known total."""
        rate = self.rate
        if self.status != "running" or not rate or not self.progress_total:
            return None
        return max(0.0, (self.progress_total - self.progress_done) / rate)

    @property
    def percent(self) -> int | None:
        """Progress as a whole percentage, when the total is known."""
        if not self.progress_total:
            return 100 if self.status == "done" else None
        return min(100, round(100 * self.progress_done / self.progress_total))
