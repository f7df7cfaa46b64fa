"""Vendor result files: upload, map columns like an import, match each row to a lead.

A row is matched by lead code when the file carries it (the way the console exports
leads for a vendor), else by business name and ZIP, else by street address and ZIP.
Rows that match nothing are kept with the reason and can be downloaded; the matched
rows become the answers of the team's file provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from console.models import Business, Lead, MatchKey, SkipTraceFile, SkipTraceFileRow
from console.providers.skiptrace.base import Candidate, phone_type_word
from console.providers.skiptrace.http import confidence_percent
from console.services.lists import mapping, tabular
from console.services.lists.addresses import address, zip_code
from console.services.lists.business_fields import normalized_business_name
from console.services.lists.normalize import clean_text
from console.services.tenancy import of_team, scoped

CHUNK = 500
FIELDS: dict[str, str] = {
    "lead_code": "Lead code (LEAD-…)",
    "business_name": "Business name",
    "street": "Business street",
    "city": "Business city",
    "state": "Business state",
    "zip": "Business ZIP",
    "owner_name": "Owner full name",
    "first_name": "Owner first name",
    "last_name": "Owner last name",
    "title": "Owner title",
    "phone": "Phone (any type)",
    "phone_type": "Type of the phone just left of it",
    "mobile": "Mobile phone",
    "landline": "Landline phone",
    "email": "Email",
    "mailing_street": "Owner mailing street",
    "mailing_city": "Owner mailing city",
    "mailing_state": "Owner mailing state",
    "mailing_zip": "Owner mailing ZIP",
    "confidence": "Confidence / match score",
}
# Vendors deliver Phone1..Phone5, Email1..Email3: these fields may come from many columns.
REPEATABLE = frozenset({"phone", "phone_type", "mobile", "landline", "email"})
CHOICES: dict[str, str] = {mapping.IGNORE: "Ignore", **FIELDS}
# From the import field a header would get, to the field it means in a result file.
_FROM_IMPORT = {
    "business_name": "business_name",
    "contact_name": "owner_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "title": "title",
    "street": "street",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "phone": "phone",
    "mobile": "mobile",
    "email": "email",
}
UNMATCHED_NO_KEYS = "no lead code, business name with ZIP, or street with ZIP to match on"
UNMATCHED_NOT_FOUND = "no lead of this team has this code, business and ZIP, or address"
UNMATCHED_CODE = "the lead code is not one of this team's leads"


class TraceFileProblem(ValueError):
    """A result file that cannot be used, said plainly."""


def guess_field(header: str) -> str:
    """The result-file field a vendor's header most likely names."""
    # "Phone1 Type" -> "phone 1 type": vendors number their repeated columns.
    words = re.sub(r"([a-z])(\d+)\b", r"\1 \2", mapping.header_words(header))
    split = set(words.split())
    if {"lead", "code"} <= split or words in ("lead id", "reference", "ref", "record id"):
        return "lead_code"
    if "confidence" in split or "score" in split:
        return "confidence"
    if "type" in split and split & {"phone", "number", "line"}:
        return "phone_type"
    if split & {"mobile", "cell", "wireless"}:
        return "mobile"
    if "landline" in split or {"land", "line"} <= split:
        return "landline"
    if split & {"mailing", "residential", "home"} or words.startswith("owner address"):
        for part in ("street", "city", "state", "zip"):
            if part in split or (part == "street" and "address" in split):
                return f"mailing_{part}"
    if "first" in split and not split & {"phone", "email"}:
        return "first_name"
    if "last" in split and not split & {"phone", "email"}:
        return "last_name"
    if "phone" in split or "tel" in split or "telephone" in split:
        return "phone"
    if "email" in split or "e mail" in words:
        return "email"
    return _FROM_IMPORT.get(mapping.guess_field(header), mapping.IGNORE)


def auto_map(headers: Sequence[str]) -> list[str]:
    """A field per column; single fields go to their first column only."""
    taken: set[str] = set()
    result = []
    for header in headers:
        field = guess_field(header)
        if field in taken and field not in REPEATABLE:
            field = mapping.IGNORE
        taken.add(field)
        result.append(field)
    return result


