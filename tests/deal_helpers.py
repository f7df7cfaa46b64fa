"""Deals for tests: a team's stages by name, and a deal placed in one."""

from __future__ import annotations

from datetime import datetime

from console.extensions import db
from console.models import Deal, DealStageHistory, Lead, PipelineStage
from console.services.deals import pipelines


def stage_named(team_id: int, name: str, pipeline: str | None = None) -> PipelineStage:
    """The team's stage called `name` (in `pipeline`, else its first pipeline)."""
    for found in pipelines.ensure_pipelines(db.session, team_id):
        if pipeline is None or found.name == pipeline:
            for stage in pipelines.stages_of(db.session, found.id):
                if stage.name == name:
                    return stage
            if pipeline is None:
                break
    raise LookupError(f"no stage {name!r} in team {team_id}'s pipeline {pipeline!r}")


def stage_id(team_id: int, name: str, pipeline: str | None = None) -> int:
    """The id of the team's stage called `name`, as forms post it."""
    return stage_named(team_id, name, pipeline).id


def make_deal(
    team_id: int,
    lead: Lead | None,
    stage: str = "Discovery",
    *,
    title: str | None = None,
    at: datetime | None = None,
    pipeline: str | None = None,
    history: bool = True,
    **fields,
) -> Deal:
    """A deal of the lead in the stage called `stage`, entered `at`, with its opening
    history row unless `history` is False. Flushed, not committed."""
    placed = stage_named(team_id, stage, pipeline)
    extra = {"stage_at": at, "created_at": at, "last_touch_at": at} if at else {}
    deal = Deal(
        team_id=team_id,
        title=title or (lead.business.name if lead and lead.business else "Deal"),
        lead_id=lead.id if lead else None,
        pipeline_id=placed.pipeline_id,
        stage_id=placed.id,
        **(extra | fields),
    )
    db.session.add(deal)
    db.session.flush()
    if history:
        db.session.add(
            DealStageHistory(
                team_id=team_id,
                deal_id=deal.id,
                to_stage_id=placed.id,
                to_stage=placed.name,
                **({"at": at} if at else {}),
            )
        )
        db.session.flush()
    return deal
