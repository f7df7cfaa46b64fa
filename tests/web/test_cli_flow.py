"""The sending flow from the command line: a campaign created, its batch drafted,
approved and watched, each command acting as a named user and refused what that
user's pages refuse; skip-trace providers added and listed by admins, keys unprinted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import Campaign, Message, SkipTraceProvider
from console.services import secrets
from tests.web.campaign_helpers import make_leads, make_template, set_manager_limit

KEY = "vendor-key-never-printed"


def run(runner, *args: str, user, input: str | None = None):
    """`flask campaign|providers ...` for the user's team, acting as them."""
    group, command, *rest = args
    base = [group, command, "--team", user.team.name, "--as", user.email]
    return runner.invoke(args=base + list(rest), input=input)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result, words: str) -> None:
    assert result.exit_code != 0
    assert words in result.output, result.output


@pytest.fixture
def ready(app, crew):
    """Our team's opener and three Texas leads."""
    make_template(crew.team)
    make_leads(crew.team, 3)
    return crew


def create(runner, user, *extra: str) -> dict:
    result = run(
        runner,
        "campaign",
        "create",
        "--name",
        "CLI push",
        "--template",
        "Opener",
        *extra,
        user=user,
    )
    return json.loads(ok(result))


def draft(runner, user, campaign_id: int) -> dict:
    return json.loads(
        ok(run(runner, "campaign", "draft", "--campaign", str(campaign_id), user=user))
    )


def test_create_draft_approve_and_status_from_the_command_line(runner, ready):
    made = create(runner, ready.operator)
    assert made["eligible"] == 3 and made["template"] == "Opener"
    drafted = draft(runner, ready.operator, made["campaign_id"])
    assert (drafted["status"], drafted["texts"]) == ("in_review", 3)
    approved = run(
        runner, "campaign", "approve", "--batch", str(drafted["batch_id"]), user=ready.operator
    )
    assert "3 texts approved" in ok(approved)
    status = json.loads(
        ok(
            run(
                runner,
                "campaign",
                "status",
                "--campaign",
                str(made["campaign_id"]),
                user=ready.operator,
            )
        )
    )
    (batch,) = status["batches"]
    assert batch["by_status"] == {"approved": 3} and batch["texts"] == 3
    db.session.expire_all()
    approvers = db.session.scalars(select(Message.approved_by_id)).all()
    assert approvers == [ready.operator.id] * 3


def test_a_reviewer_can_neither_build_nor_approve(runner, ready):
    refused(
        run(
            runner, "campaign", "create", "--name", "X", "--template", "Opener", user=ready.reviewer
        ),
        "takes operator or above",
    )
    drafted = draft(runner, ready.operator, create(runner, ready.operator)["campaign_id"])
    refused(
        run(
            runner, "campaign", "approve", "--batch", str(drafted["batch_id"]), user=ready.reviewer
        ),
        "takes operator or above",
    )
    assert db.session.scalars(select(Message.status)).all() == ["draft"] * 3


def test_a_batch_over_the_teams_size_needs_a_manager(runner, ready):
    set_manager_limit(ready.team, 2)
    drafted = draft(runner, ready.operator, create(runner, ready.operator)["campaign_id"])
    approve = ("campaign", "approve", "--batch", str(drafted["batch_id"]))
    refused(run(runner, *approve, user=ready.operator), "need a manager's approval")
    assert "3 texts approved" in ok(run(runner, *approve, user=ready.manager))


def test_another_teams_user_and_rows_are_refused(runner, ready, outsider):
    made = create(runner, ready.operator)
    result = runner.invoke(
        args=[
            "campaign",
            "status",
            "--team",
            ready.team.name,
            "--as",
            outsider.admin.email,
            "--campaign",
            str(made["campaign_id"]),
        ]
    )
    refused(result, "No active user")
    refused(
        run(
            runner, "campaign", "draft", "--campaign", str(made["campaign_id"]), user=outsider.admin
        ),
        "No campaign #",
    )
    assert db.session.get(Campaign, made["campaign_id"]).status == "draft"


def test_unknown_template_is_refused_with_the_teams_choices(runner, ready):
    result = run(
        runner, "campaign", "create", "--name", "X", "--template", "Nope", user=ready.operator
    )
    refused(result, "No first-touch template 'Nope'; the team's: 'Opener'")


def test_providers_are_for_admins_and_keys_are_never_printed(app, runner, crew):
    app.config.update(SKIPTRACE_ALLOW_HTTP=True, SKIPTRACE_ALLOW_PRIVATE_HOSTS=True)
    refused(run(runner, "providers", "list", user=crew.manager), "takes admin or above")
    added = run(
        runner,
        "providers",
        "add",
        "--kind",
        "http",
        "--name",
        "Vendor",
        "--endpoint",
        "http://127.0.0.1:9/search",
        "--cost-per-hit",
        "0.07",
        "--enabled",
        "--secret-stdin",
        user=crew.admin,
        input=KEY + "\n",
    )
    assert KEY not in ok(added)
    listed = ok(run(runner, "providers", "list", user=crew.admin))
    assert KEY not in listed
    (facts,) = [json.loads(line) for line in listed.splitlines()]
    assert facts["endpoint"] == "http://127.0.0.1:9/search" and facts["key_stored"]
    provider = db.session.scalars(select(SkipTraceProvider)).one()
    assert secrets.unseal(provider.secret_encrypted, app.config["SECRETS_KEY"]) == KEY


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [("http://127.0.0.1:9/search", "endpoint"), ("ftp://x", "full http:// or https://")],
)
def test_providers_add_refuses_what_settings_refuse(runner, crew, endpoint, words):
    result = run(
        runner,
        "providers",
        "add",
        "--kind",
        "http",
        "--name",
        "Vendor",
        "--endpoint",
        endpoint,
        user=crew.admin,
    )
    refused(result, words)
    assert db.session.scalars(select(SkipTraceProvider)).all() == []
