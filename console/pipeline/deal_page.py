"""The deal page: stage, value and outcome, the conversation with a reply box, the lead,
stage history, tasks and notes, the timeline and attribution; and the posts that edit
the deal, move it to another pipeline, reply to the owner and write notes.

Every role reads it; another team's deal is a 404 on every route. The posts are plain
forms (they work without JavaScript): on success back to the page, refused with the
page again (422) saying why.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from console.extensions import db
from console.leads.forms import NoteForm
from console.models import Deal, Note, User
from console.models.base import utcnow
from console.pipeline.routes import bp
from console.services import accounts
from console.services import phones as phone_service
from console.services.deals import (
    attribution,
    deal_record,
    deals,
    moves,
    notes,
    pipelines,
    timeline,
)
from console.services.replies import inbox
from console.services.sending import held
from console.services.timezones import viewer_zone_name
from console.tasks.routes import task_panel
from console.web import int_arg
from jobs.replies import enqueue_replies
from jobs.sending import transport_for

RECENT_NOTES = 20


def _deal_or_404(deal_id: int) -> Deal:
    deal = deal_record.load_deal(db.session, current_user.team_id, deal_id)
    if deal is None:
        abort(404)
    return deal


def _teammates() -> list[User]:
    return accounts.teammates(db.session, current_user.team_id)


def _notes(deal: Deal) -> list[Note]:
    """The newest notes on the deal's lead (those written on the deal among them)."""
    if deal.lead_id is None:
        return []
    return db.session.scalars(
        select(Note)
        .where(Note.team_id == deal.team_id, Note.lead_id == deal.lead_id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(RECENT_NOTES)
    ).all()


def _board_url() -> str | None:
    """The board's address, once the board's routes are there."""
    has_board = "pipeline.board" in current_app.view_functions
    return url_for("pipeline.board") if has_board else None


def deal_page(deal: Deal, status: int = 200, **shown):
    """The deal page; `shown` carries a refused form's words and typed text back."""
    now, zone, lead = utcnow(), viewer_zone_name(current_user), deal.lead
    conversation = deal_record.deal_conversation(db.session, deal)
    spells = deal_record.stage_spells(db.session, deal, now)
    panel = task_panel(lead, deal=deal) if lead is not None else None
    html = render_template(
        "pipeline/deal.html",
        deal=deal,
        now=now,
        lead=lead,
        weighted=deals.weighted_value(deal),
        days_in_stage=deals.days_in_stage(deal, now),
        can_edit=deal_record.can_edit(current_user, deal),
        teammates=_teammates(),
        pipeline_groups=deal_record.other_pipeline_stages(db.session, deal),
        spells=spells,
        conversation=conversation,
        thread=deal_record.thread(db.session, conversation),
        queued=inbox.queued_replies(db.session, conversation) if conversation else [],
        sender=inbox.reply_sender(db.session, conversation) if conversation else None,
        phones=phone_service.ranked(lead.phones) if lead is not None else [],
        tasks_panel=panel,
        next_step=next((r for r in panel.rows if r.task.state == "open"), None) if panel else None,
        notes=_notes(deal),
        deal_note_form=shown.pop("note_form", None) or NoteForm(formdata=None),
        timeline=timeline.for_lead(db.session, lead, kinds=request.args.getlist("kind"), zone=zone)
        if lead is not None
        else None,
        timeline_kinds=timeline.KINDS,
        attribution=attribution.for_deal(db.session, deal),
        board_url=_board_url(),
        stages=pipelines.stages_of(db.session, deal.pipeline_id),
        can_move=moves.can_move(current_user, deal),
        **shown,
    )
    return html, status


@bp.get("/deals/<int:deal_id>")
@login_required
def deal(deal_id: int):
    """One deal, for every role of the team."""
    return deal_page(_deal_or_404(deal_id))


def _refused(deal_id: int, problem: Exception, **shown):
    """The page again, nothing saved, saying why (422)."""
    db.session.rollback()
    return deal_page(_deal_or_404(deal_id), 422, **shown, problem=str(problem))


def _back(deal: Deal, anchor: str | None = None):
    return redirect(url_for("pipeline.deal", deal_id=deal.id, _anchor=anchor))


def _editor_or_403(deal: Deal) -> None:
    if not deal_record.can_edit(current_user, deal):
        abort(403)


@bp.post("/deals/<int:deal_id>/details")
@login_required
def edit_details(deal_id: int):
    """Save the deal's title, value, expected close date and assignee."""
    deal = _deal_or_404(deal_id)
    _editor_or_403(deal)
    form = deal_record.DetailsForm(
        title=request.form.get("title", ""),
        value=request.form.get("value", ""),
        expected_close=request.form.get("expected_close", ""),
        assignee_id=int_arg(request.form, "assignee_id"),
    )
    try:
        changed = deal_record.edit_details(db.session, deal, current_user, form)
    except deals.DealProblem as problem:
        return _refused(deal_id, problem, typed=form)
    db.session.commit()
    words = ", ".join(deal_record.DETAILS[key] for key in changed)
    flash(f"Saved the {words}." if changed else "Nothing changed.", "success")
    return _back(deal)


@bp.post("/deals/<int:deal_id>/pipeline")
@login_required
def change_pipeline(deal_id: int):
    """Move the deal to an open stage of another of the team's pipelines."""
    deal = _deal_or_404(deal_id)
    _editor_or_403(deal)
    stage = pipelines.stage_of(db.session, current_user.team_id, request.form.get("stage_id"))
    if stage is None:
        abort(404)
    try:
        deal_record.change_pipeline(db.session, deal, current_user, stage)
    except deals.DealProblem as problem:
        return _refused(deal_id, problem)
    db.session.commit()
    flash(f"Moved to {stage.pipeline.name}, {stage.name}.", "success")
    return _back(deal)


@bp.post("/deals/<int:deal_id>/reply")
@login_required
def reply(deal_id: int):
    """Text the owner from the deal page, through the inbox's gate and dispatcher."""
    deal = _deal_or_404(deal_id)
    body = request.form.get("body", "")
    try:
        message = deal_record.reply_on_deal(
            db.session,
            deal,
            current_user,
            body,
            transport=transport_for(current_app, db.session, deal.team_id),
        )
    except inbox.InboxProblem as problem:
        return _refused(deal_id, problem, reply_error=str(problem), reply_body=body)
    enqueue_replies(current_app._get_current_object(), deal.team_id)
    if message.hold_reason:
        goes = held.reply_goes_words(message, viewer_zone_name(current_user), utcnow())
        flash(f"Reply held ({message.hold_reason}). {goes}.", "success")
    else:
        flash("Reply queued: it goes out now.", "success")
    return _back(deal, "conversation")


@bp.post("/deals/<int:deal_id>/notes")
@login_required
def add_note(deal_id: int):
    """Keep a note on the deal and its lead."""
    deal = _deal_or_404(deal_id)
    form = NoteForm()
    if not form.validate():
        return _refused(deal_id, ValueError("Nothing was saved: see the note."), note_form=form)
    try:
        deal_record.note_on_deal(db.session, deal, current_user, form.body.data)
    except notes.NoteProblem as problem:
        return _refused(deal_id, problem)
    db.session.commit()
    flash("Note added.", "success")
    return _back(deal, "notes")
