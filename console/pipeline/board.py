"""The board: one column a stage of a pipeline, cards of deals, filters kept in the URL,
the list view and CSV of the same deals, and moves between stages."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from console.extensions import db
from console.models import Deal
from console.models.base import utcnow
from console.models.campaigns import PERSONAS
from console.pipeline.routes import bp
from console.services import accounts
from console.services.deals import board as board_service
from console.services.deals import deals as deal_service
from console.services.deals import moves, pipelines
from console.services.deals.deals import DealProblem
from console.services.numbers import whole_number
from console.services.timezones import local_date, viewer_zone_name
from console.web import csv_download, int_arg, render, team_get_or_404, wants_partial


@bp.context_processor
def _board_helpers() -> dict:
    """`deal_url(id)`: the deal page's address. Its route belongs to the deal page; until
    it is registered the path is written out."""

    def deal_url(deal_id: int) -> str:
        try:
            return url_for("pipeline.deal", deal_id=deal_id)
        except BuildError:
            return f"/deals/{deal_id}"

    return {"deal_url": deal_url}


def _filter_choices() -> dict:
    """What the filter bar offers: the team's people, campaigns and the personas."""
    team_id = current_user.team_id
    return {
        "people": accounts.team_users(db.session, team_id),
        "campaigns": sorted(
            deal_service.campaign_names(db.session, team_id).items(), key=lambda c: c[1].lower()
        ),
        "personas": list(PERSONAS),
    }


@bp.get("/pipeline")
@login_required
def board():
    """The board of a pipeline: every role sees it."""
    return _board_page(board_service.BoardFilters.from_args(request.args))


def _board_page(filters: board_service.BoardFilters, status: int = 200):
    """The board page as `filters` narrow it."""
    pipelines.ensure_pipelines(db.session, current_user.team_id)
    db.session.commit()  # a team's first visit makes its default pipeline
    now = utcnow()
    shown = board_service.board(db.session, current_user.team_id, filters, current_user, now)
    page = render_template(
        "pipeline/board.html", board=shown, filters=filters, now=now, **_filter_choices()
    )
    return page, status


@bp.get("/pipeline/column")
@login_required
def column():
    """The next cards of one column (htmx: as the column scrolls into view)."""
    stage = pipelines.stage_of(db.session, current_user.team_id, request.args.get("stage"))
    if stage is None:
        return "", 404
    filters = board_service.BoardFilters.from_args(request.args)
    filters.pipeline_id = stage.pipeline_id
    found = board_service.column_page(
        db.session,
        current_user.team_id,
        stage,
        filters,
        current_user,
        utcnow(),
        after=request.args.get("after", ""),
    )
    return render_template(
        "pipeline/_cards.html",
        column=found,
        filters=filters,
        stages=pipelines.stages_of(db.session, stage.pipeline_id),
        now=utcnow(),
    )


@bp.get("/deals")
@login_required
def deals():
    """The same filtered deals as a sortable list, a page at a time."""
    filters = board_service.BoardFilters.from_args(request.args)
    sort, direction = board_service.list_sort(request.args)
    page = board_service.deal_list(
        db.session,
        current_user.team_id,
        filters,
        current_user,
        utcnow(),
        sort=sort,
        direction=direction,
        page=int_arg(request.args, "page", 1),
    )
    return render(
        "pipeline/list.html",
        "pipeline/_list_rows.html",
        page=page,
        filters=filters,
        pipelines=pipelines.ensure_pipelines(db.session, current_user.team_id),
        pipeline=board_service.board_pipeline(db.session, current_user.team_id, filters),
        sorts=board_service.SORTS,
        now=utcnow(),
        **_filter_choices(),
    )


@bp.get("/deals.csv")
@login_required
def deals_csv():
    """The filtered deals as the one deals CSV (the CLI's `export deals` columns)."""
    team_id = current_user.team_id
    filters = board_service.BoardFilters.from_args(request.args)
    user_id, now = current_user.id, utcnow()
    phones = deal_service.conversation_numbers(db.session, team_id)
    campaigns = deal_service.campaign_names(db.session, team_id)

    def rows():
        deals = board_service.export_deals(db.session, team_id, filters, user_id)
        yield from deal_service.export_rows(deals, now, phones, campaigns)

    return csv_download(f"deals-{now:%Y%m%d-%H%M}.csv", deal_service.EXPORT_COLUMNS, rows())


