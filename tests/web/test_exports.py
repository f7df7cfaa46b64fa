"""Every CSV download, read to its last line: found from the URL map and the pages that
offer one, seeded with rows whose people (who started, who created, who is assigned) are
set, and fetched as a user of the role the download asks for.

The body is read after the view has returned and its request's session is closed, as a
server writes it: a row built from an object of that session fails there, mid-file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    Campaign,
    Deal,
    ImportJob,
    ImportReject,
    JobRun,
    Lead,
    Message,
    Role,
    SkipTraceFile,
    SkipTraceFileRow,
    SkipTraceResult,
    SkipTraceRun,
    Task,
    User,
)
from console.models.base import utcnow
from console.services.deals import deals as deal_service
from console.services.deals import pipelines, tasks, timeline
from console.services.replies import inbox
from tests.conftest import TeamUsers, login, make_lead
from tests.deal_helpers import make_deal
from tests.web.campaign_helpers import generate_batch, make_leads, mobile
from tests.web.inbox_helpers import make_desk, reply_from, texted_lead

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# A page that offers its list as CSV through `?format=csv` (campaigns, inbox).
_FORMAT_CSV_LINK = re.compile(r"url_for\('([\w.]+)',\s*format='csv'")


@dataclass
class Seeded:
    """Our team's records, one of each kind an export lists, with their people set."""

    crew: TeamUsers
    campaign_id: int
    batch_id: int
    template_id: int
    import_id: int
    trace_run_id: int
    trace_file_id: int
    lead_id: int


@pytest.fixture
def seeded(app: Flask, crew: TeamUsers) -> Seeded:
    """A campaign with a texted lead who answered (assigned), a drafted batch, a job, an
    import with rejects, a skip-trace pass with a call, a result file with an unmatched
    row and a deal: every person column filled in."""
    desk = make_desk(crew)
    answered = texted_lead(desk, 1)
    item = reply_from(desk, mobile(1), "Yes, call me tomorrow")
    inbox.assign(db.session, crew.team.id, [item.id], crew.operator, crew.manager)
    make_leads(crew.team, 2, start=10)
    batch = generate_batch(desk.campaign)
    team_id, operator_id = crew.team.id, crew.operator.id
    run = JobRun(team_id=team_id, kind="import_list", title="Import owners.csv")
    run.started_by_id = operator_id
    job = ImportJob(
        team_id=team_id,
        filename="owners.csv",
        stored_path="/nowhere/owners.csv",
        shape={"kind": "csv", "header_row": 1, "headers": ["Company", "Phone"]},
        status="done",
        counts={"rows": 3, "rejected": 2},
        created_by_id=operator_id,
    )
    db.session.add_all([run, job])
    db.session.flush()
    rejects = [
        ImportReject(team_id=team_id, import_id=job.id, row_number=n, cells=["", "x"], reason="r")
        for n in (2, 3)
    ]
    trace = SkipTraceRun(team_id=team_id, status="done", lead_ids=[answered.id])
    trace.started_by_id = operator_id
    db.session.add_all([*rejects, trace])
    db.session.flush()
    result = SkipTraceResult(
        team_id=team_id, run_id=trace.id, lead_id=answered.id, provider_name="Sandbox"
    )
    trace_file = SkipTraceFile(
        team_id=team_id,
        filename="results.csv",
        stored_path="/nowhere/results.csv",
        shape={"kind": "csv", "header_row": 1, "headers": ["Name", "Mobile"]},
        status="done",
        created_by_id=operator_id,
    )
    tasks.book_callback(db.session, answered, crew.operator, utcnow() + timedelta(days=1))
    make_deal(team_id, answered, title="Lake 1 Plumbing", created_by_id=operator_id)
    db.session.add_all([result, trace_file])
    db.session.flush()
    db.session.add(
        SkipTraceFileRow(
            team_id=team_id,
            file_id=trace_file.id,
            row_number=2,
            unmatched_reason="No lead has this phone.",
            cells=["Nobody", "+15125559999"],
        )
    )
    db.session.commit()
    return Seeded(
        crew=crew,
        campaign_id=desk.campaign.id,
        batch_id=batch.id,
        template_id=desk.campaign.template_id,
        import_id=job.id,
        trace_run_id=trace.id,
        trace_file_id=trace_file.id,
        lead_id=answered.id,
    )


