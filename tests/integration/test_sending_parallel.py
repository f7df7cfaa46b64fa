# ruff: noqa: F811 - the fixtures are test_sending's, imported by name
"""Texts in flight side by side: a dispatcher keeps several calls to Twilio open at
once and still sends each text exactly once, through errors, crashes and 429s, on
SQLite and PostgreSQL against the local Twilio through the official SDK."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest

from console.extensions import db
from console.models import Batch, Suppression
from console.models.base import utcnow
from console.services.sending import dispatch, pace
from console.services.sending.ratelimit import sender_limiter
from jobs import queue as job_queue
from jobs import sending as sending_jobs
from tests.conftest import login
from tests.integration.test_sending import (  # noqa: F401
    ROOT,
    app,
    backend,
    clock,
    one_each,
    twilio,
)
from tests.sending_helpers import (
    WorkerDied,
    approved_batch,
    created_to,
    frozen_dispatcher,
    limiters,
    make_outreach,
    messages_of,
    options,
    statuses,
    twilio_transport,
)

TEXTS = 24


class Probe:
    """A transport that counts the calls open at once (and the most seen)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.open = 0
        self.most = 0
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    @property
    def parallel(self) -> bool:
        return self.inner.parallel

    def send(self, **kwargs):
        with self.lock:
            self.open += 1
            self.most = max(self.most, self.open)
            self.threads.add(threading.current_thread().name)
        try:
            return self.inner.send(**kwargs)
        finally:
            with self.lock:
                self.open -= 1

    def find(self, **kwargs):
        return self.inner.find(**kwargs)


def test_texts_go_side_by_side_and_each_once(app, twilio, clock):
    outreach = make_outreach(["TX"] * TEXTS)
    batch = approved_batch(outreach, clock())
    twilio.latency = 0.2
    probe = Probe(twilio_transport(twilio, parallel=True))

    started = time.monotonic()
    report = dispatch.run(db.session, batch.id, options(probe, clock, concurrency=8))
    took = time.monotonic() - started

    assert report.sent == TEXTS
    assert probe.most == 8
    assert took < TEXTS * 0.2 / 2  # one at a time would take 4.8 s
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": TEXTS}
    recorded = {m.provider_sid for m in messages_of(batch.id)}
    assert recorded == {c["sid"] for c in twilio.created}
    assert db.session.get(Batch, batch.id).status == "done"


def test_a_transport_without_threads_is_called_from_the_dispatcher_alone(app, twilio, clock):
    outreach = make_outreach(["TX"] * 6)
    batch = approved_batch(outreach, clock())
    probe = Probe(twilio_transport(twilio))  # one shared SDK client: not `parallel`

    report = dispatch.run(db.session, batch.id, options(probe, clock, concurrency=8))

    assert report.sent == 6
    assert probe.most == 1
    assert probe.threads == {threading.current_thread().name}


def test_errors_in_flight_are_retried_and_every_text_goes_once(app, twilio, clock):
    outreach = make_outreach(["TX"] * TEXTS)
    batch = approved_batch(outreach, clock())
    twilio.latency = 0.05
    twilio.fail_next(3, http_status=500, code=20500)
    twilio.fail_next(3, http_status=429, code=20429)
    twilio.drop_after_create(2)
    transport = twilio_transport(twilio, timeout=2, parallel=True)

    first = dispatch.run(db.session, batch.id, options(transport, clock, concurrency=6))
    clock.advance(seconds=dispatch.RETRY_SECONDS[0] + 1)
    second = dispatch.run(db.session, batch.id, options(transport, clock, concurrency=6))

    assert (first.retried, first.reconciled) == (6, 2)
    assert first.sent + first.reconciled + second.sent == TEXTS
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": TEXTS}


def test_prompt_retry_waits_seconds_not_minutes_and_is_spread(app, twilio, clock):
    outreach = make_outreach(["TX"] * 4)
    batch = approved_batch(outreach, clock())
    twilio.fail_next(4, http_status=500, code=20500)
    spread = iter([0.0, 0.25, 0.75, 1.0])

    report = dispatch.run(
        db.session,
        batch.id,
        options(twilio_transport(twilio), clock, jitter=lambda: next(spread)),
    )

    waits = sorted((m.due_at - clock()).total_seconds() for m in messages_of(batch.id))
    assert report.retried == 4
    assert waits == [0.25, 0.375, 0.625, 0.75]


