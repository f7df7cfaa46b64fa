"""`flask --app app ...` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from console.extensions import db
from console.models import Batch, Campaign, Role, Team, User
from console.models.campaigns import PERSONAS
from console.models.skiptrace import PROVIDER_KINDS
from console.services import accounts, demo
from console.services.campaigns import batches, campaigns, queue_flags
from console.services.csvfiles import csv_lines
from console.services.lists import imports
from console.services.lists import leads as lead_service
from console.services.replies import inbound
from console.services.sending import policy
from console.services.tenancy import get_scoped
from console.services.tracing import pass_reports, provider_settings, scoring, waterfall
from jobs.sending import enqueue_dispatch


def _team(name: str) -> Team:
    team = db.session.scalars(select(Team).where((Team.name == name) | (Team.slug == name))).first()
    if team is None:
        raise click.ClickException(f"No team named {name!r}.")
    return team


def register_commands(app: Flask) -> None:
    """Attach the console's commands to the app's CLI."""
    register_flow_commands(app)
    register_deal_commands(app)
    register_report_command(app)

    @app.cli.command("create-admin")
    @click.option("--email", required=True, help="The admin's email, used to sign in.")
    @click.option("--team", "team_name", required=True, help="Team name; created if new.")
    @click.option("--name", default="", help="The admin's display name.")
    @click.password_option(help="Asked for when not given.")
    def create_admin(email: str, team_name: str, name: str, password: str) -> None:
        """Create the first admin of a team (the team is created if it does not exist)."""
        try:
            team = accounts.get_or_create_team(db.session, team_name)
            user = accounts.create_user(
                db.session,
                team,
                email=email,
                password=password,
                role=Role.ADMIN,
                name=name,
                hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"Admin {user.email} created in team {team.name!r}.")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo team (one user per role), load the sample businesses and, once,
        the demo's deals over its two pipelines."""
        team = demo.ensure_demo_team(
            db.session, hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        )
        counts = demo.seed_sample(db.session, team, Path(current_app.config["UPLOAD_DIR"]))
        demo.prepare_outreach(db.session, team, current_app.config)
        team.settings = {**team.settings, "sample_loaded": True}
        if not team.settings.get("deals_seeded"):
            counts["deals"] = demo.seed_deals(db.session, team)
            team.settings = {**team.settings, "deals_seeded": True}
        db.session.commit()
        click.echo(json.dumps({"team": team.name, **counts}))
        click.echo(
            f"Sign in as any of {', '.join(e for _, e, _ in demo.DEMO_USERS)} "
            f"with password {demo.DEMO_PASSWORD!r}."
        )

    @app.cli.command("import-csv")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--team", "team_name", required=True, help="Team name or slug.")
    @click.option("--preset", default="", help="A saved column mapping, by name or id.")
    @click.option("--tag", "tags", multiple=True, help="Tag every lead it creates or joins.")
    def import_csv(path: Path, team_name: str, preset: str, tags: tuple[str, ...]) -> None:
        """Import a CSV or XLSX list to the end and print its summary as JSON.

        Columns are mapped by --preset, else by the mapping saved for this header, else
        by the alias table. Progress goes to standard error.
        """
        team = _team(team_name)

        def report(job, _result) -> None:
            click.echo(f"{job.rows_done:,} of {job.total_rows or 0:,} rows", err=True)

        try:
            job = imports.import_file(
                db.session,
                team_id=team.id,
                source=path,
                upload_dir=Path(current_app.config["UPLOAD_DIR"]),
                preset=preset,
                tags=imports.parse_tags(" ".join(tags)),
                on_chunk=report,
            )
        except imports.ImportProblem as problem:
            raise click.ClickException(str(problem)) from problem
        click.echo(json.dumps(imports.summary(job), indent=2))

    @app.cli.command("skiptrace")
    @click.option("--team", "team_name", required=True, help="Team name or slug.")
    @click.option("--limit", type=click.IntRange(min=1), help="Trace at most this many leads.")
    @click.option("--budget", help="Stop before the call that would pass this many dollars.")
    def skiptrace_command(team_name: str, limit: int | None, budget: str | None) -> None:
        """Run a skip-trace pass over the team's leads that need one; print its summary as JSON.

        Leads with a verified owner mobile, or traced within the team's freshness window,
        are skipped; the rest go through the team's providers in order, highest priority
        first. Progress goes to standard error.
        """
        team = _team(team_name)
        try:
            run = waterfall.start_pass_for_team(
                db.session,
                team,
                limit=limit,
                budget=provider_settings.money(budget, "budget") if budget else None,
            )
        except provider_settings.ProviderProblem as problem:
            raise click.ClickException(str(problem)) from problem
        db.session.commit()

        def report(trace) -> None:
            counts = trace.counts or {}
            click.echo(
                f"{counts.get('leads_done', 0):,} of {counts.get('leads_total', 0):,} leads, "
                f"${trace.spent:,.2f} spent",
                err=True,
            )

        options = waterfall.pass_options(current_app.config, on_progress=report)
        run = waterfall.run_pass(db.session, run.id, options)
        summary = pass_reports.summarize(db.session, run)
        click.echo(json.dumps(pass_reports.as_dict(run, summary), indent=2))

    @app.cli.command("rescore")
    @click.option("--team", "team_name", required=True, help="Team name or slug.")
    def rescore(team_name: str) -> None:
        """Score every lead of a team again with its current weights."""
        team = _team(team_name)
        changed = scoring.rescore_leads(db.session, team.id)
        db.session.commit()
        click.echo(json.dumps({"team": team.name, "changed": changed}))

    @app.cli.command("worker")
    @click.option(
        "--with-scheduler/--without-scheduler",
        default=True,
        show_default=True,
        help="Also run RQ's scheduler and the sending ticker: it releases texts held for "
        "quiet hours, drafts due follow-ups, reconciles texts left in `sending` and queues "
        "the dispatchers. Safe on every worker: one ticks at a time (a leader lease in "
        "Redis), and another takes over within seconds when it stops.",
    )
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.option("--queue", "queues", multiple=True, help="Queue to work (default: default).")
    def worker(with_scheduler: bool, burst: bool, queues: tuple[str, ...]) -> None:
        """Run an RQ worker with the app context, against REDIS_URL."""
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException(
                "The embedded console runs its worker inside `flask run`. Set REDIS_URL "
                "(and DATABASE_URL, SECRET_KEY) to run separate workers."
            )
        from jobs.worker import run_worker

        run_worker(
            current_app._get_current_object(),
            list(queues),
            with_scheduler=with_scheduler,
            burst=burst,
        )

    @app.cli.command("classify")
    @click.option(
        "--rules-only", is_flag=True, help="Use the rules alone, even with an Anthropic key."
    )
    def classify_command(rules_only: bool) -> None:
        """Read reply texts, one a line, on stdin; print one JSON object a line (label,
        confidence, opt_out, extracted, source, note). Uses Claude
        (ANTHROPIC_MODEL_CLASSIFY) when ANTHROPIC_API_KEY is set, else the rules."""
        from console.services.replies import reading
        from jobs.replies import models_for

        models = models_for(current_app._get_current_object())
        claude = None if rules_only else models.claude
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            read = reading.read_reply(text, claude=claude, model=models.classify)
            result = read.classification.as_json()
            result["opt_out_suspected"] = read.opt_out_suspected
            if read.note:
                result["note"] = read.note
            click.echo(json.dumps({"text": text, **result}, ensure_ascii=False))

    @app.cli.command("unmatched-inbound")
    @click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help="Show at most this many texts, newest first.",
    )
    @click.option(
        "--stuck",
        is_flag=True,
        help="Instead, a team's texts that could not be matched to a lead after "
        f"{inbound.MAX_ATTACH_ATTEMPTS} attempts (they are not retried).",
    )
    def unmatched_inbound(limit: int, stuck: bool) -> None:
        """Texts that reached a number no team owns, one JSON object a line.

        They are kept, never lost and never shown to any team: a number of the Twilio
        account that is nobody's sender (or no longer is) points its webhook here.
        """
        rows = inbound.stuck(db.session, limit) if stuck else inbound.unowned(db.session, limit)
        for row in rows:
            record = {
                "team_id": row.team_id,
                "received_at": row.received_at.isoformat(),
                "sid": row.provider_sid,
                "to": row.to_address,
                "messaging_service_sid": row.messaging_service_sid,
                "from": row.from_e164,
                "body": row.body,
                "body_truncated": row.body_truncated,
                "media": len(row.media or []),
            }
            click.echo(json.dumps(record, ensure_ascii=False))

    @app.cli.group("export")
    def export() -> None:
        """Export a team's records as CSV."""

    @export.command("leads")
    @_export_options
    def export_leads(team_name: str, output: Path) -> None:
        """Every lead of a team with its code and provenance columns."""
        team = _team(team_name)
        rows = (
            lead_service.export_row(lead)
            for lead in lead_service.iter_leads_for_export(
                db.session, team.id, lead_service.LeadFilters()
            )
        )
        _write_csv(output, lead_service.EXPORT_COLUMNS, rows)
        click.echo(f"Leads of {team.name!r} written to {output}.", err=True)

    @export.command("messages")
    @_export_options
    def export_messages(team_name: str, output: Path) -> None:
        """Every outbound text of a team, with its campaign, batch, template and variant."""
        team = _team(team_name)
        _write_csv(
            output,
            queue_flags.MESSAGE_COLUMNS,
            queue_flags.message_rows(queue_flags.team_messages(db.session, team.id)),
        )
        click.echo(f"Messages of {team.name!r} written to {output}.", err=True)

    @export.command("deals")
    @_export_options
    def export_deals(team_name: str, output: Path) -> None:
        """Every deal of a team: pipeline, stage, probability, value and weighted value,
        expected close, assignee, days in stage, attribution, outcome, lead and number."""
        from console.models.base import utcnow
        from console.services.deals import deals

        team = _team(team_name)
        rows = deals.export_rows(
            deals.team_deals(db.session, team.id),
            utcnow(),
            deals.conversation_numbers(db.session, team.id),
            deals.campaign_names(db.session, team.id),
        )
        _write_csv(output, deals.EXPORT_COLUMNS, rows)
        click.echo(f"Deals of {team.name!r} written to {output}.", err=True)


