"""Sending through the official Twilio SDK against a local Twilio: exactly once across
worker crashes, dropped answers, 5xx and rate limits; status callbacks (replays, out
of order, early); what Twilio's errors do to numbers, enrollments and senders; quiet
hours; follow-up sequences; a sender's rate shared by two workers. SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import fakeredis
import pytest
import redis
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.extensions import db
from console.models import (
    Batch,
    ConsentEvent,
    Enrollment,
    Message,
    MessageEvent,
    Phone,
    Sender,
    Suppression,
)
from console.services.campaigns import batches
from console.services.sending import delivery, dispatch, sandbox_twilio, sequences
from console.services.sending.compliance import Gate, Recipient
from console.services.sending.policy import SendingSettings
from jobs import queue as job_queue
from jobs import replies as replies_jobs
from jobs import sending as sending_jobs
from jobs.sending import start_follow_ups
from tests import servers
from tests.fakeservers import TwilioServer
from tests.sending_helpers import (
    CENTRAL,
    EASTERN,
    TUE,
    WED,
    CallbackSink,
    Clock,
    WorkerDied,
    approved_batch,
    backend_app,
    crash_after_call,
    created_to,
    drop_schema,
    empty_tables,
    frozen_dispatcher,
    limiters,
    make_outreach,
    messages_of,
    mobile,
    next_weekday,
    options,
    statuses,
    twilio_server,
    twilio_transport,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request, tmp_path_factory) -> Iterator[Flask]:
    """One console per database for the module: SQLite, then PostgreSQL.

    Like conftest's `app` (same databases, same marks), but the schema is made once per
    module and emptied between tests: a new schema a test costs a second on PostgreSQL.
    """
    app = backend_app(request, request.param, tmp_path_factory.mktemp(request.param))
    yield app
    drop_schema(app)


@pytest.fixture
def app(backend) -> Iterator[Flask]:
    """The module's console in an app context, its tables emptied after each test."""
    with backend.app_context():
        yield backend
        empty_tables()


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    """A local Twilio whose messages stay `queued` for the length of a test, unless a
    test shortens `callback_delay` to watch them move on."""
    with twilio_server(callback_delay=60.0) as server:
        yield server


@pytest.fixture
def clock(twilio) -> Clock:
    """Noon in Austin on a coming Tuesday; the local Twilio dates messages by it too."""
    fixed = Clock(next_weekday(TUE, 12, zone=CENTRAL))
    twilio.clock = fixed
    return fixed


@pytest.fixture
def sink() -> Iterator[CallbackSink]:
    """Where the local Twilio posts its signed status callbacks."""
    with CallbackSink() as receiver:
        yield receiver


def apply_callbacks(forms: list[dict[str, str]]) -> list[str]:
    """Apply status callbacks as the webhook does, committing each."""
    results = []
    for form in forms:
        results.append(delivery.apply_callback(db.session, form))
        db.session.commit()
    return results


def one_each(twilio: TwilioServer, numbers: list[str]) -> bool:
    """Whether Twilio took exactly one text for each number."""
    return all(len(created_to(twilio, number)) == 1 for number in numbers)


