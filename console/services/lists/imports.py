"""An import's life: upload, mapping, the run in chunks, cancelling, summary and rejects."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.orm import Session, selectinload

from console.models import ImportJob, ImportReject, JobRun, LeadSource, MatchReview
from console.models.base import utcnow
from console.models.imports import IMPORT_STATUSES
from console.services import jobruns
from console.services.deals.deals import DealProblem, deal_value
from console.services.jobruns import JobCancelled
from console.services.lists import ingest, mapping, tabular
from console.services.lists.leads import clean_tag
from console.services.tenancy import of_team, scoped
from console.services.tracing import scoring

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
PREVIEW_CELL_CHARS = 200
FILENAME_CHARS = ImportJob.__table__.c.filename.type.length
# Control characters (C0, DEL, C1) and the invisible format ones (bidi overrides among them).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class ImportProblem(ValueError):
    """Something the operator must fix; str(exc) says what, in words."""


def clean_filename(filename: str, default: str = "upload") -> str:
    """An uploaded file's name as stored: its last path part, without control characters,
    at most FILENAME_CHARS long (keeping its suffix), or `default` when nothing is left.

    Every database stores the same name: PostgreSQL refuses NUL and over-long text that
    SQLite would keep.
    """
    name = _UNPRINTABLE.sub("", filename).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(name) > FILENAME_CHARS:
        suffix = Path(name).suffix
        suffix = suffix if len(suffix) <= 10 else ""
        name = name[: FILENAME_CHARS - len(suffix)].rstrip() + suffix
    return name if name.strip(". ") else default


def store_upload(
    stream: BinaryIO, upload_dir: Path, team_id: int, filename: str
) -> tuple[Path, int, str]:
    """Copy an uploaded stream to the team's upload folder in blocks; path, size, sha256."""
    suffix = Path(filename).suffix.lower()
    folder = upload_dir / str(team_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix if suffix in ALLOWED_SUFFIXES else '.dat'}"
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while block := stream.read(1024 * 1024):
            digest.update(block)
            size += len(block)
            out.write(block)
    return path, size, digest.hexdigest()


def create_import(
    session: Session,
    *,
    team_id: int,
    path: Path,
    filename: str,
    size: int,
    sha256: str,
    created_by_id: int | None,
) -> ImportJob:
    """Sniff a stored file and record an import waiting for its mapping.

    An unusable file (empty, binary, no header) is deleted and raises ImportProblem:
    nothing is created.
    """
    try:
        shape = tabular.sniff(path, filename)
    except tabular.FileProblem as problem:
        path.unlink(missing_ok=True)
        raise ImportProblem(str(problem)) from problem
    except Exception as exc:  # a damaged workbook can fail deep inside its XML parser
        path.unlink(missing_ok=True)
        raise ImportProblem(
            f"The file could not be read ({type(exc).__name__}). Save it again as CSV or "
            "XLSX and upload that."
        ) from exc
    preset = mapping.preset_for_header(session, team_id, shape.headers)
    columns = (
        mapping.apply_preset(preset, shape.headers) if preset else mapping.auto_map(shape.headers)
    )
    job = ImportJob(
        team_id=team_id,
        filename=clean_filename(filename),
        stored_path=str(path),
        size_bytes=size,
        sha256=sha256,
        shape=shape.to_dict(),
        mapping=columns,
        status="mapping",
        counts={"preset": preset.name} if preset else {},
        created_by_id=created_by_id,
    )
    session.add(job)
    session.flush()
    return job


def shape_of(job: ImportJob) -> tabular.FileShape:
    """The import's detected file shape."""
    return tabular.FileShape.from_dict(job.shape)


@dataclass(frozen=True)
class PreviewRow:
    """A preview row: its cells and what the current mapping makes of it."""

    row_number: int
    cells: list[str]
    outcome: ingest.Record | ingest.Rejected


def preview(job: ImportJob, columns: list[str] | None = None, limit: int = 20) -> list[PreviewRow]:
    """The first rows of the file and how they normalize under `columns` (or the saved mapping)."""
    shape = shape_of(job)
    columns = mapping.clean_mapping(
        columns if columns is not None else job.mapping, len(shape.headers)
    )
    rows = []
    for row_number, cells in tabular.head_rows(job.stored_path, shape):
        cells = [c.strip() for c in cells]
        (outcome,) = ingest.build_chunk([(row_number, cells)], shape.headers, columns)
        shown = [cell[:PREVIEW_CELL_CHARS] for cell in cells[: len(shape.headers)]]
        rows.append(PreviewRow(row_number, shown, outcome))
        if len(rows) >= limit:
            break
    return rows


