"""CSRF protection on plain form posts and on htmx posts."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_login_form_post_without_token_is_refused(csrf_client, crew):
    response = csrf_client.post("/login", data={"email": crew.admin.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.text


def _signed_in(csrf_client, user) -> str:
    token = _token(csrf_client.get("/login").text)
    response = csrf_client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return _token(csrf_client.get("/", follow_redirects=True).text)


def test_form_post_needs_the_token(csrf_client, crew):
    token = _signed_in(csrf_client, crew.admin)
    refused = csrf_client.post(f"/settings/users/{crew.reviewer.id}", data={"role": "manager"})
    assert refused.status_code == 400
    accepted = csrf_client.post(
        f"/settings/users/{crew.reviewer.id}",
        data={"role": "manager", "active": "y", "csrf_token": token},
    )
    assert accepted.status_code == 302


def test_htmx_post_needs_the_header_from_hx_headers(csrf_client, crew):
    token = _signed_in(csrf_client, crew.manager)
    refused = csrf_client.post("/jobs/worker-check", headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert "<html" not in refused.text  # an htmx request gets a fragment
    accepted = csrf_client.post(
        "/jobs/worker-check", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert accepted.status_code == 302


def test_logout_is_a_post_with_a_token(csrf_client, crew):
    _signed_in(csrf_client, crew.operator)
    assert csrf_client.get("/logout").status_code == 405
    assert csrf_client.post("/logout").status_code == 400
