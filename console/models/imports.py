"""List imports and what entity resolution decided about every row they brought in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models.base import Money, TeamOwned, UTCDateTime, utcnow
from console.models.team import User

# An import moves left to right; the last three end it.
IMPORT_STATUSES: tuple[str, ...] = ("mapping", "queued", "running", "done", "failed", "cancelled")
REVIEW_STATUSES: tuple[str, ...] = ("pending", "merged", "kept_apart")


class ImportJob(TeamOwned, db.Model):
    """One uploaded list file: its shape, the operator's mapping, progress and outcome."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # What the list cost, when the operator entered it (the funnel counts it as spend).
    list_price: Mapped[Decimal | None] = mapped_column(Money())
    stored_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    # The detected kind, encoding, delimiter, header row and headers (tabular.FileShape).
    shape: Mapped[dict] = mapped_column(JSON, default=dict)
    # One target field per column, in column order ("" keeps it as a custom field).
    mapping: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="mapping", index=True)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    # The file row number of the last row committed: a re-run resumes after it.
    last_row: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # Tags given to every lead this import creates or joins.
    tags: Mapped[list] = mapped_column(JSON, default=list)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(Text, default="")
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        """Whether the import has stopped for good (done, failed or cancelled)."""
        return self.status in ("done", "failed", "cancelled")

    @property
    def duration_seconds(self) -> float | None:
        """How long the import ran, once started."""
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()


class ImportReject(TeamOwned, db.Model):
    """A row an import could not use, with its original cells and the reason."""

    __tablename__ = "import_rejects"
    __table_args__ = (Index("ix_import_rejects_import_row", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    cells: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(200))


class MappingPreset(TeamOwned, db.Model):
    """A named column mapping, offered again for files with the same header."""

    __tablename__ = "mapping_presets"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # A digest of the cleaned, lower-cased header, to find presets for a new file.
    header_key: Mapped[str] = mapped_column(String(64), index=True)
    # Header name -> target field.
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatchKey(TeamOwned, db.Model):
    """A blocking key of a lead (phone, email, name and ZIP...), so matching stays linear."""

    team_id_indexed = False  # ix_match_keys_team_key starts with it
    __tablename__ = "match_keys"
    __table_args__ = (Index("ix_match_keys_team_key", "team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    # For fuzzy-name blocks: the normalized business name to compare.
    value: Mapped[str] = mapped_column(String(255), default="")


class LeadSource(TeamOwned, db.Model):
    """One source row behind a lead: which import and row, and what resolution did."""

    team_id_indexed = False  # ix_lead_sources_team_import starts with it
    __tablename__ = "lead_sources"
    __table_args__ = (Index("ix_lead_sources_team_import", "team_id", "import_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    row_number: Mapped[int | None] = mapped_column(Integer)
    # created, merged or review: what this row did to the lead.
    action: Mapped[str] = mapped_column(String(10), default="created")
    rule: Mapped[str] = mapped_column(String(40), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatchReview(TeamOwned, db.Model):
    """An uncertain pair of leads for a person to merge or keep apart."""

    __tablename__ = "match_reviews"
    __table_args__ = (
        UniqueConstraint("team_id", "lead_id", "other_lead_id"),
        Index("ix_match_reviews_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The newer lead, and the existing lead it may duplicate. A merge deletes the newer
    # lead; the decision stays, with both codes.
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    other_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    lead_code: Mapped[str] = mapped_column(String(20), default="")
    other_code: Mapped[str] = mapped_column(String(20), default="")
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="SET NULL"), index=True
    )
    rule: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decided_by: Mapped[User | None] = relationship()


class MergeHistory(TeamOwned, db.Model):
    """A merge: which lead survived, what joined it (a lead or a source row), by which rule."""

    __tablename__ = "merge_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    # The lead merged away (kept as a number: that lead no longer exists), or none
    # when an incoming row joined the survivor directly.
    merged_id: Mapped[int | None] = mapped_column(Integer)
    merged_code: Mapped[str] = mapped_column(String(20), default="")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    row_number: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
