"""Campaigns (build, count, start, pause), their batches (draft, review, approve, watch)
and the review of single messages (edit, swap variant, skip, restore)."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console.campaigns.forms import CampaignForm
from console.extensions import db
from console.models import Batch, Campaign, JobRun, Message, Role, Team
from console.models.base import utcnow
from console.models.campaigns import CAMPAIGN_STATUSES, PERSONAS
from console.services import timezones
from console.services.campaigns import batches, campaigns, queue_flags, segments
from console.services.sending import pace, policy
from console.web import csv_download, int_arg, int_list, render, roles_required, team_get_or_404
from jobs import queue as job_queue
from jobs.sending import enqueue_dispatch, transport_for

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.app_context_processor
def _awaiting_manager() -> dict:
    """`awaiting_manager()` in every page: for a manager, the team's batches that wait for
    a manager's approval (the navigation's count, the dashboard's line); asked once a
    request, and only by a page that shows it."""

    def awaiting() -> list[Batch]:
        if not (current_user.is_authenticated and current_user.can(Role.MANAGER)):
            return []
        if "awaiting_manager" not in g:
            g.awaiting_manager = batches.awaiting_manager(db.session, current_user.team_id)
        return g.awaiting_manager

    return {"awaiting_manager": awaiting}


def _choices(form: CampaignForm) -> None:
    """Fill the template and sender menus with the team's own."""
    team_id = current_user.team_id
    templates = campaigns.team_templates(db.session, team_id)
    first = [SelectChoice(t.id, f"{t.name} ({t.persona})") for t in templates if t.touch == "first"]
    follow = [SelectChoice(t.id, f"{t.name} ({t.persona})") for t in templates]
    form.template_id.choices = first
    for n in (1, 2, 3):
        getattr(form, f"touch{n}_template").choices = [SelectChoice(0, "None"), *follow]
    team = db.session.get(Team, team_id)
    senders = policy.campaign_senders(db.session, team, current_app.config)
    form.sender_id.choices = [
        SelectChoice(s.id, f"{s.label} ({s.address})" + (" - paused" if s.paused else ""))
        for s in senders
    ]
    db.session.commit()  # a default sender just added is the one the save will find


def _team_zone() -> str:
    return timezones.team_zone_name(current_user.team)


def _values(form: CampaignForm) -> dict:
    start = form.start_on.data
    return {
        "name": form.name.data,
        "persona": form.persona.data,
        "criteria": campaigns.Criteria.from_form(form.data),
        "recent_contact_days": form.recent_contact_days.data or 0,
        "template_id": form.template_id.data,
        "split": form.split(),
        "sender_id": form.sender_id.data,
        # The start date begins at midnight on the team's clock, not at midnight UTC.
        "start_at": timezones.start_of_day(start, _team_zone()) if start else None,
        "daily_cap": form.daily_cap.data or 0,
        "batch_size": form.batch_size.data,
        "touches": form.touches(),
    }


def _fill(form: CampaignForm, campaign: Campaign) -> None:
    c = campaigns.Criteria.from_dict(campaign.criteria)
    form.name.data, form.persona.data = campaign.name, campaign.persona
    for name in ("score_min", "score_max", "statuses", "enrichment", "never_contacted"):
        getattr(form, name).data = getattr(c, name)
    for name in ("employees_min", "employees_max", "revenue_min", "revenue_max"):
        getattr(form, name).data = getattr(c, name)
    for name in ("tags", "exclude_tags", "states", "zips", "sic_codes", "naics_codes"):
        getattr(form, name).data = ", ".join(getattr(c, name))
    if c.last_contacted_before:
        form.last_contacted_before.data = datetime.fromisoformat(c.last_contacted_before).date()
    form.recent_contact_days.data = campaign.recent_contact_days
    form.template_id.data, form.sender_id.data = campaign.template_id, campaign.sender_id
    for letter in "ABCD":
        getattr(form, f"split_{letter.lower()}").data = (campaign.split or {}).get(letter)
    if not campaign.split:
        form.split_a.data = 100
    start = campaign.start_at
    form.start_on.data = timezones.local_date(start, _team_zone()) if start else None
    form.daily_cap.data, form.batch_size.data = campaign.daily_cap, campaign.batch_size
    form.fill_touches(campaign.touches or [])


def _owned(form: CampaignForm) -> bool:
    """The chosen template, sender and follow-ups must be the team's own."""
    ids = [form.template_id.data] + [t["template_id"] for t in form.touches()]
    problem = campaigns.ownership_problem(
        db.session, current_user.team_id, ids, form.sender_id.data
    )
    if problem:
        field = getattr(form, problem[0])
        field.errors = [*field.errors, problem[1]]
    return problem is None


