"""A reply's priority after the seed's inbox formula: the label's weight, half the
lead's score, how fast the owner answered, a decision maker's title, capped at 200;
its bucket and deadline; the route each label takes; a suspected opt-out jumps the
queue to a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.services.replies import priority
from console.services.replies.classify import LABELS
from console.services.replies.priority import bucket_for, is_decision_maker, prioritize

RECEIVED = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)

# The seed's weights, written out: the module's table must keep agreeing with them.
SEED_WEIGHTS = {
    "CALLBACK_REQUEST": 110,
    "POSITIVE": 100,
    "EMAIL_CAPTURE": 100,
    "PRICE_INQUIRY": 95,
    "QUESTION": 60,
    "NOT_OWNER": 40,
    "UNCLEAR": 40,
    "LATER": 35,
    "NEGATIVE": 10,
    "WRONG_NUMBER": 5,
    "STOP": 0,
}
SEED_ROUTES = {
    "POSITIVE": "hot",
    "CALLBACK_REQUEST": "callbacks",
    "PRICE_INQUIRY": "sales",
    "EMAIL_CAPTURE": "gold",
    "QUESTION": "questions",
    "LATER": "review",
    "NOT_OWNER": "review",
    "UNCLEAR": "review",
    "NEGATIVE": "archive",
    "WRONG_NUMBER": "archive",
    "STOP": "suppressed",
}


def place(
    label: str = "QUESTION",
    *,
    score: int | None = None,
    title: str = "",
    waited: timedelta | None = None,
    suspected: bool = False,
) -> priority.Priority:
    """The priority of a reply received at RECEIVED, `waited` after our last text."""
    return prioritize(
        label,
        lead_score=score,
        title=title,
        received_at=RECEIVED,
        last_outbound_at=RECEIVED - waited if waited is not None else None,
        opt_out_suspected=suspected,
    )


# ------------------------------------------------------------------------------ formula


@pytest.mark.parametrize(("label", "weight"), sorted(SEED_WEIGHTS.items()))
def test_a_label_alone_scores_its_weight(label, weight):
    assert place(label).score == weight


def test_every_label_has_a_weight_and_a_route():
    assert set(priority.WEIGHTS) == set(LABELS)
    assert set(priority.ROUTE_FOR_LABEL) == set(LABELS)
    assert set(priority.ROUTE_FOR_LABEL.values()) <= set(priority.ROUTES)


def test_an_unknown_label_weighs_as_unclear_and_goes_to_review():
    unknown = place("SOMETHING_NEW")
    assert unknown.score == SEED_WEIGHTS["UNCLEAR"]
    assert unknown.route == "review"


@pytest.mark.parametrize(
    ("score", "points"),
    [(None, 0), (0, 0), (1, 0), (2, 1), (41, 20), (80, 40), (81, 40), (100, 50), (-30, 0)],
)
def test_half_the_lead_score_rounds_down(score, points):
    assert place("QUESTION", score=score).score == 60 + points


@pytest.mark.parametrize(
    ("waited", "points"),
    [
        (timedelta(minutes=1), 20),
        (timedelta(minutes=59, seconds=59), 20),
        (timedelta(hours=1), 20),
        (timedelta(hours=1, seconds=1), 10),
        (timedelta(hours=23), 10),
        (timedelta(hours=24), 10),
        (timedelta(hours=24, seconds=1), 0),
        (timedelta(days=9), 0),
        (None, 0),
    ],
)
def test_a_quick_answer_earns_twenty_within_the_hour_and_ten_within_the_day(waited, points):
    assert place("QUESTION", waited=waited).score == 60 + points


@pytest.mark.parametrize(
    "title",
    [
        "Owner",
        "owner/operator",
        "Co-Owner",
        "President",
        "CEO",
        "Founder & CEO",
        "Co-founder",
        "Principal",
        "Managing Partner",
        "Proprietor",
        "Managing Member",
        "Chief Executive Officer",
    ],
)
def test_a_decision_makers_title_adds_fifteen(title):
    assert is_decision_maker(title)
    assert place("QUESTION", title=title).score == 60 + 15


@pytest.mark.parametrize(
    "title",
    ["", "Office Manager", "Bookkeeper", "Receptionist", "Ownership liaison", "Sales associate"],
)
def test_other_titles_add_nothing(title):
    assert not is_decision_maker(title)
    assert place("QUESTION", title=title).score == 60


def test_all_parts_add_up():
    found = place("POSITIVE", score=70, title="Owner", waited=timedelta(minutes=5))
    assert found.score == 100 + 35 + 20 + 15
    assert [points for _, points in found.parts] == [100, 35, 20, 15]
    assert found.explain() == (
        "positive 100 + half the lead score 35 + answered within the hour 20"
        " + decision maker 15 = 170"
    )


def test_priority_is_capped_at_two_hundred():
    most = place("CALLBACK_REQUEST", score=100, title="Owner", waited=timedelta(minutes=1))
    assert most.score == 110 + 50 + 20 + 15 == 195
    capped = place("CALLBACK_REQUEST", score=250, title="CEO", waited=timedelta(minutes=1))
    assert capped.score == priority.CAP == 200
    assert capped.bucket == "urgent"


# ---------------------------------------------------------------------- buckets and SLA


@pytest.mark.parametrize(
    ("score", "bucket", "deadline"),
    [
        (0, "low", timedelta(hours=24)),
        (49, "low", timedelta(hours=24)),
        (50, "medium", timedelta(hours=4)),
        (99, "medium", timedelta(hours=4)),
        (100, "high", timedelta(hours=1)),
        (149, "high", timedelta(hours=1)),
        (150, "urgent", timedelta(minutes=15)),
        (200, "urgent", timedelta(minutes=15)),
    ],
)
def test_bucket_edges_and_deadlines(score, bucket, deadline):
    assert bucket_for(score) == (bucket, deadline)


@pytest.mark.parametrize(
    ("label", "score", "expected", "bucket", "deadline"),
    [
        ("LATER", 28, 49, "low", timedelta(hours=24)),
        ("LATER", 30, 50, "medium", timedelta(hours=4)),
        ("QUESTION", 78, 99, "medium", timedelta(hours=4)),
        ("QUESTION", 80, 100, "high", timedelta(hours=1)),
        ("PRICE_INQUIRY", 108, 149, "high", timedelta(hours=1)),
        ("PRICE_INQUIRY", 110, 150, "urgent", timedelta(minutes=15)),
    ],
)
def test_a_reply_on_each_edge_gets_that_buckets_deadline(label, score, expected, bucket, deadline):
    found = place(label, score=score)
    assert (found.score, found.bucket) == (expected, bucket)
    assert found.sla_due_at == RECEIVED + deadline


def test_a_negative_score_still_falls_in_low():
    assert bucket_for(-5) == ("low", timedelta(hours=24))


def test_every_bucket_has_a_name():
    assert list(priority.BUCKET_NAMES) == ["urgent", "high", "medium", "low"]


# ------------------------------------------------------------------------------- routes


@pytest.mark.parametrize(("label", "route"), sorted(SEED_ROUTES.items()))
def test_each_label_takes_its_route(label, route):
    assert place(label).route == route


# ---------------------------------------------------------------- a suspected opt-out


@pytest.mark.parametrize("label", ["QUESTION", "NEGATIVE", "UNCLEAR", "WRONG_NUMBER"])
def test_a_suspected_opt_out_goes_to_review_as_urgent(label):
    found = place(label, suspected=True)
    assert found.route == "review"
    assert found.bucket == "urgent"
    assert found.score == priority.SUSPECTED_OPT_OUT_PRIORITY
    assert found.sla_due_at == RECEIVED + timedelta(minutes=15)


def test_a_suspected_opt_out_never_lowers_a_higher_priority():
    found = place("POSITIVE", score=100, title="Owner", waited=timedelta(minutes=2), suspected=True)
    assert found.score == 185
    assert (found.bucket, found.route) == ("urgent", "review")


def test_a_stop_the_rules_found_stays_suppressed_when_also_suspected():
    found = place("STOP", suspected=True)
    assert found.route == "suppressed"
    assert found.score == 0
