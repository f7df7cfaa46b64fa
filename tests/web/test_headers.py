"""Security headers: a strict Content-Security-Policy the pages keep to, no caching of
signed-in pages and exports, HSTS over https, and one CSV content type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from console.services.csvfiles import CSV_CONTENT_TYPE
from console.web import CONTENT_SECURITY_POLICY
from tests.conftest import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def test_every_answer_carries_the_policy_and_the_browser_headers(client):
    response = client.get("/login")
    assert CONTENT_SECURITY_POLICY == POLICY
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/leads/", "/inbox", "/settings/"])
def test_signed_in_pages_are_not_stored(client, crew, path):
    login(client, crew.admin)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path", ["/leads/export.csv", "/inbox?format=csv", "/settings/users.csv", "/jobs/export.csv"]
)
def test_exports_of_personal_data_are_not_stored_and_say_utf8_once(client, crew, path):
    login(client, crew.admin)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == CSV_CONTENT_TYPE == "text/csv; charset=utf-8"


def test_static_files_stay_cacheable(client, crew):
    login(client, crew.admin)
    response = client.get("/static/css/console.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_when_the_request_came_over_https(client):
    response = client.get("/login", base_url="https://console.test")
    assert response.headers["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize("app_overrides", [{"PUBLIC_BASE_URL": "https://console.example.com"}])
def test_hsts_when_the_console_is_published_over_https(client):
    assert client.get("/login").headers["Strict-Transport-Security"] == HSTS


def test_htmx_injects_no_style_and_evaluates_nothing(client):
    page = client.get("/login").text
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)[1])
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("inline event handlers", r"\son[a-z]+\s*="),
        ("inline scripts", r"<script(?![^>]*\ssrc=)[^>]*>"),
        ("inline styles", r"\sstyle\s*=|<style"),
        ("hx-on handlers or js: values", r"hx-on|[\"']js:|javascript:"),
    ],
)
def test_templates_need_nothing_the_policy_refuses(what, pattern):
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert not found, f"{what}: {found}"
