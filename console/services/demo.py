"""The demo team: one user per role and a shipped sample of fictional businesses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Role, Team, User
from console.services import accounts
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
