"""Moving a deal between stages (console.services.deals.moves), on SQLite and PostgreSQL:
who may, what a stage asks for on entry, what won and lost record, reopening, and the
history row that goes with every move in the same transaction."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import AuditEvent, Deal, DealStageHistory
from console.services.deals import moves, pipelines
from tests.clock import TEST_NOW
from tests.conftest import login, make_lead
from tests.deal_helpers import make_deal, stage_named


def history_of(deal: Deal) -> list[tuple[str, str]]:
    return [
        (row.from_stage, row.to_stage)
        for row in db.session.scalars(
            select(DealStageHistory)
            .where(DealStageHistory.deal_id == deal.id)
            .order_by(DealStageHistory.id)
        )
    ]


@pytest.fixture
def deal(crew):
    lead = make_lead(crew.team, "Harbor Plumbing")
    made = make_deal(crew.team.id, lead, "Qualified", at=TEST_NOW - timedelta(days=9))
    made.assignee_id = crew.operator.id
    db.session.commit()
    return made


def move(deal, stage_name, user, **fields):
    stage = stage_named(deal.team_id, stage_name)
    done = moves.move_deal(
        db.session, deal, stage, user, fields=moves.MoveFields(**fields), now=TEST_NOW
    )
    db.session.commit()
    return done


def test_a_move_changes_the_stage_and_writes_its_history_and_audit(crew, deal):
    row = move(deal, "Valuation", crew.manager, note="Owner sent the P&L")
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert deal.stage.name == "Valuation"
    assert (deal.stage_at, deal.last_touch_at, deal.stale_at) == (TEST_NOW, TEST_NOW, None)
    assert history_of(deal) == [("", "Qualified"), ("Qualified", "Valuation")]
    assert (row.by_id, row.note, row.at) == (crew.manager.id, "Owner sent the P&L", TEST_NOW)
    assert (row.from_stage_id, row.to_stage_id) == (
        stage_named(crew.team.id, "Qualified").id,
        deal.stage_id,
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deal.moved")).one()
    assert (event.before["stage"], event.after["stage"]) == ("Qualified", "Valuation")


def test_moving_to_the_stage_it_is_in_does_nothing(crew, deal):
    assert move(deal, "Qualified", crew.manager) is None
    assert history_of(deal) == [("", "Qualified")]


def test_a_stage_that_needs_fields_asks_for_the_missing_ones(crew, deal):
    with pytest.raises(moves.NeedsFields) as asked:
        move(deal, "Due diligence", crew.manager)
    assert asked.value.missing == ["value", "expected_close"]
    assert str(asked.value) == "Due diligence needs the deal's value, expected close date."
    db.session.rollback()

    move(deal, "Due diligence", crew.manager, value=Decimal("950000"),
         expected_close=date(2026, 4, 30))  # fmt: skip
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert (deal.stage.name, deal.value, deal.expected_close) == (
        "Due diligence",
        Decimal("950000.00"),
        date(2026, 4, 30),
    )


def test_a_value_the_deal_already_has_is_enough(crew, deal):
    deal.value = Decimal("400000")
    db.session.commit()
    assert moves.missing_fields(deal, stage_named(crew.team.id, "LOI")) == []
    move(deal, "LOI", crew.manager)
    assert db.session.get(Deal, deal.id).stage.name == "LOI"


def test_won_records_the_close_date_and_final_value(crew, deal):
    move(deal, "Won", crew.manager, value=Decimal("1250000"))
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert (deal.stage.outcome, deal.value, deal.closed_on) == (
        "won",
        Decimal("1250000.00"),
        TEST_NOW.date(),
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deal.won")).one()
    assert event.after["closed_on"] == TEST_NOW.date().isoformat()


def test_lost_needs_one_of_the_teams_reasons(crew, outsider, deal):
    with pytest.raises(moves.NeedsFields) as asked:
        move(deal, "Lost", crew.manager)
    assert asked.value.missing == ["lost_reason"]
    db.session.rollback()
    theirs = pipelines.lost_reasons(db.session, outsider.team.id)[0]
    with pytest.raises(moves.MoveRefused, match="Pick why the deal was lost"):
        move(deal, "Lost", crew.manager, lost_reason_id=theirs.id)
    db.session.rollback()

    price_gap = next(
        r for r in pipelines.lost_reasons(db.session, crew.team.id) if r.name == "Price gap"
    )
    move(deal, "Lost", crew.manager, lost_reason_id=price_gap.id, lost_note="Wants 2x",
         closed_on=date(2026, 1, 12))  # fmt: skip
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert (deal.lost_reason.name, deal.lost_note, deal.closed_on) == (
        "Price gap",
        "Wants 2x",
        date(2026, 1, 12),
    )


def test_reopening_clears_the_outcome_and_is_audited(crew, deal):
    reason = pipelines.lost_reasons(db.session, crew.team.id)[0]
    move(deal, "Lost", crew.manager, lost_reason_id=reason.id)
    move(deal, "Qualified", crew.manager)
    db.session.expire_all()
    deal = db.session.get(Deal, deal.id)
    assert (deal.closed_on, deal.lost_reason_id, deal.lost_note) == (None, None, "")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "deal.reopened")).one()
    assert (event.before["stage"], event.before["lost_reason"], event.after["stage"]) == (
        "Lost",
        reason.name,
        "Qualified",
    )
    assert history_of(deal)[-1] == ("Lost", "Qualified")


def test_only_the_assignee_or_a_manager_moves_a_deal(crew, deal):
    assert moves.can_move(crew.operator, deal)  # assigned to them
    assert moves.can_move(crew.manager, deal) and moves.can_move(crew.admin, deal)
    assert not moves.can_move(crew.reviewer, deal)
    with pytest.raises(moves.MoveRefused, match="Only the deal's assignee"):
        move(deal, "Valuation", crew.reviewer)
    db.session.rollback()
    move(deal, "Valuation", crew.operator)
    assert db.session.get(Deal, deal.id).stage.name == "Valuation"


def test_a_stage_of_another_pipeline_is_refused(crew, deal):
    other = pipelines.add_pipeline(db.session, crew.team.id, "Real estate")
    target = pipelines.first_open_stage(db.session, other.id)
    with pytest.raises(moves.MoveRefused, match="own pipeline"):
        moves.move_deal(db.session, deal, target, crew.manager, now=TEST_NOW)


def test_a_deal_moved_since_the_mover_saw_it_is_a_conflict_not_a_second_move(crew, deal):
    seen = deal.stage_id
    move(deal, "Valuation", crew.manager)
    with pytest.raises(moves.MoveConflict) as conflict:
        moves.move_deal(
            db.session,
            deal,
            stage_named(crew.team.id, "Discovery"),
            crew.operator,
            seen_stage_id=seen,
            now=TEST_NOW,
            zone="America/New_York",
        )
    assert str(conflict.value) == (
        "Manager of Harbor Partners moved this deal to Valuation at Jan 14, 2026, 4:00 pm EST;"
        " it is shown where it is now."
    )
    db.session.rollback()
    assert db.session.get(Deal, deal.id).stage.name == "Valuation"
    assert history_of(deal) == [("", "Qualified"), ("Qualified", "Valuation")]


def test_the_history_row_goes_with_the_move_or_not_at_all(crew, deal):
    """The stage and its history row are one transaction: rolled back together."""
    moves.move_deal(
        db.session, deal, stage_named(crew.team.id, "Valuation"), crew.manager, now=TEST_NOW
    )
    db.session.rollback()  # a failure after the move, before the commit
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage.name == "Qualified"
    assert db.session.scalar(select(func.count(DealStageHistory.id))) == 1


def test_a_retired_reason_is_refused_unless_the_deal_already_has_it(crew, deal):
    went_silent = next(
        r for r in pipelines.lost_reasons(db.session, crew.team.id) if r.name == "Went silent"
    )
    went_silent.active = False
    db.session.commit()
    with pytest.raises(moves.MoveRefused, match="is retired"):
        move(deal, "Lost", crew.manager, lost_reason_id=went_silent.id)
    db.session.rollback()
    deal = db.session.get(Deal, deal.id)
    deal.lost_reason_id = went_silent.id  # lost for it before it was retired
    db.session.commit()
    move(deal, "Lost", crew.manager, lost_reason_id=went_silent.id)
    assert db.session.get(Deal, deal.id).lost_reason.name == "Went silent"


# -- from the deal page ---------------------------------------------------------------------


def post_move(client, deal, stage_name, **form):
    data = {
        "stage_id": stage_named(deal.team_id, stage_name).id,
        "seen_stage_id": form.pop("seen", deal.stage_id),
        "next": f"/deals/{deal.id}",
        **form,
    }
    return client.post(f"/deals/{deal.id}/move", data=data)


def test_the_deal_page_moves_its_deal_and_comes_back(client, crew, deal):
    login(client, crew.operator)  # its assignee
    page = client.get(f"/deals/{deal.id}").text
    assert 'id="deal-move"' in page and ">Move</button>" in page
    response = post_move(client, deal, "Valuation")
    assert (response.status_code, response.location) == (303, f"/deals/{deal.id}")
    assert (
        "Moved Harbor Plumbing from Qualified to Valuation." in client.get(response.location).text
    )
    assert history_of(deal)[-1] == ("Qualified", "Valuation")


def test_the_deal_page_asks_for_a_stages_fields_on_a_page(client, crew, deal):
    login(client, crew.operator)
    response = post_move(client, deal, "LOI")
    assert response.status_code == 422
    assert 'name="value"' in response.text and f'value="/deals/{deal.id}"' in response.text
    assert post_move(client, deal, "LOI", value="600,000").status_code == 303
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).value == Decimal("600000.00")


def test_a_conflict_from_the_deal_page_goes_back_to_it_saying_so(client, crew, deal):
    seen = deal.stage_id
    move(deal, "Valuation", crew.manager)
    login(client, crew.operator)
    response = post_move(client, deal, "Discovery", seen=seen)
    assert (response.status_code, response.location) == (303, f"/deals/{deal.id}")
    assert (
        "Manager of Harbor Partners moved this deal to Valuation"
        in client.get(response.location).text
    )
    assert db.session.get(Deal, deal.id).stage.name == "Valuation"


def test_a_lost_deal_reopens_from_its_page(client, crew, deal):
    reason = pipelines.lost_reasons(db.session, crew.team.id)[0]
    move(deal, "Lost", crew.manager, lost_reason_id=reason.id)
    login(client, crew.manager)
    assert ">Reopen</button>" in client.get(f"/deals/{deal.id}").text
    assert post_move(client, deal, "Qualified").status_code == 303
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "deal.reopened")
        )
        == 1
    )


def test_no_move_form_for_a_person_who_cannot_move_the_deal(client, crew, deal):
    login(client, crew.reviewer)
    assert 'id="deal-move"' not in client.get(f"/deals/{deal.id}").text
    assert post_move(client, deal, "Valuation").status_code == 403


def test_a_next_address_off_the_console_is_not_followed(client, crew, deal):
    login(client, crew.manager)
    response = post_move(client, deal, "Valuation", next="https://evil.example/deals/1")
    assert response.location == "/pipeline"
