"""Styled error pages, as full pages and as htmx fragments."""

from __future__ import annotations

from tests.conftest import login


def test_missing_page_is_a_styled_404(client, crew):
    login(client, crew.operator)
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "<html" in page.text and "belongs to another team" in page.text
    fragment = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "<html" not in fragment.text


def test_crash_is_a_styled_500_that_says_nothing_changed(app, client, crew):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(client, crew.operator)
    page = client.get("/explode")
    assert page.status_code == 500
    assert "Something went wrong" in page.text and "secret internals" not in page.text
    fragment = client.get("/explode", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and "<html" not in fragment.text


def test_pages_send_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
