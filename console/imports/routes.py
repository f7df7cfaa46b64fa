"""Imports: upload a list, map its columns, run it with progress, read its summary."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from console.extensions import db
from console.imports.forms import UploadForm
from console.models import ImportJob, JobRun, MappingPreset, Role
from console.models.base import utcnow
from console.models.imports import IMPORT_STATUSES
from console.services.lists import duplicates, imports, mapping, merge_undo
from console.services.lists.ingest import REJECT_REASONS
from console.services.lists.resolve import RULES
from console.services.numbers import whole_number
from console.web import (
    csv_download,
    int_arg,
    int_list,
    render,
    roles_required,
    store_form_upload,
    team_get_or_404,
)
from jobs import queue as job_queue

bp = Blueprint("imports", __name__, url_prefix="/imports")


def _index_page(form: UploadForm, status: int = 200):
    state = request.args.get("status", "")
    return render(
        "imports/index.html",
        "imports/_rows.html",
        form=form,
        jobs=imports.team_imports(db.session, current_user.team_id, state),
        status_filter=state if state in IMPORT_STATUSES else "",
        statuses=IMPORT_STATUSES,
        presets=mapping.team_presets(db.session, current_user.team_id),
        pending_reviews=imports.pending_reviews(db.session, current_user.team_id),
    ), status


@bp.get("/")
@roles_required(Role.OPERATOR)
def index():
    """The team's imports and the upload form."""
    return _index_page(UploadForm())


@bp.post("/")
@roles_required(Role.OPERATOR)
def upload():
    """Store an uploaded list on disk, sniff it, and go on to its column mapping."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _index_page(form, 400)
    stored = store_form_upload(form.file.data, "upload.csv")
    try:
        job = imports.create_import(
            db.session,
            team_id=current_user.team_id,
            path=stored.path,
            filename=stored.filename,
            size=stored.size,
            sha256=stored.sha256,
            created_by_id=current_user.id,
        )
    except imports.ImportProblem as problem:
        form.file.errors.append(str(problem))
        return _index_page(form, 400)
    db.session.commit()
    return redirect(url_for("imports.mapping_page", import_id=job.id))


@bp.get("/export.csv")
@roles_required(Role.OPERATOR)
def export():
    """The team's imports, filtered by status, as CSV."""
    return csv_download(
        f"imports-{utcnow():%Y%m%d-%H%M}.csv",
        imports.EXPORT_COLUMNS,
        imports.export_rows(db.session, current_user.team_id, request.args.get("status", "")),
    )


def _mapping_context(job: ImportJob, columns: list[str]) -> dict:
    return {
        "job": job,
        "shape": imports.shape_of(job),
        "columns": columns,
        "check": mapping.check_mapping(columns),
        "rows": imports.preview(job, columns),
        "choices": mapping.CHOICES,
        "fields": mapping.FIELDS,
    }


@bp.get("/<int:import_id>/mapping")
@roles_required(Role.OPERATOR)
def mapping_page(import_id: int):
    """Map the file's columns, with the first 20 rows and what they become."""
    job = team_get_or_404(ImportJob, import_id)
    if job.status != "mapping":
        return redirect(url_for("imports.show", import_id=job.id))
    columns = list(job.mapping)
    preset_id = int_arg(request.args, "preset")
    if preset_id:
        preset = team_get_or_404(MappingPreset, preset_id)
        columns = mapping.apply_preset(preset, imports.shape_of(job).headers)
    return render_template(
        "imports/mapping.html",
        presets=mapping.team_presets(db.session, current_user.team_id),
        **_mapping_context(job, columns),
    )


@bp.post("/<int:import_id>/mapping/preview")
@roles_required(Role.OPERATOR)
def mapping_preview(import_id: int):
    """The check and preview for the mapping as it stands in the form (htmx)."""
    job = team_get_or_404(ImportJob, import_id)
    if job.status != "mapping":
        abort(409)
    columns = mapping.clean_mapping(request.form.getlist("column"), len(job.shape["headers"]))
    return render_template("imports/_preview.html", **_mapping_context(job, columns))


@bp.post("/<int:import_id>/start")
@roles_required(Role.OPERATOR)
def start(import_id: int):
    """Save the mapping (and a preset, if named) and start the import job."""
    job = team_get_or_404(ImportJob, import_id)
    if job.status != "mapping":
        return redirect(url_for("imports.show", import_id=job.id))
    try:
        check, run = imports.queue_import(
            db.session,
            job,
            request.form.getlist("column"),
            imports.parse_tags(request.form.get("tags", "")),
            preset_name=request.form.get("preset_name", ""),
            started_by_id=current_user.id,
            list_price=request.form.get("list_price", ""),
        )
    except imports.ImportProblem:
        return redirect(url_for("imports.show", import_id=job.id))
    if run is None:
        for error in check.errors:
            flash(error, "error")
        return redirect(url_for("imports.mapping_page", import_id=job.id))
    job_queue.enqueue(run)
    return redirect(url_for("imports.show", import_id=job.id))


