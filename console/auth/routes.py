"""Signing in and out, changing one's password, and accepting an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from console.auth.forms import AcceptInvitationForm, LoginForm, PasswordForm
from console.extensions import db
from console.forms import ZoneForm
from console.services import accounts, demo, timezones
from console.web import client_ip, home_url

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """A same-site path to go to after sign-in, never another host."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return home_url(current_user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password, throttled per account and per address."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = accounts.sign_in(
            db.session,
            form.email.data,
            form.password.data,
            ip=client_ip(),
            policy=accounts.ThrottlePolicy.of(current_app.config),
            hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
        )
        db.session.commit()
        if result.user is not None:
            login_user(result.user)
            if result.user.must_change_password:
                flash("Choose your own password before you go on.", "info")
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
        if result.throttled:
            flash(f"Too many failed sign-ins. Try again in {result.retry_after} seconds.", "error")
            status = 429
        else:
            flash("That email and password do not match an active account.", "error")
            status = 401
    elif form.is_submitted():
        status = 400
    demo_users = demo.DEMO_USERS if current_app.config["CONSOLE_MODE"] == "embedded" else ()
    return render_template(
        "auth/login.html", form=form, demo_users=demo_users, demo_password=demo.DEMO_PASSWORD
    ), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out, ending every session of the account (copied cookies stop working)."""
    accounts.end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; every other session of the account ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db.session,
                current_user,
                form.current.data,
                form.new.data,
                hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
            )
        except accounts.AccountError as exc:
            field = form.current if exc.field == "current" else form.new
            field.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # the session carries the new token
            flash("Password changed. Other sessions were signed out.", "success")
            return redirect(home_url(current_user))
    return render_template("auth/password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Your account: who you are, and the time zone you read the console's times in."""
    team_zone = timezones.team_zone_name(current_user.team)
    form = ZoneForm(data={"time_zone": current_user.time_zone}).offer(
        timezones.zone_choices(), blank=f"The team's zone: {timezones.zone_label(team_zone)}"
    )
    if form.validate_on_submit():
        try:
            timezones.set_user_zone(current_user, form.time_zone.data)
        except timezones.ZoneProblem as problem:
            form.time_zone.errors.append(str(problem))
        else:
            db.session.commit()
            flash("Your time zone is saved.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), (400 if form.errors else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Join a team through an invitation link by choosing a password."""
    invitation = accounts.open_invitation(db.session, token)
    if invitation is None:
        return render_template("auth/invitation.html", invitation=None), 404
    form = AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(
                db.session,
                invitation,
                password=form.password.data,
                name=form.name.data,
                hash_method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"),
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome to {user.team.name}.", "success")
            return redirect(home_url(user))
    return render_template("auth/invitation.html", invitation=invitation, form=form), (
        400 if form.errors else 200
    )


# Pages a user who must choose a new password may still open.
_BEFORE_NEW_PASSWORD = {"auth.password", "auth.logout", "auth.login", "static"}


@bp.before_app_request
def require_new_password():
    """Keep a user with a temporary password on the password page until they change it."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _BEFORE_NEW_PASSWORD
    ):
        flash("Choose your own password before you go on.", "info")
        return redirect(url_for("auth.password"))
    return None
