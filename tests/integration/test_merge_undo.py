"""A manual merge from the review queue: the pair view shows what was merged, and an
audited undo brings the merged lead back as it was (or says why it cannot)."""

from __future__ import annotations

from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    AuditEvent,
    Deal,
    Lead,
    LeadSource,
    MatchKey,
    MatchReview,
    MergeHistory,
    Note,
    Task,
)
from console.models.base import utcnow
from console.services.lists import duplicates, merge_undo, resolve
from tests.conftest import login
from tests.deal_helpers import make_deal
from tests.integration.test_resolution import BASE, resolve_rows, varied

NEWER = varied(
    phone="(512) 555-0142",
    email="amanda@roofs.example",
    company_name="Hillcrest Roofing Services",
    address="500 Congress Ave",
)


def merged_pair(client, crew) -> tuple[MatchReview, Lead]:
    """Two leads in review (same owner and ZIP), merged by our operator through the page."""
    resolve_rows(crew.team.id, BASE, NEWER)
    review = db.session.scalars(select(MatchReview)).one()
    newer = db.session.get(Lead, review.lead_id)
    newer.tags, newer.custom_fields, newer.status = (
        ["spring"],
        {"Notes": "met at expo"},
        "contacted",
    )
    db.session.commit()
    login(client, crew.operator)
    client.post("/imports/reviews/decide", data={"one": f"merge:{review.id}"})
    db.session.expire_all()
    return db.session.get(MatchReview, review.id), db.session.get(Lead, review.other_lead_id)


def pair_cells(page: str, label: str) -> str:
    """The row of the compare table for `label`, as HTML."""
    start = page.index(f'<th scope="row">{label}</th>')
    return page[start : page.index("</tr>", start)]


def test_a_merged_pair_shows_what_was_merged(app, client, crew):
    review, _ = merged_pair(client, crew)
    page = client.get("/imports/reviews?status=merged").text
    assert "<td>Hillcrest Roofing Services</td>" in pair_cells(page, "Business")
    assert "(512) 555-0142" in pair_cells(page, "Phones")
    assert "500 Congress Ave" in pair_cells(page, "Street")
    assert "as merged" in page and "Undo merge" in page


def test_undo_brings_the_merged_lead_back_as_it_was(app, client, crew):
    review, survivor = merged_pair(client, crew)
    code = review.lead_code
    response = client.post(f"/imports/reviews/{review.id}/undo")
    assert response.status_code == 302
    db.session.expire_all()

    back = db.session.scalars(select(Lead).where(Lead.code == code)).one()
    assert back.business.name == "Hillcrest Roofing Services"
    assert back.business.street.startswith("500 Congress")
    assert back.owner.full_name == "Amanda Williams"
    assert {p.e164 for p in back.phones} == {"+15125550142"}
    assert {e.address for e in back.emails} == {"amanda@roofs.example"}
    assert (back.tags, back.custom_fields, back.status) == (
        ["spring"],
        {"Notes": "met at expo"},
        "contacted",
    )
    assert [s.row_number for s in back.sources] == [3]
    assert db.session.scalar(select(func.count()).where(MatchKey.lead_id == back.id)) > 0

    survivor = db.session.get(Lead, survivor.id)
    assert "+15125550142" not in {p.e164 for p in survivor.phones}
    assert "amanda@roofs.example" not in {e.address for e in survivor.emails}
    assert (survivor.tags, survivor.custom_fields, survivor.status) == ([], {}, "new")
    assert [s.row_number for s in survivor.sources] == [2]

    review = db.session.get(MatchReview, review.id)
    assert (review.status, review.lead_id, review.decided_at) == ("pending", back.id, None)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "lead.merge_undone")
    ).one()
    assert (event.actor_id, event.entity_id) == (crew.operator.id, back.id)
    history = db.session.scalars(
        select(MergeHistory).where(MergeHistory.merged_id.is_not(None))
    ).one()
    assert history.details["undone_by_id"] == crew.operator.id

    lead_page = client.get(f"/leads/{survivor.id}").text
    assert f'Lead <span class="code">{code}</span> merged in' not in lead_page

    # The same pair can be merged again, and that merge undone again.
    client.post("/imports/reviews/decide", data={"one": f"merge:{review.id}"})
    assert client.post(f"/imports/reviews/{review.id}/undo").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2