class DiesBeforeTheCall:
    """A transport whose worker is killed after the claim, before Twilio is called."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls = 0

    def send(self, **kwargs):
        self.calls += 1
        raise WorkerDied("killed before calling Twilio")

    def find(self, **kwargs):
        return self.inner.find(**kwargs)


# -- exactly once ------------------------------------------------------------------------


def test_crash_after_twilio_took_a_text_is_reconciled_not_sent_again(app, twilio, clock):
    outreach = make_outreach(["TX", "TX", "TX"])
    claimed_at = clock()
    batch = approved_batch(outreach, claimed_at)
    transport = twilio_transport(twilio)
    first = outreach.numbers[0]

    with pytest.raises(WorkerDied):
        dispatch.run(db.session, batch.id, options(transport, clock, after_call=crash_after_call()))
    db.session.rollback()

    stuck = messages_of(batch.id)
    assert [m.status for m in stuck] == ["sending"] * 3  # the whole chunk was claimed
    assert all(m.provider_sid is None for m in stuck)
    assert len(created_to(twilio, first)) == 1
    clock.advance(seconds=dispatch.LEASE_SECONDS - 1)
    assert dispatch.reconcile_stuck(db.session, options(transport, clock)) == 0

    clock.advance(seconds=2)
    settled = dispatch.reconcile_stuck(db.session, options(transport, clock))

    recorded = messages_of(batch.id)
    assert settled == 3
    assert recorded[0].status == "sent"
    assert recorded[0].provider_sid == created_to(twilio, first)[0]["sid"]
    assert recorded[0].sent_at == claimed_at  # when it went, not when it was found
    assert [m.status for m in recorded[1:]] == ["approved", "approved"]
    assert all("Not found at Twilio" in m.hold_reason for m in recorded[1:])

    report = dispatch.run(db.session, batch.id, options(transport, clock))
    again = dispatch.run(db.session, batch.id, options(transport, clock))

    assert (report.sent, again.sent) == (2, 0)
    assert len(twilio.created) == 3
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": 3}
    assert db.session.get(Batch, batch.id).status == "done"


def test_text_still_queued_at_twilio_is_found_and_not_sent_again(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio)
    with pytest.raises(WorkerDied):
        dispatch.run(db.session, batch.id, options(transport, clock, after_call=crash_after_call()))
    db.session.rollback()
    # Twilio's date_sent is "when Twilio sent the message" (nullable in its schema): a
    # text still queued behind the sender's rate has none, and no DateSent range holds it.
    (taken,) = twilio.created
    with twilio.lock:
        twilio._messages[taken["sid"]]["resource"]["date_sent"] = None

    clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
    dispatch.run(db.session, batch.id, options(transport, clock))

    assert len(twilio.created) == 1
    (message,) = messages_of(batch.id)
    assert message.provider_sid == taken["sid"]


def test_worker_killed_before_the_call_sends_once_after_the_lease(app, twilio, clock):
    outreach = make_outreach(["TX", "TX"])
    batch = approved_batch(outreach, clock())
    dying = DiesBeforeTheCall(twilio_transport(twilio))

    with pytest.raises(WorkerDied):
        dispatch.run(db.session, batch.id, options(dying, clock))
    db.session.rollback()
    assert statuses(batch.id) == {"sending": 2}
    early = dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))
    assert early.sent == 0  # still leased: nobody may touch it yet

    clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
    report = dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))

    assert dying.calls == 1
    assert report.sent == 2
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": 2}


class StallsForItsSlot:
    """A sender's rate limit whose first wait stands for the worker frozen (SIGSTOP)
    past its lease after its claim, before its last check: `meanwhile` is what the rest
    of the console does in that time."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        self.meanwhile = meanwhile
        self.stalls = 0

    def acquire(self, max_wait: float | None = None) -> float:
        if not self.stalls:
            self.stalls += 1
            self.meanwhile()
        return 0.0


class StallsInTheCall:
    """A transport whose first send stands for the worker frozen past its lease after
    its last check, before its request reached Twilio (the window no check can close)."""

    def __init__(self, inner, meanwhile: Callable[[], None]) -> None:
        self.inner = inner
        self.meanwhile = meanwhile
        self.stalls = 0

    def send(self, **kwargs):
        if not self.stalls:
            self.stalls += 1
            self.meanwhile()
        return self.inner.send(**kwargs)

    def find(self, **kwargs):
        return self.inner.find(**kwargs)


def test_worker_stalled_past_its_lease_sends_nothing_when_it_wakes(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio)
    elsewhere: dict[str, object] = {}

    def meanwhile() -> None:
        # The ticker finds the text past its lease and not at Twilio; another worker sends it.
        clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
        with Session(db.engine) as other:
            elsewhere["settled"] = dispatch.reconcile_stuck(other, options(transport, clock))
            elsewhere["sent"] = dispatch.run(other, batch.id, options(transport, clock)).sent

    stalled = StallsForItsSlot(meanwhile)
    woke = dispatch.run(
        db.session, batch.id, options(transport, clock, limiter_for=lambda sender: stalled)
    )

    assert stalled.stalls == 1
    assert elsewhere == {"settled": 1, "sent": 1}
    assert len(twilio.created) == 1, "sent twice"
    (message,) = messages_of(batch.id)
    assert (message.status, message.provider_sid) == ("sent", twilio.created[0]["sid"])
    assert (woke.sent, woke.lost) == (0, 1)
    assert "1 lost their claim" in woke.sentence()


def test_text_a_woken_worker_sent_after_its_reset_is_kept_not_sent_again(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio)

    def meanwhile() -> None:
        clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
        with Session(db.engine) as other:
            assert dispatch.reconcile_stuck(other, options(transport, clock)) == 1

    woke = dispatch.run(db.session, batch.id, options(StallsInTheCall(transport, meanwhile), clock))
    after = dispatch.run(db.session, batch.id, options(transport, clock))

    # Its SID is recorded on the text set back to approved, so nobody sends it again.
    assert (woke.sent, after.sent) == (1, 0)
    (taken,) = twilio.created
    (message,) = messages_of(batch.id)
    assert (message.status, message.provider_sid) == ("sent", taken["sid"])
    assert message.hold_reason == ""


