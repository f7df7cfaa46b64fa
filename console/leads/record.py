"""The lead as a record people work: edit it, tag it, note it, set its status, give it
to a teammate, trace it, add it to a campaign, make it a deal; and its timeline.

Routes on the leads blueprint. Operators and up edit, assign, trace and add to
campaigns; reviewers may also write notes, set the status and open a deal.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from console.extensions import db
from console.leads.forms import (
    AssignForm,
    BusinessForm,
    CampaignForm,
    DealForm,
    NoteForm,
    OwnerForm,
    StatusForm,
    TagForm,
)
from console.leads.routes import bp
from console.models import Campaign, Lead, Role, User
from console.models.base import utcnow
from console.services import audit
from console.services.campaigns import campaigns as campaign_service
from console.services.deals import deals as deal_service
from console.services.deals import notes as note_service
from console.services.deals import pipelines, timeline
from console.services.lists import editing
from console.services.timezones import viewer_zone_name
from console.services.tracing import provider_settings, waterfall
from console.web import csv_download, int_arg, roles_required, team_get_or_404, wants_partial
from jobs import queue as job_queue

WORKERS = (Role.OPERATOR,)
READERS_WHO_WRITE = (Role.OPERATOR, Role.REVIEWER)


def record_context(lead: Lead, **forms) -> dict:
    """What the lead page shows of the record: its forms, assignee and timeline's first page."""
    owner, business = lead.owner, lead.business
    members = editing.team_members(db.session, lead.team_id)
    defaults = {
        "owner_form": OwnerForm(obj=owner, formdata=None),
        "business_form": BusinessForm(obj=business, formdata=None),
        "note_form": NoteForm(formdata=None),
        "status_form": StatusForm(status=lead.status, formdata=None),
        "assign_form": _assign_form(members, formdata=None, assignee_id=lead.assignee_id or 0),
        "deal_form": DealForm(formdata=None).offer(
            pipelines.open_stage_groups(db.session, lead.team_id)
        ),
        "campaign_form": _campaign_form(lead.team_id, formdata=None),
        "tag_form": TagForm(formdata=None),
    }
    return {
        **defaults,
        **forms,
        "assignee": next((m for m in members if m.id == lead.assignee_id), None),
        "open_deal": deal_service.open_deal_of(db.session, lead),
        "timeline": _timeline_page(lead, request.args),
        "timeline_kinds": timeline.KINDS,
    }


def _assign_form(members: list[User], **kwargs) -> AssignForm:
    form = AssignForm(**kwargs)
    form.assignee_id.choices = [SelectChoice(0, "Nobody")] + [
        SelectChoice(m.id, m.name or m.email) for m in members
    ]
    return form


def _campaign_form(team_id: int, **kwargs) -> CampaignForm:
    form = CampaignForm(**kwargs)
    form.campaign_id.choices = [
        SelectChoice(c.id, f"{c.name} ({c.status})")
        for c in campaign_service.open_campaigns(db.session, team_id)
    ]
    return form


def _timeline_page(lead: Lead, args) -> timeline.TimelinePage:
    return timeline.for_lead(
        db.session,
        lead,
        kinds=args.getlist("kind"),
        page=int_arg(args, "page", 1),
        zone=viewer_zone_name(current_user),
    )


def _refused(lead: Lead, **forms):
    """The lead page again with the refused form's errors (422, so htmx swaps it too)."""
    from console.leads.routes import lead_page

    db.session.rollback()
    flash("Nothing was saved: see the form below.", "error")
    return lead_page(lead, **forms), 422


def _back(lead: Lead):
    return redirect(url_for("leads.show", lead_id=lead.id))


@bp.post("/<int:lead_id>/owner")
@roles_required(*WORKERS)
def edit_owner(lead_id: int):
    """Save the owner's name and title."""
    lead = team_get_or_404(Lead, lead_id)
    form = OwnerForm()
    if not form.validate():
        return _refused(lead, owner_form=form)
    return _save_edit(lead, owner=form.data)


@bp.post("/<int:lead_id>/business")
@roles_required(*WORKERS)
def edit_business(lead_id: int):
    """Save the business's name, address and industry."""
    lead = team_get_or_404(Lead, lead_id)
    form = BusinessForm()
    if not form.validate():
        return _refused(lead, business_form=form)
    return _save_edit(lead, business=form.data, form=form)


def _save_edit(lead: Lead, form: BusinessForm | None = None, **values):
    try:
        changes = editing.edit_lead(db.session, lead, current_user, **values)
    except editing.EditProblem as problem:
        if form is not None:
            getattr(form, problem.field, form.name).errors = [str(problem)]
        return _refused(lead, business_form=form) if form else _refused(lead)
    db.session.commit()
    words = ", ".join(editing.FIELD_NAMES[k] for k in changes)
    flash(f"Saved the {words}." if changes else "Nothing changed.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/tags")
@roles_required(*WORKERS)
def add_tag(lead_id: int):
    """Tag the lead."""
    lead = team_get_or_404(Lead, lead_id)
    form = TagForm()
    if not form.validate():
        return _refused(lead, tag_form=form)
    tag = editing.add_tag(db.session, lead, current_user, form.tag.data)
    db.session.commit()
    flash(f"Tagged {tag}." if tag else "The lead already has that tag.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/tags/remove")