def test_undo_is_refused_once_the_survivor_is_merged_into_another_lead(app, client, crew):
    review, survivor = merged_pair(client, crew)
    other = db.session.scalars(select(Lead).where(Lead.id != survivor.id)).first()
    assert other is None  # one lead left; merge it into a fresh one
    welder = varied(
        company_name="Zeta Welding",
        contact_name="Zed Quinn",
        address="9 Elm St",
        zip="78702",
        phone="(512) 555-0999",
        email="",
    )
    resolve_rows(crew.team.id, welder)
    fresh = db.session.scalars(select(Lead).where(Lead.id != survivor.id)).one()
    resolve.merge_leads(db.session, fresh, survivor, rule="manual", score=100)
    db.session.commit()

    page = client.get("/imports/reviews?status=merged").text
    assert "Undo merge" not in page and "has since been deleted or merged" in page
    response = client.post(f"/imports/reviews/{review.id}/undo", follow_redirects=True)
    assert "Not undone: The lead" in response.text
    assert db.session.scalars(select(Lead).where(Lead.code == review.lead_code)).first() is None
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "lead.merge_undone")
    ).all()


def test_undo_is_refused_twice_and_for_a_pair_never_merged(app, client, crew):
    review, _ = merged_pair(client, crew)
    assert client.post(f"/imports/reviews/{review.id}/undo").status_code == 302
    # Undone, the pair waits again: there is no merge of it to undo.
    assert client.post(f"/imports/reviews/{review.id}/undo").status_code == 404


def test_another_teams_merge_cannot_be_undone(app, client, crew, outsider):
    review, _ = merged_pair(client, crew)
    client.post("/logout")
    login(client, outsider.operator)
    assert client.post(f"/imports/reviews/{review.id}/undo").status_code == 404
    assert duplicates.undo_review_merge(db.session, outsider.team.id, review.id, None) is None
    assert db.session.scalars(select(LeadSource)).all()  # nothing moved


def test_undo_waits_for_later_merges_and_needs_the_kept_copy(app, client, crew):
    review, survivor = merged_pair(client, crew)
    history = db.session.scalars(
        select(MergeHistory).where(MergeHistory.merged_id.is_not(None))
    ).one()
    welder = varied(
        company_name="Zeta Welding",
        contact_name="Zed Quinn",
        address="9 Elm St",
        zip="78702",
        phone="(512) 555-0999",
        email="",
    )
    resolve_rows(crew.team.id, welder)
    other = db.session.scalars(select(Lead).where(Lead.id != survivor.id)).one()
    resolve.merge_leads(db.session, survivor, other, rule="manual", score=100)
    db.session.commit()
    assert merge_undo.undo_problem(db.session, history) == (
        f"{survivor.code} has taken in {other.code} since; undo that merge first."
    )
    history.details = {k: v for k, v in history.details.items() if k != "snapshot"}
    assert "before merges kept a copy" in merge_undo.undo_problem(db.session, history)


def test_undo_gives_back_the_notes_tasks_and_deals_the_merge_moved(app, client, crew):
    resolve_rows(crew.team.id, BASE, NEWER)
    review = db.session.scalars(select(MatchReview)).one()
    newer = db.session.get(Lead, review.lead_id)
    note = Note(team_id=crew.team.id, lead_id=newer.id, body="Met at the expo")
    task = Task(team_id=crew.team.id, lead_id=newer.id, title="Send the NDA", due_at=utcnow())
    db.session.add_all([note, task])
    deal = make_deal(crew.team.id, newer, title="Hillcrest Roofing")
    db.session.commit()
    login(client, crew.operator)
    client.post("/imports/reviews/decide", data={"one": f"merge:{review.id}"})
    db.session.expire_all()
    survivor_id = db.session.get(MatchReview, review.id).other_lead_id
    assert {db.session.get(m, r.id).lead_id for m, r in ((Note, note), (Task, task))} == {
        survivor_id
    }

    assert client.post(f"/imports/reviews/{review.id}/undo").status_code == 302
    db.session.expire_all()
    back = db.session.scalars(select(Lead).where(Lead.code == review.lead_code)).one()
    assert db.session.get(Note, note.id).lead_id == back.id
    assert db.session.get(Task, task.id).lead_id == back.id
    assert db.session.get(Deal, deal.id).lead_id == back.id
