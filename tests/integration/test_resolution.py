"""Entity resolution: each rule with a case it catches and one it must not, a labeled
fixture of duplicates scored by pairwise precision and recall, and the review queue."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import Lead, LeadSource, MatchReview, MergeHistory, Phone
from console.services.lists import imports, ingest, mapping
from tests.conftest import login

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "labeled_duplicates.csv"
HEADER = (
    "Company Name",
    "Contact Name",
    "Address",
    "City",
    "State",
    "Zip",
    "Phone",
    "Mobile",
    "Email",
)
BASE = (
    "Hillcrest Roofing LLC",
    "Amanda Williams",
    "8074 W Lakeview Dr",
    "Austin",
    "TX",
    "78701",
    "(512) 555-0100",
    "",
    "amanda@hillcrest.example",
)


def resolve_rows(team_id: int, *rows: tuple[str, ...]) -> list[ingest.ChunkResult]:
    """Import each row as its own chunk (so each meets the ones before in the database)."""
    ctx = ingest.ImportContext(
        team_id=team_id,
        import_id=None,
        filename="t.csv",
        headers=HEADER,
        mapping=tuple(mapping.auto_map(HEADER)),
    )
    results = []
    for number, row in enumerate(rows, start=2):
        results.append(ingest.process_chunk(db.session, ctx, [(number, list(row))]))
        db.session.commit()
    return results


def varied(**changes) -> tuple[str, ...]:
    row = dict(zip(HEADER, BASE, strict=True))
    row.update(
        {k.replace("_", " ").title() if k != "zip" else "Zip": v for k, v in changes.items()}
    )
    return tuple(row[h] for h in HEADER)


def outcome(result: ingest.ChunkResult) -> str:
    if result.merged:
        return "merge:" + next(iter(result.merged))
    return "review" if result.review else "new"


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # Same phone, 100: merge; a different phone and nothing else in common: new.
        (
            varied(
                company_name="Hillcrest Roofers",
                email="",
                zip="78702",
                address="1 Elm St",
                phone="512.555.0100",
            ),
            "merge:owner_phone",
        ),
        (
            varied(
                company_name="Ridge Pools",
                email="",
                contact_name="Bo Diaz",
                zip="78702",
                address="1 Elm St",
                phone="(512) 555-0199",
            ),
            "new",
        ),
        # Same email, 95.
        (
            varied(
                phone="",
                company_name="Hillcrest Roofers",
                zip="78702",
                address="1 Elm St",
                email="AMANDA@hillcrest.example",
            ),
            "merge:owner_email",
        ),
        (
            varied(
                phone="",
                company_name="Ridge Pools",
                contact_name="Bo Diaz",
                zip="78702",
                address="1 Elm St",
                email="bo@ridge.example",
            ),
            "new",
        ),
        # Same business name and ZIP, 95 (LLC vs Inc does not matter).
        (
            varied(phone="", email="", contact_name="", company_name="Hillcrest Roofing, Inc."),
            "merge:business_name_zip",
        ),
        (
            varied(
                phone="",
                email="",
                contact_name="",
                company_name="Hillcrest Roofing Inc",
                zip="78702",
                city="Round Rock",
                address="9 Oak St",
            ),
            "new",
        ),
        # Same owner name and address, 90 (suite numbers and name order do not matter).
        (
            varied(
                phone="",
                email="",
                company_name="Hillcrest Roofing & Gutters",
                contact_name="Williams, Amanda",
                address="8074 West Lakeview Drive Suite 4",
            ),
            "merge:owner_name_address",
        ),
        (
            varied(
                phone="",
                email="",
                company_name="Hillcrest Roofing & Gutters",
                contact_name="Amanda Williams",
                address="12 Other Rd",
                zip="78702",
                city="Round Rock",
            ),
            "new",
        ),
        # Same owner name and ZIP, 70: review, not merge.
        (
            varied(
                phone="",
                email="",
                company_name="Hillcrest Roofing Services",
                address="500 Congress Ave",
            ),
            "review",
        ),
        # A similar business name in the same ZIP: review.
        (
            varied(
                phone="",
                email="",
                contact_name="",
                company_name="Hilcrest Rofing",
                address="12 Other Rd",
            ),
            "review",
        ),
        (
            varied(
                phone="",
                email="",
                contact_name="",
                company_name="Sunset Bakery",
                address="12 Other Rd",
            ),
            "new",
        ),
        # Owner rules do not join plainly different businesses of one owner.
        (varied(company_name="Ridge Pool Supply", email=""), "new"),
    ],
)
def test_each_rule_catches_its_case_and_leaves_the_other(app, crew, second, expected):
    first, result = resolve_rows(crew.team.id, BASE, second)
    assert first.created == 1
    assert outcome(result) == expected


def test_a_merge_copies_the_contacts_the_survivor_lacks_and_keeps_both_rows(app, crew):
    second = varied(phone="(512) 555-0100", mobile="(512) 555-0177", email="a.w@hillcrest.example")
    resolve_rows(crew.team.id, BASE, second)
    lead = db.session.scalars(select(Lead)).one()
    phones = sorted(p.e164 for p in db.session.scalars(select(Phone)))
    assert phones == ["+15125550100", "+15125550177"]
    assert sorted(e.address for e in lead.owner.emails) == [
        "a.w@hillcrest.example",
        "amanda@hillcrest.example",
    ]
    assert [s.row_number for s in lead.sources] == [2, 3]
    history = db.session.scalars(select(MergeHistory)).one()
    assert (history.survivor_id, history.rule, history.score) == (lead.id, "owner_phone", 100)
    assert history.details["phones_added"] == ["+15125550177"]


def test_duplicates_within_one_chunk_resolve_too(app, crew):
    ctx = ingest.ImportContext(
        team_id=crew.team.id,
        import_id=None,
        filename="t.csv",
        headers=HEADER,
        mapping=tuple(mapping.auto_map(HEADER)),
    )
    result = ingest.process_chunk(db.session, ctx, [(2, list(BASE)), (3, list(varied(email="")))])
    db.session.commit()
    assert (result.created, sum(result.merged.values())) == (1, 1)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def pairwise_scores(app, team_id: int, tmp_path) -> tuple[float, float, int]:
    job = imports.import_file(
        db.session, team_id=team_id, source=FIXTURE, upload_dir=tmp_path / "uploads"
    )
    assert job.status == "done"
    with FIXTURE.open(newline="") as handle:
        truth = {n: row["Truth"] for n, row in enumerate(csv.DictReader(handle), start=2)}
    lead_of = dict(
        db.session.execute(
            select(LeadSource.row_number, LeadSource.lead_id).where(LeadSource.import_id == job.id)
        ).all()
    )
    true_pos = false_pos = false_neg = 0
    for a, b in itertools.combinations(sorted(truth), 2):
        same_truth = truth[a] == truth[b]
        same_lead = lead_of[a] == lead_of[b]
        true_pos += same_truth and same_lead
        false_pos += same_lead and not same_truth
        false_neg += same_truth and not same_lead
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    return precision, recall, true_pos


def test_labeled_duplicates_are_merged_with_high_precision_and_recall(app, crew, tmp_path):
    precision, recall, found = pairwise_scores(app, crew.team.id, tmp_path)
    assert found >= 14
    assert precision >= 0.98, precision
    assert recall >= 0.9, recall


def test_review_queue_merges_or_keeps_apart_and_logs_the_decision(app, client, crew):
    resolve_rows(
        crew.team.id,
        BASE,
        varied(
            phone="(512) 555-0142",
            email="",
            company_name="Hillcrest Roofing Services",
            address="500 Congress Ave",
        ),
        varied(
            phone="",
            email="",
            contact_name="",
            company_name="Hilcrest Rofing",
            address="12 Other Rd",
        ),
    )
    reviews = db.session.scalars(select(MatchReview).order_by(MatchReview.id)).all()
    assert [r.rule for r in reviews] == ["owner_name_zip", "business_fuzzy"]
    login(client, crew.operator)
    page = client.get("/imports/reviews")
    assert "Same owner name and ZIP" in page.text and 'class="differs"' in page.text

    client.post("/imports/reviews/decide", data={"one": f"merge:{reviews[0].id}"})
    client.post("/imports/reviews/decide", data={"one": f"keep_apart:{reviews[1].id}"})
    db.session.expire_all()
    assert [r.status for r in db.session.scalars(select(MatchReview).order_by(MatchReview.id))] == [
        "merged",
        "kept_apart",
    ]
    survivor = db.session.get(Lead, reviews[0].other_lead_id)
    assert "+15125550142" in {p.e164 for p in survivor.owner.phones + survivor.business.phones}
    assert db.session.get(Lead, reviews[0].lead_id) is None
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2
    history = db.session.scalars(
        select(MergeHistory).where(MergeHistory.merged_id.is_not(None))
    ).one()
    assert history.actor_id == crew.operator.id and history.merged_code == reviews[0].lead_code
    page = client.get(f"/leads/{survivor.id}").text
    assert f"Merged with {history.merged_code} (Same owner name and ZIP" in page
    assert "by Operator of Harbor Partners" in page


def test_bulk_decisions_apply_to_every_matching_pair(app, client, crew):
    rows = [BASE] + [
        varied(phone="", email="", contact_name="", company_name=name, address=f"{n} Oak St")
        for n, name in enumerate(("Hilcrest Roofing", "Hillcrest Rofing", "Hillcrest Roofng"), 1)
    ]
    resolve_rows(crew.team.id, *rows)
    assert db.session.scalar(select(func.count()).select_from(MatchReview)) == 3
    login(client, crew.operator)
    client.post("/imports/reviews/decide", data={"decision": "keep_apart", "scope": "all"})
    statuses = set(db.session.scalars(select(MatchReview.status)))
    assert statuses == {"kept_apart"}


def test_a_full_fuzzy_block_is_closed_so_matching_stays_linear(app, crew, monkeypatch):
    from console.services.lists import resolve

    monkeypatch.setattr(resolve, "MAX_FUZZY_BLOCK", 3)
    rows = [
        varied(
            phone="",
            email="",
            contact_name="",
            company_name=f"Zeta {word} Works",
            address=f"{n} Oak St",
        )
        for n, word in enumerate(("Alpha", "Bravo", "Charlie", "Delta", "Echo"), 1)
    ]
    resolve_rows(crew.team.id, *rows)
    block = "fz:78701|ze"
    stored = db.session.scalars(select(func.count()).where(resolve.MatchKey.key == block)).one()
    assert stored == 3
    _, fuzzy, _ = resolve.lookup_keys(db.session, crew.team.id, [], [block])
    assert fuzzy == {block: None}


def test_reimporting_does_not_store_a_leads_keys_twice(app, crew, tmp_path):
    from console.models import MatchKey

    for _ in range(3):
        imports.import_file(
            db.session, team_id=crew.team.id, source=FIXTURE, upload_dir=tmp_path / "up"
        )
    keys = db.session.execute(select(MatchKey.key, MatchKey.lead_id)).all()
    assert len(keys) == len(set(keys))


def test_merging_keeps_the_stricter_status_and_moves_other_pending_pairs(app, client, crew):
    resolve_rows(
        crew.team.id,
        BASE,
        varied(
            phone="", email="", contact_name="", company_name="Hilcrest Roofing", address="1 Oak St"
        ),
        varied(
            phone="", email="", contact_name="", company_name="Hillcrest Rofing", address="2 Oak St"
        ),
    )
    first, second = db.session.scalars(select(MatchReview).order_by(MatchReview.id)).all()
    newer = db.session.get(Lead, first.lead_id)
    newer.status = "do_not_contact"
    db.session.commit()
    login(client, crew.operator)
    client.post("/imports/reviews/decide", data={"one": f"merge:{first.id}"})
    db.session.expire_all()
    survivor = db.session.get(Lead, first.other_lead_id)
    assert survivor.status == "do_not_contact"
    second = db.session.get(MatchReview, second.id)
    assert second is not None and second.status == "pending"
    assert first.lead_id not in (second.lead_id, second.other_lead_id)