@bp.get("/<int:import_id>")
@roles_required(Role.OPERATOR)
def show(import_id: int):
    """An import's progress while it runs, then its summary; htmx gets the summary only."""
    job = team_get_or_404(ImportJob, import_id)
    if job.status == "mapping":
        return redirect(url_for("imports.mapping_page", import_id=job.id))
    run = db.session.get(JobRun, job.job_run_id) if job.job_run_id else None
    return render(
        "imports/show.html",
        "imports/_summary.html",
        job=job,
        run=run,
        rules=RULES,
        reasons=REJECT_REASONS,
        pending_reviews=imports.pending_reviews(db.session, current_user.team_id, job.id),
    )


@bp.post("/<int:import_id>/cancel")
@roles_required(Role.OPERATOR)
def cancel(import_id: int):
    """Ask a queued or running import to stop after its current chunk."""
    job = team_get_or_404(ImportJob, import_id)
    if not imports.cancel_import(db.session, job):
        abort(409)
    db.session.commit()
    flash(
        "The import is cancelled."
        if job.status == "cancelled"
        else "The import will stop after the rows it is working on.",
        "info",
    )
    return redirect(url_for("imports.show", import_id=job.id))


@bp.post("/<int:import_id>/discard")
@roles_required(Role.OPERATOR)
def discard(import_id: int):
    """Throw away an upload that was never started."""
    job = team_get_or_404(ImportJob, import_id)
    if job.status != "mapping":
        abort(409)
    imports.delete_file(job)
    db.session.delete(job)
    db.session.commit()
    flash(f"{job.filename} was discarded.", "info")
    return redirect(url_for("imports.index"))


@bp.get("/<int:import_id>/rejects.csv")
@roles_required(Role.OPERATOR)
def rejects(import_id: int):
    """The rows the import rejected: row number, reason and the original cells."""
    job = team_get_or_404(ImportJob, import_id)
    return csv_download(
        f"rejected-rows-import-{job.id}.csv",
        imports.reject_header(job),
        imports.iter_rejects(db.session, job),
    )


@bp.post("/presets/<int:preset_id>/delete")
@roles_required(Role.OPERATOR)
def delete_preset(preset_id: int):
    """Forget a saved mapping."""
    preset = team_get_or_404(MappingPreset, preset_id)
    db.session.delete(preset)
    db.session.commit()
    flash(f"Mapping {preset.name!r} deleted.", "info")
    return redirect(url_for("imports.index"))


@bp.get("/reviews")
@roles_required(Role.OPERATOR)
def reviews():
    """Uncertain pairs side by side, filtered by status, import and rule."""
    filters = duplicates.review_filters(request.args)
    page = max(1, int_arg(request.args, "page", 1))
    pairs, total = duplicates.review_page(db.session, current_user.team_id, filters, page)
    return render(
        "imports/reviews.html",
        "imports/_reviews.html",
        pairs=pairs,
        total=total,
        page=page,
        per_page=25,
        filters=filters,
        rules=RULES,
    )


@bp.post("/reviews/decide")
@roles_required(Role.OPERATOR)
def decide_reviews():
    """Merge or keep apart the chosen pairs, or every pair the filters match."""
    decision = request.form.get("decision", "")
    one = request.form.get("one", "")  # a pair's own button: "merge:12"
    if one:
        decision, _, one = one.partition(":")
    if decision not in ("merge", "keep_apart"):
        abort(400)
    filters = duplicates.review_filters(request.form)
    if one:
        review_id = whole_number(one)
        ids = [] if review_id is None else [review_id]
    elif request.form.get("scope") == "all":
        ids = duplicates.matching_ids(db.session, current_user.team_id, filters)
    else:
        ids = int_list(request.form, "review_id")
    done = duplicates.decide(db.session, current_user.team_id, ids, decision, current_user.id)
    db.session.commit()
    words = "merged" if decision == "merge" else "kept apart"
    flash(f"{done} pair{'' if done == 1 else 's'} {words}.", "success")
    args = {k: v for k, v in filters.items() if v and not (k == "status" and v == "pending")}
    return redirect(url_for("imports.reviews", **args))


@bp.post("/reviews/<int:review_id>/undo")
@roles_required(Role.OPERATOR)
def undo_merge(review_id: int):
    """Undo the merge a pair was decided with: the merged lead comes back as it was."""
    try:
        lead = duplicates.undo_review_merge(
            db.session, current_user.team_id, review_id, current_user.id
        )
    except merge_undo.UndoRefused as refused:
        db.session.rollback()
        flash(f"Not undone: {refused}", "error")
        return redirect(url_for("imports.reviews", status="merged"))
    if lead is None:
        abort(404)
    db.session.commit()
    flash(f"Merge undone: {lead.code} is back as it was; the pair waits for a decision.", "success")
    return redirect(url_for("imports.reviews"))
