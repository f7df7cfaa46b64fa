"""Turning mapped list rows into leads: normalize, validate, resolve, write, a chunk at a time.

Each chunk is one transaction that also moves the import's checkpoint, so a crashed
import re-run resumes after the last chunk it committed; and every row leaves a
`same_row` key, so even a run from the start creates nothing twice.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from console.models import (
    Business,
    Email,
    ImportReject,
    Lead,
    LeadSource,
    MatchKey,
    MatchReview,
    MergeHistory,
    Owner,
    Phone,
)
from console.models.base import utcnow
from console.services import bulk
from console.services.lists import resolve
from console.services.lists.addresses import address, state_code
from console.services.lists.business_fields import (
    business_display_name,
    employee_range,
    industry_label,
    naics_code,
    name_tokens,
    normalize_website,
    normalized_business_name,
    revenue_range,
    sic_code,
)
from console.services.lists.emails import normalize_email
from console.services.lists.leads import allocate_codes
from console.services.lists.mapping import CUSTOM, FIELDS
from console.services.lists.names import person_name
from console.services.lists.normalize import clean_text, name_case, spreadsheet_error
from console.services.lists.phone_numbers import parse_phone
from console.services.tenancy import of_team

CHUNK_ROWS = 1000
# Files with at least this many rows left are normalized by a second process.
PARALLEL_FROM_ROWS = 20_000
PREFETCH_CHUNKS = 2

# Why a row was rejected: a short code for counting, and the words shown to the operator.
REJECT_REASONS: dict[str, str] = {
    "empty": "Every mapped column is empty",
    "shifted": "More cells than the header has columns (shifted columns?)",
    "no_name": "No business name and no owner name",
    "no_phone": "No business name, and the owner has no phone",
    "invalid_phone": "No business name, and the owner's phone is not a valid number",
    "unreadable": "A value in the row could not be read",
    "broken_quote": "A quote opened in the row runs on past its cell",
    "too_long": "A value is far longer than a list cell",
    "error_name": "The only name is a spreadsheet error, not a name",
}
NAME_FIELDS = ("business_name", "contact_name", "first_name", "last_name")
# Custom field values longer than this are cut: a list cell, not a document.
MAX_CUSTOM_VALUE = 2000
# A mapped field longer than this rejects its row: no name, phone or address is, and the
# normalizers' work grows faster than the text on some inputs.
MAX_FIELD_VALUE = 1000
# A rejected row keeps this many cells past the header's width, at most.
MAX_EXTRA_CELLS = 20
# Largest whole numbers the employee (INTEGER) and revenue (BIGINT) columns hold.
MAX_EMPLOYEES = 2**31 - 1
MAX_REVENUE = 2**63 - 1
BUSINESS_COLUMNS = ("name", "normalized_name", *resolve.BUSINESS_FIELDS)
OWNER_COLUMNS = resolve.OWNER_FIELDS


@dataclass(frozen=True)
class PhoneValue:
    """A valid phone found in a row, and whether it belongs to the owner or the business."""

    e164: str
    extension: str
    kind: str  # mobile, office
    of_owner: bool


@dataclass
class Record:
    """One list row, normalized and ready to resolve."""

    row_number: int
    business: dict | None
    owner: dict | None
    phones: list[PhoneValue]
    emails: list[str]
    custom: dict[str, str]
    identity: resolve.Identity
    notes: list[str] = field(default_factory=list)
    # The fuzzy blocks this record's name was stored in (set while resolving).
    fuzzy_accepted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rejected:
    """A row that cannot become a lead, with the reason's code and words."""

    row_number: int
    cells: list[str]
    code: str
    reason: str


