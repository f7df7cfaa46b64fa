"""Factories for the sending tests: a team with leads in chosen states, a template, a
sender and a campaign; an approved batch; clocks fixed at a chosen local time; the
official Twilio SDK pointed at `tests.fakeservers.TwilioServer`; Redis rate limits on
fakeredis; a sink that receives the fake's signed status callbacks.

Clocks are fixed so that quiet hours never make a test depend on the time of day it
runs. The dates are chosen near today (the next non-holiday weekday at a local time),
because a few rules count back from the real "now" (carrier filtering looks at the last
seven days; follow-ups come due against the real clock).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import fakeredis
import pytest
from flask import Flask
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import Batch, Campaign, Lead, Message, MessageTemplate, Sender, Team
from console.providers.messaging import TwilioTransport
from console.providers.twilio_client import make_client
from console.services.campaigns import batches
from console.services.sending import dispatch, quiethours
from console.services.sending.policy import SendingSettings
from console.services.sending.ratelimit import sender_limiter
from tests.conftest import IsolatedClient, TeamUsers, make_lead, make_team
from tests.fakeservers import TwilioServer

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "sending-test-token"
SENDER_NUMBER = "+15125550100"

CENTRAL = ZoneInfo("America/Chicago")
EASTERN = ZoneInfo("America/New_York")
MOUNTAIN = ZoneInfo("America/Denver")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# An area code inside each state the tests text, so the number's zone agrees with it.
AREA_CODES = {
    "TX": "512",
    "NY": "212",
    "FL": "305",
    "RI": "401",
    "UT": "801",
    "PA": "215",
    "CT": "203",
    "GA": "404",
}
OPENER = (
    "Hi {firstName|there}, {senderName} here. Thinking of selling {companyName}? "
    "Reply STOP to opt out"
)
NUDGE = "{firstName|Hi}, just checking back about {companyName}. Reply STOP to opt out"
# Every day, 8 am-9 pm: only the law's windows hold texts back.
WIDE_WINDOW = {"window_start": "08:00", "window_end": "21:00", "window_days": list(range(7))}


def mobile(state: str, n: int) -> str:
    """A fictional mobile (555 exchange) with an area code of `state`."""
    return f"+1{AREA_CODES[state]}555{n:04d}"


# -- databases -------------------------------------------------------------------------


def backend_app(request: pytest.FixtureRequest, backend: str, folder) -> Flask:
    """A console with an empty schema on SQLite (a file in `folder`) or PostgreSQL, built
    once for a module; `empty_tables` resets it between tests, faster than a new schema."""
    config = TestConfig(UPLOAD_DIR=str(folder / "uploads"))
    if backend == "postgres":
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(request.getfixturevalue("postgres_url"))
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'console.db'}"
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def drop_schema(app: Flask) -> None:
    """Drop a module's schema and close its connections."""
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def empty_tables() -> None:
    """Delete every row (ids start again at 1), in the current app context."""
    db.session.remove()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


# -- clocks ---------------------------------------------------------------------------


def at_local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = CENTRAL) -> datetime:
    """The UTC instant of a local wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def next_weekday(
    weekday: int,
    hour: int,
    minute: int = 0,
    zone: ZoneInfo = CENTRAL,
    *,
    weeks: int = 0,
    today: date | None = None,
) -> datetime:
    """A coming `weekday` (after today, not a federal holiday) at a local time, in UTC;
    `weeks` moves it that many weeks (negative: into the past)."""
    day = (today or datetime.now(UTC).date()) + timedelta(days=1)
    while day.weekday() != weekday or day in quiethours.holidays(day.year, None):
        day += timedelta(days=1)
    moved = day + timedelta(weeks=weeks)
    while moved in quiethours.holidays(moved.year, None):
        moved += timedelta(weeks=-1 if weeks < 0 else 1)
    return at_local(moved, hour, minute, zone)


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keywords; returns the new time."""
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        """Move to `when`."""
        self.now = when
        return when


