"""The demo team: one user per role and a shipped sample of fictional businesses."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import MessageTemplate, Role, Team, User
from console.services import accounts, timezones
from console.services.deals import pipelines
from console.services.lists import imports
from console.services.sending import quiethours
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
    from console.services.campaigns import templates
    from console.services.sending import policy

    templates.seed_if_empty(session, team)
    policy.ensure_default_sender(session, team, config)


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


# Replies the demo inbox starts with: an opener went out, the owner answered.
DEMO_REPLIES: tuple[tuple[int, str], ...] = (
    (3, "Yes, I'd consider it for the right buyer. Call me tomorrow after 3pm"),
    (6, "What would you pay? I wouldn't take less than 2.5M"),
    (12, "Who is this and how did you get my number?"),
    (30, "Not right now, maybe next year after tax season"),
    (50, "Sure, send details to owner@example.com"),
    (240, "No thanks, not for sale"),
)


# How far back the demo looks for a legal minute to date an opener (a week and a day
# always hold one), and the steps it looks in.
_LOOK_BACK, _STEP = timedelta(days=8), timedelta(minutes=5)


def _opener_time(latest: datetime, recipient, settings) -> datetime:
    """The latest five-minute mark at or before `latest` when the console itself would
    have sent the opener: inside the recipient's legal hours and the team's window."""
    when = latest.replace(minute=latest.minute - latest.minute % 5, second=0, microsecond=0)
    while when > latest - _LOOK_BACK:
        quiet = quiethours.check(
            when,
            state=recipient.state,
            zip_code=recipient.zip_code,
            e164=recipient.e164,
            team_window=settings.team_window,
            rules=settings.rules,
        )
        if quiet.allowed:
            return when
        when -= _STEP
    raise ValueError(f"No sending hours for {recipient.e164} in the {_LOOK_BACK.days} days.")


def seed_replies(session: Session, team: Team, now=None) -> int:
    """A few owners who answered an opener, read and drafted, so the inbox has work.

    Each opener is dated inside the owner's legal hours and the team's window (the
    console would have sent it then), whatever the hour the demo is seeded at; the
    answers come at their own hours. The texts go through the same `inbound.receive`
    as the webhook and are read by the rules with persona templates (the demo needs no
    Anthropic key).
    """
    from console.models import Lead, Message, Phone, Sender
    from console.models.base import utcnow
    from console.services.replies import inbound, inbox
    from console.services.sending.compliance import recipient_of
    from console.services.sending.policy import SendingSettings

    now = now or utcnow()
    settings = SendingSettings.of(team)
    sender = session.scalars(select(Sender).where(Sender.team_id == team.id)).first()
    if sender is None:
        return 0
    numbers = session.execute(
        select(Lead, Phone.e164)
        .join(Phone, Phone.owner_id == Lead.owner_id)
        .where(Lead.team_id == team.id, Phone.kind == "mobile")
        .order_by(Lead.priority.desc().nulls_last(), Lead.id)
        .limit(len(DEMO_REPLIES))
    ).all()
    seeded = 0
    for (minutes_ago, text), (lead, e164) in zip(DEMO_REPLIES, numbers, strict=False):
        name = lead.owner.first_name if lead.owner is not None else ""
        business = lead.business.name if lead.business is not None else "your business"
        sent_at = _opener_time(
            now - timedelta(minutes=minutes_ago + 30), recipient_of(lead, e164), settings
        )
        session.add(
            Message(
                team_id=team.id,
                lead_id=lead.id,
                sender_id=sender.id,
                to_e164=e164,
                body=f"Hi {name or 'there'}, would you ever consider selling {business}? "
                "Reply STOP to opt out",
                status="delivered",
                provider_status="delivered",
                sent_at=sent_at,
                delivered_at=sent_at,
                status_at=sent_at,
            )
        )
        lead.last_contacted_at = sent_at
        lead.status = "contacted"
        session.flush()
        reception = inbound.receive(
            session,
            {
                "MessageSid": f"SMdemo{lead.id:026d}",
                "From": e164,
                "To": sender.address,
                "Body": text,
            },
            now=now - timedelta(minutes=minutes_ago),
        )
        if reception.item_id is not None:
            inbox.process_item(session, reception.item_id, inbox.Models(None, "", ""))
            seeded += 1
    return seeded


# -- the demo pipeline ---------------------------------------------------------------------

# The demo's second pipeline, beside the default one.
REAL_ESTATE = "Real estate"
REAL_ESTATE_STAGES = (
    pipelines.StageSpec("New lead", 10, 7),
    pipelines.StageSpec("Walkthrough", 30, 10),
    pipelines.StageSpec("Offer made", 60, 10, ("value",)),
    pipelines.StageSpec("Under contract", 85, 21, ("value", "expected_close")),
    pipelines.StageSpec("Closed", 100, None, ("value",), "won"),
    pipelines.StageSpec("Dead", 0, None, ("lost_reason",), "lost"),
)


@dataclass(frozen=True)
class DemoDeal:
    """One demo deal: where it is, how long ago it was made and entered its stage, its
    value, whose it is, and what comes next. `via` is the stage a lost deal left from;
    `close_in` days to its expected close; `task_in` days to its next step (negative:
    overdue)."""

    pipeline: str
    stage: str
    made: int
    in_stage: int
    value: int | None
    assignee: Role
    via: str = ""
    close_in: int | None = None
    reason: str = ""
    task: str = ""
    task_in: int = 2


_M, _O, _R = Role.MANAGER, Role.OPERATOR, Role.REVIEWER
DEMO_DEALS: tuple[DemoDeal, ...] = (
    DemoDeal("Deals", "Discovery", 3, 3, None, _R, task="Call the owner about timing", task_in=1),
    DemoDeal("Deals", "Discovery", 6, 6, None, _O),
    DemoDeal("Deals", "Discovery", 24, 24, None, _O),  # stale: 14 days in Discovery
    DemoDeal("Deals", "Qualified", 18, 7, 600_000, _O, task="Ask for three years of P&Ls"),
    DemoDeal("Deals", "Qualified", 25, 11, None, _M, task="Send the NDA", task_in=-1),
    DemoDeal("Deals", "Qualified", 40, 20, 380_000, _R),  # stale: 14 days in Qualified
    DemoDeal("Deals", "Valuation", 30, 8, 1_200_000, _M, task="Walk the owner through comps"),
    DemoDeal("Deals", "Valuation", 45, 15, 850_000, _O),
    DemoDeal("Deals", "Valuation", 55, 27, 2_400_000, _M),  # stale: 21 days in Valuation
    DemoDeal("Deals", "LOI", 42, 10, 1_750_000, _M, close_in=45, task="Review the LOI redlines"),
    DemoDeal("Deals", "LOI", 50, 4, 950_000, _O, close_in=60),
    DemoDeal("Deals", "Due diligence", 57, 16, 3_100_000, _M, close_in=30),
    DemoDeal("Deals", "Due diligence", 52, 6, 1_400_000, _O, close_in=40, task="Chase the lease"),
    DemoDeal("Deals", "Closing", 55, 5, 2_050_000, _M, close_in=9, task="Confirm the wire date"),
    DemoDeal("Deals", "Won", 56, 12, 1_250_000, _M),
    DemoDeal("Deals", "Won", 48, 3, 725_000, _O),
    DemoDeal("Deals", "Lost", 35, 9, 900_000, _R, via="Valuation", reason="Price gap"),
    DemoDeal("Deals", "Lost", 28, 15, None, _O, via="Qualified", reason="Went silent"),
    DemoDeal(REAL_ESTATE, "New lead", 2, 2, None, _R),
    DemoDeal(REAL_ESTATE, "Walkthrough", 14, 4, 640_000, _O, task="Schedule the site visit"),
    DemoDeal(REAL_ESTATE, "Offer made", 30, 6, 1_100_000, _M, close_in=50),
    DemoDeal(REAL_ESTATE, "Under contract", 45, 12, 2_300_000, _M, close_in=20),
)
# The demo's campaigns the deals came from, by pipeline: name and opening template.
DEMO_CAMPAIGNS = {
    "Deals": ("Texas owners: broker opener", "Broker opener: curious about selling"),
    REAL_ESTATE: ("Property owners: real estate opener", "Real estate opener: own the building"),
}
_SEED = 16  # the demo reads the same every time it is made


def _business_hours(day: date, rng: random.Random, zone: str, before: datetime) -> datetime:
    """A time on a weekday at or before `day`, 9 am to 5 pm on the team's clock, earlier
    than `before`."""
    tz = timezones.zone_of(zone)
    while True:
        if day.weekday() < 5:
            at = datetime.combine(day, time(rng.randint(9, 16), rng.choice(range(0, 60, 5))), tz)
            if at < before:
                return at.astimezone(UTC)
        day -= timedelta(days=1)


def _task_due(day: date, rng: random.Random, zone: str, now: datetime) -> datetime:
    """A next step's due time on `day` (a past one for an overdue step, the next weekday
    for a step ahead), 9 am to 5 pm on the team's clock."""
    if day <= timezones.local_date(now, zone):
        return _business_hours(day, rng, zone, now)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _business_hours(day, rng, zone, datetime.combine(day, time(23), UTC) + timedelta(1))


