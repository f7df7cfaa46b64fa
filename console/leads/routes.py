"""The leads list (search, filters, paging, CSV export) and the lead page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from console.extensions import db
from console.models import Lead, Role
from console.models.base import utcnow
from console.models.leads import LEAD_STATUSES
from console.providers.lookup import LINE_TYPE_LABELS
from console.services import phones as phone_service
from console.services.lists import duplicates
from console.services.lists import imports as import_service
from console.services.lists import leads as lead_service
from console.services.lists.resolve import RULES
from console.services.replies.inbox_list import lead_replies
from console.services.tracing import pass_reports, scoring
from console.web import (
    csv_download,
    int_arg,
    int_list,
    render,
    roles_required,
    team_get_or_404,
)

bp = Blueprint("leads", __name__, url_prefix="/leads")


@bp.get("/")
@login_required
def index():
    """The team's leads; htmx requests get only the rows region."""
    filters = lead_service.LeadFilters.from_args(request.args)
    page = lead_service.search_leads(
        db.session,
        current_user.team_id,
        filters,
        page=int_arg(request.args, "page", 1),
        per_page=current_app.config["LEADS_PAGE_SIZE"],
    )
    return render(
        "leads/index.html",
        "leads/_rows.html",
        page=page,
        statuses=LEAD_STATUSES,
        states=lead_service.team_states(db.session, current_user.team_id),
        imports=import_service.team_imports(db.session, current_user.team_id),
        queues=scoring.QUEUES,
    )


@bp.get("/export.csv")
@roles_required(Role.OPERATOR)
def export():
    """Every lead the current filters match, as CSV with provenance columns (operators and
    up: the whole lead database is not a reviewer's to take)."""
    filters = lead_service.LeadFilters.from_args(request.args)
    rows = (
        lead_service.export_row(lead)
        for lead in lead_service.iter_leads_for_export(db.session, current_user.team_id, filters)
    )
    name = f"leads-{utcnow():%Y%m%d-%H%M}.csv"
    return csv_download(name, lead_service.EXPORT_COLUMNS, rows)


@bp.get("/<int:lead_id>")
@login_required
def show(lead_id: int):
    """One lead: owner, business, phones, emails, provenance, the work on it and its timeline."""
    return lead_page(team_get_or_404(Lead, lead_id))


def lead_page(lead: Lead, **forms) -> str:
    """The lead page; `forms` are refused forms to show again with their errors."""
    return render(
        "leads/show.html",
        lead=lead,
        reviews=duplicates.pending_for_lead(db.session, lead),
        rules=RULES,
        traces=pass_reports.lead_results(db.session, lead),
        phones=phone_service.ranked(lead.phones),
        line_types=LINE_TYPE_LABELS,
        breakdown=scoring.explain(lead),
        queues=scoring.QUEUES,
        actions=scoring.ACTIONS,
        personas=scoring.PERSONAS,
        replies=lead_replies(db.session, lead),
        **record.record_context(lead, **forms),
    )


@bp.post("/tag")
@roles_required(Role.OPERATOR)
def bulk_tag():
    """Add a tag to the chosen leads, or to every lead the filters match.

    The tag to add comes as `new_tag` so it never mixes with the `tag` filter the
    form carries back; the list comes back with the same filters as before.
    """
    filters = lead_service.LeadFilters.from_args(request.form)
    if request.form.get("scope") == "all":
        ids = lead_service.matching_ids(db.session, current_user.team_id, filters)
    else:
        ids = int_list(request.form, "lead_id")
    tag = lead_service.clean_tag(request.form.get("new_tag", ""))
    changed = lead_service.tag_leads(db.session, current_user.team_id, ids, tag)
    db.session.commit()
    if tag:
        flash(f"Tagged {changed:,} lead{'' if changed == 1 else 's'} {tag!r}.", "success")
    else:
        flash("Type a tag to add.", "error")
    return redirect(url_for("leads.index", **filters.as_args()))


# The record's routes (editing, notes, status, timeline) live on this blueprint too.
from console.leads import record  # noqa: E402