def test_claim_renewed_at_the_last_check_is_not_reconciled_during_the_call(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio)
    during_the_call: list[int] = []

    def in_the_call() -> None:
        clock.advance(seconds=1)
        with Session(db.engine) as other:
            during_the_call.append(dispatch.reconcile_stuck(other, options(transport, clock)))

    stalled = StallsForItsSlot(lambda: clock.advance(seconds=dispatch.LEASE_SECONDS + 1))
    report = dispatch.run(
        db.session,
        batch.id,
        options(StallsInTheCall(transport, in_the_call), clock, limiter_for=lambda sender: stalled),
    )
    again = dispatch.run(db.session, batch.id, options(transport, clock))

    assert during_the_call == [0]  # the lease counts from the check before the call
    assert (report.sent, again.sent) == (1, 0)
    assert len(twilio.created) == 1
    assert statuses(batch.id) == {"sent": 1}


def test_reconciler_takes_a_claim_over_before_it_asks_twilio(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    mine = dispatch.new_claim_token()
    (message_id,) = dispatch.claim(db.session, batch.id, clock(), token=mine)
    transport = twilio_transport(twilio)
    seen: list[str | None] = []

    class Watching:
        def find(self, **kwargs):
            seen.append(db.session.get(Message, message_id, populate_existing=True).claim_token)
            return transport.find(**kwargs)

    clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
    assert dispatch.reconcile_stuck(db.session, options(Watching(), clock)) == 1

    assert len(seen) == 1 and seen[0] not in (None, mine)
    message = db.session.get(Message, message_id, populate_existing=True)
    assert (message.status, message.claim_token) == ("approved", None)
    # The stalled holder's token matches nothing any more.
    assert not dispatch.fence(db.session, message, mine, clock())


# A dispatcher in a process of its own, at the test's clock: it reports each claimed
# text's wait for its rate slot on stdout (the moment the test freezes it), then sleeps.
FROZEN_DISPATCHER = """
import json, sys, time
from datetime import datetime
from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.services.sending import dispatch
from tests.sending_helpers import options, twilio_transport

url, twilio_url, batch_id, now = sys.argv[1:5]

class Announced:
    def acquire(self, max_wait=None):
        print("waiting for a slot", flush=True)
        time.sleep(1.0)
        return 1.0

app = create_app(TestConfig(SQLALCHEMY_DATABASE_URI=url))
with app.app_context():
    clock = lambda: datetime.fromisoformat(now)
    report = dispatch.run(
        db.session,
        int(batch_id),
        options(twilio_transport(twilio_url), clock, limiter_for=lambda sender: Announced()),
    )
    print(json.dumps({"sent": report.sent, "lost": report.lost}), flush=True)
"""


def test_worker_process_frozen_past_its_lease_sends_nothing_when_it_wakes(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    args = (url, twilio.url, str(batch.id), str(clock()))
    with frozen_dispatcher(FROZEN_DISPATCHER, *args) as frozen:
        clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
        assert dispatch.reconcile_stuck(db.session, options(transport, clock)) == 1
        assert dispatch.run(db.session, batch.id, options(transport, clock)).sent == 1
        woke, err = frozen.wake()

    assert len(twilio.created) == 1, "sent twice"
    assert woke == {"sent": 0, "lost": 1}, err
    db.session.expire_all()
    (message,) = messages_of(batch.id)
    assert (message.status, message.provider_sid) == ("sent", twilio.created[0]["sid"])


def test_a_dispatcher_that_outlived_its_batch_lock_frees_only_its_own(app):
    conn = job_queue.connection(app)
    key = sending_jobs._lock_key(999)
    jobs = job_queue.queue(app=app)
    assert sending_jobs.enqueue_dispatch(app, 999)
    conn.delete(key)  # it expired while its dispatcher was frozen
    assert sending_jobs.enqueue_dispatch(app, 999)
    queued = jobs.jobs[-2:]
    stale, fresh = [job.args for job in queued]
    for job in queued:
        job.delete()

    assert sending_jobs.send_batch(*stale) == "no such batch"

    assert conn.exists(key)  # the next dispatcher's lock stands
    assert not sending_jobs.enqueue_dispatch(app, 999)
    sending_jobs.send_batch(*fresh)
    assert not conn.exists(key)


def test_a_reply_sender_that_outlived_its_lock_frees_only_its_own(app):
    team_id = make_outreach(["TX"]).crew.team.id
    conn = job_queue.connection(app)
    key = replies_jobs._replies_lock_key(team_id)
    jobs = job_queue.queue(app=app)
    assert replies_jobs.enqueue_replies(app, team_id)
    conn.delete(key)  # it expired while its sender was frozen
    assert replies_jobs.enqueue_replies(app, team_id)
    queued = jobs.jobs[-2:]
    stale, fresh = [job.args for job in queued]
    for job in queued:
        job.delete()

    replies_jobs.send_replies(*stale)

    assert conn.exists(key)
    replies_jobs.send_replies(*fresh)
    assert not conn.exists(key)


def frees_only_its_own(conn: redis.Redis) -> None:
    """A lock holding another owner's token stays; the owner's token frees it."""
    key = "console:test:lock"
    conn.set(key, "next-owner")
    assert not job_queue.release_lock(conn, key, "stale-owner")
    assert conn.get(key) == b"next-owner"
    assert job_queue.release_lock(conn, key, "next-owner")
    assert conn.get(key) is None


def test_lock_is_released_by_its_owner_only_without_lua(app):
    frees_only_its_own(fakeredis.FakeStrictRedis(server=fakeredis.FakeServer()))


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_lock_is_released_by_its_owner_only_on_real_redis(app, redis_url):
    frees_only_its_own(redis.Redis.from_url(redis_url))


def test_unreachable_twilio_is_retried_after_a_backoff_and_sends_once(app, twilio, clock):
    outreach = make_outreach(["TX", "TX"])
    batch = approved_batch(outreach, clock())
    nobody = twilio_transport(f"http://127.0.0.1:{servers.free_port()}", timeout=1)

    down = dispatch.run(db.session, batch.id, options(nobody, clock))

    # No connection was ever made, so nothing can have gone: back in line, with a reason.
    assert (down.sent, down.failed, down.retried) == (0, 0, 2)
    assert statuses(batch.id) == {"approved": 2}
    assert all(m.hold_reason.startswith("Retrying") for m in messages_of(batch.id))
    clock.advance(seconds=dispatch.RETRY_SECONDS[0] + 1)
    up = dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))

    assert up.sent == 2
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": 2}


