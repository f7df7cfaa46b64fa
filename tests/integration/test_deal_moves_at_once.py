"""Two people move the same card at once, each in their own request (thread, session and
database connection), on SQLite and PostgreSQL.

The decision (console/services/deals/moves.py): not last-write-wins. Both saw the deal in
Qualified; the first move to reach the database wins, and the second is refused with a
conflict that names who moved it where, so its mover sees the card where it now is and
decides again. The deal has exactly one new history row, the winner's.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import Deal, DealStageHistory, User
from console.services.deals import moves
from tests.clock import TEST_NOW
from tests.conftest import make_lead
from tests.deal_helpers import make_deal, stage_named

ROUNDS = 6


def _mover(app, deal_id, user_id, stage_name, seen_id, ready, go, outcomes, index):
    """One person's request: load the deal, wait for the other, move it, commit."""
    with app.app_context():
        try:
            deal = db.session.get(Deal, deal_id)
            user = db.session.get(User, user_id)
            target = stage_named(deal.team_id, stage_name)
            ready.wait()  # both have read the deal in its old stage
            go.wait()
            try:
                moves.move_deal(db.session, deal, target, user, seen_stage_id=seen_id, now=TEST_NOW)
                db.session.commit()
                outcomes[index] = ("moved", stage_name)
            except moves.MoveConflict as conflict:
                db.session.rollback()
                outcomes[index] = ("conflict", str(conflict))
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            db.session.rollback()
            outcomes[index] = ("error", repr(exc))
        finally:
            db.session.remove()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_people_moving_one_card_at_once_one_wins_the_other_is_told(app, crew, round_):
    lead = make_lead(crew.team, f"Harbor Plumbing {round_}")
    deal = make_deal(crew.team.id, lead, "Qualified", at=TEST_NOW - timedelta(days=3))
    db.session.commit()
    seen = deal.stage_id
    people = [(crew.manager, "Valuation"), (crew.admin, "Discovery")]
    if round_ % 2:
        people.reverse()  # either may reach the database first
    ready, go = threading.Barrier(2), threading.Barrier(2)
    outcomes: list = [None, None]
    threads = [
        threading.Thread(
            target=_mover,
            args=(app, deal.id, user.id, stage, seen, ready, go, outcomes, i),
        )
        for i, (user, stage) in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["conflict", "moved"], outcomes
    (winner_stage,) = [what for kind, what in outcomes if kind == "moved"]
    (message,) = [what for kind, what in outcomes if kind == "conflict"]
    winner = next(user for user, stage in people if stage == winner_stage)
    assert message.startswith(f"{winner.name} moved this deal to {winner_stage} at ")

    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage.name == winner_stage
    rows = db.session.scalars(
        select(DealStageHistory)
        .where(DealStageHistory.deal_id == deal.id)
        .order_by(DealStageHistory.id)
    ).all()
    assert [(r.from_stage, r.to_stage, r.by_id) for r in rows] == [
        ("", "Qualified", None),
        ("Qualified", winner_stage, winner.id),
    ]