# -- team, leads, template, sender, campaign ------------------------------------------


@dataclass
class Outreach:
    """A team ready to text: leads with mobiles, a template, a sender and a campaign."""

    crew: TeamUsers
    leads: list[Lead]
    template: MessageTemplate
    sender: Sender
    campaign: Campaign
    follow_up: MessageTemplate | None = None
    numbers: list[str] = field(default_factory=list)

    @property
    def team(self) -> Team:
        return self.crew.team


def configure_sending(team: Team, **changes) -> SendingSettings:
    """Change a team's sending settings and commit."""
    settings = SendingSettings.of(team)
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.save(team)
    db.session.commit()
    return settings


def make_outreach(
    states: list[str] | None = None,
    *,
    numbers: list[str] | None = None,
    team_name: str = "Harbor Partners",
    batch_size: int = 500,
    touches: int = 0,
    after_days: int = 3,
    sender_address: str = SENDER_NUMBER,
    mps: float = 50.0,
    daily_cap: int = 0,
    settings: dict | None = None,
) -> Outreach:
    """A committed team with one lead per state in `states` (each with its own mobile,
    or `numbers`), an opener, a sender, and a campaign over all of them."""
    states = states or ["TX"]
    numbers = numbers or [mobile(state, 111 + i) for i, state in enumerate(states)]
    crew = make_team(team_name)
    team = crew.team
    if settings:
        configure_sending(team, **settings)
    leads = [
        make_lead(
            team,
            f"Lake {i} Plumbing LLC",
            owner_name=f"Dana Owner{i}",
            mobile=number,
            state=state,
        )
        for i, (state, number) in enumerate(zip(states, numbers, strict=True))
    ]
    template = MessageTemplate(team_id=team.id, name="Opener", body=OPENER)
    sender = Sender(
        team_id=team.id,
        label="Austin line",
        kind="number",
        address=sender_address,
        mps=mps,
        daily_cap=daily_cap,
    )
    db.session.add_all([template, sender])
    db.session.flush()
    follow_up = None
    plan = []
    if touches:
        follow_up = MessageTemplate(
            team_id=team.id, name="Nudge", body=NUDGE, touch="follow_up", category="follow_up"
        )
        db.session.add(follow_up)
        db.session.flush()
        plan = [{"after_days": after_days, "template_id": follow_up.id}] * touches
    campaign = Campaign(
        team_id=team.id,
        name="Spring owners",
        template_id=template.id,
        sender_id=sender.id,
        batch_size=batch_size,
        touches=plan,
    )
    db.session.add(campaign)
    db.session.commit()
    return Outreach(crew, leads, template, sender, campaign, follow_up, numbers)


def approved_batch(outreach: Outreach, now: datetime) -> Batch:
    """The campaign's next batch, drafted and approved by the operator at `now`."""
    batch = batches.create_batch(db.session, outreach.campaign, outreach.crew.operator)
    db.session.commit()
    batches.generate(db.session, batch.id, now=now)
    batches.approve(db.session, batch, outreach.crew.operator, now=now)
    db.session.commit()
    return batch


def messages_of(batch_id: int) -> list[Message]:
    """A batch's messages, fresh from the database, in id order."""
    db.session.expire_all()
    return list(
        db.session.scalars(select(Message).where(Message.batch_id == batch_id).order_by(Message.id))
    )


def statuses(batch_id: int) -> dict[str, int]:
    """A batch's messages counted by status."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.batch_id == batch_id)
        .group_by(Message.status)
    )
    return dict(rows.all())


# -- Twilio, rate limits, dispatcher options -------------------------------------------


def twilio_server(**kwargs) -> TwilioServer:
    """A Twilio Messaging fake with this module's credentials (not started)."""
    return TwilioServer(ACCOUNT_SID, AUTH_TOKEN, **kwargs)