@bp.get("/")
@roles_required(Role.OPERATOR)
def index():
    """The team's campaigns with their numbers, filtered by status and persona."""
    status = request.args.get("status", "")
    persona = request.args.get("persona", "")
    q = (request.args.get("q") or "").strip()[:80]
    rows = db.session.scalars(
        campaigns.campaign_query(current_user.team_id, status, persona, q)
    ).all()
    stats = campaigns.campaign_stats(db.session, [c.id for c in rows])
    if request.args.get("format") == "csv":
        return csv_download(
            f"campaigns-{utcnow():%Y%m%d-%H%M}.csv",
            campaigns.EXPORT_COLUMNS,
            list(campaigns.export_rows(rows, stats)),  # before the session closes
        )
    totals = {
        key: sum(s[key] for s in stats.values())
        for key in ("enrolled", "sent", "delivered", "failed", "blocked", "replied", "cost")
    }
    return render(
        "campaigns/index.html",
        "campaigns/_rows.html",
        campaigns=rows,
        stats=stats,
        totals=totals,
        filters={"status": status, "persona": persona, "q": q},
        statuses=CAMPAIGN_STATUSES,
        personas=PERSONAS,
        paused_senders=[
            s for s in policy.team_senders(db.session, current_user.team_id) if s.paused
        ],
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def new():
    """The campaign builder."""
    form = CampaignForm()
    _choices(form)
    if not form.template_id.choices:
        flash("Add a first-touch template with opt-out wording before building a campaign.")
        return redirect(url_for("library.index"))
    if not form.sender_id.choices:
        return render_template("campaigns/no_sender.html")
    if form.validate_on_submit() and _owned(form):
        campaign = campaigns.save_campaign(
            db.session, current_user.team_id, _values(form), current_user.id
        )
        db.session.commit()
        flash(f"Campaign \u201c{campaign.name}\u201d saved. Draft its first batch when ready.")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/edit.html", form=form, campaign=None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def edit(campaign_id: int):
    """Change a campaign; batches already drafted keep their texts."""
    campaign = team_get_or_404(Campaign, campaign_id)
    form = CampaignForm()
    _choices(form)
    if request.method == "GET":
        _fill(form, campaign)
    elif form.validate_on_submit() and _owned(form):
        campaigns.save_campaign(
            db.session, current_user.team_id, _values(form), current_user.id, campaign
        )
        db.session.commit()
        flash("Campaign saved.")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/edit.html", form=form, campaign=campaign)


@bp.post("/audience")
@roles_required(Role.OPERATOR)
def audience():
    """The live count of the builder: matched, left out by reason, eligible."""
    form = CampaignForm()
    _choices(form)
    form.validate()
    campaign_id = int_arg(request.args, "campaign_id")
    found = campaigns.audience(
        db.session,
        current_user.team_id,
        campaigns.Criteria.from_form(form.data),
        recent_days=form.recent_contact_days.data or 0,
        campaign_id=campaign_id,
    )
    return render_template(
        "campaigns/_audience.html",
        found=found,
        exclusions=campaigns.EXCLUSIONS,
        batch_size=min(form.batch_size.data or 500, campaigns.MAX_BATCH),
    )


@bp.get("/<int:campaign_id>")
@roles_required(Role.OPERATOR)
def show(campaign_id: int):
    """A campaign: its choices in words, audience now, batches and their numbers."""
    campaign = team_get_or_404(Campaign, campaign_id)
    criteria = campaigns.Criteria.from_dict(campaign.criteria)
    found = campaigns.audience(
        db.session,
        campaign.team_id,
        criteria,
        recent_days=campaign.recent_contact_days,
        campaign_id=campaign.id,
    )
    rows = batches.batches_of(db.session, campaign)
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        criteria=criteria,
        found=found,
        exclusions=campaigns.EXCLUSIONS,
        batches=rows,
        counters={b.id: batches.counters(db.session, b) for b in rows},
        stats=campaigns.campaign_stats(db.session, [campaign.id])[campaign.id],
        follow_ups=queue_flags.follow_up_templates(db.session, campaign),
        settings=policy.SendingSettings.of(db.session.get(Team, campaign.team_id)),
    )


