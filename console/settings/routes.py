"""Team settings: the team's mode and integrations, its users, skip tracing, scoring,
sending (senders, rules, texting hours), replies (automatic texts, drafts, auto-send),
and demo data."""

from __future__ import annotations

import dataclasses

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from console.extensions import db
from console.forms import ZoneForm
from console.models import Role, Sender, SkipTraceProvider, User
from console.models.base import utcnow
from console.models.campaigns import SENDER_KINDS
from console.models.skiptrace import PROVIDER_KINDS
from console.providers.skiptrace.http import TEST_QUERY, HttpSettings
from console.services import accounts, audit, timezones
from console.services.campaigns.templates import sender_name
from console.services.sending import policy, quiethours, senders
from console.services.sending.delivery import FILTERING_WINDOW
from console.services.tracing import provider_settings, scoring
from console.settings.forms import (
    AddUserForm,
    EditUserForm,
    RepliesForm,
    SenderForm,
    SendingRulesForm,
    StateHoursForm,
)
from console.web import csv_download, int_arg, roles_required, team_get_or_404, wants_partial
from jobs import queue as job_queue

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
@roles_required(Role.ADMIN, Role.MANAGER)
def index():
    """What this console is connected to, without showing any secret, and the team's zone."""
    return _overview(_team_zone_form())


def _overview(zone_form: ZoneForm):
    return render_template(
        "settings/index.html",
        config=current_app.config,
        zone_form=zone_form,
        webhook_base=_webhook_base(),
    )


@dataclasses.dataclass(frozen=True)
class WebhookBase:
    """The address Twilio's webhooks go to, and where it comes from."""

    url: str
    source: str  # "setting" (PUBLIC_BASE_URL), "request" (embedded) or "unset"


def _webhook_base() -> WebhookBase:
    """PUBLIC_BASE_URL when set; else, embedded, the address this page was asked at (the
    port the console really runs on); in production, the default, marked unset."""
    config = current_app.config
    if config.get("PUBLIC_BASE_URL_SET"):
        return WebhookBase(config["PUBLIC_BASE_URL"], "setting")
    if config["CONSOLE_MODE"] == "embedded":
        return WebhookBase(request.host_url.rstrip("/"), "request")
    return WebhookBase(config["PUBLIC_BASE_URL"], "unset")


def _team_zone_form() -> ZoneForm:
    team_zone = timezones.team_zone_name(current_user.team)
    return ZoneForm(data={"time_zone": team_zone}).offer(timezones.zone_choices())


@bp.post("/time-zone")
@roles_required(Role.ADMIN)
def team_zone():
    """Save the team's time zone: the zone its people read times in unless they chose one."""
    form = _team_zone_form()
    if form.validate_on_submit():
        try:
            changed = timezones.set_team_zone(
                db.session, current_user.team, form.time_zone.data, current_user.id
            )
        except timezones.ZoneProblem as problem:
            form.time_zone.errors.append(str(problem))
        else:
            db.session.commit()
            flash("The team's time zone is saved." if changed else "No change.", "success")
            return redirect(url_for("settings.index"))
    return _overview(form), 400


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users():
    """The team's users and open invitations, and a form to invite one more."""
    form = AddUserForm()
    if form.validate_on_submit():
        issued = accounts.invite_user(
            db.session,
            current_user.team,
            email=form.email.data,
            role=form.role.data,
            name=form.name.data,
            actor=current_user,
        )
        db.session.commit()
        # Shown once, on the next page; only its hash is stored.
        session["invitation_link"] = url_for(
            "auth.accept_invitation", token=issued.token, _external=True
        )
        flash(
            f"Invitation recorded for {issued.invitation.email}; they can sign in once they "
            "accept it.",
            "success",
        )
        return redirect(url_for("settings.users"))
    return render_template(
        "settings/users.html",
        form=form,
        users=accounts.team_users(db.session, current_user.team_id),
        invitations=accounts.pending_invitations(db.session, current_user.team_id),
        invitation_link=session.pop("invitation_link", None),
    ), (400 if form.errors else 200)


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
        providers=provider_settings.team_providers(db.session, current_user.team_id),
        settings=provider_settings.TraceSettings.of(current_user.team),
        kinds=PROVIDER_KINDS,
    )


