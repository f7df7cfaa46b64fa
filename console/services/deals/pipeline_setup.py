"""Settings > Pipeline: an admin's edits to the team's pipelines, their stages and its
lost reasons, each checked against the rules that keep the board working, and audited.

The rules: names are unique within their list (whatever the case); the team keeps at
least one pipeline, and each pipeline an open, a won and a lost stage; a lost stage always
asks for a lost reason, and only a lost stage does; a pipeline holding deals is not
deleted, nor a stage until its deals are moved to another stage of the same outcome (each
moved through `move_deal`, so each gets its history row, noted "stage deleted").
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import Deal, LostReason, Pipeline, PipelineStage, User
from console.models.deals import OUTCOMES, REQUIRABLE
from console.services import audit
from console.services.deals import pipelines
from console.services.deals.moves import MoveFields, missing_fields, move_deal

NAME_MAX = 80
REASON_MAX = 120
STALE_DAYS_MAX = 3650
# The note on the history row of a deal moved off a stage being deleted.
STAGE_DELETED_NOTE = "stage deleted"


class SetupRefused(ValueError):
    """An edit that would break a rule; the message says which, `field` names the form
    field it is about ("" when it is about the whole edit)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class StageFields:
    """A stage as an admin typed it."""

    name: str
    probability: int = 0
    stale_days: int | None = None
    required: Sequence[str] = field(default_factory=list)
    outcome: str = "open"


# ------------------------------------------------------------------------- reading


def deal_counts(session: Session, team_id: int) -> dict[int, int]:
    """How many deals (open or closed) each of the team's stages holds, by stage id."""
    rows = session.execute(
        select(Deal.stage_id, func.count(Deal.id))
        .where(Deal.team_id == team_id)
        .group_by(Deal.stage_id)
    )
    return {stage_id: count for stage_id, count in rows}


def pipeline_deal_counts(session: Session, team_id: int) -> dict[int, int]:
    """How many deals each of the team's pipelines holds, by pipeline id."""
    rows = session.execute(
        select(Deal.pipeline_id, func.count(Deal.id))
        .where(Deal.team_id == team_id)
        .group_by(Deal.pipeline_id)
    )
    return {pipeline_id: count for pipeline_id, count in rows}


def lost_reason_uses(session: Session, team_id: int) -> dict[int, int]:
    """How many deals were lost for each of the team's reasons, by reason id."""
    rows = session.execute(
        select(Deal.lost_reason_id, func.count(Deal.id))
        .where(Deal.team_id == team_id, Deal.lost_reason_id.is_not(None))
        .group_by(Deal.lost_reason_id)
    )
    return {reason_id: count for reason_id, count in rows}


def move_targets(session: Session, stage: PipelineStage) -> list[PipelineStage]:
    """Where the deals of `stage` may go when it is deleted: the other stages of its
    pipeline with the same outcome, so no deal is won, lost or reopened by a setting."""
    return [
        other
        for other in pipelines.stages_of(session, stage.pipeline_id)
        if other.id != stage.id and other.outcome == stage.outcome
    ]


def stage_facts(stage: PipelineStage) -> dict:
    """A stage's settings, for the audit trail."""
    return {
        "name": stage.name,
        "position": stage.position,
        "probability": stage.probability,
        "stale_days": stage.stale_days,
        "required": list(stage.required_fields or []),
        "outcome": stage.outcome,
    }


# ----------------------------------------------------------------------- pipelines


def add_pipeline(session: Session, actor: User, name: str) -> Pipeline:
    """A new pipeline of the actor's team, last in order, with the default stages."""
    pipelines.ensure_pipelines(session, actor.team_id)
    name = _name(name, "pipeline")
    _unique(name, [p.name for p in pipelines.pipelines_of(session, actor.team_id)], "pipeline")
    pipeline = pipelines.add_pipeline(session, actor.team_id, name)
    stages = [stage.name for stage in pipelines.stages_of(session, pipeline.id)]
    _audit(session, actor, "pipeline.added", pipeline, None, {"name": name, "stages": stages})
    return pipeline


def rename_pipeline(session: Session, actor: User, pipeline: Pipeline, name: str) -> None:
    """Give `pipeline` a new name, unique among the team's pipelines."""
    name = _name(name, "pipeline")
    others = [p.name for p in pipelines.pipelines_of(session, actor.team_id) if p.id != pipeline.id]
    _unique(name, others, "pipeline")
    before = pipeline.name
    pipeline.name = name
    _audit(session, actor, "pipeline.renamed", pipeline, {"name": before}, {"name": name})


