"""Response time: how long owners wait for a person's answer (Reports > Response time).

What counts:
- A reply is an inbox item that began in the range (its first text, `created_at`),
  except those no person owes an answer: opted out, number suppressed, or answered
  automatically (`NO_ANSWER_OWED`).
- Its answer is the first text a person sent to the conversation from that moment on:
  a reply or apology (`REPLY_KINDS`) with a person's approval (the inbox's send or the
  deal page's reply; an automatic one has none), timed when the person sent it
  (`approved_at`: a reply held for the owner's quiet hours was still answered then).
- The time is counted on the wall clock, or in the team's working hours only
  (`policy.WORKING_HOURS` in the team's zone) when the team chose business hours.
- Deadline met: answered by the item's deadline (`sla_due_at`, from
  `replies.priority`), on the wall clock whatever the setting; an item never read has
  no deadline and counts as missed.
- Median is the middle time (the mean of the two middle ones); p90 the time 90% of
  answers came within (nearest rank). Unanswered replies are counted apart.

SQL finds each reply's first answer (one window over the team's replies in the range);
the times are then worked out over that bounded set (a team's replies in the range).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from console.models import InboxItem, Message, Team, User
from console.models.campaigns import REPLY_KINDS
from console.services.reports.scope import ReportScope
from console.services.reports.tables import Chart, Column, ReportPage, Table, rate
from console.services.sending.policy import WORKING_HOURS, ReplySettings, WorkingHours
from console.services.timezones import team_zone_name, zone_label, zone_of

NO_ANSWER_OWED = ("opted_out", "suppressed", "auto_sent")
# (label, from, to) in seconds; the last bucket has no end.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-15 min", 0, 15 * 60),
    ("15-60 min", 15 * 60, 3600),
    ("1-4 h", 3600, 4 * 3600),
    ("4-24 h", 4 * 3600, 24 * 3600),
    ("24 h+", 24 * 3600, None),
)


@dataclass(frozen=True)
class Reply:
    """One reply in the range and its first human answer (None when none yet)."""

    item_id: int
    arrived_at: datetime
    due_at: datetime | None
    resolved_by_id: int | None
    answered_at: datetime | None
    answered_by_id: int | None
    seconds: float | None = None

    @property
    def met(self) -> bool:
        """Answered by the item's deadline."""
        return (
            self.answered_at is not None
            and self.due_at is not None
            and (self.answered_at <= self.due_at)
        )


def page(session: Session, scope: ReportScope, now: datetime, prices: dict) -> ReportPage:
    """The Response time page: summary, histogram (with its chart) and reviewers."""
    team = session.get(Team, scope.team_id)
    business = ReplySettings.of(team).response_business_hours
    zone = team_zone_name(team)
    replies = timed(replies_in(session, scope, now), business, zone)
    histogram = histogram_table(replies)
    report = ReportPage(
        key="response",
        title="Response time",
        tables=[summary_table(replies), histogram, reviewers_table(session, scope, replies)],
        charts=[
            Chart(
                title="Replies by time to a person's answer",
                kind="bars",
                labels=[row["bucket"] for row in histogram.rows],
                series={"Replies": [row["replies"] for row in histogram.rows]},
                table="histogram",
                unit="count",
            )
        ],
    )
    report.notes.append(clock_note(business, zone))
    report.notes.append(
        "A reply is an owner's text (or run of texts) waiting for a person; opt-outs, "
        "suppressed numbers and replies sent automatically owe no answer and are left out. "
        "The answer is the first text a person sent back. Deadlines are the inbox's, on "
        "the wall clock; a reply never read had none and counts as missed."
    )
    return report


def clock_note(business: bool, zone: str) -> str:
    """Which clock the times are on, in words."""
    if business:
        return (
            f"Times count business hours only: {WORKING_HOURS.text}, {zone_label(zone)} "
            "(Settings > Replies)."
        )
    return "Times count every hour on the clock (Settings > Replies offers business hours)."


