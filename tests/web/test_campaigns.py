"""Campaigns from the browser's side: who may build them, another team's campaigns, the
builder's validation, its live audience count and criteria, editing, status changes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    Batch,
    Campaign,
    Enrollment,
    MessageTemplate,
    Role,
    Sender,
    Suppression,
)
from console.models.base import utcnow
from console.services.campaigns import campaigns
from console.services.sending import dispatch
from tests.conftest import login, make_lead
from tests.web.campaign_helpers import (
    add_campaign,
    audience_counts,
    builder_form,
    create_campaign,
    form_values,
    generate_batch,
    make_leads,
    make_template,
    messages_of,
    mobile,
    team_sender,
)


def campaign_count() -> int:
    """How many campaigns there are, all teams together."""
    return db.session.scalar(select(func.count(Campaign.id)))


@pytest.fixture
def kit(app, crew):
    """Our team's opener (two variants) and sender."""
    return make_template(crew.team), team_sender(app, crew.team)


@pytest.fixture
def ours(kit, crew):
    """A campaign of our team, made by the service."""
    template, sender = kit
    return add_campaign(crew.team, template, sender, name="Harbor spring push")


@pytest.fixture
def theirs(app, outsider):
    """A campaign of another team, with one drafted batch."""
    make_leads(outsider.team, 2, start=900, name="Rival {n} Bakery")
    template = make_template(outsider.team, name="Rival opener")
    campaign = add_campaign(
        outsider.team, template, team_sender(app, outsider.team), name="Rival secret push"
    )
    generate_batch(campaign)
    db.session.refresh(campaign)
    return campaign


# ------------------------------------------------------------------------------ roles


CAMPAIGN_PAGES = ["/campaigns/", "/campaigns/new", "/campaigns/{id}", "/campaigns/{id}/edit"]


@pytest.mark.parametrize("path", CAMPAIGN_PAGES)
def test_reviewer_cannot_open_campaign_pages(client, crew, ours, path):
    login(client, crew.reviewer)
    assert client.get(path.format(id=ours.id)).status_code == 403


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("path", CAMPAIGN_PAGES)
def test_operators_and_above_open_campaign_pages(client, crew, ours, path, role):
    login(client, crew.by_role(role))
    assert client.get(path.format(id=ours.id)).status_code == 200


def test_reviewer_cannot_build_count_change_or_draft(client, crew, kit, ours):
    template, sender = kit
    make_leads(crew.team, 1)
    login(client, crew.reviewer)
    form = builder_form(template, sender, name="Sneaky")
    assert client.post("/campaigns/new", data=form).status_code == 403
    assert client.post("/campaigns/audience", data=form).status_code == 403
    assert client.post(f"/campaigns/{ours.id}/edit", data=form).status_code == 403
    assert client.post(f"/campaigns/{ours.id}/status", data={"action": "finish"}).status_code == 403
    assert client.post(f"/campaigns/{ours.id}/batches").status_code == 403
    db.session.expire_all()
    assert campaign_count() == 1
    assert (ours.name, ours.status) == ("Harbor spring push", "draft")
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_operator_builds_a_campaign(client, crew, kit):
    template, sender = kit
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, name="Spring owners", states="TX")
    assert campaign.team_id == crew.team.id
    assert campaign.created_by_id == crew.operator.id
    assert campaign.status == "draft"
    assert campaign.criteria["states"] == ["TX"]
    assert "Spring owners" in client.get(f"/campaigns/{campaign.id}").text


def test_builder_sends_a_team_without_templates_to_the_library(client, crew):
    login(client, crew.operator)
    response = client.get("/campaigns/new")
    assert response.status_code == 302
    assert response.headers["Location"] == url_for("library.index", _external=False)


# -------------------------------------------------------------------------- isolation


