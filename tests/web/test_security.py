"""Out-of-range and non-finite numbers never crash a page: a walker over every route.

The walker finds its targets itself (the URL map, the names the code reads from query
strings and forms, the forms the pages render, the form classes), so a new route or
field is covered without touching this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter
from wtforms import DecimalField, FloatField

import console
from console.extensions import db
from console.forms import Finite
from console.models import Lead, MatchReview
from console.models.skiptrace import PROVIDER_KINDS
from console.services import demo
from console.services.lists.resolve import RULES
from console.services.tracing import provider_settings
from tests.conftest import login
from tests.web.campaign_helpers import add_campaign, generate_batch, make_template, team_sender

HUGE = "9" * 20
NON_FINITE = ("NaN", "nan", "sNaN", "inf", "-inf", "Infinity", "1e400", "-1e400")
SKIPPED_ENDPOINTS = {"auth.logout", "static"}
PACKAGE = Path(console.__file__).parent


def _fill(rule, value: str) -> str:
    """The rule's path with every int argument set to `value` (others to "x")."""
    return re.sub(
        r"<([^>:]+:)?([^>]+)>",
        lambda m: value if isinstance(rule._converters[m[2]], IntegerConverter) else "x",
        rule.rule,
    )


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _read_names() -> set[str]:
    """Every name the console reads from a query string or a form, found in its source."""
    pattern = re.compile(r'(?:\.get(?:list)?\(|int_(?:arg|list)\([^,()]+,)\s*"([a-z_]+)"')
    return {
        name
        for path in PACKAGE.rglob("*.py")
        for name in pattern.findall(path.read_text(encoding="utf-8"))
    }


def _request(client, method: str, url: str, **kwargs) -> int | str:
    """The status, or the exception's name when the request crashed."""
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a crash is what the walker reports
        return f"{type(exc).__name__}: {exc}"[:200]
    return response.status_code


def _crashed(status: int | str) -> bool:
    return not isinstance(status, int) or status >= 500


def test_huge_ids_in_paths_are_404(app, client, crew):
    login(client, crew.admin)
    tried, failures = 0, []
    for rule in app.url_map.iter_rules():
        if not any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            continue
        for method in _methods(rule):
            status = _request(client, method, _fill(rule, HUGE))
            tried += 1
            if status != 404:
                failures.append(f"{method} {rule.rule}: {status}")
    assert tried >= 40
    assert not failures, failures


def test_huge_numbers_in_list_queries_are_not_errors(app, client, crew):
    login(client, crew.admin)
    names = _read_names()
    assert {"page", "score_min", "import_id", "preset", "campaign", "assignee"} <= names
    huge = dict.fromkeys(names, HUGE)
    tried, failures = 0, []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for extra in ({}, {"format": "csv"}):
            url = f"{rule.rule}?{urlencode(huge | extra)}"
            status = _request(client, "GET", url)  # the test client reads a whole stream
            tried += 1
            if _crashed(status):
                failures.append(f"GET {url[:60]}...: {status}")
    assert tried >= 30
    assert not failures, failures


