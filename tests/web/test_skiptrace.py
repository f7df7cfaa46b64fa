"""Skip tracing from the browser's side: roles, isolation, provider keys and forms, the
estimate, passes, result files, scoring weights, and what the lead pages show after."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    JobRun,
    Lead,
    Role,
    SkipTraceFile,
    SkipTraceProvider,
    SkipTraceResult,
    SkipTraceRun,
    Team,
)
from console.models.base import utcnow
from console.providers.skiptrace.http import DEFAULT_BODY, HttpSettings
from console.services.tracing import provider_settings, result_files, scoring, waterfall
from console.services.tracing.pass_reports import RESULT_COLUMNS
from jobs.worker import drain
from tests.conftest import login, make_lead
from tests.fakeservers import VendorServer

SECRET = "sk-live-VERYSECRET"


@pytest.fixture
def app_settings() -> dict:
    """The vendor servers here listen on loopback, which the console refuses unless told."""
    return {"SKIPTRACE_ALLOW_PRIVATE_HOSTS": True}


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    """A vendor API that finds everyone and wants the key `SECRET`."""
    with VendorServer(api_key=SECRET, hit_rate=1.0) as server:
        yield server


def count(model) -> int:
    """How many rows `model` has, all teams together."""
    return db.session.scalar(select(func.count()).select_from(model))


def run_queued_jobs(app) -> None:
    """Run what the routes queued, then read the database afresh."""
    drain(app)
    db.session.expire_all()


def sandbox_provider(team: Team, name: str = "Sandbox") -> SkipTraceProvider:
    """A committed, enabled sandbox provider of `team`."""
    provider = provider_settings.add_provider(db.session, team.id, "sandbox", name)
    db.session.commit()
    return provider


def provider_form(endpoint: str, **changes: str) -> dict[str, str]:
    """A valid HTTP provider form calling `endpoint`, with `changes` over it."""
    return {
        "enabled": "y",
        "cost_per_search": "0.25",
        "cost_per_hit": "0.10",
        "rate_per_second": "200",
        "max_concurrency": "4",
        "endpoint": endpoint,
        "method": "POST",
        "timeout_seconds": "2",
        "auth_header": "Authorization",
        "auth_prefix": "Bearer ",
        "secret": "",
        "body_template": DEFAULT_BODY,
        **changes,
    }


def add_http_provider(client, name: str = "Acme Data") -> int:
    """Add an HTTP provider through the settings page (signed in as an admin); its id."""
    response = client.post("/settings/skiptrace/providers", data={"kind": "http", "name": name})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def save_provider(client, provider_id: int, form: dict[str, str]):
    """Post the provider's form."""
    return client.post(f"/settings/skiptrace/providers/{provider_id}", data=form)


def vendor_provider(client, server: VendorServer, secret: str = SECRET) -> int:
    """An HTTP provider calling `server` with `secret`, set up through the settings pages."""
    provider_id = add_http_provider(client)
    form = provider_form(server.url + "/search", secret=secret)
    assert save_provider(client, provider_id, form).status_code == 302
    return provider_id


def verify_owner_mobile(lead: Lead) -> None:
    """Mark the lead's owner mobile as a line-type check would: a textable mobile."""
    phone = lead.owner.phones[0]
    phone.line_type, phone.textable = "mobile", True
    db.session.commit()


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (Role.OPERATOR, "/skiptrace/", 200),
        (Role.OPERATOR, "/skiptrace/new", 200),
        (Role.REVIEWER, "/skiptrace/", 403),
        (Role.REVIEWER, "/skiptrace/new", 403),
        (Role.ADMIN, "/settings/skiptrace", 200),
        (Role.ADMIN, "/settings/skiptrace/providers/{provider}", 200),
        (Role.MANAGER, "/settings/skiptrace", 403),
        (Role.MANAGER, "/settings/skiptrace/providers/{provider}", 403),
        (Role.OPERATOR, "/settings/skiptrace", 403),
        (Role.MANAGER, "/settings/scoring", 200),
        (Role.OPERATOR, "/settings/scoring", 403),
    ],
)
def test_skip_trace_pages_open_only_to_their_roles(client, crew, role, path, expected):
    provider = sandbox_provider(crew.team)
    login(client, crew.by_role(role))
    assert client.get(path.format(provider=provider.id)).status_code == expected