def test_another_teams_campaign_is_a_404_everywhere(client, crew, kit, theirs):
    template, sender = kit
    batch_count = db.session.scalar(select(func.count(Batch.id)))
    login(client, crew.operator)
    for path in (f"/campaigns/{theirs.id}", f"/campaigns/{theirs.id}/edit"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Rival" not in response.text
    form = builder_form(template, sender, name="Hijacked")
    assert client.post(f"/campaigns/{theirs.id}/edit", data=form).status_code == 404
    for action in ("pause", "finish", "archive"):
        assert (
            client.post(f"/campaigns/{theirs.id}/status", data={"action": action}).status_code
            == 404
        )
    assert client.post(f"/campaigns/{theirs.id}/batches").status_code == 404
    db.session.expire_all()
    assert (theirs.name, theirs.status) == ("Rival secret push", "active")
    assert db.session.scalar(select(func.count(Batch.id))) == batch_count


def test_campaign_list_shows_only_our_team(client, crew, ours, theirs):
    login(client, crew.operator)
    page = client.get("/campaigns/")
    assert "Harbor spring push" in page.text
    assert "Rival secret push" not in page.text
    assert "Rival secret" not in client.get("/campaigns/?q=Rival").text


def test_campaign_export_lists_only_our_team(client, crew, ours, theirs):
    login(client, crew.operator)
    export = client.get("/campaigns/?format=csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["name"] for r in rows] == ["Harbor spring push"]
    assert tuple(rows[0]) == campaigns.EXPORT_COLUMNS


def test_builder_rejects_another_teams_template(client, crew, kit, outsider):
    _template, sender = kit
    foreign = make_template(outsider.team, name="Rival opener")
    login(client, crew.operator)
    response = client.post("/campaigns/new", data=builder_form(foreign, sender))
    assert response.status_code == 200
    assert "Rival opener" not in response.text
    assert campaign_count() == 0


def test_builder_rejects_another_teams_sender(app, client, crew, kit, outsider):
    template, _sender = kit
    foreign = team_sender(app, outsider.team)
    login(client, crew.operator)
    response = client.post("/campaigns/new", data=builder_form(template, foreign))
    assert response.status_code == 200
    assert campaign_count() == 0


def test_builder_rejects_another_teams_follow_up_template(client, crew, kit, outsider):
    template, sender = kit
    foreign = make_template(outsider.team, name="Rival nudge")
    login(client, crew.operator)
    form = builder_form(template, sender, touch1_days=3, touch1_template=foreign.id)
    assert client.post("/campaigns/new", data=form).status_code == 200
    assert campaign_count() == 0


def test_editing_our_campaign_cannot_take_another_teams_template(client, crew, kit, ours, outsider):
    template, sender = kit
    foreign = make_template(outsider.team, name="Rival opener")
    login(client, crew.operator)
    response = client.post(
        f"/campaigns/{ours.id}/edit", data=builder_form(foreign, sender, name="Changed")
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert (ours.name, ours.template_id) == ("Harbor spring push", template.id)


# ---------------------------------------------------------------------------- builder


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"score_min": 80, "score_max": 20}, "Must be at least the lower score."),
        ({"split_a": 60, "split_b": 30}, "Variant shares add up to 90%, not 100%."),
        ({"split_a": 50, "split_b": 30, "split_c": 30}, "Variant shares add up to 110%"),
        ({"score_min": 140}, "Number must be between 0 and 100."),
        ({"batch_size": 5000}, "Number must be between 1 and 2000."),
    ],
)
def test_builder_explains_what_is_wrong(client, crew, kit, changes, error):
    template, sender = kit
    login(client, crew.operator)
    response = client.post("/campaigns/new", data=builder_form(template, sender, **changes))
    assert response.status_code == 200
    assert error in response.text
    assert 'aria-invalid="true"' in response.text
    assert campaign_count() == 0


def test_builder_accepts_shares_that_add_up(client, crew, kit):
    template, sender = kit
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, split_a=70, split_b=30)
    assert campaign.split == {"A": 70, "B": 30}


def set_up_opted_out(crew, lead, app):
    """A Suppression for the lead's number with reason opt_out (a STOP)."""
    db.session.add(
        Suppression(team_id=crew.team.id, e164=lead.owner.phones[0].e164, reason="opt_out")
    )


def set_up_dnc_status(crew, lead, app):
    """The lead marked do not contact (the gate treats it as opted out)."""
    lead.status = "do_not_contact"


def set_up_dnc_list(crew, lead, app):
    """The number on the team's do-not-contact list for another reason."""
    db.session.add(Suppression(team_id=crew.team.id, e164=lead.owner.phones[0].e164, reason="dnc"))