def _back(deal_id: int) -> tuple[str, board_service.BoardFilters]:
    """Where a move returns to (the board or list it was made from, with its filters, or
    the deal's own page), and those filters."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    places = (
        url_for("pipeline.board"),
        url_for("pipeline.deals"),
        url_for("pipeline.deal", deal_id=deal_id),
    )
    if parts.scheme or parts.netloc or parts.path not in places:
        target = url_for("pipeline.board")
        parts = urlsplit(target)
    filters = board_service.BoardFilters.from_args(MultiDict(parse_qsl(parts.query)))
    return target, filters


@bp.post("/deals/<int:deal_id>/move")
@login_required
def move(deal_id: int):
    """Move a deal to another stage: from a drag, a key, or the card's stage select (a
    plain form without script). A stage that needs fields asks for them; a deal moved by
    someone else since the board loaded is a conflict (409), shown where it now is."""
    deal = team_get_or_404(Deal, deal_id)
    back, filters = _back(deal.id)
    if not moves.can_move(current_user, deal):
        return _refused("Only the deal's assignee, a manager or an admin moves this deal.", 403)
    stage = pipelines.stage_of(db.session, current_user.team_id, request.form.get("stage_id"))
    if stage is None:
        return _refused("Pick the stage to move the deal to.", 422)
    from_stage, now, zone = deal.stage, utcnow(), viewer_zone_name(current_user)
    seen = whole_number(request.form.get("seen_stage_id"))
    try:
        fields = board_service.move_fields(request.form)
        moved = moves.move_deal(
            db.session,
            deal,
            stage,
            current_user,
            seen_stage_id=seen,
            fields=fields,
            now=now,
            today=local_date(now, zone),
            zone=zone,
        )
    except moves.NeedsFields as needs:
        db.session.rollback()
        return _ask(deal, stage, needs.missing, back, str(needs), problem=False)
    except moves.MoveConflict as conflict:
        db.session.rollback()
        return _moved(
            deal,
            [pipelines.stage_of(db.session, deal.team_id, seen)],
            filters,
            back,
            str(conflict),
            409,
        )
    except DealProblem as problem:
        db.session.rollback()
        if request.form.get("dialog"):
            missing = moves.missing_fields(deal, stage)
            return _ask(deal, stage, missing, back, str(problem), problem=True)
        return _refused(str(problem), 422)
    db.session.commit()
    if moved is None:
        message = f"{deal.title} is already in {stage.name}."
    else:
        message = f"Moved {deal.title} from {moved.from_stage} to {moved.to_stage}."
    return _moved(deal, [from_stage], filters, back, message, 200)


def _moved(deal, others, filters, back: str, message: str, status: int):
    """The answer to a move made or refused as a conflict: to script, the card where it
    now is and the fresh headers of its column and `others`; without script, back to
    the board with the message (a conflict shows the board at once, answering 409)."""
    if not wants_partial():
        flash(message, "success" if status == 200 else "error")
        from_deal_page = urlsplit(back).path == url_for("pipeline.deal", deal_id=deal.id)
        if status == 200 or from_deal_page:
            return redirect(back, 303)
        return _board_page(filters, status)
    stages = [deal.stage, *(s for s in others if s is not None and s.id != deal.stage_id)]
    card = board_service.cards_of(db.session, [deal.id], current_user, utcnow())[0]
    heads = board_service.columns_now(
        db.session, current_user.team_id, stages, filters, current_user
    )
    return render_template(
        "pipeline/_moved.html",
        card=card,
        heads=heads,
        message=message,
        filters=filters,
        stages=pipelines.stages_of(db.session, deal.pipeline_id),
        back=back,
        now=utcnow(),
    ), status


def _ask(deal, stage, missing: list[str], back: str, message: str, *, problem: bool):
    """The fields a stage needs, asked in a dialog (script) or on a page (no script)."""
    zone = viewer_zone_name(current_user)
    context = {
        "deal": deal,
        "stage": stage,
        "asked": board_service.asked_fields(stage, missing),
        "reasons": pipelines.lost_reasons(db.session, current_user.team_id),
        "today": local_date(utcnow(), zone),
        "form": request.form,
        "back": back,
        "message": message,
        "problem": problem,
    }
    if wants_partial():
        return render_template("pipeline/_move_dialog.html", **context), 422
    return render_template("pipeline/move.html", **context), 422


def _refused(message: str, status: int):
    """A move that may not be made, and why."""
    if wants_partial():
        return render_template("pipeline/_move_refused.html", message=message), status
    return render_template("pipeline/refused.html", message=message), status
