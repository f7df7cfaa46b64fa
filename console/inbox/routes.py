"""The inbox: owners' replies sorted by priority and deadline, each with its reading,
the conversation, the lead and a draft to approve, edit or replace; and the actions a
reviewer takes (send, escalate, archive, suppress, callback, deal, assign)."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from console.extensions import db
from console.models import Campaign, InboxItem, Lead, Role, Sender, Team, User
from console.models.base import utcnow
from console.models.campaigns import PERSONAS
from console.models.replies import DRAFT_SOURCES, RESOLUTIONS
from console.services import accounts
from console.services.campaigns import segments
from console.services.deals import deals, pipelines, tasks
from console.services.numbers import whole_number
from console.services.phones import to_e164
from console.services.replies import drafting, inbound, inbox, inbox_list, personas, priority
from console.services.replies.classify import LABEL_NAMES, LABELS
from console.services.timezones import viewer_zone_name
from console.web import csv_download, int_list, render, roles_required
from jobs.replies import enqueue_reading, enqueue_replies
from jobs.sending import transport_for

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
WORKERS = (Role.REVIEWER, Role.OPERATOR)
PAGE = 100


def _item_or_404(item_id: int) -> InboxItem:
    item = inbox.load_item(db.session, current_user.team_id, item_id)
    if item is None:
        abort(404)
    return item


def _list_context(filters: inbox_list.InboxFilters) -> dict:
    team_id = current_user.team_id
    # The version first: a change committed while the rows are read shows on the next poll.
    version = inbox_list.version(db.session, team_id)
    query = inbox_list.items_query(team_id, filters, current_user.id)
    items = db.session.scalars(query.limit(PAGE)).unique().all()
    return {
        "items": items,
        "filters": filters,
        "summary": inbox_list.summary(db.session, team_id),
        "version": version,
        "now": utcnow(),
        "numbers": inbox_list.recent_numbers(db.session, team_id),
    }


def _choices() -> dict:
    team_id = current_user.team_id
    return {
        "labels": LABELS,
        "label_names": LABEL_NAMES,
        "buckets": priority.BUCKET_NAMES,
        "routes": priority.ROUTES,
        "views": inbox_list.VIEWS,
        "personas": PERSONAS,
        "resolutions": RESOLUTIONS,
        "draft_sources": DRAFT_SOURCES,
        "stages": personas.STAGES,
        "deal_stage_groups": pipelines.open_stage_groups(db.session, team_id),
        "campaigns": db.session.scalars(
            select(Campaign).where(Campaign.team_id == team_id).order_by(Campaign.name)
        ).all(),
        "teammates": accounts.teammates(db.session, team_id),
        "sandbox": current_app.config.get("TWILIO_SANDBOX", True),
    }


@bp.get("")
@roles_required(*WORKERS)
def index():
    """The inbox, filtered; the first item open beside it."""
    filters = inbox_list.InboxFilters.from_args(request.args)
    if request.args.get("format") == "csv":
        query = inbox_list.items_query(current_user.team_id, filters, current_user.id)

        def rows():  # runs while the response streams, inside the request's context
            yield from inbox_list.export_rows(db.session.scalars(query).unique().all())

        return csv_download("inbox.csv", inbox_list.EXPORT_COLUMNS, rows())
    context = _list_context(filters)
    context["quality"] = inbox_list.draft_quality(db.session, current_user.team_id)
    selected = context["items"][0] if context["items"] else None
    return render(
        "inbox/index.html",
        "inbox/_list.html",
        **context,
        **_choices(),
        **(_detail(selected) if selected is not None else {"item": None}),
    )


@bp.get("/changes")
@roles_required(*WORKERS)
def changes():
    """204 while nothing changed since `v`; else tells the list to reload itself."""
    if request.args.get("v") == inbox_list.version(db.session, current_user.team_id):
        return Response(status=204)
    return Response(status=200, headers={"HX-Trigger": "inbox-changed"})


def _detail(item: InboxItem) -> dict:
    conversation = item.conversation
    lead = db.session.get(Lead, item.lead_id) if item.lead_id else None
    deal = deals.open_deal_of(db.session, lead) if lead is not None else None
    draft = inbox.current_draft(db.session, item)
    body = draft.body if draft is not None else ""
    return {
        "item": item,
        "turns": drafting.history(db.session, conversation, limit=50),
        "draft": draft,
        "measure": segments.measure(body),
        "deal": deal,
        "callback": tasks.next_callback(db.session, item.lead_id) if item.lead_id else None,
        "callback_form": tasks.callback_form(
            item.lead,
            viewer_zone_name(current_user),
            (item.extracted or {}).get("callback_time", ""),
            item.inbound.received_at if item.inbound is not None else None,
        ),
        "breached": inbox_list.breached(item),
        "sender": inbox.reply_sender(db.session, conversation),
        "suppression": inbox.suppression_of(db.session, item),
        "queued": inbox.queued_replies(db.session, conversation),
    }


@bp.get("/<int:item_id>")
@roles_required(*WORKERS)
def show(item_id: int):
    """One item: the conversation, the lead, the reading and the draft."""
    item = _item_or_404(item_id)
    if request.headers.get("HX-Target") == "inbox-detail":
        return render_template("inbox/_detail.html", **_detail(item), **_choices(), now=utcnow())
    filters = inbox_list.InboxFilters.from_args(request.args)
    return render_template(
        "inbox/index.html",
        **_list_context(filters),
        **_choices(),
        **_detail(item),
        quality=inbox_list.draft_quality(db.session, current_user.team_id),
    )


def _after_action(item: InboxItem, status: int = 200, error: str = "") -> Response:
    """The item's panel again, and a nudge for the list to refresh."""
    db.session.refresh(item)
    html = render_template(
        "inbox/_detail.html", **_detail(item), **_choices(), now=utcnow(), error=error
    )
    trigger = {"inbox-changed": True}
    if item.state == "done" and status == 200:
        trigger["inbox-done"] = item.id  # the page moves on to the next reply
    return Response(html, status=status, headers={"HX-Trigger": json.dumps(trigger)})