def set_mapping(
    session: Session, job: ImportJob, columns: list[str], tags: list[str]
) -> mapping.MappingCheck:
    """Save the operator's mapping and tags on an import still being mapped."""
    if job.status != "mapping":
        raise ImportProblem("This import has already started; its mapping cannot change.")
    job.mapping = mapping.clean_mapping(columns, len(job.shape["headers"]))
    job.tags = tags
    return mapping.check_mapping(job.mapping)


def price_paid(text: str | None) -> Decimal | None:
    """What the team paid for a list, typed in dollars ("2,500", "$2500.00"), read as a
    deal's value is; None when left blank (the funnel counts the list as free)."""
    try:
        return deal_value(text)
    except DealProblem as problem:
        raise ImportProblem(
            "Type the price paid for this list in dollars, such as 2,500 (or leave it blank)."
        ) from problem


def parse_tags(text: str) -> list[str]:
    """Tags typed as `a, b c` -> ["a", "b", "c"], lower case, at most 10."""
    tags = {clean_tag(word) for word in text.replace(",", " ").split()}
    return sorted(tag for tag in tags if tag)[:10]


def queue_import(
    session: Session,
    job: ImportJob,
    columns: list[str],
    tags: list[str],
    *,
    preset_name: str = "",
    started_by_id: int | None = None,
    list_price: str = "",
) -> tuple[mapping.MappingCheck, JobRun | None]:
    """Save the mapping (and a named preset) and the list's price, and record the job
    run that will import.

    Returns the mapping's check and the run, or no run when the mapping cannot be used
    or the price is not an amount. The import is claimed with a conditional UPDATE, so
    a double-clicked Start queues it once. The caller enqueues the run.
    """
    check = set_mapping(session, job, columns, tags)
    try:
        job.list_price = price_paid(list_price)
    except ImportProblem as problem:
        check = mapping.MappingCheck(errors=(*check.errors, str(problem)), warnings=check.warnings)
    if not check.ok:
        session.rollback()
        return check, None
    if preset_name.strip():
        mapping.save_preset(
            session, job.team_id, preset_name, job.shape["headers"], job.mapping, started_by_id
        )
    claimed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.status == "mapping")
        .values(status="queued")
    ).rowcount
    if not claimed:
        session.rollback()
        raise ImportProblem("This import has already started.")
    run = jobruns.create_run(
        session,
        team_id=job.team_id,
        kind="import_list",
        title=f"Import {job.filename}",
        params={"import_id": job.id},
        started_by_id=started_by_id,
    )
    job.job_run_id = run.id
    session.commit()
    return check, run


ChunkCallback = Callable[[ImportJob, ingest.ChunkResult], None]


def run_import(
    session: Session, import_id: int, on_chunk: ChunkCallback | None = None
) -> ImportJob:
    """Import the file to the end in chunks, resuming after the last committed row.

    Each chunk commits its leads together with the import's checkpoint and counts.
    Between chunks the import stops if someone asked to cancel it (JobCancelled). A file
    found unreadable part way (a line too long, a sheet too large) is an ImportProblem.
    """
    try:
        return _run_import(session, import_id, on_chunk)
    except tabular.FileProblem as problem:
        raise ImportProblem(str(problem)) from problem


def _run_import(session: Session, import_id: int, on_chunk: ChunkCallback | None) -> ImportJob:
    """`run_import`'s work."""
    job = session.get(ImportJob, import_id)
    if job is None:
        raise LookupError(f"Import {import_id} does not exist.")
    if job.status in ("done", "cancelled"):
        return job
    shape = shape_of(job)
    if not Path(job.stored_path).exists():
        raise ImportProblem(f"The uploaded file of import {job.id} is no longer on disk.")
    check = mapping.check_mapping(job.mapping)
    if not check.ok:
        raise ImportProblem(" ".join(check.errors))
    job.status = "running"
    job.started_at = job.started_at or utcnow()
    job.error = ""
    if job.total_rows is None:
        job.total_rows = tabular.count_rows(job.stored_path, shape)
    session.commit()
    ctx = ingest.ImportContext(
        team_id=job.team_id,
        import_id=job.id,
        filename=job.filename,
        headers=tuple(shape.headers),
        mapping=tuple(job.mapping),
        source="import",
        tags=tuple(job.tags or ()),
    )
    rows = tabular.iter_rows(job.stored_path, shape, start_after=job.last_row)
    parallel = (os.cpu_count() or 1) > 1 and (
        job.total_rows - job.rows_done >= ingest.PARALLEL_FROM_ROWS
    )
    for chunk, built in ingest.normalized_chunks(
        _chunks(rows, ingest.CHUNK_ROWS), ctx.headers, ctx.mapping, parallel
    ):
        _commit_chunk(session, job, ctx, chunk, built, on_chunk)
    refresh_planner_statistics(session)
    scoring.rescore_leads(session, job.team_id, imported_lead_ids(session, job))
    job.status = "done"
    job.finished_at = utcnow()
    session.commit()
    return job


