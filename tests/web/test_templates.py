"""The template library from the browser's side: roles, isolation, the seeded library,
filters and CSV, the editor (save, errors, variants), the live measure, plain text,
previews for a real lead, duplicate, archive and restore, and A/B results."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import Message, MessageTemplate, Role
from console.models.base import utcnow
from console.services.campaigns import templates
from console.services.campaigns.template_library import SEED_TEMPLATES
from console.services.campaigns.templates import OPT_OUT_PROBLEM
from tests.conftest import make_lead

OPENER = "Hi {firstName|there}, this is {senderName}. Thinking of selling? Reply STOP to opt out"
NUDGE = "{firstName|Hi}, just checking this reached you. Any thoughts?"


def form(**changes: str) -> dict[str, str]:
    """A valid editor post for a first-touch template, with `changes` over it."""
    return {
        "name": "Harbor opener",
        "persona": "GIANNA",
        "category": "opener",
        "vertical": "business_broker",
        "touch": "first",
        "body": OPENER,
        "variant_b": "",
        "variant_c": "",
        "variant_d": "",
        "lead_code": "",
        "action": "save",
        **changes,
    }


def make_template(team, name: str = "Opener", **changes) -> MessageTemplate:
    """A committed template of `team`, saved through the service."""
    values = {
        "name": name,
        "persona": "GIANNA",
        "category": "opener",
        "vertical": "general",
        "touch": "first",
        "body": OPENER,
        **changes,
    }
    template = templates.save_template(db.session, team, values, None)
    db.session.commit()
    return template


def make_nudge(team, name: str = "Nudge one", **changes) -> MessageTemplate:
    """A committed CATHY follow-up nudge of `team` (no opt-out wording)."""
    changes = {
        "persona": "CATHY",
        "category": "nudge",
        "touch": "follow_up",
        "body": NUDGE,
        **changes,
    }
    return make_template(team, name, **changes)


def template_count(team) -> int:
    """How many templates `team` has, archived ones included."""
    return db.session.scalar(
        select(func.count(MessageTemplate.id)).where(MessageTemplate.team_id == team.id)
    )


def csv_rows(response) -> list[dict[str, str]]:
    """A CSV download's rows as dicts."""
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.REVIEWER, 403), (Role.OPERATOR, 200), (Role.MANAGER, 200), (Role.ADMIN, 200)],
)
@pytest.mark.parametrize("path", ["/templates/", "/templates/new", "/templates/export.csv"])
def test_library_opens_to_operators_and_up(as_user, crew, role, expected, path):
    assert as_user(crew.by_role(role)).get(path).status_code == expected


def test_reviewer_cannot_edit_measure_or_archive(as_user, crew):
    template = make_template(crew.team)
    client = as_user(crew.reviewer)
    assert client.get(f"/templates/{template.id}").status_code == 403
    assert client.post(f"/templates/{template.id}", data=form()).status_code == 403
    assert client.post(f"/templates/{template.id}/archive").status_code == 403
    assert client.post("/templates/measure", data={"variant": "A", "body": "x"}).status_code == 403
    assert client.post("/templates/new", data=form(name="Sneaky")).status_code == 403
    db.session.expire_all()
    assert not template.archived and template_count(crew.team) == 1


# ------------------------------------------------------------------------------ isolation


def test_another_teams_template_is_a_404_everywhere(as_user, crew, outsider):
    theirs = make_template(outsider.team, "Rival secret opener")
    make_template(crew.team, "Our opener")
    client = as_user(crew.operator)
    base = f"/templates/{theirs.id}"
    assert client.get(base).status_code == 404
    assert client.post(base, data=form(name="Hijacked")).status_code == 404
    for action in ("archive", "restore", "duplicate"):
        assert client.post(f"{base}/{action}").status_code == 404
    assert client.get(f"{base}/stats.csv").status_code == 404
    names = [row["name"] for row in csv_rows(client.get("/templates/export.csv?archived=1"))]
    assert names == ["Our opener"]
    assert "Rival secret opener" not in client.get("/templates/?q=rival").text
    db.session.expire_all()
    assert theirs.name == "Rival secret opener" and not theirs.archived
    assert template_count(outsider.team) == 1


