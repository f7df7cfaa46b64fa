"""How urgent a reply is: its priority, bucket, deadline and where it is routed.

After the seed's inbox formula: the label's weight, plus half the lead's score, plus
how fast the owner answered our last text (20 within the hour, 10 within the day),
plus 15 when the person is a decision maker, capped at 200. `BUCKETS` is the one
table of bucket boundaries and deadlines; every item's bucket comes from `bucket_for`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

WEIGHTS: dict[str, int] = {
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
CAP = 200
DECISION_MAKER_POINTS = 15
RECENCY_POINTS = ((timedelta(hours=1), 20), (timedelta(hours=24), 10))
# (bucket, lowest priority, deadline), most urgent first.
BUCKETS: tuple[tuple[str, int, timedelta], ...] = (
    ("urgent", 150, timedelta(minutes=15)),
    ("high", 100, timedelta(hours=1)),
    ("medium", 50, timedelta(hours=4)),
    ("low", 0, timedelta(hours=24)),
)
BUCKET_NAMES = {name: name.title() for name, _, _ in BUCKETS}
ROUTES: dict[str, str] = {
    "hot": "Hot leads",
    "callbacks": "Callbacks",
    "sales": "Sales",
    "gold": "Gold (email captured)",
    "questions": "Questions",
    "review": "Review",
    "archive": "Archive",
    "suppressed": "Suppressed",
}
ROUTE_FOR_LABEL: dict[str, str] = {
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
# A possible revocation the rules missed is confirmed by a person within the urgent SLA.
SUSPECTED_OPT_OUT_PRIORITY = 150
_DECISION_MAKER = re.compile(
    r"\b(owner|co-?owner|president|ceo|founder|co-?founder|principal|partner|proprietor|"
    r"managing member|chief executive)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Priority:
    """A reply's place in the inbox."""

    score: int
    bucket: str
    route: str
    sla_due_at: datetime
    parts: tuple[tuple[str, int], ...]

    def explain(self) -> str:
        """ "label 100 + score 40 + answered within the hour 20 = 160" for the item."""
        return " + ".join(f"{name} {points}" for name, points in self.parts) + f" = {self.score}"


def is_decision_maker(title: str) -> bool:
    """Whether an owner's title says they can decide to sell."""
    return bool(title and _DECISION_MAKER.search(title))


def prioritize(
    label: str,
    *,
    lead_score: int | None,
    title: str,
    received_at: datetime,
    last_outbound_at: datetime | None,
    opt_out_suspected: bool = False,
) -> Priority:
    """Priority, bucket, route and deadline of a reply."""
    parts = [(f"{label.lower().replace('_', ' ')}", WEIGHTS.get(label, WEIGHTS["UNCLEAR"]))]
    if lead_score:
        parts.append(("half the lead score", max(0, int(lead_score)) // 2))
    if last_outbound_at is not None:
        waited = received_at - last_outbound_at
        for within, points in RECENCY_POINTS:
            if waited <= within:
                parts.append((f"answered within {_span(within)}", points))
                break
    if is_decision_maker(title):
        parts.append(("decision maker", DECISION_MAKER_POINTS))
    score = min(CAP, sum(points for _, points in parts))
    route = ROUTE_FOR_LABEL.get(label, "review")
    if opt_out_suspected and label != "STOP":
        score = max(score, SUSPECTED_OPT_OUT_PRIORITY)
        parts.append(("possible opt-out to confirm", 0))
        route = "review"
    bucket, deadline = bucket_for(score)
    return Priority(score, bucket, route, received_at + deadline, tuple(parts))


def bucket_for(score: int) -> tuple[str, timedelta]:
    """The bucket a priority falls in, and its deadline."""
    for name, lowest, deadline in BUCKETS:
        if score >= lowest:
            return name, deadline
    return BUCKETS[-1][0], BUCKETS[-1][2]


def _span(delta: timedelta) -> str:
    return "the hour" if delta <= timedelta(hours=1) else "the day"