def set_up_not_interested(crew, lead, app):
    """The lead said it is not interested."""
    lead.status = "not_interested"


def set_up_landline(crew, lead, app):
    """The lead's only number is a landline."""
    lead.owner.phones[0].line_type = "landline"


def set_up_recent(crew, lead, app):
    """The lead was texted two days ago (the builder leaves out the last 30)."""
    lead.last_contacted_at = utcnow() - timedelta(days=2)


def set_up_other_campaign(crew, lead, app):
    """The lead is enrolled in another campaign that is running."""
    other = add_campaign(
        crew.team,
        db.session.scalars(select(MessageTemplate)).first(),
        team_sender(app, crew.team),
        name="Running elsewhere",
    )
    other.status = "active"
    db.session.add(
        Enrollment(
            team_id=crew.team.id,
            campaign_id=other.id,
            lead_id=lead.id,
            e164=lead.owner.phones[0].e164,
            status="active",
        )
    )


@pytest.mark.parametrize(
    ("set_up", "reason"),
    [
        (set_up_opted_out, "Opted out"),
        (set_up_dnc_status, "Opted out"),
        (set_up_dnc_list, "On the do-not-contact list"),
        (set_up_not_interested, "Not interested or already a deal"),
        (set_up_landline, "No textable mobile"),
        (set_up_recent, "Texted recently"),
        (set_up_other_campaign, "In another active campaign"),
    ],
)
def test_live_count_says_why_a_lead_is_left_out(app, client, crew, kit, set_up, reason):
    template, sender = kit
    _texted, left_out = make_leads(crew.team, 2)
    set_up(crew, left_out, app)
    db.session.commit()
    login(client, crew.operator)
    response = client.post("/campaigns/audience", data=builder_form(template, sender))
    assert response.status_code == 200
    assert "<html" not in response.text
    counts = audience_counts(response.text)
    assert counts["Match the criteria"] == 2
    assert counts["Can be texted"] == 1
    assert counts["Left out"] == counts["Total left out"] == 1
    assert counts[reason] == 1
    others = {label: counts[label] for label in campaigns.EXCLUSIONS.values() if label != reason}
    assert set(others.values()) == {0}


def test_live_count_leaves_out_a_lead_without_a_mobile(client, crew, kit):
    template, sender = kit
    make_leads(crew.team, 1)
    make_lead(crew.team, "No Phone Diner", owner_name="Pat Nophone")
    login(client, crew.operator)
    counts = audience_counts(
        client.post("/campaigns/audience", data=builder_form(template, sender)).text
    )
    assert (counts["Match the criteria"], counts["Can be texted"]) == (2, 1)
    assert counts["No textable mobile"] == 1


def test_recent_contact_rule_follows_the_days_chosen(client, crew, kit):
    template, sender = kit
    (lead,) = make_leads(crew.team, 1)
    lead.last_contacted_at = utcnow() - timedelta(days=10)
    db.session.commit()
    login(client, crew.operator)

    def texted_recently(days: int) -> int:
        form = builder_form(template, sender, recent_contact_days=days)
        return audience_counts(client.post("/campaigns/audience", data=form).text)[
            "Texted recently"
        ]

    assert texted_recently(30) == 1
    assert texted_recently(7) == 0
    assert texted_recently(0) == 0


