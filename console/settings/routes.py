"""Team settings: the team's mode and integrations, its users, and demo data."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console.extensions import db
from console.models import Role, SkipTraceProvider, User
from console.models.skiptrace import PROVIDER_KINDS
from console.providers.skiptrace.http import TEST_QUERY, HttpSettings
from console.services import accounts, scoring, trace_providers
from console.settings.forms import AddUserForm, EditUserForm
from console.web import csv_download, roles_required, team_get_or_404, wants_partial
from jobs import queue as job_queue

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
@roles_required(Role.ADMIN, Role.MANAGER)
def index():
    """What this console is connected to, without showing any secret."""
    return render_template("settings/index.html", config=current_app.config)


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users():
    """The team's users, and a form to add one."""
    form = AddUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                current_user.team,
                email=form.email.data,
                password=form.password.data,
                role=form.role.data,
                name=form.name.data,
                must_change_password=True,
                actor=current_user,
                hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{user.email} added as {user.role_enum.label}.", "success")
            return redirect(url_for("settings.users"))
    team_users = accounts.team_users(db.session, current_user.team_id)
    return render_template("settings/users.html", form=form, users=team_users), (
        400 if form.errors else 200
    )


@bp.get("/users.csv")
@roles_required(Role.ADMIN)
def export_users():
    """The team's users as CSV."""
    rows = (
        accounts.export_row(user) for user in accounts.team_users(db.session, current_user.team_id)
    )
    return csv_download("users.csv", accounts.USER_EXPORT_COLUMNS, rows)


@bp.post("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def update_user(user_id: int):
    """Save a teammate's role and access."""
    user = team_get_or_404(User, user_id)
    form = EditUserForm()
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session, current_user, user, role=form.role.data, active=form.active.data
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"{user.email} saved.", "success")
    return redirect(url_for("settings.users"))


@bp.post("/demo-data")
@roles_required(Role.ADMIN)
def load_demo_data():
    """Load the shipped sample businesses into a demo team, as a job with progress."""
    if not current_user.team.is_demo:
        flash("Sample data goes only into demo teams, never into a team's real data.", "error")
        return redirect(url_for("settings.index"))
    run = job_queue.start(
        kind="seed_demo",
        title="Load demo data",
        team_id=current_user.team_id,
        started_by_id=current_user.id,
        params={"team_id": current_user.team_id},
    )
    return redirect(url_for("jobruns.show", run_id=run.id))


@bp.get("/skiptrace")
@roles_required(Role.ADMIN)
def skiptrace():
    """The team's skip-trace providers in waterfall order, and its acceptance rules."""
    return render_template(
        "settings/skiptrace.html",
        providers=trace_providers.team_providers(db.session, current_user.team_id),
        settings=trace_providers.TraceSettings.of(current_user.team),
        kinds=PROVIDER_KINDS,
    )


@bp.post("/skiptrace/rules")
@roles_required(Role.ADMIN)
def skiptrace_rules():
    """Save the confidence threshold and the freshness window."""
    try:
        trace_providers.save_trace_settings(
            current_user.team,
            request.form.get("threshold", type=int, default=-1),
            request.form.get("freshness_days", type=int, default=-1),
        )
    except trace_providers.ProviderProblem as problem:
        flash(str(problem), "error")
    else:
        db.session.commit()
        flash("Skip-trace rules saved.", "success")
    return redirect(url_for("settings.skiptrace"))


@bp.post("/skiptrace/providers")
@roles_required(Role.ADMIN)
def add_provider():
    """Add a provider at the end of the order, then edit its settings."""
    try:
        provider = trace_providers.add_provider(
            db.session,
            current_user.team_id,
            request.form.get("kind", ""),
            request.form.get("name", ""),
        )
    except trace_providers.ProviderProblem as problem:
        flash(str(problem), "error")
        return redirect(url_for("settings.skiptrace"))
    db.session.commit()
    return redirect(url_for("settings.edit_provider", provider_id=provider.id))


@bp.route("/skiptrace/providers/<int:provider_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_provider(provider_id: int):
    """A provider's prices, limits, key and (HTTP) request and answer settings."""
    provider = team_get_or_404(SkipTraceProvider, provider_id)
    problem = None
    if request.method == "POST":
        try:
            trace_providers.update_provider(
                provider, request.form, current_app.config["SECRETS_KEY"]
            )
        except trace_providers.ProviderProblem as exc:
            db.session.rollback()
            problem = exc
        else:
            db.session.commit()
            flash(f"{provider.name} saved.", "success")
            return redirect(url_for("settings.skiptrace"))
    settings = HttpSettings.from_dict(provider.settings)
    return render_template(
        "settings/provider.html",
        provider=provider,
        http=settings,
        form=request.form if problem else None,
        problem=problem,
        fields=TEST_QUERY.fields(),
    ), (400 if problem else 200)


@bp.post("/skiptrace/providers/<int:provider_id>/test")
@roles_required(Role.ADMIN)
def test_provider(provider_id: int):
    """Try the provider with one harmless call; answers a fragment (htmx) or a flash."""
    provider = team_get_or_404(SkipTraceProvider, provider_id)
    ok, message = trace_providers.test_provider(
        db.session, provider, current_app.config["SECRETS_KEY"]
    )
    if wants_partial():
        return render_template("settings/_provider_test.html", ok=ok, message=message)
    flash(message, "success" if ok else "error")
    return redirect(url_for("settings.edit_provider", provider_id=provider.id))


@bp.post("/skiptrace/providers/<int:provider_id>/move")
@roles_required(Role.ADMIN)
def move_provider(provider_id: int):
    """Move a provider earlier or later in the waterfall."""
    provider = team_get_or_404(SkipTraceProvider, provider_id)
    trace_providers.move_provider(db.session, provider, -1 if request.form.get("to") == "up" else 1)
    db.session.commit()
    return redirect(url_for("settings.skiptrace"))


@bp.post("/skiptrace/providers/<int:provider_id>/delete")
@roles_required(Role.ADMIN)
def delete_provider(provider_id: int):
    """Remove a provider; the results it gave stay on the leads and passes."""
    provider = team_get_or_404(SkipTraceProvider, provider_id)
    db.session.delete(provider)
    db.session.commit()
    flash(f"{provider.name} removed.", "info")
    return redirect(url_for("settings.skiptrace"))


@bp.route("/scoring", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def scoring_weights():
    """The team's scoring weights; saving them scores every lead again, as a job."""
    team = current_user.team
    weights = scoring.load_weights((team.settings or {}).get(scoring.SETTINGS_KEY))
    errors: list[str] = []
    if request.method == "POST":
        weights, errors = scoring.weights_from_form(request.form, weights)
        if not errors:
            team.settings = {
                **(team.settings or {}),
                scoring.SETTINGS_KEY: scoring.weights_to_settings(weights),
            }
            db.session.commit()
            return _start_rescore("Weights saved; every lead is being scored again.")
    return render_template(
        "settings/scoring.html",
        weights=weights,
        labels=scoring.WEIGHT_LABELS,
        groups=scoring.INDUSTRY_GROUPS,
        errors=errors,
    ), (400 if errors else 200)


@bp.post("/scoring/recompute")
@roles_required(Role.MANAGER)
def recompute_scores():
    """Score every lead of the team again, as a job with progress."""
    return _start_rescore("Every lead is being scored again.")


def _start_rescore(message: str):
    run = job_queue.start(
        kind="rescore_team",
        title="Score every lead",
        team_id=current_user.team_id,
        started_by_id=current_user.id,
        params={},
    )
    flash(message, "success")
    return redirect(url_for("jobruns.show", run_id=run.id))
