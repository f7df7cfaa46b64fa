"""`flask --app app ...` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from console.extensions import db
from console.models import Role, Team
from console.services import (
    accounts,
    demo,
    imports,
    inbound,
    review,
    scoring,
    skiptrace,
    trace_providers,
    trace_reports,
)
from console.services import leads as lead_service
from console.services.csvfiles import csv_lines


def _team(name: str) -> Team:
    team = db.session.scalars(select(Team).where((Team.name == name) | (Team.slug == name))).first()
    if team is None:
        raise click.ClickException(f"No team named {name!r}.")
    return team


def register_commands(app: Flask) -> None:
    """Attach the console's commands to the app's CLI."""

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
        """Create the demo team (one user per role) and load the sample businesses."""
        team = demo.ensure_demo_team(
            db.session, hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        )
        counts = demo.seed_sample(db.session, team, Path(current_app.config["UPLOAD_DIR"]))
        demo.prepare_outreach(db.session, team, current_app.config)
        team.settings = {**team.settings, "sample_loaded": True}
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
            run = skiptrace.start_pass_for_team(
                db.session,
                team,
                limit=limit,
                budget=trace_providers.money(budget, "budget") if budget else None,
            )
        except trace_providers.ProviderProblem as problem:
            raise click.ClickException(str(problem)) from problem
        db.session.commit()

        def report(trace) -> None:
            counts = trace.counts or {}
            click.echo(
                f"{counts.get('leads_done', 0):,} of {counts.get('leads_total', 0):,} leads, "
                f"${trace.spent:,.2f} spent",
                err=True,
            )

        options = skiptrace.pass_options(current_app.config, on_progress=report)
        run = skiptrace.run_pass(db.session, run.id, options)
        summary = trace_reports.summarize(db.session, run)
        click.echo(json.dumps(trace_reports.as_dict(run, summary), indent=2))

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
        from console.services import reading
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
            review.MESSAGE_COLUMNS,
            review.message_rows(review.team_messages(db.session, team.id)),
        )
        click.echo(f"Messages of {team.name!r} written to {output}.", err=True)

    @export.command("deals")
    @_export_options
    def export_deals(team_name: str, output: Path) -> None:
        """Every deal of a team: stage, lead, business, owner, number and value."""
        from console.services import deals

        team = _team(team_name)
        rows = deals.export_rows(
            deals.team_deals(db.session, team.id),
            deals.conversation_numbers(db.session, team.id),
        )
        _write_csv(output, deals.EXPORT_COLUMNS, rows)
        click.echo(f"Deals of {team.name!r} written to {output}.", err=True)


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