def move_pipeline(session: Session, actor: User, pipeline: Pipeline, step: int) -> None:
    """Move `pipeline` one place earlier (-1) or later (+1) among the team's pipelines."""
    order = pipelines.pipelines_of(session, actor.team_id)
    before = [p.name for p in order]
    _reorder(order, pipeline, step)
    after = [p.name for p in sorted(order, key=lambda p: p.position)]
    if after != before:
        _audit(session, actor, "pipeline.moved", pipeline, {"order": before}, {"order": after})


def delete_pipeline(session: Session, actor: User, pipeline: Pipeline) -> None:
    """Delete a pipeline that holds no deal, with its stages; the team keeps one."""
    held = pipeline_deal_counts(session, actor.team_id).get(pipeline.id, 0)
    if held:
        raise SetupRefused(
            f"{pipeline.name} holds {deals_text(held)}: a pipeline with deals is not deleted. "
            "Move or close them from the board first."
        )
    if len(pipelines.pipelines_of(session, actor.team_id)) <= 1:
        raise SetupRefused(
            f"{pipeline.name} is the team's only pipeline: the team keeps at least one. "
            "Add another before deleting this one."
        )
    stages = pipelines.stages_of(session, pipeline.id)
    facts = {"name": pipeline.name, "stages": [stage.name for stage in stages]}
    _audit(session, actor, "pipeline.deleted", pipeline, facts, None)
    for stage in stages:
        session.delete(stage)
    session.flush()
    session.expire(pipeline, ["stages"])  # the stages are gone; none is left to detach
    session.delete(pipeline)
    session.flush()
    _renumber(pipelines.pipelines_of(session, actor.team_id))


# -------------------------------------------------------------------------- stages


def add_stage(
    session: Session,
    actor: User,
    pipeline: Pipeline,
    fields: StageFields,
    after: PipelineStage | None,
) -> PipelineStage:
    """A new stage of `pipeline`, placed right after `after` (first when None)."""
    stages = pipelines.stages_of(session, pipeline.id)
    if after is not None and after.pipeline_id != pipeline.id:
        raise SetupRefused("Place the stage after one of this pipeline's stages.", "after")
    values = _stage_values(fields, [stage.name for stage in stages])
    stage = PipelineStage(team_id=pipeline.team_id, pipeline_id=pipeline.id, **values)
    session.add(stage)
    index = stages.index(after) + 1 if after is not None else 0
    stages.insert(index, stage)
    _renumber(stages)
    session.flush()
    _audit(session, actor, "stage.added", stage, None, _with_pipeline(stage, pipeline))
    return stage


def update_stage(session: Session, actor: User, stage: PipelineStage, fields: StageFields) -> None:
    """Save a stage's name, probability, stale days, required fields and outcome."""
    stages = pipelines.stages_of(session, stage.pipeline_id)
    values = _stage_values(fields, [other.name for other in stages if other.id != stage.id])
    if values["outcome"] != stage.outcome:
        held = deal_counts(session, stage.team_id).get(stage.id, 0)
        if held:
            raise SetupRefused(
                f"{stage.name} holds {deals_text(held)}: its outcome stays "
                f"{OUTCOMES[stage.outcome].lower()} until they are moved to another stage.",
                "outcome",
            )
        _check_outcomes([values["outcome"] if s.id == stage.id else s.outcome for s in stages])
    before = stage_facts(stage)
    for name, value in values.items():
        setattr(stage, name, value)
    session.flush()
    after = stage_facts(stage)
    if after != before:
        _audit(session, actor, "stage.updated", stage, before, after)


def move_stage(session: Session, actor: User, stage: PipelineStage, step: int) -> None:
    """Move a stage one place earlier (-1) or later (+1) in its pipeline."""
    order = pipelines.stages_of(session, stage.pipeline_id)
    before = [s.name for s in order]
    _reorder(order, stage, step)
    after = [s.name for s in sorted(order, key=lambda s: s.position)]
    if after != before:
        _audit(session, actor, "stage.moved", stage, {"order": before}, {"order": after})


