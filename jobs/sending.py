"""Sending in the background: the dispatcher job and the ticker that keeps texts moving.

The ticker runs every few seconds (a thread of the embedded console, or of every worker
started with the scheduler): it plays back sandbox callbacks, reconciles texts stuck in
`sending`, turns due follow-ups into batches, queues a dispatcher for every batch with
texts due, and starts each team's daily stale-deal sweep (`jobs.deals`). Of the workers
that run it, one ticks at a time: the holder of a leader lease in Redis, taken over by
another within seconds when the holder dies or loses Redis. Everything it does is found
again from the database, so a lost Redis or a dead worker only delays texts, never loses
or doubles them.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime

import redis
from flask import Flask
from rq import Worker
from sqlalchemy.orm import Session

from console.extensions import db
from console.models import Batch, Campaign
from console.providers.messaging import Transport, TwilioTransport
from console.providers.twilio_client import make_client
from console.services.campaigns import batches
from console.services.sending import delivery, dispatch, pace, sandbox_twilio, sequences
from console.services.sending.leadership import LeaderLease
from console.services.sending.ratelimit import sender_limiter
from jobs import deals, replies
from jobs.queue import DEFAULT_QUEUE, connection, queue, reconcile, release_lock

log = logging.getLogger(__name__)
TICK_SECONDS = 2.0
# The ticker's leader renews its lease every tick interval; another worker takes over
# this long after the last renewal.
LEADER_TTL_SECONDS = 6.0
LEADER_KEY = "console:ticker:leader"
# Set by the leader once the job runs were matched against this Redis; gone after a
# Redis restarted empty, which is how the leader knows to queue lost runs again.
REDIS_SEEN_KEY = "console:ticker:redis-seen"
# A batch's dispatcher is queued at most once while its key lives (its time slice plus
# this margin for the queue's wait).
LOCK_MARGIN_SECONDS = 30
# With DISPATCH_JOBS_PER_BATCH unset, at most this many dispatchers share a batch.
MAX_AUTO_DISPATCHERS = 8
STATUS_PATH = "/webhooks/twilio/status"


def status_callback_url(config: Mapping) -> str:
    """Where Twilio posts status callbacks (none in the sandbox, which plays them back)."""
    if config.get("TWILIO_SANDBOX", True):
        return ""
    return config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_PATH


def transport_for(app: Flask, session: Session, team_id: int) -> Transport:
    """Twilio through the official SDK, or the sandbox when no account is configured."""
    config = app.config
    if config.get("TWILIO_SANDBOX", True):
        return sandbox_twilio.SandboxTransport(session, team_id)
    transport = app.extensions.get("console.twilio_transport")
    if transport is None:
        # One SDK client per sending thread (see TwilioTransport).
        transport = TwilioTransport(
            lambda: make_client(
                config["TWILIO_ACCOUNT_SID"],
                config["TWILIO_AUTH_TOKEN"],
                config.get("TWILIO_API_BASE_URL", ""),
                timeout=float(config.get("TWILIO_TIMEOUT", 10.0)),
            )
        )
        app.extensions["console.twilio_transport"] = transport
    return transport


def dispatch_options(
    app: Flask, session: Session, team_id: int, batch_id: int | None = None, slot: int = 0
) -> dispatch.DispatchOptions:
    """The dispatcher's transport, per-sender Redis rate limits, callback URL and how
    many texts it has in flight; a batch's dispatcher also tells how it is doing."""
    conn = connection(app)
    return dispatch.DispatchOptions(
        transport=transport_for(app, session, team_id),
        limiter_for=lambda sender: sender_limiter(conn, sender.id, sender.mps),
        status_callback=status_callback_url(app.config),
        time_slice=float(app.config.get("DISPATCH_TIME_SLICE", 30.0)),
        lease_seconds=int(app.config.get("DISPATCH_LEASE_SECONDS", dispatch.LEASE_SECONDS)),
        concurrency=int(app.config.get("DISPATCH_CONCURRENCY", 32)),
        report_pace=(
            (lambda figures: pace.publish(conn, batch_id, slot, figures))
            if batch_id is not None
            else None
        ),
    )