def register_deal_commands(app: Flask) -> None:
    """Attach `deals ...`: the pipeline's upkeep from the command line."""

    @app.cli.group("deals")
    def deals_group() -> None:
        """Deals in the pipeline."""

    @deals_group.command("mark-stale")
    @click.option("--team", "team_name", default="", help="Team name or slug (default: all).")
    def mark_stale(team_name: str) -> None:
        """Sweep the open deals now, as the daily job does: bring each deal's last touch
        up to date, mark the deals past their stage's stale days and clear those no
        longer past it. Prints one JSON line a team: deals checked, marked, cleared."""
        from console.models.base import utcnow
        from console.services.deals import staleness

        teams = (
            [_team(team_name)]
            if team_name
            else db.session.scalars(select(Team).order_by(Team.id)).all()
        )
        for team in teams:
            report = staleness.sweep(db.session, team.id, utcnow())
            db.session.commit()
            click.echo(
                json.dumps(
                    {
                        "team": team.name,
                        "checked": report.checked,
                        "marked": report.marked,
                        "cleared": report.cleared,
                    }
                )
            )


def register_report_command(app: Flask) -> None:
    """`flask report NAME`: one report table as CSV, as the Reports pages export it."""

    @app.cli.command("report")
    @click.argument("name")
    @click.option("--team", "team_name", required=True, help="Team name or slug.")
    @click.option("--since", help="First day, YYYY-MM-DD (default: 30 days to --until).")
    @click.option("--until", help="Last day, YYYY-MM-DD (default: today).")
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default="-",
        show_default=True,
        help="CSV file to write ('-' for standard output).",
    )
    def report(name: str, team_name: str, since: str | None, until: str | None, output: Path):
        """Write the report NAME of a team as CSV over a range of days in the team's
        zone (the last 30 days by default). NAME is one of the Reports pages' tables:
        see the list this prints when NAME is not one."""
        from console.models.base import utcnow
        from console.services.reports import pages
        from console.services.reports.scope import parse_day, read_scope
        from console.services.timezones import local_date, team_zone_name

        if name not in pages.COMMANDS:
            names = ", ".join(pages.COMMANDS) or "none yet"
            raise click.BadParameter(f"{name!r} is not a report. Reports: {names}.")
        for flag, text in (("--since", since), ("--until", until)):
            if text and parse_day(text) is None:
                raise click.BadParameter(f"{flag} {text!r} is not a date (YYYY-MM-DD).")
        team = _team(team_name)
        zone, now = team_zone_name(team), utcnow()
        args = {"since": since or "", "until": until or ""}
        scope = read_scope(args, team.id, zone, local_date(now, zone))
        key, table_name = pages.COMMANDS[name]
        prices = current_app.config["AI_PRICES"]
        table = pages.build(db.session, key, scope, now, prices).table(table_name)
        _write_csv(output, table.header(), table.csv_rows())
        click.echo(f"{table.title}, {scope.label} ({zone}): {len(table.rows)} rows.", err=True)