def imported_lead_ids(session: Session, job: ImportJob) -> list[int]:
    """The leads an import created or joined."""
    return list(
        session.scalars(
            select(LeadSource.lead_id)
            .where(of_team(LeadSource, job.team_id), LeadSource.import_id == job.id)
            .distinct()
        )
    )


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    """Rows in lists of `size`."""
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _commit_chunk(session, job: ImportJob, ctx, chunk, built, on_chunk) -> None:
    result = ingest.process_chunk(session, ctx, chunk, built)
    job.last_row = chunk[-1][0]
    job.rows_done += len(chunk)
    job.counts = add_counts(job.counts or {}, len(chunk), result)
    session.commit()
    if on_chunk is not None:
        on_chunk(job, result)
    cancelled = session.scalar(select(ImportJob.cancel_requested).where(ImportJob.id == job.id))
    if cancelled:
        job.status = "cancelled"
        job.finished_at = utcnow()
        session.commit()
        raise JobCancelled(f"Cancelled after {job.rows_done:,} rows.")


def add_counts(counts: dict, rows: int, result: ingest.ChunkResult) -> dict:
    """The import's running totals with one more chunk added."""
    merged_by = Counter(counts.get("merged_by_rule", {})) + result.merged
    rejected_by = Counter(counts.get("rejected_by_reason", {})) + result.rejected
    return {
        **counts,
        "rows": counts.get("rows", 0) + rows,
        "created": counts.get("created", 0) + result.created,
        "merged": sum(merged_by.values()),
        "review": counts.get("review", 0) + result.review,
        "rejected": sum(rejected_by.values()),
        "notes": counts.get("notes", 0) + result.notes,
        "merged_by_rule": dict(merged_by),
        "rejected_by_reason": dict(rejected_by),
    }


# The tables an import grows, whose statistics the query planner should see afresh.
_GROWN_TABLES = ("leads", "businesses", "owners", "phones", "emails", "match_keys", "lead_sources")


def refresh_planner_statistics(session: Session) -> None:
    """ANALYZE the tables an import grew, so list filters keep using their indexes."""
    for table in _GROWN_TABLES:
        session.execute(text(f"ANALYZE {table}"))
    session.commit()


def mark_failed(session: Session, import_id: int, error: BaseException | str) -> None:
    """Record that an import stopped on an error; a retry resumes it."""
    session.rollback()
    job = session.get(ImportJob, import_id)
    if job is not None:
        job.status = "failed"
        job.error = str(error)[:2000]
        job.finished_at = utcnow()
        session.commit()


def cancel_import(session: Session, job: ImportJob) -> bool:
    """Stop an import: at once when no worker is on it, else after its current chunk.

    A failed import can be cancelled too, to give up on it. The rows committed before
    stay imported. False when the import had already ended.
    """
    if job.status not in ("queued", "running", "failed"):
        return False
    run = session.get(JobRun, job.job_run_id) if job.job_run_id else None
    job.cancel_requested = True
    if run is not None and run.status == "running":
        return True  # the worker stops after the chunk it is writing
    job.status = "cancelled"
    job.finished_at = utcnow()
    delete_file(job)
    if run is not None and run.status in ("queued", "failed"):
        jobruns.cancel_run(session, run, "Cancelled.")
    return True


def iter_rejects(session: Session, job: ImportJob) -> Iterator[list]:
    """The import's rejected rows: row number, reason, then the original cells."""
    last = 0
    while True:
        batch = session.scalars(
            select(ImportReject)
            .where(ImportReject.import_id == job.id, ImportReject.id > last)
            .order_by(ImportReject.id)
            .limit(1000)
        ).all()
        if not batch:
            return
        for reject in batch:
            yield [reject.row_number, reject.reason, *reject.cells]
        last = batch[-1].id


def reject_header(job: ImportJob) -> list[str]:
    """The rejects CSV header: where, why, and the file's own columns."""
    return ["row_number", "reason", *job.shape.get("headers", [])]