def _lock_key(batch_id: int, slot: int = 0) -> str:
    # Slot 0 keeps the key of the days of one dispatcher a batch.
    return f"console:dispatch:batch:{batch_id}" + (f":{slot}" if slot else "")


def dispatchers_per_batch(app: Flask) -> int:
    """How many dispatchers share one batch: DISPATCH_JOBS_PER_BATCH, or one for each
    worker listening to the default queue (at least one)."""
    configured = int(app.config.get("DISPATCH_JOBS_PER_BATCH", 0))
    if configured:
        return configured
    if app.extensions.get("console.start_embedded_worker") is not None:
        return 1
    try:
        listening = Worker.count(connection=connection(app), queue=queue(DEFAULT_QUEUE, app))
    except redis.RedisError:
        listening = 1
    return max(1, min(listening, MAX_AUTO_DISPATCHERS))


def enqueue_dispatch(app: Flask, batch_id: int) -> int:
    """Queue dispatchers for a batch, one for each free slot (see
    `dispatchers_per_batch`); how many were queued."""
    conn = connection(app)
    # A slot's key outlives a dispatcher's slice a little, so a dead worker delays the
    # batch's share of that slot by about one slice, not more.
    lock = int(float(app.config.get("DISPATCH_TIME_SLICE", 30.0))) + LOCK_MARGIN_SECONDS
    queued = 0
    for slot in range(dispatchers_per_batch(app)):
        # The job frees the key with this token, so a job that outlived it frees no other's.
        token = secrets.token_hex(16)
        if not conn.set(_lock_key(batch_id, slot), token, nx=True, ex=lock):
            continue
        queue(DEFAULT_QUEUE, app).enqueue(
            "jobs.sending.send_batch",
            batch_id,
            token,
            slot,
            job_timeout=600,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"send batch #{batch_id}" + (f" ({slot + 1})" if slot else ""),
        )
        queued += 1
    starter = app.extensions.get("console.start_embedded_worker")
    if queued and starter is not None:
        starter()
    return queued


def send_batch(batch_id: int, lock_token: str | None = None, slot: int = 0) -> str:
    """RQ entry point: send a batch's due texts for one time slice, then free the batch's
    slot if it is still the one taken for this job (`lock_token`); a slice that ended
    with texts still to send queues the batch's dispatchers again."""
    from jobs.runner import _app

    app = _app()
    with app.app_context():
        session = db.session
        try:
            batch = session.get(Batch, batch_id)
            if batch is None:
                return "no such batch"
            options = dispatch_options(app, session, batch.team_id, batch_id, slot)
            report = dispatch.run(session, batch_id, options)
        finally:
            # A job queued without a token (before tokens) leaves the key to expire.
            if lock_token:
                release_lock(connection(app), _lock_key(batch_id, slot), lock_token)
            session.remove()
        if report.out_of_time:
            # Queued again at once, behind the jobs that waited, not at the next tick.
            with contextlib.suppress(redis.RedisError):
                enqueue_dispatch(app, batch_id)
    return report.sentence()


def start_follow_ups(session: Session, now: datetime | None = None) -> list[int]:
    """Turn due follow-up touches into batches (approved at once if the team says so)."""
    made = []
    for (campaign_id, touch), _enrollments in sequences.due_enrollments(session, now).items():
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or sequences.touch_plan(campaign, touch) is None:
            continue
        batch = batches.create_batch(session, campaign, None, touch=touch)
        session.commit()
        try:
            batches.generate(session, batch.id, now=now)
        except Exception:
            session.rollback()
            log.exception("Follow-up batch %s of campaign %s failed", batch.id, campaign_id)
            failed = session.get(Batch, batch.id)
            failed.status = "cancelled"
            session.commit()
            continue
        made.append(batch.id)
    return made


