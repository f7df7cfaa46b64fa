"""Exactly once under any interleaving: batches approved, numbers opting out (STOP),
dispatchers running in small chunks and running out of time, workers killed between
Twilio taking a text and the console recording it, the reconciler catching up. No
number gets a text after its opt-out was committed, and no text goes twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.models import (
    Batch,
    Campaign,
    ConsentEvent,
    Enrollment,
    Lead,
    Message,
    MessageEvent,
    SandboxMessage,
    Suppression,
)
from console.services.campaigns import batches
from console.services.sending import delivery, dispatch
from console.services.sending.ratelimit import RateLimitWait
from console.services.sending.sandbox_twilio import SandboxTransport
from tests.sending_helpers import (
    CENTRAL,
    TUE,
    Clock,
    Outreach,
    WorkerDied,
    make_outreach,
    next_weekday,
)

NUMBERS = 5
# Ten in the morning in Austin: hours of steps later it is still inside every window.
START = next_weekday(TUE, 10, zone=CENTRAL)


@pytest.fixture(scope="module")
def outreach() -> Iterator[Outreach]:
    """An in-memory console (its app context open for the module's tests) with one team
    of five leads, one mobile each; the campaign drafts batches of two."""
    app = create_app(TestConfig())
    with app.app_context():
        db.create_all()
        yield make_outreach(["TX"] * NUMBERS, batch_size=2)
        db.session.remove()


class Budget:
    """A rate limit that lets `slots` texts go, then says the worker's time is up."""

    def __init__(self, slots: int) -> None:
        self.left = slots

    def acquire(self, max_wait: float | None = None) -> float:
        if self.left <= 0:
            raise RateLimitWait(1.0)
        self.left -= 1
        return 0.0


def killed_after_twilio(message, result) -> None:
    """Twilio keeps the text, the worker dies before recording the SID. The sandbox's
    record sits in the worker's own transaction, so it is committed first, as Twilio's
    would be; otherwise the crash would take the "sent" text back with it."""
    db.session.commit()
    raise WorkerDied(result.sid)


class World:
    """One interleaving being played: the clock, and when each opt-out was committed."""

    def __init__(self, outreach: Outreach) -> None:
        self.outreach = outreach
        self.clock = Clock(START)
        self.stopped_at: dict[str, datetime] = {}
        self.batch_ids: list[int] = []

    def options(self, **more) -> dispatch.DispatchOptions:
        transport = SandboxTransport(db.session, self.outreach.team.id, clock=self.clock)
        budget = Budget(more.pop("slots", 1_000))
        return dispatch.DispatchOptions(
            transport=transport, limiter_for=lambda sender: budget, clock=self.clock, **more
        )

    def tick(self) -> None:
        self.clock.advance(seconds=1)

    # -- events ------------------------------------------------------------------------

    def approve(self) -> None:
        batch = batches.create_batch(
            db.session, self.outreach.campaign, self.outreach.crew.operator
        )
        db.session.commit()
        batches.generate(db.session, batch.id, now=self.clock())
        batches.approve(db.session, batch, self.outreach.crew.operator, now=self.clock())
        db.session.commit()
        self.batch_ids.append(batch.id)

    def stop(self, which: int) -> None:
        number = self.outreach.numbers[which]
        delivery.suppress_number(
            db.session, self.outreach.team.id, number, reason="opt_out", source="STOP"
        )
        db.session.commit()
        self.stopped_at.setdefault(number, self.clock())

    def dispatch(self, which: int, chunk: int, slots: int, crash: bool = False) -> None:
        if not self.batch_ids:
            return
        batch_id = self.batch_ids[which % len(self.batch_ids)]
        more = {"chunk": chunk, "slots": slots}
        if crash:
            more["after_call"] = killed_after_twilio
        try:
            dispatch.run(db.session, batch_id, self.options(**more))
        except WorkerDied:
            db.session.rollback()

    def reconcile(self) -> None:
        self.clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
        dispatch.reconcile_stuck(db.session, self.options())

    def drain(self) -> None:
        """Let every worker catch up: reconcile, then send whatever is due."""
        self.reconcile()
        for batch_id in self.batch_ids:
            dispatch.run(db.session, batch_id, self.options())

    # -- what must always hold -----------------------------------------------------------

    def check(self) -> None:
        db.session.expire_all()
        texts = db.session.scalars(select(SandboxMessage).order_by(SandboxMessage.id)).all()
        for text in texts:
            stopped = self.stopped_at.get(text.to_e164)
            assert stopped is None or text.created_at < stopped, (
                f"{text.to_e164} got a text at {text.created_at}, after its STOP at {stopped}"
            )
        per_number = [text.to_e164 for text in texts]
        assert len(per_number) == len(set(per_number)), f"a number got two texts: {per_number}"
        recorded = db.session.execute(
            select(Message.provider_sid, Message.to_e164, Message.sent_at).where(
                Message.provider_sid.is_not(None)
            )
        ).all()
        sandbox_sids = {text.sid for text in texts}
        for sid, number, sent_at in recorded:
            assert sid in sandbox_sids
            stopped = self.stopped_at.get(number)
            assert stopped is None or sent_at < stopped

    def check_settled(self) -> None:
        """After the drain: every text Twilio took is recorded once, nothing is left."""
        self.check()
        recorded = list(
            db.session.scalars(
                select(Message.provider_sid).where(Message.provider_sid.is_not(None))
            )
        )
        taken = list(db.session.scalars(select(SandboxMessage.sid)))
        assert sorted(recorded) == sorted(taken)
        left = db.session.scalar(
            select(func.count(Message.id)).where(Message.status.in_(("approved", "sending")))
        )
        assert left == 0
        for message in db.session.scalars(select(Message).where(Message.status == "blocked")):
            assert message.to_e164 in self.stopped_at


def reset(outreach: Outreach) -> None:
    """Forget the last interleaving: no texts, batches, enrollments or opt-outs."""
    db.session.rollback()
    for model in (MessageEvent, SandboxMessage, Message, Enrollment, Batch, ConsentEvent):
        db.session.execute(delete(model))
    db.session.execute(delete(Suppression))
    db.session.execute(update(Lead).values(status="new", last_contacted_at=None))
    db.session.execute(update(Campaign).values(status="draft"))
    db.session.commit()
    db.session.expire_all()


EVENTS = st.one_of(
    st.just(("approve",)),
    st.tuples(st.just("stop"), st.integers(0, NUMBERS - 1)),
    st.tuples(
        st.just("dispatch"), st.integers(0, 3), st.integers(1, 3), st.integers(0, 3), st.just(False)
    ),
    st.tuples(st.just("crash"), st.integers(0, 3), st.integers(1, 3), st.just(9), st.just(True)),
    st.just(("reconcile",)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(events=st.lists(EVENTS, min_size=1, max_size=20))
def test_no_text_after_stop_and_none_twice_whatever_the_interleaving(outreach, events):
    reset(outreach)
    world = World(outreach)
    for event in events:
        kind, *args = event
        if kind in ("dispatch", "crash"):
            world.dispatch(*args)
        else:
            getattr(world, kind)(*args)
        world.check()
        world.tick()
    world.drain()
    world.check_settled()
