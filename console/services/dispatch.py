"""Sending approved texts exactly once, inside the law's hours, at the sender's rate.

A dispatcher claims due messages in chunks (`approved -> sending`, with a claim time,
committed before any call), runs the compliance gate again at the moment of sending,
waits for the sender's rate limit (kept in Redis, so it holds across workers), calls
Twilio, and records the SID. A message found in `sending` past its lease (the worker
died between the call and the record) is looked up in Twilio's message list before
it is tried again: sent once, never twice, never dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, scoped_session

from console.models import Batch, Campaign, Lead, Message, Sender, Team
from console.models.base import utcnow
from console.models.campaigns import REPLY_KINDS
from console.providers.messaging import SendError, SendResult, Transport
from console.services import batches, delivery, sequences
from console.services.compliance import Gate, recipient_of
from console.services.outreach import SendingSettings
from console.services.ratelimit import RateLimitWait

# Tries of one message before it is failed (rate limits and Twilio's 5xx).
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (5, 15, 60, 180, 600)
# A message in `sending` longer than this is taken for lost and reconciled.
LEASE_SECONDS = 120
CHUNK = 50


class Limiter:
    """What the dispatcher needs of a rate limit: wait for a slot, or say how long."""

    def acquire(self, max_wait: float | None = None) -> float: ...


@dataclass
class DispatchOptions:
    """How a dispatcher works: where texts go, rate limits, callbacks, its time slice."""

    transport: Transport
    limiter_for: Callable[[Sender], Limiter]
    status_callback: str = ""
    chunk: int = CHUNK
    # Stop after this many seconds so other jobs get the worker; the ticker resumes.
    time_slice: float = 30.0
    lease_seconds: int = LEASE_SECONDS
    clock: Callable[[], datetime] = utcnow
    # Test hook: called after Twilio took a message and before its SID is recorded.
    after_call: Callable[[Message, SendResult], None] | None = None


@dataclass
class DispatchReport:
    """What one dispatcher run did."""

    sent: int = 0
    held: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    reconciled: int = 0
    stopped: str = ""
    errors: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        """The run in words."""
        return (
            f"{self.sent} sent, {self.held} held, {self.blocked} blocked, {self.failed} failed, "
            f"{self.retried} to retry" + (f"; {self.stopped}" if self.stopped else "")
        )


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim(session: Session, batch_id: int, now: datetime, limit: int = CHUNK) -> list[int]:
    """Move up to `limit` due, approved messages of a batch to `sending`; commit.

    On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so workers never
    wait on or take each other's messages; SQLite serializes writers anyway. Messages
    of a paused sender stay where they are.
    """
    pick = (
        select(Message.id)
        .join(Sender, Sender.id == Message.sender_id)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(
            Message.batch_id == batch_id,
            Message.status == "approved",
            Message.due_at <= now,
            Sender.paused.is_(False),
            Campaign.status == "active",
        )
        .order_by(Message.due_at, Message.id)
        .limit(limit)
    )
    return _claim_picked(session, pick, now)


def _claim_picked(session: Session, pick, now: datetime) -> list[int]:
    """Claim the messages a SELECT picks (`approved -> sending`, claim time); commit.

    On PostgreSQL the rows are locked with SKIP LOCKED. Pick first, then update the
    picked rows: PostgreSQL would re-run a locking LIMIT subquery inside the UPDATE for
    every row and claim far more than the chunk.
    """
    if _is_postgres(session):
        pick = pick.with_for_update(skip_locked=True, of=Message)
    picked = list(session.scalars(pick))
    ids = []
    if picked:
        ids = list(
            session.scalars(
                update(Message)
                .where(Message.id.in_(picked), Message.status == "approved")
                .values(status="sending", claimed_at=now, attempts=Message.attempts + 1)
                .returning(Message.id)
                .execution_options(synchronize_session=False)
            )
        )
    session.commit()
    return sorted(ids)


SENDABLE = ("approved", "sending", "in_review")
# Lead statuses that end campaigns to a lead but not replies in its conversation.
REPLY_OPEN_STATUSES = ("deal", "not_interested")
# How often a running dispatcher looks whether its batch was paused or cancelled.
STATUS_CHECK_SECONDS = 0.5


def run(session: Session, batch_id: int, options: DispatchOptions) -> DispatchReport:
    """Send a batch's due messages until none is due, the batch stops, or time is up.

    The session keeps its objects across the commit of each message (one commit a
    text, no reloading); what other processes change (the batch paused or cancelled,
    the sender paused, a STOP) is read fresh from the database.
    """
    report = DispatchReport()
    started = time.monotonic()
    batch = session.get(Batch, batch_id)
    if batch is None:
        report.stopped = "no such batch"
        return report
    team_id = batch.team_id
    settings = SendingSettings.of(session.get(Team, team_id))
    reconcile_stuck(session, options, batch_id=batch_id, report=report)
    own = session() if isinstance(session, scoped_session) else session
    keep, own.expire_on_commit = own.expire_on_commit, False
    try:
        _send_chunks(own, batch_id, team_id, options, settings, report, started)
    finally:
        own.expire_on_commit = keep
    batch = session.get(Batch, batch_id, populate_existing=True)
    batches.settle(session, batch)
    session.commit()
    return report


def _batch_status(session: Session, batch_id: int) -> str:
    return session.scalar(select(Batch.status).where(Batch.id == batch_id)) or ""


def _send_chunks(session, batch_id, team_id, options, settings, report, started) -> None:
    while True:
        status = _batch_status(session, batch_id)
        if status not in SENDABLE:
            report.stopped = f"batch {status}"
            return
        if time.monotonic() - started > options.time_slice:
            report.stopped = "time slice used; continues on the next tick"
            return
        ids = claim(session, batch_id, options.clock(), options.chunk)
        if not ids:
            return
        if status == "approved":
            session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status == "approved")
                .values(status="sending")
            )
            session.commit()
        messages = _load_chunk(session, ids)
        gate = Gate(session, team_id, settings)
        gate.prefetch_lines([m.to_e164 for m in messages])
        checked = time.monotonic()
        for position, message in enumerate(messages):
            if time.monotonic() - checked > STATUS_CHECK_SECONDS:
                checked = time.monotonic()
                status = _batch_status(session, batch_id)
                for sender in {m.sender for m in messages[position:] if m.sender is not None}:
                    session.refresh(sender, ["paused", "paused_reason"])
                if status not in SENDABLE:
                    release(session, ids[position:])
                    report.stopped = f"batch {status}"
                    return
            left = options.time_slice - (time.monotonic() - started)
            if left <= 0:  # stop well inside the claims' lease, even mid-chunk
                release(session, ids[position:])
                report.stopped = "time slice used; continues on the next tick"
                return
            outcome = send_claimed(session, message, gate, options, settings, left)
            if outcome == "out_of_time":
                release(session, ids[position:])
                report.stopped = "time slice used; continues on the next tick"
                return
            _count(report, outcome)
            if outcome == "paused":
                release(session, ids[position + 1 :])
                return


def _load_chunk(session: Session, ids: list[int]) -> list[Message]:
    """The claimed messages with their leads, businesses, senders and campaigns, in order."""
    rows = session.scalars(
        select(Message)
        .where(Message.id.in_(ids))
        .options(
            joinedload(Message.lead).joinedload(Lead.business),
            joinedload(Message.sender),
            joinedload(Message.campaign),
            joinedload(Message.enrollment),
        )
        .order_by(Message.id)
        .execution_options(populate_existing=True)
    ).unique()
    return list(rows)


def _count(report: DispatchReport, outcome: str) -> None:
    if outcome in ("sent", "held", "blocked", "failed", "retried", "reconciled"):
        setattr(report, outcome, getattr(report, outcome) + 1)


def release(session: Session, ids: list[int]) -> None:
    """Give claimed messages back (not sent, not tried): approved again."""
    if not ids:
        return
    session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.status == "sending", Message.provider_sid.is_(None))
        .values(status="approved", claimed_at=None, attempts=Message.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _load(session: Session, message_id: int) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.id == message_id)
        .options(joinedload(Message.lead).joinedload(Lead.business), joinedload(Message.sender))
        .execution_options(populate_existing=True)
    ).first()


def send_claimed(
    session: Session,
    message: Message,
    gate: Gate,
    options: DispatchOptions,
    settings: SendingSettings,
    time_left: float,
) -> str:
    """Gate, rate-limit and send one claimed message; record what happened and commit."""
    if message.status != "sending":
        return "skipped"
    sender = message.sender
    now = options.clock()
    if sender is None:
        return _block(session, message, "The campaign's sender was removed.")
    if sender.paused:
        _hold(session, message, f"{sender.label} is paused.", now + timedelta(minutes=5))
        return "paused"
    recipient = recipient_of(message.lead, message.to_e164)
    if message.kind in REPLY_KINDS and recipient.lead_status in REPLY_OPEN_STATUSES:
        # An owner who answered may be answered, even once the lead is a deal or a no.
        recipient.lead_status = ""
    decision = gate.decide(recipient, sender, now)
    if decision.allowed and message.campaign is not None:
        decision = gate.campaign_cap(message.campaign, now)
    if decision.blocked:
        return _block(session, message, decision.reason, decision.code)
    if not decision.allowed:
        _hold(session, message, decision.reason, decision.next_allowed_at)
        return "held"
    try:
        options.limiter_for(sender).acquire(max_wait=time_left)
    except RateLimitWait:
        return "out_of_time"
    try:
        result = options.transport.send(
            to=message.to_e164,
            sender_kind=sender.kind,
            sender_address=sender.address,
            body=message.body,
            status_callback=options.status_callback,
        )
    except SendError as error:
        return _send_failed(session, message, error, options, settings)
    if options.after_call is not None:
        options.after_call(message, result)
    # Callbacks that beat this commit are adopted by the ticker (delivery.adopt_orphans).
    record_sent(session, message, result, settings, options.clock(), adopt_early=False)
    gate.note_sent(sender, message.campaign_id)
    return "sent"


def record_sent(
    session: Session,
    message: Message,
    result: SendResult,
    settings: SendingSettings,
    now,
    adopt_early: bool = True,
) -> None:
    """Twilio took the message: keep its SID, cost and the lead's last contact; commit."""
    message.provider_sid = result.sid
    message.provider_status = ""
    message.status = "sent"
    message.sent_at = now
    message.status_at = now
    # Twilio may be further along already (a text found by the reconciler).
    delivery.apply_status(session, message, result.status or "queued", result.error_code)
    message.hold_reason = ""
    message.from_address = result.from_address or (message.sender.address if message.sender else "")
    if result.segments:
        message.segments = result.segments
    if result.price is not None:
        message.price, message.price_source = result.price, "twilio"
    else:
        message.price, message.price_source = settings.price * message.segments, "estimate"
    lead = message.lead
    if lead is not None:
        lead.last_contacted_at = now
        if lead.status in ("new", "ready"):
            lead.status = "contacted"
    campaign = message.campaign
    sequences.after_sent(session, message, campaign)
    _after_farewell(session, message)
    if adopt_early:
        delivery.apply_early_events(session, message)
    session.commit()