@bp.post("/<int:item_id>/send")
@roles_required(*WORKERS)
def send(item_id: int):
    """Send the draft as it is, edited, or the reviewer's own words."""
    item = _item_or_404(item_id)
    if item.state == "done":
        return _after_action(item, 422, "This item is already done.")
    try:
        inbox.send_reply(
            db.session,
            item,
            current_user,
            request.form.get("body", ""),
            transport=transport_for(current_app, db.session, item.team_id),
        )
    except inbox.InboxProblem as problem:
        db.session.rollback()
        return _after_action(_item_or_404(item_id), 422, str(problem))
    enqueue_replies(current_app._get_current_object(), item.team_id)
    return _after_action(item)


ACTIONS = {
    "archive": lambda item: inbox.archive(db.session, item, current_user),
    "escalate": lambda item: inbox.escalate(
        db.session, item, current_user, request.form.get("note", "")
    ),
    "suppress": lambda item: inbox.suppress(db.session, item, current_user),
    "confirm-opt-out": lambda item: inbox.suppress(db.session, item, current_user, opt_out=True),
    "dismiss-opt-out": lambda item: inbox.dismiss_opt_out(db.session, item, current_user),
    "deal": lambda item: inbox.convert_to_deal(
        db.session, item, current_user, request.form.get("stage", ""), request.form.get("value")
    ),
}


@bp.post("/<int:item_id>/do/<action>")
@roles_required(*WORKERS)
def act(item_id: int, action: str):
    """Archive, escalate, suppress, confirm or dismiss an opt-out, convert to a deal."""
    if action not in ACTIONS:
        abort(404)
    item = _item_or_404(item_id)
    try:
        ACTIONS[action](item)
    except inbox.InboxProblem as problem:
        db.session.rollback()
        return _after_action(_item_or_404(item_id), 422, str(problem))
    db.session.commit()
    return _after_action(item)


