"""A deal's last touch and the daily stale sweep: what counts as activity, what the sweep
marks and clears, the cheap paths that keep the last touch fresh between sweeps, the
ticker that runs the sweep once a team a day, the command that runs it now, and how the
timeline words won, lost and reopened deals."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    AuditEvent,
    Deal,
    DealStageHistory,
    InboundMessage,
    JobRun,
    Message,
    Note,
    Task,
)
from console.models.base import set_clock_offset
from console.services.deals import notes, pipelines, staleness, tasks, timeline
from console.services.deals.moves import MoveFields, move_deal
from jobs import deals as deal_jobs
from jobs import sending as sending_jobs
from jobs.runner import execute as execute_run
from tests import clock
from tests.clock import TEST_NOW
from tests.conftest import make_lead
from tests.deal_helpers import make_deal, stage_named
from tests.web.campaign_helpers import mobile
from tests.web.inbox_helpers import make_desk, receive_text, texted_lead

T = TEST_NOW
DAY = timedelta(days=1)


@pytest.fixture
def console_clock():
    """The console's own clock (`utcnow`) standing at the tests' TEST_NOW."""
    set_clock_offset(clock.offset_seconds())
    yield T
    set_clock_offset(0)


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def old_deal(crew, name: str, stage: str = "Qualified", ago: int = 40, **fields) -> Deal:
    """A deal of a new lead, made and last touched `ago` days before T."""
    lead = make_lead(crew.team, name)
    return make_deal(crew.team.id, lead, stage, at=T - ago * DAY, **fields)


# -- what counts as activity -------------------------------------------------------------


def test_last_touches_reads_every_kind_of_activity_per_deal(crew, outsider):
    team_id = crew.team.id
    deals = {kind: old_deal(crew, f"{kind} Plumbing") for kind in (
        "move", "edit", "lead_note", "deal_note", "task", "sent", "received", "quiet"
    )}  # fmt: skip
    db.session.add_all(
        [
            DealStageHistory(team_id=team_id, deal_id=deals["move"].id, from_stage="Qualified",
                             to_stage="Valuation", at=T - 5 * DAY),
            AuditEvent(team_id=team_id, action="deal.edited", entity_type="deals",
                       entity_id=deals["edit"].id, at=T - 6 * DAY),
            Note(team_id=team_id, lead_id=deals["lead_note"].lead_id, body="x",
                 created_at=T - 7 * DAY),
            Note(team_id=team_id, deal_id=deals["deal_note"].id, body="x", created_at=T - 8 * DAY),
            Task(team_id=team_id, lead_id=deals["task"].lead_id, title="Call", due_at=T,
                 state="done", created_at=T - 20 * DAY, done_at=T - 9 * DAY),
            Message(team_id=team_id, lead_id=deals["sent"].lead_id, to_e164=mobile(1), body="Hi",
                    status="delivered", sent_at=T - 10 * DAY),
            InboundMessage(team_id=team_id, lead_id=deals["received"].lead_id,
                           provider_sid="SMreceived", from_e164=mobile(2), body="Yes",
                           received_at=T - 11 * DAY),
        ]
    )  # fmt: skip
    theirs = make_deal(outsider.team.id, make_lead(outsider.team, "Rival Co"), at=T - DAY)
    db.session.commit()

    found = staleness.last_touches(
        db.session, team_id, [deal.id for deal in deals.values()] + [theirs.id]
    )

    assert {kind: found[deal.id] for kind, deal in deals.items()} == {
        "move": T - 5 * DAY,
        "edit": T - 6 * DAY,
        "lead_note": T - 7 * DAY,
        "deal_note": T - 8 * DAY,
        "task": T - 9 * DAY,
        "sent": T - 10 * DAY,
        "received": T - 11 * DAY,
        "quiet": T - 40 * DAY,
    }
    assert theirs.id not in found


# -- the sweep ---------------------------------------------------------------------------


def test_sweep_marks_open_deals_past_their_stage_stale_days_and_only_those(crew):
    # Qualified goes stale after 14 days; Discovery is made never to go stale.
    stage_named(crew.team.id, "Discovery").stale_days = None
    past = old_deal(crew, "Past Co", ago=15)
    within = old_deal(crew, "Within Co", ago=13)
    never = old_deal(crew, "Never Co", "Discovery", ago=100)
    won = old_deal(crew, "Won Co", "Won", ago=100, value=Decimal(5))
    db.session.commit()

    report = staleness.sweep(db.session, crew.team.id, T)
    db.session.commit()

    assert (report.checked, report.marked, report.cleared) == (3, 1, 0)
    assert fresh(past).stale_at == T
    assert fresh(within).stale_at is None
    assert fresh(never).stale_at is None
    assert fresh(won).stale_at is None
    again = staleness.sweep(db.session, crew.team.id, T + DAY)
    assert (again.marked, again.cleared) == (0, 0)
    assert fresh(past).stale_at == T  # marked when it went stale, not moved each day


def test_sweep_clears_a_deal_touched_since_and_brings_its_last_touch_up(crew):
    stale = old_deal(crew, "Stale Co", ago=30, stale_at=T - 10 * DAY)
    db.session.add(
        Message(team_id=crew.team.id, lead_id=stale.lead_id, to_e164=mobile(3), body="Hi",
                status="delivered", sent_at=T - 2 * DAY)
    )  # fmt: skip
    db.session.commit()

    report = staleness.sweep(db.session, crew.team.id, T)
    db.session.commit()

    assert (report.marked, report.cleared, report.touched) == (0, 1, 1)
    assert fresh(stale).stale_at is None
    assert fresh(stale).last_touch_at == T - 2 * DAY


def test_sweep_clears_a_stale_deal_whose_stage_no_longer_goes_stale(crew):
    stale = old_deal(crew, "Stale Co", ago=30, stale_at=T - 10 * DAY)
    stage_named(crew.team.id, "Qualified").stale_days = None
    db.session.commit()

    assert staleness.sweep(db.session, crew.team.id, T).cleared == 1
    db.session.commit()
    assert fresh(stale).stale_at is None


def test_sweep_never_moves_a_last_touch_back(crew):
    deal = old_deal(crew, "Fresh Co", ago=40)
    deal.last_touch_at = T - DAY  # set by a cheap path the tables do not show
    db.session.commit()

    assert staleness.sweep(db.session, crew.team.id, T).marked == 0
    assert fresh(deal).last_touch_at == T - DAY


# -- keeping the last touch fresh --------------------------------------------------------


def test_a_reply_touches_the_leads_open_deal_and_lifts_its_stale_mark(crew):
    desk = make_desk(crew)
    lead = texted_lead(desk, 1, sent_at=T - 40 * DAY)
    deal = make_deal(crew.team.id, lead, "Qualified", at=T - 30 * DAY, stale_at=T - DAY)
    closed = make_deal(crew.team.id, lead, "Lost", at=T - 30 * DAY, history=False)
    db.session.commit()

    receive_text(desk, mobile(1), "Still interested, call me", now=T)
    db.session.commit()

    assert (fresh(deal).last_touch_at, fresh(deal).stale_at) == (T, None)
    assert fresh(closed).last_touch_at == T - 30 * DAY


def test_a_note_on_the_lead_touches_its_open_deal(crew):
    deal = old_deal(crew, "Noted Co", ago=30, stale_at=T - DAY)
    note = notes.add_note(db.session, deal.lead, crew.operator, "Owner wants a call")
    db.session.commit()

    assert fresh(deal).last_touch_at == note.created_at
    assert fresh(deal).stale_at is None


def test_a_task_booked_and_done_on_a_deal_touches_it(crew):
    deal = old_deal(crew, "Tasked Co", ago=30)
    task = tasks.create_task(
        db.session, crew.team.id, crew.manager, title="Send the NDA", due_at=T + DAY,
        zone="America/Chicago", assignee_id=crew.operator.id, deal_id=deal.id,
    )  # fmt: skip
    db.session.commit()
    assert fresh(deal).last_touch_at == task.created_at

    tasks.mark_done(db.session, task, crew.operator, task.created_at + DAY)
    db.session.commit()
    assert fresh(deal).last_touch_at == task.created_at + DAY


# -- the daily job -----------------------------------------------------------------------


def sweeps() -> int:
    return db.session.scalar(select(func.count(JobRun.id)).where(JobRun.kind == "mark_stale"))


def test_the_ticker_starts_one_sweep_a_team_a_day(app, crew, outsider):
    assert deal_jobs.tick(app, db.session, T) == 2
    assert deal_jobs.tick(app, db.session, T + timedelta(hours=1)) == 0
    assert sweeps() == 2
    # The day is the team's: 21:00 UTC is 4 pm in New York, whose next day starts at 05:00.
    assert deal_jobs.tick(app, db.session, T + timedelta(hours=7)) == 0
    assert deal_jobs.tick(app, db.session, T + timedelta(hours=8)) == 2
    assert sweeps() == 4


def test_the_sending_ticker_runs_the_deal_sweep(app, crew, console_clock):
    assert sending_jobs.tick(app)["stale_sweeps"] == 1
    assert sending_jobs.tick(app)["stale_sweeps"] == 0


def test_the_sweep_job_marks_the_teams_stale_deals(app, crew, console_clock):
    deal = old_deal(crew, "Stale Co", ago=20)
    db.session.commit()
    deal_jobs.tick(app, db.session, T)
    run_id = db.session.scalar(select(JobRun.id).where(JobRun.kind == "mark_stale"))

    assert execute_run(run_id) == "1 deal marked stale, 0 no longer stale (1 open deals checked)."

    run = db.session.get(JobRun, run_id)
    assert (run.status, run.counts) == ("done", {"checked": 1, "marked": 1, "cleared": 0})
    assert fresh(deal).stale_at is not None


def test_mark_stale_command_sweeps_now(runner, crew, outsider, console_clock):
    deal = old_deal(crew, "Stale Co", ago=20)
    db.session.commit()

    result = runner.invoke(args=["deals", "mark-stale", "--team", crew.team.name])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "team": crew.team.name, "checked": 1, "marked": 1, "cleared": 0,
    }  # fmt: skip
    assert fresh(deal).stale_at is not None
    everyone = runner.invoke(args=["deals", "mark-stale"])
    assert [json.loads(line)["team"] for line in everyone.output.splitlines()] == [
        crew.team.name,
        outsider.team.name,
    ]


def test_mark_stale_command_says_what_it_does(runner):
    result = runner.invoke(args=["deals", "mark-stale", "--help"])
    assert "stale days" in result.output and "--team" in result.output


# -- the timeline's words ----------------------------------------------------------------


def deal_words(lead) -> list[str]:
    db.session.expire_all()
    page = timeline.for_lead(db.session, lead, kinds=["deals"])
    return [event.what for event in page.events]


def test_timeline_words_won_lost_and_reopened_deals(crew):
    team_id, manager = crew.team.id, crew.manager
    won = old_deal(crew, "Won Co", "Closing", ago=10, value=Decimal(900_000))
    move_deal(db.session, won, stage_named(team_id, "Won"), manager,
              fields=MoveFields(value=Decimal(1_250_000)), now=T - 2 * DAY)  # fmt: skip
    price_gap = pipelines.lost_reasons(db.session, team_id)[1]
    lost = old_deal(crew, "Lost Co", "Valuation", ago=10)
    move_deal(db.session, lost, stage_named(team_id, "Lost"), manager,
              fields=MoveFields(lost_reason_id=price_gap.id), now=T - 2 * DAY)  # fmt: skip
    back = old_deal(crew, "Back Co", "Valuation", ago=10)
    move_deal(db.session, back, stage_named(team_id, "Lost"), manager,
              fields=MoveFields(lost_reason_id=price_gap.id), now=T - 2 * DAY)  # fmt: skip
    move_deal(db.session, back, stage_named(team_id, "Qualified"), manager, now=T - DAY)
    db.session.commit()

    assert price_gap.name == "Price gap"
    assert deal_words(won.lead)[0] == "Deal won at $1,250,000"
    assert deal_words(lost.lead)[0] == "Deal lost: Price gap"
    assert deal_words(back.lead) == [
        "Deal reopened in Qualified",
        "Deal lost",  # its reason went with the reopening
        "Deal opened in Valuation",
    ]
