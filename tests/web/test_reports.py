"""The Reports area as a whole: who gets in, where /reports lands, every page and its
tables' CSV for every registered report, the scope kept in links, and how durations
read."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from console.extensions import db
from console.services.reports import pages
from console.services.reports.scope import read_scope
from tests.clock import TEST_NOW
from tests.conftest import login


@pytest.mark.parametrize("role", ["operator", "reviewer"])
def test_operators_and_reviewers_are_refused_everywhere(app, client, crew, role):
    login(client, getattr(crew, role))
    assert client.get("/reports/").status_code == 403
    for key in pages.PAGES:
        assert client.get(f"/reports/{key}").status_code == 403
    assert 'href="/reports/' not in client.get("/pipeline").text  # no Reports link


def test_reports_lands_on_the_first_page_keeping_the_scope(app, client, crew):
    login(client, crew.manager)
    response = client.get("/reports/?since=2026-01-01&until=2026-01-07")
    first = next(iter(pages.PAGES))
    assert response.status_code == 302
    assert response.location == f"/reports/{first}?since=2026-01-01&until=2026-01-07"
    assert client.get("/reports/nothing").status_code == 404
    assert client.get(f"/reports/{first}/nothing.csv").status_code == 404


@pytest.mark.parametrize("key", list(pages.PAGES))
def test_every_page_and_every_table_csv_answers_for_an_empty_team(app, client, crew, key):
    login(client, crew.admin)
    page = client.get(f"/reports/{key}?since=2026-01-01&until=2026-01-31&campaign=99")
    assert page.status_code == 200
    assert "Jan 1 – Jan 31, 2026" in page.text
    for other in pages.PAGES:  # the navigation between pages keeps the scope
        assert f'href="/reports/{other}?since=2026-01-01&amp;until=2026-01-31&amp;campaign=99"' in (
            page.text
        )
    scope = read_scope({}, crew.team.id, "America/New_York", date(2026, 1, 31))
    report = pages.build(db.session, key, scope, TEST_NOW, app.config["AI_PRICES"])
    assert report.tables, key
    for table in report.tables:
        answer = client.get(f"/reports/{key}/{table.name}.csv?since=2026-01-01&until=2026-01-31")
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        header = next(csv.reader(io.StringIO(answer.get_data(as_text=True))))
        assert header == table.header()


def test_every_command_names_a_table_of_its_page(app):
    for name, (key, table) in pages.COMMANDS.items():
        assert key in pages.PAGES, name
        assert table, name


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(42, "42 s"), (2400, "40 min"), (18000, "5 h"), (18600, "5 h 10 min"),
     (86400 * 2 + 3600 * 3, "2 d 3 h"), (86400, "1 d")],
)  # fmt: skip
def test_durations_read_as_people_say_them(app, seconds, words):
    assert app.jinja_env.filters["span"](seconds) == words
