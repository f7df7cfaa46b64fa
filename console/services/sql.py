"""SQL both databases speak, where SQLAlchemy spells it per dialect."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session):
    """The session's dialect's `insert`, which has `on_conflict_do_nothing` (PostgreSQL
    and SQLite alike), so one statement stores a row once however many race to."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
