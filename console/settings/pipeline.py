"""Settings > Pipeline, for admins: the team's pipelines, each pipeline's stages (their
order, probability, stale days, fields required on entry, outcome) and the team's lost
reasons. The rules and the audit trail are the pipeline setup service's."""

from __future__ import annotations

import dataclasses

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from console.extensions import db
from console.models import LostReason, Pipeline, PipelineStage, Role
from console.models.deals import OUTCOMES, REQUIRABLE
from console.services.deals import pipeline_setup, pipelines
from console.services.deals.pipeline_setup import SetupRefused
from console.services.timezones import viewer_zone_name
from console.settings.forms import AddStageForm, LostReasonForm, PipelineNameForm, StageForm
from console.settings.routes import bp
from console.web import roles_required, team_get_or_404, wants_partial


@dataclasses.dataclass(frozen=True)
class StageEdit:
    """The stage being edited in place, and its form."""

    stage: PipelineStage
    form: StageForm


@bp.get("/pipeline")
@roles_required(Role.ADMIN)
def pipeline_settings_index():
    """The team's first pipeline's stages, its pipelines and its lost reasons."""
    pipeline = pipelines.default_pipeline(db.session, current_user.team_id)
    db.session.commit()  # the team's first visit records its default pipeline
    return _page(pipeline)


@bp.get("/pipeline/<int:pipeline_id>")
@roles_required(Role.ADMIN)
def pipeline_settings(pipeline_id: int):
    """One pipeline's stages, with the team's pipelines and lost reasons."""
    return _page(team_get_or_404(Pipeline, pipeline_id))


def _page(pipeline: Pipeline, status: int = 200, **forms):
    """Settings > Pipeline on `pipeline`, with the forms as given (kept with their
    errors) or fresh."""
    team_id = current_user.team_id
    return render_template(
        "settings/pipeline.html",
        pipelines=pipelines.ensure_pipelines(db.session, team_id),
        pipeline_deals=pipeline_setup.pipeline_deal_counts(db.session, team_id),
        pipeline_form=forms.get("pipeline_form") or PipelineNameForm(formdata=None),
        reasons=pipelines.lost_reasons(db.session, team_id, active_only=False),
        reason_uses=pipeline_setup.lost_reason_uses(db.session, team_id),
        reason_form=forms.get("reason_form") or LostReasonForm(formdata=None),
        **_stages_context(pipeline, forms.get("stage_form"), forms.get("editing")),
    ), status


def _stages_context(
    pipeline: Pipeline, stage_form: AddStageForm | None, editing: StageEdit | None
) -> dict:
    """What the stages panel shows: the pipeline's stages, their deals, the add form and
    the stage being edited."""
    stages = pipelines.stages_of(db.session, pipeline.id)
    return {
        "pipeline": pipeline,
        "stages": stages,
        "stage_deals": pipeline_setup.deal_counts(db.session, current_user.team_id),
        "move_targets": {
            stage.id: pipeline_setup.move_targets(db.session, stage) for stage in stages
        },
        "stage_form": (stage_form or AddStageForm(formdata=None, prefix="new")).place_after(stages),
        "editing": editing,
        "outcomes": OUTCOMES,
        "requirable": REQUIRABLE,
    }


def _done(message: str, pipeline_id: int, anchor: str):
    """Commit, say what was done and go back to the pipeline's settings."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("settings.pipeline_settings", pipeline_id=pipeline_id, _anchor=anchor))


def _refused(problem: SetupRefused, pipeline_id: int, anchor: str):
    """Undo, say why and go back to the pipeline's settings."""
    db.session.rollback()
    flash(str(problem), "error")
    return redirect(url_for("settings.pipeline_settings", pipeline_id=pipeline_id, _anchor=anchor))


def _field_error(form, problem: SetupRefused) -> None:
    """Show the service's problem next to the field it names (the name otherwise)."""
    field = getattr(form, problem.field, None) or form.name
    field.errors = [*field.errors, str(problem)]


def _step() -> int:
    return -1 if request.form.get("to") == "up" else 1


# ----------------------------------------------------------------------- pipelines