def test_dropped_answer_is_found_at_twilio_and_recorded_once(app, twilio, clock):
    outreach = make_outreach(["TX", "TX"])
    batch = approved_batch(outreach, clock())
    twilio.drop_after_create(1)
    transport = twilio_transport(twilio)

    report = dispatch.run(db.session, batch.id, options(transport, clock))
    clock.advance(minutes=10)
    again = dispatch.run(db.session, batch.id, options(transport, clock))

    first = messages_of(batch.id)[0]
    assert (report.reconciled, report.sent, again.sent) == (1, 1, 0)
    assert one_each(twilio, outreach.numbers)
    assert first.status == "sent"
    assert first.provider_sid == created_to(twilio, outreach.numbers[0])[0]["sid"]
    assert first.attempts == 1


def test_twilio_5xx_is_retried_after_a_look_and_sent_once(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    twilio.fail_next(1, http_status=500, code=20500)
    transport = twilio_transport(twilio)

    report = dispatch.run(db.session, batch.id, options(transport, clock))
    (waiting,) = messages_of(batch.id)

    assert report.retried == 1
    assert waiting.status == "approved"
    assert waiting.due_at == clock() + timedelta(seconds=dispatch.RETRY_SECONDS[0])
    assert waiting.hold_reason.startswith("Retrying in 0.5 s")
    assert twilio.created == []

    clock.advance(seconds=dispatch.RETRY_SECONDS[0])
    retried = dispatch.run(db.session, batch.id, options(transport, clock))

    (sent,) = messages_of(batch.id)
    assert retried.sent == 1
    assert (sent.status, sent.attempts, sent.hold_reason) == ("sent", 2, "")
    assert sent.provider_sid == twilio.created[0]["sid"]
    assert len(twilio.created) == 1


def test_rate_limited_text_backs_off_and_never_fails_while_tries_remain(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    retries = dispatch.MAX_ATTEMPTS - 1
    twilio.fail_next(retries, http_status=429, code=20429)
    transport = twilio_transport(twilio)

    waits = []
    for _ in range(retries):
        report = dispatch.run(db.session, batch.id, options(transport, clock))
        (message,) = messages_of(batch.id)
        assert (report.retried, report.failed) == (1, 0)
        assert message.status == "approved"
        waits.append((message.due_at - clock()).total_seconds())
        requests = twilio.requests
        assert dispatch.run(db.session, batch.id, options(transport, clock)).sent == 0
        assert twilio.requests == requests  # not due yet: Twilio is not asked
        clock.set(message.due_at)
    final = dispatch.run(db.session, batch.id, options(transport, clock))

    (message,) = messages_of(batch.id)
    assert waits == list(dispatch.RETRY_SECONDS)
    assert final.sent == 1
    assert (message.status, message.attempts) == ("sent", dispatch.MAX_ATTEMPTS)
    assert len(twilio.created) == 1


def test_rate_limited_text_fails_in_words_when_its_tries_are_used_up(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    twilio.fail_next(dispatch.MAX_ATTEMPTS, http_status=429, code=20429)
    transport = twilio_transport(twilio)

    for _ in range(dispatch.MAX_ATTEMPTS):
        dispatch.run(db.session, batch.id, options(transport, clock))
        clock.advance(minutes=15)

    (message,) = messages_of(batch.id)
    assert (message.status, message.error_code) == ("failed", 20429)
    assert message.error_message.startswith(f"Gave up after {dispatch.MAX_ATTEMPTS} tries")
    assert twilio.created == []


@pytest.mark.parametrize("outcome", [("delivered", None), ("undelivered", 30007)])
def test_reconciled_text_takes_the_status_twilio_has_for_it(app, twilio, clock, sink, outcome):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    number = outreach.numbers[0]
    twilio.callback_delay = 0.01
    twilio.outcomes[number] = outcome
    transport = twilio_transport(twilio)
    crashing = options(
        transport, clock, after_call=crash_after_call(), status_callback=sink.status_url
    )
    with pytest.raises(WorkerDied):
        dispatch.run(db.session, batch.id, crashing)
    db.session.rollback()
    assert twilio.wait_idle(5)
    # The callbacks came while no message had the SID: kept, to apply once it has.
    assert set(apply_callbacks(sink.forms)) == {"unknown"}

    clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
    dispatch.reconcile_stuck(db.session, options(transport, clock))

    (message,) = messages_of(batch.id)
    assert message.provider_sid == twilio.created[0]["sid"]
    assert (message.provider_status, message.error_code) == outcome
    assert message.status == ("delivered" if outcome[0] == "delivered" else "failed")


# -- status callbacks ----------------------------------------------------------------------


def test_signed_callbacks_move_texts_forward_and_replays_change_nothing(app, twilio, clock, sink):
    outreach = make_outreach(["TX", "TX", "TX"])
    in_order, reversed_, filtered = outreach.numbers
    twilio.callback_delay = 0.01
    twilio.outcomes[filtered] = ("undelivered", 30007)
    batch = approved_batch(outreach, clock())
    dispatch.run(
        db.session,
        batch.id,
        options(twilio_transport(twilio), clock, status_callback=sink.status_url),
    )
    assert twilio.wait_idle(5)
    assert sink.bad_signatures == 0
    by_number = {n: [f for f in sink.forms if f["To"] == n] for n in outreach.numbers}
    assert [f["MessageStatus"] for f in by_number[in_order]] == ["sent", "delivered"]

    applied = {
        in_order: apply_callbacks(by_number[in_order]),
        reversed_: apply_callbacks(by_number[reversed_][::-1]),
        filtered: apply_callbacks(by_number[filtered]),
    }
    after = {m.to_e164: (m.status, m.provider_status, m.error_code) for m in messages_of(batch.id)}
    replayed = apply_callbacks(sink.forms)

    assert applied == {
        in_order: ["applied", "applied"],
        reversed_: ["applied", "stale"],  # delivered came first; sent is old news
        filtered: ["applied", "applied"],
    }
    assert set(replayed) == {"replay"}
    assert after == {
        in_order: ("delivered", "delivered", None),
        reversed_: ("delivered", "delivered", None),
        filtered: ("failed", "undelivered", 30007),
    }
    assert {
        m.to_e164: (m.status, m.provider_status, m.error_code) for m in messages_of(batch.id)
    } == after
    counted = batches.counters(db.session, db.session.get(Batch, batch.id))
    assert (counted["delivered"], counted["failed"]) == (2, 1)
    assert counted.failed_reasons == [("Filtered by the carrier as spam (30007)", 1)]
    assert delivery.filtering_rate(db.session, outreach.sender.id, clock() - timedelta(1)) == (1, 3)
    events = db.session.scalars(select(MessageEvent)).all()
    assert len(events) == len(sink.forms) == 6


def test_callback_before_the_sid_is_recorded_is_applied_when_it_is(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    early: list[str] = []

    def webhook_first(message, result) -> None:
        # Twilio's callbacks reach the webhook (its own session) before the SID is kept.
        with Session(db.engine) as webhook:
            for status in ("sent", "delivered"):
                form = {"MessageSid": result.sid, "MessageStatus": status, "To": message.to_e164}
                early.append(delivery.apply_callback(webhook, form))
                webhook.commit()

    dispatch.run(
        db.session, batch.id, options(twilio_transport(twilio), clock, after_call=webhook_first)
    )
    # The dispatcher does not look for them (a query a text); the ticker's next round does.
    assert delivery.adopt_orphans(db.session) == 2

    (message,) = messages_of(batch.id)
    assert early == ["unknown", "unknown"]
    assert (message.status, message.provider_status) == ("delivered", "delivered")
    assert message.delivered_at is not None
    events = db.session.scalars(select(MessageEvent)).all()
    assert {e.message_id for e in events} == {message.id}


# PostgreSQL only: SQLite lets one writer at a time, so the webhook would wait, not race.
@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=[pytest.mark.postgres])], indirect=True
)
def test_callback_racing_the_sid_record_is_not_lost(app, twilio, clock):
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, clock())
    webhook = Session(db.engine)

    def webhook_midway(message, result) -> None:
        # The webhook found no message with the SID and wrote its event, not yet committed.
        form = {"MessageSid": result.sid, "MessageStatus": "delivered", "To": message.to_e164}
        assert delivery.apply_callback(webhook, form) == "unknown"

    try:
        dispatch.run(
            db.session,
            batch.id,
            options(twilio_transport(twilio), clock, after_call=webhook_midway),
        )
        webhook.commit()  # ...and commits once the dispatcher has recorded the SID
    finally:
        webhook.close()
    # The ticker's next round adopts the callback stored without a message.
    delivery.adopt_orphans(db.session)

    (message,) = messages_of(batch.id)
    assert message.status == "delivered"