def settled_count(twilio, quiet: float = 0.3, most: float = 5.0) -> int:
    """The texts Twilio has once the dead dispatcher's calls still in the air have landed
    (the count unchanged for `quiet` seconds): on a busy machine one can land after the
    crash is raised, and would be counted as reconciled but not as sent."""
    deadline = time.monotonic() + most
    seen = len(twilio.created)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = len(twilio.created)
        if now == seen:
            return now
        seen = now
    return seen


def test_a_crash_with_texts_in_flight_loses_none_and_doubles_none(app, twilio, clock):
    outreach = make_outreach(["TX"] * TEXTS)
    batch = approved_batch(outreach, clock())
    twilio.latency = 0.05
    transport = twilio_transport(twilio, parallel=True)
    answers = []

    def dies_at_the_fifth_answer(message, result) -> None:
        answers.append(message.id)
        if len(answers) == 5:
            raise WorkerDied("killed with texts in flight")

    with pytest.raises(WorkerDied):
        dispatch.run(
            db.session,
            batch.id,
            options(transport, clock, concurrency=8, after_call=dies_at_the_fifth_answer),
        )
    db.session.rollback()
    went = settled_count(twilio)
    assert 5 <= went < TEXTS  # the texts in flight when it died reached Twilio
    # Those whose answer was recorded before it died (up to 4; fewer when the machine is
    # busy and a recording thread had not committed yet); the others were in flight.
    recorded = sum(1 for m in messages_of(batch.id) if m.provider_sid)
    assert recorded <= 4

    clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
    report = dispatch.run(db.session, batch.id, options(transport, clock, concurrency=8))

    assert report.reconciled == went - recorded  # found at Twilio, not sent again
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": TEXTS}
    sids = [m.provider_sid for m in messages_of(batch.id)]
    assert sorted(sids) == sorted(c["sid"] for c in twilio.created)


def test_a_number_is_never_in_flight_twice(app, twilio, clock):
    outreach = make_outreach(["TX"] * 3)
    batch = approved_batch(outreach, clock())
    # A second campaign text to the first number, in the same batch.
    twin = messages_of(batch.id)[0]
    messages = messages_of(batch.id)
    for message in messages[1:]:
        message.to_e164 = twin.to_e164
    db.session.commit()
    twilio.latency = 0.1
    probe = Probe(twilio_transport(twilio, parallel=True))

    dispatch.run(db.session, batch.id, options(probe, clock, concurrency=4))

    assert probe.most == 1
    assert len(created_to(twilio, twin.to_e164)) >= 1


def test_a_run_of_429s_slows_the_sender_for_every_worker(app, twilio, clock):
    outreach = make_outreach(["TX"] * 30, mps=40.0)
    batch = approved_batch(outreach, clock())
    twilio.fail_next(12, http_status=429, code=20429)
    conn_limits = limiters()
    transport = twilio_transport(twilio, parallel=True)

    report = dispatch.run(
        db.session, batch.id, options(transport, clock, concurrency=4, limiter_for=conn_limits)
    )

    sender = outreach.campaign.sender
    pace = conn_limits(sender).pace()
    assert report.retried == 12
    assert pace.slowed
    assert pace.current == pytest.approx(20.0, rel=0.1)
    assert 0 < pace.full_in <= 30
    assert report.sent == 30 - 12


def test_the_batch_page_shows_the_rate_and_why_it_is_lower(app, clock):
    outreach = make_outreach(["TX"] * 12, mps=50.0)
    batch = approved_batch(outreach, clock())
    now = utcnow()
    messages = messages_of(batch.id)
    for message in messages[:10]:
        message.status, message.sent_at = "sent", now - timedelta(seconds=10)
    waiting = messages[10]
    waiting.due_at = now + timedelta(seconds=2)
    waiting.hold_reason = "Retrying in 2 s: Twilio did not take it (Error)."
    db.session.get(Batch, batch.id).status = "sending"
    db.session.commit()
    conn = job_queue.connection(app)
    pace.publish(conn, batch.id, 0, {"concurrency": 2, "latency": 0.4, "in_flight": 2})
    sender_limiter(conn, outreach.sender.id, outreach.sender.mps).slow_down()
    client = app.test_client()
    login(client, outreach.crew.operator)

    page = client.get(f"/campaigns/batches/{batch.id}/counters")

    text = " ".join(page.text.split())
    assert page.status_code == 200
    assert "Sending <strong>1.0</strong> texts a second" in text  # 10 in 10 s
    assert "Austin line allows 50, slowed to 2" in text
    assert re.search(r"slowed to 2[56]\.\d now", text)  # half, climbing back
    assert "1 dispatcher at work" in text
    assert "Twilio refused many recent tries with 429" in text
    assert "1 text waits a few seconds to be tried again" in text
    assert "send at most 5 texts a second" in text


