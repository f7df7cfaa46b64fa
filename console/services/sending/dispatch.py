"""Sending approved texts exactly once, inside the law's hours, at the sender's rate.

A dispatcher claims due messages in chunks (`approved -> sending`, with a claim time,
committed before any call), runs the compliance gate again at the moment of sending,
waits for the sender's rate limit (kept in Redis, so it holds across workers), calls
Twilio, and records the SID. A message found in `sending` past its lease (the worker
died between the call and the record) is looked up in Twilio's message list before
it is tried again: sent once, never twice, never dropped.

Every claim is fenced by a token written with it. Just before calling Twilio the holder
checks, with a conditional UPDATE, that the claim is still its own; every write that
settles the message is conditional on the token too, and the reconciler takes the
token over before it looks a message up. So a worker that stalled past its lease (its
message reconciled and maybe sent by another) sends nothing and records nothing. One
window stays open: a worker frozen after its check and before Twilio answers. The lease
must therefore exceed the time slice plus the Twilio timeout (`console.config` refuses
settings that do not).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, case, func, select, update
from sqlalchemy.orm import Session, joinedload, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from console.models import Batch, Campaign, Enrollment, Lead, Message, Sender, Suppression, Team
from console.models.base import utcnow
from console.models.campaigns import REPLY_KINDS
from console.providers.messaging import SendError, SendResult, Transport
from console.services.campaigns import batches
from console.services.sending import delivery, sequences
from console.services.sending.compliance import Gate, recipient_of
from console.services.sending.policy import SendingSettings
from console.services.sending.ratelimit import RateLimitWait

log = logging.getLogger(__name__)

# Tries of one message before it is failed (rate limits, Twilio's 5xx, timeouts), and
# the waits between them (each spread by half either way): prompt at first, since the
# sender's rate already slows down on 429s, patient later (15 minutes in all).
MAX_ATTEMPTS = 10
RETRY_SECONDS = (0.5, 1, 2, 4, 8, 30, 60, 180, 600)
# A message in `sending` longer than this is taken for lost and reconciled.
LEASE_SECONDS = 120
CHUNK = 50
# A dispatcher with nothing due waits this long at most for its texts to retry.
RETRY_WAIT_SECONDS = 5.0
# How a text set back for a retry is told apart from one held for its hours.
RETRY_PREFIX = "Retrying"
# How often a dispatcher tells how it is doing (the batch page's pace).
PACE_EVERY_SECONDS = 2.0


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
    # Texts in flight at once (sent from a pool of threads); 1 sends one at a time.
    concurrency: int = 1
    # 0-1, spreads retries; random unless a test fixes it.
    jitter: Callable[[], float] = random.random
    # Told every few seconds how the dispatcher is doing (see `_Flight._pace`).
    report_pace: Callable[[dict], None] | None = None
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
    # Claims taken over by the reconciler while this dispatcher held them (it stalled).
    lost: int = 0
    stopped: str = ""
    # Stopped only because its time slice was used: texts may still be due.
    out_of_time: bool = False
    errors: list[str] = field(default_factory=list)

    def slice_used(self) -> None:
        """Note that the run stopped at the end of its time slice."""
        self.out_of_time = True
        self.stopped = "time slice used; continues in a new job"

    def sentence(self) -> str:
        """The run in words."""
        return (
            f"{self.sent} sent, {self.held} held, {self.blocked} blocked, {self.failed} failed, "
            f"{self.retried} to retry"
            + (f", {self.lost} lost their claim" if self.lost else "")
            + (f"; {self.stopped}" if self.stopped else "")
        )


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def new_claim_token() -> str:
    """A fresh token for one claim (or the reconciler's take-over of one)."""
    return secrets.token_hex(16)


def claim(
    session: Session,
    batch_id: int,
    now: datetime,
    limit: int = CHUNK,
    token: str | None = None,
) -> list[int]:
    """Move up to `limit` due, approved messages of a batch to `sending` under `token`
    (a new one if not given); commit.

    On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so workers never
    wait on or take each other's messages; SQLite serializes writers anyway. Messages
    of a paused sender stay where they are.
    """
    pick = _due(batch_id, now).order_by(Message.due_at, Message.id).limit(limit)
    return _claim_picked(session, pick, now, token or new_claim_token())


def _due(batch_id: int, now: datetime):
    """The batch's messages a dispatcher may claim now."""
    return (
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
    )


def any_due(session: Session, batch_id: int, now: datetime) -> bool:
    """Whether the batch has messages to claim now (another dispatcher may have won the
    race for the ones a claim picked: SQLite has no SKIP LOCKED)."""
    return session.scalar(_due(batch_id, now).limit(1)) is not None


def _claim_picked(session: Session, pick, now: datetime, token: str) -> list[int]:
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
                .values(
                    status="sending",
                    claimed_at=now,
                    claim_token=token,
                    attempts=Message.attempts + 1,
                )
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

    The session keeps its objects across the commit of each message (no reloading);
    what other processes change (the batch paused or cancelled, the sender paused, a
    STOP) is read fresh from the database.
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
        with _Flight(own, team_id, options, settings, report, started) as flight:
            _send_chunks(flight, batch_id)
    finally:
        own.expire_on_commit = keep
    batch = session.get(Batch, batch_id, populate_existing=True)
    batches.settle(session, batch)
    session.commit()
    return report


def _batch_status(session: Session, batch_id: int) -> str:
    return session.scalar(select(Batch.status).where(Batch.id == batch_id)) or ""


def _send_chunks(flight: _Flight, batch_id: int) -> None:
    session, options, report = flight.session, flight.options, flight.report
    while True:
        status = _batch_status(session, batch_id)
        if status not in SENDABLE:
            report.stopped = f"batch {status}"
            return
        if flight.time_left() <= 0:
            report.slice_used()
            return
        token = new_claim_token()
        ids = claim(session, batch_id, options.clock(), flight.chunk, token)
        if not ids:
            if any_due(session, batch_id, options.clock()):
                continue
            flight.land()
            # Texts the answers just set back (prompt retries) come due in seconds: wait
            # for them rather than leave the batch to the next tick.
            if _wait_for_retries(session, batch_id, options, flight.time_left()):
                continue
            return
        if status == "approved":
            session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status == "approved")
                .values(status="sending")
            )
            session.commit()
        messages = _own(_load_chunk(session, ids), token)
        if not flight.send_chunk(messages, token, lambda: _batch_status(session, batch_id)):
            return