def clean_mapping(values: Sequence[str], width: int) -> list[str]:
    """Exactly `width` known choices; anything else is ignored."""
    cleaned = [value if value in CHOICES else mapping.IGNORE for value in list(values)[:width]]
    return cleaned + [mapping.IGNORE] * (width - len(cleaned))


def check_mapping(columns: Sequence[str]) -> mapping.MappingCheck:
    """Whether rows can be matched to leads and carry something to add."""
    fields = [f for f in columns if f in FIELDS]
    errors, warnings = [], []
    once = sorted({FIELDS[f] for f in fields if f not in REPEATABLE and fields.count(f) > 1})
    if once:
        errors.append("Each of these fields can come from one column only: " + ", ".join(once))
    if "lead_code" not in fields and not (
        "zip" in fields and ({"business_name", "street"} & set(fields))
    ):
        errors.append(
            "Map the lead code, or a ZIP with the business name or street: "
            "rows are matched to leads by one of them."
        )
    if not {"phone", "mobile", "landline", "email"} & set(fields):
        errors.append("Map at least one phone or email column: that is what the file adds.")
    if not {"owner_name", "first_name", "last_name"} & set(fields):
        warnings.append("No owner name column: results will not pass the full-name rule.")
    return mapping.MappingCheck(tuple(errors), tuple(warnings))


@dataclass
class RowFacts:
    """One row read through the mapping: how to find its lead, and its answer."""

    lead_code: str
    business_key: str
    street: str
    zip5: str
    answer: dict


def read_row(cells: Sequence[str], columns: Sequence[str]) -> RowFacts:
    """A file row as match keys and a provider answer."""
    values: dict[str, str] = {}
    phones: list[dict] = []
    emails: list[str] = []
    for cell, field in zip(cells, columns, strict=False):
        text = clean_text(cell)
        if field in ("phone", "mobile", "landline") and text:
            phones.append({"number": text, "type": "" if field == "phone" else field})
        elif field == "phone_type" and phones and not phones[-1]["type"]:
            phones[-1]["type"] = phone_type_word(text)
        elif field == "email" and text:
            emails.append(text)
        elif field in FIELDS and text and field not in values:
            values[field] = text
    name = values.get("owner_name") or " ".join(
        v for v in (values.get("first_name"), values.get("last_name")) if v
    )
    mailing = {
        part: values[f"mailing_{part}"]
        for part in ("street", "city", "state", "zip")
        if values.get(f"mailing_{part}")
    }
    zipped = zip_code(values.get("zip", ""))
    place = address(values.get("street", ""), zip=values.get("zip", ""))
    return RowFacts(
        lead_code=values.get("lead_code", "").upper(),
        business_key=normalized_business_name(values.get("business_name", "")),
        street=place.street.lower(),
        zip5=zipped.zip5 if zipped else "",
        answer={
            "owner_name": name,
            "title": values.get("title", ""),
            "phones": phones,
            "emails": emails,
            "addresses": [mailing] if mailing else [],
            "confidence": confidence_percent(values.get("confidence")),
        },
    )


def create_file(
    session: Session,
    *,
    team_id: int,
    provider_id: int,
    path: Path,
    filename: str,
    size: int,
    created_by_id: int | None,
) -> SkipTraceFile:
    """Sniff an uploaded result file and map its columns automatically."""
    try:
        shape = tabular.sniff(path, filename)
    except tabular.FileProblem as problem:
        path.unlink(missing_ok=True)
        raise TraceFileProblem(str(problem)) from problem
    trace_file = SkipTraceFile(
        team_id=team_id,
        provider_id=provider_id,
        filename=filename[:255],
        stored_path=str(path),
        size_bytes=size,
        shape=shape.to_dict(),
        mapping=auto_map(shape.headers),
        created_by_id=created_by_id,
    )
    session.add(trace_file)
    session.flush()
    return trace_file


def shape_of(trace_file: SkipTraceFile) -> tabular.FileShape:
    """The file's detected shape."""
    return tabular.FileShape.from_dict(trace_file.shape)


