"""The template library: list and export, the editor with its live measure and preview,
duplicate, archive and restore, and each template's A/B results."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console.extensions import db
from console.library.forms import VARIANT_FIELDS, TemplateForm
from console.models import Lead, MessageTemplate, Role
from console.models.base import utcnow
from console.models.campaigns import PERSONAS, TEMPLATE_CATEGORIES
from console.services.campaigns import segments, templates
from console.services.campaigns.template_library import VERTICALS
from console.services.campaigns.tokens import OPT_OUT_DEFAULT, TOKENS
from console.services.sending.policy import SendingSettings
from console.web import csv_download, render, roles_required, team_get_or_404

bp = Blueprint("library", __name__, url_prefix="/templates")
_FILTER_ARGS = ("persona", "category", "q", "archived")


def _filters(args) -> dict:
    """The library's filters from a query string, unknown choices dropped."""
    persona, category = args.get("persona", ""), args.get("category", "")
    return {
        "persona": persona if persona in PERSONAS else "",
        "category": category if category in TEMPLATE_CATEGORIES else "",
        "q": args.get("q", "").strip()[:100],
        "include_archived": args.get("archived") == "1",
    }


def _summaries(filters: dict) -> list[templates.Summary]:
    team = current_user.team
    return templates.summarize(team, templates.team_templates(db.session, team.id, **filters))


@bp.get("/")
@roles_required(Role.OPERATOR)
def index():
    """The team's templates by persona and category; seeded on the team's first visit."""
    if templates.seed_if_empty(db.session, current_user.team):
        db.session.commit()
    filters = _filters(request.args)
    summaries = _summaries(filters)
    return render(
        "library/index.html",
        "library/_list.html",
        groups=templates.grouped(summaries),
        total=len(summaries),
        filters=filters,
        export_args={k: v for k, v in request.args.items() if k in _FILTER_ARGS and v},
        personas=PERSONAS,
        categories=TEMPLATE_CATEGORIES,
        verticals=VERTICALS,
        touches=templates.TOUCHES,
    )