def test_managers_cannot_change_providers(client, crew):
    provider = sandbox_provider(crew.team)
    login(client, crew.manager)
    base = f"/settings/skiptrace/providers/{provider.id}"
    added = client.post("/settings/skiptrace/providers", data={"kind": "http", "name": "X"})
    assert added.status_code == 403
    for path in (base, f"{base}/test", f"{base}/move", f"{base}/delete"):
        assert client.post(path, data={}).status_code == 403, path
    assert db.session.get(SkipTraceProvider, provider.id) is not None
    assert count(SkipTraceProvider) == 1


# -------------------------------------------------------------------------- isolation


def test_another_teams_passes_files_and_providers_are_404(client, crew, outsider):
    theirs = provider_settings.add_provider(db.session, outsider.team.id, "sandbox", "Rival Vendor")
    files = provider_settings.file_provider(db.session, outsider.team.id)
    lead = make_lead(outsider.team, "Rival Secret Bakery Inc")
    run = waterfall.create_run(
        db.session, outsider.team, [lead.id], filters={}, budget=None, started_by_id=None
    )
    trace_file = SkipTraceFile(
        team_id=outsider.team.id,
        provider_id=files.id,
        filename="rival-results.csv",
        stored_path="/nonexistent/rival-results.csv",
        shape={"headers": ["Lead Code", "Phone"]},
        mapping=["lead_code", "phone"],
        status="loaded",
        counts={"rows": 1, "matched": 1, "unmatched": 0},
    )
    db.session.add(trace_file)
    db.session.commit()
    sandbox_provider(crew.team, "Our Sandbox")

    pass_pages = [f"/skiptrace/{run.id}", f"/skiptrace/{run.id}/results.csv"]
    file_pages = [
        f"/skiptrace/files/{trace_file.id}",
        f"/skiptrace/files/{trace_file.id}/mapping",
        f"/skiptrace/files/{trace_file.id}/unmatched.csv",
    ]
    file_posts = [
        f"/skiptrace/files/{trace_file.id}/load",
        f"/skiptrace/files/{trace_file.id}/mapping/preview",
        f"/skiptrace/files/{trace_file.id}/trace",
        f"/skiptrace/{run.id}/cancel",
    ]
    provider = f"/settings/skiptrace/providers/{theirs.id}"
    for user in (crew.admin, crew.operator):
        login(client, user)
        for path in pass_pages + file_pages:
            assert client.get(path).status_code == 404, (user.role, path)
        for path in file_posts:
            assert client.post(path, data={"column": ["lead_code", "phone"]}).status_code == 404
        assert "rival-results.csv" not in client.get("/skiptrace/").text
        client.post("/logout")

    login(client, crew.admin)
    assert client.get(provider).status_code == 404
    for action in ("test", "move", "delete"):
        assert client.post(f"{provider}/{action}", data={"to": "up"}).status_code == 404
    assert client.post(provider, data=provider_form("https://evil.example/")).status_code == 404
    settings_page = client.get("/settings/skiptrace").text
    assert "Our Sandbox" in settings_page
    assert "Rival Vendor" not in settings_page and "Result files" not in settings_page
    db.session.expire_all()
    assert db.session.get(SkipTraceProvider, theirs.id).name == "Rival Vendor"
    assert db.session.get(SkipTraceRun, run.id).cancel_requested is False
    assert count(SkipTraceRun) == 1 and count(JobRun) == 0


# ------------------------------------------------------------------------ provider keys