def delete_stage(
    session: Session,
    actor: User,
    stage: PipelineStage,
    move_to: PipelineStage | None = None,
    *,
    now: datetime | None = None,
    zone: str = "UTC",
) -> int:
    """Delete a stage; its deals first go to `move_to` (another stage of its pipeline with
    the same outcome), each through `move_deal` with its history row. The number of deals
    moved. SetupRefused when the stage holds deals and `move_to` is None or unfit, when a
    deal lacks a field `move_to` requires, or when the pipeline would lose its last open,
    won or lost stage."""
    stages = pipelines.stages_of(session, stage.pipeline_id)
    _check_outcomes([s.outcome for s in stages if s.id != stage.id])
    deals = list(
        session.scalars(
            select(Deal).where(Deal.team_id == stage.team_id, Deal.stage_id == stage.id)
        )
    )
    if deals:
        _check_move_to(stage, move_to, len(deals))
        moves = [(deal, _keeping_outcome(deal)) for deal in deals]
        _check_fields(moves, move_to)
        for deal, fields in moves:
            move_deal(
                session,
                deal,
                move_to,
                actor,
                seen_stage_id=stage.id,
                fields=fields,
                now=now,
                zone=zone,
            )
    facts = _with_pipeline(stage, stage.pipeline)
    after = {"moved_deals": len(deals), "to": move_to.name} if deals else None
    _audit(session, actor, "stage.deleted", stage, facts, after)
    session.delete(stage)
    session.flush()
    _renumber(pipelines.stages_of(session, stage.pipeline_id))
    return len(deals)


def _check_move_to(stage: PipelineStage, move_to: PipelineStage | None, held: int) -> None:
    """Refuse deleting a stage with deals unless they go to a stage of the same outcome."""
    if move_to is None:
        raise SetupRefused(
            f"{stage.name} holds {deals_text(held)}: pick the stage they move to, then delete it.",
            "move_to",
        )
    if (
        move_to.id == stage.id
        or move_to.pipeline_id != stage.pipeline_id
        or move_to.outcome != stage.outcome
    ):
        raise SetupRefused(
            f"The deals of {stage.name} move to another {OUTCOMES[stage.outcome].lower()} "
            "stage of the same pipeline.",
            "move_to",
        )


def _keeping_outcome(deal: Deal) -> MoveFields:
    """A move's fields that keep what a closed deal recorded (its close date, its lost
    reason and note), noted as the deletion of its stage."""
    return MoveFields(
        closed_on=deal.closed_on,
        lost_reason_id=deal.lost_reason_id,
        lost_note=deal.lost_note or "",
        note=STAGE_DELETED_NOTE,
    )


def _check_fields(moves: list[tuple[Deal, MoveFields]], move_to: PipelineStage) -> None:
    """Refuse when a deal lacks a field `move_to` requires on entry, before any moves."""
    lacking: dict[str, int] = {}
    for deal, fields in moves:
        for key in missing_fields(deal, move_to, fields):
            lacking[key] = lacking.get(key, 0) + 1
    if lacking:
        missing = ", ".join(
            f"{deals_text(count)} without a {REQUIRABLE[key].lower()}"
            for key, count in lacking.items()
        )
        raise SetupRefused(
            f"{move_to.name} asks for fields some deals lack ({missing}): give them from "
            "the board first, or pick another stage.",
            "move_to",
        )


def _stage_values(fields: StageFields, other_names: list[str]) -> dict:
    """The stage's columns from `fields`, checked; SetupRefused names the field at fault."""
    name = _name(fields.name, "stage")
    _unique(name, other_names, "stage", "in this pipeline")
    if fields.outcome not in OUTCOMES:
        raise SetupRefused("Choose open, won or lost.", "outcome")
    if not 0 <= fields.probability <= 100:
        raise SetupRefused("Give a probability from 0 to 100.", "probability")
    if fields.stale_days is not None and not 1 <= fields.stale_days <= STALE_DAYS_MAX:
        raise SetupRefused(
            f"Give 1 to {STALE_DAYS_MAX} days, or leave it blank for never.", "stale_days"
        )
    unknown = set(fields.required) - set(REQUIRABLE)
    if unknown:
        raise SetupRefused("Choose among the fields listed.", "required")
    required = set(fields.required)
    if fields.outcome == "lost":
        required.add("lost_reason")
    elif "lost_reason" in required:
        raise SetupRefused("Only a lost stage asks for a lost reason.", "required")
    return {
        "name": name,
        "probability": fields.probability,
        "stale_days": fields.stale_days,
        "required_fields": [key for key in REQUIRABLE if key in required],
        "outcome": fields.outcome,
    }


