"""The Reports area (managers and admins): one page a report, each over a range of days
and the filters every report takes, every table with its totals and a CSV export."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from console.extensions import db
from console.models import Campaign, ImportJob, Role
from console.models.base import utcnow
from console.models.campaigns import PERSONAS
from console.services.deals import pipelines
from console.services.reports import pages
from console.services.reports.scope import read_scope
from console.services.timezones import local_date, viewer_zone_name
from console.web import csv_download, roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _scope():
    zone = viewer_zone_name(current_user)
    today = local_date(utcnow(), zone)
    return read_scope(request.args, current_user.team_id, zone, today)


def _choices() -> dict:
    """What the filter bar offers: the team's campaigns, imports, pipelines, personas."""
    team_id = current_user.team_id
    return {
        "campaigns": db.session.execute(
            select(Campaign.id, Campaign.name)
            .where(Campaign.team_id == team_id)
            .order_by(Campaign.name)
        ).all(),
        "imports": db.session.execute(
            select(ImportJob.id, ImportJob.filename)
            .where(ImportJob.team_id == team_id)
            .order_by(ImportJob.id.desc())
        ).all(),
        "pipelines": pipelines.pipelines_of(db.session, team_id),
        "personas": PERSONAS,
    }


@bp.get("/")
@roles_required(Role.MANAGER)
def index():
    """The first report, keeping the scope asked for."""
    if not pages.PAGES:
        abort(404)
    first = next(iter(pages.PAGES))
    # Only the scope's own arguments: any other name (`endpoint`...) would clash.
    return redirect(url_for("reports.page", key=first, **_scope().as_args()))


@bp.get("/<key>")
@roles_required(Role.MANAGER)
def page(key: str):
    """One report page over the scope the link asks for."""
    if key not in pages.PAGES:
        abort(404)
    scope = _scope()
    report = pages.build(db.session, key, scope, utcnow(), current_app.config["AI_PRICES"])
    return render_template(
        "reports/page.html",
        report=report,
        scope=scope,
        pages=pages.PAGES,
        **_choices(),
    )


@bp.get("/<key>/<table>.csv")
@roles_required(Role.MANAGER)
def table_csv(key: str, table: str):
    """One table of a report page as CSV, over the same scope."""
    if key not in pages.PAGES:
        abort(404)
    scope = _scope()
    prices = current_app.config["AI_PRICES"]
    found = pages.build(db.session, key, scope, utcnow(), prices).table(table)
    if found is None:
        abort(404)
    name = f"{table}-{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}.csv"
    return csv_download(name, found.header(), list(found.csv_rows()))