@pytest.fixture
def catalog(crew):
    """Four leads that differ in state, ZIP, SIC code, score, tags and last contact."""
    specs = [
        ("Alpha HVAC", "TX", "78701", "1711", 70, ["hvac", "warm"], None),
        ("Bravo Diner", "TX", "78702", "5812", 50, ["food"], utcnow() - timedelta(days=200)),
        ("Charlie Plumbing", "OK", "73101", "1711", 90, ["hvac"], None),
        ("Delta Dental", "FL", "33101", "8021", None, [], None),
    ]
    leads = {}
    for n, (name, state, zip_code, sic, score, tags, contacted) in enumerate(specs):
        lead = make_lead(
            crew.team, name, owner_name=f"Dana Owner{n}", mobile=mobile(n), state=state
        )
        lead.business.zip, lead.business.sic_code = zip_code, sic
        lead.quality_score, lead.tags, lead.last_contacted_at = score, tags, contacted
        leads[name.split()[0]] = lead
    db.session.commit()
    return leads


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, {"Alpha", "Bravo", "Charlie", "Delta"}),
        ({"states": "OK"}, {"Charlie"}),
        ({"states": "tx, ok"}, {"Alpha", "Bravo", "Charlie"}),
        ({"zips": "787"}, {"Alpha", "Bravo"}),
        ({"zips": "78701\n331"}, {"Alpha", "Delta"}),
        ({"sic_codes": "17"}, {"Alpha", "Charlie"}),
        ({"score_min": 60, "score_max": 80}, {"Alpha"}),
        ({"score_min": 60}, {"Alpha", "Charlie"}),
        ({"tags": "hvac"}, {"Alpha", "Charlie"}),
        ({"tags": "hvac", "exclude_tags": "warm"}, {"Charlie"}),
        ({"exclude_tags": "food"}, {"Alpha", "Charlie", "Delta"}),
        ({"never_contacted": "y"}, {"Alpha", "Charlie", "Delta"}),
        ({"states": "TX", "sic_codes": "17", "never_contacted": "y"}, {"Alpha"}),
    ],
)
def test_criteria_choose_the_leads(client, crew, kit, catalog, criteria, expected):
    template, sender = kit
    login(client, crew.operator)
    counts = audience_counts(
        client.post("/campaigns/audience", data=builder_form(template, sender, **criteria)).text
    )
    assert counts["Match the criteria"] == len(expected)
    campaign = create_campaign(client, template, sender, **criteria)
    found = campaigns.audience(
        db.session, crew.team.id, campaigns.Criteria.from_dict(campaign.criteria)
    )
    eligible = {c.lead_id for c in found.eligible}
    assert {name for name, lead in catalog.items() if lead.id in eligible} == expected


def test_live_count_on_the_edit_page_counts_leads_already_in_the_campaign(client, crew, kit):
    template, sender = kit
    make_leads(crew.team, 3)
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, batch_size=2)
    generate_batch(campaign)
    counts = audience_counts(
        client.post(
            f"/campaigns/audience?campaign_id={campaign.id}",
            data=builder_form(template, sender, batch_size=2),
        ).text
    )
    assert counts["Already in this campaign"] == 2
    assert counts["Can be texted"] == 1
    fresh = audience_counts(
        client.post("/campaigns/audience", data=builder_form(template, sender)).text
    )
    assert fresh["In another active campaign"] == 2


