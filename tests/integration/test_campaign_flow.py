"""From campaign to delivered, for real: PostgreSQL, Redis, a `flask --app app worker
--with-scheduler` process, the console served on a loopback port, and a local Twilio
Messages API (`tests.fakeservers.TwilioServer`) that posts signed status callbacks to it.

An operator drafts a batch (a job the worker runs) and approves it in the web app; the
worker's dispatcher sends through the official SDK, and Twilio's callbacks reach
`/webhooks/twilio/status`. A second test kills the worker (and its work horse) in the
middle of a send, restarts it, and checks that every text went to Twilio exactly once:
the one Twilio took while the worker died is found by the lease reconciler, not resent.
A third replays, deterministically, a race between a callback and the SID's record.

Every process (this one, the served console, the workers and the Twilio fake) runs on
the test clock (`tests.clock`), a weekday afternoon in Illinois where the leads live:
quiet hours never hold their texts, whatever the hour the tests run at.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from console import create_app
from console.config import Config
from console.extensions import db
from console.models import (
    Batch,
    Campaign,
    Enrollment,
    JobRun,
    Lead,
    Message,
    MessageEvent,
    MessageTemplate,
    Sender,
)
from console.models.base import set_clock_offset, utcnow
from console.services.campaigns import batches
from console.services.sending import delivery, dispatch
from console.services.sending.policy import SendingSettings
from jobs import queue as job_queue
from jobs import sending
from tests import clock
from tests.conftest import PASSWORD, TeamUsers, make_lead, make_team
from tests.fakeservers import TwilioServer
from tests.servers import create_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "campaign-flow-token"
# The environment's number (the first team's); each test's team texts from its own.
FROM_NUMBER = "+15125550142"
# A Redis database of this module's own: it is flushed before the tests start.
REDIS_DB = 11
# Stands in for the 120 s default so that texts a killed worker left in `sending` are
# looked up at Twilio within the test's time; every send here is well inside it, and the
# slice and Twilio timeout are short enough for the console to accept it.
LEASE_SECONDS = 6
TIME_SLICE = 2
TWILIO_TIMEOUT = 3

OPENER = (
    "Hi {firstName|there}, {senderName} here. Thinking of selling {companyName}? "
    "Reply STOP to opt out"
)
NUDGE = "{firstName|Hi}, just checking back about {companyName}. Reply STOP to opt out"
FOLLOW_UP_DAYS = 3
# Every day, all day: only the law's hours (federal, or the state's) can hold a text.
ALL_DAY = {
    "window_start": "00:00",
    "window_end": "23:59",
    "window_days": list(range(7)),
    "opt_out_wording": "Reply STOP to opt out",
}
UNSETTLED = ("draft", "approved", "sending")


# -- the stack: database, Redis, Twilio, the console on a port ---------------------------


@dataclass
class Stack:
    """Everything a worker process and the tests share."""

    app: Flask
    env: dict[str, str]
    base_url: str
    twilio: TwilioServer
    logs: Path


def _own_redis_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


@pytest.fixture(scope="module")
def stack(postgres_admin_url, redis_url, tmp_path_factory) -> Iterator[Stack]:
    """A migrated database, a clean Redis database, a Twilio fake and the console served
    on a loopback port (so Twilio's signed callbacks reach it), configured as in
    production."""
    database_url = create_database(postgres_admin_url, "console_campaign_flow")
    folder = tmp_path_factory.mktemp("campaign-flow")
    app_box: dict[str, Flask] = {}
    web = make_server(
        "127.0.0.1", 0, lambda environ, reply: app_box["app"](environ, reply), threaded=True
    )
    base_url = f"http://127.0.0.1:{web.server_port}"
    twilio = TwilioServer(ACCOUNT_SID, AUTH_TOKEN)
    # The reconciler compares Twilio's DateCreated with its claims: one clock for both.
    twilio.clock = clock.now
    twilio.start()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": _own_redis_db(redis_url),
        "SECRET_KEY": "campaign-flow-secret",
        "PUBLIC_BASE_URL": base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "DISPATCH_TIME_SLICE": str(TIME_SLICE),
        "TWILIO_TIMEOUT": str(TWILIO_TIMEOUT),
        "CONSOLE_INSTANCE_PATH": str(folder / "instance"),
        "CONSOLE_UPLOAD_DIR": str(folder / "uploads"),
        **clock.environment(),
    }
    app = create_app(Config(env))
    assert not app.config["TWILIO_SANDBOX"]
    app_box["app"] = app
    thread = threading.Thread(target=web.serve_forever, name="console-web", daemon=True)
    thread.start()
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            job_queue.connection(app).flushdb()
            yield Stack(app, {**os.environ, **env}, base_url, twilio, folder)
            db.session.remove()
            db.engine.dispose()
    finally:
        web.shutdown()
        thread.join(timeout=5)
        twilio.stop()
        set_clock_offset(0)  # the app put this process on the test clock


@pytest.fixture
def twilio(stack) -> Iterator[TwilioServer]:
    """The module's Twilio fake, forgetting earlier tests' messages and behaviours."""
    server = stack.twilio
    server.reset()
    server.outcomes.clear()
    server.latency = 0.0
    yield server
    server.outcomes.clear()
    server.latency = 0.0


# -- worker processes -------------------------------------------------------------------


@contextlib.contextmanager
def worker_process(stack: Stack, name: str) -> Iterator[subprocess.Popen]:
    """A `flask --app app worker --with-scheduler` process for the `with` block."""
    log = (stack.logs / f"{name}.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--with-scheduler"],
        cwd=ROOT,
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                kill_hard(worker)
        log.close()


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (RQ's work horses put themselves in their own
    process group, so killing the worker's group would miss them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def kill_hard(worker: subprocess.Popen, pids: list[int] | None = None) -> None:
    """SIGKILL a worker and its children (work horse, scheduler) at once, as a machine
    that dies would; `pids` when they were looked up beforehand."""
    for pid in pids or [*_children(worker.pid), worker.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(10)


def kill_during_a_send(
    stack: Stack, worker: subprocess.Popen, twilio: TwilioServer, after: int
) -> None:
    """Kill the worker just as its dispatcher's next create reaches Twilio, once Twilio
    took `after` texts (the fake counts a request, waits its `latency`, then stores)."""
    deadline = time.monotonic() + 60
    pids: list[int] = []
    seen = 0
    while time.monotonic() < deadline:
        with twilio.lock:
            started, taken = twilio.requests, len(twilio.created)
        if pids and started > seen and started > taken:
            kill_hard(worker, pids)
            return
        if not pids and taken >= after:
            # The work horse is sending by now: find it ahead of the moment to kill.
            pids = [*_children(worker.pid), worker.pid]
        seen = started
        time.sleep(0.005)
    pytest.fail(f"the worker did not send {after} texts in 60 s\n{worker_logs(stack)}")


def worker_logs(stack: Stack) -> str:
    """The end of every worker log, for failure messages."""
    tails = []
    for path in sorted(stack.logs.glob("*.log")):
        tails.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-25:]))
    return "\n".join(tails)


def wait_for(stack: Stack, what: str, check: Callable[[], object], timeout: float = 60.0):
    """Poll `check` (with fresh rows) until it is truthy; fail with the workers' logs."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        db.session.expire_all()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {timeout:.0f} s\n{worker_logs(stack)}")
        time.sleep(0.1)


# -- a team ready to text -----------------------------------------------------------------


@dataclass
class Outreach:
    """A team with leads, an opener and a follow-up, a sender and a campaign."""

    crew: TeamUsers
    campaign: Campaign
    sender: Sender
    numbers: list[str]
    state: str


def make_outreach(team_name: str, first_line: int, count: int = 20) -> Outreach:
    """A committed team with `count` leads whose mobiles are legal to text right now."""
    state, area_code = clock.LEGAL_STATE, clock.LEGAL_AREA_CODE
    crew = make_team(team_name)
    team = crew.team
    settings = SendingSettings.of(team)
    for name, value in ALL_DAY.items():
        setattr(settings, name, value)
    settings.save(team)
    numbers = [f"+1{area_code}555{first_line + i:04d}" for i in range(count)]
    for i, number in enumerate(numbers):
        make_lead(team, f"Lake {i} Plumbing LLC", f"Dana Owner{i}", mobile=number, state=state)
    opener = MessageTemplate(team_id=team.id, name="Opener", body=OPENER, touch="first")
    nudge = MessageTemplate(
        team_id=team.id, name="Nudge", body=NUDGE, touch="follow_up", category="follow_up"
    )
    # A number belongs to one team: each test's team has its own (in area 512, not 312).
    sender = Sender(
        team_id=team.id, label="Austin line", kind="number", address=f"+1512555{first_line:04d}"
    )
    sender.mps = 20
    db.session.add_all([opener, nudge, sender])
    db.session.flush()
    campaign = Campaign(
        team_id=team.id,
        name="Owners who may sell",
        template_id=opener.id,
        sender_id=sender.id,
        batch_size=count,
        touches=[{"after_days": FOLLOW_UP_DAYS, "template_id": nudge.id}],
    )
    db.session.add(campaign)
    db.session.commit()
    return Outreach(crew, campaign, sender, numbers, state)


def messages_of(batch_id: int) -> list[Message]:
    """A batch's messages in id order."""
    return list(
        db.session.scalars(select(Message).where(Message.batch_id == batch_id).order_by(Message.id))
    )


def count_by_status(batch_id: int) -> dict[str, int]:
    """A batch's messages counted by status."""
    return dict(
        db.session.execute(
            select(Message.status, func.count(Message.id))
            .where(Message.batch_id == batch_id)
            .group_by(Message.status)
        ).all()
    )


def wait_until_settled(stack: Stack, twilio: TwilioServer, batch_id: int, what: str) -> None:
    """Wait until every text of the batch went to Twilio with its SID recorded, Twilio
    posted (and the console answered) every callback, and each callback is on its text
    (one that raced the SID's record is put there by the next ticker round)."""

    def sent() -> bool:
        return all(m.status not in UNSETTLED and m.provider_sid for m in messages_of(batch_id))

    def attached() -> bool:
        sids = select(Message.provider_sid).where(Message.batch_id == batch_id)
        return not db.session.scalar(
            select(func.count(MessageEvent.id)).where(
                MessageEvent.provider_sid.in_(sids), MessageEvent.message_id.is_(None)
            )
        )

    wait_for(stack, what, sent)
    assert twilio.wait_idle(timeout=15), "Twilio still has callbacks to post"
    wait_for(stack, "every callback on its text", attached, timeout=10)


def creates_to(twilio: TwilioServer, numbers: list[str]) -> Counter:
    """How many messages Twilio created to each of `numbers`."""
    with twilio.lock:
        return Counter(c["to"] for c in twilio.created if c["to"] in numbers)


def sids_by_number(twilio: TwilioServer) -> dict[str, str]:
    """The SID Twilio gave the (one) message to each number."""
    with twilio.lock:
        return {c["to"]: c["sid"] for c in twilio.created}


# -- the operator, in a browser ----------------------------------------------------------


def csrf_token(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """A signed-in user of the console served on the loopback port."""

    def __init__(self, base_url: str, email: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        page = self.http.get(f"{base_url}/login", timeout=10)
        signed_in = self.http.post(
            f"{base_url}/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert signed_in.status_code == 302, signed_in.text

    def post(self, path: str, page: str, **data) -> requests.Response:
        """Submit a form of `page` (for its CSRF token) to `path`, as a browser would."""
        token = csrf_token(self.get(page).text)
        return self.http.post(
            self.base_url + path,
            data={"csrf_token": token, **data},
            allow_redirects=False,
            timeout=10,
        )

    def get(self, path: str) -> requests.Response:
        """A page of the console."""
        response = self.http.get(self.base_url + path, timeout=10)
        assert response.status_code == 200, response.text
        return response


# -- the tests ---------------------------------------------------------------------------


def test_approved_campaign_batch_goes_out_once_and_comes_back_delivered(stack, twilio):
    outreach = make_outreach("Harbor Flow Partners", first_line=110)
    numbers = outreach.numbers
    filtered, unreachable = numbers[3], numbers[7]
    twilio.outcomes[filtered] = ("failed", 30007)
    twilio.outcomes[unreachable] = ("undelivered", 30003)

    with worker_process(stack, "flow-worker"):
        operator = Browser(stack.base_url, outreach.crew.operator.email)
        campaign_page = f"/campaigns/{outreach.campaign.id}"
        drafted = operator.post(f"{campaign_page}/batches", campaign_page)
        assert drafted.status_code == 302, drafted.text
        batch_id = int(re.search(r"/campaigns/batches/(\d+)", drafted.headers["Location"])[1])

        run_id = db.session.get(Batch, batch_id).job_run_id
        run = wait_for(
            stack,
            "the worker drafts the batch",
            lambda: (r := db.session.get(JobRun, run_id)).finished and r,
            timeout=30,
        )
        assert (run.kind, run.status) == ("generate_batch", "done"), run.error
        assert db.session.get(Batch, batch_id).status == "in_review"
        assert "20 texts drafted for review" in run.message
        drafts = messages_of(batch_id)
        assert sorted(m.to_e164 for m in drafts) == numbers
        assert all(m.status == "draft" and m.to_state == outreach.state for m in drafts)
        assert all(m.body.endswith("Reply STOP to opt out") for m in drafts)
        # Nothing the gate would hold or block: only notes (the line type is unchecked).
        assert {level for m in drafts for _code, _text, level in m.flags} <= {"note"}

        batch_page = f"/campaigns/batches/{batch_id}"
        approved = operator.post(
            f"{batch_page}/approve", batch_page, scope="all", confirm=len(drafts)
        )
        assert approved.status_code == 302, approved.text

        wait_until_settled(stack, twilio, batch_id, "every text sent, every callback posted")
        counters = operator.get(f"{batch_page}/counters").text

    assert count_by_status(batch_id) == {"delivered": 18, "failed": 2}

    # Twilio took exactly one message per text, from our number, with our callback URL.
    assert creates_to(twilio, numbers) == Counter(dict.fromkeys(numbers, 1))
    with twilio.lock:
        created = list(twilio.created)
    assert {c["from"] for c in created} == {outreach.sender.address}
    assert {c["status_callback"] for c in created} == {f"{stack.base_url}/webhooks/twilio/status"}
    assert twilio.callback_failures == []  # every signed callback was accepted

    db.session.expire_all()
    sids = sids_by_number(twilio)
    messages = {m.to_e164: m for m in messages_of(batch_id)}
    for number, message in messages.items():
        assert message.provider_sid == sids[number]
        assert message.from_address == outreach.sender.address
        assert message.sent_at is not None and message.approved_by_id == outreach.crew.operator.id
    for number in set(numbers) - {filtered, unreachable}:
        assert messages[number].status == "delivered"
        assert messages[number].provider_status == "delivered"
        assert messages[number].delivered_at is not None
    for number, code in ((filtered, 30007), (unreachable, 30003)):
        message = messages[number]
        assert (message.status, message.error_code) == ("failed", code)
        assert message.error_message == delivery.error_text(code)
        assert message.error_message in counters  # the operator reads the reason
    assert "spam" in messages[filtered].error_message
    assert "Unreachable" in messages[unreachable].error_message

    # Each callback is one event, on its message: sent then delivered (or the failure).
    events: dict[int | None, list[str]] = defaultdict(list)
    for message_id, status in db.session.execute(
        select(MessageEvent.message_id, MessageEvent.status).where(
            MessageEvent.provider_sid.in_(sids.values())
        )
    ):
        events[message_id].append(status)
    assert None not in events, "callbacks left unattached to their message"
    for number, message in messages.items():
        expected = ["delivered", "sent"]
        if number == filtered:
            expected = ["failed"]
        elif number == unreachable:
            expected = ["sent", "undelivered"]
        assert sorted(events[message.id]) == expected

    # The sequence moved on and the leads show their contact.
    batch = db.session.get(Batch, batch_id)
    assert batch.status == "done" and batch.finished_at is not None
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.campaign_id == outreach.campaign.id)
    ).all()
    assert len(enrollments) == 20
    for enrollment in enrollments:
        sent_at = messages[enrollment.e164].sent_at
        assert (enrollment.status, enrollment.touches_sent) == ("active", 1)
        assert enrollment.next_due_at == sent_at + timedelta(days=FOLLOW_UP_DAYS)
    leads = db.session.scalars(select(Lead).where(Lead.team_id == outreach.crew.team.id)).all()
    assert all(lead.last_contacted_at is not None and lead.status == "contacted" for lead in leads)
    assert not db.session.get(Sender, outreach.sender.id).paused


def test_worker_killed_mid_batch_restarts_and_sends_each_text_once(stack, twilio):
    outreach = make_outreach("Killed Worker Partners", first_line=150)
    numbers = outreach.numbers
    operator = outreach.crew.operator
    batch = batches.create_batch(db.session, outreach.campaign, operator)
    run = job_queue.start(
        kind="generate_batch",
        title=f"Draft batch #{batch.id}",
        team_id=outreach.crew.team.id,
        started_by_id=operator.id,
        params={"batch_id": batch.id},
    )
    batch_id, run_id = batch.id, run.id
    twilio.latency = 0.5  # slow sends, so the worker dies with texts still to go

    with worker_process(stack, "doomed-worker") as doomed:
        run = wait_for(
            stack,
            "the worker drafts the batch",
            lambda: (r := db.session.get(JobRun, run_id)).finished and r,
            timeout=30,
        )
        assert run.status == "done", run.error
        batch = db.session.get(Batch, batch_id)
        assert batches.approve(db.session, batch, operator) == 20
        db.session.commit()  # the worker's ticker finds it due and queues its dispatcher
        kill_during_a_send(stack, doomed, twilio, after=3)

    # Twilio still takes the texts that were on their way (a dispatcher keeps several in
    # flight); the console never heard their SIDs.
    wait_for(stack, "Twilio stores them", lambda: twilio.requests == len(twilio.created), 5)
    twilio.latency = 0.0
    taken = creates_to(twilio, numbers)
    left = messages_of(batch_id)
    orphans = [m for m in left if m.provider_sid is None and m.to_e164 in taken]
    assert orphans, [(m.to_e164, m.status) for m in left]
    assert {m.status for m in orphans} == {"sending"}
    orphan_ids = [m.id for m in orphans]
    assert sum(1 for m in left if m.provider_sid) == len(taken) - len(orphans)
    assert count_by_status(batch_id)["sending"] == 20 - (len(taken) - len(orphans))

    # The dead dispatcher's per-batch keys (its time slice plus LOCK_MARGIN_SECONDS) would
    # hold the batch until they expire; deleting them stands for that wait.
    for slot in range(sending.MAX_AUTO_DISPATCHERS):
        job_queue.connection(stack.app).delete(sending._lock_key(batch_id, slot))

    with worker_process(stack, "restarted-worker"):
        wait_until_settled(stack, twilio, batch_id, "the restarted worker finishes the batch")

    # Exactly once: one Twilio message per text, the orphans found at Twilio, not resent.
    assert creates_to(twilio, numbers) == Counter(dict.fromkeys(numbers, 1))
    db.session.expire_all()
    sids = sids_by_number(twilio)
    messages = messages_of(batch_id)
    assert all(m.provider_sid == sids[m.to_e164] for m in messages)
    for orphan_id in orphan_ids:
        orphan = db.session.get(Message, orphan_id)
        assert orphan.attempts == 1  # looked up after the lease, never tried again
        events = db.session.scalars(
            select(MessageEvent.status).where(MessageEvent.message_id == orphan_id)
        ).all()
        assert sorted(events) == ["delivered", "sent"]  # came before its SID was known
        # Found at Twilio already delivered: it takes Twilio's status, not just "sent".
        assert (orphan.status, orphan.provider_status) == ("delivered", "delivered")
        assert orphan.delivered_at is not None
    assert db.session.get(Batch, batch_id).status == "done"
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.campaign_id == outreach.campaign.id)
    ).all()
    assert sorted(e.touches_sent for e in enrollments) == [1] * 20
    others = [m for m in messages if m.id not in orphan_ids]
    assert all(m.status == "delivered" and m.delivered_at for m in others)
    assert count_by_status(batch_id) == {"delivered": 20}