def count(model, *where) -> int:
    """Rows of `model` matching `where`."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@dataclass(frozen=True)
class Export:
    """One download: where it is, and how many rows it holds for the seeded team."""

    url: Callable[[Seeded], str]
    rows: Callable[[Seeded], int]


def _of_team(model) -> Callable[[Seeded], int]:
    return lambda s: count(model, model.team_id == s.crew.team.id)


EXPORTS: dict[str, Export] = {
    "leads.export": Export(lambda s: "/leads/export.csv", _of_team(Lead)),
    "imports.export": Export(lambda s: "/imports/export.csv", _of_team(ImportJob)),
    "imports.rejects": Export(
        lambda s: f"/imports/{s.import_id}/rejects.csv",
        lambda s: count(ImportReject, ImportReject.import_id == s.import_id),
    ),
    "skiptrace.export": Export(lambda s: "/skiptrace/export.csv", _of_team(SkipTraceRun)),
    "skiptrace.results": Export(
        lambda s: f"/skiptrace/{s.trace_run_id}/results.csv",
        lambda s: count(SkipTraceResult, SkipTraceResult.run_id == s.trace_run_id),
    ),
    "skiptrace.file_unmatched": Export(
        lambda s: f"/skiptrace/files/{s.trace_file_id}/unmatched.csv",
        lambda s: count(SkipTraceFileRow, SkipTraceFileRow.file_id == s.trace_file_id),
    ),
    "campaigns.batch_export": Export(
        lambda s: f"/campaigns/batches/{s.batch_id}/messages.csv",
        lambda s: count(Message, Message.batch_id == s.batch_id),
    ),
    "campaigns.index": Export(lambda s: "/campaigns/?format=csv", lambda s: 1),
    "library.export": Export(lambda s: "/templates/export.csv", lambda s: 1),
    # Variants A and B, and their total.
    "library.stats_export": Export(lambda s: f"/templates/{s.template_id}/stats.csv", lambda s: 3),
    "settings.export_users": Export(lambda s: "/settings/users.csv", _of_team(User)),
    "inbox.index": Export(lambda s: "/inbox?format=csv&view=all", lambda s: 1),
    "jobruns.export": Export(lambda s: "/jobs/export.csv", _of_team(JobRun)),
    "tasks.index": Export(lambda s: "/tasks?format=csv&who=everyone", _of_team(Task)),
    "pipeline.deals_csv": Export(lambda s: "/deals.csv", _of_team(Deal)),
    # The funnel's nine steps, whatever happened in the range.
    "reports.table_csv": Export(lambda s: "/reports/funnel/funnel.csv", lambda s: 9),
    "leads.timeline_csv": Export(
        lambda s: f"/leads/{s.lead_id}/timeline.csv",
        lambda s: len(list(timeline.export_rows(db.session, db.session.get(Lead, s.lead_id)))),
    ),
}


def csv_endpoints(app: Flask) -> set[str]:
    """Every endpoint that answers with a CSV file: `.csv` URLs, export views, and the
    pages whose templates link to their own `format='csv'`."""
    found = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and (rule.rule.endswith(".csv") or "export" in rule.endpoint)
    }
    for template in TEMPLATES.rglob("*.html"):
        found.update(_FORMAT_CSV_LINK.findall(template.read_text()))
    return found


def user_for(app: Flask, crew: TeamUsers, endpoint: str) -> User:
    """The least powerful of our users the endpoint lets in."""
    roles = getattr(app.view_functions[endpoint], "required_roles", tuple(Role))
    for role in (Role.REVIEWER, Role.OPERATOR, Role.MANAGER, Role.ADMIN):
        user = crew.by_role(role)
        if any(user.can(needed) for needed in roles):
            return user
    raise AssertionError(f"No user may open {endpoint}")


def test_every_csv_download_is_covered(app):
    assert csv_endpoints(app) == set(EXPORTS)


@pytest.mark.parametrize("endpoint", sorted(EXPORTS))
def test_csv_download_streams_every_row(app, client, seeded, endpoint):
    export = EXPORTS[endpoint]
    expected = export.rows(seeded)
    assert expected >= 1
    login(client, user_for(app, seeded.crew, endpoint))
    response = client.get(export.url(seeded))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert len(rows) == expected
    assert all(len(row) == len(header) for row in rows)


def test_exports_name_who_started_and_created(client, seeded):
    login(client, seeded.crew.operator)
    operator = seeded.crew.operator.email
    for url, column in (
        ("/jobs/export.csv", "started_by"),
        ("/imports/export.csv", "started_by"),
        ("/skiptrace/export.csv", "started_by"),
    ):
        rows = list(csv.DictReader(io.StringIO(client.get(url).text)))
        assert [row[column] for row in rows] == [operator], url


@pytest.mark.parametrize("kind, model", [("leads", Lead), ("messages", Message), ("deals", Deal)])
def test_export_command_writes_every_row(runner, seeded, tmp_path, kind, model):
    out = tmp_path / f"{kind}.csv"
    team = seeded.crew.team
    result = runner.invoke(args=["export", kind, "--team", team.name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        _, *rows = list(csv.reader(handle))
    assert len(rows) == count(model, model.team_id == team.id) >= 1


# The pipeline columns the deals export names, exactly so (issue 16).
PIPELINE_COLUMNS = (
    "pipeline", "stage", "probability", "value", "weighted_value", "expected_close",
    "assignee", "stage_entered_at", "days_in_stage", "source_campaign",
    "first_touch_persona", "lost_reason", "closed_at",
)  # fmt: skip


def test_export_deals_command_writes_the_pipeline_columns(runner, crew, tmp_path):
    team_id = crew.team.id
    campaign = Campaign(team_id=team_id, name="Spring owners", persona="GIANNA")
    db.session.add(campaign)
    db.session.flush()
    entered = utcnow() - timedelta(days=5, hours=1)
    make_deal(
        team_id, make_lead(crew.team, "Harbor Plumbing"), "LOI", at=entered,
        value=Decimal("1250000"), expected_close=date(2026, 3, 31),
        assignee_id=crew.manager.id, source_campaign_id=campaign.id,
        first_touch_persona="GIANNA",
    )  # fmt: skip
    reason = pipelines.lost_reasons(db.session, team_id)[1]
    make_deal(
        team_id, make_lead(crew.team, "Lost Bakery"), "Lost", at=entered,
        lost_reason_id=reason.id, closed_on=date(2026, 1, 9),
    )  # fmt: skip
    db.session.commit()
    out = tmp_path / "deals.csv"

    result = runner.invoke(args=["export", "deals", "--team", crew.team.name, "-o", str(out)])

    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == list(deal_service.EXPORT_COLUMNS)
    assert set(PIPELINE_COLUMNS) <= set(header)
    loi, lost = ({name: row[header.index(name)] for name in PIPELINE_COLUMNS} for row in rows)
    assert loi == {
        "pipeline": "Deals",
        "stage": "LOI",
        "probability": "60",
        "value": "1250000.00",
        "weighted_value": "750000.00",
        "expected_close": "2026-03-31",
        "assignee": "Manager of Harbor Partners",
        "stage_entered_at": entered.isoformat(),
        "days_in_stage": "5",
        "source_campaign": "Spring owners",
        "first_touch_persona": "GIANNA",
        "lost_reason": "",
        "closed_at": "",
    }
    assert (lost["stage"], lost["lost_reason"], lost["closed_at"]) == (
        "Lost",
        "Price gap",
        "2026-01-09",
    )