def test_preview_never_uses_another_teams_lead(as_user, crew, outsider):
    theirs = make_lead(outsider.team, "Rival Roofing", "Zed Rival")
    ours = make_lead(crew.team, "Our Plumbing", "Amy Ours")
    for _ in range(3):
        make_lead(outsider.team, "Rival Filler")
    code = f"LEAD-{theirs.code.split('-')[1]}-000004"  # an outsider's code, not one of ours
    response = as_user(crew.operator).post(
        "/templates/measure",
        data={"variant": "A", "body": "Hi {firstName}", "touch": "follow_up", "lead_code": code},
    )
    assert ">Amy</mark>" in response.text and ours.code in response.text
    assert "Zed" not in response.text


# ------------------------------------------------------------------------------ library


def test_first_visit_seeds_the_library_once(as_user, crew, outsider):
    client = as_user(crew.operator)
    page = client.get("/templates/")
    assert f"{len(SEED_TEMPLATES)} templates" in page.text
    assert SEED_TEMPLATES[0].name in page.text
    assert "usable first touch" in page.text
    client.get("/templates/")
    assert template_count(crew.team) == len(SEED_TEMPLATES)
    assert template_count(outsider.team) == 0


def test_a_team_with_templates_is_not_seeded(as_user, crew):
    template = make_template(crew.team)
    templates.archive(db.session, template, None)
    db.session.commit()
    page = as_user(crew.operator).get("/templates/")
    assert "0 templates" in page.text
    assert template_count(crew.team) == 1


def test_library_groups_by_persona_and_shows_each_templates_facts(as_user, crew):
    make_nudge(crew.team, variants=[NUDGE + " B"])
    make_template(crew.team, "Opener one", vertical="real_estate")
    page = as_user(crew.operator).get("/templates/").text
    assert page.index("GIANNA: first touches") < page.index("CATHY: follow-up nudges")
    assert "Real estate investor" in page
    assert "follow-up only" in page and "usable first touch" in page