def test_a_providers_key_is_never_shown_and_is_stored_sealed(client, crew):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    form = provider_form("https://api.vendor.example/v1/search", secret=SECRET)
    assert save_provider(client, provider_id, form).status_code == 302

    provider = db.session.get(SkipTraceProvider, provider_id)
    sealed = provider.secret_encrypted
    assert provider.has_secret and sealed and "VERYSECRET" not in sealed
    pages = [
        f"/settings/skiptrace/providers/{provider_id}",
        "/settings/skiptrace",
        "/skiptrace/",
        "/skiptrace/new",
    ]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200 and "VERYSECRET" not in page.text, path
    assert "stored; type to replace" in client.get(pages[0]).text

    refused = save_provider(client, provider_id, {**form, "endpoint": "ftp://x"})
    assert refused.status_code == 400 and "VERYSECRET" not in refused.text

    assert save_provider(client, provider_id, {**form, "secret": ""}).status_code == 302
    db.session.expire_all()
    provider = db.session.get(SkipTraceProvider, provider_id)
    assert provider.has_secret and provider.secret_encrypted == sealed

    cleared = save_provider(client, provider_id, {**form, "secret": "", "clear_secret": "y"})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert not db.session.get(SkipTraceProvider, provider_id).has_secret


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("endpoint", "ftp://x", "The endpoint is a full http:// or https:// address."),
        ("body_template", "{not json", "The request body is not valid JSON"),
        ("body_template", '{"q": "{favourite_colour}"}', "Unknown placeholders favourite_colour"),
        ("cost_per_search", "-1", "A price is between $0 and $1,000."),
    ],
)
def test_a_provider_form_with_a_mistake_says_so_and_saves_nothing(
    client, crew, field, value, message
):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    form = {**provider_form("https://api.vendor.example/v1/search", secret=SECRET), field: value}
    response = save_provider(client, provider_id, form)
    assert response.status_code == 400
    assert message in response.text
    db.session.expire_all()
    provider = db.session.get(SkipTraceProvider, provider_id)
    assert provider.settings == HttpSettings().to_dict()
    assert provider.cost_per_search == 0 and not provider.has_secret


def test_a_timeout_that_is_not_a_number_is_a_form_error(client, crew):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    form = provider_form("https://api.vendor.example/v1/search", timeout_seconds="soon")
    response = save_provider(client, provider_id, form)
    assert response.status_code == 400
    assert "Type a number from 0.5 to 120." in response.text


# ----------------------------------------------------------------------- test connection


def test_testing_a_provider_answers_a_fragment_saying_what_happened(client, crew, vendor):
    login(client, crew.admin)
    provider_id = vendor_provider(client, vendor)
    htmx = {"HX-Request": "true"}
    connected = client.post(f"/settings/skiptrace/providers/{provider_id}/test", headers=htmx)
    assert connected.status_code == 200 and "<html" not in connected.text
    assert connected.text.lstrip().startswith('<p id="provider-test"')
    assert "Connected" in connected.text and "flash-success" in connected.text

    form = provider_form(vendor.url + "/search", secret="sk-live-WRONG")
    assert save_provider(client, provider_id, form).status_code == 302
    refused = client.post(f"/settings/skiptrace/providers/{provider_id}/test", headers=htmx)
    assert "refused" in refused.text and "flash-error" in refused.text

    sandbox = sandbox_provider(crew.team)
    answer = client.post(f"/settings/skiptrace/providers/{sandbox.id}/test", headers=htmx)
    assert "The sandbox answers" in answer.text


NO_PRIVATE_HOSTS = {"SKIPTRACE_ALLOW_PRIVATE_HOSTS": False}


@pytest.mark.parametrize("app_overrides", [NO_PRIVATE_HOSTS])
@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:9/search",
        "http://localhost/search",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:8080/",
        "http://10.0.0.5/admin",
    ],
)
def test_a_private_or_local_endpoint_is_a_form_error(client, crew, endpoint):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    response = save_provider(client, provider_id, provider_form(endpoint, secret=SECRET))
    assert response.status_code == 400
    assert "address not allowed" in response.text
    db.session.expire_all()
    assert db.session.get(SkipTraceProvider, provider_id).settings == HttpSettings().to_dict()


def _stored_endpoint(provider_id: int, endpoint: str) -> None:
    """Store an endpoint as an older console may have saved it, past today's form."""
    provider = db.session.get(SkipTraceProvider, provider_id)
    provider.settings = {**provider.settings, "endpoint": endpoint}
    provider.enabled = True
    db.session.commit()