@roles_required(*WORKERS)
def remove_tag(lead_id: int):
    """Take a tag off the lead."""
    lead = team_get_or_404(Lead, lead_id)
    tag = request.form.get("tag", "")
    if editing.remove_tag(db.session, lead, current_user, tag):
        db.session.commit()
        flash(f"Removed the tag {tag}.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/notes")
@roles_required(*READERS_WHO_WRITE)
def add_note(lead_id: int):
    """Keep a note on the lead."""
    lead = team_get_or_404(Lead, lead_id)
    form = NoteForm()
    if not form.validate():
        return _refused(lead, note_form=form)
    note_service.add_note(db.session, lead, current_user, form.body.data)
    db.session.commit()
    flash("Note added.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/status")
@roles_required(*READERS_WHO_WRITE)
def set_status(lead_id: int):
    """Set the lead's status; do-not-contact suppresses its numbers."""
    lead = team_get_or_404(Lead, lead_id)
    form = StatusForm()
    if not form.validate():
        return _refused(lead, status_form=form)
    change = editing.set_status(db.session, lead, current_user, form.status.data, form.reason.data)
    db.session.commit()
    message = f"Status set to {lead.status.replace('_', ' ')}."
    if change.suppressed:
        count = len(change.suppressed)
        message += f" {count} number{'' if count == 1 else 's'} will never be texted again."
    flash(message, "success")
    return _back(lead)


@bp.post("/<int:lead_id>/assign")
@roles_required(*WORKERS)
def assign(lead_id: int):
    """Give the lead to a teammate (or nobody)."""
    lead = team_get_or_404(Lead, lead_id)
    assignee_id = int_arg(request.form, "assignee_id", 0)
    assignee = team_get_or_404(User, assignee_id) if assignee_id else None
    if editing.assign(db.session, lead, current_user, assignee):
        db.session.commit()
    name = (assignee.name or assignee.email) if assignee else "nobody"
    flash(f"Assigned to {name}.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/trace")
@roles_required(*WORKERS)
def trace(lead_id: int):
    """Start a skip trace of this one lead."""
    lead = team_get_or_404(Lead, lead_id)
    try:
        run = waterfall.trace_lead(db.session, current_user.team, lead, current_user.id)
    except provider_settings.ProviderProblem as problem:
        db.session.rollback()
        flash(f"Not traced: {problem}", "error")
        return _back(lead)
    job_queue.start_skiptrace_pass(run, current_user.id)
    flash(f"Tracing {lead.code}: the calls show here as they come back.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/campaign")
@roles_required(*WORKERS)
def add_to_campaign(lead_id: int):
    """Add the lead to a draft or active campaign, or say why it can't go."""
    lead = team_get_or_404(Lead, lead_id)
    campaign = team_get_or_404(Campaign, int_arg(request.form, "campaign_id", 0) or 0)
    problem = campaign_service.add_lead(db.session, campaign, lead)
    if problem:
        db.session.rollback()
        flash(f"Not added to {campaign.name}: {problem}", "error")
        return _back(lead)
    audit.record(
        db.session,
        team_id=lead.team_id,
        actor_id=current_user.id,
        action="lead.campaign_added",
        entity=lead,
        after={"campaign_id": campaign.id, "campaign": campaign.name},
    )
    db.session.commit()
    flash(f"Added to {campaign.name}: its first text goes with the next batch.", "success")
    return _back(lead)


@bp.post("/<int:lead_id>/deal")
@roles_required(*READERS_WHO_WRITE)
def convert(lead_id: int):
    """Make the lead a deal, in the chosen stage and at the typed value."""
    lead = team_get_or_404(Lead, lead_id)
    form = DealForm().offer(pipelines.open_stage_groups(db.session, lead.team_id))
    if not form.validate():
        return _refused(lead, deal_form=form)
    if deal_service.open_deal_of(db.session, lead) is not None:
        flash("This lead already has an open deal.", "error")
        return _back(lead)
    try:
        deal_service.open_deal(
            db.session,
            lead,
            current_user,
            stage=deal_service.open_stage(db.session, lead.team_id, form.stage.data),
            value=form.value.data,
            note="Converted on the lead page",
        )
    except deal_service.DealProblem as problem:
        form.stage.errors = [str(problem)]
        return _refused(lead, deal_form=form)
    db.session.commit()
    flash("Converted to a deal.", "success")
    return _back(lead)


@bp.get("/<int:lead_id>/timeline")
@login_required
def timeline_page(lead_id: int):
    """A page of the lead's timeline, narrowed by kind; htmx gets only its rows."""
    lead = team_get_or_404(Lead, lead_id)
    if not wants_partial():
        args = {"kind": request.args.getlist("kind"), "page": int_arg(request.args, "page", 1)}
        return redirect(url_for("leads.show", lead_id=lead.id, **args, _anchor="timeline"))
    page = _timeline_page(lead, request.args)
    part = (
        "leads/_timeline_rows.html" if request.args.get("rows") else "leads/_timeline_events.html"
    )
    return render_template(part, lead=lead, timeline=page, timeline_kinds=timeline.KINDS)


@bp.get("/<int:lead_id>/timeline.csv")
@login_required
def timeline_csv(lead_id: int):
    """The lead's whole timeline (or the chosen kinds) as CSV, times in ISO UTC."""
    lead = team_get_or_404(Lead, lead_id)
    rows = timeline.export_rows(
        db.session, lead, kinds=request.args.getlist("kind"), zone=viewer_zone_name(current_user)
    )
    return csv_download(f"{lead.code}-timeline-{utcnow():%Y%m%d}.csv", timeline.CSV_COLUMNS, rows)