def _after_farewell(session: Session, message: Message) -> None:
    """The apology to a wrong number went (or never can): the number is not texted again."""
    if message.kind == "farewell":
        delivery.suppress_number(
            session,
            message.team_id,
            message.to_e164,
            reason="wrong_number",
            source="Wrong number (after our apology)",
            lead_id=message.lead_id,
        )


def _block(session: Session, message: Message, reason: str, code: str = "") -> str:
    _after_farewell(session, message)
    message.status = "blocked"
    message.blocked_reason = reason[:255]
    message.hold_reason = ""
    if code in ("opted_out", "suppressed", "not_textable"):
        sequences.stop_for_number(
            session,
            message.team_id,
            message.to_e164,
            "opted_out" if code == "opted_out" else "stopped",
            reason,
        )
    session.commit()
    return "blocked"


def _hold(session: Session, message: Message, reason: str, until: datetime | None) -> None:
    message.status = "approved"
    message.claimed_at = None
    message.attempts = max(0, message.attempts - 1)
    message.hold_reason = reason[:255]
    message.due_at = until or utcnow() + timedelta(minutes=5)
    session.commit()


def _send_failed(
    session: Session,
    message: Message,
    error: SendError,
    options: DispatchOptions,
    settings: SendingSettings,
) -> str:
    if error.kind == "ambiguous":
        found = _look_up(options, message, message.claimed_at or options.clock())
        if isinstance(found, SendResult):
            record_sent(session, message, found, settings, options.clock())
            return "reconciled"
        if found == "unknown":
            # Twilio can't be asked right now: leave it claimed; the lease reconciles it.
            session.commit()
            return "retried"
    if error.kind in ("retry", "ambiguous"):
        return _retry_later(session, message, error, options.clock())
    _after_farewell(session, message)
    message.status = "failed"
    message.error_code = error.code
    message.error_message = delivery.error_text(error.code, str(error))[:255]
    message.status_at = options.clock()
    if error.code is not None:
        delivery.apply_error(session, message, error.code)
    session.commit()
    return "failed"


