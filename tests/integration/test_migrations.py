"""Every migration upgrades from empty, matches the models, and downgrades to empty."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from tests import servers

CORE_TABLES = {
    "teams",
    "users",
    "businesses",
    "owners",
    "phones",
    "emails",
    "leads",
    "suppressions",
    "consent_events",
    "audit_events",
    "job_runs",
    "login_attempts",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_app(request, tmp_path):
    """An app on a database with no tables at all."""
    config = TestConfig()
    if request.param == "postgres":
        admin = request.getfixturevalue("postgres_admin_url")
        url = servers.create_database(admin, "console_migrations")
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(url)
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrations.db'}"
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_matches_the_models_and_downgrade_empties(empty_app):
    assert _tables() == set()
    upgrade()
    assert _tables() >= CORE_TABLES
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()  # and up again, as a deploy after a rollback would
    assert _tables() >= CORE_TABLES


def test_0008_leaves_each_shared_sender_address_with_the_first_team(empty_app):
    upgrade(revision="0007_reading_attempts")
    now = "2026-01-01 00:00:00+00:00"
    with db.engine.begin() as conn:
        for team_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO teams (id, name, slug, is_demo, lead_seq, settings, created_at,"
                    " updated_at) VALUES (:id, :name, :name, false, 0, '{}', :now, :now)"
                ),
                {"id": team_id, "name": f"team-{team_id}", "now": now},
            )
        senders = [
            (1, 2, "+15125550100", True),  # the sandbox number, on two teams
            (2, 1, "+15125550100", True),
            (3, 2, "+15125550142", False),  # a real number, on two teams
            (4, 1, "+15125550142", False),
        ]
        for sender_id, team_id, address, sandbox in senders:
            conn.execute(
                text(
                    "INSERT INTO senders (id, team_id, label, kind, address, mps, daily_cap,"
                    " sandbox, paused, paused_reason, created_at, updated_at) VALUES (:id, :team,"
                    " 'Line', 'number', :address, 1, 0, :sandbox, false, '', :now, :now)"
                ),
                {
                    "id": sender_id,
                    "team": team_id,
                    "address": address,
                    "sandbox": sandbox,
                    "now": now,
                },
            )
    upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, address, paused, paused_reason FROM senders ORDER BY id")
        ).all()
    by_id = {row.id: row for row in rows}
    assert by_id[2].address == "+15125550100" and by_id[4].address == "+15125550142"
    assert by_id[1].address == "+15125550101" and not by_id[1].paused
    assert by_id[3].address == "released-3" and by_id[3].paused
    assert "+15125550142" in by_id[3].paused_reason
    assert len({row.address for row in rows}) == 4
