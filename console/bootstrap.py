"""First start of the embedded console: schema, demo team and sample data (leads, inbox
replies and deals)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from console.extensions import db
from console.services import demo
from console.services.tracing import provider_settings

log = logging.getLogger(__name__)


def bootstrap_embedded(app: Flask) -> None:
    """Migrate the SQLite schema to head, create the demo team and load its sample once.

    Queued work left by a previous run of the process is queued again.
    """
    with app.app_context():
        upgrade()
        team = demo.ensure_demo_team(db.session)
        provider_settings.ensure_sandbox(db.session, team)
        demo.prepare_outreach(db.session, team, app.config)
        if not team.settings.get("sample_loaded"):
            counts = demo.seed_sample(db.session, team, Path(app.config["UPLOAD_DIR"]))
            team.settings = {**team.settings, "sample_loaded": True}
            log.warning("Demo team ready: %s sample leads loaded", counts["created"])
        if not team.settings.get("replies_seeded"):
            demo.seed_replies(db.session, team)
            team.settings = {**team.settings, "replies_seeded": True}
        if not team.settings.get("deals_seeded"):
            demo.seed_deals(db.session, team)
            team.settings = {**team.settings, "deals_seeded": True}
        db.session.commit()
        if "console.start_embedded_worker" in app.extensions:
            from jobs.queue import reconcile

            reconcile(db.session, app)
        db.session.remove()