def tick(app: Flask) -> dict[str, int]:
    """One round of the ticker; returns what it did."""
    done = {
        "played": 0,
        "reconciled": 0,
        "adopted": 0,
        "priced": 0,
        "follow_ups": 0,
        "queued": 0,
        "replies": 0,
        "stale_sweeps": 0,
    }
    with app.app_context():
        session = db.session
        try:
            if app.config.get("TWILIO_SANDBOX", True):
                done["played"] = sandbox_twilio.play_back(session)
            done["reconciled"] = _reconcile(app, session)
            done["adopted"] = delivery.adopt_orphans(session)
            for team_id in dispatch.teams_to_price(session):
                options = dispatch_options(app, session, team_id)
                done["priced"] += dispatch.refresh_prices(session, options, team_id)
            done["follow_ups"] = len(start_follow_ups(session))
            for batch_id in dispatch.due_batches(session):
                done["queued"] += enqueue_dispatch(app, batch_id)
            done["replies"] = replies.tick(app, session)
            done["stale_sweeps"] = deals.tick(app, session)
        finally:
            session.remove()
    return done


def _reconcile(app: Flask, session: Session) -> int:
    settled = 0
    for team_id in dispatch.teams_with_stuck(session):
        options = dispatch_options(app, session, team_id)
        settled += dispatch.reconcile_stuck(session, options, team_id=team_id)
    return settled


def ticker_lease(app: Flask) -> LeaderLease:
    """The lease that decides which of the processes running the ticker ticks."""
    return LeaderLease(connection(app), LEADER_KEY, LEADER_TTL_SECONDS)


def keep_lease(lease: LeaderLease, stop: threading.Event, every: float) -> None:
    """Take or renew the ticker's lease every `every` seconds until `stop`, then give
    it up; a lost Redis is logged and tried again at the next renewal."""
    leading = False
    while True:
        try:
            now_leading = lease.hold()
        except redis.RedisError as exc:
            now_leading = False
            log.warning("Sending ticker: cannot reach Redis for the leader lease (%s)", exc)
        if now_leading != leading:
            log.warning("Sending ticker: %s", "leading" if now_leading else "standing by")
            leading = now_leading
        if stop.wait(every):
            break
    with contextlib.suppress(redis.RedisError):  # the key expires on its own then
        lease.release()


def requeue_lost_runs(app: Flask) -> int:
    """Queue again the job runs a Redis restarted empty has lost; runs once per Redis."""
    conn = connection(app)
    if conn.exists(REDIS_SEEN_KEY):
        return 0
    with app.app_context():
        try:
            counts = reconcile(db.session, app, requeue_only=True)
        finally:
            db.session.remove()
    conn.set(REDIS_SEEN_KEY, "1")
    if counts["requeued"]:
        log.warning("Job runs lost with Redis queued again: %(requeued)s", counts)
    return counts["requeued"]


def run_ticker(
    app: Flask,
    stop: threading.Event,
    interval: float = TICK_SECONDS,
    lease: LeaderLease | None = None,
) -> None:
    """Tick while this process holds the leader lease, until `stop` is set; a failed
    tick is logged and the next one tries again."""
    lease = lease or ticker_lease(app)
    # The lease is renewed from its own thread, so a long tick does not let it lapse.
    threading.Thread(
        target=keep_lease, args=(lease, stop, interval), name="console-ticker-lease", daemon=True
    ).start()
    while not stop.wait(interval):
        if not lease.held():
            continue
        try:
            requeue_lost_runs(app)
            tick(app)
        except Exception:  # noqa: BLE001 - the ticker must outlive any one bad round
            log.exception("Sending ticker round failed")


def start_ticker(app: Flask, interval: float = TICK_SECONDS) -> threading.Event:
    """Start the ticker in a daemon thread once per app; returns its stop switch."""
    existing = app.extensions.get("console.ticker_stop")
    if existing is not None:
        return existing
    stop = threading.Event()
    app.extensions["console.ticker_stop"] = stop
    threading.Thread(
        target=run_ticker, args=(app, stop, interval), name="console-ticker", daemon=True
    ).start()
    return stop
