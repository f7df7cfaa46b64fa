"""A team's pipelines, their stages and its lost reasons: the defaults every team starts
with, and the lookups the board, the deal page and conversions share.

A team gets its default pipeline the first time anything asks for one, so a team made
anywhere (sign-up, CLI, tests) has a pipeline to convert into.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import LostReason, Pipeline, PipelineStage
from console.services.numbers import whole_number

DEFAULT_PIPELINE = "Deals"


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    stale_days: int | None
    required: tuple[str, ...] = ()
    outcome: str = "open"


# Brokers' and buyers' usual stages; a value is asked for from the LOI on, an expected
# close from due diligence, and Won and Lost ask for the outcome's fields.
DEFAULT_STAGES: tuple[StageSpec, ...] = (
    StageSpec("Discovery", 10, 14),
    StageSpec("Qualified", 20, 14),
    StageSpec("Valuation", 35, 21),
    StageSpec("LOI", 60, 21, ("value",)),
    StageSpec("Due diligence", 75, 30, ("value", "expected_close")),
    StageSpec("Closing", 90, 14, ("value", "expected_close")),
    StageSpec("Won", 100, None, ("value",), "won"),
    StageSpec("Lost", 0, None, ("lost_reason",), "lost"),
)
DEFAULT_LOST_REASONS = (
    "Not selling",
    "Price gap",
    "Sold to another buyer",
    "Went silent",
    "Financing fell through",
    "Failed diligence",
    "Other",
)


def add_pipeline(
    session: Session, team_id: int, name: str, stages: tuple[StageSpec, ...] = DEFAULT_STAGES
) -> Pipeline:
    """A new pipeline of the team, last in order, with `stages`."""
    position = session.scalar(
        select(Pipeline.position)
        .where(Pipeline.team_id == team_id)
        .order_by(Pipeline.position.desc())
        .limit(1)
    )
    pipeline = Pipeline(team_id=team_id, name=name, position=(position or 0) + 1)
    session.add(pipeline)
    session.flush()
    for position, spec in enumerate(stages, start=1):
        session.add(
            PipelineStage(
                team_id=team_id,
                pipeline_id=pipeline.id,
                name=spec.name,
                position=position,
                probability=spec.probability,
                stale_days=spec.stale_days,
                required_fields=list(spec.required),
                outcome=spec.outcome,
            )
        )
    session.flush()
    return pipeline


def ensure_pipelines(session: Session, team_id: int) -> list[Pipeline]:
    """The team's pipelines in order; the default one (and the default lost reasons) are
    made first when it has none."""
    found = pipelines_of(session, team_id)
    if found:
        return found
    add_pipeline(session, team_id, DEFAULT_PIPELINE)
    if session.scalar(select(LostReason.id).where(LostReason.team_id == team_id)) is None:
        for position, name in enumerate(DEFAULT_LOST_REASONS, start=1):
            session.add(LostReason(team_id=team_id, name=name, position=position))
        session.flush()
    return pipelines_of(session, team_id)


def pipelines_of(session: Session, team_id: int) -> list[Pipeline]:
    """The team's pipelines in their order."""
    return list(
        session.scalars(
            select(Pipeline)
            .where(Pipeline.team_id == team_id)
            .order_by(Pipeline.position, Pipeline.id)
        )
    )


def default_pipeline(session: Session, team_id: int) -> Pipeline:
    """The team's first pipeline (made when it has none)."""
    return ensure_pipelines(session, team_id)[0]


def pipeline_of(session: Session, team_id: int, pipeline_id: int | str | None) -> Pipeline | None:
    """The team's pipeline `pipeline_id` (as typed in a form or a link); None when it is
    not a number the database holds, another team's, or gone."""
    wanted = whole_number(pipeline_id)
    if wanted is None:
        return None
    return session.scalar(
        select(Pipeline).where(Pipeline.id == wanted, Pipeline.team_id == team_id)
    )


def stages_of(session: Session, pipeline_id: int) -> list[PipelineStage]:
    """A pipeline's stages in order."""
    return list(
        session.scalars(
            select(PipelineStage)
            .where(PipelineStage.pipeline_id == pipeline_id)
            .order_by(PipelineStage.position, PipelineStage.id)
        )
    )


def stage_of(session: Session, team_id: int, stage_id: int | str | None) -> PipelineStage | None:
    """The team's stage `stage_id` (as typed in a form); None when it is not one (past
    the database's range among them)."""
    wanted = whole_number(stage_id)
    if wanted is None:
        return None
    return session.scalar(
        select(PipelineStage).where(PipelineStage.id == wanted, PipelineStage.team_id == team_id)
    )


def open_stages(session: Session, pipeline_id: int) -> list[PipelineStage]:
    """The stages of a pipeline a deal can be open in, in order."""
    return [stage for stage in stages_of(session, pipeline_id) if stage.is_open]


def first_open_stage(session: Session, pipeline_id: int) -> PipelineStage:
    """Where a new deal starts unless told otherwise: the pipeline's first open stage."""
    stages = open_stages(session, pipeline_id)
    if not stages:
        raise LookupError(f"pipeline {pipeline_id} has no open stage")
    return stages[0]


def lost_reasons(session: Session, team_id: int, *, active_only: bool = True) -> list[LostReason]:
    """The team's lost reasons in their order (only those still offered, by default)."""
    query = select(LostReason).where(LostReason.team_id == team_id)
    if active_only:
        query = query.where(LostReason.active.is_(True))
    return list(session.scalars(query.order_by(LostReason.position, LostReason.id)))


def open_stage_groups(session: Session, team_id: int) -> list[tuple[str, list[PipelineStage]]]:
    """Each pipeline's name with its open stages, for a select that picks where a new
    deal starts (one optgroup a pipeline)."""
    return [
        (pipeline.name, open_stages(session, pipeline.id))
        for pipeline in ensure_pipelines(session, team_id)
    ]
