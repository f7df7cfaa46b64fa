"""Deals in the background: the daily stale sweep of each team, started by the ticker.

The ticker asks every round; a team is swept once on each of its days (its own zone's
date), the day recorded in the team's settings before the run is queued, so a restart or
a second worker does not sweep it twice. The sweep itself is a job run ("Mark stale
deals" on the Jobs page), idempotent, found again by the reconciler if Redis loses it.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from console.models.base import utcnow
from console.services.deals import staleness
from jobs.queue import start

TITLE = "Mark stale deals"


def tick(app: Flask, session: Session, now: datetime | None = None) -> int:
    """The ticker's share: queue the day's stale sweep of every team not yet swept on
    its day at `now`; how many were queued."""
    now = now or utcnow()
    queued = 0
    for team in staleness.teams_to_sweep(session, now):
        day = staleness.team_day(team, now).isoformat()
        staleness.mark_swept(team, now)
        session.commit()
        start(kind="mark_stale", title=f"{TITLE}, {day}", team_id=team.id, started_by_id=None)
        queued += 1
    return queued
