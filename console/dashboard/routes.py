"""The dashboard: the team's headline numbers."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template
from flask_login import current_user, login_required

from console.extensions import db
from console.models import Role
from console.models.base import utcnow
from console.services.dashboard import team_dashboard
from console.services.deals import agenda
from console.web import home_url

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index():
    """Counts of leads, reachable owners, verified mobiles and work in progress; a
    reviewer, whose work is the inbox, is sent there."""
    if not current_user.can(Role.OPERATOR):
        return redirect(home_url(current_user))
    return render_template(
        "dashboard/index.html",
        dashboard=team_dashboard(db.session, current_user.team_id),
        due_rows=agenda.due_today(db.session, current_user, utcnow()),
    )