@pytest.mark.parametrize("app_overrides", [NO_PRIVATE_HOSTS])
def test_testing_a_local_endpoint_calls_nothing_and_echoes_nothing(client, crew, vendor):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    _stored_endpoint(provider_id, vendor.url + "/search")
    htmx = {"HX-Request": "true"}
    answer = client.post(f"/settings/skiptrace/providers/{provider_id}/test", headers=htmx)
    assert "address not allowed" in answer.text and "flash-error" in answer.text
    assert vendor.requests == []


@pytest.mark.parametrize("app_overrides", [NO_PRIVATE_HOSTS])
def test_a_pass_never_calls_a_local_endpoint(app, client, crew, vendor):
    login(client, crew.admin)
    provider_id = add_http_provider(client)
    _stored_endpoint(provider_id, vendor.url + "/search")
    make_lead(crew.team, "Lone Star Welding")
    client.post("/skiptrace/", data={"state": "TX", "budget": "5.00"})
    run_queued_jobs(app)
    results = db.session.scalars(select(SkipTraceResult)).all()
    assert results and all("address not allowed" in row.error for row in results)
    assert vendor.requests == []


# ----------------------------------------------------------------------------- estimate


def test_the_new_pass_page_counts_leads_and_estimates_each_provider(client, crew):
    sandbox_provider(crew.team)
    make_lead(crew.team, "Lone Star Welding", "Ann Lee")
    verified = make_lead(crew.team, "Alamo Roofing", "Bo Diaz", "+15125550111")
    verify_owner_mobile(verified)
    make_lead(crew.team, "Golden Gate Bakery", state="CA")
    login(client, crew.operator)

    page = client.get("/skiptrace/new")
    assert "2 leads to trace" in page.text
    assert "3 chosen · 1 already have a verified owner mobile" in page.text
    assert "Sandbox" in page.text and ">Total<" in page.text

    texas = client.get("/skiptrace/new?state=TX")
    assert "1 lead to trace" in texas.text

    fragment = client.get("/skiptrace/new?state=CA", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="trace-estimate"')
    assert "<html" not in fragment.text and 'id="trace-form"' not in fragment.text
    assert "1 lead to trace" in fragment.text


# ------------------------------------------------------------------------------- passes


def test_a_pass_runs_to_a_summary_and_every_call_downloads(app, client, crew, vendor):
    login(client, crew.admin)
    vendor_provider(client, vendor)
    client.post("/logout")
    leads = [make_lead(crew.team, "Lone Star Welding"), make_lead(crew.team, "Alamo Roofing")]
    make_lead(crew.team, "Golden Gate Bakery", state="CA")
    login(client, crew.operator)

    response = client.post("/skiptrace/", data={"state": "TX", "budget": "5.00"})
    run = db.session.scalars(select(SkipTraceRun)).one()
    assert response.headers["Location"].endswith(f"/skiptrace/{run.id}")
    assert sorted(run.lead_ids) == sorted(lead.id for lead in leads)
    assert run.budget == Decimal("5.00") and run.status == "queued"
    job = db.session.get(JobRun, run.job_run_id)
    assert job.kind == "skiptrace_pass" and job.status == "queued"

    run_queued_jobs(app)
    run = db.session.get(SkipTraceRun, run.id)
    assert run.status == "done" and db.session.get(JobRun, run.job_run_id).status == "done"
    page = client.get(f"/skiptrace/{run.id}")
    assert "By provider" in page.text and "Acme Data" in page.text
    assert "Leads found (2)" in page.text
    assert all(lead.code in page.text for lead in leads)

    download = client.get(f"/skiptrace/{run.id}/results.csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == list(RESULT_COLUMNS)
    assert len(rows) - 1 == count(SkipTraceResult) == 2
    assert sorted(row[0] for row in rows[1:]) == sorted(lead.code for lead in leads)
    assert {row[2] for row in rows[1:]} == {"hit"}
    assert "VERYSECRET" not in page.text + download.text


def test_a_budget_that_is_not_money_starts_nothing(client, crew):
    sandbox_provider(crew.team)
    make_lead(crew.team, "Lone Star Welding")
    login(client, crew.operator)
    response = client.post("/skiptrace/", data={"budget": "abc"}, follow_redirects=True)
    assert "Type a price in dollars, such as 0.07." in response.text
    assert count(SkipTraceRun) == 0 and count(JobRun) == 0


def test_a_pass_needs_a_provider_turned_on(client, crew):
    make_lead(crew.team, "Lone Star Welding")
    login(client, crew.operator)
    response = client.post("/skiptrace/", data={}, follow_redirects=True)
    assert "Turn on at least one skip-trace provider first." in response.text
    assert count(SkipTraceRun) == 0 and count(JobRun) == 0


def test_a_traced_lead_shows_its_score_queue_and_sandbox_calls(app, client, crew):
    sandbox_provider(crew.team)
    lead = make_lead(crew.team, "Lone Star Welding")
    login(client, crew.operator)
    client.post("/skiptrace/", data={})
    run_queued_jobs(app)

    lead = db.session.get(Lead, lead.id)
    assert lead.traced_at is not None and lead.queue in scoring.QUEUES
    page = client.get(f"/leads/{lead.id}").text
    assert "Prepared by LUCI" in page
    assert scoring.QUEUES[lead.queue] in page
    assert "base score" in page
    calls = page[page.index("Skip-trace calls") :]
    assert "Sandbox" in calls and 'class="badge sandbox">sandbox<' in calls


# ------------------------------------------------------------------------- result files

RESULT_HEADER = "Lead Code,Owner First,Owner Last,Phone1,Phone1 Type,Email"
RESULT_MAPPING = ["lead_code", "first_name", "last_name", "phone", "phone_type", "email"]


def test_a_result_file_is_mapped_loaded_and_applied_to_its_leads(app, client, crew):
    lead = make_lead(crew.team, "Lone Star Welding")
    content = (
        f"{RESULT_HEADER}\n"
        f"{lead.code},Dana,Whitfield,(512) 555-0188,Wireless,dana@lonestar.example\n"
        "LEAD-2099-999999,Sam,Nobody,(512) 555-0177,Landline,\n"
    ).encode()
    login(client, crew.operator)
    response = client.post(
        "/skiptrace/files",
        data={"file": (io.BytesIO(content), "vendor-results.csv")},
        content_type="multipart/form-data",
    )
    trace_file = db.session.scalars(select(SkipTraceFile)).one()
    assert response.headers["Location"].endswith(f"/skiptrace/files/{trace_file.id}/mapping")

    mapping = client.get(f"/skiptrace/files/{trace_file.id}/mapping").text
    assert "Lead Code" in mapping and "Phone1 Type" in mapping
    assert f'<span class="code">{lead.code}</span>' in mapping
    assert str(escape(result_files.UNMATCHED_CODE)) in mapping

    loaded = client.post(f"/skiptrace/files/{trace_file.id}/load", data={"column": RESULT_MAPPING})
    assert loaded.headers["Location"].endswith(f"/skiptrace/files/{trace_file.id}")
    run_queued_jobs(app)
    trace_file = db.session.get(SkipTraceFile, trace_file.id)
    assert trace_file.status == "loaded"
    assert (trace_file.counts["matched"], trace_file.counts["unmatched"]) == (1, 1)
    page = client.get(f"/skiptrace/files/{trace_file.id}").text
    assert "Download the 1 unmatched rows" in page and "Apply to the 1 matched leads" in page

    unmatched = client.get(f"/skiptrace/files/{trace_file.id}/unmatched.csv")
    rows = list(csv.reader(io.StringIO(unmatched.text)))
    assert rows[0] == ["row_number", "reason", *RESULT_HEADER.split(",")]
    assert rows[1][:4] == ["3", result_files.UNMATCHED_CODE, "LEAD-2099-999999", "Sam"]
    assert len(rows) == 2

    applied = client.post(f"/skiptrace/files/{trace_file.id}/trace")
    run = db.session.scalars(select(SkipTraceRun)).one()
    assert applied.headers["Location"].endswith(f"/skiptrace/{run.id}")
    run_queued_jobs(app)
    assert db.session.get(SkipTraceRun, run.id).status == "done"
    lead_page = client.get(f"/leads/{lead.id}").text
    assert "Dana Whitfield" in lead_page
    assert "555-0188" in lead_page and "skiptrace:Result files" in lead_page


# ---------------------------------------------------------------------------- scoring


def test_new_weights_rescore_every_lead_as_a_job(app, client, crew):
    lead = make_lead(crew.team, "Lone Star Welding")
    login(client, crew.manager)
    response = client.post("/settings/scoring", data={"base": "40"})
    job = db.session.scalars(select(JobRun)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.kind == "rescore_team"

    run_queued_jobs(app)
    assert db.session.get(JobRun, job.id).status == "done"
    assert db.session.get(Lead, lead.id).quality_score == 40  # the base alone: nothing else known


def test_a_negative_weight_is_refused_and_nothing_is_rescored(client, crew):
    login(client, crew.manager)
    response = client.post("/settings/scoring", data={"base": "-5"})
    assert response.status_code == 400
    assert "Base score: cannot be negative." in response.text
    assert count(JobRun) == 0
    db.session.expire_all()
    assert scoring.SETTINGS_KEY not in (db.session.get(Team, crew.team.id).settings or {})


# --------------------------------------------------------------------------- leads list


def test_leads_list_filters_by_trace_outcome_verified_mobile_and_queue(client, crew):
    never = make_lead(crew.team, "Never Traced Welding")
    found = make_lead(crew.team, "Found Owner Roofing", "Ann Lee", "+15125550111")
    missed = make_lead(crew.team, "Missed Owner Bakery")
    verify_owner_mobile(found)
    found.traced_at, found.trace_status, found.queue = utcnow(), "found", "high_priority"
    missed.traced_at, missed.trace_status, missed.queue = utcnow(), "not_found", "follow_up"
    db.session.commit()
    login(client, crew.operator)

    def listed(query: str) -> set[str]:
        page = client.get(f"/leads/?{query}").text
        return {lead.code for lead in (never, found, missed) if lead.code in page}

    assert listed("traced=no") == {never.code}
    assert listed("traced=found") == {found.code}
    assert listed("traced=not_found") == {missed.code}
    assert listed("traced=yes") == {found.code, missed.code}
    assert listed("mobile_verified=yes") == {found.code}
    assert listed("mobile_verified=no") == {never.code, missed.code}
    assert listed("queue=high_priority") == {found.code}


# ------------------------------------------------------------------------------ escaping


def test_a_provider_name_with_markup_is_shown_as_text(client, crew):
    name = "<script>alert(1)</script>"
    login(client, crew.admin)
    provider_id = add_http_provider(client, name)
    for path in ("/settings/skiptrace", f"/settings/skiptrace/providers/{provider_id}"):
        page = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert name not in page, path


# ------------------------------------------------------------------- what the pass says


def _pass(team: Team, status: str, **counts: int) -> SkipTraceRun:
    """A committed pass of `team` in `status` with `counts`, no calls made."""
    run = SkipTraceRun(team_id=team.id, status=status, lead_ids=[1, 2], counts=counts)
    db.session.add(run)
    db.session.commit()
    return run


def test_the_stop_button_goes_away_with_the_refresh_when_the_pass_ends(client, crew):
    running = _pass(crew.team, "running")
    login(client, crew.operator)
    page = client.get(f"/skiptrace/{running.id}").text
    # Inside the region the page fetches again when the job finishes.
    assert "Stop this pass" in page[page.index('id="trace-summary"') :]
    running.status = "done"
    db.session.commit()
    refreshed = client.get(f"/skiptrace/{running.id}", headers={"HX-Request": "true"}).text
    assert "<html" not in refreshed and "Stop this pass" not in refreshed
    assert "Stop this pass" not in client.get(f"/skiptrace/{running.id}").text


def test_the_pass_names_each_rate_for_what_it_counts(client, crew):
    run = _pass(crew.team, "done", traced=5, hits=2)
    login(client, crew.operator)
    page = client.get(f"/skiptrace/{run.id}").text
    assert "Hit rate" not in page
    assert (
        '<dt>Found contact for</dt><dd>40.0% <small class="muted">of leads traced</small>' in page
    )
    assert ">Answered with a match</th>" in page
    assert '<dt>Verified mobiles</dt><dd>0 <small class="muted">leads</small>' in page
