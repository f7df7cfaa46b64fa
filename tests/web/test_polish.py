"""Small things a person notices: the console's icon, the demo sign-in that fills the
form, and the webhook address Settings shows for the port the console really runs on."""

from __future__ import annotations

import re

import pytest

from console.services.demo import DEMO_PASSWORD, DEMO_USERS
from tests.conftest import login


def test_favicon_answers_with_the_consoles_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    response.close()
    static = client.get("/static/favicon.svg")
    assert static.status_code == 200
    static.close()


def test_every_page_links_the_icon(client, crew):
    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert link in client.get("/login").text
    login(client, crew.operator)
    assert link in client.get("/").text


def test_demo_users_on_the_login_page_fill_the_form(app, client):
    app.config["CONSOLE_MODE"] = "embedded"
    page = client.get("/login").text
    for role, email, _name in DEMO_USERS:
        button = re.search(
            rf'<button type="button" class="link demo-user"[^>]*'
            rf'data-email="{re.escape(email)}"[^>]*>',
            page,
        )
        assert button is not None, email
        assert f'data-password="{DEMO_PASSWORD}"' in button.group(0)
        assert f'aria-label="Fill the form as {role.label} ({email})"' in button.group(0)
    # The filling is a file of its own: the policy refuses inline script.
    assert '<script src="/static/js/login.js" defer></script>' in page
    assert "<script>" not in page


def test_production_login_page_lists_no_demo_users(app, client):
    app.config["CONSOLE_MODE"] = "production"
    assert "demo-user" not in client.get("/login").text


@pytest.fixture
def settings_page(app, client, crew):
    """Settings' overview as the admin, asked at `base_url` (where the console runs)."""
    login(client, crew.admin)

    def read(base_url: str = "http://console.test:5123") -> str:
        response = client.get("/settings/", base_url=base_url)
        assert response.status_code == 200
        facts = re.search(r"<dt>Webhook base URL</dt><dd>(.*?)</dd>", response.text, re.S)
        return " ".join(facts.group(1).split())

    return read


def test_embedded_settings_show_the_webhook_address_the_console_runs_at(app, settings_page):
    app.config |= {"CONSOLE_MODE": "embedded", "PUBLIC_BASE_URL_SET": False}
    shown = settings_page("http://console.test:5123")
    assert "<code>http://console.test:5123</code>" in shown
    assert "5000" not in shown
    assert "PUBLIC_BASE_URL is not set" in shown
    assert "<code>http://console.test:5123/webhooks/twilio/sms</code>" in shown
    assert "<code>http://console.test:5123/webhooks/twilio/status</code>" in shown


def test_a_set_public_base_url_is_what_settings_show(app, settings_page):
    app.config |= {
        "CONSOLE_MODE": "production",
        "PUBLIC_BASE_URL": "https://console.example.com",
        "PUBLIC_BASE_URL_SET": True,
    }
    shown = settings_page()
    assert "<code>https://console.example.com</code>" in shown
    assert "<code>https://console.example.com/webhooks/twilio/sms</code>" in shown
    assert "not set" not in shown
    app.config["CONSOLE_MODE"] = "embedded"  # set, it wins in embedded mode too
    assert "<code>https://console.example.com</code>" in settings_page()


def test_production_settings_say_clearly_when_public_base_url_is_unset(app, settings_page):
    app.config |= {
        "CONSOLE_MODE": "production",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "PUBLIC_BASE_URL_SET": False,
    }
    shown = settings_page()
    assert "<code>http://127.0.0.1:5000</code>" in shown
    assert "PUBLIC_BASE_URL is not set." in shown
    assert 'role="alert"' in shown


def test_config_knows_whether_public_base_url_was_set():
    from console.config import Config

    assert Config({"SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://c.example"}).PUBLIC_BASE_URL_SET
    assert not Config({"SECRET_KEY": "x"}).PUBLIC_BASE_URL_SET


# Forms whose answer re-renders the very controls that sent it (a mapping's selects, the
# pass's filters): an answer to an older choice must never land over a newer one, so the
# newer request replaces the older (one console line when a person changes two at once).
REPLACING_FORMS = {
    "imports/mapping.html",
    "skiptrace/file_mapping.html",
    "skiptrace/new.html",
}


def test_no_live_count_aborts_its_own_requests():
    """htmx writes every aborted request to the browser's console as an error
    (htmx:sendAbort): a live count waits for the answer before (`queue last`) instead."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    aborting = {
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if re.search(r'hx-sync="[^"]*(replace|abort)', path.read_text())
    }
    assert aborting == REPLACING_FORMS
