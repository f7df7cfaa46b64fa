"""When held texts go: a batch's first opening and expected finish, a queued reply's hour.

A text waits for its recipient's legal hours and the team's window (`quiethours`,
through the gate), for a campaign's start time, or for a daily cap. The batch page and
the inbox say when it will go, in the viewer's zone with the zone named. The batch's
waiting texts are grouped by what decides their hours (state, ZIP, the number's
exchange) and their due time, so 2,000 texts cost a few dozen quiet-hours checks; the
finish assumes each sender sends at its messages a second within its daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import Batch, Message, Sender
from console.services import timezones
from console.services.sending.compliance import Gate, Recipient

# A text due within this is going now (retries wait a few seconds), not held.
NOW_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class _Group:
    """Waiting texts of one sender that open at the same moments."""

    sender_id: int | None
    recipient: Recipient
    due_at: datetime
    count: int


@dataclass(frozen=True)
class HeldEta:
    """When a batch's waiting texts go: the first, and the last expected."""

    first_at: datetime | None  # None when nothing opens in the engine's 14 days
    finish_at: datetime | None  # None when some text has no opening in them
    texts: int  # approved texts waiting or due
    held: int  # of them, those that can't go now
    whole_batch: bool  # nothing of the batch has gone yet

    def words(self, zone: str, now: datetime) -> str:
        """ "First texts go at 9:00 am EST; all 2,000 expected sent by 11:40 am EST."."""
        if self.first_at is None:
            return f"No sending hours open for these {self.texts:,} texts in the next 14 days."
        if self.first_at <= now + NOW_SLACK:
            first = f"Texts are going now; {self.held:,} wait for their hours or a cap"
        else:
            first = f"First texts go {at_words(self.first_at, zone, now)}"
        if self.finish_at is None:
            return f"{first}; no sending hours open for the rest in the next 14 days."
        which = f"all {self.texts:,}" if self.whole_batch else f"the {self.texts:,} left"
        return f"{first}; {which} expected sent by {by_words(self.finish_at, zone, now)}."


def _day_words(local: datetime, today) -> str:
    """ "", "tomorrow", "on Monday", "on Dec 14": the day of a local time, seen today."""
    days = (local.date() - today).days
    if days <= 0:
        return ""
    if days == 1:
        return "tomorrow"
    if days < 7:
        return f"on {local:%A}"
    return f"on {local:%b} {local.day}"


def at_words(moment: datetime, zone: str, now: datetime) -> str:
    """ "at 9:00 am EST", "tomorrow at 9:00 am EST", "on Monday at 9:00 am EST"."""
    local = timezones.in_zone(moment, zone)
    day = _day_words(local, timezones.in_zone(now, zone).date())
    clock = f"at {timezones.clock_text(local)} {timezones.zone_abbreviation(local)}"
    return f"{day} {clock}" if day else clock


def by_words(moment: datetime, zone: str, now: datetime) -> str:
    """ "11:40 am EST", "11:40 am EST tomorrow", "11:40 am EST on Monday": a deadline,
    so any part of a minute counts as the whole."""
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = timezones.in_zone(moment, zone)
    day = _day_words(local, timezones.in_zone(now, zone).date())
    clock = f"{timezones.clock_text(local)} {timezones.zone_abbreviation(local)}"
    return f"{clock} {day}" if day else clock


def reply_goes_words(message: Message, zone: str, now: datetime) -> str:
    """ "Goes at 9:00 am EST (8:00 am for the owner, Chicago)": a held reply's hour."""
    if message.due_at is None:
        return ""
    goes = f"Goes {at_words(message.due_at, zone, now)}"
    owner = timezones.owner_clock(message.lead) if message.lead is not None else None
    return f"{goes} ({owner.now_text(message.due_at)})" if owner is not None else goes


def _opening(gate: Gate, group: _Group, when: datetime) -> datetime | None:
    """The first instant at or after `when` the group's quiet hours allow."""
    quiet = gate.quiet_hours(group.recipient, when)
    return when if quiet.allowed else quiet.next_allowed_at