def _path(stages: list, spec: DemoDeal) -> list:
    """The stages a demo deal went through, first to its current one."""
    by_name = {stage.name: stage for stage in stages}
    current = by_name[spec.stage]
    opens = [stage for stage in stages if stage.is_open]
    if current.outcome == "won":
        return [*opens, current]
    last_open = by_name[spec.via] if current.outcome == "lost" else current
    walked = opens[: opens.index(last_open) + 1]
    return walked if current.is_open else [*walked, current]


def seed_deals(session: Session, team: Team, now: datetime | None = None) -> int:
    """About twenty deals over the stages of the demo's two pipelines, so the board means
    something at first start: a stage history over the last 60 days (moves in business
    hours), values and expected closes, assignees among the demo users, won and lost
    deals, three gone stale, and next steps (one overdue). Each is attributed to a demo
    campaign's opener. Dated back from `now` (the console's clock) with a fixed seed, so
    a demo made any day has the same shape. Returns how many deals were made."""
    from console.models import Campaign, Deal, DealStageHistory, Lead, Message, Phone, Sender, Task
    from console.models.base import utcnow
    from console.services.deals import attribution, staleness

    now = now or utcnow()
    rng = random.Random(_SEED)
    zone = timezones.team_zone_name(team)
    today = timezones.local_date(now, zone)
    users = {
        user.role: user for user in session.scalars(select(User).where(of_team(User, team.id)))
    }
    sender = session.scalars(select(Sender).where(Sender.team_id == team.id)).first()
    pipelines.ensure_pipelines(session, team.id)
    if REAL_ESTATE not in {p.name for p in pipelines.pipelines_of(session, team.id)}:
        pipelines.add_pipeline(session, team.id, REAL_ESTATE, REAL_ESTATE_STAGES)
    stages = {
        p.name: pipelines.stages_of(session, p.id) for p in pipelines.pipelines_of(session, team.id)
    }
    reasons = {reason.name: reason for reason in pipelines.lost_reasons(session, team.id)}
    busy = select(Message.lead_id).where(Message.team_id == team.id, Message.lead_id.is_not(None))
    candidates = session.execute(
        select(Lead, func.min(Phone.e164))
        .join(Phone, Phone.owner_id == Lead.owner_id)
        .where(Lead.team_id == team.id, Phone.kind == "mobile", Lead.id.not_in(busy))
        .group_by(Lead.id)
        .order_by(Lead.id)
    ).all()
    if len(candidates) < len(DEMO_DEALS) or sender is None:
        return 0
    picked = sorted(rng.sample(range(len(candidates)), len(DEMO_DEALS)))
    campaigns = {}
    for pipeline_name, (name, template_name) in DEMO_CAMPAIGNS.items():
        campaign = Campaign(
            team_id=team.id,
            name=name,
            persona="GIANNA",
            status="finished",
            template_id=session.scalar(
                select(MessageTemplate.id).where(
                    MessageTemplate.team_id == team.id, MessageTemplate.name == template_name
                )
            ),
            sender_id=sender.id,
            created_by_id=users[Role.OPERATOR].id,
            created_at=now - timedelta(days=70),
        )
        session.add(campaign)
        campaigns[pipeline_name] = campaign
    session.flush()
    made = []
    for spec, index in zip(DEMO_DEALS, picked, strict=True):
        lead, e164 = candidates[index]
        path = _path(stages[spec.pipeline], spec)
        days = [spec.made, *_between(rng, spec.made, spec.in_stage, len(path) - 2), spec.in_stage]
        moves = sorted(
            _business_hours(today - timedelta(days=ago), rng, zone, now)
            for ago in days[: len(path)]
        )
        campaign = campaigns[spec.pipeline]
        opened = _business_hours(today - timedelta(days=spec.made + 2), rng, zone, moves[0])
        session.add(
            Message(
                team_id=team.id,
                lead_id=lead.id,
                campaign_id=campaign.id,
                template_id=campaign.template_id,
                sender_id=sender.id,
                to_e164=e164,
                body=f"Hi {lead.owner.first_name or 'there'}, would you ever consider selling "
                f"{lead.business.name if lead.business else 'your business'}? "
                "Reply STOP to opt out",
                status="delivered",
                provider_status="delivered",
                sent_at=opened,
                delivered_at=opened,
                status_at=opened,
            )
        )
        lead.last_contacted_at, lead.status = opened, "deal"
        lead.assignee_id = users[spec.assignee].id
        # The list these owners came from was loaded before the campaign texted them.
        for source in lead.sources:
            source.at = min(source.at, campaign.created_at - timedelta(days=1))
        lead.created_at = min(lead.created_at, campaign.created_at - timedelta(days=1))
        session.flush()
        assignee = users[spec.assignee]
        current = path[-1]
        deal = Deal(
            team_id=team.id,
            title=(lead.business.name if lead.business else lead.code)[:255],
            lead_id=lead.id,
            pipeline_id=current.pipeline_id,
            stage_id=current.id,
            value=Decimal(spec.value) if spec.value is not None else None,
            expected_close=today + timedelta(days=spec.close_in) if spec.close_in else None,
            assignee_id=assignee.id,
            created_by_id=assignee.id,
            created_at=moves[0],
            stage_at=moves[-1],
            last_touch_at=moves[-1],
        )
        if not current.is_open:
            deal.closed_on = timezones.local_date(moves[-1], zone)
            deal.lost_reason_id = reasons[spec.reason].id if spec.reason else None
        session.add(deal)
        attribution.stamp(session, deal)
        session.flush()
        if current.outcome == "won":
            attribution.stamp_closing(session, deal)
        for step, (stage, at) in enumerate(zip(path, moves, strict=True)):
            mover = assignee if step < 3 or rng.random() < 0.5 else users[Role.MANAGER]
            before = path[step - 1] if step else None
            session.add(
                DealStageHistory(
                    team_id=team.id,
                    deal_id=deal.id,
                    from_stage_id=before.id if before else None,
                    to_stage_id=stage.id,
                    from_stage=before.name if before else "",
                    to_stage=stage.name,
                    by_id=mover.id,
                    at=at,
                )
            )
        if spec.task:
            session.add(
                Task(
                    team_id=team.id,
                    title=spec.task,
                    due_at=_task_due(today + timedelta(days=spec.task_in), rng, zone, now),
                    zone=zone,
                    lead_id=lead.id,
                    deal_id=deal.id,
                    assignee_id=assignee.id,
                    created_by_id=assignee.id,
                    created_at=moves[-1],
                )
            )
        made.append(deal)
    session.flush()
    staleness.sweep(session, team.id, now)
    return len(made)


def _between(rng: random.Random, made: int, in_stage: int, count: int) -> list[int]:
    """`count` days ago, newest last, for the moves between a deal's making and its
    last move."""
    if count <= 0:
        return []
    span = made - in_stage
    return sorted((in_stage + rng.randint(1, max(1, span - 1)) for _ in range(count)), reverse=True)
