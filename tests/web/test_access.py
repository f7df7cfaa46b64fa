"""Every page needs a signed-in user, and role-restricted pages refuse lower roles."""

from __future__ import annotations

import re

import pytest

from console.extensions import db
from console.models import Role
from tests.conftest import login, make_lead

# The only endpoints a stranger may reach (an invitation link is its own key).
PUBLIC_ENDPOINTS = {"auth.login", "auth.accept_invitation", "static", "favicon"}


def _sample_url(rule) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def test_every_route_but_login_and_static_requires_login(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("webhooks."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_sample_url(rule), method=method)
            assert response.status_code == 302, (
                f"{method} {rule.rule} answered {response.status_code}"
            )
            assert "/login" in response.headers["Location"], rule.rule
            checked += 1
    assert checked >= 10


def test_role_restricted_routes_declare_their_roles(app):
    restricted = {
        rule.endpoint: app.view_functions[rule.endpoint].required_roles
        for rule in app.url_map.iter_rules()
        if hasattr(app.view_functions[rule.endpoint], "required_roles")
    }
    assert restricted["settings.users"] == (Role.ADMIN,)
    assert restricted["settings.update_user"] == (Role.ADMIN,)
    assert Role.OPERATOR not in restricted["settings.index"]


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (Role.OPERATOR, "/settings/", 403),
        (Role.REVIEWER, "/settings/", 403),
        (Role.MANAGER, "/settings/", 200),
        (Role.ADMIN, "/settings/", 200),
        (Role.MANAGER, "/settings/users", 403),
        (Role.OPERATOR, "/settings/users", 403),
        (Role.ADMIN, "/settings/users", 200),
    ],
)
def test_roles_are_enforced_on_pages(client, crew, role, path, expected):
    login(client, crew.by_role(role))
    assert client.get(path).status_code == expected


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER, Role.MANAGER])
def test_only_admins_change_roles(client, crew, role):
    login(client, crew.by_role(role))
    response = client.post(
        f"/settings/users/{crew.reviewer.id}", data={"role": "admin", "active": "y"}
    )
    assert response.status_code == 403
    db.session.refresh(crew.reviewer)
    assert crew.reviewer.role == "reviewer"


def test_reviewer_cannot_start_a_worker_check(client, crew):
    login(client, crew.reviewer)
    assert client.post("/jobs/worker-check").status_code == 403


def test_forbidden_page_is_styled_and_htmx_gets_a_fragment(client, crew):
    login(client, crew.operator)
    page = client.get("/settings/")
    assert page.status_code == 403
    assert "<html" in page.text and "Your role does not allow this" in page.text
    fragment = client.get("/settings/", headers={"HX-Request": "true"})
    assert fragment.status_code == 403
    assert "<html" not in fragment.text and "Your role does not allow this" in fragment.text


def test_reviewers_land_on_the_inbox_after_sign_in_and_on_home(client, crew):
    response = login(client, crew.reviewer)
    assert response.headers["Location"] == "/inbox"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/inbox"
    inbox = client.get("/inbox")
    assert inbox.status_code == 200 and ">Dashboard</a>" not in inbox.text


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.ADMIN])
def test_operators_and_up_land_on_the_dashboard(client, crew, role):
    response = login(client, crew.by_role(role))
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "Leads by status" in page.text


def test_reviewers_cannot_export_the_lead_database(client, crew):
    make_lead(crew.team, "Harbor Welding LLC")
    login(client, crew.reviewer)
    assert client.get("/leads/export.csv").status_code == 403
    assert "/leads/export.csv" not in client.get("/leads/").text
    client.post("/logout")
    login(client, crew.operator)
    assert "/leads/export.csv" in client.get("/leads/").text
    assert client.get("/leads/export.csv").status_code == 200
