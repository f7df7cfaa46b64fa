"""Deals in the background: the daily stale sweep of each team, started by the ticker.

The ticker asks every round; a team is swept once on each of its days (its own zone's
date). The sweep is a job run ("Mark stale deals" on the Jobs page) and that row is the
record of the day: a restart or another worker finds it and does not sweep again, and
the reconciler queues it again if Redis loses it. The sweep itself is idempotent.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from console.models.base import utcnow
from console.services import jobruns
from console.services.deals import staleness
from jobs.queue import enqueue

TITLE = "Mark stale deals"


def tick(app: Flask, session: Session, now: datetime | None = None) -> int:
    """The ticker's share: queue the day's stale sweep of every team not yet swept on
    its day at `now`; how many were queued."""
    now = now or utcnow()
    queued = 0
    for team in staleness.teams_to_sweep(session, now):
        day = staleness.team_day(team, now).isoformat()
        run = jobruns.create_run(
            session, team_id=team.id, kind=staleness.SWEEP_KIND, title=f"{TITLE}, {day}"
        )
        run.created_at = now  # the day it sweeps is read from this, on the ticker's clock
        session.commit()
        enqueue(run, app)
        queued += 1
    return queued