def team_imports(session: Session, team_id: int, status: str = "") -> list[ImportJob]:
    """A team's imports, newest first."""
    return list(session.scalars(_team_imports_query(team_id, status)))


def _team_imports_query(team_id: int, status: str) -> Select:
    """The query behind `team_imports`."""
    query = scoped(ImportJob, team_id).order_by(ImportJob.id.desc())
    if status in IMPORT_STATUSES:
        query = query.where(ImportJob.status == status)
    return query


def pending_reviews(session: Session, team_id: int, import_id: int | None = None) -> int:
    """How many uncertain pairs wait for a decision."""
    query = select(func.count()).where(
        of_team(MatchReview, team_id), MatchReview.status == "pending"
    )
    if import_id:
        query = query.where(MatchReview.import_id == import_id)
    return session.scalar(query) or 0


def delete_file(job: ImportJob) -> None:
    """Remove the stored upload (kept until the import is done, for resuming)."""
    Path(job.stored_path).unlink(missing_ok=True)


EXPORT_COLUMNS = (
    "id",
    "file",
    "status",
    "rows",
    "created",
    "merged",
    "review",
    "rejected",
    "started_by",
    "created_at",
    "finished_at",
    "seconds",
)


def export_rows(session: Session, team_id: int, status: str = "") -> Iterator[list]:
    """A team's imports (of one status) as CSV rows, with who started each loaded too.

    A generator: the query runs when the rows are read, in the session open while a
    download streams (see `console.web.csv_download`).
    """
    query = _team_imports_query(team_id, status).options(selectinload(ImportJob.created_by))
    for job in session.scalars(query):
        yield export_row(job)


def export_row(job: ImportJob) -> list:
    """An import as one CSV row."""
    counts = job.counts or {}
    return [
        job.id,
        job.filename,
        job.status,
        counts.get("rows", 0),
        counts.get("created", 0),
        counts.get("merged", 0),
        counts.get("review", 0),
        counts.get("rejected", 0),
        job.created_by.email if job.created_by else "",
        job.created_at.isoformat(timespec="seconds"),
        job.finished_at.isoformat(timespec="seconds") if job.finished_at else "",
        round(job.duration_seconds or 0, 1),
    ]


def copy_file(source: Path, upload_dir: Path, team_id: int) -> tuple[Path, int, str]:
    """Store a file from disk as an upload (the CLI and the demo use this)."""
    with source.open("rb") as handle:
        return store_upload(handle, upload_dir, team_id, source.name)


def import_file(
    session: Session,
    *,
    team_id: int,
    source: Path,
    upload_dir: Path,
    preset: str = "",
    tags: list[str] | None = None,
    created_by_id: int | None = None,
    on_chunk: ChunkCallback | None = None,
) -> ImportJob:
    """Import a file from disk to the end in this process (the CLI and the demo data).

    The mapping is the named preset's, else the one saved for this header, else the
    alias table's guess.
    """
    path, size, digest = copy_file(source, upload_dir, team_id)
    job = create_import(
        session,
        team_id=team_id,
        path=path,
        filename=source.name,
        size=size,
        sha256=digest,
        created_by_id=created_by_id,
    )
    if preset:
        found = mapping.find_preset(session, team_id, preset)
        if found is None:
            delete_file(job)
            session.rollback()
            raise ImportProblem(f"No saved mapping named {preset!r}.")
        job.mapping = mapping.apply_preset(found, shape_of(job).headers)
    check = set_mapping(session, job, job.mapping, tags or [])
    if not check.ok:
        delete_file(job)
        session.rollback()
        raise ImportProblem(" ".join(check.errors))
    session.execute(update(ImportJob).where(ImportJob.id == job.id).values(status="queued"))
    session.commit()
    try:
        job = run_import(session, job.id, on_chunk)
    except Exception as exc:
        mark_failed(session, job.id, exc)
        raise
    delete_file(job)
    return job


def summary(job: ImportJob) -> dict:
    """An import's outcome as plain data (the CLI prints it as JSON)."""
    counts = job.counts or {}
    return {
        "import_id": job.id,
        "file": job.filename,
        "status": job.status,
        "rows": counts.get("rows", 0),
        "created": counts.get("created", 0),
        "merged": counts.get("merged", 0),
        "merged_by_rule": counts.get("merged_by_rule", {}),
        "review": counts.get("review", 0),
        "rejected": counts.get("rejected", 0),
        "rejected_by_reason": counts.get("rejected_by_reason", {}),
        "seconds": round(job.duration_seconds or 0, 2),
    }