# -- what Twilio's errors do -------------------------------------------------------------


def test_opted_out_at_twilio_suppresses_the_number_and_stops_its_texts(app, twilio, clock):
    opted_out, fine = mobile("TX", 301), mobile("TX", 302)
    # Two leads (two businesses of one owner) share the number that opted out; the
    # second one's text waits in the next batch, still in review.
    outreach = make_outreach(["TX", "TX", "TX"], numbers=[opted_out, fine, opted_out], batch_size=2)
    twilio.create_errors[opted_out] = (400, 21610, "Attempt to send to unsubscribed recipient")
    batch = approved_batch(outreach, clock())
    waiting = batches.create_batch(db.session, outreach.campaign, outreach.crew.operator)
    db.session.commit()
    batches.generate(db.session, waiting.id, now=clock())

    report = dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))

    refused, sent = messages_of(batch.id)
    (unsent,) = messages_of(waiting.id)
    assert (refused.status, refused.error_code) == ("failed", 21610)
    assert refused.error_message == "The recipient opted out with Twilio (STOP) (21610)"
    assert sent.status == "sent"
    assert (unsent.to_e164, unsent.status) == (opted_out, "cancelled")
    assert created_to(twilio, opted_out) == []
    assert len(created_to(twilio, fine)) == 1
    assert (report.sent, report.failed) == (1, 1)
    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert (suppression.e164, suppression.reason, suppression.source) == (
        opted_out,
        "opt_out",
        "Twilio 21610",
    )
    (consent,) = db.session.scalars(select(ConsentEvent)).all()
    assert (consent.e164, consent.kind) == (opted_out, "opt_out")
    enrolled = {
        e.lead_id: e.status for e in db.session.scalars(select(Enrollment).order_by(Enrollment.id))
    }
    assert enrolled == {
        outreach.leads[0].id: "opted_out",
        outreach.leads[1].id: "finished",
        outreach.leads[2].id: "opted_out",
    }


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgres",
            marks=[pytest.mark.postgres],
        ),
    ],
    indirect=True,
)
def test_a_claim_takes_no_more_than_its_chunk(app, clock):
    outreach = make_outreach(["TX"] * 5)
    batch = approved_batch(outreach, clock())

    first = dispatch.claim(db.session, batch.id, clock(), limit=2)
    second = dispatch.claim(db.session, batch.id, clock(), limit=2)

    assert (len(first), len(second)) == (2, 2)
    assert not set(first) & set(second)
    assert statuses(batch.id) == {"sending": 4, "approved": 1}