@bp.post("/skiptrace/rules")
@roles_required(Role.ADMIN)
def skiptrace_rules():
    """Save the confidence threshold and the freshness window."""
    try:
        provider_settings.save_trace_settings(
            current_user.team,
            int_arg(request.form, "threshold", -1),
            int_arg(request.form, "freshness_days", -1),
        )
    except provider_settings.ProviderProblem as problem:
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
        provider = provider_settings.add_provider(
            db.session,
            current_user.team_id,
            request.form.get("kind", ""),
            request.form.get("name", ""),
        )
    except provider_settings.ProviderProblem as problem:
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
            provider_settings.update_provider(
                provider,
                request.form,
                current_app.config["SECRETS_KEY"],
                provider_settings.endpoint_rules(current_app.config),
            )
        except provider_settings.ProviderProblem as exc:
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
    ok, message = provider_settings.test_provider(
        db.session,
        provider,
        current_app.config["SECRETS_KEY"],
        provider_settings.endpoint_rules(current_app.config),
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
    step = -1 if request.form.get("to") == "up" else 1
    provider_settings.move_provider(db.session, provider, step)
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


# ----------------------------------------------------------------------------- sending


@bp.get("/sending")
@roles_required(Role.MANAGER)
def sending():
    """The team's senders, sending rules and texting hours; admins change them."""
    if not policy.team_senders(db.session, current_user.team_id):
        policy.ensure_default_sender(db.session, current_user.team, current_app.config)
        db.session.commit()  # the team's first visit records its default sender
    return _sending_page()


@dataclasses.dataclass(frozen=True)
class HoursEdit:
    """The texting-hours row being edited in place: its state, form and problem."""

    state: str
    form: StateHoursForm
    problem: str = ""


def _sending_page(rules_form=None, sender_form=None, editing=None, status: int = 200):
    """Settings > Sending with the forms as given (kept with their errors) or fresh."""
    team = current_user.team
    settings = policy.SendingSettings.of(team)
    team_senders = policy.team_senders(db.session, team.id)
    return render_template(
        "settings/sending.html",
        settings=settings,
        senders=team_senders,
        activity=senders.sender_activity(db.session, team_senders),
        filtering_days=FILTERING_WINDOW.days,
        rules_form=rules_form
        or SendingRulesForm(formdata=None, data=SendingRulesForm.initial(settings)),
        sender_form=sender_form or SenderForm(formdata=None),
        kinds=SENDER_KINDS,
        **_hours_context(editing, settings),
    ), status


def _hours_context(editing: HoursEdit | None, settings=None) -> dict:
    """What the texting-hours panel shows: the table, holidays, and the row being edited."""
    settings = settings or policy.SendingSettings.of(current_user.team)
    rules, problem = senders.team_rules(settings)
    year = utcnow().year
    return {
        "hours": senders.hours_table(settings, year),
        "hours_problem": problem,
        "federal": senders.federal_window(),
        "federal_holidays": quiethours.holidays(year, None),
        "year": year,
        "addable_states": sorted(set(quiethours.STATE_ZONES) - set(rules)),
        "editing": editing,
    }


@bp.post("/sending/rules")
@roles_required(Role.ADMIN)
def save_sending_rules():
    """Save the team's window, opt-out wording, approvals, filtering limit, caps, price."""
    form = SendingRulesForm()
    if not form.validate_on_submit():
        return _sending_page(rules_form=form, status=400)
    team = current_user.team
    before = policy.SendingSettings.of(team)
    updated = policy.settings_from_form(form.data, before)
    updated.save(team)
    _audit("sending.rules_saved", None, _rules_facts(before), _rules_facts(updated))
    db.session.commit()
    flash("Sending rules saved.", "success")
    return redirect(url_for("settings.sending"))


@bp.post("/sending/sandbox-hours")
@roles_required(Role.ADMIN)
def save_sandbox_hours():
    """Turn the sandbox's open hours on or off (refused once Twilio is configured)."""
    wanted = request.form.get("open_hours") == "on"
    try:
        policy.set_sandbox_open_hours(current_user.team, current_app.config, wanted)
    except policy.SandboxOnly as problem:
        abort(403, str(problem))
    _audit("sending.sandbox_hours", None, None, {"sandbox_open_hours": wanted})
    db.session.commit()
    flash("Sandbox: recipients' hours " + ("open." if wanted else "apply."), "success")
    return redirect(url_for("settings.sending", _anchor="sandbox-hours"))


def _rules_facts(settings: policy.SendingSettings) -> dict:
    """The rules form's part of the settings, for the audit trail."""
    facts = dataclasses.asdict(settings)
    facts.pop("quiet_hours", None)
    return facts


@bp.post("/senders")
@roles_required(Role.ADMIN)
def add_sender():
    """Add a number or Messaging Service to the team's senders."""
    form = SenderForm()
    if form.validate_on_submit():
        try:
            sender = senders.add_sender(db.session, current_user.team_id, **_sender_values(form))
        except senders.SenderProblem as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            _audit("sender.added", sender, None, senders.sender_facts(sender))
            db.session.commit()
            flash(f"{sender.label} added.", "success")
            return redirect(url_for("settings.sending"))
    return _sending_page(sender_form=form, status=400)


@bp.route("/senders/<int:sender_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_sender(sender_id: int):
    """A sender's name, kind, address and limits."""
    sender = team_get_or_404(Sender, sender_id)
    form = SenderForm(obj=sender)
    if form.validate_on_submit():
        try:
            before = senders.update_sender(db.session, sender, **_sender_values(form))
        except senders.SenderProblem as problem:
            db.session.rollback()
            _field_error(form, problem)
        else:
            _audit("sender.updated", sender, before, senders.sender_facts(sender))
            db.session.commit()
            flash(f"{sender.label} saved.", "success")
            return redirect(url_for("settings.sending"))
    return render_template(
        "settings/sender.html",
        sender=sender,
        form=form,
        uses=senders.sender_uses(db.session, sender),
    ), (400 if form.errors else 200)


def _sender_values(form: SenderForm) -> dict:
    """The sender form's values as the senders service takes them, with the console's
    Twilio account to check the address against (none in the sandbox)."""
    return {
        "account": senders.twilio_account(current_app.config),
        "label": form.label.data,
        "kind": form.kind.data,
        "address": form.address.data,
        "mps": form.mps.data,
        "daily_cap": form.daily_cap.data,
        "sender_name": form.sender_name.data or "",
    }


def _field_error(form, problem) -> None:
    """Show a service's problem next to the field it names (the name field otherwise)."""
    field = getattr(form, problem.field, None) or form.label
    field.errors = [*field.errors, str(problem)]


@bp.post("/senders/<int:sender_id>/pause")
@roles_required(Role.ADMIN)
def pause_sender(sender_id: int):
    """Stop a sender's texts until someone resumes it."""
    sender = team_get_or_404(Sender, sender_id)
    reason = (request.form.get("reason") or "").strip()[:200]
    who = current_user.name or current_user.email
    policy.pause_sender(sender, reason or f"Paused by {who}.")
    _audit("sender.paused", sender, None, {"reason": sender.paused_reason})
    db.session.commit()
    flash(f"{sender.label} paused: its texts wait until it is resumed.", "info")
    return redirect(url_for("settings.sending"))


@bp.post("/senders/<int:sender_id>/resume")
@roles_required(Role.ADMIN)
def resume_sender(sender_id: int):
    """Let a paused sender's texts go again."""
    sender = team_get_or_404(Sender, sender_id)
    before = {"reason": sender.paused_reason}
    policy.resume_sender(sender)
    _audit("sender.resumed", sender, before, None)
    db.session.commit()
    flash(f"{sender.label} resumed.", "success")
    return redirect(url_for("settings.sending"))


@bp.post("/senders/<int:sender_id>/delete")
@roles_required(Role.ADMIN)
def delete_sender(sender_id: int):
    """Remove a sender no text or campaign refers to."""
    sender = team_get_or_404(Sender, sender_id)
    facts = senders.sender_facts(sender)
    try:
        senders.delete_sender(db.session, sender)
    except senders.SenderProblem as problem:
        flash(str(problem), "error")
        return redirect(url_for("settings.edit_sender", sender_id=sender.id))
    _audit("sender.removed", sender, facts, None)
    db.session.commit()
    flash(f"{facts['label']} removed.", "info")
    return redirect(url_for("settings.sending"))


@bp.get("/sending/hours")
@roles_required(Role.ADMIN)
def add_state_hours():
    """Open the texting-hours form of a state the table does not list yet."""
    state = senders.state_code(request.args.get("state", ""))
    if not state:
        flash("Choose a state to add.", "error")
        return redirect(url_for("settings.sending", _anchor="hours"))
    return redirect(url_for("settings.state_hours", state=state, _anchor="hours"))


@bp.route("/sending/hours/<state>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def state_hours(state: str):
    """One state's row of the texting-hours table, edited in place; checked by quiethours."""
    state = senders.state_code(state) or abort(404)
    team = current_user.team
    settings = policy.SendingSettings.of(team)
    form = StateHoursForm(data=StateHoursForm.initial(senders.state_rule(settings, state)))
    problem = ""
    if form.validate_on_submit():
        try:
            senders.set_state_hours(settings, state, form.rule_fields())
        except ValueError as exc:
            problem = str(exc)
        else:
            settings.save(team)
            _audit("sending.hours_changed", None, None, {state: settings.quiet_hours.get(state)})
            db.session.commit()
            flash(f"Texting hours for {state} saved.", "success")
            return redirect(url_for("settings.sending", _anchor="hours"))
    editing = HoursEdit(state, form, problem)
    status = 400 if form.errors or problem else 200
    if wants_partial():
        return render_template("settings/_sending_hours.html", **_hours_context(editing)), status
    return _sending_page(editing=editing, status=status)


@bp.post("/sending/hours/<state>/reset")
@roles_required(Role.ADMIN)
def reset_state_hours(state: str):
    """Put a state's row back as shipped (an added state leaves the table)."""
    state = senders.state_code(state) or abort(404)
    team = current_user.team
    settings = policy.SendingSettings.of(team)
    before = (settings.quiet_hours or {}).get(state)
    if senders.reset_state_hours(settings, state):
        settings.save(team)
        _audit("sending.hours_reset", None, {state: before}, None)
        db.session.commit()
    known = state in quiethours.RULES
    flash(f"Texting hours for {state} {'back to the default' if known else 'removed'}.", "info")
    return redirect(url_for("settings.sending", _anchor="hours"))


def _audit(action: str, entity, before: dict | None, after: dict | None) -> None:
    """Record a settings change (sending or replies) by the signed-in user."""
    audit.record(
        db.session,
        team_id=current_user.team_id,
        actor_id=current_user.id,
        action=action,
        entity=entity,
        before=before,
        after=after,
    )


# ----------------------------------------------------------------------------- replies


@bp.get("/replies")
@roles_required(Role.MANAGER)
def replies():
    """The team's rules for answering owners: automatic texts, drafts, auto-send."""
    settings = policy.ReplySettings.of(current_user.team)
    form = _replies_form(formdata=None, data=RepliesForm.initial(settings))
    return _replies_page(form, settings)


@bp.post("/replies")
@roles_required(Role.ADMIN)
def save_replies():
    """Save the reply rules; a form with problems comes back with them, nothing saved."""
    team = current_user.team
    before = policy.ReplySettings.of(team)
    form = _replies_form()
    if not form.validate_on_submit():
        return _replies_page(form, before, status=400)
    updated = policy.reply_settings_from_form(form.data, before)
    updated.save(team)
    _audit("replies.saved", None, dataclasses.asdict(before), dataclasses.asdict(updated))
    db.session.commit()
    flash("Reply settings saved.", "success")
    return redirect(url_for("settings.replies"))


@bp.post("/replies/preview")
@roles_required(Role.ADMIN)
def preview_reply_text():
    """One automatic text as typed: filled in for the team, measured, checked (htmx)."""
    name = request.form.get("text", "")
    if name not in policy.REPLY_TEXT_DEFAULTS:
        abort(400)
    form = _replies_form()
    return render_template("settings/_replies_text.html", form=form, text=_reply_text(form, name))


def _replies_form(**kwargs) -> RepliesForm:
    """The replies form, checking texts for the signed-in user's team."""
    team = current_user.team
    wording = policy.SendingSettings.of(team).opt_out_wording
    return RepliesForm(sender=sender_name(team), team_wording=wording, **kwargs)


def _reply_text(form: RepliesForm, name: str) -> policy.ReplyText:
    """The text `name` as the form holds it, ready to preview."""
    return policy.reply_text(name, form[name].data, form.sender, form.team_wording)


def _replies_page(form: RepliesForm, settings: policy.ReplySettings, status: int = 200):
    """Settings > Replies with `form` (kept with its errors) and the saved settings."""
    return render_template(
        "settings/replies.html",
        form=form,
        settings=settings,
        texts=[_reply_text(form, name) for name in policy.REPLY_TEXT_DEFAULTS],
        claude_configured=bool(current_app.config.get("ANTHROPIC_API_KEY")),
        opt_out_segments=policy.OPT_OUT_CONFIRMATION_SEGMENTS,
        working_hours=policy.WORKING_HOURS,
        team_zone=timezones.zone_label(timezones.team_zone_name(current_user.team)),
    ), status


from console.settings import pipeline  # noqa: E402, F401 - Settings > Pipeline joins bp