@bp.post("/pipeline/add")
@roles_required(Role.ADMIN)
def add_pipeline():
    """Add a pipeline with the default stages, last in order."""
    form = PipelineNameForm()
    if form.validate_on_submit():
        try:
            added = pipeline_setup.add_pipeline(db.session, current_user, form.name.data)
        except SetupRefused as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            return _done(f"{added.name} added with the default stages.", added.id, "stages")
    current = pipelines.default_pipeline(db.session, current_user.team_id)
    return _page(current, 400, pipeline_form=form)


@bp.post("/pipeline/<int:pipeline_id>/rename")
@roles_required(Role.ADMIN)
def rename_pipeline(pipeline_id: int):
    """Give a pipeline a new name."""
    pipeline = team_get_or_404(Pipeline, pipeline_id)
    form = PipelineNameForm()
    try:
        if not form.validate_on_submit():
            raise SetupRefused(" ".join(form.name.errors) or "Give the pipeline a name.")
        pipeline_setup.rename_pipeline(db.session, current_user, pipeline, form.name.data)
    except SetupRefused as problem:
        return _refused(problem, pipeline.id, "pipelines")
    return _done(f"Pipeline renamed {pipeline.name}.", pipeline.id, "pipelines")


@bp.post("/pipeline/<int:pipeline_id>/move")
@roles_required(Role.ADMIN)
def move_pipeline(pipeline_id: int):
    """Move a pipeline earlier or later among the team's pipelines."""
    pipeline = team_get_or_404(Pipeline, pipeline_id)
    pipeline_setup.move_pipeline(db.session, current_user, pipeline, _step())
    return _done(f"{pipeline.name} moved.", pipeline.id, "pipelines")


@bp.post("/pipeline/<int:pipeline_id>/delete")
@roles_required(Role.ADMIN)
def delete_pipeline(pipeline_id: int):
    """Delete a pipeline without deals (the team keeps one)."""
    pipeline = team_get_or_404(Pipeline, pipeline_id)
    name = pipeline.name
    try:
        pipeline_setup.delete_pipeline(db.session, current_user, pipeline)
    except SetupRefused as problem:
        return _refused(problem, pipeline.id, "pipelines")
    db.session.commit()
    flash(f"{name} deleted.", "info")
    return redirect(url_for("settings.pipeline_settings_index", _anchor="pipelines"))


# -------------------------------------------------------------------------- stages


@bp.post("/pipeline/<int:pipeline_id>/stages")
@roles_required(Role.ADMIN)
def add_stage(pipeline_id: int):
    """Add a stage to a pipeline, after the stage chosen."""
    pipeline = team_get_or_404(Pipeline, pipeline_id)
    form = AddStageForm(prefix="new").place_after(pipelines.stages_of(db.session, pipeline.id))
    if form.validate_on_submit():
        after = team_get_or_404(PipelineStage, form.after.data) if form.after.data else None
        try:
            stage = pipeline_setup.add_stage(
                db.session, current_user, pipeline, form.stage_fields(), after
            )
        except SetupRefused as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            return _done(f"{stage.name} added.", pipeline.id, "stages")
    return _page(pipeline, 400, stage_form=form)