def test_landline_at_twilio_marks_the_phone_and_stops_the_enrollment(app, twilio, clock):
    outreach = make_outreach(["TX"])
    number = outreach.numbers[0]
    twilio.create_errors[number] = (400, 21635, "The 'To' number cannot be reached via SMS")
    batch = approved_batch(outreach, clock())

    dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))

    (message,) = messages_of(batch.id)
    phone = db.session.scalars(select(Phone).where(Phone.e164 == number)).one()
    enrollment = db.session.scalars(select(Enrollment)).one()
    assert (message.status, message.error_code) == ("failed", 21635)
    assert (phone.line_type, phone.textable) == ("landline", False)
    assert enrollment.status == "stopped"
    gate = Gate(db.session, outreach.team.id, SendingSettings.of(outreach.team))
    decision = gate.decide(Recipient(number, "TX"), None, clock())
    assert decision.blocked and decision.reason.startswith("Landline")


def test_carrier_filtering_pauses_the_sender_and_nothing_more_goes_from_it(
    app, twilio, clock, sink
):
    outreach = make_outreach(
        ["TX"] * 8,
        batch_size=4,
        settings={"filtering_pause_rate": 0.25, "filtering_min_sample": 4},
    )
    twilio.callback_delay = 0.01
    for number in outreach.numbers[:2]:
        twilio.outcomes[number] = ("undelivered", 30007)
    first = approved_batch(outreach, clock())
    with_callbacks = options(twilio_transport(twilio), clock, status_callback=sink.status_url)
    assert dispatch.run(db.session, first.id, with_callbacks).sent == 4
    assert twilio.wait_idle(5)

    apply_callbacks(sink.forms)

    sender = db.session.get(Sender, outreach.sender.id)
    assert sender.paused
    assert "carriers filtered" in sender.paused_reason
    assert "30007" in sender.paused_reason and "25%" in sender.paused_reason
    second = approved_batch(outreach, clock.advance(minutes=5))
    assert dispatch.due_batches(db.session, clock()) == []
    report = dispatch.run(db.session, second.id, with_callbacks)
    assert report.sent == 0
    assert statuses(second.id) == {"approved": 4}
    assert len(twilio.created) == 4


