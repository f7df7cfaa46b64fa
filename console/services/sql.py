"""SQL both databases speak, where SQLAlchemy spells it per dialect."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session):
    """The session's dialect's `insert`, which has `on_conflict_do_nothing` (PostgreSQL
    and SQLite alike), so one statement stores a row once however many race to."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def without_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of the transaction: a report's
    statement over CTEs (whose rows the planner cannot estimate) is costed high enough
    to be compiled, and compiling takes longer than running it. SQLite has none."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
