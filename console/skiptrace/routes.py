"""Skip-trace passes (choose, estimate, confirm, watch, summary) and vendor result files."""

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
from console.models import JobRun, Role, SkipTraceFile, SkipTraceRun
from console.models.base import utcnow
from console.models.skiptrace import RUN_STATUSES
from console.services.lists import leads as lead_service
from console.services.tracing import pass_reports, provider_settings, result_files, waterfall
from console.web import (
    csv_download,
    int_arg,
    render,
    roles_required,
    store_form_upload,
    team_get_or_404,
)
from jobs import queue as job_queue

bp = Blueprint("skiptrace", __name__, url_prefix="/skiptrace")
MAX_PASS_LEADS = 50_000


@bp.get("/")
@roles_required(Role.OPERATOR)
def index():
    """The team's passes and result files."""
    status = request.args.get("status", "")
    return render(
        "skiptrace/index.html",
        "skiptrace/_runs.html",
        runs=pass_reports.team_runs(db.session, current_user.team_id, status),
        status_filter=status if status in RUN_STATUSES else "",
        statuses=RUN_STATUSES,
        files=result_files.team_files(db.session, current_user.team_id),
        providers=provider_settings.team_providers(db.session, current_user.team_id),
        form=UploadForm(),
    )


@bp.get("/export.csv")
@roles_required(Role.OPERATOR)
def export():
    """The team's passes, filtered by status, as CSV."""
    return csv_download(
        f"skip-traces-{utcnow():%Y%m%d-%H%M}.csv",
        pass_reports.RUN_COLUMNS,
        pass_reports.run_rows(db.session, current_user.team_id, request.args.get("status", "")),
    )


def _chosen_ids(args) -> tuple[lead_service.LeadFilters, list[int], int]:
    """The leads the filters (and limit) choose; the limit as read."""
    filters = lead_service.LeadFilters.from_args(args)
    limit = min(max(int_arg(args, "limit", MAX_PASS_LEADS) or MAX_PASS_LEADS, 1), MAX_PASS_LEADS)
    ids = lead_service.matching_ids(db.session, current_user.team_id, filters, sort="priority")
    return filters, ids, limit


@bp.get("/new")
@roles_required(Role.OPERATOR)
def new():
    """Choose leads with the leads-list filters; see the count and the estimate per provider."""
    filters, ids, limit = _chosen_ids(request.args)
    plan = waterfall.plan_pass(db.session, current_user.team, ids, limit=limit)
    return render(
        "skiptrace/new.html",
        "skiptrace/_estimate.html",
        filters=filters,
        plan=plan,
        limit=limit,
        states=lead_service.team_states(db.session, current_user.team_id),
        settings=provider_settings.TraceSettings.of(current_user.team),
    )


@bp.post("/")
@roles_required(Role.OPERATOR)
def start():
    """Confirm a pass over the chosen leads, with an optional budget, and start its job."""
    filters, ids, limit = _chosen_ids(request.form)
    plan = waterfall.plan_pass(db.session, current_user.team, ids, limit=limit)
    try:
        budget_text = request.form.get("budget", "").strip()
        budget = provider_settings.money(budget_text, "budget") if budget_text else None
        run = waterfall.create_run(
            db.session,
            current_user.team,
            plan.to_trace,
            filters=filters.as_args(),
            budget=budget,
            started_by_id=current_user.id,
        )
    except provider_settings.ProviderProblem as problem:
        flash(str(problem), "error")
        return redirect(url_for("skiptrace.new", **filters.as_args()))
    job_queue.start_skiptrace_pass(run, current_user.id)
    return redirect(url_for("skiptrace.show", run_id=run.id))


@bp.get("/<int:run_id>")
@roles_required(Role.OPERATOR)
def show(run_id: int):
    """A pass: progress and spend while it runs, then its summary and the leads found."""
    run = team_get_or_404(SkipTraceRun, run_id)
    page = max(1, int_arg(request.args, "page", 1))
    found, total = pass_reports.found_leads(db.session, run, page)
    return render(
        "skiptrace/show.html",
        "skiptrace/_summary.html",
        run=run,
        job=db.session.get(JobRun, run.job_run_id) if run.job_run_id else None,
        summary=pass_reports.summarize(db.session, run),
        found=found,
        found_total=total,
        page=page,
    )


@bp.post("/<int:run_id>/cancel")
@roles_required(Role.OPERATOR)
def cancel(run_id: int):
    """Ask a pass to stop after the leads it is working on."""
    run = team_get_or_404(SkipTraceRun, run_id)
    if not waterfall.cancel_pass(db.session, run):
        abort(409)
    db.session.commit()
    flash("The pass will stop after the leads it is working on.", "info")
    return redirect(url_for("skiptrace.show", run_id=run.id))


@bp.get("/<int:run_id>/results.csv")
@roles_required(Role.OPERATOR)
def results(run_id: int):
    """Every provider call of a pass: lead, provider, outcome, what was found, cost."""
    run = team_get_or_404(SkipTraceRun, run_id)
    return csv_download(
        f"skip-trace-{run.id}-results.csv",
        pass_reports.RESULT_COLUMNS,
        pass_reports.iter_result_rows(db.session, run),
    )


