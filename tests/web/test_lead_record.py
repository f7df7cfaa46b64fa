"""The lead as a record people work: editing, tags, notes, status (do not contact),
assignee, actions, and its one timeline (every source, paging, kinds, CSV, speed)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from console.extensions import db
from console.models import (
    AuditEvent,
    Campaign,
    ConsentEvent,
    Conversation,
    Deal,
    DealStageHistory,
    Draft,
    InboundMessage,
    InboxItem,
    Lead,
    MatchKey,
    MergeHistory,
    Message,
    Note,
    Phone,
    PhoneCheck,
    Role,
    Sender,
    SkipTraceResult,
    SkipTraceRun,
    Suppression,
    Task,
)
from console.models.base import utcnow
from console.services.deals import timeline
from tests.conftest import login, make_lead
from tests.deal_helpers import make_deal, stage_id

T0 = datetime(2026, 1, 14, 15, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """A moment `minutes` after T0 (events are placed in a known order)."""
    return T0 + timedelta(minutes=minutes)


def fresh(lead: Lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def texts(lead: Lead, **kwargs) -> list[str]:
    """The timeline's sentences (with who) of a lead, newest first."""
    page = timeline.for_lead(db.session, fresh(lead), **kwargs)
    return [f"{e.what} · by {e.who}" if e.who else e.what for e in page.events]


# -- editing -----------------------------------------------------------------------------


def test_operator_edits_the_business_normalized_and_audited_with_only_what_changed(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee", "+15125550111")
    login(client, crew.operator)
    response = client.post(
        f"/leads/{lead.id}/business",
        data={
            "name": "Harbor Plumbing & Drain LLC",
            "street": "4500 North Lamar Boulevard",
            "city": "Austin",
            "state": "texas",
            "zip": "787011234",
            "website": "http://www.HarborDrain.example/",
            "sic_code": "1711",
        },
    )
    assert response.status_code == 302
    lead = fresh(lead)
    business = lead.business
    assert business.name == "Harbor Plumbing & Drain LLC"
    assert business.normalized_name == "harbor plumbing and drain"
    assert business.street == "4500 N Lamar Blvd"
    assert (business.state, business.zip) == ("TX", "78701-1234")
    assert business.website == "harbordrain.example"
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.edited")).one()
    assert event_.entity_id == lead.id and event_.actor_id == crew.operator.id
    assert event_.before["business.name"] == "Harbor Plumbing"
    assert event_.after["business.name"] == "Harbor Plumbing & Drain LLC"
    assert "business.city" not in event_.after  # unchanged fields stay out
    keys = set(db.session.scalars(select(MatchKey.key).where(MatchKey.lead_id == lead.id)))
    assert "bz:harbor plumbing and drain|78701" in keys
    assert "Edited business name: Harbor Plumbing → Harbor Plumbing & Drain LLC" in texts(lead)[0]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("state", "XX", "US state"),
        ("zip", "7870", "5 or 9 digits"),
        ("zip", "787011", "5 or 9 digits"),
        ("website", "not a site", "website"),
        ("sic_code", "7", "SIC code"),
        ("name", "", "needs a name"),
    ],
)
def test_business_edit_refuses_bad_values_and_saves_nothing(client, crew, name, value, words):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.operator)
    data = {"name": "Renamed", name: value}
    response = client.post(f"/leads/{lead.id}/business", data=data)
    assert response.status_code == 422
    assert words in response.text
    assert fresh(lead).business.name == "Harbor Plumbing"
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.edited")).all() == []
    )


