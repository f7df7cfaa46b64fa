"""Team data is isolated: another team's records never show, and their pages 404."""

from __future__ import annotations

from console.extensions import db
from console.models import JobRun
from console.services import jobruns
from tests.conftest import login, make_lead


def test_leads_list_never_shows_another_teams_leads(client, crew, outsider):
    make_lead(crew.team, "Harbor Welding LLC", "Ann Lee", "+15125550101")
    make_lead(outsider.team, "Rival Secret Bakery Inc", "Bo Rival", "+15125550102")
    login(client, crew.operator)
    page = client.get("/leads/")
    assert "Harbor Welding LLC" in page.text
    assert "Rival Secret Bakery" not in page.text
    search = client.get("/leads/?q=Rival")
    assert "Rival Secret Bakery" not in search.text
    export = client.get("/leads/export.csv")
    assert "Harbor Welding LLC" in export.text and "Rival Secret Bakery" not in export.text


def test_another_teams_lead_page_is_a_404(client, crew, outsider):
    theirs = make_lead(outsider.team, "Rival Secret Bakery Inc")
    ours = make_lead(crew.team, "Harbor Welding LLC")
    login(client, crew.admin)
    assert client.get(f"/leads/{ours.id}").status_code == 200
    response = client.get(f"/leads/{theirs.id}")
    assert response.status_code == 404
    assert "Rival" not in response.text


def test_another_teams_job_is_a_404_and_cannot_be_retried(client, crew, outsider):
    run = jobruns.create_run(
        db.session,
        team_id=outsider.team.id,
        kind="worker_check",
        title="Theirs",
        started_by_id=outsider.admin.id,
    )
    db.session.commit()
    jobruns.fail_run(db.session, run.id, "boom")
    login(client, crew.admin)
    assert client.get(f"/jobs/{run.id}").status_code == 404
    assert client.post(f"/jobs/{run.id}/retry").status_code == 404
    assert db.session.get(JobRun, run.id).status == "failed"
    assert "Theirs" not in client.get("/jobs/").text


def test_admin_cannot_edit_another_teams_user(client, crew, outsider):
    login(client, crew.admin)
    response = client.post(
        f"/settings/users/{outsider.reviewer.id}", data={"role": "admin", "active": "y"}
    )
    assert response.status_code == 404
    db.session.refresh(outsider.reviewer)
    assert outsider.reviewer.role == "reviewer"
    assert outsider.reviewer.email not in client.get("/settings/users").text


def test_dashboard_counts_only_our_team(client, crew, outsider):
    make_lead(crew.team, "Ours One")
    for n in range(3):
        make_lead(outsider.team, f"Theirs {n}")
    login(client, crew.manager)
    page = client.get("/")
    assert 'class="tile-value">1<' in page.text


def test_every_route_of_a_deal_is_a_404_for_another_teams_deal(app, client, crew, outsider):
    """Found from the URL map, so a deal route added later is covered without a list."""
    from tests.deal_helpers import make_deal, stage_id

    theirs = make_lead(outsider.team, "Rival Secret Bakery Inc", "Bo Rival", "+15125550102")
    deal = make_deal(outsider.team.id, theirs, "Qualified", assignee_id=outsider.admin.id)
    db.session.commit()
    form = {
        "stage_id": stage_id(outsider.team.id, "Valuation"),
        "seen_stage_id": deal.stage_id,
        "title": "Mine now",
        "value": "1",
        "body": "Hello",
    }
    rules = [rule for rule in app.url_map.iter_rules() if "deal_id" in rule.arguments]
    assert len(rules) >= 6
    login(client, crew.admin)
    for rule in rules:
        path = rule.rule.replace("<int:deal_id>", str(deal.id))
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(path, method=method, data=form if method == "POST" else None)
            assert response.status_code == 404, (method, path, response.status_code)
            assert "Rival" not in response.text
    db.session.expire_all()
    assert (deal.title, deal.stage.name) == ("Rival Secret Bakery Inc", "Qualified")
    board = client.get("/pipeline").text + client.get("/deals").text
    assert "Rival" not in board and "Rival" not in client.get("/deals.csv").text