def test_callback_racing_the_sid_record_is_applied(stack, twilio):
    """Twilio's callback and the dispatcher's record of the SID, interleaved for real: the
    webhook finds no message with the SID and, before its event is committed, the
    dispatcher commits the SID and looks for early events (finding none). Neither sees
    the other; the sending ticker's next round must put the callback on its text."""
    outreach = make_outreach("Racing Callback Partners", first_line=190, count=1)
    batch = batches.create_batch(db.session, outreach.campaign, outreach.crew.operator)
    db.session.commit()
    batches.generate(db.session, batch.id)
    batches.approve(db.session, batch, outreach.crew.operator)
    db.session.commit()
    (message_id,) = dispatch.claim(db.session, batch.id, utcnow())
    # Twilio takes the text and fails it outright (its one callback is sent by hand here).
    number = outreach.numbers[0]
    twilio.outcomes[number] = ("failed", 30007)
    transport = sending.transport_for(stack.app, db.session, outreach.crew.team.id)
    body = db.session.get(Message, message_id).body
    result = transport.send(
        to=number,
        sender_kind="number",
        sender_address=outreach.sender.address,
        body=body,
        status_callback="",
    )
    url = stack.base_url + sending.STATUS_PATH
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": result.sid,
        "MessageStatus": "failed",
        "ErrorCode": "30007",
        "From": outreach.sender.address,
        "To": number,
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    answers: list[requests.Response] = []

    def post_callback() -> None:
        headers = {"X-Twilio-Signature": signature}
        answers.append(requests.post(url, data=form, headers=headers, timeout=30))

    def record_sid() -> None:
        with stack.app.app_context():
            message = db.session.get(Message, message_id)
            settings = SendingSettings.of(outreach.crew.team)
            dispatch.record_sent(db.session, message, result, settings, utcnow())
            db.session.remove()

    webhook = threading.Thread(target=post_callback)
    recorder = threading.Thread(target=record_sid)
    with db.engine.connect() as hold:
        # Writes to message_events wait for this lock; reads do not.
        hold.execute(text("LOCK TABLE message_events IN SHARE MODE"))
        webhook.start()
        wait_for(
            stack,
            "the webhook found no message and waits to store its event",
            lambda: db.session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE 'INSERT INTO message_events%'"
                )
            ),
            timeout=10,
        )
        recorder.start()
        recorder.join(5)  # should recording ever wait for the webhook, go on regardless
        hold.commit()
    webhook.join(30)
    recorder.join(30)
    assert [a.status_code for a in answers] == [204]
    sending.tick(stack.app)

    db.session.expire_all()
    message = db.session.get(Message, message_id)
    event = db.session.scalars(
        select(MessageEvent).where(MessageEvent.provider_sid == result.sid)
    ).one()
    assert (message.status, message.error_code) == ("failed", 30007)
    assert event.message_id == message_id