@dataclass
class PreviewRow:
    """A first row of the file, what it says, and the lead it would match."""

    row_number: int
    cells: list[str]
    facts: RowFacts
    lead: Lead | None
    matched_by: str
    reason: str


def preview(
    session: Session, trace_file: SkipTraceFile, columns: list[str], limit: int = 20
) -> list[PreviewRow]:
    """The first rows with their answers and matches, for the mapping page."""
    shape = shape_of(trace_file)
    numbered = []
    for row_number, cells in tabular.iter_rows(trace_file.stored_path, shape):
        numbered.append((row_number, [cell.strip() for cell in cells[: len(shape.headers)]]))
        if len(numbered) >= limit:
            break
    facts = [read_row(cells, columns) for _, cells in numbered]
    matches = match_rows(session, trace_file.team_id, facts)
    lead_ids = [lead_id for lead_id, _, _ in matches if lead_id]
    leads = {
        lead.id: lead
        for lead in session.scalars(scoped(Lead, trace_file.team_id).where(Lead.id.in_(lead_ids)))
    }
    return [
        PreviewRow(row_number, cells, fact, leads.get(lead_id), by, reason)
        for (row_number, cells), fact, (lead_id, by, reason) in zip(
            numbered, facts, matches, strict=True
        )
    ]


def match_rows(
    session: Session, team_id: int, rows: Sequence[RowFacts]
) -> list[tuple[int | None, str, str]]:
    """(lead id, matched by, reason when none) for each row, in a few queries a chunk."""
    codes = {r.lead_code for r in rows if r.lead_code}
    by_code = dict(
        session.execute(
            select(Lead.code, Lead.id).where(of_team(Lead, team_id), Lead.code.in_(codes))
        ).all()
    )
    name_keys = {f"bz:{r.business_key}|{r.zip5}"[:255] for r in rows if r.business_key and r.zip5}
    by_name = dict(
        session.execute(
            select(MatchKey.key, func.min(MatchKey.lead_id))
            .where(of_team(MatchKey, team_id), MatchKey.key.in_(name_keys))
            .group_by(MatchKey.key)
        ).all()
    )
    by_street = _leads_by_street(session, team_id, rows)
    matches = []
    for row in rows:
        if row.lead_code:
            lead_id = by_code.get(row.lead_code)
            matches.append((lead_id, "lead code", "") if lead_id else (None, "", UNMATCHED_CODE))
            continue
        lead_id = by_name.get(f"bz:{row.business_key}|{row.zip5}"[:255])
        if lead_id:
            matches.append((lead_id, "business and ZIP", ""))
            continue
        lead_id = by_street.get((row.street, row.zip5))
        if lead_id:
            matches.append((lead_id, "address", ""))
        elif not row.zip5 or not (row.business_key or row.street):
            matches.append((None, "", UNMATCHED_NO_KEYS))
        else:
            matches.append((None, "", UNMATCHED_NOT_FOUND))
    return matches


def _leads_by_street(session: Session, team_id: int, rows: Sequence[RowFacts]) -> dict:
    wanted = {(r.street, r.zip5) for r in rows if r.street and r.zip5}
    if not wanted:
        return {}
    found = session.execute(
        select(func.lower(Business.street), Business.zip, func.min(Lead.id))
        .join(Lead, Lead.business_id == Business.id)
        .where(
            of_team(Business, team_id),
            func.lower(Business.street).in_({street for street, _ in wanted}),
        )
        .group_by(func.lower(Business.street), Business.zip)
    ).all()
    return {(street, (zip_ or "")[:5]): lead_id for street, zip_, lead_id in found}