# -- quiet hours ---------------------------------------------------------------------------


def test_batch_approved_before_hours_is_held_then_sent_when_each_window_opens(app, twilio, clock):
    # 7:00 am in Austin is 8:00 am in New York; the team sends 9 am-8 pm local.
    seven = clock.set(next_weekday(WED, 7, zone=CENTRAL))
    outreach = make_outreach(["TX", "NY", "TX"])
    texas, new_york, _ = outreach.numbers
    batch = approved_batch(outreach, seven)
    transport = twilio_transport(twilio)

    early = dispatch.run(db.session, batch.id, options(transport, clock))

    held = {m.to_e164: m for m in messages_of(batch.id)}
    assert early.held == 3
    assert statuses(batch.id) == {"approved": 3}
    assert held[texas].due_at == seven + timedelta(hours=2)  # 9 am in Austin
    assert held[new_york].due_at == seven + timedelta(hours=1)  # 9 am in New York
    assert held[texas].hold_reason.startswith("Quiet hours in TX: texts 9:00 am-9:00 pm")
    assert held[new_york].hold_reason.startswith("Outside the team's sending hours")
    assert twilio.requests == 0

    clock.set(seven + timedelta(hours=1))
    new_york_opens = dispatch.run(db.session, batch.id, options(transport, clock))
    clock.set(seven + timedelta(hours=2))
    texas_opens = dispatch.run(db.session, batch.id, options(transport, clock))

    assert (new_york_opens.sent, texas_opens.sent) == (1, 2)
    assert [c["to"] for c in twilio.created][0] == new_york
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": 3}
    assert all(m.hold_reason == "" for m in messages_of(batch.id))
    assert db.session.get(Batch, batch.id).status == "done"


def test_due_batches_wait_for_the_opening(app, clock):
    seven = clock.set(next_weekday(WED, 7, zone=EASTERN))
    outreach = make_outreach(["NY"])
    batch = approved_batch(outreach, seven)
    sandbox = sandbox_twilio.SandboxTransport(db.session, outreach.team.id, clock=clock)
    dispatch.run(db.session, batch.id, options(sandbox, clock))

    assert dispatch.due_batches(db.session, seven + timedelta(minutes=119)) == []
    assert dispatch.due_batches(db.session, seven + timedelta(hours=2)) == [batch.id]


def test_sandbox_open_hours_never_open_a_real_send(app, twilio, clock):
    # Stored true (say, before Twilio was configured): a real transport ignores it.
    two_am = clock.set(next_weekday(WED, 2, zone=CENTRAL))
    outreach = make_outreach(["TX"], settings={"sandbox_open_hours": True})
    batch = approved_batch(outreach, two_am)

    report = dispatch.run(db.session, batch.id, options(twilio_transport(twilio), clock))

    (held,) = messages_of(batch.id)
    assert (report.held, report.sent) == (1, 0)
    assert held.hold_reason.startswith("Quiet hours in TX")
    assert held.due_at == two_am + timedelta(hours=7)  # 9 am in Austin
    assert twilio.requests == 0


def test_sandbox_open_hours_let_the_sandbox_send_at_2_am_and_nothing_else(app, clock):
    two_am = clock.set(next_weekday(WED, 2, zone=CENTRAL))
    outreach = make_outreach(["TX", "TX"], settings={"sandbox_open_hours": True})
    batch = approved_batch(outreach, two_am)
    opted_out = outreach.numbers[1]  # a STOP after approval: the gate still refuses it
    db.session.add(Suppression(team_id=outreach.team.id, e164=opted_out, reason="opt_out"))
    db.session.commit()
    sandbox = sandbox_twilio.SandboxTransport(db.session, outreach.team.id, clock=clock)

    report = dispatch.run(db.session, batch.id, options(sandbox, clock))

    assert (report.sent, report.held) == (1, 0)
    assert statuses(batch.id) == {"sent": 1, "blocked": 1}


def test_sandbox_hours_stay_shut_unless_the_team_asks(app, clock):
    two_am = clock.set(next_weekday(WED, 2, zone=CENTRAL))
    outreach = make_outreach(["TX"])
    batch = approved_batch(outreach, two_am)
    sandbox = sandbox_twilio.SandboxTransport(db.session, outreach.team.id, clock=clock)

    assert dispatch.run(db.session, batch.id, options(sandbox, clock)).held == 1


# -- follow-up sequences ---------------------------------------------------------------------


