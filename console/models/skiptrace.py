"""Skip tracing: the team's providers, each pass over leads, what every call found and
cost, result files delivered by vendors, and the line-type checks of phone numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import Money, TeamOwned, Timestamps, UTCDateTime, utcnow
from console.models.leads import Lead
from console.models.team import User

PROVIDER_KINDS: dict[str, str] = {
    "sandbox": "Sandbox (fictional owners, for trying the console)",
    "file": "Result file (upload a vendor's file)",
    "http": "HTTP JSON API (your vendor's endpoint)",
}
# A pass moves left to right; the last four end it.
RUN_STATUSES: tuple[str, ...] = ("queued", "running", "done", "stopped", "failed", "cancelled")
# What one provider call came to.
OUTCOMES: tuple[str, ...] = ("pending", "hit", "partial", "miss", "error", "lost")


class SkipTraceProvider(TeamOwned, Timestamps, db.Model):
    """One of a team's skip-trace sources, tried in `position` order."""

    __tablename__ = "skiptrace_providers"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Everything but the secret: endpoint, method, auth header name, body template,
    # response paths, timeout (see console.providers.skiptrace.http.HttpSettings).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The API key, encrypted (console.services.secrets); never sent back to a page.
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    cost_per_search: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cost_per_hit: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    rate_per_second: Mapped[float] = mapped_column(Float, default=5.0)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=4)

    @property
    def has_secret(self) -> bool:
        """Whether a key is stored (the only thing a page may say about it)."""
        return bool(self.secret_encrypted)

    @property
    def kind_label(self) -> str:
        """The kind as people read it."""
        return PROVIDER_KINDS.get(self.kind, self.kind)


class SkipTraceRun(TeamOwned, Timestamps, db.Model):
    """One skip-trace pass over a chosen set of leads, with its budget and tallies."""

    __tablename__ = "skiptrace_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    # The leads-list filters the leads were chosen with, for the run page.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    lead_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Provider ids in the order they are tried, fixed when the run is confirmed.
    provider_ids: Mapped[list] = mapped_column(JSON, default=list)
    budget: Mapped[Decimal | None] = mapped_column(Money())
    spent: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    # leads_done, traced, hits, mobiles, verified_mobiles, skipped_fresh, calls, errors...
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    stop_reason: Mapped[str] = mapped_column(String(255), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    started_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        """Whether the pass has stopped for good."""
        return self.status in ("done", "stopped", "failed", "cancelled")


class SkipTraceResult(TeamOwned, db.Model):
    """One call to one provider for one lead: what was asked, answered, found and paid.

    The row is written as `pending` and committed before the call, so a pass that dies
    mid-call never calls (and pays) that provider for that lead again.
    """

    __tablename__ = "skiptrace_results"
    __table_args__ = (
        Index("ix_skiptrace_results_run_lead", "run_id", "lead_id"),
        Index("ix_skiptrace_results_team_lead", "team_id", "lead_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id_indexed = False
    run_id: Mapped[int] = mapped_column(ForeignKey("skiptrace_runs.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("skiptrace_providers.id", ondelete="SET NULL")
    )
    provider_name: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    request: Mapped[dict] = mapped_column(JSON, default=dict)
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    # The best candidate of the answer, normalized (owner, title, phones, emails...).
    candidate: Mapped[dict] = mapped_column(JSON, default=dict)
    found: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    # The result whose facts were written onto the lead.
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(255), default="")
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead] = relationship()


class SkipTraceFile(TeamOwned, db.Model):
    """A vendor's result file: mapped like a list import, matched back to leads."""

    __tablename__ = "skiptrace_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("skiptrace_providers.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    shape: Mapped[dict] = mapped_column(JSON, default=dict)
    mapping: Mapped[list] = mapped_column(JSON, default=list)
    # mapping -> loading -> loaded (or failed).
    status: Mapped[str] = mapped_column(String(10), default="mapping")
    # rows, matched, by_code, by_address, unmatched (and why).
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[SkipTraceProvider | None] = relationship()


class SkipTraceFileRow(TeamOwned, db.Model):
    """One row of a result file: what it says, and the lead it belongs to (or why none)."""

    __tablename__ = "skiptrace_file_rows"
    __table_args__ = (
        Index("ix_skiptrace_file_rows_file_row", "file_id", "row_number"),
        Index("ix_skiptrace_file_rows_team_lead", "team_id", "lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id_indexed = False
    file_id: Mapped[int] = mapped_column(ForeignKey("skiptrace_files.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    matched_by: Mapped[str] = mapped_column(String(20), default="")
    unmatched_reason: Mapped[str] = mapped_column(String(200), default="")
    # The row as a provider answer: owner, title, phones, emails, addresses, confidence.
    answer: Mapped[dict] = mapped_column(JSON, default=dict)
    cells: Mapped[list] = mapped_column(JSON, default=list)


class PhoneCheck(TeamOwned, db.Model):
    """What a line-type check said about a number, reused for 90 days."""

    __tablename__ = "phone_checks"
    __table_args__ = (UniqueConstraint("team_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id_indexed = False
    e164: Mapped[str] = mapped_column(String(16))
    # "twilio" (Lookup v2 line_type_intelligence) or "offline" (the numbering plan).
    source: Mapped[str] = mapped_column(String(10))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    line_type: Mapped[str] = mapped_column(String(20), default="")
    carrier: Mapped[str] = mapped_column(String(120), default="")
    textable: Mapped[bool] = mapped_column(Boolean, default=False)
    cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
