"""The demo team: one user per role and a shipped sample of fictional businesses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Role, Team, User
from console.services import accounts, imports
from console.services.tenancy import of_team

DEMO_TEAM_NAME = "Demo Brokerage"
DEMO_PASSWORD = "demo-console"
DEMO_USERS: tuple[tuple[Role, str, str], ...] = (
    (Role.ADMIN, "admin@demo.example.com", "Ada Admin"),
    (Role.MANAGER, "manager@demo.example.com", "Morgan Manager"),
    (Role.OPERATOR, "operator@demo.example.com", "Oli Operator"),
    (Role.REVIEWER, "reviewer@demo.example.com", "Riley Reviewer"),
)
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "demo" / "sample_businesses.csv"


def ensure_demo_team(session: Session, hash_method: str = accounts.DEFAULT_HASH_METHOD) -> Team:
    """The demo team with one user per role, created on first call."""
    team = accounts.get_or_create_team(session, DEMO_TEAM_NAME, is_demo=True)
    existing = set(session.scalars(select(User.email).where(of_team(User, team.id))))
    for role, email, name in DEMO_USERS:
        if email not in existing:
            accounts.create_user(
                session,
                team,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                name=name,
                hash_method=hash_method,
            )
    return team


def prepare_outreach(session: Session, team: Team, config: Mapping) -> None:
    """The demo team's template library and a sender (the sandbox number when embedded)."""
    from console.services import outreach, templates

    templates.seed_if_empty(session, team)
    outreach.ensure_default_sender(session, team, config)


def seed_sample(
    session: Session,
    team: Team,
    upload_dir: Path,
    path: Path = SAMPLE_FILE,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Import the sample businesses into `team` through the ordinary import pipeline.

    Rows loaded before resolve to the leads they made (the same-row rule), so nothing
    is created twice. `progress(done, total)` is called after each chunk.
    """

    def report(job, _result) -> None:
        if progress is not None:
            progress(job.rows_done, job.total_rows or 0)

    job = imports.import_file(
        session,
        team_id=team.id,
        source=path,
        upload_dir=upload_dir,
        tags=["demo"],
        on_chunk=report,
    )
    counts = job.counts
    return {
        "rows": counts.get("rows", 0),
        "created": counts.get("created", 0),
        "skipped": counts.get("merged", 0),
        "rejected": counts.get("rejected", 0),
    }