def _retry_later(session: Session, message: Message, error: SendError, now: datetime) -> str:
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        message.error_code = error.code
        message.error_message = (
            f"Gave up after {message.attempts} tries: "
            + delivery.error_text(error.code, str(error))
        )[:255]
        message.status_at = now
        session.commit()
        return "failed"
    wait = BACKOFF_SECONDS[min(message.attempts - 1, len(BACKOFF_SECONDS) - 1)]
    message.status = "approved"
    message.claimed_at = None
    message.due_at = now + timedelta(seconds=wait)
    message.hold_reason = (
        f"Retrying in {wait} s: Twilio did not take it "
        f"({delivery.error_text(error.code, str(error))})."
    )[:255]
    session.commit()
    return "retried"


def _look_up(options: DispatchOptions, message: Message, since: datetime):
    """Twilio's record of this message since its claim: a SendResult, None, or "unknown"."""
    sender = message.sender
    try:
        return options.transport.find(
            to=message.to_e164,
            sender_kind=sender.kind if sender else "number",
            sender_address=sender.address if sender else "",
            body=message.body,
            since=since,
        )
    except SendError:
        return "unknown"


def reconcile_stuck(
    session: Session,
    options: DispatchOptions,
    *,
    batch_id: int | None = None,
    team_id: int | None = None,
    report: DispatchReport | None = None,
) -> int:
    """Settle messages left in `sending` past their lease: sent if Twilio has them,
    approved again (to be sent) if it does not. Returns how many were settled."""
    now = options.clock()
    query = select(Message.id).where(
        Message.status == "sending",
        Message.claimed_at < now - timedelta(seconds=options.lease_seconds),
    )
    if batch_id is not None:
        query = query.where(Message.batch_id == batch_id)
    if team_id is not None:
        query = query.where(Message.team_id == team_id)
    settled = 0
    for message_id in list(session.scalars(query.order_by(Message.id))):
        message = _load(session, message_id)
        if message is None or message.status != "sending":
            continue
        found = _look_up(options, message, message.claimed_at or now)
        if found == "unknown":
            continue
        if isinstance(found, SendResult):
            settings = SendingSettings.of(session.get(Team, message.team_id))
            record_sent(session, message, found, settings, message.claimed_at or now)
            if report is not None:
                report.reconciled += 1
        else:
            message.status = "approved"
            message.claimed_at = None
            message.due_at = now
            message.hold_reason = "Not found at Twilio after a worker stopped; sending again."
            session.commit()
        settled += 1
    return settled