def test_edit_round_trip_keeps_every_choice(client, crew, kit):
    template, sender = kit
    nudge = make_template(crew.team, name="Nudge", variants=())
    nudge.touch = "follow_up"
    db.session.commit()
    login(client, crew.operator)
    choices = {
        "name": "Round trip <i>TX</i>",
        "persona": "CATHY",
        "score_min": 40,
        "score_max": 90,
        "statuses": ["new", "ready"],
        "tags": "hvac, warm",
        "exclude_tags": "cold",
        "states": "TX, OK",
        "zips": "787, 731",
        "sic_codes": "17",
        "naics_codes": "238",
        "employees_min": 5,
        "employees_max": 50,
        "revenue_min": 100000,
        "revenue_max": 5000000,
        "enrichment": "found",
        "never_contacted": "y",
        "last_contacted_before": "2026-01-15",
        "recent_contact_days": 45,
        "split_a": 70,
        "split_b": 30,
        "start_on": "2030-03-02",
        "daily_cap": 250,
        "batch_size": 400,
        "touch1_days": 3,
        "touch1_template": nudge.id,
        "touch2_days": 7,
        "touch2_template": template.id,
    }
    campaign = create_campaign(client, template, sender, **choices)
    saved = {
        "criteria": dict(campaign.criteria),
        "split": dict(campaign.split),
        "touches": list(campaign.touches),
        "start_at": campaign.start_at,
        "numbers": (campaign.recent_contact_days, campaign.daily_cap, campaign.batch_size),
        "names": (campaign.name, campaign.persona, campaign.template_id, campaign.sender_id),
    }
    assert saved["criteria"]["states"] == ["TX", "OK"]
    assert saved["criteria"]["statuses"] == ["new", "ready"]
    assert saved["split"] == {"A": 70, "B": 30}
    assert saved["touches"] == [
        {"after_days": 3, "template_id": nudge.id},
        {"after_days": 7, "template_id": template.id},
    ]
    # The start date begins at midnight on the team's clock (US Eastern by default).
    assert saved["start_at"] == datetime(2030, 3, 2, 5, tzinfo=UTC)

    page = client.get(f"/campaigns/{campaign.id}/edit")
    assert page.status_code == 200
    assert "Round trip &lt;i&gt;TX&lt;/i&gt;" in page.text
    posted = form_values(page.text, "builder")
    response = client.post(f"/campaigns/{campaign.id}/edit", data=_multi(posted))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.criteria == saved["criteria"]
    assert campaign.split == saved["split"]
    assert campaign.touches == saved["touches"]
    assert campaign.start_at == saved["start_at"]
    assert (campaign.recent_contact_days, campaign.daily_cap, campaign.batch_size) == saved[
        "numbers"
    ]
    assert (
        campaign.name,
        campaign.persona,
        campaign.template_id,
        campaign.sender_id,
    ) == saved["names"]


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs as the test client posts repeated names."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def test_start_date_begins_at_midnight_on_the_teams_clock(client, crew, kit):
    """A campaign starting Mar 2 in a Chicago team sends nothing on the evening of Mar 1."""
    template, sender = kit
    crew.team.settings = {**(crew.team.settings or {}), "time_zone": "America/Chicago"}
    db.session.commit()
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, start_on="2030-03-02")
    assert campaign.start_at == datetime(2030, 3, 2, 6, tzinfo=UTC)
    assert "From Mar 2, 2030, midnight CST" in client.get(f"/campaigns/{campaign.id}").text
    edit = form_values(client.get(f"/campaigns/{campaign.id}/edit").text, "builder")
    assert ("start_on", "2030-03-02") in edit


def test_edit_changes_the_campaign(client, crew, kit):
    template, sender = kit
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, states="TX")
    response = client.post(
        f"/campaigns/{campaign.id}/edit",
        data=builder_form(template, sender, name="Renamed", states="OK", batch_size=20),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (campaign.name, campaign.criteria["states"], campaign.batch_size) == (
        "Renamed",
        ["OK"],
        20,
    )


def test_campaign_name_is_escaped(client, crew, kit):
    template, sender = kit
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, name="<script>alert(1)</script>")
    for path in ("/campaigns/", f"/campaigns/{campaign.id}"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_a_fresh_teams_first_campaign_saves_with_the_offered_sender(client, crew):
    make_template(crew.team)
    login(client, crew.operator)
    page = client.get("/campaigns/new")
    assert page.status_code == 200
    offered = dict(form_values(page.text, "builder"))["sender_id"]
    db.session.expire_all()
    (sender,) = db.session.scalars(select(Sender).where(Sender.team_id == crew.team.id)).all()
    assert str(sender.id) == offered
    client.get("/campaigns/new")  # a second look offers the same, saved sender
    posted = _multi(form_values(page.text, "builder")) | {"name": ["First push"]}
    response = client.post("/campaigns/new", data=posted)
    assert response.status_code == 302, response.text
    campaign = db.session.scalars(select(Campaign).where(Campaign.name == "First push")).one()
    assert campaign.sender_id == sender.id
    assert db.session.scalar(select(func.count(Sender.id))) == 1


def test_a_team_with_no_sender_is_sent_to_settings_not_given_a_form_error(app, client, crew):
    app.config.update(
        TWILIO_SANDBOX=False, TWILIO_FROM_NUMBER="+15125550142", TWILIO_DEFAULT_SENDER_TEAM="x"
    )
    make_template(crew.team)
    login(client, crew.operator)
    page = client.get("/campaigns/new")
    assert page.status_code == 200
    assert "No number to send from yet" in page.text
    assert 'href="/settings/sending"' in page.text
    response = client.post("/campaigns/new", data={"name": "Push", "sender_id": "1"})
    assert "Not a valid choice" not in response.text
    assert "Settings &gt; Sending" in response.text
    assert campaign_count() == 0


# ----------------------------------------------------------------------- status changes


def test_pausing_a_campaign_pauses_its_sending_batches_and_resuming_restarts_them(
    client, crew, kit
):
    template, sender = kit
    make_leads(crew.team, 2)
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender)
    batch = generate_batch(campaign)
    batch.status = "approved"
    db.session.commit()

    paused = client.post(
        f"/campaigns/{campaign.id}/status", data={"action": "pause"}, follow_redirects=True
    )
    assert "Campaign paused." in paused.text
    db.session.expire_all()
    assert (campaign.status, batch.status) == ("paused", "paused")
    refused = client.post(f"/campaigns/{campaign.id}/batches", follow_redirects=True)
    assert "resume it to draft a batch" in refused.text
    assert db.session.scalar(select(func.count(Batch.id))) == 1

    client.post(f"/campaigns/{campaign.id}/status", data={"action": "resume"})
    db.session.expire_all()
    assert (campaign.status, batch.status) == ("active", "sending")