def _check_outcomes(outcomes: list[str]) -> None:
    """Refuse a pipeline left without an open, a won or a lost stage."""
    for outcome, label in OUTCOMES.items():
        if outcome not in outcomes:
            raise SetupRefused(
                f"A pipeline keeps at least one {label.lower()} stage: "
                f"add another {label.lower()} stage first.",
                "outcome",
            )


def _with_pipeline(stage: PipelineStage, pipeline: Pipeline) -> dict:
    return {"pipeline": pipeline.name, **stage_facts(stage)}


# -------------------------------------------------------------------- lost reasons


def add_lost_reason(session: Session, actor: User, name: str) -> LostReason:
    """A new lost reason of the team, last in order and offered at once."""
    pipelines.ensure_pipelines(session, actor.team_id)
    name = _name(name, "reason", REASON_MAX)
    reasons = pipelines.lost_reasons(session, actor.team_id, active_only=False)
    _unique(name, [r.name for r in reasons], "reason")
    reason = LostReason(
        team_id=actor.team_id, name=name, position=max((r.position for r in reasons), default=0) + 1
    )
    session.add(reason)
    session.flush()
    _audit(session, actor, "lost_reason.added", reason, None, {"name": name})
    return reason


def rename_lost_reason(session: Session, actor: User, reason: LostReason, name: str) -> None:
    """Give a reason a new name; the deals lost for it show the new one."""
    name = _name(name, "reason", REASON_MAX)
    reasons = pipelines.lost_reasons(session, actor.team_id, active_only=False)
    _unique(name, [r.name for r in reasons if r.id != reason.id], "reason")
    before = reason.name
    reason.name = name
    _audit(session, actor, "lost_reason.renamed", reason, {"name": before}, {"name": name})


def move_lost_reason(session: Session, actor: User, reason: LostReason, step: int) -> None:
    """Move a reason one place earlier (-1) or later (+1) in the team's list."""
    order = pipelines.lost_reasons(session, actor.team_id, active_only=False)
    before = [r.name for r in order]
    _reorder(order, reason, step)
    after = [r.name for r in sorted(order, key=lambda r: r.position)]
    if after != before:
        _audit(session, actor, "lost_reason.moved", reason, {"order": before}, {"order": after})


def set_lost_reason_active(session: Session, actor: User, reason: LostReason, active: bool) -> None:
    """Retire a reason (no longer offered; the deals lost for it keep it) or restore it."""
    if reason.active == active:
        return
    reason.active = active
    _audit(
        session,
        actor,
        "lost_reason.restored" if active else "lost_reason.retired",
        reason,
        {"name": reason.name, "active": not active},
        {"name": reason.name, "active": active},
    )


# ------------------------------------------------------------------------- helpers


def _name(typed: str | None, what: str, longest: int = NAME_MAX) -> str:
    """A typed name without surrounding spaces; SetupRefused when blank or too long."""
    name = " ".join((typed or "").split())
    if not name:
        raise SetupRefused(f"Give the {what} a name.", "name")
    if len(name) > longest:
        raise SetupRefused(f"Keep the {what}'s name to {longest} characters.", "name")
    return name


def _unique(name: str, others: list[str], what: str, where: str = "") -> None:
    """Refuse `name` when another in the list has it, whatever the case."""
    if name.casefold() in {other.casefold() for other in others}:
        place = f" {where}" if where else ""
        raise SetupRefused(f"There is already a {what} called {name}{place}.", "name")


def _reorder(items: list, item, step: int) -> None:
    """Swap `item` with its neighbour `step` away (when there is one) and number them."""
    index = items.index(item)
    other = index + step
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    _renumber(items)


def _renumber(items: list) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def deals_text(count: int) -> str:
    """The count with its noun: 1 deal, 3 deals."""
    return f"{count} deal" if count == 1 else f"{count} deals"


def _audit(session: Session, actor: User, action: str, entity, before, after) -> None:
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.id,
        action=action,
        entity=entity,
        before=before,
        after=after,
    )