@bp.post("/<int:campaign_id>/status")
@roles_required(Role.OPERATOR)
def change_status(campaign_id: int):
    """Pause, resume, finish or archive a campaign."""
    campaign = team_get_or_404(Campaign, campaign_id)
    action = request.form.get("action", "")
    if action not in campaigns.CAMPAIGN_ACTIONS:
        abort(400)
    try:
        campaigns.change_status(db.session, campaign, action)
    except ValueError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Campaign {campaign.status}.")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.post("/<int:campaign_id>/batches")
@roles_required(Role.OPERATOR)
def draft_batch(campaign_id: int):
    """Draft the campaign's next batch of first touches, as a job with a progress bar."""
    campaign = team_get_or_404(Campaign, campaign_id)
    problem = campaigns.draft_problem(campaign)
    if problem:
        flash(problem, "error")
        page = "show" if campaign.status in campaigns.NOT_DRAFTING else "edit"
        return redirect(url_for(f"campaigns.{page}", campaign_id=campaign.id))
    batch = batches.create_batch(db.session, campaign, current_user)
    run = job_queue.start(
        kind="generate_batch",
        title=f"Draft batch #{batch.id} of {campaign.name}",
        team_id=campaign.team_id,
        started_by_id=current_user.id,
        params={"batch_id": batch.id},
    )
    batch.job_run_id = run.id
    db.session.commit()
    return redirect(url_for("campaigns.batch", batch_id=batch.id))


# Batches ------------------------------------------------------------------------------


def _pace(batch: Batch, counters: batches.Counters) -> pace.BatchPace | None:
    app = current_app._get_current_object()
    return pace.batch_pace(
        db.session,
        job_queue.connection(app),
        batch,
        counters.by_status,
        zone=timezones.viewer_zone_name(current_user),
        transport=transport_for(app, db.session, batch.team_id),
    )


def _batch_context(batch: Batch, filter_name: str, page: int) -> dict:
    listing = batches.message_page(db.session, batch, filter_name, page)
    counters = batches.counters(db.session, batch)
    return {
        "batch": batch,
        "campaign": batch.campaign,
        "listing": listing,
        "live_flags": queue_flags.live_flags(db.session, batch, listing.rows),
        "counters": counters,
        "flag_counts": batches.flag_counts(db.session, batch),
        "filters": batches.FILTERS,
        "needs_manager": batches.needs_manager(db.session, batch),
        "estimate": batches.sending_estimate(db.session, batch),
        "pace": _pace(batch, counters),
        "run": db.session.get(JobRun, batch.job_run_id) if batch.job_run_id else None,
        "senders": {batch.campaign.sender_id: batch.campaign.sender},
    }


@bp.get("/batches/<int:batch_id>")
@roles_required(Role.OPERATOR)
def batch(batch_id: int):
    """The preview / edit / approve queue, then the live view of sending."""
    row = team_get_or_404(Batch, batch_id)
    filter_name = request.args.get("filter", "")
    page = int_arg(request.args, "page", 1)
    return render(
        "campaigns/batch.html",
        "campaigns/_queue.html",
        **_batch_context(row, filter_name, page),
    )


@bp.get("/batches/<int:batch_id>/counters")
@roles_required(Role.OPERATOR)
def batch_counters(batch_id: int):
    """The batch's live counters (polled while it sends)."""
    row = team_get_or_404(Batch, batch_id)
    counters = batches.counters(db.session, row)
    context = {
        "batch": row,
        "campaign": row.campaign,
        "counters": counters,
        "pace": _pace(row, counters),
    }
    return (
        render_template("campaigns/_counters.html", **context)
        + render_template("campaigns/_batch_head.html", oob=True, **context)
        + render_template(
            "campaigns/_approve_bar.html",
            oob=True,
            needs_manager=batches.needs_manager(db.session, row),
            estimate=batches.sending_estimate(db.session, row),
            **context,
        )
    )


@bp.get("/batches/<int:batch_id>/messages.csv")
@roles_required(Role.OPERATOR)
def batch_export(batch_id: int):
    """Every message of the batch (as filtered) as CSV."""
    row = team_get_or_404(Batch, batch_id)
    messages = queue_flags.with_details(
        batches.filtered_messages(row, request.args.get("filter", "")).order_by(Message.id)
    )
    rows = list(queue_flags.message_rows(db.session.scalars(messages).unique()))
    return csv_download(f"batch-{row.id}-messages.csv", queue_flags.MESSAGE_COLUMNS, rows)