def twilio_transport(
    server_or_url: TwilioServer | str, timeout: float = 5.0, parallel: bool = False
) -> TwilioTransport:
    """The console's Twilio transport through the official SDK, pointed at the fake;
    `parallel`: one client a thread, as the workers build it, so texts go side by side."""
    url = server_or_url if isinstance(server_or_url, str) else server_or_url.url
    if parallel:
        return TwilioTransport(
            lambda: make_client(ACCOUNT_SID, AUTH_TOKEN, base_url=url, timeout=timeout)
        )
    return TwilioTransport(make_client(ACCOUNT_SID, AUTH_TOKEN, base_url=url, timeout=timeout))


def created_to(server: TwilioServer, number: str) -> list[dict]:
    """The messages the fake Twilio took for `number`."""
    with server.lock:
        return [c for c in server.created if c["to"] == number]


def limiters(conn=None, mps: float | None = None) -> Callable[[Sender], object]:
    """Per-sender Redis rate limits (on fakeredis unless a connection is given)."""
    conn = conn if conn is not None else fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    return lambda sender: sender_limiter(conn, sender.id, mps or sender.mps)


def options(transport, clock: Callable[[], datetime], **more) -> dispatch.DispatchOptions:
    """Dispatcher options with a fixed clock, fakeredis limits and retries at their
    middle wait (no jitter)."""
    more.setdefault("limiter_for", limiters())
    more.setdefault("jitter", lambda: 0.5)
    return dispatch.DispatchOptions(transport=transport, clock=clock, **more)


class Frozen:
    """A dispatcher process stopped with SIGSTOP (see `frozen_dispatcher`)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def wake(self) -> tuple[dict, str]:
        """Let it go on to the end: the JSON of its last line, and its stderr."""
        os.kill(self.process.pid, signal.SIGCONT)
        out, err = self.process.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1]), err


@contextmanager
def frozen_dispatcher(script: str, *args: str) -> Iterator[Frozen]:
    """Run `script` (a dispatcher at the test's clock) in a process of its own and freeze
    it the moment it says it is "waiting for a slot"; killed if the test ends first."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = process.stdout.readline().strip()
        assert said == "waiting for a slot", process.stderr.read()
        os.kill(process.pid, signal.SIGSTOP)
        yield Frozen(process)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
            process.wait()


class WorkerDied(Exception):
    """Stands for a worker process killed in the middle of sending."""


def crash_after_call(times: int = 1) -> Callable:
    """An `after_call` hook: the first `times` messages Twilio takes kill the worker
    before their SID is recorded."""
    left = [times]

    def hook(message, result) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise WorkerDied(f"killed after Twilio took {result.sid}")

    return hook


# -- status callbacks -------------------------------------------------------------------


class CallbackSink(ThreadingHTTPServer):
    """Receives the fake's status callbacks, checks Twilio's signature, keeps the forms.

    The console's status webhook applies callbacks with `delivery.apply_callback`; the
    tests call it on these forms from the test thread, in the order they came.
    """

    daemon_threads = True

    def __init__(self, auth_token: str = AUTH_TOKEN) -> None:
        self.forms: list[dict[str, str]] = []
        self.bad_signatures = 0
        validator = RequestValidator(auth_token)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                url = sink.url + self.path
                if validator.validate(url, form, self.headers.get("X-Twilio-Signature", "")):
                    sink.forms.append(form)
                    self.send_response(204)
                else:
                    sink.bad_signatures += 1
                    self.send_response(403)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Stay quiet."""

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def status_url(self) -> str:
        """The StatusCallback URL to give Twilio."""
        return self.url + "/webhooks/twilio/status"

    def __enter__(self) -> CallbackSink:
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def serve(server: TwilioServer) -> Iterator[TwilioServer]:
    """Run a fake for a fixture: started, yielded, stopped."""
    with server:
        yield server
