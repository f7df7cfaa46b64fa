"""The leads list, its search, filters, paging and export, and the lead page."""

from __future__ import annotations

import csv
import io

from console.extensions import db
from console.services.lists.leads import CODE_PATTERN
from tests.conftest import login, make_lead


def test_lead_codes_are_readable_and_unique_per_team(crew, outsider):
    ours = [make_lead(crew.team, f"Biz {n}") for n in range(3)]
    theirs = make_lead(outsider.team, "Other")
    assert all(CODE_PATTERN.match(lead.code) for lead in ours + [theirs])
    assert len({lead.code for lead in ours}) == 3
    assert ours[0].code.endswith("000001") and theirs.code.endswith("000001")


def test_search_by_business_owner_phone_and_code(client, crew):
    a = make_lead(crew.team, "Harborview Plumbing LLC", "Ann Lee", "+15125550111")
    b = make_lead(crew.team, "Desert Sun HVAC", "Raj Patel", "+16025550122", state="AZ")
    login(client, crew.operator)
    for query, hit, miss in (
        ("harborview", a, b),
        ("patel", b, a),
        ("555-0122", b, a),
        (a.code, a, b),
    ):
        page = client.get("/leads/", query_string={"q": query})
        assert hit.code in page.text and miss.code not in page.text, query


def test_filters_by_state_and_mobile(client, crew):
    texas = make_lead(crew.team, "Lone Star Welding", "Ann Lee", "+15125550111", state="TX")
    arizona = make_lead(crew.team, "Desert Sun HVAC", state="AZ")
    login(client, crew.operator)
    page = client.get("/leads/?state=AZ")
    assert arizona.code in page.text and texas.code not in page.text
    page = client.get("/leads/?has_mobile=yes")
    assert texas.code in page.text and arizona.code not in page.text


def test_htmx_request_gets_only_the_rows(client, crew):
    make_lead(crew.team, "Lone Star Welding")
    login(client, crew.operator)
    fragment = client.get("/leads/?q=lone", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="lead-rows"')
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment.headers.get("Vary", "")
    boosted = client.get("/leads/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_paging(app, client, crew):
    app.config["LEADS_PAGE_SIZE"] = 2
    leads = [make_lead(crew.team, f"Biz {n}") for n in range(5)]
    login(client, crew.operator)
    last = client.get("/leads/?page=3")
    assert "Showing 5–5 of 5 leads" in last.text and leads[0].code in last.text
    assert "Page 3 of 3" in last.text
    beyond = client.get("/leads/?page=99")
    assert "Page 3 of 3" in beyond.text


def test_export_has_provenance_and_escapes_formulas(client, crew):
    lead = make_lead(crew.team, '=HYPERLINK("http://x")', "Ann Lee", "+15125550111")
    login(client, crew.operator)
    response = client.get("/leads/export.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["lead_code"] == lead.code
    assert row["business_name"].startswith("'=")
    assert row["source_file"] == "t.csv" and row["source_rows"] == "2"
    assert row["mobile_phones"] == "'+15125550111"


def test_lead_page_shows_owner_business_and_provenance(client, crew):
    lead = make_lead(crew.team, "Lone Star Welding", "Ann Lee", "+15125550111")
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}")
    assert page.status_code == 200
    for text in (lead.code, "Lone Star Welding", "Ann Lee", "(512) 555-0111", "t.csv"):
        assert text in page.text
    assert client.get("/leads/999999").status_code == 404


def test_export_command_writes_every_lead(runner, crew, tmp_path):
    for n in range(3):
        make_lead(crew.team, f"Biz {n}")
    out = tmp_path / "leads.csv"
    result = runner.invoke(args=["export", "leads", "--team", crew.team.name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["business_name"] for r in rows] == ["Biz 0", "Biz 1", "Biz 2"]
    assert (
        runner.invoke(args=["export", "leads", "--team", "Nobody", "-o", str(out)]).exit_code == 1
    )
    db.session.rollback()


def test_tag_all_matching_tags_every_lead_the_filters_match(client, crew):
    texas = [make_lead(crew.team, f"Lone Star {n}", state="TX") for n in range(3)]
    arizona = make_lead(crew.team, "Desert Sun HVAC", state="AZ")
    login(client, crew.operator)
    response = client.post(
        "/leads/tag", data={"state": "TX", "new_tag": "Hot List", "scope": "all"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/leads/?state=TX"
    db.session.expire_all()
    assert all(lead.tags == ["hot-list"] for lead in texas)
    assert not arizona.tags
    assert "Tagged 3 leads &#39;hot-list&#39;." in client.get(response.headers["Location"]).text


def test_tagging_under_a_tag_filter_adds_the_typed_tag_and_keeps_the_filter(client, crew):
    first, second = (make_lead(crew.team, f"Biz {n}") for n in range(2))
    for lead in (first, second):
        lead.tags = ["warm"]
    db.session.commit()
    login(client, crew.operator)
    selected = client.post(
        "/leads/tag",
        data={"tag": "warm", "new_tag": "called", "scope": "selected", "lead_id": first.id},
    )
    assert selected.headers["Location"] == "/leads/?tag=warm"
    everyone = client.post("/leads/tag", data={"tag": "warm", "new_tag": "mailed", "scope": "all"})
    assert everyone.headers["Location"] == "/leads/?tag=warm"
    db.session.expire_all()
    assert first.tags == ["called", "mailed", "warm"]
    assert second.tags == ["mailed", "warm"]


def test_the_bulk_form_names_the_new_tag_apart_from_the_tag_filter(client, crew):
    make_lead(crew.team, "Biz")
    login(client, crew.operator)
    page = client.get("/leads/?tag=")
    assert 'name="new_tag"' in page.text
    assert page.text.count('name="tag"') == 1  # the filter bar's box only
