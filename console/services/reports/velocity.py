"""Pipeline velocity: how deals move through one pipeline (Reports > Pipeline velocity).

The pipeline is the one the scope picks, else the team's first. What counts:
- Entering a stage: a row of the deal's stage history into it, in the range (weeks
  start on Monday in the viewer's zone). A deal that enters a stage twice counts once
  a week and once in the stage table.
- Conversion: of the deals that entered a stage in the range, those that later (up to
  now) entered a stage further on that is not a lost one.
- Days in a stage: from one history row of a deal to its next; the stay in a deal's
  current open stage counts until now. Stays that began in the range count; a median.
- Forecast: every open deal of the pipeline today (the range does not apply), by month
  of expected close, its value times its stage's probability; deals with no value
  count as $0.
- Won and lost: deals of the pipeline won or lost on a day of the range (`closed_on`),
  by lost reason and by the campaign that first reached them (`source_campaign_id`).
The campaign and list filters keep deals of that source campaign and list.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from console.models import Campaign, Deal, DealStageHistory, LostReason, PipelineStage
from console.models.deals import Pipeline
from console.services.deals import pipelines
from console.services.reports.scope import ReportScope
from console.services.reports.tables import Chart, Column, ReportPage, Table, rate
from console.services.timezones import start_of_day

ZERO = Decimal("0")
CENT = Decimal("0.01")
DAY = 86400.0


def page(session: Session, scope: ReportScope, now: datetime, prices: dict) -> ReportPage:
    """The Pipeline velocity page of the scope's pipeline."""
    report = ReportPage(key="velocity", title="Pipeline velocity")
    pipeline = chosen_pipeline(session, scope)
    if pipeline is None:
        report.notes.append("The team has no pipeline yet.")
        return report
    stages = pipelines.stages_of(session, pipeline.id)
    weekly = weekly_table(session, scope, stages)
    report.tables = [
        stages_table(session, scope, stages, now),
        weekly,
        forecast_table(session, scope, pipeline),
        reasons_table(session, scope, pipeline),
        campaigns_table(session, scope, pipeline),
    ]
    report.charts.append(weekly_chart(weekly, stages))
    report.notes.append(
        f"Pipeline {pipeline.name}. Days in a stage run from a deal's entering it to its "
        "next move; a deal still in an open stage counts until now. The forecast covers "
        "the deals open today, whatever the range."
    )
    return report


def weekly_chart(weekly: Table, stages: list[PipelineStage]) -> Chart:
    """Deals coming in (the first stage), won and lost, a line each over the weeks: the
    stage table above holds every stage; eight lines would not read."""
    shown = [stages[0], *(stage for stage in stages if not stage.is_open)] if stages else []
    return Chart(
        title="New deals, won and lost, by week",
        kind="lines",
        labels=[row["week"] for row in weekly.rows],
        series={stage.name: [row[f"stage_{stage.id}"] for row in weekly.rows] for stage in shown},
        table="weekly",
        unit="count",
    )


def chosen_pipeline(session: Session, scope: ReportScope) -> Pipeline | None:
    """The pipeline the scope asks for when it is the team's, else the team's first."""
    picked = pipelines.pipeline_of(session, scope.team_id, scope.pipeline_id)
    if picked is not None:
        return picked
    found = pipelines.pipelines_of(session, scope.team_id)
    return found[0] if found else None


def _deal_filters(scope: ReportScope) -> list:
    """The scope's campaign and list filters, on deals."""
    wanted = [Deal.team_id == scope.team_id]
    if scope.campaign_id:
        wanted.append(Deal.source_campaign_id == scope.campaign_id)
    if scope.import_id:
        wanted.append(Deal.source_import_id == scope.import_id)
    return wanted


def _entries(scope: ReportScope, stage_ids: list[int]):
    """History rows into the pipeline's stages in the range, of the scope's deals."""
    return (
        select(DealStageHistory)
        .join(Deal, Deal.id == DealStageHistory.deal_id)
        .where(
            *_deal_filters(scope),
            DealStageHistory.team_id == scope.team_id,
            DealStageHistory.to_stage_id.in_(stage_ids),
            DealStageHistory.at >= scope.start,
            DealStageHistory.at < scope.end,
        )
    )


