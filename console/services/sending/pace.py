"""How fast a batch is sending now, and why it is slower than its sender allows.

Each dispatcher sending a batch publishes, every few seconds, how many texts it keeps
in flight and how long Twilio takes to answer (a Redis hash per batch, fresh entries
only). The batch page puts that beside the rate the database shows (texts sent in the
last half minute), the sender's rate with any 429 slowdown in force, and the texts
waiting for their legal hours or for a retry, and names what holds the batch back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from console.models import Batch, Message, Sender, Team
from console.models.base import utcnow
from console.services import timezones
from console.services.sending import held
from console.services.sending.compliance import Gate
from console.services.sending.dispatch import RETRY_PREFIX
from console.services.sending.policy import SendingSettings
from console.services.sending.ratelimit import Pace, sender_limiter

# The rate shown is the texts sent in this window.
WINDOW = timedelta(seconds=30)
# A dispatcher that has not told how it is doing for this long is taken for gone.
FRESH_SECONDS = 15.0
# Below this share of the sender's rate, the page says why.
SLOW_SHARE = 0.9


def _key(batch_id: int) -> str:
    return f"console:dispatch:pace:{batch_id}"


def publish(conn: redis.Redis, batch_id: int | None, slot: int, figures: dict) -> None:
    """Keep one dispatcher's figures (gone when `figures["done"]`); Redis trouble is
    ignored, the page then says less."""
    if batch_id is None:
        return
    try:
        if figures.get("done"):
            conn.hdel(_key(batch_id), str(slot))
            return
        conn.hset(_key(batch_id), str(slot), json.dumps({**figures, "at": time.time()}))
        conn.expire(_key(batch_id), 60)
    except redis.RedisError:
        pass


def dispatchers(conn: redis.Redis, batch_id: int, now: float | None = None) -> list[dict]:
    """The fresh figures of the dispatchers sending a batch now."""
    now = time.time() if now is None else now
    try:
        stored = conn.hgetall(_key(batch_id))
    except redis.RedisError:
        return []
    fresh = []
    for raw in stored.values():
        try:
            figures = json.loads(raw)
        except ValueError:
            continue
        if now - float(figures.get("at", 0)) <= FRESH_SECONDS:
            fresh.append(figures)
    return fresh


@dataclass
class BatchPace:
    """A sending batch's rate now and what holds it back, in words."""

    rate: float
    limit: float
    sender_label: str
    # Whether any text of the batch has gone (before that there is no rate to show).
    started: bool = True
    sender_pace: Pace | None = None
    dispatchers: int = 0
    capacity: float | None = None
    reasons: list[str] = field(default_factory=list)
    # When held texts go, in the viewer's zone ("" when none is held).
    eta: str = ""

    @property
    def slower(self) -> bool:
        """Whether the batch sends well below its sender's rate."""
        return self.rate < SLOW_SHARE * self.limit


def batch_pace(
    session: Session,
    conn: redis.Redis | None,
    batch: Batch,
    counts: Mapping[str, int],
    now: datetime | None = None,
    *,
    zone: str = timezones.DEFAULT_ZONE,
    transport: object | None = None,
) -> BatchPace | None:
    """The pace of a batch with texts approved or going (`counts`: its messages by
    status, as the page's counters have them); None otherwise. When texts are held,
    `eta` says when they go, in `zone` (the viewer's), through the gate the texts'
    `transport` will meet."""
    if batch.status not in ("approved", "sending", "paused"):
        return None
    if not (counts.get("approved") or counts.get("sending")):
        return None
    now = now or utcnow()
    sent, started = session.execute(
        select(
            func.count(Message.id).filter(Message.sent_at >= now - WINDOW),
            func.min(Message.sent_at),
        ).where(Message.batch_id == batch.id)
    ).one()
    span = WINDOW.total_seconds()
    if started is not None:
        span = min(span, max((now - started).total_seconds(), 1.0))
    sender = batch.campaign.sender if batch.campaign else None
    pace = BatchPace(
        rate=sent / span,
        limit=sender.mps if sender else 0.0,
        sender_label=sender.label if sender else "its sender",
        started=started is not None,
    )
    if conn is not None and sender is not None:
        _add_redis_figures(conn, pace, sender, batch.id)
    pace.reasons = _reasons(session, batch, pace, sender, counts, now)
    if counts.get("approved") and batch.status != "paused" and not (sender and sender.paused):
        settings = SendingSettings.of(session.get(Team, batch.team_id))
        gate = Gate(session, batch.team_id, settings, transport=transport)
        eta = held.batch_eta(session, batch, gate, now)
        pace.eta = eta.words(zone, now) if eta is not None else ""
    return pace


def _add_redis_figures(conn: redis.Redis, pace: BatchPace, sender: Sender, batch_id: int) -> None:
    try:
        pace.sender_pace = sender_limiter(conn, sender.id, sender.mps).pace()
    except redis.RedisError:
        pace.sender_pace = None
    running = dispatchers(conn, batch_id)
    pace.dispatchers = len(running)
    timed = [d for d in running if d.get("latency")]
    if timed:
        pace.capacity = sum(d["concurrency"] / max(d["latency"], 0.001) for d in timed)


def _reasons(session, batch, pace: BatchPace, sender, counts, now) -> list[str]:
    """Why the batch sends below its sender's rate, most telling first."""
    if batch.status == "paused":
        return ["The batch is paused."]
    if sender is not None and sender.paused:
        return [f"{sender.label} is paused: {sender.paused_reason or 'by a person'}."]
    if not pace.slower or not pace.started:
        return []
    reasons = []
    slowed = pace.sender_pace
    if slowed is not None and slowed.slowed:
        reasons.append(
            f"Twilio refused many recent tries with 429 (too many requests), so "
            f"{pace.sender_label} is slowed to {slowed.current:.1f} texts a second; "
            f"back to {slowed.rate:g} in about {slowed.full_in:.0f} s."
        )
    retrying = Message.hold_reason.startswith(RETRY_PREFIX)
    to_retry, held = session.execute(
        select(func.count(case((retrying, 1))), func.count(case((~retrying, 1)))).where(
            Message.batch_id == batch.id, Message.status == "approved", Message.due_at > now
        )
    ).one()
    if to_retry:
        reasons.append(f"{_texts(to_retry)} a few seconds to be tried again after Twilio errors.")
    if held:
        reasons.append(f"{_texts(held)} for their legal hours or a daily cap.")
    if pace.capacity is not None and pace.capacity < SLOW_SHARE * pace.limit:
        reasons.append(
            f"The workers: {pace.dispatchers} dispatcher"
            f"{'' if pace.dispatchers == 1 else 's'} with the texts they keep in flight send "
            f"at most {pace.capacity:.0f} texts a second at Twilio's answer time; add workers "
            f"or raise DISPATCH_CONCURRENCY to reach {pace.limit:g}."
        )
    elif pace.dispatchers == 0 and counts.get("approved"):
        reasons.append(
            "No dispatcher is sending at this moment: the next starts within seconds, "
            "once a worker is free."
        )
    return reasons


def _texts(n: int) -> str:
    return f"{n:,} text waits" if n == 1 else f"{n:,} texts wait"
