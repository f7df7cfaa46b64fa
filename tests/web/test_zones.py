"""Time people can read: the team's zone and each user's own, every time shown in the
viewer's zone with the zone named, and the owner's clock beside the owner."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import select

import console
from console.extensions import db
from console.models import AuditEvent, JobRun, User
from console.services import timezones
from console.services.campaigns import batches
from tests.clock import TEST_NOW
from tests.conftest import PASSWORD, login, make_lead
from tests.sending_helpers import Clock
from tests.web.campaign_helpers import (
    add_campaign,
    make_leads,
    make_template,
    messages_of,
    row_html,
    team_sender,
)
from tests.web.inbox_helpers import make_desk, reply_from, texted_lead

IL_MOBILE = "+13125550100"
# TEST_NOW is 9:00 pm UTC on Wednesday Jan 14, 2026: 3:00 pm in Chicago, 4:00 pm in New York.
CHICAGO_NOW = "3:00 pm for the owner, Chicago"


@pytest.fixture
def stopped_clock(monkeypatch) -> Clock:
    """Pages read TEST_NOW, whatever the hour the suite runs."""
    clock = Clock(TEST_NOW)
    monkeypatch.setattr(console, "utcnow", clock)
    return clock


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _zone_of(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).time_zone


def _team_settings(team) -> dict:
    db.session.expire_all()
    db.session.refresh(team)
    return dict(team.settings or {})


def _job_run(team, user) -> JobRun:
    run = JobRun(team_id=team.id, kind="worker_check", title="Worker check", status="done")
    run.started_by_id = user.id
    run.created_at = TEST_NOW
    db.session.add(run)
    db.session.commit()
    return run


# -- the user's own zone ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account"])
def test_account_page_needs_a_sign_in(client, crew, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_user_menu_links_to_your_account(client, crew):
    login(client, crew.reviewer)
    page = client.get("/", follow_redirects=True).text  # reviewers land on the inbox
    assert 'href="/account"' in page and "Your account" in page


def test_user_chooses_their_own_zone_and_reads_times_in_it(client, crew, stopped_clock):
    run = _job_run(crew.team, crew.manager)
    login(client, crew.manager)
    assert "Jan 14, 2026, 4:00 pm EST" in client.get(f"/jobs/{run.id}").text
    page = client.get("/account")
    assert page.status_code == 200
    assert "The team&#39;s zone: Eastern (New York)" in page.text
    assert "It is now Jan 14, 2026, 4:00 pm EST." in page.text

    response = client.post("/account", data={"time_zone": "America/Los_Angeles"})
    assert response.status_code == 302
    assert _zone_of(crew.manager) == "America/Los_Angeles"
    shown = client.get(f"/jobs/{run.id}").text
    assert "Jan 14, 2026, 1:00 pm PST" in shown
    assert "UTC" not in shown
    # Their teammates still read the team's zone.
    assert _zone_of(crew.operator) == ""


def test_user_goes_back_to_the_teams_zone(client, crew):
    crew.operator.time_zone = "America/Denver"
    db.session.commit()
    login(client, crew.operator)
    assert client.post("/account", data={"time_zone": ""}).status_code == 302
    assert _zone_of(crew.operator) == ""


def test_unknown_zone_is_refused_and_nothing_saved(client, crew):
    crew.operator.time_zone = "America/Denver"
    db.session.commit()
    login(client, crew.operator)
    response = client.post("/account", data={"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert "&#39;Mars/Olympus_Mons&#39; is not a time zone we know" in response.text
    assert _zone_of(crew.operator) == "America/Denver"


def test_zone_names_typed_into_the_form_are_escaped(client, crew):
    login(client, crew.operator)
    response = client.post("/account", data={"time_zone": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text


def test_account_form_needs_the_csrf_token(csrf_client, crew):
    token = _token(csrf_client.get("/login").text)
    csrf_client.post(
        "/login", data={"email": crew.reviewer.email, "password": PASSWORD, "csrf_token": token}
    )
    refused = csrf_client.post("/account", data={"time_zone": "America/Chicago"})
    assert refused.status_code == 400
    assert _zone_of(crew.reviewer) == ""
    token = _token(csrf_client.get("/account").text)
    accepted = csrf_client.post(
        "/account", data={"time_zone": "America/Chicago", "csrf_token": token}
    )
    assert accepted.status_code == 302
    assert _zone_of(crew.reviewer) == "America/Chicago"


def test_a_user_changes_only_their_own_zone(client, crew, outsider):
    login(client, crew.admin)
    client.post("/account", data={"time_zone": "America/Chicago", "user_id": outsider.admin.id})
    assert _zone_of(crew.admin) == "America/Chicago"
    assert _zone_of(outsider.admin) == ""
    assert _zone_of(crew.operator) == ""


# -- the team's zone ----------------------------------------------------------------


def test_admin_sets_the_teams_zone_and_the_change_is_audited(client, crew, outsider, stopped_clock):
    run = _job_run(crew.team, crew.admin)
    login(client, crew.admin)
    page = client.get("/settings/").text
    assert 'action="/settings/time-zone"' in page
    assert '<option selected value="America/New_York">Eastern (New York)</option>' in page

    response = client.post("/settings/time-zone", data={"time_zone": "America/Chicago"})
    assert response.status_code == 302
    assert _team_settings(crew.team)["time_zone"] == "America/Chicago"
    assert "time_zone" not in _team_settings(outsider.team)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "team.time_zone")
    ).one()
    assert (event.team_id, event.actor_id) == (crew.team.id, crew.admin.id)
    assert (event.before, event.after) == (
        {"time_zone": "America/New_York"},
        {"time_zone": "America/Chicago"},
    )
    # Everyone without a zone of their own now reads Central time.
    assert "Jan 14, 2026, 3:00 pm CST" in client.get(f"/jobs/{run.id}").text


def test_the_teams_zone_keeps_other_settings(client, crew):
    crew.team.settings = {"skiptrace": {"threshold": 70}}
    db.session.commit()
    login(client, crew.admin)
    client.post("/settings/time-zone", data={"time_zone": "America/Phoenix"})
    assert _team_settings(crew.team) == {
        "skiptrace": {"threshold": 70},
        "time_zone": "America/Phoenix",
    }


@pytest.mark.parametrize("role", ["manager", "operator", "reviewer"])
def test_only_an_admin_sets_the_teams_zone(client, crew, role):
    login(client, getattr(crew, role))
    response = client.post("/settings/time-zone", data={"time_zone": "America/Chicago"})
    assert response.status_code == 403
    assert "time_zone" not in _team_settings(crew.team)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "team.time_zone")
    ).all()


def test_a_manager_sees_the_teams_zone_without_the_form(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/").text
    assert "<strong>Eastern (New York)</strong>" in page
    assert 'action="/settings/time-zone"' not in page


def test_unknown_team_zone_is_refused_and_nothing_saved(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/time-zone", data={"time_zone": "Atlantis/Capital"})
    assert response.status_code == 400
    assert "is not a time zone we know" in response.text
    assert "time_zone" not in _team_settings(crew.team)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "team.time_zone")
    ).all()


def test_team_zone_form_needs_the_csrf_token(csrf_client, crew):
    token = _token(csrf_client.get("/login").text)
    csrf_client.post(
        "/login", data={"email": crew.admin.email, "password": PASSWORD, "csrf_token": token}
    )
    refused = csrf_client.post("/settings/time-zone", data={"time_zone": "America/Chicago"})
    assert refused.status_code == 400
    token = _token(csrf_client.get("/settings/").text)
    accepted = csrf_client.post(
        "/settings/time-zone", data={"time_zone": "America/Chicago", "csrf_token": token}
    )
    assert accepted.status_code == 302
    assert _team_settings(crew.team)["time_zone"] == "America/Chicago"


# -- times outside a signed-in request ----------------------------------------------


def test_times_outside_a_request_read_us_eastern_unless_a_zone_is_given(app):
    template = "{{ at | when }} / {{ at | when('America/Chicago') }}"
    assert render_template_string(template, at=TEST_NOW) == (
        "Jan 14, 2026, 4:00 pm EST / Jan 14, 2026, 3:00 pm CST"
    )
    with app.test_request_context("/"):
        assert render_template_string("{{ at | when }}", at=TEST_NOW) == (
            "Jan 14, 2026, 4:00 pm EST"
        )


# -- the owner's clock --------------------------------------------------------------


def test_lead_page_shows_the_owners_clock(client, crew, stopped_clock):
    lead = make_lead(crew.team, "Loop Deli LLC", "Dana Reyes", mobile=IL_MOBILE, state="IL")
    crew.reviewer.time_zone = "America/Los_Angeles"
    db.session.commit()
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    clock = timezones.owner_clock(lead)
    assert f'<p class="owner-clock" title="{clock.doubt}">{CHICAGO_NOW}</p>' in page


def test_lead_page_says_when_the_owner_may_be_in_another_zone(client, crew, stopped_clock):
    lead = make_lead(crew.team, "Panhandle Feed", "Dana Reyes", state="TX", city="")
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    match = re.search(r'<p class="owner-clock" title="([^"]+)">([^<]+)<', page)
    assert match, "no owner clock"
    assert "more than one zone" in match.group(1) and "TX" in match.group(1)
    assert match.group(2).strip() == CHICAGO_NOW
    assert "(or another zone)" in page


def test_lead_page_without_a_place_shows_no_clock(client, crew, stopped_clock):
    lead = make_lead(crew.team, "Nowhere Inc", state="")
    login(client, crew.reviewer)
    assert 'class="owner-clock"' not in client.get(f"/leads/{lead.id}").text


def test_inbox_detail_shows_the_owners_clock(client, crew, stopped_clock, monkeypatch):
    monkeypatch.setattr("console.inbox.routes.utcnow", stopped_clock)
    desk = make_desk(crew)
    lead = texted_lead(desk, 7)
    lead.business.state, lead.business.city = "IL", "Chicago"
    db.session.commit()
    item = reply_from(desk, lead.owner.phones[0].e164, "Yes, tell me more")
    login(client, crew.reviewer)
    for response in (
        client.get(f"/inbox/{item.id}"),
        client.get(f"/inbox/{item.id}", headers={"HX-Request": "true"}),
    ):
        assert re.search(
            rf'<dt>Their time</dt><dd title="From state IL[^"]*">{CHICAGO_NOW}</dd>',
            response.text,
        ), response.text
    # The list's deadline, on hover, is in the viewer's zone too.
    listed = client.get("/inbox").text
    assert re.search(r'title="Answer by [A-Z][a-z]{2} \d{1,2}, \d{4}, [^"]+ E[SD]T"', listed), (
        listed
    )


def test_batch_rows_show_each_owners_time(client, app, crew, stopped_clock):
    leads = make_leads(crew.team, 2)
    leads[0].business.state = "IL"
    db.session.commit()
    campaign = add_campaign(crew.team, make_template(crew.team), team_sender(app, crew.team))
    batch = batches.create_batch(db.session, campaign, None)
    db.session.commit()
    batches.generate(db.session, batch.id)
    login(client, crew.operator)
    page = client.get(f"/campaigns/batches/{batch.id}").text
    rows = [row_html(page, m.id) for m in messages_of(batch)]
    assert all("3:00 pm, Chicago</span>" in row for row in rows), rows
    assert any('title="For the owner. From state IL' in row for row in rows)