def test_pausing_a_campaign_holds_texts_approved_in_a_batch_still_in_review(client, crew, kit):
    template, sender = kit
    make_leads(crew.team, 3)
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender)
    batch = generate_batch(campaign)
    first = messages_of(batch)[0]
    client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": first.id},
    )
    db.session.expire_all()
    assert (batch.status, first.status) == ("in_review", "approved")
    assert batch.id in dispatch.due_batches(db.session)  # the ticker would send it now

    client.post(f"/campaigns/{campaign.id}/status", data={"action": "pause"})
    db.session.expire_all()
    assert campaign.status == "paused"
    assert batch.id not in dispatch.due_batches(db.session)


def test_finishing_a_campaign_ends_its_enrollments(client, crew, kit):
    template, sender = kit
    make_leads(crew.team, 2)
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender)
    generate_batch(campaign)
    client.post(f"/campaigns/{campaign.id}/status", data={"action": "finish"})
    db.session.expire_all()
    assert campaign.status == "finished"
    statuses = set(
        db.session.scalars(select(Enrollment.status).where(Enrollment.campaign_id == campaign.id))
    )
    assert statuses == {"finished"}


def test_a_status_change_that_does_not_apply_is_explained(client, crew, kit, ours):
    login(client, crew.operator)
    response = client.post(
        f"/campaigns/{ours.id}/status", data={"action": "resume"}, follow_redirects=True
    )
    assert "A draft campaign can&#39;t be active." in response.text
    assert (
        client.post(f"/campaigns/{ours.id}/status", data={"action": "explode"}).status_code == 400
    )
    db.session.expire_all()
    assert ours.status == "draft"


def test_last_contacted_before_is_a_date(client, crew, kit):
    template, sender = kit
    login(client, crew.operator)
    campaign = create_campaign(client, template, sender, last_contacted_before="2026-01-15")
    assert campaign.criteria["last_contacted_before"] == date(2026, 1, 15).isoformat()


def test_replies_after_the_last_touch_count_as_replied(client, crew):
    from tests.web.inbox_helpers import add_sender, make_desk, receive_text, texted_lead

    desk = make_desk(crew)
    finished = texted_lead(desk, 1)
    db.session.add(
        Enrollment(
            team_id=crew.team.id,
            campaign_id=desk.campaign.id,
            lead_id=finished.id,
            e164=mobile(1),
            status="finished",
            touches_sent=3,
        )
    )
    db.session.commit()
    receive_text(desk, mobile(1), "Who is this? Maybe later in the year.")
    # A number that wrote to another line first, then got this campaign's text.
    other = add_sender(desk, "+15125550177")
    receive_text(desk, mobile(2), "Hello?", to=other.address)
    texted_lead(desk, 2, sent_at=utcnow())
    receive_text(desk, mobile(2), "Not now, thanks", to=other.address)
    receive_text(desk, mobile(3), "Wrong number")  # never texted by the campaign
    db.session.commit()
    assert (
        campaigns.campaign_stats(db.session, [desk.campaign.id])[desk.campaign.id]["replied"] == 2
    )
    login(client, crew.operator)
    page = client.get(f"/campaigns/{desk.campaign.id}").text
    assert "<dt>Replied</dt><dd>2</dd>" in page