def _wait_for_retries(
    session: Session, batch_id: int, options: DispatchOptions, time_left: float
) -> bool:
    """Sleep until the batch's next text to retry comes due, if that is soon and inside
    the time slice; whether one is due now. A clock that stands still (tests) never
    brings one due, so then this does not wait."""
    now = options.clock()
    due = session.scalar(
        select(func.min(Message.due_at)).where(
            Message.batch_id == batch_id,
            Message.status == "approved",
            Message.hold_reason.startswith(RETRY_PREFIX),
        )
    )
    if due is None:
        return False
    wait_seconds = (due - now).total_seconds()
    if wait_seconds > min(RETRY_WAIT_SECONDS, time_left - 1):
        return False
    if wait_seconds > 0:
        time.sleep(wait_seconds)
        if options.clock() <= now:
            return False
    return True


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


def _own(messages: list[Message], token: str) -> list[Message]:
    """The loaded messages still claimed under `token` (none was taken over meanwhile)."""
    return [m for m in messages if m.status == "sending" and m.claim_token == token]


def _count(report: DispatchReport, outcome: str | None) -> None:
    if outcome in ("sent", "held", "blocked", "failed", "retried", "reconciled", "lost"):
        setattr(report, outcome, getattr(report, outcome) + 1)


@dataclass(frozen=True)
class _Request:
    """One call to Twilio, in plain values a pool thread may use (no ORM objects)."""

    to: str
    sender_kind: str
    sender_address: str
    body: str
    status_callback: str
    since: datetime


NOT_ASKED = "not asked"


@dataclass
class _Answer:
    """What came back from Twilio for one text: its message, or the error and, after an
    ambiguous one, what Twilio's message list says (a SendResult, None, or "unknown")."""

    result: SendResult | None = None
    error: SendError | None = None
    found: SendResult | str | None = NOT_ASKED
    seconds: float = 0.0


