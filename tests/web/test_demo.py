"""The demo data: its inbox's opening texts are dated when the console itself could
have sent them, inside each owner's legal hours and the team's window, whatever the
hour the demo is seeded at."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import Message
from console.services import demo
from console.services.sending import quiethours
from console.services.sending.compliance import recipient_of
from console.services.sending.policy import SendingSettings


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