@bp.route("/pipeline/stages/<int:stage_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_stage(stage_id: int):
    """One stage's settings, edited in place above the stages' table."""
    stage = team_get_or_404(PipelineStage, stage_id)
    form = StageForm(data=StageForm.initial(stage), prefix="edit")
    if form.validate_on_submit():
        try:
            pipeline_setup.update_stage(db.session, current_user, stage, form.stage_fields())
        except SetupRefused as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            return _done(f"{stage.name} saved.", stage.pipeline_id, "stages")
    editing = StageEdit(stage, form)
    status = 400 if form.errors else 200
    if wants_partial():
        context = _stages_context(stage.pipeline, None, editing)
        return render_template("settings/_pipeline_stages.html", **context), status
    return _page(stage.pipeline, status, editing=editing)


@bp.post("/pipeline/stages/<int:stage_id>/move")
@roles_required(Role.ADMIN)
def move_stage(stage_id: int):
    """Move a stage earlier or later in its pipeline."""
    stage = team_get_or_404(PipelineStage, stage_id)
    pipeline_setup.move_stage(db.session, current_user, stage, _step())
    return _done(f"{stage.name} moved.", stage.pipeline_id, "stages")


@bp.post("/pipeline/stages/<int:stage_id>/delete")
@roles_required(Role.ADMIN)
def delete_stage(stage_id: int):
    """Delete a stage; the deals it holds move first to the stage chosen."""
    stage = team_get_or_404(PipelineStage, stage_id)
    move_to_id = request.form.get("move_to", type=int)
    move_to = team_get_or_404(PipelineStage, move_to_id) if move_to_id else None
    name, pipeline_id = stage.name, stage.pipeline_id
    try:
        moved = pipeline_setup.delete_stage(
            db.session, current_user, stage, move_to, zone=viewer_zone_name(current_user)
        )
    except SetupRefused as problem:
        return _refused(problem, pipeline_id, "stages")
    moved_text = f"; {pipeline_setup.deals_text(moved)} moved to {move_to.name}" if moved else ""
    return _done(f"{name} deleted{moved_text}.", pipeline_id, "stages")


# -------------------------------------------------------------------- lost reasons


@bp.post("/pipeline/lost-reasons")
@roles_required(Role.ADMIN)
def add_lost_reason():
    """Add a lost reason at the end of the team's list."""
    form = LostReasonForm(prefix="reason")
    current = _back_to()
    if form.validate_on_submit():
        try:
            reason = pipeline_setup.add_lost_reason(db.session, current_user, form.name.data)
        except SetupRefused as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            return _done(f"{reason.name} added.", current.id, "lost-reasons")
    return _page(current, 400, reason_form=form)


@bp.post("/pipeline/lost-reasons/<int:reason_id>/rename")
@roles_required(Role.ADMIN)
def rename_lost_reason(reason_id: int):
    """Give a lost reason a new name."""
    reason = team_get_or_404(LostReason, reason_id)
    form = LostReasonForm()
    current = _back_to()
    try:
        if not form.validate_on_submit():
            raise SetupRefused(" ".join(form.name.errors) or "Give the reason a name.")
        pipeline_setup.rename_lost_reason(db.session, current_user, reason, form.name.data)
    except SetupRefused as problem:
        return _refused(problem, current.id, "lost-reasons")
    return _done(f"Reason renamed {reason.name}.", current.id, "lost-reasons")


@bp.post("/pipeline/lost-reasons/<int:reason_id>/move")
@roles_required(Role.ADMIN)
def move_lost_reason(reason_id: int):
    """Move a lost reason earlier or later in the team's list."""
    reason = team_get_or_404(LostReason, reason_id)
    pipeline_setup.move_lost_reason(db.session, current_user, reason, _step())
    return _done(f"{reason.name} moved.", _back_to().id, "lost-reasons")


@bp.post("/pipeline/lost-reasons/<int:reason_id>/retire")
@roles_required(Role.ADMIN)
def retire_lost_reason(reason_id: int):
    """Retire a lost reason: no longer offered; the deals lost for it keep it."""
    return _set_reason_active(reason_id, False, "is retired: no longer offered")


@bp.post("/pipeline/lost-reasons/<int:reason_id>/restore")
@roles_required(Role.ADMIN)
def restore_lost_reason(reason_id: int):
    """Offer a retired lost reason again."""
    return _set_reason_active(reason_id, True, "is offered again")


def _set_reason_active(reason_id: int, active: bool, outcome: str):
    reason = team_get_or_404(LostReason, reason_id)
    pipeline_setup.set_lost_reason_active(db.session, current_user, reason, active)
    return _done(f"{reason.name} {outcome}.", _back_to().id, "lost-reasons")


def _back_to() -> Pipeline:
    """The pipeline whose page the lost-reasons form was posted from (the first else)."""
    posted = pipelines.pipeline_of(
        db.session, current_user.team_id, request.form.get("pipeline_id")
    )
    return posted or pipelines.default_pipeline(db.session, current_user.team_id)