def test_owner_title_edit_keeps_the_name_split(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee")
    login(client, crew.operator)
    client.post(
        f"/leads/{lead.id}/owner",
        data={"full_name": "DR. ANN B. LEE-SMITH", "first_name": "Ann", "last_name": "Lee"},
    )
    owner = fresh(lead).owner
    assert owner.full_name == "Ann B. Lee-Smith"
    assert (owner.first_name, owner.last_name) == ("Ann", "Lee-Smith")
    client.post(
        f"/leads/{lead.id}/owner",
        data={"full_name": owner.full_name, "first_name": "Ann", "last_name": "Lee-Smith",
              "title": "Founder & CEO"},
    )  # fmt: skip
    assert fresh(lead).owner.title == "Founder & CEO"
    assert texts(lead)[0] == (
        "Edited owner's title: — → Founder & CEO · by Operator of Harbor Partners"
    )


def test_tags_are_added_and_removed_with_audit(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.operator)
    client.post(f"/leads/{lead.id}/tags", data={"tag": "Hot Lead"})
    assert fresh(lead).tags == ["hot-lead"]
    client.post(f"/leads/{lead.id}/tags/remove", data={"tag": "hot-lead"})
    assert fresh(lead).tags == []
    assert texts(lead, kinds=["edits"]) == [
        "Untagged hot-lead · by Operator of Harbor Partners",
        "Tagged hot-lead · by Operator of Harbor Partners",
    ]


# -- notes, status, assignee ---------------------------------------------------------------


def test_reviewer_writes_a_note_shown_escaped_in_the_timeline(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.reviewer)
    client.post(f"/leads/{lead.id}/notes", data={"body": "Owner <b>wants</b> a call"})
    note = db.session.scalars(select(Note)).one()
    assert note.author_id == crew.reviewer.id and note.lead_id == lead.id
    page = client.get(f"/leads/{lead.id}")
    assert "Note: Owner &lt;b&gt;wants&lt;/b&gt; a call" in page.text
    assert "by Reviewer of Harbor Partners" in page.text
    assert "Nothing has happened to this lead since" not in page.text


def test_do_not_contact_needs_a_reason(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee", "+15125550111")
    login(client, crew.reviewer)
    response = client.post(f"/leads/{lead.id}/status", data={"status": "do_not_contact"})
    assert response.status_code == 422
    assert "Say why" in response.text
    assert fresh(lead).status == "new"
    assert db.session.scalars(select(Suppression)).first() is None


def test_do_not_contact_suppresses_every_number_with_consent_events_and_audit(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee", "+15125550111")
    lead.business.phones.append(Phone(team_id=crew.team.id, e164="+15125550199", kind="office"))
    db.session.commit()
    login(client, crew.reviewer)
    response = client.post(
        f"/leads/{lead.id}/status",
        data={"status": "do_not_contact", "reason": "Asked by phone never to be texted"},
    )
    assert response.status_code == 302
    assert fresh(lead).status == "do_not_contact"
    suppressed = {s.e164: s for s in db.session.scalars(select(Suppression))}
    assert set(suppressed) == {"+15125550111", "+15125550199"}
    assert all(
        s.reason == "dnc" and s.created_by_id == crew.reviewer.id for s in suppressed.values()
    )
    consent = db.session.scalars(select(ConsentEvent)).all()
    assert {(c.e164, c.kind, c.source, c.detail) for c in consent} == {
        (e164, "do_not_contact", "Lead page", "Asked by phone never to be texted")
        for e164 in suppressed
    }
    audit_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.status")).one()
    assert audit_.before == {"status": "new"}
    assert audit_.after["suppressed"] == ["+15125550111", "+15125550199"]
    words = texts(lead, kinds=["consent", "edits"])
    assert (
        "Do-not-contact (512) 555-0111: Asked by phone never to be texted"
        " · by Reviewer of Harbor Partners"
    ) in words
    assert (
        "Status: New → Do not contact (Asked by phone never to be texted)"
        " · by Reviewer of Harbor Partners"
    ) in words
    assert not any(w.startswith("Suppressed") for w in words)  # said once, by its consent event


def test_assign_to_a_teammate_is_shown_and_audited(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.operator)
    client.post(f"/leads/{lead.id}/assign", data={"assignee_id": crew.reviewer.id})
    assert fresh(lead).assignee_id == crew.reviewer.id
    page = client.get(f"/leads/{lead.id}")
    assert re.search(r"Assigned to</dt><dd>Reviewer of Harbor Partners", page.text)
    assert texts(lead)[0] == (
        "Assigned to Reviewer of Harbor Partners · by Operator of Harbor Partners"
    )


def test_assigning_to_another_teams_user_is_a_404(client, crew, outsider):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.operator)
    response = client.post(f"/leads/{lead.id}/assign", data={"assignee_id": outsider.reviewer.id})
    assert response.status_code == 404
    assert fresh(lead).assignee_id is None


# -- actions --------------------------------------------------------------------------------


def test_convert_to_a_deal_in_a_stage_at_a_value_once(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.reviewer)
    client.post(
        f"/leads/{lead.id}/deal",
        data={"stage": stage_id(crew.team.id, "Qualified"), "value": "250000"},
    )
    deal = db.session.scalars(select(Deal)).one()
    assert (deal.stage.name, deal.value, deal.lead_id) == (
        "Qualified",
        Decimal("250000.00"),
        lead.id,
    )
    assert fresh(lead).status == "deal"
    again = client.post(
        f"/leads/{lead.id}/deal", data={"stage": stage_id(crew.team.id, "Discovery")}
    )
    assert again.status_code == 302
    assert db.session.scalars(select(Deal)).all() == [deal]
    assert texts(lead, kinds=["deals"]) == [
        "Deal opened in Qualified, valued $250,000 · Converted on the lead page"
        " · by Reviewer of Harbor Partners"
    ]


def _campaign(crew, status="draft", **criteria) -> Campaign:
    campaign = Campaign(team_id=crew.team.id, name="Spring Texas", status=status, criteria=criteria)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def test_add_to_a_campaign_selects_the_lead_whatever_the_filters(client, crew):
    from console.services.campaigns import campaigns as rules

    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee", "+15125550111", state="AZ")
    other = make_lead(crew.team, "Other Co", "Bo Diaz", "+15125550122", state="AZ")
    campaign = _campaign(crew, states=["TX"])
    login(client, crew.operator)
    client.post(f"/leads/{lead.id}/campaign", data={"campaign_id": campaign.id})
    db.session.refresh(campaign)
    criteria = rules.Criteria.from_dict(campaign.criteria)
    assert criteria.lead_ids == [lead.id]
    chosen = set(db.session.scalars(rules.selected_leads(crew.team.id, criteria)))
    assert chosen == {lead.id} and other.id not in chosen
    assert "Added to campaign Spring Texas" in texts(lead)[0]


def test_add_to_a_campaign_explains_a_refusal(client, crew):
    no_mobile = make_lead(crew.team, "Harbor Plumbing")
    suppressed = make_lead(crew.team, "Other Co", "Bo Diaz", "+15125550122")
    db.session.add(Suppression(team_id=crew.team.id, e164="+15125550122", reason="dnc"))
    campaign = _campaign(crew)
    login(client, crew.operator)
    for lead, words in ((no_mobile, "No textable mobile"), (suppressed, "do-not-contact list")):
        page = client.post(
            f"/leads/{lead.id}/campaign", data={"campaign_id": campaign.id}, follow_redirects=True
        )
        assert words in page.text
    db.session.refresh(campaign)
    assert not campaign.criteria.get("lead_ids")


def test_trace_now_starts_a_one_lead_pass_or_says_why_not(client, crew, monkeypatch):
    from console.leads import record
    from console.services.tracing import provider_settings

    started = []
    monkeypatch.setattr(
        record.job_queue, "start_skiptrace_pass", lambda run, user_id: started.append(run)
    )
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.operator)
    refused = client.post(f"/leads/{lead.id}/trace", follow_redirects=True)
    assert "Turn on at least one skip-trace provider" in refused.text
    provider_settings.ensure_sandbox(db.session, crew.team)
    db.session.commit()
    client.post(f"/leads/{lead.id}/trace")
    assert [run.lead_ids for run in started] == [[lead.id]]
    lead = fresh(lead)
    lead.traced_at = utcnow()
    db.session.commit()
    again = client.post(f"/leads/{lead.id}/trace", follow_redirects=True)
    assert "traced within the last" in again.text


# -- who may do what -------------------------------------------------------------------------

OPERATOR_POSTS = ("owner", "business", "tags", "tags/remove", "assign", "trace", "campaign")
WRITER_POSTS = ("notes", "status", "deal")


@pytest.mark.parametrize("path", OPERATOR_POSTS)
def test_reviewers_cannot_edit_assign_trace_or_add_to_campaigns(client, crew, path):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.reviewer)
    assert client.post(f"/leads/{lead.id}/{path}", data={"name": "X"}).status_code == 403