def test_a_batch_at_its_senders_rate_gives_no_reasons(app, clock):
    outreach = make_outreach(["TX"] * 4, mps=1.0)
    batch = approved_batch(outreach, clock())
    now = utcnow()
    messages = messages_of(batch.id)
    for n, message in enumerate(messages[:3]):
        message.status, message.sent_at = "sent", now - timedelta(seconds=3 - n)
    db.session.get(Batch, batch.id).status = "sending"
    db.session.commit()

    found = pace.batch_pace(db.session, None, db.session.get(Batch, batch.id), {"approved": 1}, now)

    assert found.rate == pytest.approx(1.0)
    assert not found.slower and found.reasons == []


def test_before_the_first_text_goes_the_page_says_so_not_a_rate_of_nothing(app, clock, monkeypatch):
    outreach = make_outreach(["TX"] * 2, mps=50.0)
    batch = approved_batch(outreach, clock())
    db.session.get(Batch, batch.id).status = "sending"
    db.session.commit()
    monkeypatch.setattr(pace, "utcnow", clock)  # inside Texas's hours, whatever the hour
    client = app.test_client()
    login(client, outreach.crew.operator)

    page = client.get(f"/campaigns/batches/{batch.id}/counters")

    text = " ".join(page.text.split())
    assert "The first texts are on their way to Twilio" in text
    assert "texts a second (the last half minute)" not in text
    assert "pace-reasons" not in text


# A parallel dispatcher in a process of its own, at the test's clock: two texts go out,
# then it reports the third text's wait for its rate slot (the moment the test freezes
# it) and sleeps; the rest of its chunk is claimed and waiting behind it.
FROZEN_PARALLEL = """
import json, sys, time
from datetime import datetime
from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.services.sending import dispatch
from tests.sending_helpers import options, twilio_transport

url, twilio_url, batch_id, now = sys.argv[1:5]

class Announced:
    calls = 0
    def acquire(self, max_wait=None):
        Announced.calls += 1
        if Announced.calls == 3:
            time.sleep(0.3)  # the first two answers land
            print("waiting for a slot", flush=True)
            time.sleep(1.0)
        return 0.0

app = create_app(TestConfig(SQLALCHEMY_DATABASE_URI=url))
with app.app_context():
    clock = lambda: datetime.fromisoformat(now)
    limiter = Announced()
    report = dispatch.run(
        db.session,
        int(batch_id),
        options(
            twilio_transport(twilio_url, parallel=True),
            clock,
            concurrency=4,
            limiter_for=lambda sender: limiter,
        ),
    )
    print(json.dumps({"sent": report.sent, "lost": report.lost}), flush=True)
"""


def test_a_parallel_worker_frozen_past_its_lease_sends_nothing_more_when_it_wakes(
    app, twilio, clock
):
    outreach = make_outreach(["TX"] * 8)
    batch = approved_batch(outreach, clock())
    transport = twilio_transport(twilio, parallel=True)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with frozen_dispatcher(FROZEN_PARALLEL, url, twilio.url, str(batch.id), str(clock())) as frozen:
        assert len(twilio.created) == 2
        clock.advance(seconds=dispatch.LEASE_SECONDS + 1)
        report = dispatch.run(db.session, batch.id, options(transport, clock, concurrency=4))
        assert report.sent == 6  # the two that went are found or were recorded, not resent
        woke, err = frozen.wake()

    assert len(twilio.created) == 8, "sent twice"
    assert one_each(twilio, outreach.numbers)
    # Awake, it finds every claim taken over: it records and sends nothing more.
    assert woke["sent"] == 0 and woke["lost"] >= 1, (woke, err)
    assert statuses(batch.id) == {"sent": 8}
    sids = sorted(m.provider_sid for m in messages_of(batch.id))
    assert sids == sorted(c["sid"] for c in twilio.created)