@bp.post("/<int:item_id>/callback")
@roles_required(*WORKERS)
def callback(item_id: int):
    """Schedule the call the owner asked for, at a date and time on the owner's clock
    (the reviewer's when nothing places the owner)."""
    item = _item_or_404(item_id)
    zone, _known = tasks.callback_zone(item.lead, viewer_zone_name(current_user))
    when = tasks.local_due(request.form.get("date", ""), request.form.get("time", ""), zone)
    if when is None:
        return _after_action(item, 422, "Pick a date and time for the callback.")
    try:
        inbox.schedule_callback(
            db.session, item, current_user, when, request.form.get("note", ""), zone=zone
        )
    except inbox.InboxProblem as problem:
        db.session.rollback()
        return _after_action(_item_or_404(item_id), 422, str(problem))
    db.session.commit()
    response = _after_action(item)
    response.headers["HX-Trigger"] = json.dumps(
        {**json.loads(response.headers["HX-Trigger"]), "tasks-changed": True}
    )
    return response


@bp.post("/<int:item_id>/assign")
@roles_required(*WORKERS)
def assign_one(item_id: int):
    """Give one item to a teammate (or nobody)."""
    item = _item_or_404(item_id)
    inbox.assign(db.session, current_user.team_id, [item.id], _assignee(), current_user)
    db.session.commit()
    return _after_action(item)


def _assignee() -> User | None:
    value = request.form.get("assignee", "")
    if not value.isdigit():
        return None
    user_id = whole_number(value)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.team_id != current_user.team_id:
        abort(404)
    return user


@bp.post("/bulk")
@roles_required(*WORKERS)
def bulk():
    """Archive or assign the ticked items."""
    ids = int_list(request.form, "ids")
    action = request.form.get("action", "")
    if action == "archive":
        inbox.archive_many(db.session, current_user.team_id, ids, current_user)
    elif action == "assign":
        inbox.assign(db.session, current_user.team_id, ids, _assignee(), current_user)
    else:
        abort(400)
    db.session.commit()
    filters = inbox_list.InboxFilters.from_args(request.form)
    html = render_template("inbox/_list.html", **_list_context(filters), **_choices())
    # The open reply may be among them: the page reloads its panel (see inbox.js).
    return Response(html, headers={"HX-Trigger-After-Swap": json.dumps({"inbox-bulk-done": ids})})


@bp.post("/measure")
@roles_required(*WORKERS)
def measure():
    """The live segment count under a reply being written."""
    return render_template(
        "campaigns/_measure.html", measure=segments.measure(request.form.get("body", ""))
    )


@bp.post("/simulate")
@roles_required(*WORKERS)
def simulate():
    """Sandbox only: a reply from a number, as if Twilio had posted it."""
    if not current_app.config.get("TWILIO_SANDBOX", True):
        abort(404)
    body = request.form.get("body", "")
    from_e164 = to_e164(request.form.get("from", ""))
    problem = ""
    if from_e164 is None:
        problem = "Type the number the reply comes from, such as +15125550142."
    elif len(body) > segments.MAX_BODY:
        problem = f"A reply is at most {segments.MAX_BODY:,} characters; this has {len(body):,}."
    if problem:
        return render_template("inbox/_simulated.html", problem=problem), 422
    team = db.session.get(Team, current_user.team_id)
    sender = db.session.scalars(
        select(Sender).where(Sender.team_id == team.id).order_by(Sender.id)
    ).first()
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": from_e164,
        "To": sender.address if sender is not None else "",
        "Body": body,
    }
    reception = inbound.receive(db.session, form)
    if reception.needs_job:
        enqueue_reading(current_app._get_current_object(), reception.item_id)
    # Said where it is seen: the form's result line, with a link to the reply's item.
    html = render_template("inbox/_simulated.html", reception=reception, from_e164=from_e164)
    return Response(html, status=200, headers={"HX-Trigger": "inbox-changed"})