def stages_table(
    session: Session, scope: ReportScope, stages: list[PipelineStage], now: datetime
) -> Table:
    """Per stage: deals that entered it, how many went further, median days in it."""
    ids = [stage.id for stage in stages]
    entered, moved_on = _conversions(session, scope, stages)
    days = _stays(session, scope, ids, now)
    rows = []
    for stage in stages:
        further = moved_on.get(stage.id, 0) if stage.is_open else None
        rows.append(
            {
                "stage": stage.name,
                "probability": stage.probability / 100,
                "entered": entered.get(stage.id, 0),
                "moved_on": further,
                "conversion": rate(further, entered.get(stage.id, 0)),
                "median_days": _days(median(days[stage.id])) if days.get(stage.id) else None,
            }
        )
    all_days = [value for stage in stages if stage.is_open for value in days.get(stage.id, [])]
    return Table(
        name="stages",
        title="Stages: entered, converted, days in stage",
        columns=[
            Column("stage", "Stage"),
            Column("probability", "Probability", "rate"),
            Column("entered", "Deals entered", "count"),
            Column("moved_on", "Went further", "count"),
            Column("conversion", "Conversion", "rate"),
            Column("median_days", "Median days in stage", "number"),
        ],
        rows=rows,
        totals={
            "stage": "All stages",
            "entered": sum(entered.values()),
            "moved_on": sum(row["moved_on"] or 0 for row in rows),
            "median_days": _days(median(all_days)) if all_days else None,
        },
        note=(
            "Went further: entered a later stage that is not a lost one, by now. "
            "Median days: of the stays in open stages that began in the range."
        ),
    )


def _conversions(
    session: Session, scope: ReportScope, stages: list[PipelineStage]
) -> tuple[dict[int, int], dict[int, int]]:
    """Per stage id: deals that entered it in the range, and those that went further."""
    entry = (
        _entries(scope, [stage.id for stage in stages])
        .with_only_columns(
            DealStageHistory.deal_id.label("deal_id"),
            DealStageHistory.to_stage_id.label("stage_id"),
            func.min(DealStageHistory.at).label("at"),
        )
        .group_by(DealStageHistory.deal_id, DealStageHistory.to_stage_id)
        .subquery()
    )
    here, later = aliased(PipelineStage), aliased(PipelineStage)
    step = aliased(DealStageHistory)
    went_on = exists(
        select(literal(1))
        .select_from(step)
        .join(later, later.id == step.to_stage_id)
        .where(
            step.deal_id == entry.c.deal_id,
            step.at >= entry.c.at,
            later.pipeline_id == here.pipeline_id,
            later.position > here.position,
            later.outcome != "lost",
        )
    )
    rows = session.execute(
        select(
            entry.c.stage_id,
            func.count(),
            func.sum(case((went_on, 1), else_=0)),
        )
        .join(here, here.id == entry.c.stage_id)
        .group_by(entry.c.stage_id)
    ).all()
    return (
        {stage_id: count for stage_id, count, _ in rows},
        {stage_id: int(further or 0) for stage_id, _, further in rows},
    )


def _stays(
    session: Session, scope: ReportScope, stage_ids: list[int], now: datetime
) -> dict[int, list[float]]:
    """Per open stage id: the days of each stay that began in the range (until the
    deal's next move, or now for a deal still there)."""
    history = DealStageHistory
    following = (
        select(
            history.deal_id,
            history.to_stage_id,
            history.at,
            func.lead(history.at, type_=history.at.type)
            .over(partition_by=history.deal_id, order_by=(history.at, history.id))
            .label("left_at"),
        )
        .join(Deal, Deal.id == history.deal_id)
        .where(*_deal_filters(scope), history.team_id == scope.team_id)
        .subquery()
    )
    rows = session.execute(
        select(following.c.to_stage_id, following.c.at, following.c.left_at)
        .join(PipelineStage, PipelineStage.id == following.c.to_stage_id)
        .where(
            following.c.to_stage_id.in_(stage_ids),
            PipelineStage.outcome == "open",
            following.c.at >= scope.start,
            following.c.at < scope.end,
        )
    )
    stays: dict[int, list[float]] = defaultdict(list)
    for stage_id, entered_at, left_at in rows:
        stays[stage_id].append(((left_at or now) - entered_at).total_seconds() / DAY)
    return stays