def _export_options(command):
    """The options every export takes: the team and the file to write."""
    command = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="CSV file to write ('-' for standard output).",
    )(command)
    return click.option("--team", "team_name", required=True, help="Team name or slug.")(command)


def _write_csv(output: Path, columns, rows) -> None:
    lines = csv_lines(columns, rows)
    if str(output) == "-":
        sys.stdout.writelines(lines)
        return
    with output.open("w", newline="", encoding="utf-8") as handle:
        handle.writelines(lines)


# The whole sending flow from the command line: each command acts as a named user of
# the team and is allowed what that user's pages allow, through the same services.

ACTING = click.option(
    "--as",
    "acting_email",
    required=True,
    help="Email of the team's user the command acts as; their role must allow it.",
)
TEAM = click.option("--team", "team_name", required=True, help="Team name or slug.")


def _acting(team_name: str, email: str, role: Role) -> tuple[Team, User]:
    """The team and the user acting in it, refused as the pages would refuse them."""
    team = _team(team_name)
    try:
        return team, accounts.acting_user(db.session, team.id, email, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _one(rows: list, wanted: str, words, what: str):
    """The row whose id or any of `words(row)` is `wanted`, or a ClickException."""
    for row in rows:
        if wanted == str(row.id) or wanted in words(row):
            return row
    known = ", ".join(repr(words(row)[0]) for row in rows) or "none"
    raise click.ClickException(f"No {what} {wanted!r}; the team's: {known}.")


def _scoped_or_fail(model, team: Team, row_id: int, what: str):
    row = get_scoped(db.session, model, team.id, row_id)
    if row is None:
        raise click.ClickException(f"No {what} #{row_id} in team {team.name!r}.")
    return row


def _campaign_status(campaign: Campaign) -> dict:
    """A campaign and its batches' counts, as the campaign page shows them."""
    rows = []
    for batch in batches.batches_of(db.session, campaign):
        counts = batches.counters(db.session, batch)
        rows.append(
            {
                "batch_id": batch.id,
                "status": batch.status,
                "touch": batch.touch,
                "texts": counts.total,
                "by_status": counts.by_status,
                "held": counts.held,
                "percent_done": counts.percent,
                "cost_estimate": str(counts.cost_estimate),
                "cost": str(counts.cost),
            }
        )
    return {
        "campaign_id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "batches": rows,
    }


def register_flow_commands(app: Flask) -> None:
    """Attach `campaign ...` and `providers ...` to the app's CLI."""

    @app.cli.group("campaign")
    def campaign_group() -> None:
        """Build campaigns, draft and approve their batches, watch them send."""

    @campaign_group.command("create")
    @TEAM
    @ACTING
    @click.option("--name", required=True, help="The campaign's name.")
    @click.option("--template", "template_ref", required=True, help="Opening template: name or id.")
    @click.option(
        "--sender",
        "sender_ref",
        default="",
        help="Sender: name, address or id (default: the team's first, as the builder offers it).",
    )
    @click.option("--persona", type=click.Choice(list(PERSONAS)), default="GIANNA")
    @click.option("--states", default="", help="States to select, such as 'TX, OK'.")
    @click.option("--tags", default="", help="Leads tagged with any of these.")
    @click.option("--score-min", type=click.IntRange(0, 100), help="Lowest lead score.")
    @click.option(
        "--recent-days",
        type=click.IntRange(0, 365),
        default=30,
        show_default=True,
        help="Leave out leads texted in this many days.",
    )
    @click.option(
        "--batch-size",
        type=click.IntRange(1, campaigns.MAX_BATCH),
        default=500,
        show_default=True,
        help="Texts drafted for review at a time.",
    )
    @click.option(
        "--daily-cap", type=click.IntRange(0, 100_000), default=0, help="Texts a day, 0 for no cap."
    )
    def campaign_create(
        team_name: str,
        acting_email: str,
        name: str,
        template_ref: str,
        sender_ref: str,
        persona: str,
        states: str,
        tags: str,
        score_min: int | None,
        recent_days: int,
        batch_size: int,
        daily_cap: int,
    ) -> None:
        """Create a campaign as the builder does (operators and up); print it as JSON."""
        team, user = _acting(team_name, acting_email, Role.OPERATOR)
        if not name.strip() or len(name) > 120:
            raise click.ClickException("Give a name of 1 to 120 characters.")
        template = _one(
            campaigns.opening_templates(db.session, team.id),
            template_ref,
            lambda t: [t.name],
            "first-touch template",
        )
        senders = policy.campaign_senders(db.session, team, current_app.config)
        if not senders:
            raise click.ClickException(
                "The team has no sender yet: an admin adds one in Settings > Sending."
            )
        sender = (
            _one(senders, sender_ref, lambda s: [s.label, s.address], "sender")
            if sender_ref
            else senders[0]
        )
        criteria = campaigns.Criteria.from_form(
            {"states": states, "tags": tags, "score_min": score_min}
        )
        values = {
            "name": name,
            "persona": persona,
            "criteria": criteria,
            "recent_contact_days": recent_days,
            "template_id": template.id,
            "split": {},
            "sender_id": sender.id,
            "start_at": None,
            "daily_cap": daily_cap,
            "batch_size": batch_size,
            "touches": [],
        }
        problem = campaigns.ownership_problem(db.session, team.id, [template.id], sender.id)
        if problem:
            raise click.ClickException(problem[1])
        campaign = campaigns.save_campaign(db.session, team.id, values, user.id)
        db.session.commit()
        found = campaigns.audience(
            db.session, team.id, criteria, recent_days=recent_days, campaign_id=campaign.id
        )
        click.echo(
            json.dumps(
                {
                    "campaign_id": campaign.id,
                    "name": campaign.name,
                    "template": template.name,
                    "sender": sender.label,
                    "eligible": len(found.eligible),
                }
            )
        )

    @campaign_group.command("draft")
    @TEAM
    @ACTING
    @click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
    def campaign_draft(team_name: str, acting_email: str, campaign_id: int) -> None:
        """Draft the campaign's next batch for review (operators and up); print it."""
        team, user = _acting(team_name, acting_email, Role.OPERATOR)
        campaign = _scoped_or_fail(Campaign, team, campaign_id, "campaign")
        problem = campaigns.draft_problem(campaign)
        if problem:
            raise click.ClickException(problem)
        batch = batches.create_batch(db.session, campaign, user)
        db.session.commit()
        batch = batches.draft(db.session, batch.id)
        click.echo(
            json.dumps(
                {
                    "batch_id": batch.id,
                    "status": batch.status,
                    "texts": batch.size,
                    "excluded": batch.excluded,
                }
            )
        )

    @campaign_group.command("approve")
    @TEAM
    @ACTING
    @click.option("--batch", "batch_id", type=int, required=True, help="Batch id.")
    @click.option(
        "--message",
        "message_ids",
        type=int,
        multiple=True,
        help="Approve only these texts (repeat); default: every draft.",
    )
    def campaign_approve(
        team_name: str, acting_email: str, batch_id: int, message_ids: tuple[int, ...]
    ) -> None:
        """Approve a batch's drafts (operators and up; a manager over the team's size)."""
        team, user = _acting(team_name, acting_email, Role.OPERATOR)
        batch = _scoped_or_fail(Batch, team, batch_id, "batch")
        try:
            count = batches.approve(db.session, batch, user, list(message_ids) or None)
        except batches.NotAllowed as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        if current_app.config.get("REDIS_URL"):
            enqueue_dispatch(current_app._get_current_object(), batch.id)
        # Embedded, the console's own worker (in `flask run`) finds the approved texts.
        click.echo(f"{count:,} texts approved; they send as each recipient's hours allow.")

    @campaign_group.command("status")
    @TEAM
    @ACTING
    @click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
    def campaign_status(team_name: str, acting_email: str, campaign_id: int) -> None:
        """Print a campaign's batches and their texts by state as JSON."""
        team, _ = _acting(team_name, acting_email, Role.OPERATOR)
        campaign = _scoped_or_fail(Campaign, team, campaign_id, "campaign")
        click.echo(json.dumps(_campaign_status(campaign), indent=2))

    @app.cli.group("providers")
    def providers_group() -> None:
        """A team's skip-trace providers (admins only); keys are never printed."""

    @providers_group.command("add")
    @TEAM
    @ACTING
    @click.option("--kind", type=click.Choice(list(PROVIDER_KINDS)), required=True)
    @click.option("--name", required=True, help="The provider's name in the team's order.")
    @click.option("--endpoint", default="", help="HTTP kind: the vendor's https URL.")
    @click.option("--method", default="POST", show_default=True, help="HTTP kind: GET or POST.")
    @click.option("--cost-per-search", default="0", help="Dollars a search.")
    @click.option("--cost-per-hit", default="0", help="Dollars a hit.")
    @click.option("--rate", type=float, help="Calls a second (default: the kind's).")
    @click.option("--concurrency", type=int, help="Calls at once (default: the kind's).")
    @click.option(
        "--enabled/--disabled",
        default=None,
        help="Use it in passes (default: on, off for HTTP until tested).",
    )
    @click.option(
        "--secret-stdin",
        is_flag=True,
        help="Read the API key from the first line of standard input.",
    )
    def providers_add(
        team_name: str,
        acting_email: str,
        kind: str,
        name: str,
        endpoint: str,
        method: str,
        cost_per_search: str,
        cost_per_hit: str,
        rate: float | None,
        concurrency: int | None,
        enabled: bool | None,
        secret_stdin: bool,
    ) -> None:
        """Add a provider at the end of the team's order, checked as Settings does."""
        team, _ = _acting(team_name, acting_email, Role.ADMIN)
        try:
            provider = provider_settings.add_provider(db.session, team.id, kind, name)
            form = provider_settings.provider_form(provider) | {
                "endpoint": endpoint,
                "method": method,
                "cost_per_search": cost_per_search,
                "cost_per_hit": cost_per_hit,
                "secret": sys.stdin.readline().strip() if secret_stdin else "",
            }
            if rate is not None:
                form["rate_per_second"] = str(rate)
            if concurrency is not None:
                form["max_concurrency"] = str(concurrency)
            if enabled is not None:
                form["enabled"] = "y" if enabled else ""
            provider_settings.update_provider(
                provider,
                form,
                current_app.config["SECRETS_KEY"],
                provider_settings.endpoint_rules(current_app.config),
            )
        except provider_settings.ProviderProblem as problem:
            db.session.rollback()
            where = f" ({problem.field})" if problem.field else ""
            raise click.ClickException(f"{problem}{where}") from problem
        db.session.commit()
        click.echo(json.dumps(provider_settings.provider_facts(provider)))

    @providers_group.command("list")
    @TEAM
    @ACTING
    def providers_list(team_name: str, acting_email: str) -> None:
        """The team's providers in waterfall order, one JSON object a line (no keys)."""
        team, _ = _acting(team_name, acting_email, Role.ADMIN)
        for provider in provider_settings.team_providers(db.session, team.id):
            click.echo(json.dumps(provider_settings.provider_facts(provider)))
