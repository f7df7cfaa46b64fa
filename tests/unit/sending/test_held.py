"""When held texts go: a batch's first opening from the quiet-hours engine over its
waiting recipients (Sunday bans, holidays, a later start) and its expected finish at
the sender's rate within the daily caps, in words in the viewer's zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.models import Batch, Campaign, Message, Sender
from console.services.sending import held
from console.services.sending.compliance import Gate
from console.services.sending.policy import SendingSettings
from tests.conftest import make_team
from tests.sending_helpers import CENTRAL, EASTERN, WIDE_WINDOW, at_local, empty_tables, mobile

NEW_YORK = "America/New_York"
# November 2026: the 14th is a Saturday, the 25th the eve of Thanksgiving.
SATURDAY, WEDNESDAY, THANKSGIVING_EVE = date(2026, 11, 14), date(2026, 11, 11), date(2026, 11, 25)


@pytest.fixture(scope="module")
def memory_console() -> Iterator[None]:
    """An in-memory SQLite console, its app context open for the module's tests."""
    app = create_app(TestConfig())
    with app.app_context():
        db.create_all()
        yield
        db.session.remove()


@pytest.fixture
def team(memory_console):
    """A team of its own on an otherwise empty console."""
    empty_tables()
    return make_team("Harbor Partners").team


def held_batch(team, states, due: datetime, *, mps=1.0, daily_cap=0, sent_today=0) -> Batch:
    """An approved batch of texts to leads in `states`, due at `due`, from one sender;
    `sent_today` texts the sender already sent at `due`."""
    sender = Sender(
        team_id=team.id, label="Austin line", address="+15125550100", mps=mps, daily_cap=daily_cap
    )
    campaign = Campaign(team_id=team.id, name="Owners", sender=sender)
    batch = Batch(team_id=team.id, campaign=campaign, status="approved", size=len(states))
    db.session.add(batch)
    db.session.flush()
    for n, state in enumerate(states):
        db.session.add(
            Message(
                team_id=team.id,
                batch_id=batch.id,
                campaign_id=campaign.id,
                sender_id=sender.id,
                to_e164=mobile(state, n),
                to_state=state,
                body="Hi",
                status="approved",
                due_at=due,
            )
        )
    for n in range(sent_today):
        db.session.add(
            Message(
                team_id=team.id,
                sender_id=sender.id,
                to_e164=mobile("TX", 900 + n),
                body="Earlier",
                status="delivered",
                sent_at=due,
            )
        )
    db.session.commit()
    return batch


def eta_of(team, batch: Batch, now: datetime) -> held.HeldEta | None:
    """The batch's ETA through the team's gate (any day, 8 am-9 pm team window)."""
    return held.batch_eta(
        db.session, batch, Gate(db.session, team.id, SendingSettings(**WIDE_WINDOW)), now
    )


def test_first_opening_and_finish_of_a_batch_held_overnight(team):
    now = at_local(WEDNESDAY, 22, zone=CENTRAL)  # 10 pm in Texas
    batch = held_batch(team, ["TX"] * 120, now, mps=1.0)

    eta = eta_of(team, batch, now)

    assert eta.first_at == at_local(WEDNESDAY + timedelta(days=1), 9, zone=CENTRAL)
    assert eta.finish_at == eta.first_at + timedelta(seconds=120)
    assert eta.words(NEW_YORK, now) == (
        "First texts go tomorrow at 10:00 am EST; all 120 expected sent by 10:02 am EST tomorrow."
    )


def test_a_sunday_ban_moves_the_first_texts_to_monday(team):
    now = at_local(SATURDAY, 20, zone=EASTERN)  # RI: Saturdays 10 am-5 pm, no Sundays
    batch = held_batch(team, ["RI", "RI"], now)

    eta = eta_of(team, batch, now)

    assert eta.first_at == at_local(SATURDAY + timedelta(days=2), 9, zone=EASTERN)
    assert eta.words(NEW_YORK, now).startswith("First texts go on Monday at 9:00 am EST;")


def test_a_state_holiday_moves_the_first_texts_past_it(team):
    now = at_local(THANKSGIVING_EVE, 22, zone=EASTERN)  # PA: no texts on legal holidays
    batch = held_batch(team, ["PA"], now)

    eta = eta_of(team, batch, now)

    assert eta.first_at == at_local(THANKSGIVING_EVE + timedelta(days=2), 8, zone=EASTERN)
    assert "First texts go on Friday at 8:00 am EST" in eta.words(NEW_YORK, now)


def test_the_daily_cap_carries_the_rest_to_the_next_utc_days(team):
    now = at_local(WEDNESDAY, 22, zone=CENTRAL)
    batch = held_batch(team, ["TX"] * 12, now, mps=1.0, daily_cap=5, sent_today=3)

    eta = eta_of(team, batch, now)

    # 2 left of today's (UTC) 5 at 9 am Thursday, 5 at 0:00 UTC Friday, 5 at 0:00 UTC
    # Saturday (6 pm Friday in Texas, inside its hours): the last is the 5th of those.
    assert eta.first_at == at_local(WEDNESDAY + timedelta(days=1), 9, zone=CENTRAL)
    assert eta.finish_at == datetime(2026, 11, 14, 0, 0, 5, tzinfo=UTC)
    assert eta.words(NEW_YORK, now).endswith("all 12 expected sent by 7:01 pm EST on Friday.")


def test_a_later_start_holds_texts_inside_their_hours(team):
    now = at_local(WEDNESDAY, 11, zone=CENTRAL)
    batch = held_batch(team, ["TX", "TX"], now + timedelta(hours=3))

    eta = eta_of(team, batch, now)

    assert eta.first_at == now + timedelta(hours=3)
    assert eta.words(NEW_YORK, now).startswith("First texts go at 3:00 pm EST;")


def test_no_eta_while_every_text_may_go_now(team):
    now = at_local(WEDNESDAY, 11, zone=CENTRAL)
    assert eta_of(team, held_batch(team, ["TX", "TX"], now), now) is None


def test_some_going_now_and_some_held_reads_as_one_line(team):
    now = at_local(WEDNESDAY, 7, 30, zone=CENTRAL)  # 8:30 in New York, not yet in Texas
    batch = held_batch(team, ["NY", "TX", "TX"], now)

    eta = eta_of(team, batch, now)

    assert eta.words(NEW_YORK, now) == (
        "Texts are going now; 2 wait for their hours or a cap; all 3 expected sent by 10:01 am EST."
    )


def test_texts_with_no_opening_in_two_weeks_say_so(team):
    now = at_local(WEDNESDAY, 22, zone=CENTRAL)
    batch = held_batch(team, ["TX", "TX"], now)
    closed = SendingSettings(**{**WIDE_WINDOW, "window_days": []})

    eta = held.batch_eta(db.session, batch, Gate(db.session, team.id, closed), now)

    assert eta.words(NEW_YORK, now) == (
        "No sending hours open for these 2 texts in the next 14 days."
    )
