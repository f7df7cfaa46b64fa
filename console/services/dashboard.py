"""The figures on the dashboard, counted from the tables, never invented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from console.models import JobRun, Lead, Phone, Suppression
from console.models.base import utcnow
from console.services.lists.leads import LeadFilters, filtered_leads, status_counts
from console.services.tenancy import of_team


@dataclass(frozen=True)
class Tile:
    """One headline number with its label and a hint of what it counts."""

    label: str
    value: int
    hint: str


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one team."""

    tiles: list[Tile]
    statuses: dict[str, int]
    running_jobs: list[JobRun]

    @property
    def total_leads(self) -> int:
        """All leads, the sum of the status table."""
        return sum(self.statuses.values())


def team_dashboard(session: Session, team_id: int) -> Dashboard:
    """Count a team's leads, reachable owners, verified mobiles and suppressions."""
    week_ago = utcnow() - timedelta(days=7)
    statuses = status_counts(session, team_id)

    def count(query) -> int:
        return session.scalar(query) or 0

    tiles = [
        Tile("Leads", sum(statuses.values()), "every lead in the team"),
        Tile(
            "New this week",
            count(
                select(func.count(Lead.id)).where(
                    of_team(Lead, team_id), Lead.created_at >= week_ago
                )
            ),
            "leads added in 7 days",
        ),
        Tile(
            "Owners with a mobile",
            count(
                select(func.count(distinct(Phone.owner_id))).where(
                    of_team(Phone, team_id), Phone.kind == "mobile"
                )
            ),
            "owners we could text",
        ),
        Tile(
            "Verified mobiles",
            count(
                select(func.count()).select_from(
                    filtered_leads(team_id, LeadFilters(mobile_verified="yes"))
                    .with_only_columns(Lead.id)
                    .subquery()
                )
            ),
            "leads with a number a line-type check found to be a mobile that takes texts",
        ),
        Tile(
            "Suppressed numbers",
            count(select(func.count(Suppression.id)).where(of_team(Suppression, team_id))),
            "never texted again",
        ),
    ]
    running = list(
        session.scalars(
            select(JobRun)
            .where(of_team(JobRun, team_id), JobRun.status.in_(("queued", "running")))
            .order_by(JobRun.id.desc())
            .limit(5)
        )
    )
    return Dashboard(tiles=tiles, statuses=statuses, running_jobs=running)