def test_huge_id_filters_leave_the_csv_exports_whole(client, crew):
    login(client, crew.operator)
    for url in (f"/leads/export.csv?import_id={HUGE}", f"/inbox?format=csv&campaign={HUGE}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.text.count("\n") == 1, url  # the header, and no lead matches


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1e3", "0x10", HUGE])
def test_ids_that_are_not_ids_are_ignored_in_bulk_posts(client, crew, value):
    login(client, crew.operator)
    response = client.post("/leads/tag", data={"lead_id": value, "new_tag": "hot"})
    assert response.status_code == 302
    assert client.post("/inbox/bulk", data={"ids": value, "action": "archive"}).status_code == 200


def test_a_huge_assignee_is_not_found(client, crew):
    login(client, crew.reviewer)
    assert client.post("/inbox/bulk", data={"action": "assign", "assignee": HUGE}).status_code == (
        404
    )


# Forms as the pages render them, posted back with numbers no row or column can hold.


class _Forms(HTMLParser):
    """The forms of a page: where each posts, and its fields with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict] = {}
        self.links: list[str] = []
        self._open: list[str] = []
        self._select: tuple[str, str] | None = None
        self._textarea: tuple[str, str] | None = None

    def _form_of(self, attrs: dict) -> dict | None:
        key = attrs.get("form") or (self._open[-1] if self._open else None)
        return self.forms.get(key) if key else None

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = {k: v or "" for k, v in attrs}
        if tag == "a" and attrs.get("href", "").startswith("/"):
            self.links.append(attrs["href"])
        if tag == "form":
            key = attrs.get("id") or f"form-{len(self.forms)}"
            action = attrs.get("hx-post") or attrs.get("action", "")
            method = "POST" if attrs.get("hx-post") else attrs.get("method", "get").upper()
            self.forms[key] = {"action": action, "method": method, "fields": []}
            self._open.append(key)
            return
        form = self._form_of(attrs)
        if form is None or not attrs.get("name"):
            if tag == "option" and self._select and attrs.get("value"):
                self._add_option(attrs["value"])
            return
        name = attrs["name"]
        if tag in ("input", "button"):
            kind = attrs.get("type", "text" if tag == "input" else "submit")
            if kind != "file":
                form["fields"].append((name, attrs.get("value", ""), kind))
        elif tag == "select":
            self._select = (id(form), name)
            form["fields"].append((name, "", "select"))
            self._current_select_form = form
        elif tag == "textarea":
            self._textarea = (id(form), name)
            form["fields"].append((name, "", "textarea"))

    def _add_option(self, value: str) -> None:
        fields = self._current_select_form["fields"]
        for i in range(len(fields) - 1, -1, -1):
            if fields[i][0] == self._select[1] and fields[i][2] == "select" and not fields[i][1]:
                fields[i] = (fields[i][0], value, "select")
                return

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open:
            self._open.pop()
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _page_forms(html: str, page_url: str) -> tuple[list[dict], list[str]]:
    parser = _Forms()
    parser.feed(html)
    forms = []
    for form in parser.forms.values():
        form["action"] = form["action"] or urlsplit(page_url).path
        forms.append(form)
    return forms, parser.links


def _endpoint(app, url: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("console.test").match(urlsplit(url).path, method="GET")
    except Exception:  # noqa: BLE001 - not a page (or only posted to)
        return None
    return endpoint


def _crawl(app, client, start: tuple[str, ...]) -> list[dict]:
    """The forms of the pages reachable from `start`, one page per endpoint."""
    seen_endpoints: set[str] = set()
    queue, forms = list(start), []
    while queue:
        url = queue.pop(0)
        endpoint = _endpoint(app, url)
        if endpoint is None or endpoint in seen_endpoints or endpoint in SKIPPED_ENDPOINTS:
            continue
        seen_endpoints.add(endpoint)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        page_forms, links = _page_forms(response.text, url)
        forms += page_forms
        queue += [link for link in links if not link.endswith(".csv")]
    return forms


@pytest.fixture
def world(app, crew):
    """The demo sample in our team, with replies, a batch, a provider and a review pair."""
    team = crew.team
    demo.prepare_outreach(db.session, team, app.config)
    db.session.commit()
    demo.seed_sample(db.session, team, Path(app.config["UPLOAD_DIR"]))
    demo.seed_replies(db.session, team)
    generate_batch(add_campaign(team, make_template(team), team_sender(app, team)))
    provider_settings.add_provider(db.session, team.id, next(iter(PROVIDER_KINDS)), "Walker")
    lead, other = db.session.scalars(select(Lead).where(Lead.team_id == team.id).limit(2))
    db.session.add(
        MatchReview(
            team_id=team.id,
            lead_id=lead.id,
            other_lead_id=other.id,
            lead_code=lead.code,
            other_code=other.code,
            rule=next(iter(RULES)),
            score=80,
        )
    )
    db.session.commit()
    return crew


def _posted(form: dict, change) -> MultiDict:
    return MultiDict([(name, change(name, value, kind)) for name, value, kind in form["fields"]])


def _huge_numbers(name: str, value: str, kind: str) -> str:
    """Every number in a field (an id, a count, `merge:12`) made 20 digits long."""
    return re.sub(r"\d+", HUGE, value) if re.fullmatch(r"([a-z_]+:)?\d+", value) else value


def _typed(bad: str):
    def change(name: str, value: str, kind: str) -> str:
        return bad if kind in ("text", "number", "textarea", "search") else value

    return change


def test_rendered_forms_posted_with_huge_and_non_finite_numbers_are_not_errors(app, client, world):
    login(client, world.admin)
    forms = _crawl(app, client, ("/", "/settings/", "/skiptrace/new", "/imports/reviews"))
    posted = [f for f in forms if f["method"] == "POST" and _endpoint_of_post(app, f)]
    fields = {name for f in posted for name, _, _ in f["fields"]}
    # The crawl reached the bulk forms and every decimal field the form classes declare.
    assert {"lead_id", "ids", "review_id", "message_id", "budget"} <= fields
    assert {name for _, name in _decimal_fields()} <= fields
    failures = []
    for form in posted:
        variants = [_posted(form, _huge_numbers)] + [
            _posted(form, _typed(bad)) for bad in NON_FINITE
        ]
        for data in variants:
            status = _request(client, "POST", form["action"], data=data)
            if _crashed(status):
                failures.append(f"POST {form['action']} {dict(data)}: {status}")
                break
    assert len(posted) >= 30
    assert not failures, failures


def _endpoint_of_post(app, form: dict) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("console.test").match(
            urlsplit(form["action"]).path, method="POST"
        )
    except Exception:  # noqa: BLE001 - not a console route
        return None
    return None if endpoint in SKIPPED_ENDPOINTS else endpoint


# Decimal and float fields, found by walking the form modules.


def _decimal_fields() -> list[tuple[type, str]]:
    """(form class, field name) for every DecimalField and FloatField the console declares."""
    found = []
    for module in pkgutil.walk_packages(console.__path__, "console."):
        if not module.name.endswith(".forms"):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, FlaskForm):
                for name, field in vars(value).items():
                    if getattr(field, "field_class", None) and issubclass(
                        field.field_class, DecimalField | FloatField
                    ):
                        found.append((value, name))
    return found


def test_the_walk_finds_the_decimal_fields():
    assert len(_decimal_fields()) >= 3


@pytest.mark.parametrize("bad", NON_FINITE)
def test_every_decimal_field_refuses_non_finite_numbers(app, bad):
    for form_class, name in _decimal_fields():
        unbound = getattr(form_class, name)
        validators = unbound.kwargs.get("validators") or []
        assert any(isinstance(v, Finite) for v in validators), f"{form_class.__name__}.{name}"
        with app.test_request_context(method="POST", data={name: bad}):
            form = form_class(meta={"csrf": False})
            form.validate()
            assert form[name].errors, f"{form_class.__name__}.{name} took {bad}"


@pytest.mark.parametrize("budget", NON_FINITE)
def test_a_non_finite_budget_is_a_form_error(client, crew, budget):
    login(client, crew.operator)
    response = client.post("/skiptrace/", data={"budget": budget})
    assert response.status_code == 302
    assert "/skiptrace/new" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "A price is between $0 and $1,000." in page.text