@bp.post("/batches/<int:batch_id>/approve")
@roles_required(Role.OPERATOR)
def approve(batch_id: int):
    """Approve all drafts, or the selected ones; sending starts when they are due.

    Approving all asks first: only a post whose `confirm` is the number of drafts waiting
    now approves them; any other shows the question with that number (the browser asks
    it in a dialog; without script the question is a page)."""
    row = team_get_or_404(Batch, batch_id)
    selected = None
    if request.form.get("scope") == "selected":
        selected = int_list(request.form, "message_id")
        if not selected:
            flash("Select the texts to approve first.", "error")
            return redirect(url_for("campaigns.batch", batch_id=row.id))
    try:
        batches.check_approver(db.session, row, current_user)
        waiting = batches.drafts_waiting(db.session, row)
        if selected is None and waiting and int_arg(request.form, "confirm") != waiting:
            return render_template(
                "campaigns/approve_all.html", batch=row, campaign=row.campaign, waiting=waiting
            )
        count = batches.approve(db.session, row, current_user, selected)
    except batches.NotAllowed as exc:
        flash(str(exc), "error")
        return redirect(url_for("campaigns.batch", batch_id=row.id))
    db.session.commit()
    enqueue_dispatch(current_app._get_current_object(), row.id)
    flash(f"{count:,} texts approved; they send as each recipient's hours allow.")
    return redirect(url_for("campaigns.batch", batch_id=row.id))


@bp.post("/batches/<int:batch_id>/do/<action>")
@roles_required(Role.OPERATOR)
def batch_action(batch_id: int, action: str):
    """Pause, resume or cancel a batch."""
    row = team_get_or_404(Batch, batch_id)
    if action not in ("pause", "resume", "cancel"):
        abort(404)
    try:
        if action == "pause":
            batches.pause(row, current_user)
        elif action == "resume":
            batches.resume(row, current_user)
        else:
            count = batches.cancel(db.session, row, current_user)
            flash(f"Batch cancelled; {count:,} texts that had not gone will not.")
    except batches.NotAllowed as exc:
        flash(str(exc), "error")
        return redirect(url_for("campaigns.batch", batch_id=row.id))
    db.session.commit()
    if action == "resume":
        enqueue_dispatch(current_app._get_current_object(), row.id)
    if action != "cancel":
        flash(f"Batch {row.status}.")
    return redirect(url_for("campaigns.batch", batch_id=row.id))


# Single messages ----------------------------------------------------------------------


def _row(message: Message, editing: bool = False, error: str = "", typed: str | None = None):
    """One queue row. The row keeps its tick (the row's checkbox rides along with every
    row action) and takes the focus back, so keyboard users carry on where they were;
    the `batch-changed` event has the counters and the approve bar refresh themselves."""
    row = render_template(
        "campaigns/_message.html",
        m=message,
        flags=queue_flags.live_flags(db.session, message.batch, [message])[message.id],
        editing=editing,
        error=error,
        typed=typed,
        ticked=str(message.id) in request.values.getlist("message_id"),
        focus=True,
    )
    # Opening or closing the editor changes nothing: only a saved change refreshes.
    return row, ({"HX-Trigger": "batch-changed"} if request.method == "POST" else {})


@bp.get("/messages/<int:message_id>")
@roles_required(Role.OPERATOR)
def message_row(message_id: int):
    """One row of the queue, read-only or (with ?edit=1) as an edit form."""
    message = team_get_or_404(Message, message_id)
    return _row(message, editing=request.args.get("edit") == "1" and batches.editable(message))


@bp.post("/messages/<int:message_id>")
@roles_required(Role.OPERATOR)
def message_update(message_id: int):
    """Save an edit, swap the variant, skip or restore one text."""
    message = team_get_or_404(Message, message_id)
    action = request.form.get("action", "edit")
    try:
        if action == "edit":
            batches.edit_message(db.session, message, request.form.get("body", ""), current_user)
        elif action == "variant":
            batches.swap_variant(db.session, message, request.form.get("variant", ""))
        elif action in ("skip", "restore"):
            batches.set_skipped(message, action == "skip")
        else:
            abort(400)
    except (batches.NotAllowed, ValueError) as exc:
        db.session.rollback()
        typed = request.form.get("body") if action == "edit" else None
        editing = action == "edit" and batches.editable(message)
        html, headers = _row(message, editing=editing, error=str(exc), typed=typed)
        return html, 422, headers
    db.session.commit()
    return _row(message)


@bp.post("/messages/measure")
@roles_required(Role.OPERATOR)
def measure():
    """The live count under a text being edited."""
    return render_template(
        "campaigns/_measure.html", measure=segments.measure(request.form.get("body", ""))
    )
