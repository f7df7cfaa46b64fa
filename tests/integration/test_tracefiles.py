"""Vendor result files: columns mapped, rows matched to leads by code, business and ZIP,
or street and ZIP, unmatched rows kept with their reason, and a pass through the file
provider; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from console.extensions import db
from console.models import Lead, MatchKey, SkipTraceFile, SkipTraceFileRow, SkipTraceRun, Team
from console.providers.lookup import OfflineLookup
from console.services.lists.business_fields import normalized_business_name
from console.services.tracing import provider_settings, result_files, waterfall
from tests.conftest import make_lead

HEADERS = [
    "Lead Code", "Business Name", "Address", "Zip", "Owner First", "Owner Last",
    "Phone1", "Phone1 Type", "Phone2", "Phone2 Type", "Email1", "Score",
]  # fmt: skip
# What each of HEADERS means: the mapping an operator would confirm.
COLUMNS = [
    "lead_code", "business_name", "street", "zip", "first_name", "last_name",
    "phone", "phone_type", "phone", "phone_type", "email", "confidence",
]  # fmt: skip
UNKNOWN_CODE = "LEAD-2099-999999"


def placed(lead: Lead, street: str = "", zip5: str = "") -> Lead:
    """Give the lead's business an address, and the business-and-ZIP key an import gives."""
    business = lead.business
    business.street, business.zip = street, zip5
    business.normalized_name = normalized_business_name(business.name)
    if zip5:
        db.session.add(
            MatchKey(
                team_id=lead.team_id,
                lead_id=lead.id,
                key=f"bz:{business.normalized_name}|{zip5}",
                value=business.normalized_name,
            )
        )
    db.session.commit()
    return lead