def _days(value: float) -> float:
    """Days to one decimal place."""
    return round(value, 1)


def week_starts(scope: ReportScope) -> list[date]:
    """The Mondays of the weeks the range touches."""
    first = scope.first_day - timedelta(days=scope.first_day.weekday())
    return [first + timedelta(weeks=n) for n in range((scope.last_day - first).days // 7 + 1)]


def weekly_table(session: Session, scope: ReportScope, stages: list[PipelineStage]) -> Table:
    """Deals entering each stage, a row a week (the first and last weeks cut to the range)."""
    weeks = week_starts(scope)
    bounds = [max(start_of_day(week, scope.zone), scope.start) for week in weeks[1:]]
    week_of = case(
        *((DealStageHistory.at < bound, n) for n, bound in enumerate(bounds)),
        else_=len(weeks) - 1,
    )
    counted = (
        _entries(scope, [stage.id for stage in stages])
        .with_only_columns(
            week_of.label("week"),
            DealStageHistory.to_stage_id,
            func.count(func.distinct(DealStageHistory.deal_id)),
        )
        .group_by(week_of, DealStageHistory.to_stage_id)
    )
    counts = {(week, stage_id): n for week, stage_id, n in session.execute(counted)}
    keys = {stage.id: f"stage_{stage.id}" for stage in stages}
    rows = [
        {
            "week": _day_text(max(week, scope.first_day)),
            **{keys[stage.id]: counts.get((n, stage.id), 0) for stage in stages},
        }
        for n, week in enumerate(weeks)
    ]
    return Table(
        name="weekly",
        title="Deals entering each stage, by week",
        columns=[
            Column("week", "Week from"),
            *(Column(keys[stage.id], stage.name, "count") for stage in stages),
        ],
        rows=rows,
        totals={
            "week": "All weeks",
            **{key: sum(row[key] for row in rows) for key in keys.values()},
        },
        note="Weeks start on Monday; the first and last are cut to the range (the first "
        "is named by the range's first day).",
    )


def _day_text(day: date) -> str:
    """ "Jan 5"."""
    return f"{day:%b} {day.day}"


def forecast_table(session: Session, scope: ReportScope, pipeline: Pipeline) -> Table:
    """Open deals by month of expected close: count, value, weighted value."""
    rows_by_day = session.execute(
        select(
            Deal.expected_close,
            PipelineStage.probability,
            func.count(),
            func.coalesce(func.sum(Deal.value), 0),
        )
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(
            *_deal_filters(scope),
            Deal.pipeline_id == pipeline.id,
            PipelineStage.outcome == "open",
        )
        .group_by(Deal.expected_close, PipelineStage.probability)
    )
    months: dict[date | None, list] = defaultdict(lambda: [0, ZERO, ZERO])
    for expected, probability, count, value in rows_by_day:
        month = expected.replace(day=1) if expected else None
        value = Decimal(value)
        months[month][0] += count
        months[month][1] += value
        months[month][2] += value * probability / 100
    ordered = sorted(months, key=lambda month: (month is None, month or date.min))
    rows = [
        {
            "month": f"{month:%B %Y}" if month else "No expected close",
            "deals": months[month][0],
            "value": months[month][1].quantize(CENT),
            "weighted": months[month][2].quantize(CENT),
        }
        for month in ordered
    ]
    return Table(
        name="forecast",
        title="Weighted forecast by month of expected close",
        columns=[
            Column("month", "Expected close"),
            Column("deals", "Open deals", "count"),
            Column("value", "Value", "money"),
            Column("weighted", "Weighted value", "money"),
        ],
        rows=rows,
        totals={
            "month": "All open deals",
            "deals": sum(row["deals"] for row in rows),
            "value": sum((months[m][1] for m in ordered), ZERO).quantize(CENT),
            "weighted": sum((months[m][2] for m in ordered), ZERO).quantize(CENT),
        },
        note="Weighted value: value times the stage's probability. Open deals today.",
    )


def _closed(scope: ReportScope, pipeline: Pipeline) -> list:
    """Deals of the pipeline won or lost on a day of the range."""
    return [
        *_deal_filters(scope),
        Deal.pipeline_id == pipeline.id,
        PipelineStage.outcome.in_(("won", "lost")),
        Deal.closed_on >= scope.first_day,
        Deal.closed_on <= scope.last_day,
    ]


def reasons_table(session: Session, scope: ReportScope, pipeline: Pipeline) -> Table:
    """Won deals, then lost ones by reason: counts and values."""
    found = session.execute(
        select(PipelineStage.outcome, LostReason.name, func.count(), func.sum(Deal.value))
        .select_from(Deal)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .outerjoin(
            LostReason,
            and_(LostReason.id == Deal.lost_reason_id, PipelineStage.outcome == "lost"),
        )
        .where(*_closed(scope, pipeline))
        .group_by(PipelineStage.outcome, LostReason.name)
    ).all()
    rows = [
        {
            "outcome": outcome.title(),
            "reason": (reason or "No reason given") if outcome == "lost" else "",
            "deals": count,
            "value": Decimal(value or 0).quantize(CENT),
        }
        for outcome, reason, count, value in found
    ]
    rows.sort(key=lambda row: (row["outcome"] != "Won", -row["deals"], row["reason"]))
    return Table(
        name="outcomes",
        title="Won and lost, by reason",
        columns=[
            Column("outcome", "Outcome"),
            Column("reason", "Lost reason"),
            Column("deals", "Deals", "count"),
            Column("value", "Value", "money"),
        ],
        rows=rows,
        totals={
            "outcome": "All closed",
            "deals": sum(row["deals"] for row in rows),
            "value": sum((row["value"] for row in rows), ZERO),
        },
        note="Deals won or lost on a day of the range.",
    )


def campaigns_table(session: Session, scope: ReportScope, pipeline: Pipeline) -> Table:
    """Won and lost deals by the campaign that first reached the owner."""
    won = PipelineStage.outcome == "won"
    lost = PipelineStage.outcome == "lost"
    found = session.execute(
        select(
            Campaign.name,
            func.sum(case((won, 1), else_=0)),
            func.sum(case((won, Deal.value), else_=0)),
            func.sum(case((lost, 1), else_=0)),
            func.sum(case((lost, Deal.value), else_=0)),
        )
        .select_from(Deal)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .outerjoin(
            Campaign,
            and_(Campaign.id == Deal.source_campaign_id, Campaign.team_id == scope.team_id),
        )
        .where(*_closed(scope, pipeline))
        .group_by(Campaign.id, Campaign.name)
    ).all()
    rows = [
        {
            "campaign": name or "No campaign",
            "won": int(won_n or 0),
            "won_value": Decimal(won_value or 0).quantize(CENT),
            "lost": int(lost_n or 0),
            "lost_value": Decimal(lost_value or 0).quantize(CENT),
            "win_rate": rate(int(won_n or 0), int(won_n or 0) + int(lost_n or 0)),
        }
        for name, won_n, won_value, lost_n, lost_value in found
    ]
    rows.sort(key=lambda row: (row["campaign"] == "No campaign", row["campaign"].lower()))
    won_total, lost_total = sum(r["won"] for r in rows), sum(r["lost"] for r in rows)
    return Table(
        name="campaigns",
        title="Won and lost, by source campaign",
        columns=[
            Column("campaign", "Source campaign"),
            Column("won", "Won", "count"),
            Column("won_value", "Won value", "money"),
            Column("lost", "Lost", "count"),
            Column("lost_value", "Lost value", "money"),
            Column("win_rate", "Win rate", "rate"),
        ],
        rows=rows,
        totals={
            "campaign": "All campaigns",
            "won": won_total,
            "won_value": sum((r["won_value"] for r in rows), ZERO),
            "lost": lost_total,
            "lost_value": sum((r["lost_value"] for r in rows), ZERO),
            "win_rate": rate(won_total, won_total + lost_total),
        },
        note="The campaign that first reached the owner; deals won or lost in the range.",
    )