@bp.get("/export.csv")
@roles_required(Role.OPERATOR)
def export():
    """The library, with the same filters, as CSV."""
    summaries = _summaries(_filters(request.args))
    return csv_download(
        f"templates-{utcnow():%Y%m%d-%H%M}.csv",
        templates.EXPORT_COLUMNS,
        [templates.export_row(s) for s in summaries],
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def new():
    """Write a new template."""
    return _editor(TemplateForm(), None)


@bp.route("/<int:template_id>", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def show(template_id: int):
    """A template: its editor, and how each variant did."""
    template = team_get_or_404(MessageTemplate, template_id)
    return _editor(TemplateForm.of(template), template)


def _editor(form: TemplateForm, template: MessageTemplate | None):
    """The editor page; a post saves, adds or removes a variant, or changes the preview lead."""
    action, extra, status = request.form.get("action", "save"), 0, 200
    if form.is_submitted() and not form.validate():
        status = 422
    elif form.is_submitted() and action == "add_variant":
        extra = 1
    elif form.is_submitted() and action.startswith("remove_"):
        form.remove_variant(action.removeprefix("remove_"))
    elif form.is_submitted() and action == "save":
        try:
            saved = templates.save_template(
                db.session, current_user.team, form.values(), current_user, template
            )
        except templates.TemplateInvalid as invalid:
            _show_errors(form, invalid.errors)
            status = 422
        else:
            db.session.commit()
            flash(f"Template '{saved.name}' saved.", "success")
            return redirect(url_for("library.show", template_id=saved.id))
    return render_template("library/edit.html", **_editor_context(form, template, extra)), status


def _show_errors(form: TemplateForm, errors: dict[str, list[str]]) -> None:
    """Put the service's errors on the form; a body's problems show under it already."""
    for key, messages in errors.items():
        if key in form and key not in VARIANT_FIELDS.values():
            form[key].errors = [*form[key].errors, *messages]
    flash("Not saved: fix what is marked below.", "error")


def _editor_context(form: TemplateForm, template: MessageTemplate | None, extra: int) -> dict:
    team = current_user.team
    code = form.lead_code.data or request.args.get("lead", "")
    lead, lead_note = templates.preview_lead(db.session, team.id, code)
    if lead is not None and not form.lead_code.data:
        form.lead_code.data = lead.code
    letters = form.shown_letters(extra)
    bodies = form.bodies()
    return {
        "form": form,
        "template": template,
        "letters": letters,
        "fields": VARIANT_FIELDS,
        "can_add": len(letters) < templates.MAX_VARIANTS,
        "reports": {
            letter: templates.editor_report(
                db.session, team, bodies[letter], form.touch.data, lead, current_user
            )
            for letter in letters
        },
        "lead": lead,
        "lead_note": lead_note,
        "stats": templates.template_stats(db.session, template) if template else None,
        **_help_context(),
    }


def _help_context() -> dict:
    return {
        "tokens": TOKENS,
        "opt_out_wording": SendingSettings.of(current_user.team).opt_out_wording or OPT_OUT_DEFAULT,
    }


def _posted_body() -> tuple[str, str]:
    """The variant letter an htmx request is about, and its body as posted."""
    letter = request.form.get("variant", "")
    if letter not in VARIANT_FIELDS:
        abort(400)
    return letter, request.form.get(VARIANT_FIELDS[letter], "")


def _report(body: str) -> tuple[templates.BodyReport, Lead | None]:
    team = current_user.team
    lead, _ = templates.preview_lead(db.session, team.id, request.form.get("lead_code", ""))
    touch = request.form.get("touch", "first")
    return templates.editor_report(db.session, team, body, touch, lead, current_user), lead


@bp.post("/measure")
@roles_required(Role.OPERATOR)
def measure():
    """The measure, problems and preview of one body as typed (htmx)."""
    letter, body = _posted_body()
    report, lead = _report(body)
    return render_template("library/_measure.html", letter=letter, report=report, lead=lead)


@bp.post("/plain")
@roles_required(Role.OPERATOR)
def plain():
    """One body with smart quotes and dashes made plain, re-measured (htmx)."""
    letter, body = _posted_body()
    form = TemplateForm()
    form[VARIANT_FIELDS[letter]].data = segments.plain(body)
    report, lead = _report(form[VARIANT_FIELDS[letter]].data)
    return render_template(
        "library/_body.html",
        form=form,
        letter=letter,
        fields=VARIANT_FIELDS,
        report=report,
        lead=lead,
    )


@bp.post("/<int:template_id>/duplicate")
@roles_required(Role.OPERATOR)
def duplicate(template_id: int):
    """Copy a template, to edit the copy."""
    copy = templates.duplicate(
        db.session, team_get_or_404(MessageTemplate, template_id), current_user
    )
    db.session.commit()
    flash(f"Copied as '{copy.name}'.", "success")
    return redirect(url_for("library.show", template_id=copy.id))


@bp.post("/<int:template_id>/archive")
@roles_required(Role.OPERATOR)
def archive(template_id: int):
    """Take a template out of the library and the campaign builder."""
    template = team_get_or_404(MessageTemplate, template_id)
    templates.archive(db.session, template, current_user)
    db.session.commit()
    flash(f"Template '{template.name}' archived.", "success")
    return redirect(url_for("library.show", template_id=template.id))


@bp.post("/<int:template_id>/restore")
@roles_required(Role.OPERATOR)
def restore(template_id: int):
    """Bring an archived template back."""
    template = team_get_or_404(MessageTemplate, template_id)
    templates.restore(db.session, template, current_user)
    db.session.commit()
    flash(f"Template '{template.name}' restored.", "success")
    return redirect(url_for("library.show", template_id=template.id))


@bp.get("/<int:template_id>/stats.csv")
@roles_required(Role.OPERATOR)
def stats_export(template_id: int):
    """A template's A/B results per variant, with the total, as CSV."""
    stats = templates.template_stats(db.session, team_get_or_404(MessageTemplate, template_id))
    return csv_download(
        f"template-{template_id}-ab.csv",
        templates.STATS_COLUMNS,
        [templates.stats_row(v) for v in (*stats.variants, stats.total)],
    )