def file_provider(team: Team, per_search: str = "0.03", per_hit: str = "0.07"):
    """The team's committed result-file provider."""
    provider = provider_settings.add_provider(db.session, team.id, "file", "Vendor File")
    provider_settings.update_provider(
        provider,
        {
            "cost_per_search": per_search,
            "cost_per_hit": per_hit,
            "rate_per_second": "50",
            "max_concurrency": "4",
            "enabled": "y",
        },
        current_app.config["SECRETS_KEY"],
    )
    db.session.commit()
    return provider


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """A vendor's CSV with HEADERS and `rows`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def uploaded(team: Team, provider, path: Path, columns: list[str] | None = COLUMNS):
    """The file created as an upload, with `columns` confirmed (None keeps the auto-mapping)."""
    trace_file = result_files.create_file(
        db.session,
        team_id=team.id,
        provider_id=provider.id,
        path=path,
        filename=path.name,
        size=path.stat().st_size,
        created_by_id=None,
    )
    if columns is not None:
        trace_file.mapping = list(columns)
    db.session.commit()
    return trace_file


def row(
    code="", business="", street="", zip_="", first="", last="", phones=(), email="", score=""
) -> list[str]:
    """A file row; `phones` are (number, type) pairs, at most two."""
    cells = [code, business, street, zip_, first, last]
    for number, kind in [*phones, ("", ""), ("", "")][:2]:
        cells += [number, kind]
    return cells + [email, score]


@pytest.fixture
def three_leads(crew):
    """Leads of our team to be found by code, by business and ZIP, and by street and ZIP."""
    by_code = make_lead(crew.team, "Acme Plumbing")
    by_name = placed(make_lead(crew.team, "Bright Dental LLC"), "5 Oak Hollow Dr", "78701")
    by_street = placed(make_lead(crew.team, "Cedar Roofing"), "100 Main St", "78702")
    return by_code, by_name, by_street


@pytest.fixture
def vendor_file(tmp_path, three_leads):
    """A result file answering for the three leads, plus two rows that match nothing."""
    by_code, _, _ = three_leads
    return write_csv(
        tmp_path / "vendor-results.csv",
        [
            row(by_code.code, "Acme Plumbing", "", "", "Ana", "Reyes",
                [("(512) 555-0161", "Wireless"), ("512-555-0162", "Landline")],
                "ana@acme.example", "92"),
            row("", "Bright Dental", "9 Elsewhere Rd", "78701-1234", "Ben", "Cole",
                [("(512) 555-0171", "Cell")], "", "88"),
            row("", "Cedar Roof Co", "100 Main Street", "78702", "Cy", "Dunn",
                [("(512) 555-0181", "Wireless")], "cy@cedar.example", "0.81"),
            row(UNKNOWN_CODE, "Ghost Co", "", "", "Gus", "Ghost", [("(512) 555-0191", "")]),
            row("", "Nameless Co", "", "", "Ned", "Null", [("(512) 555-0192", "")]),
        ],
    )  # fmt: skip


# ------------------------------------------------------------------------ the mapping


def test_auto_map_finds_the_match_keys_phones_email_and_score():
    columns = dict(zip(HEADERS, result_files.auto_map(HEADERS), strict=True))

    assert {header: columns[header] for header in (
        "Lead Code", "Business Name", "Address", "Zip", "Phone1", "Phone2", "Email1", "Score"
    )} == {
        "Lead Code": "lead_code", "Business Name": "business_name", "Address": "street",
        "Zip": "zip", "Phone1": "phone", "Phone2": "phone", "Email1": "email",
        "Score": "confidence",
    }  # fmt: skip


def test_auto_map_reads_a_numbered_phone_type_column_as_the_phone_type():
    columns = dict(zip(HEADERS, result_files.auto_map(HEADERS), strict=True))

    assert (columns["Phone1 Type"], columns["Phone2 Type"]) == ("phone_type", "phone_type")


def test_auto_map_reads_owner_first_and_last_columns_as_the_owners_name():
    columns = dict(zip(HEADERS, result_files.auto_map(HEADERS), strict=True))

    assert (columns["Owner First"], columns["Owner Last"]) == ("first_name", "last_name")


def test_mapping_needs_a_way_to_match_and_something_to_add():
    without_keys = ["ignore" if c in ("lead_code", "zip") else c for c in COLUMNS]
    without_contacts = ["ignore" if c in ("phone", "phone_type", "email") else c for c in COLUMNS]

    assert result_files.check_mapping(COLUMNS).errors == ()
    (no_match,) = result_files.check_mapping(without_keys).errors
    assert "lead code" in no_match.lower()
    (nothing_to_add,) = result_files.check_mapping(without_contacts).errors
    assert "phone or email" in nothing_to_add
    # Business name with ZIP is enough to match on; a lead code alone is too.
    assert result_files.check_mapping(["business_name", "zip", "mobile"]).errors == ()
    assert result_files.check_mapping(["lead_code", "email"]).errors == ()
    assert result_files.check_mapping(["business_name", "street", "phone"]).errors != ()
    warnings = result_files.check_mapping(["lead_code", "phone"]).warnings
    assert any("owner name" in w for w in warnings)


def test_a_row_reads_as_match_keys_and_a_provider_answer():
    facts = result_files.read_row(
        row("lead-2025-000001", "The Bright Dental, LLC", "100 Main Street", "78701-1234",
            "Ana", "Reyes", [("(512) 555-0161", "Wireless"), ("512-555-0162", "L")],
            "ana@acme.example", "0.87"),
        COLUMNS,
    )  # fmt: skip

    assert (facts.lead_code, facts.business_key, facts.street, facts.zip5) == (
        "LEAD-2025-000001",
        "bright dental",
        "100 main st",
        "78701",
    )
    assert facts.answer["owner_name"] == "Ana Reyes"
    assert facts.answer["phones"] == [
        {"number": "(512) 555-0161", "type": "mobile"},
        {"number": "512-555-0162", "type": "landline"},
    ]
    assert (facts.answer["emails"], facts.answer["confidence"]) == (["ana@acme.example"], 87)


# ---------------------------------------------------------------------------- loading


def test_rows_match_by_code_then_business_and_zip_then_street_and_zip(
    crew, three_leads, vendor_file
):
    by_code, by_name, by_street = three_leads
    trace_file = uploaded(crew.team, file_provider(crew.team), vendor_file)

    trace_file = result_files.load_file(db.session, trace_file.id)

    assert trace_file.status == "loaded"
    counts = trace_file.counts
    assert (counts["rows"], counts["matched"], counts["unmatched"]) == (5, 3, 2)
    assert (counts["by business and ZIP"], counts["by address"]) == (1, 1)
    stored = {
        r.row_number: (r.lead_id, r.matched_by)
        for r in db.session.scalars(
            select(SkipTraceFileRow).where(SkipTraceFileRow.file_id == trace_file.id)
        )
        if r.lead_id
    }
    assert stored == {
        2: (by_code.id, "lead code"),
        3: (by_name.id, "business and ZIP"),
        4: (by_street.id, "address"),
    }
    assert sorted(result_files.matched_lead_ids(db.session, trace_file)) == sorted(
        [by_code.id, by_name.id, by_street.id]
    )


def test_loading_again_starts_over_without_doubling_rows(crew, vendor_file):
    trace_file = uploaded(crew.team, file_provider(crew.team), vendor_file)
    first = dict(result_files.load_file(db.session, trace_file.id).counts)

    again = result_files.load_file(db.session, trace_file.id)

    assert again.counts == first
    stored = db.session.scalar(
        select(func.count())
        .select_from(SkipTraceFileRow)
        .where(SkipTraceFileRow.file_id == trace_file.id)
    )
    assert stored == 5


def test_row_with_an_unknown_lead_code_is_not_counted_as_matched_by_code(crew, vendor_file):
    trace_file = uploaded(crew.team, file_provider(crew.team), vendor_file)

    trace_file = result_files.load_file(db.session, trace_file.id)

    assert trace_file.counts["by lead code"] == 1


def test_unmatched_rows_come_back_with_their_reason_and_cells(crew, vendor_file):
    trace_file = uploaded(crew.team, file_provider(crew.team), vendor_file)
    result_files.load_file(db.session, trace_file.id)

    unmatched = list(result_files.iter_unmatched(db.session, trace_file))

    assert result_files.unmatched_header(trace_file) == ["row_number", "reason", *HEADERS]
    assert unmatched == [
        [5, result_files.UNMATCHED_CODE, UNKNOWN_CODE, "Ghost Co", "", "", "Gus", "Ghost",
         "(512) 555-0191", "", "", "", "", ""],
        [6, result_files.UNMATCHED_NO_KEYS, "", "Nameless Co", "", "", "Ned", "Null",
         "(512) 555-0192", "", "", "", "", ""],
    ]  # fmt: skip


def test_rows_never_match_another_teams_leads(crew, outsider, tmp_path):
    ours = make_lead(crew.team, "Our Deli")
    for n in range(3):
        make_lead(outsider.team, f"Rival Filler {n}")
    theirs = placed(make_lead(outsider.team, "Rival Bakery"), "7 Cedar Ln", "78703")
    assert theirs.code != ours.code
    path = write_csv(
        tmp_path / "rival.csv",
        [
            row(theirs.code, "", "", "", "Rita", "Vance", [("(512) 555-0151", "Wireless")]),
            row("", "Rival Bakery", "", "78703", "Rita", "Vance", [("(512) 555-0151", "")]),
            row("", "", "7 Cedar Lane", "78703", "Rita", "Vance", [("(512) 555-0151", "")]),
        ],
    )
    trace_file = uploaded(crew.team, file_provider(crew.team), path)

    trace_file = result_files.load_file(db.session, trace_file.id)

    assert (trace_file.counts["matched"], trace_file.counts["unmatched"]) == (0, 3)
    reasons = [cells[1] for cells in result_files.iter_unmatched(db.session, trace_file)]
    assert reasons == [
        result_files.UNMATCHED_CODE,
        result_files.UNMATCHED_NOT_FOUND,
        result_files.UNMATCHED_NOT_FOUND,
    ]


# -------------------------------------------------------------------------- the pass


def test_pass_through_the_file_provider_applies_the_rows_at_its_prices(
    crew, three_leads, vendor_file
):
    provider = file_provider(crew.team, per_search="0.03", per_hit="0.07")
    trace_file = uploaded(crew.team, provider, vendor_file)
    trace_file = result_files.load_file(db.session, trace_file.id)
    absent = make_lead(crew.team, "Not In The File Co")
    lead_ids = [*result_files.matched_lead_ids(db.session, trace_file), absent.id]

    run = waterfall.create_run(
        db.session, crew.team, lead_ids, filters={}, budget=None, started_by_id=None
    )
    db.session.commit()
    waterfall.run_pass(
        db.session,
        run.id,
        waterfall.PassOptions(
            secrets_key=current_app.config["SECRETS_KEY"],
            checker=OfflineLookup(),
            sleep=lambda seconds: None,
        ),
    )
    db.session.expire_all()

    run = db.session.get(SkipTraceRun, run.id)
    assert run.spent == 3 * Decimal("0.10") + Decimal("0.03")
    assert (run.counts["hits"], run.counts["not_found"]) == (3, 1)
    by_code, by_name, by_street = (db.session.get(Lead, lead.id) for lead in three_leads)
    assert [lead.owner.full_name for lead in (by_code, by_name, by_street)] == [
        "Ana Reyes",
        "Ben Cole",
        "Cy Dunn",
    ]
    assert sorted((p.e164, p.kind, p.source) for p in by_code.phones) == [
        ("+15125550161", "mobile", "skiptrace:Vendor File"),
        ("+15125550162", "other", "skiptrace:Vendor File"),
    ]
    assert [e.address for e in by_code.emails] == ["ana@acme.example"]
    assert [(p.e164, p.kind) for p in by_name.phones] == [("+15125550171", "mobile")]
    assert db.session.get(Lead, absent.id).trace_status == "not_found"
    assert db.session.get(SkipTraceFile, trace_file.id).provider_id == provider.id