def sent_first_touch(states: list[str], *, weeks: int = -2, **settings):
    """A campaign with one follow-up 3 days on, whose first touch went at noon on a
    Tuesday `weeks` from now (follow-ups come due against the real clock)."""
    clock = Clock(next_weekday(TUE, 12, zone=CENTRAL, weeks=weeks))
    outreach = make_outreach(states, touches=1, after_days=3, settings=settings or None)
    batch = approved_batch(outreach, clock())
    sandbox = sandbox_twilio.SandboxTransport(db.session, outreach.team.id, clock=clock)
    assert dispatch.run(db.session, batch.id, options(sandbox, clock)).sent == len(states)
    return outreach, clock


def follow_up_leads(batch_id: int) -> set[int]:
    return {m.lead_id for m in messages_of(batch_id)}


def test_follow_up_batch_is_drafted_for_review_once_the_wait_is_over(app):
    outreach, sent_at = sent_first_touch(["TX", "TX", "TX"])
    enrollment = db.session.scalars(select(Enrollment)).first()
    assert (enrollment.touches_sent, enrollment.next_due_at) == (1, sent_at() + timedelta(days=3))
    stopped = outreach.leads[2]
    sequences.stop_for_lead(db.session, outreach.team.id, stopped.id, "replied", "Replied")
    db.session.commit()

    made = start_follow_ups(db.session)
    again = start_follow_ups(db.session)

    (batch_id,) = made
    batch = db.session.get(Batch, batch_id)
    assert again == []  # the drafts already wait in review
    assert (batch.touch, batch.status) == (1, "in_review")
    assert follow_up_leads(batch_id) == {outreach.leads[0].id, outreach.leads[1].id}
    assert {m.template_id for m in messages_of(batch_id)} == {outreach.follow_up.id}
    assert statuses(batch_id) == {"draft": 2}


def test_no_follow_up_before_the_wait_is_over(app):
    sent_first_touch(["TX"], weeks=0)

    assert start_follow_ups(db.session) == []


def test_lead_marked_replied_gets_no_follow_up(app):
    outreach, _ = sent_first_touch(["TX", "TX"])
    replied = outreach.leads[1]
    replied.status = "replied"
    db.session.commit()

    made = start_follow_ups(db.session)

    assert [follow_up_leads(b) for b in made] == [{outreach.leads[0].id}]


def test_auto_approved_follow_up_is_sent_and_ends_the_sequence(app):
    outreach, _ = sent_first_touch(["TX", "TX"], auto_approve_followups=True)

    (batch_id,) = start_follow_ups(db.session)

    batch = db.session.get(Batch, batch_id)
    assert batch.status == "approved"
    assert statuses(batch_id) == {"approved": 2}
    assert batch.history[-1]["action"] == "approved (auto)"
    clock = Clock(next_weekday(WED, 12, zone=CENTRAL))
    sandbox = sandbox_twilio.SandboxTransport(db.session, outreach.team.id, clock=clock)
    assert dispatch.run(db.session, batch_id, options(sandbox, clock)).sent == 2
    enrollments = db.session.scalars(select(Enrollment)).all()
    assert {(e.status, e.touches_sent, e.next_due_at) for e in enrollments} == {
        ("finished", 2, None)
    }
    assert start_follow_ups(db.session) == []


# -- a sender's rate across workers -----------------------------------------------------------


def two_workers_send(app, twilio, clock, conn_for) -> list[float]:
    """Two threads dispatch two batches from one 5-per-second sender; Twilio's arrival
    times of the texts."""
    outreach = make_outreach(["TX"] * 10, batch_size=5, mps=5.0)
    ids = [approved_batch(outreach, clock()).id for _ in range(2)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(batch_id: int) -> None:
        with app.app_context():
            try:
                transport = twilio_transport(twilio)
                start.wait(5)
                dispatch.run(
                    db.session,
                    batch_id,
                    options(transport, clock, limiter_for=limiters(conn_for())),
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert all(statuses(i) == {"sent": 5} for i in ids)
    assert one_each(twilio, outreach.numbers)
    return sorted(c["at"] for c in twilio.created)


def assert_rate_near(stamps: list[float], rate: float) -> None:
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert abs(achieved - rate) <= 0.15 * rate, f"{achieved:.2f} texts a second"
    busiest = max(sum(1 for s in stamps if t <= s < t + 1.0) for t in stamps)
    assert busiest <= rate + 1


def test_two_workers_keep_one_senders_rate(app, twilio, clock):
    shared = fakeredis.FakeServer()

    stamps = two_workers_send(app, twilio, clock, lambda: fakeredis.FakeStrictRedis(server=shared))

    assert len(stamps) == 10
    assert_rate_near(stamps, 5.0)


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_two_workers_keep_one_senders_rate_on_real_redis(app, twilio, clock, redis_url):
    stamps = two_workers_send(app, twilio, clock, lambda: redis.Redis.from_url(redis_url))

    assert_rate_near(stamps, 5.0)
