"""Team settings: the team's mode and integrations, its users, and demo data."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from console.extensions import db
from console.models import Role, User
from console.services import accounts
from console.settings.forms import AddUserForm, EditUserForm
from console.web import csv_download, roles_required, team_get_or_404
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