def _waiting(session: Session, batch: Batch) -> list[_Group]:
    """The batch's approved texts, grouped by sender, place, exchange and due time."""
    exchange = func.substr(Message.to_e164, 1, 8)
    rows = session.execute(
        select(
            Message.sender_id,
            Message.to_state,
            Message.to_zip,
            func.min(Message.to_e164),
            Message.due_at,
            func.count(Message.id),
        )
        .where(Message.batch_id == batch.id, Message.status == "approved")
        .group_by(Message.sender_id, Message.to_state, Message.to_zip, exchange, Message.due_at)
    ).all()
    fallback = batch.campaign.sender_id if batch.campaign else None
    return [
        _Group(sender_id or fallback, Recipient(e164, state, zip_code), due, count)
        for sender_id, state, zip_code, e164, due, count in rows
    ]


def _sent_today(session: Session, condition, now: datetime) -> int:
    """Texts counted against a daily cap since midnight UTC (the gate's cap day)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(
        session.scalar(select(func.count(Message.id)).where(condition, Message.sent_at >= day)) or 0
    )


def _finish(
    gate: Gate, groups: list[tuple[datetime, _Group]], mps: float, cap: int, used: int, now
) -> datetime | None:
    """When a sender's waiting texts are expected sent: in order of opening, at `mps`,
    at most `cap` a UTC day (0 = no cap) with `used` of today's gone already."""
    clock = now
    day_end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end += timedelta(days=1)
    left = cap - used if cap else None
    for opening, group in sorted(groups, key=lambda pair: pair[0]):
        remaining = group.count
        while remaining:
            start = _opening(gate, group, max(clock, opening))
            if start is None:
                return None
            while start >= day_end:
                day_end += timedelta(days=1)
                left = cap if cap else None
            if left is not None and left <= 0:
                clock = day_end
                continue
            sent = remaining if left is None else min(remaining, left)
            clock = start + timedelta(seconds=sent / max(mps, 0.1))
            remaining -= sent
            left = None if left is None else left - sent
    return clock


def batch_eta(session: Session, batch: Batch, gate: Gate, now: datetime) -> HeldEta | None:
    """When the batch's held texts go; None when none is held (the pace tells the rest)."""
    groups = _waiting(session, batch)
    opened = [(_opening(gate, g, max(g.due_at or now, now)), g) for g in groups]
    held = sum(g.count for at, g in opened if at is None or at > now + NOW_SLACK)
    if not held:
        return None
    texts = sum(g.count for g in groups)
    found = [at for at, _ in opened if at is not None]
    if not found:
        return HeldEta(None, None, texts, held, whole_batch=False)
    senders = {
        s.id: s
        for s in session.scalars(select(Sender).where(Sender.id.in_({g.sender_id for g in groups})))
    }
    campaign = batch.campaign
    finish: datetime | None = max(found)
    for sender_id in {g.sender_id for g in groups}:
        sender = senders.get(sender_id)
        mine = [(at, g) for at, g in opened if g.sender_id == sender_id]
        if any(at is None for at, _ in mine):
            finish = None
            break
        cap, used = _cap(session, sender, campaign, now)
        ends = _finish(gate, mine, sender.mps if sender else 1.0, cap, used, now)
        if ends is None:
            finish = None
            break
        finish = max(finish, ends)
    sent = session.scalar(
        select(func.count(Message.id)).where(
            Message.batch_id == batch.id, Message.sent_at.is_not(None)
        )
    )
    return HeldEta(min(found), finish, texts, held, whole_batch=not sent)


def _cap(session: Session, sender: Sender | None, campaign, now: datetime) -> tuple[int, int]:
    """The tighter of the sender's and the campaign's daily caps, and what it has used
    today (0, 0 when neither has one)."""
    caps = []
    if sender is not None and sender.daily_cap:
        caps.append((sender.daily_cap, _sent_today(session, Message.sender_id == sender.id, now)))
    if campaign is not None and campaign.daily_cap:
        used = _sent_today(session, Message.campaign_id == campaign.id, now)
        caps.append((campaign.daily_cap, used))
    if not caps:
        return 0, 0
    return min(caps, key=lambda cap: cap[0] - cap[1])