def _call(transport: Transport, request: _Request) -> _Answer:
    """Send one text; after an answer that leaves it unknown whether it went, look."""
    started = time.monotonic()
    try:
        result = transport.send(
            to=request.to,
            sender_kind=request.sender_kind,
            sender_address=request.sender_address,
            body=request.body,
            status_callback=request.status_callback,
        )
    except SendError as error:
        answer = _Answer(error=error)
        if error.kind == "ambiguous":
            answer.found = _look_up(transport, request)
    else:
        answer = _Answer(result=result)
    answer.seconds = time.monotonic() - started
    return answer


@dataclass
class _Flying:
    message: Message
    token: str | None
    sender: Sender


class _Flight:
    """The texts of one dispatcher run on their way to Twilio.

    Up to `options.concurrency` texts are in flight at once, each call in a thread of a
    pool (a transport that is not `parallel`, like the sandbox, is called inline). The
    database work (gate, fence, recording) stays on the dispatcher's own thread and
    session: threads only talk HTTP. A text is fenced just before its call starts and
    a thread is always free for it, so the lease covers every text in flight. Two
    texts to one number are never in flight together (the recipient caps count sent
    texts).
    """

    def __init__(self, session, team_id, options, settings, report, started) -> None:
        self.session = session
        self.team_id = team_id
        self.options = options
        self.settings = settings
        self.report = report
        self.started = started
        self.concurrency = max(1, options.concurrency)
        parallel = self.concurrency > 1 and getattr(options.transport, "parallel", False)
        self.pool = (
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="console-send")
            if parallel
            else None
        )
        self.chunk = max(options.chunk, 2 * self.concurrency)
        self.flying: dict[Future, _Flying] = {}
        self.numbers: Counter[str] = Counter()
        self.limiters: dict[int, Limiter] = {}
        self.gate: Gate | None = None
        self.answered = 0
        self.call_seconds = 0.0
        self.paced = 0.0

    def __enter__(self) -> _Flight:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.land()
        if self.pool is not None:
            # After a crash the texts in flight are left claimed: the reconciler looks
            # each up at Twilio once its lease ends.
            self.pool.shutdown(wait=True, cancel_futures=True)
        self._pace(force=True)

    def time_left(self) -> float:
        """Seconds left of the dispatcher's time slice."""
        return self.options.time_slice - (time.monotonic() - self.started)

    def limiter(self, sender: Sender) -> Limiter:
        """The sender's rate limit, kept for the run (its count of recent 429s with it)."""
        if sender.id not in self.limiters:
            self.limiters[sender.id] = self.options.limiter_for(sender)
        return self.limiters[sender.id]

    def send_chunk(self, messages: list[Message], token: str, status: Callable[[], str]) -> bool:
        """Send a claimed chunk; False when the run must stop (the rest given back)."""
        session, report = self.session, self.report
        ids = [m.id for m in messages]
        self.gate = Gate(session, self.team_id, self.settings, transport=self.options.transport)
        self.gate.prefetch_sending([m.to_e164 for m in messages])
        checked = time.monotonic()
        for position, message in enumerate(messages):
            if time.monotonic() - checked > STATUS_CHECK_SECONDS:
                checked = time.monotonic()
                now_status = status()
                for sender in {m.sender for m in messages[position:] if m.sender is not None}:
                    session.refresh(sender, ["paused", "paused_reason"])
                if now_status not in SENDABLE:
                    self.give_back(ids[position:], token, f"batch {now_status}")
                    return False
            # Stop well inside the claims' lease, even mid-chunk.
            outcome = "out_of_time" if self.time_left() <= 0 else self.send(message)
            if outcome == "out_of_time":
                self.give_back(ids[position:], token)
                return False
            _count(report, outcome)
            if outcome == "paused":
                self.give_back(ids[position + 1 :], token, "")
                return False
        return True

    def give_back(self, ids: list[int], token: str, stopped: str | None = None) -> None:
        """Land the texts in flight and give back the claimed ones not tried (`ids`);
        say why the run stops (`stopped`; by default its time slice was used)."""
        self.land()
        release(self.session, ids, token)
        if stopped is None:
            self.report.slice_used()
        elif stopped:
            self.report.stopped = stopped

    def send(self, message: Message) -> str | None:
        """Gate, rate-limit, fence and send one claimed message. Its outcome when settled
        here; None when it is in flight (settled as its answer lands)."""
        if message.status != "sending":
            return "skipped"
        while self.numbers[message.to_e164]:
            self.collect(block=True)
        session, options, gate = self.session, self.options, self.gate
        token = message.claim_token
        sender = message.sender
        now = options.clock()
        if sender is None:
            return _block(session, message, token, "The campaign's sender was removed.")
        if sender.paused:
            paused = f"{sender.label} is paused."
            if not _hold(session, message, token, paused, now + timedelta(minutes=5)):
                return "lost"
            return "paused"
        recipient = recipient_of(message.lead, message.to_e164)
        if message.kind in REPLY_KINDS and recipient.lead_status in REPLY_OPEN_STATUSES:
            # An owner who answered may be answered, even once the lead is a deal or a no.
            recipient.lead_status = ""
        decision = gate.decide(recipient, sender, now)
        if decision.allowed and message.campaign is not None:
            decision = gate.campaign_cap(message.campaign, now)
        if decision.blocked:
            return _block(session, message, token, decision.reason, decision.code)
        if not decision.allowed:
            if not _hold(session, message, token, decision.reason, decision.next_allowed_at):
                return "lost"
            return "held"
        while len(self.flying) >= self.concurrency:
            self.collect(block=True)
        try:
            self.limiter(sender).acquire(max_wait=max(self.time_left(), 0.0))
        except RateLimitWait:
            return "out_of_time"
        if not fence(session, message, token, options.clock()):
            # A STOP that came after the gate looked, or the claim was taken over.
            refused = gate.fresh_refusal(recipient)
            if refused is not None:
                return _block(session, message, token, refused.reason, refused.code)
            return "lost"
        gate.note_sent(sender, message.campaign_id)
        request = _request(message, options.status_callback, message.claimed_at or now)
        flying = _Flying(message, token, sender)
        if self.pool is None:
            return self.settle([(flying, _call(options.transport, request))])[0]
        self.flying[self.pool.submit(_call, options.transport, request)] = flying
        self.numbers[message.to_e164] += 1
        self.collect(block=False)
        return None

    def collect(self, block: bool) -> None:
        """Record the answers that landed (waiting for one first when `block`)."""
        if not self.flying:
            return
        done, _ = wait(list(self.flying), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        landed = []
        for future in sorted(done, key=lambda f: self.flying[f].message.id):
            flying = self.flying.pop(future)
            self.numbers[flying.message.to_e164] -= 1
            landed.append((flying, future.result()))
        for outcome in self.settle(landed):
            _count(self.report, outcome)
        self._pace()

    def land(self) -> None:
        """Wait for every text in flight and record its answer."""
        while self.flying:
            self.collect(block=True)

    def settle(self, landed: list[tuple[_Flying, _Answer]]) -> list[str]:
        """Record what Twilio answered for texts that landed together; their outcomes.
        Plain sends are recorded together in one transaction; the rest (errors, texts
        found further along) one by one."""
        options = self.options
        plain, other = [], []
        for flying, answer in landed:
            self._note(flying, answer)
            if answer.error is None and _plain(flying.message, answer.result):
                plain.append((flying, answer.result))
            else:
                other.append((flying, answer))
        outcomes = []
        if plain:
            for flying, result in plain:
                if options.after_call is not None:
                    options.after_call(flying.message, result)
            outcomes += _record_plain(self.session, plain, self.settings, options.clock())
        outcomes += [self._settle_one(flying, answer) for flying, answer in other]
        return outcomes

    def _note(self, flying: _Flying, answer: _Answer) -> None:
        """Tell the sender's rate limit how the try went: a text that did not go gives
        its slot back, and a run of 429s slows the sender down."""
        self.answered += 1
        self.call_seconds += answer.seconds
        limiter = self.limiter(flying.sender)
        if _did_not_go(answer) and hasattr(limiter, "refund"):
            limiter.refund()
        if not hasattr(limiter, "note"):
            return
        throttled = answer.error is not None and _throttled(answer.error)
        if limiter.note(throttled):
            log.warning("%s: Twilio refused many tries with 429; slowing down", flying.sender.label)

    def _settle_one(self, flying: _Flying, answer: _Answer) -> str:
        session, options, message = self.session, self.options, flying.message
        if answer.error is not None:
            if _did_not_go(answer):
                self.gate.note_sent(flying.sender, message.campaign_id, -1)
            return _send_failed(
                session, message, flying.token, answer.error, answer.found, options, self.settings
            )
        result = answer.result
        if options.after_call is not None:
            options.after_call(message, result)
        # Callbacks that beat this commit are adopted by the ticker (delivery.adopt_orphans).
        if not record_sent(
            session,
            message,
            result,
            self.settings,
            options.clock(),
            adopt_early=False,
            token=flying.token,
        ):
            return "lost"
        return "sent"

    def _pace(self, force: bool = False) -> None:
        """Tell `options.report_pace` how this dispatcher is doing, every few seconds."""
        if self.options.report_pace is None:
            return
        if not force and time.monotonic() - self.paced < PACE_EVERY_SECONDS:
            return
        self.paced = time.monotonic()
        self.options.report_pace(
            {
                "concurrency": self.concurrency if self.pool is not None else 1,
                "latency": self.call_seconds / self.answered if self.answered else None,
                "in_flight": len(self.flying),
                "done": force,
            }
        )


# Twilio's statuses of a message it has just taken (nothing further to apply).
JUST_TAKEN = frozenset({"accepted", "scheduled", "queued", "sending", "sent"})


def _plain(message: Message, result: SendResult) -> bool:
    """Whether a send needs only the plain record (no farewell, no status beyond sent)."""
    return (
        message.kind != "farewell"
        and (result.status or "queued") in JUST_TAKEN
        and result.error_code is None
    )


def _record_plain(
    session: Session,
    landed: list[tuple[_Flying, SendResult]],
    settings: SendingSettings,
    now: datetime,
) -> list[str]:
    """Record texts Twilio just took, together: each message in one conditional UPDATE
    (under its claim token), then the leads' last contact and the enrollments' next
    touch, all in one commit. A message whose claim was taken over goes through
    `record_sent`, which adopts it if it was set back and not claimed again."""
    recorded: list[Message] = []
    late: list[tuple[_Flying, SendResult]] = []
    stamp = utcnow()
    for flying, result in landed:
        message = flying.message
        values = _sent_values(message, result, settings, now, stamp)
        done = session.execute(RECORD_SENT, {**values, "m_id": message.id, "m_token": flying.token})
        if done.rowcount:
            for name, value in values.items():
                set_committed_value(message, name.removeprefix("r_"), value)
            set_committed_value(message, "claim_token", None)
            recorded.append(message)
        else:
            late.append((flying, result))
    leads = {m.lead_id: m.lead for m in recorded if m.lead_id is not None}
    if leads:
        session.execute(TOUCH_LEADS, {"l_ids": list(leads), "l_now": now})
    moved = []
    for message in recorded:
        enrollment = message.enrollment if message.enrollment_id is not None else None
        values = sequences.advance(enrollment, message, message.campaign)
        if values:
            moved.append((enrollment, values))
    if moved:
        session.execute(
            ADVANCE_ENROLLMENT,
            [{"e_id": e.id, **{f"e_{k}": v for k, v in values.items()}} for e, values in moved],
        )
    session.commit()
    for lead in leads.values():
        if lead is not None:
            set_committed_value(lead, "last_contacted_at", now)
            if lead.status in ("new", "ready"):
                set_committed_value(lead, "status", "contacted")
    for enrollment, values in moved:
        for name, value in values.items():
            set_committed_value(enrollment, name, value)
    outcomes = ["sent"] * len(recorded)
    for flying, result in late:
        adopted = record_sent(
            session, flying.message, result, settings, now, adopt_early=False, token=flying.token
        )
        outcomes.append("sent" if adopted else "lost")
    return outcomes


def _sent_values(
    message: Message, result: SendResult, settings: SendingSettings, now: datetime, stamp
) -> dict[str, object]:
    """A message's columns once Twilio took it (as `record_sent` sets them), as the
    parameters of RECORD_SENT."""
    segments = result.segments or message.segments
    if result.price is not None:
        price, source = result.price, "twilio"
    else:
        price, source = settings.price * segments, "estimate"
    return {
        "r_provider_sid": result.sid,
        "r_provider_status": result.status or "queued",
        "r_sent_at": now,
        "r_status_at": stamp,
        "r_from_address": result.from_address or (message.sender.address if message.sender else ""),
        "r_segments": segments,
        "r_price": price,
        "r_price_source": source,
    }


# The statements a text's send runs, built once (a statement built for each text costs
# more than the database's work on it).
_messages, _leads, _enrollments = Message.__table__, Lead.__table__, Enrollment.__table__
_suppressions = Suppression.__table__
FENCE = (
    update(_messages)
    .where(
        _messages.c.id == bindparam("m_id"),
        _messages.c.status == "sending",
        _messages.c.claim_token.is_not_distinct_from(bindparam("m_token", type_=String)),
        ~select(_suppressions.c.id)
        .where(
            _suppressions.c.team_id == _messages.c.team_id,
            _suppressions.c.e164 == _messages.c.to_e164,
        )
        .exists(),
    )
    .values(claimed_at=bindparam("m_now", type_=_messages.c.claimed_at.type))
)
RECORD_SENT = (
    update(_messages)
    .where(
        _messages.c.id == bindparam("m_id"),
        _messages.c.status == "sending",
        _messages.c.claim_token.is_not_distinct_from(bindparam("m_token", type_=String)),
    )
    .values(
        status="sent",
        hold_reason="",
        claim_token=None,
        **{
            name: bindparam(f"r_{name}", type_=_messages.c[name].type)
            for name in (
                "provider_sid",
                "provider_status",
                "sent_at",
                "status_at",
                "from_address",
                "segments",
                "price",
                "price_source",
            )
        },
    )
)
TOUCH_LEADS = (
    update(_leads)
    .where(_leads.c.id.in_(bindparam("l_ids", expanding=True)))
    .values(
        last_contacted_at=bindparam("l_now", type_=_leads.c.last_contacted_at.type),
        status=case((_leads.c.status.in_(("new", "ready")), "contacted"), else_=_leads.c.status),
    )
)
ADVANCE_ENROLLMENT = (
    update(_enrollments)
    .where(_enrollments.c.id == bindparam("e_id"), _enrollments.c.status == "active")
    .values(
        touches_sent=bindparam("e_touches_sent"),
        status=bindparam("e_status"),
        next_due_at=bindparam("e_next_due_at", type_=_enrollments.c.next_due_at.type),
    )
)


def _did_not_go(answer: _Answer) -> bool:
    """Whether Twilio certainly sent nothing for this try (refused, or an ambiguous
    answer its message list shows it did not act on)."""
    if answer.error is None:
        return False
    if answer.error.kind == "ambiguous":
        return answer.found is None
    return True


def _throttled(error: SendError) -> bool:
    """Whether Twilio refused the call with its rate limit (429)."""
    return error.status == 429 or error.code == 20429


def release(session: Session, ids: list[int], token: str | None) -> None:
    """Give messages claimed under `token` back (not sent, not tried): approved again."""
    if not ids:
        return
    session.execute(
        update(Message)
        .where(
            Message.id.in_(ids),
            Message.status == "sending",
            Message.claim_token.is_not_distinct_from(token),
            Message.provider_sid.is_(None),
        )
        .values(status="approved", claimed_at=None, claim_token=None, attempts=Message.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def fence(session: Session, message: Message, token: str | None, now: datetime) -> bool:
    """Whether the claim on `message` is still `token`'s and its number not suppressed
    since the gate looked, checked and renewed (its claim time set to `now`) in one
    conditional UPDATE, committed just before calling Twilio."""
    renewed = session.execute(FENCE, {"m_id": message.id, "m_token": token, "m_now": now})
    session.commit()
    if renewed.rowcount:
        set_committed_value(message, "claimed_at", now)
    return bool(renewed.rowcount)


def _settle_claim(
    session: Session, message: Message, token: str | None, *, adopt: bool = False
) -> bool:
    """End the claim of `token` on `message` (uncommitted, the row locked until the
    caller commits what it records); False, with nothing written, if it is not held.

    With `adopt`, a message set back to approved (its claim taken over by the reconciler,
    which did not find it at Twilio) and not claimed again is taken too: the caller has
    Twilio's SID for it, and recording it keeps the text from being sent a second time.
    """
    held = (Message.status == "sending") & Message.claim_token.is_not_distinct_from(token)
    values: dict[str, object] = {"claim_token": None}
    if adopt:
        held = held | ((Message.status == "approved") & Message.provider_sid.is_(None))
        values["hold_reason"] = ""  # the reset's reason, which the ORM does not see
    settled = session.execute(
        update(Message)
        .where(Message.id == message.id, held)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if settled:
        set_committed_value(message, "claim_token", None)
        return True
    session.commit()
    log.warning("Message %s: claim %s was taken over; nothing recorded", message.id, token)
    return False


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
    """Gate, rate-limit and send one claimed message inline; record what happened and
    commit. "lost" when the claim was taken over (this worker stalled past its lease):
    then nothing is sent or recorded."""
    single = replace(options, concurrency=1)
    started = time.monotonic() - (options.time_slice - time_left)
    with _Flight(session, message.team_id, single, settings, DispatchReport(), started) as flight:
        flight.gate = gate
        return flight.send(message) or "sent"


def record_sent(
    session: Session,
    message: Message,
    result: SendResult,
    settings: SendingSettings,
    now,
    adopt_early: bool = True,
    token: str | None = None,
) -> bool:
    """Twilio took the message: keep its SID, cost and the lead's last contact; commit.

    Only under the claim `token` (by default the one the message was loaded with), or
    on the message set back to approved and not claimed again; False when neither.
    """
    held = message.claim_token if token is None else token
    if not _settle_claim(session, message, held, adopt=True):
        return False
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
    return True


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


def _block(
    session: Session, message: Message, token: str | None, reason: str, code: str = ""
) -> str:
    if not _settle_claim(session, message, token):
        return "lost"
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


def _hold(
    session: Session, message: Message, token: str | None, reason: str, until: datetime | None
) -> bool:
    if not _settle_claim(session, message, token):
        return False
    message.status = "approved"
    message.claimed_at = None
    message.attempts = max(0, message.attempts - 1)
    message.hold_reason = reason[:255]
    message.due_at = until or utcnow() + timedelta(minutes=5)
    session.commit()
    return True


def _send_failed(
    session: Session,
    message: Message,
    token: str | None,
    error: SendError,
    found: SendResult | str | None,
    options: DispatchOptions,
    settings: SendingSettings,
) -> str:
    """Record a call that brought no message back. After an ambiguous answer `found` is
    what Twilio's list said: the text went after all, it did not, or Twilio can't say."""
    if error.kind == "ambiguous":
        if isinstance(found, SendResult):
            if not record_sent(session, message, found, settings, options.clock(), token=token):
                return "lost"
            return "reconciled"
        if found == "unknown" or found == NOT_ASKED:
            # Twilio can't be asked right now: leave it claimed; the lease reconciles it.
            session.commit()
            return "retried"
    if not _settle_claim(session, message, token):
        return "lost"
    if error.kind in ("retry", "ambiguous"):
        return _retry_later(session, message, error, options)
    _after_farewell(session, message)
    message.status = "failed"
    message.error_code = error.code
    message.error_message = delivery.error_text(error.code, str(error))[:255]
    message.status_at = options.clock()
    if error.code is not None:
        delivery.apply_error(session, message, error.code)
    session.commit()
    return "failed"


def retry_delay(attempts: int, jitter: float) -> float:
    """Seconds before try `attempts + 1` of a text Twilio did not take: prompt at first,
    patient later, spread by `jitter` (0-1) so that texts refused together do not all
    come back together."""
    base = RETRY_SECONDS[min(max(attempts, 1) - 1, len(RETRY_SECONDS) - 1)]
    return base * (0.5 + jitter)


def _retry_later(
    session: Session, message: Message, error: SendError, options: DispatchOptions
) -> str:
    """Back in line after a short, jittered wait, or failed once its tries are used
    (claim settled). The rest of the batch keeps going meanwhile."""
    now = options.clock()
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
    wait = retry_delay(message.attempts, options.jitter())
    message.status = "approved"
    message.claimed_at = None
    message.due_at = now + timedelta(seconds=wait)
    message.hold_reason = (
        f"{RETRY_PREFIX} in {wait:.3g} s: Twilio did not take it "
        f"({delivery.error_text(error.code, str(error))})."
    )[:255]
    session.commit()
    return "retried"


def _request(message: Message, status_callback: str, since: datetime) -> _Request:
    """The call to Twilio for a message, in plain values."""
    sender = message.sender
    return _Request(
        to=message.to_e164,
        sender_kind=sender.kind if sender else "number",
        sender_address=sender.address if sender else "",
        body=message.body,
        status_callback=status_callback,
        since=since,
    )


def _look_up(transport: Transport, request: _Request) -> SendResult | str | None:
    """Twilio's record of this text since its claim: a SendResult, None, or "unknown"."""
    try:
        return transport.find(
            to=request.to,
            sender_kind=request.sender_kind,
            sender_address=request.sender_address,
            body=request.body,
            since=request.since,
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
    approved again (to be sent) if it does not. Returns how many were settled.

    Each is taken over (a new claim token) before Twilio is asked, so its stalled holder,
    should it wake, can neither send it nor record anything on it.
    """
    now = options.clock()
    expired = now - timedelta(seconds=options.lease_seconds)
    query = select(Message.id, Message.claim_token).where(
        Message.status == "sending",
        Message.claimed_at < expired,
    )
    if batch_id is not None:
        query = query.where(Message.batch_id == batch_id)
    if team_id is not None:
        query = query.where(Message.team_id == team_id)
    settled = 0
    for message_id, held in list(session.execute(query.order_by(Message.id))):
        token = _take_over(session, message_id, held, expired)
        message = _load(session, message_id) if token else None
        if message is None or message.status != "sending":
            continue
        found = _look_up(options.transport, _request(message, "", message.claimed_at or now))
        if found == "unknown":
            continue  # stays taken over, its lease expired: the next round asks again
        if isinstance(found, SendResult):
            settings = SendingSettings.of(session.get(Team, message.team_id))
            if not record_sent(
                session, message, found, settings, message.claimed_at or now, token=token
            ):
                continue
            if report is not None:
                report.reconciled += 1
        elif not _settle_claim(session, message, token):
            continue
        else:
            message.status = "approved"
            message.claimed_at = None
            message.due_at = now
            message.hold_reason = "Not found at Twilio after a worker stopped; sending again."
            session.commit()
        settled += 1
    return settled


def _take_over(
    session: Session, message_id: int, held: str | None, expired: datetime
) -> str | None:
    """Replace the expired claim `held` on a message with a new token; commit. The new
    token, or None when the holder renewed its claim or another reconciler took it."""
    token = new_claim_token()
    taken = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == "sending",
            Message.claim_token.is_not_distinct_from(held),
            Message.claimed_at < expired,
        )
        .values(claim_token=token)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return token if taken else None


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


def claim_replies(
    session: Session,
    team_id: int,
    now: datetime,
    limit: int = CHUNK,
    token: str | None = None,
) -> list[int]:
    """Move up to `limit` due, approved inbox replies of a team to `sending` under
    `token` (a new one if not given); commit."""
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
    return _claim_picked(session, pick, now, token or new_claim_token())


def run_replies(session: Session, team_id: int, options: DispatchOptions) -> DispatchReport:
    """Send a team's due inbox replies through the same gate, limits and recording as
    campaign texts, until none is due or the time slice is used."""
    report = DispatchReport()
    started = time.monotonic()
    settings = SendingSettings.of(session.get(Team, team_id))
    reconcile_stuck(session, options, team_id=team_id, report=report)
    with _Flight(session, team_id, options, settings, report, started) as flight:
        while flight.time_left() > 0:
            token = new_claim_token()
            ids = claim_replies(session, team_id, options.clock(), flight.chunk, token)
            if not ids:
                return report
            messages = _own(_load_chunk(session, ids), token)
            ids = [m.id for m in messages]
            flight.gate = Gate(session, team_id, settings, transport=options.transport)
            for position, message in enumerate(messages):
                outcome = "out_of_time" if flight.time_left() <= 0 else flight.send(message)
                if outcome == "out_of_time":
                    flight.give_back(ids[position:], token)
                    return report
                _count(report, outcome)
    report.slice_used()
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
