"""Replies in the background: reading and drafting each inbox item, and sending replies.

The inbox item's own state is the job's record (`processing` until read, then `open`),
so a job lost with Redis is found again: the ticker re-queues items left processing,
and teams with replies due. Both jobs are idempotent.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.extensions import db
from console.models import InboxItem
from console.models.base import utcnow
from console.providers.claude import Claude
from console.services.replies import inbound, inbox
from console.services.sending import dispatch
from jobs.queue import DEFAULT_QUEUE, connection, queue, release_lock

log = logging.getLogger(__name__)
# An item still processing this long after its last change is queued again.
STALE_AFTER = timedelta(seconds=20)
ITEM_LOCK_SECONDS = 60


def models_for(app: Flask) -> inbox.Models:
    """Claude (one client per process) when a key is configured, and the model names."""
    config = app.config
    claude = app.extensions.get("console.claude")
    if claude is None and config.get("ANTHROPIC_API_KEY"):
        claude = Claude(
            config["ANTHROPIC_API_KEY"],
            config.get("ANTHROPIC_BASE_URL", ""),
            timeout=float(config.get("ANTHROPIC_TIMEOUT", 5.0)),
        )
        app.extensions["console.claude"] = claude
    return inbox.Models(
        claude=claude,
        classify=config.get("ANTHROPIC_MODEL_CLASSIFY", "claude-haiku-5-5"),
        draft=config.get("ANTHROPIC_MODEL_DRAFT", "claude-sonnet-5-5"),
    )


def _enqueue(
    app: Flask, function: str, argument: int, description: str, timeout: int, *more: str
) -> None:
    """Put one job on the default queue and wake the embedded worker, if any."""
    # One round trip to Redis (RQ alone makes two): the webhook queues a job a text.
    with connection(app).pipeline() as pipe:
        queue(DEFAULT_QUEUE, app).enqueue(
            function,
            argument,
            *more,
            job_timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=description,
            pipeline=pipe,
        )
        pipe.execute()
    _wake(app)


def _wake(app: Flask) -> None:
    starter = app.extensions.get("console.start_embedded_worker")
    if starter is not None:
        starter()


def enqueue_reading(app: Flask, item_id: int) -> bool:
    """Queue the reading of an inbox item unless it is queued already; True if queued."""
    if not connection(app).set(f"console:reply:item:{item_id}", "1", nx=True, ex=ITEM_LOCK_SECONDS):
        return False
    _enqueue(app, "jobs.replies.read_reply", item_id, f"read reply #{item_id}", 120)
    return True


def read_reply(item_id: int) -> str:
    """RQ entry point: read, prioritize and draft one inbox item."""
    from jobs.runner import _app

    app = _app()
    with app.app_context():
        try:
            outcome = inbox.process_item(db.session, item_id, models_for(app))
        finally:
            connection(app).delete(f"console:reply:item:{item_id}")
            db.session.remove()
        if outcome == inbox.READ_AGAIN:
            enqueue_reading(app, item_id)
        return outcome


def enqueue_inbound(app: Flask, inbound_id: int) -> None:
    """Queue the attaching and reading of a text the webhook only stored."""
    _enqueue(app, "jobs.replies.read_inbound", inbound_id, f"read inbound text #{inbound_id}", 120)


def read_inbound(inbound_id: int) -> str:
    """RQ entry point: match a stored text to its lead and conversation, then read it."""
    from jobs.runner import _app

    app = _app()
    with app.app_context():
        try:
            item_id = inbound.attach(db.session, inbound_id)
            if item_id is None:
                return "nothing to read"
            outcome = inbox.process_item(db.session, item_id, models_for(app))
        finally:
            db.session.remove()
        if outcome == inbox.READ_AGAIN:
            enqueue_reading(app, item_id)
        return outcome


def enqueue_replies(app: Flask, team_id: int) -> bool:
    """Queue the reply sender of a team unless one is queued or running."""
    lock = int(float(app.config.get("DISPATCH_TIME_SLICE", 30.0))) + 30
    token = secrets.token_hex(16)  # frees this lock only, not a later job's
    if not connection(app).set(_replies_lock_key(team_id), token, nx=True, ex=lock):
        return False
    description = f"send replies of team #{team_id}"
    _enqueue(app, "jobs.replies.send_replies", team_id, description, 600, token)
    return True


def _replies_lock_key(team_id: int) -> str:
    return f"console:dispatch:replies:{team_id}"


def send_replies(team_id: int, lock_token: str | None = None) -> str:
    """RQ entry point: send a team's due inbox replies for one time slice, then free the
    team's lock if it is still the one taken for this job (`lock_token`)."""
    from jobs.runner import _app
    from jobs.sending import dispatch_options

    app = _app()
    with app.app_context():
        session = db.session
        try:
            options = dispatch_options(app, session, team_id)
            return dispatch.run_replies(session, team_id, options).sentence()
        finally:
            if lock_token:
                release_lock(connection(app), _replies_lock_key(team_id), lock_token)
            session.remove()


def stale_items(session: Session, now=None) -> list[int]:
    """Items left processing (their job lost, or a newer text joined them)."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(InboxItem.id)
            .where(InboxItem.state == "processing", InboxItem.updated_at < now - STALE_AFTER)
            .order_by(InboxItem.id)
            .limit(200)
        )
    )


def tick(app: Flask, session: Session) -> int:
    """The ticker's share: re-queue stale readings and queue due replies."""
    queued = 0
    for inbound_id in inbound.unattached(session, utcnow() - STALE_AFTER):
        if connection(app).set(f"console:reply:inbound:{inbound_id}", "1", nx=True, ex=60):
            enqueue_inbound(app, inbound_id)
            queued += 1
    for item_id in stale_items(session):
        queued += enqueue_reading(app, item_id)
    for team_id in dispatch.teams_with_due_replies(session):
        queued += enqueue_replies(app, team_id)
    return queued
