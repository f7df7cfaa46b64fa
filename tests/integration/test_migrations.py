"""Every migration upgrades from empty, matches the models, and downgrades to empty."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