def _values(cells: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, target in enumerate(mapping):
        if target in FIELDS and index < len(cells):
            values[target] = clean_text(cells[index])
    return values


def build_record(
    row_number: int, cells: Sequence[str], headers: Sequence[str], mapping: Sequence[str]
) -> Record | Rejected:
    """Normalize one row under `mapping`, or say why it cannot be used."""
    problem = getattr(cells, "problem", "")  # a tabular.BrokenRow
    cells = list(cells)

    def reject(code: str, detail: str = "") -> Rejected:
        reason = REJECT_REASONS[code] + (f": {detail}" if detail else "")
        return Rejected(row_number, cells[: len(headers) + MAX_EXTRA_CELLS], code, reason)

    if problem:
        return reject("broken_quote", problem)
    if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
        return reject("shifted", f"{len(cells)} cells, {len(headers)} columns")
    values = _values(cells, mapping)
    errors = _spreadsheet_errors(cells, mapping)
    notes = [
        f"{FIELDS[t]} {error} is a spreadsheet error: left blank" for t, error in errors.items()
    ]
    for target in errors:
        values[target] = ""
    state = values.get("state", "")
    if state and not state_code(state):
        notes.append(f"State {state!r} is not a US state: left blank")
        values["state"] = ""
    named_by_error = [f"{FIELDS[t]} is {errors[t]}" for t in NAME_FIELDS if t in errors]
    if not any(values.values()):
        return (
            reject("error_name", "; ".join(named_by_error)) if named_by_error else reject("empty")
        )
    for target, value in values.items():
        if len(value) > MAX_FIELD_VALUE:
            detail = f"{FIELDS[target]} has {len(value):,} characters (at most {MAX_FIELD_VALUE:,})"
            return reject("too_long", detail)

    business_name = business_display_name(values.get("business_name", ""))
    owner = _owner(values)
    phones: list[PhoneValue] = []
    invalid_phone = ""
    for target, kind in (("mobile", "mobile"), ("phone", "office")):
        raw = values.get(target, "")
        parsed = parse_phone(raw) if raw else None
        if parsed is None:
            continue
        if not parsed.valid:
            invalid_phone = invalid_phone or raw
            notes.append(f"{FIELDS[target]} {raw!r}: {parsed.reason}")
        elif parsed.e164 not in {p.e164 for p in phones}:
            phones.append(
                PhoneValue(parsed.e164, parsed.extension, kind, kind == "mobile" and bool(owner))
            )
    if not business_name:
        if owner is None:
            if named_by_error:
                return reject("error_name", "; ".join(named_by_error))
            return reject("no_name")
        if not phones:
            return reject("invalid_phone", invalid_phone) if invalid_phone else reject("no_phone")

    emails = []
    raw_email = values.get("email", "")
    if raw_email:
        email = normalize_email(raw_email)
        if email:
            emails.append(email)
        else:
            notes.append(f"Email {raw_email!r} is not a valid address")

    business = _business(values, business_name) if business_name else None
    custom = {
        headers[i]: clean_text(cells[i])[:MAX_CUSTOM_VALUE]
        for i, target in enumerate(mapping)
        if target == CUSTOM
        and i < len(cells)
        and i < len(headers)
        and cells[i].strip()
        and not spreadsheet_error(cells[i])
    }
    identity = _identity(cells, business, owner, phones, emails)
    return Record(row_number, business, owner, phones, emails, custom, identity, notes)


def _spreadsheet_errors(cells: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    """The mapped cells that hold a spreadsheet's error (`#REF!`), by field."""
    return {
        target: error
        for index, target in enumerate(mapping)
        if target in FIELDS and index < len(cells) and (error := spreadsheet_error(cells[index]))
    }


def _owner(values: dict[str, str]) -> dict | None:
    raw = values.get("contact_name") or " ".join(
        v for v in (values.get("first_name", ""), values.get("last_name", "")) if v
    )
    if not raw:
        return None
    name = person_name(raw)
    if not (name.first or name.last):
        return None
    if not values.get("contact_name") and not values.get("first_name"):
        # Only a last-name column: that is no first name to greet the owner by.
        last = " ".join(p for p in (name.first, name.middle, name.last) if p)
        name = replace(name, first="", middle="", last=last)
    return {
        "first_name": name.first[:80],
        "last_name": name.last[:80],
        "full_name": name.full[:200],
        "title": name_case(values.get("title", ""))[:120],
        "_key": name.match_key,
    }


def _business(values: dict[str, str], name: str) -> dict:
    street = " ".join(v for v in (values.get("street", ""), values.get("address2", "")) if v)
    place = address(street, values.get("city", ""), values.get("state", ""), values.get("zip", ""))
    sic = sic_code(values.get("sic_code", ""))
    naics = naics_code(values.get("naics_code", ""))
    description = values.get("sic_description") or values.get("naics_description") or ""
    employees = _bounded(employee_range(values.get("employees", "")), MAX_EMPLOYEES)
    revenue = _bounded(revenue_range(values.get("revenue", "")), MAX_REVENUE)
    return {
        "name": name[:255],
        "normalized_name": normalized_business_name(name)[:255],
        "street": place.street[:255],
        "unit": place.unit[:40],
        "city": place.city[:120],
        "state": place.state[:2],
        "zip": place.zip[:10],
        "county": name_case(values.get("county", ""))[:120],
        "website": normalize_website(values.get("website", ""))[:255],
        "sic_code": sic[:8],
        "naics_code": naics[:8],
        "industry": industry_label(sic, naics, description)[:255],
        "employees_low": employees[0],
        "employees_high": employees[1],
        "revenue_low": revenue[0],
        "revenue_high": revenue[1],
        "_street_key": place.street_key,
    }


def _bounded(pair: tuple[int | None, int | None], limit: int) -> tuple[int | None, int | None]:
    """A low/high range with values past what the column holds dropped."""
    return tuple(v if v is None or 0 <= v <= limit else None for v in pair)  # type: ignore[return-value]


def _identity(
    cells: Sequence[str],
    business: dict | None,
    owner: dict | None,
    phones: list[PhoneValue],
    emails: list[str],
) -> resolve.Identity:
    fingerprint = hashlib.sha1(
        "\x1f".join(c.strip().lower() for c in cells).encode(), usedforsecurity=False
    ).hexdigest()[:24]
    zip5 = (business or {}).get("zip", "")[:5]
    city = (business or {}).get("city", "").lower()
    state = (business or {}).get("state", "")
    business_key = (business or {}).get("normalized_name", "")
    return resolve.Identity(
        fingerprint=fingerprint,
        phones=tuple(p.e164 for p in phones),
        emails=tuple(emails),
        owner_key=(owner or {}).get("_key", ""),
        business_key=business_key,
        street_key=(business or {}).get("_street_key", ""),
        zip5=zip5,
        city_key=f"{state}|{city}" if city else "",
        name_tokens=tuple(name_tokens(business_key)) if business_key else (),
    )


# --- resolving and writing a chunk ----------------------------------------------------


@dataclass
class NewLead:
    """A lead this chunk will create, with every row that resolved to it."""

    record: Record
    joined: list[tuple[Record, resolve.Match]] = field(default_factory=list)
    review: resolve.Match | None = None
    lead_id: int | None = None

    def absorb(self, record: Record, match: resolve.Match) -> None:
        """Fold a duplicate row of this chunk into the lead before it is written."""
        base = self.record
        if base.business is None:
            base.business = record.business
        elif record.business is not None:
            for name in BUSINESS_COLUMNS:
                if base.business.get(name) in (None, "") and record.business.get(name):
                    base.business[name] = record.business[name]
        if base.owner is None:
            base.owner = record.owner
        elif record.owner is not None:
            for name in OWNER_COLUMNS:
                if not base.owner.get(name) and record.owner.get(name):
                    base.owner[name] = record.owner[name]
        have = {p.e164 for p in base.phones}
        base.phones += [p for p in record.phones if p.e164 not in have]
        base.emails += [e for e in record.emails if e not in base.emails]
        base.custom = {**record.custom, **base.custom}
        self.joined.append((record, match))


@dataclass
class ChunkResult:
    """What a chunk did, for the import's counts."""

    created: int = 0
    merged: Counter = field(default_factory=Counter)
    review: int = 0
    rejected: Counter = field(default_factory=Counter)
    notes: int = 0


@dataclass(frozen=True)
class ImportContext:
    """What every chunk of one import needs to know."""

    team_id: int
    import_id: int | None
    filename: str
    headers: tuple[str, ...]
    mapping: tuple[str, ...]
    source: str = "import"
    tags: tuple[str, ...] = ()


Row = tuple[int, Sequence[str]]
Built = Record | Rejected


def build_chunk(rows: Sequence[Row], headers: Sequence[str], mapping: Sequence[str]) -> list[Built]:
    """Normalize a chunk of rows (pure: it may run in another process)."""
    return [_build_or_reject(number, cells, headers, mapping) for number, cells in rows]


def _build_or_reject(
    row_number: int, cells: Sequence[str], headers: Sequence[str], mapping: Sequence[str]
) -> Built:
    """One row normalized; a row the normalizers choke on is rejected, not the import."""
    try:
        return build_record(row_number, cells, headers, mapping)
    except Exception as exc:  # noqa: BLE001 - one strange row must not stop a list
        return Rejected(
            row_number, list(cells), "unreadable", f"{REJECT_REASONS['unreadable']}: {exc}"[:200]
        )


def normalized_chunks(
    chunks: Iterable[list[Row]], headers: Sequence[str], mapping: Sequence[str], parallel: bool
) -> Iterator[tuple[list[Row], list[Built]]]:
    """Each chunk with its rows normalized, by a second process when `parallel`.

    The helper process normalizes the next chunks while this one resolves and writes
    the current one; at most PREFETCH_CHUNKS wait, so memory stays bounded.
    """
    if not parallel:
        for rows in chunks:
            yield rows, build_chunk(rows, headers, mapping)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process holding connections
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: deque = deque()
        for rows in chunks:
            pending.append((rows, pool.submit(build_chunk, rows, tuple(headers), tuple(mapping))))
            if len(pending) > PREFETCH_CHUNKS:
                done_rows, future = pending.popleft()
                yield done_rows, future.result()
        while pending:
            done_rows, future = pending.popleft()
            yield done_rows, future.result()


def process_chunk(
    session: Session,
    ctx: ImportContext,
    rows: Sequence[Row],
    built: list[Built] | None = None,
) -> ChunkResult:
    """Resolve and write one chunk of rows, normalizing them unless `built` (caller commits)."""
    result = ChunkResult()
    records: list[Record] = []
    rejects: list[Rejected] = []
    resolve.lock_team(session, ctx.team_id)
    if built is None:
        built = build_chunk(rows, ctx.headers, ctx.mapping)
    for outcome in built:
        if isinstance(outcome, Rejected):
            rejects.append(outcome)
            result.rejected[outcome.code] += 1
        else:
            records.append(outcome)
            result.notes += len(outcome.notes)

    exact, fuzzy, stored = resolve.lookup_keys(
        session,
        ctx.team_id,
        (k for r in records for _, k in resolve.exact_keys(r.identity)),
        (k for r in records for k in resolve.fuzzy_keys(r.identity)),
    )

    new_leads: list[NewLead] = []
    joins: list[tuple[int, Record, resolve.Match]] = []
    for record in records:
        match = resolve.best_match(record.identity, exact, fuzzy)
        if match is not None and match.action == "merge":
            target = match.target
            if isinstance(target, NewLead):
                target.absorb(record, match)
            else:
                joins.append((target, record, match))
            result.merged[match.rule] += 1
        else:
            target = NewLead(record, review=match)
            new_leads.append(target)
            result.created += 1
            result.review += match is not None
        _remember(record, target, exact, fuzzy)

    if new_leads:
        _write_new_leads(session, ctx, new_leads)
    if joins:
        _join_existing(session, ctx, joins, stored)
    if rejects and ctx.import_id is not None:
        bulk.insert_rows(
            session,
            ImportReject.__table__,
            [
                {
                    "team_id": ctx.team_id,
                    "import_id": ctx.import_id,
                    "row_number": r.row_number,
                    "cells": r.cells,
                    "reason": r.reason[:200],
                }
                for r in rejects
            ],
        )
    return result


def _remember(record: Record, target, exact: dict, fuzzy: dict) -> None:
    """Let later rows of the chunk find `target` by this record's keys."""
    for _, key in resolve.exact_keys(record.identity):
        exact.setdefault(key, (target, record.identity.business_key))
    record.fuzzy_accepted = resolve.accept_fuzzy(record.identity, target, fuzzy)


def _public(values: dict | None, columns: Sequence[str]) -> dict:
    return {name: values.get(name) for name in columns} if values else {}


def _write_new_leads(session: Session, ctx: ImportContext, new_leads: list[NewLead]) -> None:
    """Insert the chunk's new businesses, owners, leads, contacts, keys and sources."""
    team_id = ctx.team_id
    with_business = [n for n in new_leads if n.record.business is not None]
    business_ids = _insert_returning(
        session,
        Business,
        [
            {"team_id": team_id, **_public(n.record.business, BUSINESS_COLUMNS)}
            for n in with_business
        ],
    )
    business_of = {id(n): bid for n, bid in zip(with_business, business_ids, strict=True)}
    with_owner = [n for n in new_leads if n.record.owner is not None]
    owner_ids = _insert_returning(
        session,
        Owner,
        [{"team_id": team_id, **_public(n.record.owner, OWNER_COLUMNS)} for n in with_owner],
    )
    owner_of = {id(n): oid for n, oid in zip(with_owner, owner_ids, strict=True)}
    codes = allocate_codes(session, team_id, len(new_leads))
    provenance = {"source": ctx.source, "file": ctx.filename, "import_id": ctx.import_id}
    lead_ids = _insert_returning(
        session,
        Lead,
        [
            {
                "team_id": team_id,
                "code": code,
                "business_id": business_of.get(id(n)),
                "owner_id": owner_of.get(id(n)),
                "status": "new",
                "tags": list(ctx.tags),
                "custom_fields": n.record.custom,
                "provenance": provenance,
            }
            for n, code in zip(new_leads, codes, strict=True)
        ],
    )
    phones, emails, keys, sources, history, reviews = [], [], [], [], [], []
    for new, lead_id in zip(new_leads, lead_ids, strict=True):
        new.lead_id = lead_id
        record = new.record
        owner_id, business_id = owner_of.get(id(new)), business_of.get(id(new))
        phones += [
            _phone_row(
                team_id,
                p,
                owner_id if p.of_owner else None,
                None if p.of_owner and owner_id else business_id,
                ctx.source,
            )
            for p in record.phones
        ]
        emails += [
            {
                "team_id": team_id,
                "owner_id": owner_id,
                "business_id": None if owner_id else business_id,
                "address": e,
                "source": ctx.source,
            }
            for e in record.emails
        ]
        seen: set[str] = set()
        for rec in [record, *(joined for joined, _ in new.joined)]:
            for key, value in resolve.stored_keys(rec.identity, rec.fuzzy_accepted):
                if key not in seen:
                    seen.add(key)
                    keys.append(
                        {"team_id": team_id, "lead_id": lead_id, "key": key, "value": value}
                    )
        sources.append(
            _source_row(
                ctx,
                lead_id,
                record.row_number,
                "review" if new.review else "created",
                new.review.rule if new.review else "",
            )
        )
        for joined, match in new.joined:
            sources.append(_source_row(ctx, lead_id, joined.row_number, "merged", match.rule))
            history.append(_history_row(ctx, lead_id, joined.row_number, match))
    for new in new_leads:
        if new.review is not None:
            other = new.review.target
            other_id = other.lead_id if isinstance(other, NewLead) else other
            reviews.append(
                {
                    "team_id": team_id,
                    "lead_id": new.lead_id,
                    "other_lead_id": other_id,
                    "import_id": ctx.import_id,
                    "rule": new.review.rule,
                    "score": new.review.score,
                    "status": "pending",
                }
            )
    for model, rows in (
        (Phone, phones),
        (Email, emails),
        (MatchKey, keys),
        (LeadSource, sources),
        (MergeHistory, history),
        (MatchReview, reviews),
    ):
        if rows:
            bulk.insert_rows(session, model.__table__, rows)
    if reviews:
        _fill_review_codes(session, team_id, [r["lead_id"] for r in reviews])


def _fill_review_codes(session: Session, team_id: int, lead_ids: list[int]) -> None:
    """Copy both leads' codes onto new reviews, so a decision reads well after a merge."""
    reviews = session.scalars(
        select(MatchReview).where(of_team(MatchReview, team_id), MatchReview.lead_id.in_(lead_ids))
    ).all()
    ids = {r.lead_id for r in reviews} | {r.other_lead_id for r in reviews}
    codes = dict(session.execute(select(Lead.id, Lead.code).where(Lead.id.in_(ids))).all())
    for review in reviews:
        review.lead_code = codes.get(review.lead_id, "")
        review.other_code = codes.get(review.other_lead_id, "")


def _insert_returning(session: Session, model, rows: list[dict]) -> list[int]:
    return bulk.insert_returning_ids(session, model.__table__, rows)


def _phone_row(team_id, phone: PhoneValue, owner_id, business_id, source: str) -> dict:
    return {
        "team_id": team_id,
        "owner_id": owner_id,
        "business_id": business_id,
        "e164": phone.e164,
        "extension": phone.extension[:10],
        "kind": phone.kind,
        "source": source[:60],
    }


def _source_row(ctx: ImportContext, lead_id: int, row_number: int, action: str, rule: str) -> dict:
    return {
        "team_id": ctx.team_id,
        "lead_id": lead_id,
        "import_id": ctx.import_id,
        "filename": ctx.filename[:255],
        "row_number": row_number,
        "action": action,
        "rule": rule,
    }


def _history_row(
    ctx: ImportContext,
    lead_id: int,
    row_number: int,
    match: resolve.Match,
    details: dict | None = None,
) -> dict:
    return {
        "team_id": ctx.team_id,
        "survivor_id": lead_id,
        "merged_id": None,
        "import_id": ctx.import_id,
        "row_number": row_number,
        "rule": match.rule,
        "score": match.score,
        "details": details or {},
    }


def _join_existing(
    session: Session,
    ctx: ImportContext,
    joins: list[tuple[int, Record, resolve.Match]],
    stored: set[tuple[str, int]],
) -> None:
    """Fold rows into leads that already exist: contacts they lack, blanks, keys, sources."""
    lead_ids = {lead_id for lead_id, _, _ in joins}
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead)
            .where(of_team(Lead, ctx.team_id), Lead.id.in_(lead_ids))
            .options(
                selectinload(Lead.business).selectinload(Business.phones),
                selectinload(Lead.business).selectinload(Business.emails),
                selectinload(Lead.owner).selectinload(Owner.phones),
                selectinload(Lead.owner).selectinload(Owner.emails),
            )
        )
    }
    keys, sources, history = [], [], []
    for lead_id, record, match in joins:
        lead = leads[lead_id]
        details = _fold_into(session, lead, record, ctx)
        if ctx.tags:
            lead.tags = sorted(set(lead.tags or []) | set(ctx.tags))
        for key, value in resolve.stored_keys(record.identity, record.fuzzy_accepted):
            if (key, lead_id) not in stored:
                stored.add((key, lead_id))
                keys.append(
                    {"team_id": ctx.team_id, "lead_id": lead_id, "key": key, "value": value}
                )
        sources.append(_source_row(ctx, lead_id, record.row_number, "merged", match.rule))
        history.append(_history_row(ctx, lead_id, record.row_number, match, details))
    session.flush()
    for model, rows in ((MatchKey, keys), (LeadSource, sources), (MergeHistory, history)):
        if rows:
            bulk.insert_rows(session, model.__table__, rows)