def replies_in(session: Session, scope: ReportScope, now: datetime) -> list[Reply]:
    """The team's replies that began in the scope, each with its first human answer."""
    item = InboxItem
    wanted = [
        item.team_id == scope.team_id,
        item.created_at >= scope.start,
        item.created_at < scope.end,
        item.created_at <= now,
        item.resolution.not_in(NO_ANSWER_OWED),
    ]
    if scope.campaign_id:
        wanted.append(item.campaign_id == scope.campaign_id)
    if scope.persona:
        wanted.append(item.persona == scope.persona)
    answers = (
        select(
            item.id.label("item_id"),
            Message.approved_at.label("answered_at"),
            Message.approved_by_id.label("answered_by_id"),
            func.row_number()
            .over(partition_by=item.id, order_by=(Message.approved_at, Message.id))
            .label("nth"),
        )
        .join(
            Message,
            and_(
                Message.conversation_id == item.conversation_id,
                Message.team_id == item.team_id,
                Message.kind.in_(REPLY_KINDS),
                Message.approved_by_id.is_not(None),
                Message.approved_at >= item.created_at,
                Message.approved_at <= now,
            ),
        )
        .where(*wanted)
        .subquery()
    )
    rows = session.execute(
        select(
            item.id,
            item.created_at,
            item.sla_due_at,
            item.resolved_by_id,
            answers.c.answered_at,
            answers.c.answered_by_id,
        )
        .outerjoin(answers, and_(answers.c.item_id == item.id, answers.c.nth == 1))
        .where(*wanted)
        .order_by(item.id)
    )
    return [Reply(*row) for row in rows]


def timed(replies: list[Reply], business: bool, zone: str) -> list[Reply]:
    """The replies with their seconds to an answer, on the clock the team chose."""
    return [replace(reply, seconds=wait(reply, business, zone)) for reply in replies]


def wait(reply: Reply, business: bool, zone: str) -> float | None:
    """Seconds from the reply to its answer (business hours only when asked)."""
    if reply.answered_at is None:
        return None
    if business:
        return business_seconds(reply.arrived_at, reply.answered_at, zone)
    return (reply.answered_at - reply.arrived_at).total_seconds()


def business_seconds(
    start: datetime, end: datetime, zone: str, hours: WorkingHours = WORKING_HOURS
) -> float:
    """Seconds from `start` to `end` that fall in working hours on the clock of `zone`."""
    if end <= start:
        return 0.0
    tz = zone_of(zone)
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    total = 0.0
    while day <= last:
        if day.weekday() in hours.days:
            opens = datetime.combine(day, hours.opens, tzinfo=tz)
            closes = datetime.combine(day, hours.closes, tzinfo=tz)
            overlap = min(end, closes) - max(start, opens)
            total += max(0.0, overlap.total_seconds())
        day += timedelta(days=1)
    return total


def bucket_of(seconds: float) -> str:
    """The histogram bucket a time falls in (a bucket holds its start, not its end)."""
    for label, low, high in BUCKETS:
        if seconds >= low and (high is None or seconds < high):
            return label
    return BUCKETS[0][0]


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value at least `share` of them reach."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def middle(values: list[float]) -> float | None:
    """The median, None when there is nothing."""
    return median(values) if values else None


def summary_table(replies: list[Reply]) -> Table:
    """One row: replies, answered, unanswered, median, p90, deadline met."""
    answered = [reply for reply in replies if reply.seconds is not None]
    seconds = [reply.seconds for reply in answered]
    met = sum(reply.met for reply in answered)
    return Table(
        name="summary",
        title="Time to a person's answer",
        columns=[
            Column("replies", "Replies", "count"),
            Column("answered", "Answered", "count"),
            Column("unanswered", "Unanswered", "count"),
            Column("median_seconds", "Median", "seconds"),
            Column("p90_seconds", "p90", "seconds"),
            Column("deadline_met", "Deadline met", "count"),
            Column("deadline_met_rate", "Deadline met %", "rate"),
        ],
        rows=[
            {
                "replies": len(replies),
                "answered": len(answered),
                "unanswered": len(replies) - len(answered),
                "median_seconds": middle(seconds),
                "p90_seconds": percentile(seconds, 0.9),
                "deadline_met": met,
                "deadline_met_rate": rate(met, len(answered)),
            }
        ],
        note="Unanswered replies are counted apart: they are in no figure of time.",
    )