PRICE_DELAY = timedelta(minutes=1)


def refresh_prices(
    session: Session, options: DispatchOptions, team_id: int, limit: int = 100
) -> int:
    """Replace estimated costs with Twilio's price once settled texts have one.

    A text Twilio gives no price for keeps the configured rate ("rate"), and is not
    asked about again. Returns how many prices came from Twilio.
    """
    now = options.clock()
    rows = session.scalars(
        select(Message)
        .where(
            Message.team_id == team_id,
            Message.price_source == "estimate",
            Message.status.in_(("delivered", "failed")),
            Message.provider_sid.is_not(None),
            Message.status_at < now - PRICE_DELAY,
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    priced = 0
    for message in rows:
        try:
            found = options.transport.fetch(message.provider_sid)
        except SendError:
            break
        if found is not None and found.price is not None:
            message.price, message.price_source = found.price, "twilio"
            priced += 1
        else:
            message.price_source = "rate"
    session.commit()
    return priced


def teams_to_price(session: Session) -> list[int]:
    """Teams with settled texts whose cost is still an estimate."""
    return sorted(
        set(
            session.scalars(
                select(Message.team_id)
                .where(
                    Message.price_source == "estimate",
                    Message.status.in_(("delivered", "failed")),
                )
                .distinct()
            )
        )
    )


def teams_with_stuck(session: Session) -> list[int]:
    """Teams with messages in `sending` (the reconciler looks at each with its transport)."""
    return sorted(
        set(session.scalars(select(Message.team_id).where(Message.status == "sending").distinct()))
    )


def due_batches(session: Session, now: datetime | None = None) -> list[int]:
    """Batches with approved messages due now and a sender that is not paused."""
    now = now or utcnow()
    return sorted(
        set(
            session.scalars(
                select(Message.batch_id)
                .join(Batch, Batch.id == Message.batch_id)
                .join(Sender, Sender.id == Message.sender_id)
                .join(Campaign, Campaign.id == Message.campaign_id)
                .where(
                    Message.status == "approved",
                    Message.due_at <= now,
                    Batch.status.in_(("in_review", "approved", "sending")),
                    Sender.paused.is_(False),
                    Campaign.status == "active",
                )
                .distinct()
            )
        )
    )


def claim_replies(session: Session, team_id: int, now: datetime, limit: int = CHUNK) -> list[int]:
    """Move up to `limit` due, approved inbox replies of a team to `sending`; commit."""
    pick = (
        select(Message.id)
        .join(Sender, Sender.id == Message.sender_id)
        .where(
            Message.team_id == team_id,
            Message.kind.in_(REPLY_KINDS),
            Message.status == "approved",
            Message.due_at <= now,
            Sender.paused.is_(False),
        )
        .order_by(Message.due_at, Message.id)
        .limit(limit)
    )
    return _claim_picked(session, pick, now)


def run_replies(session: Session, team_id: int, options: DispatchOptions) -> DispatchReport:
    """Send a team's due inbox replies through the same gate, limits and recording as
    campaign texts, until none is due or the time slice is used."""
    report = DispatchReport()
    started = time.monotonic()
    settings = SendingSettings.of(session.get(Team, team_id))
    reconcile_stuck(session, options, team_id=team_id, report=report)
    while time.monotonic() - started <= options.time_slice:
        ids = claim_replies(session, team_id, options.clock(), options.chunk)
        if not ids:
            return report
        messages = _load_chunk(session, ids)
        gate = Gate(session, team_id, settings)
        for position, message in enumerate(messages):
            left = options.time_slice - (time.monotonic() - started)
            outcome = "out_of_time" if left <= 0 else None
            if outcome is None:
                outcome = send_claimed(session, message, gate, options, settings, left)
            if outcome == "out_of_time":
                release(session, ids[position:])
                report.stopped = "time slice used; continues on the next tick"
                return report
            _count(report, outcome)
    report.stopped = "time slice used; continues on the next tick"
    return report


def teams_with_due_replies(session: Session, now: datetime | None = None) -> list[int]:
    """Teams with inbox replies approved and due now."""
    now = now or utcnow()
    return sorted(
        set(
            session.scalars(
                select(Message.team_id)
                .where(
                    Message.kind.in_(REPLY_KINDS),
                    Message.status == "approved",
                    Message.due_at <= now,
                )
                .distinct()
            )
        )
    )
