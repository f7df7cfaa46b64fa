"""The demo data: its inbox's opening texts are dated when the console itself could have
sent them, inside each owner's legal hours and the team's window, whatever the hour the
demo is seeded at; its deals fill both pipelines with sixty days of history, the same
shape whatever the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import Deal, DealStageHistory, Message, Task
from console.services import demo, timezones
from console.services.deals import pipelines
from console.services.sending import quiethours
from console.services.sending.compliance import recipient_of
from console.services.sending.policy import SendingSettings
from tests.clock import TEST_NOW


@pytest.mark.parametrize(
    "seeded_at",
    [
        datetime(2026, 12, 8, 4, 12, tzinfo=UTC),  # Monday 10:12 pm in Texas
        datetime(2026, 12, 7, 11, 30, tzinfo=UTC),  # Monday 5:30 am in Texas
        datetime(2026, 12, 6, 16, 0, tzinfo=UTC),  # Sunday: the team sends Mon-Sat
        datetime(2026, 12, 7, 22, 0, tzinfo=UTC),  # Monday 4 pm in Texas
    ],
)
def test_demo_openers_are_dated_inside_legal_hours_and_the_team_window(app, crew, seeded_at):
    team = crew.team
    demo.prepare_outreach(db.session, team, app.config)
    db.session.commit()
    demo.seed_sample(db.session, team, Path(app.config["UPLOAD_DIR"]))

    assert demo.seed_replies(db.session, team, now=seeded_at) == len(demo.DEMO_REPLIES)

    settings = SendingSettings.of(team)
    openers = db.session.scalars(
        select(Message).where(Message.team_id == team.id, Message.sent_at.is_not(None))
    ).all()
    assert len(openers) == len(demo.DEMO_REPLIES)
    for opener in openers:
        recipient = recipient_of(opener.lead, opener.to_e164)
        quiet = quiethours.check(
            opener.sent_at,
            state=recipient.state,
            zip_code=recipient.zip_code,
            e164=recipient.e164,
            team_window=settings.team_window,
            rules=settings.rules,
        )
        assert quiet.allowed, (opener.sent_at, quiet.reason)
        assert opener.sent_at < seeded_at


def seeded_deals(app, team, now) -> list[Deal]:
    """The demo's deals seeded into `team` at `now`, with the sample and outreach."""
    demo.prepare_outreach(db.session, team, app.config)
    db.session.commit()
    demo.seed_sample(db.session, team, Path(app.config["UPLOAD_DIR"]))
    made = demo.seed_deals(db.session, team, now=now)
    db.session.commit()
    deals = db.session.scalars(select(Deal).where(Deal.team_id == team.id).order_by(Deal.id)).all()
    assert made == len(deals)
    return deals


def test_demo_deals_fill_the_pipelines_with_sixty_days_of_history(app, crew):
    now = TEST_NOW
    deals = seeded_deals(app, crew.team, now)
    team_id, zone = crew.team.id, timezones.team_zone_name(crew.team)

    assert 18 <= len(deals) <= 25
    default, real_estate = pipelines.pipelines_of(db.session, team_id)
    assert real_estate.name == demo.REAL_ESTATE
    assert {deal.stage_id for deal in deals} >= {s.id for s in default.stages}
    assert 3 <= sum(deal.pipeline_id == real_estate.id for deal in deals) <= 5
    history = db.session.scalars(
        select(DealStageHistory).where(DealStageHistory.team_id == team_id)
    ).all()
    assert len(history) >= 3 * len(deals)  # several moves a deal, on average
    for move in history:
        local = timezones.in_zone(move.at, zone)
        assert now - timedelta(days=60) <= move.at < now
        assert local.weekday() < 5 and 9 <= local.hour < 17, local
    for deal in deals:
        moves = [m for m in history if m.deal_id == deal.id]
        assert max(m.at for m in moves) == deal.stage_at and deal.stage_id == moves[-1].to_stage_id
        assert deal.source_campaign_id is not None and deal.first_touch_persona == "GIANNA"
        assert deal.assignee.team_id == team_id and deal.lead.assignee_id == deal.assignee_id
        assert max(source.at for source in deal.lead.sources) < deal.created_at
    won = [d for d in deals if d.stage.outcome == "won"]
    lost = [d for d in deals if d.stage.outcome == "lost"]
    assert len(won) >= 2 and all(d.closed_on and d.value for d in won)
    assert len(lost) >= 2 and all(d.closed_on and d.lost_reason for d in lost)
    assert all(d.expected_close for d in deals if d.stage.name in ("LOI", "Closing"))
    assert 2 <= sum(d.stale_at is not None for d in deals) <= 3


def test_demo_deals_have_next_steps_one_overdue(app, crew):
    seeded_deals(app, crew.team, TEST_NOW)
    steps = db.session.scalars(
        select(Task).where(Task.team_id == crew.team.id, Task.deal_id.is_not(None))
    ).all()
    assert len(steps) >= 4
    assert [t.title for t in steps if t.state == "open" and t.due_at < TEST_NOW] == ["Send the NDA"]


def test_demo_deals_read_the_same_whatever_the_day(app, crew, outsider):
    def shape(team, now):
        return [
            (d.stage.name, d.value, d.assignee.role, d.stale_at is not None)
            for d in seeded_deals(app, team, now)
        ]

    assert shape(crew.team, TEST_NOW) == shape(outsider.team, TEST_NOW + timedelta(days=17))