def _fold_into(session: Session, lead: Lead, record: Record, ctx: ImportContext) -> dict:
    """Copy what `lead` lacks from `record`; what was added, for merge_history."""
    details: dict[str, list] = {"phones_added": [], "emails_added": [], "fields_filled": []}
    if record.business is not None:
        if lead.business is None:
            lead.business = Business(
                team_id=lead.team_id, **_public(record.business, BUSINESS_COLUMNS)
            )
            details["fields_filled"].append("business")
        else:
            details["fields_filled"] += resolve.fill_blanks(
                lead.business, record.business, BUSINESS_COLUMNS
            )
    if record.owner is not None:
        if lead.owner is None:
            lead.owner = Owner(team_id=lead.team_id, **_public(record.owner, OWNER_COLUMNS))
            details["fields_filled"].append("owner")
        else:
            details["fields_filled"] += resolve.fill_blanks(lead.owner, record.owner, OWNER_COLUMNS)
    have = {p.e164 for p in lead.phones}
    for phone in record.phones:
        if phone.e164 in have:
            continue
        have.add(phone.e164)
        details["phones_added"].append(phone.e164)
        new = Phone(
            team_id=lead.team_id,
            e164=phone.e164,
            extension=phone.extension[:10],
            kind=phone.kind,
            source=ctx.source[:60],
        )
        if phone.of_owner and lead.owner is not None:
            lead.owner.phones.append(new)
        elif lead.business is not None:
            lead.business.phones.append(new)
        elif lead.owner is not None:
            lead.owner.phones.append(new)
    holder = lead.owner or lead.business
    if holder is not None:
        have_emails = {e.address for e in holder.emails}
        for address in record.emails:
            if address not in have_emails:
                have_emails.add(address)
                details["emails_added"].append(address)
                holder.emails.append(
                    Email(team_id=lead.team_id, address=address, source=ctx.source[:60])
                )
    if record.custom:
        missing = {k: v for k, v in record.custom.items() if k not in (lead.custom_fields or {})}
        if missing:
            lead.custom_fields = {**(lead.custom_fields or {}), **missing}
    lead.updated_at = utcnow()
    return details