def test_filters_narrow_the_list_and_htmx_gets_only_the_list(as_user, crew):
    make_nudge(crew.team)
    make_template(crew.team, "Opener one")
    client = as_user(crew.operator)
    page = client.get("/templates/?persona=CATHY").text
    assert "Nudge one" in page and "Opener one" not in page
    fragment = client.get("/templates/?q=selling", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="template-list"' in fragment.text
    assert "Opener one" in fragment.text and "Nudge one" not in fragment.text
    assert "/templates/export.csv?q=selling" in fragment.text


def test_archived_templates_show_only_when_asked(as_user, crew):
    template = make_template(crew.team, "Old opener")
    make_template(crew.team, "Current opener")
    templates.archive(db.session, template, None)
    db.session.commit()
    client = as_user(crew.operator)
    assert "Old opener" not in client.get("/templates/").text
    assert "Old opener" in client.get("/templates/?archived=1").text


def test_export_follows_the_filters(as_user, crew):
    make_nudge(crew.team, variants=["Still there, {firstName|friend}?"])
    make_template(crew.team, "Opener one")
    archived = make_nudge(crew.team, "Archived nudge")
    templates.archive(db.session, archived, None)
    db.session.commit()
    client = as_user(crew.operator)

    rows = csv_rows(client.get("/templates/export.csv?persona=CATHY"))
    assert [r["name"] for r in rows] == ["Nudge one"]
    row = rows[0]
    assert row["touch"] == "follow_up" and row["variants"] == "2"
    assert row["usable_first_touch"] == "no" and row["segments"] == "1"
    assert row["variant_b"] == "Still there, {firstName|friend}?"
    with_archived = csv_rows(client.get("/templates/export.csv?persona=CATHY&archived=1"))
    assert {r["name"] for r in with_archived} == {"Nudge one", "Archived nudge"}
    assert [r["name"] for r in csv_rows(client.get("/templates/export.csv?q=selling"))] == [
        "Opener one"
    ]
    everything = csv_rows(client.get("/templates/export.csv"))
    assert {r["usable_first_touch"] for r in everything} == {"yes", "no"}


# ------------------------------------------------------------------------------ editor


def test_operator_creates_a_template_with_variants(as_user, crew):
    client = as_user(crew.operator)
    assert "Variant A" in client.get("/templates/new").text
    response = client.post(
        "/templates/new",
        data=form(variant_b="", variant_c=OPENER.replace("Thinking", "Ever thought"), lead_code=""),
    )
    assert response.status_code == 302
    template = db.session.scalars(select(MessageTemplate)).one()
    assert response.headers["Location"].endswith(f"/templates/{template.id}")
    assert template.team_id == crew.team.id and template.created_by_id == crew.operator.id
    assert template.vertical == "business_broker"
    assert list(template.bodies) == ["A", "B"]  # the blank B closed up
    page = client.get(response.headers["Location"]).text
    assert "Template &#39;Harbor opener&#39; saved." in page
    assert "Ever thought" in page


def test_textarea_line_endings_are_stored_plain(as_user, crew):
    body = "Hi {firstName|there},\r\nthis is {senderName}.\r\nReply STOP to opt out"
    as_user(crew.operator).post("/templates/new", data=form(body=body))
    assert db.session.scalars(select(MessageTemplate.body)).one() == body.replace("\r\n", "\n")


def test_validation_errors_are_shown_and_nothing_is_saved(as_user, crew):
    make_template(crew.team, "Taken")
    response = as_user(crew.operator).post(
        "/templates/new",
        data=form(name="taken", body="Hi {frstName}, Reply STOP to opt out", variant_b=NUDGE),
    )
    assert response.status_code == 422
    assert "Not saved: fix what is marked below." in response.text
    assert "Another template is already called &#39;taken&#39;." in response.text
    assert "Unknown token {frstName}: use one of {firstName}" in response.text
    assert OPT_OUT_PROBLEM.replace("'", "&#39;") in response.text  # variant B, a first touch
    assert NUDGE in response.text  # what was typed comes back
    assert template_count(crew.team) == 1


def test_missing_name_and_bad_choice_are_refused(as_user, crew):
    client = as_user(crew.operator)
    assert client.post("/templates/new", data=form(name=" ")).status_code == 422
    response = client.post("/templates/new", data=form(persona="LUCI"))
    assert response.status_code == 422 and "Not a valid choice" in response.text
    assert template_count(crew.team) == 0


def test_a_follow_up_needs_no_opt_out(as_user, crew):
    client = as_user(crew.operator)
    response = client.post(
        "/templates/new",
        data=form(name="Nudge", persona="CATHY", category="nudge", touch="follow_up", body=NUDGE),
    )
    assert response.status_code == 302
    assert "follow-up only" in client.get("/templates/").text


def test_operator_edits_a_template(as_user, crew):
    template = make_template(crew.team, variants=[OPENER + " B"])
    client = as_user(crew.operator)
    page = client.get(f"/templates/{template.id}").text
    assert 'name="variant_b"' in page and "Remove variant B" in page
    response = client.post(
        f"/templates/{template.id}",
        data=form(name="Opener, renamed", body=OPENER + " A", variant_b=OPENER + " B"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert template.name == "Opener, renamed" and template.body == OPENER + " A"
    assert template.variants == [OPENER + " B"]


def test_add_and_remove_variants_without_saving(as_user, crew):
    template = make_template(crew.team, variants=[OPENER + " B", OPENER + " C"])
    client = as_user(crew.operator)
    added = client.post(
        f"/templates/{template.id}",
        data=form(
            body=OPENER, variant_b=OPENER + " B", variant_c=OPENER + " C", action="add_variant"
        ),
    )
    assert added.status_code == 200
    assert 'name="variant_d"' in added.text and "Add variant" not in added.text
    removed = client.post(
        f"/templates/{template.id}",
        data=form(body=OPENER, variant_b=OPENER + " B", variant_c=OPENER + " C", action="remove_B"),
    )
    assert 'name="variant_c"' not in removed.text
    assert f"{OPENER} C</textarea>" in removed.text  # C moved up to B
    db.session.expire_all()
    assert template.variants == [OPENER + " B", OPENER + " C"]  # nothing saved yet


def test_the_editor_escapes_what_was_typed(as_user, crew):
    response = as_user(crew.operator).post(
        "/templates/new", data=form(name="<b>bold</b>", body="<script>alert(1)</script>")
    )
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<b>bold</b>" not in response.text


# ------------------------------------------------------------------------------ measure


def measure(client, body: str, touch: str = "first", **extra: str):
    """Post one body to the live measure, as the editor's htmx does."""
    data = {"variant": "A", "body": body, "touch": touch, "name": "x", **extra}
    return client.post("/templates/measure", data=data, headers={"HX-Request": "true"})


def test_measure_shows_ucs2_and_marks_the_offending_characters_escaped(as_user, crew):
    response = measure(as_user(crew.operator), "<script>x</script> it’s {firstName|there}")
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text and 'id="measure-A"' in text
    assert "<dd>UCS-2</dd>" in text
    assert "<script>" not in text
    assert "&lt;script&gt;x&lt;/script&gt; it<mark>’</mark>s {firstName|there}" in text
    assert "Replace smart quotes and dashes" in text
    assert OPT_OUT_PROBLEM.replace("'", "&#39;") in text


def test_measure_counts_characters_segments_and_whats_left(as_user, crew):
    client = as_user(crew.operator)
    text = measure(client, "x" * 150, touch="follow_up").text
    assert "<dd>150</dd>" in text and "<dd>GSM-7</dd>" in text
    assert "<dd>1</dd>" in text and "<dd>10</dd>" in text
    assert "Replace smart quotes" not in text and "<mark>" not in text
    assert "Ready as a follow-up" in text
    long = measure(client, "x" * 161, touch="follow_up").text
    assert "<dd>2</dd>" in long and "<dd>145</dd>" in long  # 153 + 8 of 153


def test_measure_of_a_first_touch_with_opt_out_is_ready(as_user, crew):
    text = measure(as_user(crew.operator), OPENER).text
    assert "Ready, and usable as a first touch." in text
    assert "problems" not in text


def test_measure_names_unknown_tokens_and_unbalanced_braces(as_user, crew):
    text = measure(as_user(crew.operator), "Hi {nick} and {oops", touch="follow_up").text
    assert "Unknown token {nick}: use one of" in text
    assert "Unbalanced braces" in text


def test_measure_needs_a_known_variant(as_user, crew):
    client = as_user(crew.operator)
    assert client.post("/templates/measure", data={"variant": "Z", "body": "x"}).status_code == 400


def test_plain_replaces_smart_quotes_and_dashes_in_the_textarea(as_user, crew):
    response = as_user(crew.operator).post(
        "/templates/plain",
        data={"variant": "B", "variant_b": "It’s “fine” — <i>really</i>…", "touch": "follow_up"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    text = response.text
    assert 'id="body-B"' in text and 'name="variant_b"' in text
    assert "It&#39;s &#34;fine&#34; - &lt;i&gt;really&lt;/i&gt;...</textarea>" in text
    assert "<dd>GSM-7</dd>" in text and "<i>" not in text


# ------------------------------------------------------------------------------ preview


def test_preview_renders_for_the_best_lead_by_default_and_any_lead_by_code(as_user, crew):
    low = make_lead(crew.team, "LOW PLUMBING LLC", "Ann Low")
    high = make_lead(crew.team, "HIGH HVAC INC", "Bob High")
    low.priority, high.priority = 10, 90
    db.session.commit()
    client = as_user(crew.operator)
    body = "Hi {firstName|there} of {companyName}, {senderName} here"
    text = measure(client, body, touch="follow_up").text
    assert f'Preview for <span class="code">{high.code}</span>' in text
    assert '<mark class="token" title="firstName">Bob</mark>' in text
    assert '<mark class="token" title="companyName">High HVAC</mark>' in text
    # {senderName} is the person previewing (who would send it), not the firm.
    assert f">{crew.operator.name}</mark> here" in text and ">Harbor Partners</mark>" not in text
    by_code = measure(client, body, touch="follow_up", lead_code=low.code.lower()).text
    assert ">Ann</mark>" in by_code and ">Low Plumbing</mark>" in by_code


def test_editor_page_previews_the_best_lead_and_says_when_a_code_is_unknown(as_user, crew):
    lead = make_lead(crew.team, "ACME HVAC LLC", "John Smith")
    template = make_template(crew.team)
    client = as_user(crew.operator)
    page = client.get(f"/templates/{template.id}").text
    assert f'value="{lead.code}"' in page and ">John</mark>" in page
    missing = client.get(f"/templates/{template.id}?lead=LEAD-1999-000001").text
    assert f"No lead LEAD-1999-000001 in your team; showing {lead.code}." in missing


def test_preview_says_the_industry_in_plain_words(as_user, crew):
    lead = make_lead(crew.team, "Bright Smile Dental", "Ann Lee")
    lead.business.industry, lead.business.sic_code = "OFFICES AND CLINICS OF DENTISTS", "8021"
    db.session.commit()
    body = "Owners of {industry|businesses like yours} sell to us"
    text = measure(as_user(crew.operator), body, touch="follow_up").text
    assert '<mark class="token" title="industry">dental practices</mark>' in text
    assert "{industry} reads “dental practices” for this lead." in text
    assert "DENTISTS" not in text


def test_fallbacks_show_in_the_preview_without_leads(as_user, crew):
    text = measure(as_user(crew.operator), "Hi {firstName|there}", touch="follow_up").text
    assert '<mark class="token fallback" title="firstName (fallback)">there</mark>' in text


# ------------------------------------------------------------------------------ actions


def test_duplicate_archive_and_restore(as_user, crew):
    template = make_template(crew.team)
    client = as_user(crew.operator)
    response = client.post(f"/templates/{template.id}/duplicate")
    copy = db.session.scalars(
        select(MessageTemplate).where(MessageTemplate.name == "Opener (copy)")
    ).one()
    assert response.headers["Location"].endswith(f"/templates/{copy.id}")
    assert copy.body == template.body

    client.post(f"/templates/{template.id}/archive")
    db.session.expire_all()
    assert template.archived
    page = client.get(f"/templates/{template.id}").text
    assert ">Restore</button>" in page and ">Archive</button>" not in page
    client.post(f"/templates/{template.id}/restore")
    db.session.expire_all()
    assert not template.archived


def test_template_page_shows_ab_results_per_variant_with_totals(as_user, crew, outsider):
    template = make_template(crew.team, variants=[OPENER + " B"])
    rows = [("A", "delivered", None)] * 3 + [("A", "failed", 30007), ("B", "delivered", None)]
    for variant, status, code in rows:
        db.session.add(
            Message(
                team_id=crew.team.id,
                template_id=template.id,
                variant=variant,
                status=status,
                error_code=code,
                to_e164="+15125550100",
                body="x",
                sent_at=utcnow(),
            )
        )
    db.session.commit()
    client = as_user(crew.operator)
    page = client.get(f"/templates/{template.id}").text
    assert "A/B results" in page
    stats = page[page.index('id="template-stats"') :]
    assert '<td class="num">75.0%</td>' in stats  # A: 3 of 4 delivered
    assert '<td class="num">25.0%</td>' in stats  # A: 1 of 4 filtered
    assert '<th scope="row" colspan="2">Total</th><td class="num">5</td>' in stats
    exported = csv_rows(client.get(f"/templates/{template.id}/stats.csv"))
    assert [(r["variant"], r["sent"], r["filtered_30007"]) for r in exported] == [
        ("A", "4", "1"),
        ("B", "1", "0"),
        ("Total", "5", "1"),
    ]


def test_a_new_template_has_no_results_panel(as_user, crew):
    assert "A/B results" not in as_user(crew.operator).get("/templates/new").text