def histogram_table(replies: list[Reply]) -> Table:
    """Answered replies by how long they waited, with the deadlines met in each."""
    counts: dict[str, int] = defaultdict(int)
    met: dict[str, int] = defaultdict(int)
    for reply in replies:
        if reply.seconds is not None:
            label = bucket_of(reply.seconds)
            counts[label] += 1
            met[label] += reply.met
    answered = sum(counts.values())
    rows = [
        {
            "bucket": label,
            "replies": counts[label],
            "share": rate(counts[label], answered),
            "deadline_met": met[label],
            "deadline_met_rate": rate(met[label], counts[label]),
        }
        for label, _low, _high in BUCKETS
    ]
    total_met = sum(met.values())
    return Table(
        name="histogram",
        title="Answered replies by time to answer",
        columns=[
            Column("bucket", "Time to answer"),
            Column("replies", "Replies", "count"),
            Column("share", "Share", "rate"),
            Column("deadline_met", "Deadline met", "count"),
            Column("deadline_met_rate", "Deadline met %", "rate"),
        ],
        rows=rows,
        totals={
            "bucket": "All answered",
            "replies": answered,
            "share": rate(answered, answered),
            "deadline_met": total_met,
            "deadline_met_rate": rate(total_met, answered),
        },
        note=f"{len(replies) - answered:,} replies still unanswered are not in this table.",
    )


def reviewers_table(session: Session, scope: ReportScope, replies: list[Reply]) -> Table:
    """By person: the replies they closed, and the first answers they gave (median
    time, deadline met %)."""
    handled: dict[int, int] = defaultdict(int)
    times: dict[int, list[float]] = defaultdict(list)
    met: dict[int, int] = defaultdict(int)
    for reply in replies:
        if reply.resolved_by_id is not None:
            handled[reply.resolved_by_id] += 1
        if reply.seconds is not None and reply.answered_by_id is not None:
            times[reply.answered_by_id].append(reply.seconds)
            met[reply.answered_by_id] += reply.met
    people = _names(session, scope.team_id, set(handled) | set(times))
    rows = [
        {
            "reviewer": name,
            "handled": handled[user_id],
            "answered": len(times[user_id]),
            "median_seconds": middle(times[user_id]),
            "deadline_met_rate": rate(met[user_id], len(times[user_id])),
        }
        for user_id, name in sorted(people.items(), key=lambda pair: pair[1].lower())
    ]
    every_time = [seconds for found in times.values() for seconds in found]
    return Table(
        name="reviewers",
        title="By reviewer",
        columns=[
            Column("reviewer", "Reviewer"),
            Column("handled", "Items handled", "count"),
            Column("answered", "First answers", "count"),
            Column("median_seconds", "Median first response", "seconds"),
            Column("deadline_met_rate", "Deadline met %", "rate"),
        ],
        rows=rows,
        totals={
            "reviewer": "Everyone",
            "handled": sum(handled.values()),
            "answered": len(every_time),
            "median_seconds": middle(every_time),
            "deadline_met_rate": rate(sum(met.values()), len(every_time)),
        },
        note=(
            "Items handled: the replies of the range a person closed (answered, archived, "
            "converted...). First answers: the replies whose first human answer was theirs."
        ),
    )


def _names(session: Session, team_id: int, user_ids: set[int]) -> dict[int, str]:
    """The team's users among `user_ids` by id, by name (else email)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.name, User.email).where(User.team_id == team_id, User.id.in_(user_ids))
    )
    return {user_id: name or email for user_id, name, email in rows}