def load_file(
    session: Session,
    file_id: int,
    on_progress: Callable[[int, int | None, dict], None] | None = None,
) -> SkipTraceFile:
    """Read every row, match it, and store it; run again, it starts over cleanly."""
    trace_file = session.get(SkipTraceFile, file_id)
    shape = shape_of(trace_file)
    trace_file.status, trace_file.error = "loading", ""
    session.execute(delete(SkipTraceFileRow).where(SkipTraceFileRow.file_id == file_id))
    total = tabular.count_rows(trace_file.stored_path, shape)
    counts = {"rows": 0, "matched": 0, "unmatched": 0}
    session.commit()
    for chunk in _chunks(tabular.iter_rows(trace_file.stored_path, shape), CHUNK):
        facts = [read_row(cells, trace_file.mapping) for _, cells in chunk]
        matches = match_rows(session, trace_file.team_id, facts)
        for (row_number, cells), fact, (lead_id, by, reason) in zip(
            chunk, facts, matches, strict=True
        ):
            session.add(
                SkipTraceFileRow(
                    team_id=trace_file.team_id,
                    file_id=file_id,
                    row_number=row_number,
                    lead_id=lead_id,
                    matched_by=by,
                    unmatched_reason=reason,
                    answer=fact.answer,
                    cells=list(cells),
                )
            )
            counts["rows"] += 1
            counts["matched" if lead_id else "unmatched"] += 1
            if by:
                counts[f"by {by}"] = counts.get(f"by {by}", 0) + 1
        trace_file.counts = dict(counts)
        session.commit()
        if on_progress:
            on_progress(counts["rows"], total, {k: counts[k] for k in ("matched", "unmatched")})
    trace_file.status, trace_file.counts = "loaded", counts
    session.commit()
    return trace_file


def _chunks(records: Iterator, size: int) -> Iterator[list]:
    chunk: list = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def mark_failed(session: Session, file_id: int, error: BaseException | str) -> None:
    """Record a load that failed, so it can be retried."""
    session.rollback()
    trace_file = session.get(SkipTraceFile, file_id)
    if trace_file is not None:
        trace_file.status, trace_file.error = "failed", str(error)[:2000]
        session.commit()


def matched_lead_ids(session: Session, trace_file: SkipTraceFile) -> list[int]:
    """The leads the file's rows matched, for a pass over exactly them."""
    return list(
        session.scalars(
            select(SkipTraceFileRow.lead_id)
            .where(SkipTraceFileRow.file_id == trace_file.id, SkipTraceFileRow.lead_id.is_not(None))
            .distinct()
        )
    )


def unmatched_header(trace_file: SkipTraceFile) -> list[str]:
    """Header of the unmatched-rows download."""
    return ["row_number", "reason", *shape_of(trace_file).headers]


def iter_unmatched(session: Session, trace_file: SkipTraceFile) -> Iterator[list]:
    """The rows that matched no lead: row number, reason, original cells."""
    rows = session.scalars(
        select(SkipTraceFileRow)
        .where(SkipTraceFileRow.file_id == trace_file.id, SkipTraceFileRow.lead_id.is_(None))
        .order_by(SkipTraceFileRow.row_number)
        .execution_options(yield_per=1000)
    )
    for row in rows:
        yield [row.row_number, row.unmatched_reason, *row.cells]


def team_files(session: Session, team_id: int, limit: int = 100) -> list[SkipTraceFile]:
    """A team's result files, newest first."""
    return list(
        session.scalars(
            scoped(SkipTraceFile, team_id).order_by(SkipTraceFile.id.desc()).limit(limit)
        )
    )


def provider_answers(
    session: Session, provider, lead_ids: list[int] | None = None
) -> dict[int, list[tuple[int, Candidate]]]:
    """The loaded rows of a file provider matched to leads (to `lead_ids` when given), by
    lead, newest file first: the answers its lookups give."""
    query = (
        select(SkipTraceFileRow.lead_id, SkipTraceFileRow.id, SkipTraceFileRow.answer)
        .join(SkipTraceFile, SkipTraceFile.id == SkipTraceFileRow.file_id)
        .where(
            of_team(SkipTraceFileRow, provider.team_id),
            SkipTraceFile.provider_id == provider.id,
            SkipTraceFile.status == "loaded",
            SkipTraceFileRow.lead_id.is_not(None),
        )
        .order_by(SkipTraceFileRow.file_id.desc(), SkipTraceFileRow.row_number)
    )
    if lead_ids is not None:
        query = query.where(SkipTraceFileRow.lead_id.in_(lead_ids))
    answers: dict[int, list[tuple[int, Candidate]]] = {}
    for lead_id, row_id, answer in session.execute(query):
        answers.setdefault(lead_id, []).append((row_id, Candidate.from_dict(answer)))
    return answers