def test_two_dispatchers_share_one_batch_and_send_each_text_once(app, twilio, clock):
    outreach = make_outreach(["TX"] * TEXTS)
    batch = approved_batch(outreach, clock())
    twilio.latency = 0.2  # a chunk takes the first long enough for the second to claim
    transport = twilio_transport(twilio, parallel=True)
    reports, failures = [], []
    together = threading.Barrier(2)

    def dispatcher() -> None:
        with app.app_context():
            try:
                together.wait(timeout=10)
                reports.append(
                    dispatch.run(
                        db.session, batch.id, options(transport, clock, concurrency=4, chunk=4)
                    )
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert sum(r.sent for r in reports) == TEXTS
    assert all(r.sent for r in reports)  # both took a share
    assert one_each(twilio, outreach.numbers)
    assert statuses(batch.id) == {"sent": TEXTS}


def test_a_dispatcher_out_of_time_queues_its_batch_again_at_once(app, clock):
    outreach = make_outreach(["TX"] * 3)
    batch = approved_batch(outreach, clock())
    jobs = job_queue.queue(app=app)
    before = len(jobs.jobs)
    app.config["DISPATCH_TIME_SLICE"] = 0.0
    try:
        said = sending_jobs.send_batch(batch.id)
    finally:
        app.config["DISPATCH_TIME_SLICE"] = 30.0
    queued = jobs.jobs[before:]
    for job in queued:
        job.delete()

    assert "time slice used" in said
    assert [job.args[0] for job in queued] == [batch.id]


def test_dispatchers_per_batch_fill_every_free_slot_once(app):
    app.config["DISPATCH_JOBS_PER_BATCH"] = 3
    jobs = job_queue.queue(app=app)
    before = len(jobs.jobs)
    try:
        first = sending_jobs.enqueue_dispatch(app, 998)
        again = sending_jobs.enqueue_dispatch(app, 998)
    finally:
        app.config["DISPATCH_JOBS_PER_BATCH"] = 0
    queued = jobs.jobs[before:]
    for job in queued:
        job.delete()

    assert (first, again) == (3, 0)
    assert sorted(job.args[2] for job in queued) == [0, 1, 2]
    conn = job_queue.connection(app)
    assert all(conn.exists(sending_jobs._lock_key(998, slot)) for slot in range(3))


class StopsOnTheWay:
    """A rate limit that, while the second text waits for its slot, lets the owner of
    `number` text STOP (committed by the webhook's own connection)."""

    def __init__(self, team_id: int, number: str) -> None:
        self.team_id, self.number, self.calls = team_id, number, 0

    def acquire(self, max_wait=None) -> float:
        self.calls += 1
        if self.calls == 2:
            with db.engine.begin() as conn:
                conn.execute(
                    Suppression.__table__.insert().values(
                        team_id=self.team_id, e164=self.number, reason="opt_out", source="STOP"
                    )
                )
        return 0.0


def test_a_stop_that_lands_while_its_chunk_sends_is_honoured_at_the_fence(app, twilio, clock):
    outreach = make_outreach(["TX"] * 3)
    batch = approved_batch(outreach, clock())
    second = outreach.numbers[1]
    stops = StopsOnTheWay(outreach.crew.team.id, second)

    report = dispatch.run(
        db.session,
        batch.id,
        options(twilio_transport(twilio), clock, limiter_for=lambda sender: stops),
    )

    assert (report.sent, report.blocked) == (2, 1)
    assert created_to(twilio, second) == []
    blocked = [m for m in messages_of(batch.id) if m.to_e164 == second]
    assert blocked[0].status == "blocked" and "opted out" in blocked[0].blocked_reason.lower()


class Counting:
    """A rate limit that counts the slots given back."""

    def __init__(self) -> None:
        self.refunds = 0

    def acquire(self, max_wait=None) -> float:
        return 0.0

    def refund(self) -> None:
        self.refunds += 1


def test_only_tries_twilio_sent_nothing_for_give_their_slot_back(app, twilio, clock):
    outreach = make_outreach(["TX"] * 8)
    batch = approved_batch(outreach, clock())
    twilio.fail_next(2, http_status=500, code=20500)
    twilio.fail_next(2, http_status=429, code=20429)
    twilio.drop_after_create(1)  # it went: found in Twilio's list, not given back
    counting = Counting()

    report = dispatch.run(
        db.session,
        batch.id,
        options(twilio_transport(twilio, timeout=2), clock, limiter_for=lambda s: counting),
    )

    assert (report.retried, report.reconciled) == (4, 1)
    assert counting.refunds == 4