@pytest.mark.parametrize("path", WRITER_POSTS)
def test_reviewers_write_notes_set_status_and_convert(client, crew, path):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.reviewer)
    data = {"body": "hi", "status": "interested", "stage": stage_id(crew.team.id, "Discovery")}
    assert client.post(f"/leads/{lead.id}/{path}", data=data).status_code == 302


def test_reviewer_sees_the_page_without_the_operators_forms(client, crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    assert "Add note" in page and "Set status" in page
    assert "Edit the business" not in page and "Trace now" not in page


@pytest.mark.parametrize(
    "path", [*OPERATOR_POSTS, *WRITER_POSTS, "GET timeline", "GET timeline.csv"]
)
def test_another_teams_lead_is_a_404_everywhere(client, crew, outsider, path):
    theirs = make_lead(outsider.team, "Rival Plumbing")
    login(client, crew.admin)
    if path.startswith("GET "):
        response = client.get(f"/leads/{theirs.id}/{path[4:]}", headers={"HX-Request": "true"})
    else:
        response = client.post(f"/leads/{theirs.id}/{path}", data={"body": "x", "tag": "x"})
    assert response.status_code == 404


def test_campaign_of_another_team_is_a_404(client, crew, outsider):
    lead = make_lead(crew.team, "Harbor Plumbing", "Ann Lee", "+15125550111")
    theirs = _campaign(outsider)
    login(client, crew.operator)
    response = client.post(f"/leads/{lead.id}/campaign", data={"campaign_id": theirs.id})
    assert response.status_code == 404


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("path", [*OPERATOR_POSTS, *WRITER_POSTS])
def test_every_record_post_needs_the_csrf_token(csrf_client, crew, path):
    from tests.web.test_csrf import _signed_in

    lead = make_lead(crew.team, "Harbor Plumbing")
    _signed_in(csrf_client, crew.admin)
    response = csrf_client.post(f"/leads/{lead.id}/{path}", data={"body": "x", "tag": "x"})
    assert response.status_code == 400


def test_note_with_the_token_from_the_page_is_kept(csrf_client, crew):
    from tests.web.test_csrf import _signed_in, _token

    lead = make_lead(crew.team, "Harbor Plumbing")
    _signed_in(csrf_client, crew.reviewer)
    token = _token(csrf_client.get(f"/leads/{lead.id}").text)
    response = csrf_client.post(
        f"/leads/{lead.id}/notes", data={"body": "Call Tuesday", "csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Note.body)).one() == "Call Tuesday"


# -- the timeline: every source ------------------------------------------------------------


def busy_lead(crew, extra_texts: int = 0) -> Lead:
    """A lead with one event of every kind, minute by minute from T0."""
    team_id = crew.team.id
    lead = make_lead(crew.team, "Harbor Plumbing", "Bob Lee", "+15125550111")
    lead.sources[0].at = at(0)
    db.session.add(
        MergeHistory(team_id=team_id, survivor_id=lead.id, merged_id=999, rule="owner_phone",
                     merged_code="LEAD-2026-000123", score=100, actor_id=crew.admin.id, at=at(1),
                     details={"phones_added": ["+15125550177"]})
    )  # fmt: skip
    run = SkipTraceRun(team_id=team_id, lead_ids=[lead.id], started_by_id=crew.operator.id)
    db.session.add(run)
    db.session.flush()
    db.session.add(
        SkipTraceResult(team_id=team_id, run_id=run.id, lead_id=lead.id, provider_name="Acme",
                        outcome="hit", found=True, created_at=at(2),
                        candidate={"owner_name": "Bob Lee", "phones": ["+1", "+2"]})
    )  # fmt: skip
    db.session.add(
        PhoneCheck(team_id=team_id, e164="+15125550111", source="twilio", line_type="mobile",
                   textable=True, checked_at=at(3))
    )  # fmt: skip
    sender = Sender(team_id=team_id, label="Main", address="+15125550100")
    db.session.add(sender)
    db.session.flush()
    for n in range(1 + extra_texts):
        db.session.add(
            Message(team_id=team_id, lead_id=lead.id, sender_id=sender.id, to_e164="+15125550111",
                    body="Hi Bob, would you consider selling Harbor Plumbing?", status="delivered",
                    from_address="+15125550100", sent_at=at(4) - timedelta(seconds=n),
                    approved_by_id=crew.operator.id)
        )  # fmt: skip
    conversation = Conversation(team_id=team_id, e164="+15125550111", lead_id=lead.id)
    db.session.add(conversation)
    db.session.flush()
    inbound = InboundMessage(team_id=team_id, conversation_id=conversation.id, lead_id=lead.id,
                             provider_sid="SM1", from_e164="+15125550111",
                             body="call me tomorrow", received_at=at(5))  # fmt: skip
    db.session.add(inbound)
    db.session.flush()
    item = InboxItem(team_id=team_id, conversation_id=conversation.id, inbound_id=inbound.id,
                     lead_id=lead.id, label="CALLBACK_REQUEST", state="done")  # fmt: skip
    db.session.add(item)
    db.session.flush()
    db.session.add(
        Draft(team_id=team_id, item_id=item.id, persona="GIANNA", source="ai", body="Sure!",
              state="sent", sent_body="Sure, Bob: 10 am?", edited=True,
              decided_by_id=crew.reviewer.id, decided_at=at(6))
    )  # fmt: skip
    db.session.add(
        ConsentEvent(team_id=team_id, e164="+15125550111", kind="opt_out", source="STOP",
                     lead_id=lead.id, at=at(7))
    )  # fmt: skip
    db.session.add(
        Note(team_id=team_id, lead_id=lead.id, body="Prefers mornings", author_id=crew.reviewer.id,
             created_at=at(8))
    )  # fmt: skip
    db.session.add(
        AuditEvent(team_id=team_id, actor_id=crew.operator.id, action="lead.tagged",
                   entity_type="leads", entity_id=lead.id, after={"tag": "hot"}, at=at(9))
    )  # fmt: skip
    db.session.add(
        Task(team_id=team_id, kind="callback", title="Call the owner back", lead_id=lead.id,
             due_at=datetime(2026, 1, 15, 16, 0, tzinfo=UTC), zone="America/Chicago",
             created_by_id=crew.reviewer.id, created_at=at(10), state="done", done_at=at(11),
             done_by_id=crew.operator.id)
    )  # fmt: skip
    deal = make_deal(team_id, lead, "Qualified", title="Harbor", history=False)
    db.session.add_all(
        [
            DealStageHistory(team_id=team_id, deal_id=deal.id, to_stage="Discovery",
                             by_id=crew.reviewer.id, at=at(12)),
            DealStageHistory(team_id=team_id, deal_id=deal.id, from_stage="Discovery",
                             to_stage="Qualified", by_id=crew.manager.id, at=at(13)),
        ]
    )  # fmt: skip
    db.session.add(
        Suppression(team_id=team_id, e164="+15125550111", reason="wrong_number",
                    source="Inbox: wrong number", created_by_id=crew.reviewer.id, created_at=at(14))
    )  # fmt: skip
    db.session.commit()
    return lead


def test_every_source_is_in_the_timeline_in_words_with_who_newest_first(crew):
    lead = busy_lead(crew)
    assert texts(lead) == [
        "Suppressed (512) 555-0111: wrong number · Inbox: wrong number"
        " · by Reviewer of Harbor Partners",
        "Deal moved Discovery → Qualified · by Manager of Harbor Partners",
        "Deal opened in Discovery · by Reviewer of Harbor Partners",
        "Callback done · by Operator of Harbor Partners",
        "Callback booked for Jan 15, 2026, 10:00 am CST · by Reviewer of Harbor Partners",
        "Tagged hot · by Operator of Harbor Partners",
        "Note: Prefers mornings · by Reviewer of Harbor Partners",
        "Opted out (STOP) from (512) 555-0111 · STOP",
        "Draft by GIANNA sent as edited: “Sure, Bob: 10 am?” · by Reviewer of Harbor Partners",
        "Reply from (512) 555-0111: “call me tomorrow” · read as Callback request",
        "Text sent from (512) 555-0100: “Hi Bob, would you consider selling Harbor Plumbing?”"
        " · delivered · by Operator of Harbor Partners",
        "Line check of (512) 555-0111: mobile, textable",
        "Traced with Acme: found Bob Lee, 2 phones · by Operator of Harbor Partners",
        "Merged with LEAD-2026-000123 (Same phone, confidence 100); added (512) 555-0177"
        " · by Admin of Harbor Partners",
        "Imported from row 2 of t.csv",
    ]


def test_kind_filter_keeps_only_the_chosen_kinds(crew):
    lead = busy_lead(crew)
    page = timeline.for_lead(db.session, fresh(lead), kinds=["texts", "replies", "bogus"])
    assert page.kinds == ("texts", "replies")
    assert [e.kind for e in page.events] == ["replies", "texts"]


def test_pages_newest_first_with_an_older_link(crew):
    lead = busy_lead(crew, extra_texts=9)
    first = timeline.for_lead(db.session, fresh(lead), per_page=10)
    second = timeline.for_lead(db.session, fresh(lead), per_page=10, page=2)
    third = timeline.for_lead(db.session, fresh(lead), per_page=10, page=3)
    everything = first.events + second.events + third.events
    assert len(everything) == 24 and first.has_more and second.has_more and not third.has_more
    assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
    assert len({(e.kind, e.order) for e in everything}) == 24


def test_the_page_shows_every_text_and_pages_older_through_htmx(client, crew):
    lead = busy_lead(crew, extra_texts=60)
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    assert page.count("Text sent from (512) 555-0100") == 50 - 10  # 10 newer events first
    older = client.get(
        f"/leads/{lead.id}/timeline?page=2&rows=1", headers={"HX-Request": "true"}
    ).text
    assert "<html" not in older and older.count("Text sent from") == 61 - 40
    assert "Older events" not in older


def test_kind_filter_through_htmx_and_without_script(client, crew):
    lead = busy_lead(crew)
    login(client, crew.reviewer)
    fragment = client.get(
        f"/leads/{lead.id}/timeline?kind=notes", headers={"HX-Request": "true"}
    ).text
    assert fragment.lstrip().startswith('<div id="timeline-events"')
    assert "Prefers mornings" in fragment and "Text sent" not in fragment
    plain = client.get(f"/leads/{lead.id}/timeline?kind=notes")
    assert plain.status_code == 302 and "kind=notes" in plain.headers["Location"]


def test_timeline_exports_as_csv_in_iso_utc(client, crew):
    lead = busy_lead(crew)
    login(client, crew.reviewer)
    response = client.get(f"/leads/{lead.id}/timeline.csv?kind=notes&kind=deals")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["at", "kind", "who", "what"]
    assert rows[1:] == [
        ["2026-01-14T15:13:00+00:00", "deals", "Manager of Harbor Partners",
         "Deal moved Discovery → Qualified"],
        ["2026-01-14T15:12:00+00:00", "deals", "Reviewer of Harbor Partners",
         "Deal opened in Discovery"],
        ["2026-01-14T15:08:00+00:00", "notes", "Reviewer of Harbor Partners",
         "Note: Prefers mornings"],
    ]  # fmt: skip


def test_another_teams_events_never_join_the_timeline(crew, outsider):
    lead = busy_lead(crew)
    db.session.add_all(
        [
            Note(team_id=outsider.team.id, lead_id=lead.id, body="theirs"),
            ConsentEvent(team_id=outsider.team.id, e164="+15125550111", kind="opt_out"),
            PhoneCheck(team_id=outsider.team.id, e164="+15125550111", source="x", line_type="voip"),
        ]
    )
    db.session.commit()
    words = " ".join(texts(lead))
    assert "theirs" not in words and "voip" not in words.lower()


def test_timeline_costs_one_query_a_source_whatever_the_events(app, crew):
    lead = busy_lead(crew, extra_texts=80)
    lead = fresh(lead)
    lead.owner, lead.business  # noqa: B018 - loaded as the page has them
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = timeline.for_lead(db.session, lead)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.events) == 50
    assert len(statements) <= len(timeline.SOURCES) + 1, statements


def test_merge_brings_the_merged_leads_notes_and_tasks(crew):
    from console.services.lists.resolve import merge_leads

    survivor = make_lead(crew.team, "Harbor Plumbing")
    merged = make_lead(crew.team, "Harbor Plumbing Co")
    db.session.add(Note(team_id=crew.team.id, lead_id=merged.id, body="Keep me"))
    db.session.add(Task(team_id=crew.team.id, title="Call", lead_id=merged.id, due_at=at(60)))
    db.session.commit()
    merge_leads(db.session, survivor, merged, rule="owner_phone", score=100)
    db.session.commit()
    assert db.session.scalars(select(Note.lead_id)).all() == [survivor.id]
    assert db.session.scalars(select(Task.lead_id)).all() == [survivor.id]


def test_role_list_matches_the_routes(app):
    rules = {r.endpoint: app.view_functions[r.endpoint] for r in app.url_map.iter_rules()}
    assert rules["leads.edit_business"].required_roles == (Role.OPERATOR,)
    assert set(rules["leads.add_note"].required_roles) == {Role.OPERATOR, Role.REVIEWER}