# ------------------------------------------------------------------------ result files


@bp.post("/files")
@roles_required(Role.OPERATOR)
def upload_file():
    """Store a vendor's result file and go on to map its columns."""
    form = UploadForm()
    if not form.validate_on_submit():
        for error in form.file.errors:
            flash(error, "error")
        return redirect(url_for("skiptrace.index"))
    provider = provider_settings.file_provider(db.session, current_user.team_id)
    stored = store_form_upload(form.file.data, "results.csv")
    try:
        trace_file = result_files.create_file(
            db.session,
            team_id=current_user.team_id,
            provider_id=provider.id,
            path=stored.path,
            filename=stored.filename,
            size=stored.size,
            created_by_id=current_user.id,
        )
    except result_files.TraceFileProblem as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("skiptrace.index"))
    db.session.commit()
    return redirect(url_for("skiptrace.file_mapping", file_id=trace_file.id))


def _mapping_context(trace_file: SkipTraceFile, columns: list[str]) -> dict:
    return {
        "trace_file": trace_file,
        "shape": result_files.shape_of(trace_file),
        "columns": columns,
        "check": result_files.check_mapping(columns),
        "rows": result_files.preview(db.session, trace_file, columns),
        "choices": result_files.CHOICES,
        "fields": result_files.FIELDS,
    }


def _posted_columns(trace_file: SkipTraceFile) -> list[str]:
    return result_files.clean_mapping(
        request.form.getlist("column"), len(trace_file.shape["headers"])
    )


@bp.get("/files/<int:file_id>/mapping")
@roles_required(Role.OPERATOR)
def file_mapping(file_id: int):
    """Map the result file's columns, with the first rows and the leads they match."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    if trace_file.status != "mapping":
        return redirect(url_for("skiptrace.file_show", file_id=file_id))
    return render_template(
        "skiptrace/file_mapping.html", **_mapping_context(trace_file, trace_file.mapping)
    )


@bp.post("/files/<int:file_id>/mapping/preview")
@roles_required(Role.OPERATOR)
def file_preview(file_id: int):
    """The check and preview for the mapping as it stands in the form (htmx)."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    columns = _posted_columns(trace_file)
    return render_template("skiptrace/_file_preview.html", **_mapping_context(trace_file, columns))


@bp.post("/files/<int:file_id>/load")
@roles_required(Role.OPERATOR)
def file_load(file_id: int):
    """Save the mapping and read the whole file in the background."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    columns = _posted_columns(trace_file)
    check = result_files.check_mapping(columns)
    if trace_file.status != "mapping" or not check.ok:
        for error in check.errors:
            flash(error, "error")
        return redirect(url_for("skiptrace.file_mapping", file_id=file_id))
    trace_file.mapping, trace_file.status = columns, "loading"
    job = job_queue.start(
        kind="skiptrace_file",
        title=f"Result file {trace_file.filename}",
        team_id=trace_file.team_id,
        started_by_id=current_user.id,
        params={"file_id": trace_file.id},
    )
    trace_file.job_run_id = job.id
    db.session.commit()
    return redirect(url_for("skiptrace.file_show", file_id=file_id))


@bp.get("/files/<int:file_id>")
@roles_required(Role.OPERATOR)
def file_show(file_id: int):
    """A result file: loading progress, then rows matched and unmatched."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    if trace_file.status == "mapping":
        return redirect(url_for("skiptrace.file_mapping", file_id=file_id))
    job = db.session.get(JobRun, trace_file.job_run_id) if trace_file.job_run_id else None
    return render(
        "skiptrace/file_show.html", "skiptrace/_file_counts.html", trace_file=trace_file, job=job
    )


@bp.post("/files/<int:file_id>/trace")
@roles_required(Role.OPERATOR)
def file_trace(file_id: int):
    """Apply a loaded file to the leads it matched: a pass with the file's provider only."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    if trace_file.status != "loaded" or trace_file.provider is None:
        abort(409)
    run = waterfall.create_run(
        db.session,
        current_user.team,
        result_files.matched_lead_ids(db.session, trace_file),
        filters={"file": trace_file.filename},
        budget=None,
        started_by_id=current_user.id,
        providers=[trace_file.provider],
    )
    job_queue.start_skiptrace_pass(run, current_user.id)
    return redirect(url_for("skiptrace.show", run_id=run.id))


@bp.get("/files/<int:file_id>/unmatched.csv")
@roles_required(Role.OPERATOR)
def file_unmatched(file_id: int):
    """The file's rows that matched no lead: row number, reason and original cells."""
    trace_file = team_get_or_404(SkipTraceFile, file_id)
    return csv_download(
        f"unmatched-rows-{trace_file.id}.csv",
        result_files.unmatched_header(trace_file),
        result_files.iter_unmatched(db.session, trace_file),
    )
