"""`python -m tests.bench replies`: the figures issue 6 asks for, on the real stack.

PostgreSQL (a throwaway server, or TEST_POSTGRES_URL) holds one team seeded by bulk
insert: `--leads` leads with businesses, owners and phones (tests/bench/campaigns.py's
pools) and `--sent` campaign texts already delivered to some of their mobiles, so the
webhook's matching does real lookups. Redis is a real redis-server. Then:

1. Webhook latency. The console runs under gunicorn in production mode (DATABASE_URL,
   REDIS_URL, SECRET_KEY, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set, so the sandbox
   is off and every request's signature is checked against PUBLIC_BASE_URL; reading
   jobs are queued into Redis, no worker takes them). Requests to `POST
   /webhooks/twilio/sms` each carry a fresh MessageSid, signed with Twilio's
   `RequestValidator.compute_signature`: about 85% ordinary replies from the team's
   leads' mobiles, 10% opt-outs in free text, 5% from numbers on no lead. First some
   requests one at a time (the service time with nothing queued), then, for each
   rate, a short warm-up and `--seconds` of open-loop traffic: a pacing thread hands
   each request to a pool of keep-alive connections at its due time, so a slow answer
   never delays the next send, and latency runs from the due time (a request the
   client could not start on time counts its wait). An answer later than Twilio's
   15 s is an error. The limit beside it: a bare Flask app (`bare_app` below: parse the
   form, answer an empty `<Response/>`, no database) under the same gunicorn command.
   The SQL of one webhook request is counted in this process as well.
2. Webhook to draft ready. A local Messages API server (`tests.fakeservers.
   AnthropicServer`) answers every call after 1 s; `--draft-workers` processes of
   `flask --app app worker` (RQ) read and draft. `--drafts` replies from leads the
   campaign texted are posted at `--draft-rate` a second; for each, the time from
   sending the webhook to its inbox item's `ready_at` (state "open", draft written),
   split into the webhook's answer, the wait in the queue and the job itself (from
   RQ's own timestamps). Each reply takes two model calls (classify, then draft).
3. Rules-only classification of the labeled set `tests/data/replies_labeled.csv`,
   scored by `tests.classify_eval`: precision, recall and support per label, overall
   accuracy, STOP recall.

The load generator shares the machine with the servers it measures, so on a small
machine its own CPU use is part of what the latency figures see; so is any other work
on the machine (each run prints the load average after it). It prints figures; it is
not a pass/fail test.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import redis
from flask import Flask, Response, request
from flask_migrate import upgrade
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from console import create_app
from console.config import ROOT, Config, TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import Draft, InboundMessage, InboxItem, Lead, Message, Phone, Suppression
from console.services.replies import classify, optout
from console.services.replies.reading import SYSTEM as READING_PROMPT
from tests import classify_eval
from tests.bench import backends, campaigns, report, seed
from tests.bench.render import SqlRecorder
from tests.bench.stats import percentile
from tests.fakeservers import DEFAULT_SMS_REPLY, AnthropicServer, content_text, last_user_text
from tests.servers import create_database, free_port

DATABASE = "console_bench_replies"
# The bench's own Redis database, flushed before each part (TEST_REDIS_URL may be shared).
REDIS_DB = 12
ACCOUNT_SID = "AC" + "6" * 32
AUTH_TOKEN = "bench-replies-token"
ANTHROPIC_KEY = "sk-ant-bench-replies"
WEBHOOK = "/webhooks/twilio/sms"
SENDER_NUMBER = campaigns.FAST_NUMBER
MODEL_DELAY = 1.0
# Connections the load generator keeps, far more than the servers' concurrency; when all
# wait on a saturated server, later requests wait in the client, and that wait counts.
CLIENT_CONNECTIONS = 48
# Twilio waits this long for a webhook's answer, then gives up on it: a later answer
# counts as an error. The client itself waits longer (SOCKET_TIMEOUT), so that it never
# leaves the server a backlog of abandoned requests to work through in the next run.
TWILIO_TIMEOUT = 15.0
SOCKET_TIMEOUT = 120.0
READY_TIMEOUT = 90.0
# The webhook traffic: (kind, weight).
MIX = (("reply", 85), ("opt_out", 10), ("unmatched", 5))
KIND_NAMES = {"reply": "replies", "opt_out": "opt-outs", "unmatched": "unmatched"}
ORDINARY_REPLIES = (
    "Who is this?",
    "How did you get my number?",
    "Maybe. What kind of offer are we talking about?",
    "Not interested, thanks",
    "I might be open to it. Call me after 3pm",
    "What would you pay for a business like mine?",
    "Send the details to dana.kowalski@gmail.com",
    "Not right now, maybe next year",
    "Wrong number",
    "I'm not the owner, I just manage the shop",
    "Yes, I've been thinking about retiring",
    "Depends on the price. We do about 2M a year",
    "Sure, let's talk",
    "Can you call me tomorrow morning?",
    "Who do you work for?",
    "No",
    "We just expanded, not selling",
    "My husband owns it, I'll pass this along",
    "Interesting. What's the process?",
    "Text me again in the spring",
    "How much?",
    "I'd want at least 1.5 million for it",
    "ok",
    "Is this a real buyer or a broker?",
    "Already sold it last year",
    "call me at 512-555-0148",
    "Busy this week, try me next Tuesday",
    "What company are you with?",
    "Possibly, depends on the number",
    "Thanks but my kids are taking it over",
)
OPT_OUT_REPLIES = (
    "please stop texting me",
    "Take me off your list",
    "stop texting me please",
    "Remove me from your list",
    "Don't text me again",
    "leave me alone",
)
# Replies for the draft run: each is read by Claude, then drafted by Claude.
DRAFT_REPLIES = tuple(text for text in ORDINARY_REPLIES if text not in ("Wrong number", "No", "ok"))


@dataclass(frozen=True)
class Sizes:
    """How long each part runs."""

    seconds: float  # timed traffic per rate
    warmup: float  # untimed traffic per rate before it
    drafts: int  # replies in the draft run
    serial: int  # requests timed one at a time


# The three parts, as `--parts` names them.
PARTS = ("webhook", "drafts", "accuracy")
FULL = Sizes(20.0, 2.0, 30, 100)
QUICK = Sizes(5.0, 1.0, 10, 40)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench replies",
        description="Webhook latency under gunicorn, webhook-to-draft time, and the "
        "rules' accuracy on the labeled replies.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: {QUICK.seconds:g} s a rate, {QUICK.drafts} drafts",
    )
    parser.add_argument(
        "--seconds", type=float, help=f"timed seconds per rate (default {FULL.seconds:g})"
    )
    parser.add_argument(
        "--rates", default="100,200", help="webhook arrival rates, a second (default 100,200)"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn workers, both apps (default 4)"
    )
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default="gthread",
        help="gunicorn worker class, both apps (default gthread, as README's command)",
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads a gthread worker (default 4)"
    )
    parser.add_argument("--leads", type=int, default=5000, help="leads seeded (default 5000)")
    parser.add_argument(
        "--sent", type=int, default=400, help="campaign texts already sent (default 400)"
    )
    parser.add_argument("--drafts", type=int, help=f"replies to draft (default {FULL.drafts})")
    parser.add_argument(
        "--draft-rate", type=float, default=2.0, help="draft-run replies a second (default 2)"
    )
    parser.add_argument(
        "--draft-workers", type=int, default=6, help="RQ worker processes (default 6)"
    )
    parser.add_argument(
        "--parts",
        default="webhook,drafts,accuracy",
        help="parts to run, of webhook, drafts, accuracy (default all three)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    args.part_set = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not args.part_set or not args.part_set <= set(PARTS):
        parser.error(f"--parts takes some of {', '.join(PARTS)}, separated by commas")
    try:
        args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error("--rates takes numbers separated by commas, e.g. 100,200")
    if not args.rate_list or min(args.rate_list) <= 0:
        parser.error("--rates needs at least one rate above 0")
    if args.workers < 1 or args.draft_workers < 1 or args.leads < 100:
        parser.error("--workers and --draft-workers need at least 1, --leads at least 100")
    if args.sent > args.leads // 2:
        parser.error("--sent may be at most half of --leads")
    return args


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """A progress note on stderr, with the seconds since the benchmark started."""
    backends.progress(f"{time.perf_counter() - _STARTED:6.1f} s  {message}")


# ------------------------------------------------------------------------- the limit


def bare_app() -> Flask:
    """The limit: the webhook's route on a bare Flask app that parses the form and
    answers an empty TwiML response, with no database, Redis or signature check."""
    app = Flask("bench_bare_webhook")

    @app.route(WEBHOOK, methods=["GET", "POST"])
    def twilio_sms() -> Response:
        """Read the form as the console's route does; send nothing back."""
        if request.method == "GET":
            return Response("", status=405)
        _ = request.form.get("MessageSid")
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?><Response />', mimetype="application/xml"
        )

    return app


# --------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    """The seeded team and the numbers its owners text from."""

    team_id: int
    counts: dict[str, int]
    seconds: float
    mobiles: list[str]  # every owner mobile of the team
    texted: list[str]  # the mobiles a campaign text went to


def seed_team(session, leads: int, sent: int, hash_method: str) -> Seeded:
    """A team with `leads` leads in one campaign and `sent` texts delivered; committed."""
    started = time.perf_counter()
    outreach = campaigns.setup_team(session, hash_method)
    texts = round(leads / campaigns.LEADS_PER_TEXT)
    campaign_id, counts = campaigns.pooled_campaign(session, outreach, "replies", texts)
    rows = session.execute(
        select(Phone.e164, Lead.id)
        .join(Lead, Lead.owner_id == Phone.owner_id)
        .where(Phone.team_id == outreach.team_id, Phone.kind == "mobile")
        .order_by(Phone.id)
    ).all()
    mobiles = [e164 for e164, _lead in rows]
    chosen = random.Random("replies:sent").sample(rows, sent)
    now = datetime.now(UTC)
    body = "Hi, Bench Team here. Would you sell your business? Reply STOP to opt out"
    messages = []
    for n, (e164, lead_id) in enumerate(chosen):
        sent_at = now - timedelta(hours=2 + n % 70)
        messages.append(
            {
                "team_id": outreach.team_id,
                "campaign_id": campaign_id,
                "lead_id": lead_id,
                "sender_id": outreach.fast_sender_id,
                "kind": "campaign",
                "touch": 0,
                "variant": "A",
                "to_e164": e164,
                "body": body,
                "rendered_body": body,
                "segments": 1,
                "encoding": "GSM-7",
                "status": "delivered",
                "provider_sid": "SM" + uuid.uuid4().hex,
                "provider_status": "delivered",
                "from_address": SENDER_NUMBER,
                "created_at": sent_at - timedelta(minutes=5),
                "sent_at": sent_at,
                "delivered_at": sent_at + timedelta(seconds=3),
                "status_at": sent_at + timedelta(seconds=3),
            }
        )
    conn = session.connection()
    start_id = seed._next_id(conn, Message.__table__)
    for n, row in enumerate(messages):
        row["id"] = start_id + n
    seed._bulk_insert(conn, Message.__table__, messages)
    conn.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('messages', 'id'), "
            "(SELECT max(id) FROM messages))"
        )
    )
    session.commit()
    seed.analyze(db.engine)
    counts["messages"] = len(messages)
    return Seeded(
        team_id=outreach.team_id,
        counts=counts,
        seconds=time.perf_counter() - started,
        mobiles=mobiles,
        texted=[e164 for e164, _lead in chosen],
    )


# ---------------------------------------------------------------------- the requests


def misread_mix() -> list[str]:
    """Texts of the mix that the opt-out rules read otherwise than the mix means them."""
    wrong = []
    for words in OPT_OUT_REPLIES + ORDINARY_REPLIES:
        meant = "opt_out" if words in OPT_OUT_REPLIES else ""
        read = optout.read(words).kind
        if read != meant:
            wrong.append(f"{words!r} read as {read or 'no intent'}, meant {meant or 'a reply'}")
    return wrong


@dataclass(frozen=True)
class Inbound:
    """One signed webhook request, ready to post."""

    kind: str  # "reply", "opt_out" or "unmatched"
    sid: str
    from_e164: str
    body: bytes
    signature: str


def twilio_form(sid: str, from_e164: str, text: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS to the team's number."""
    return {
        "ToCountry": "US",
        "ToState": "TX",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "AUSTIN",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "US",
        "To": SENDER_NUMBER,
        "ToZip": "78701",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_e164,
        "ApiVersion": "2010-04-01",
    }


class Traffic:
    """Signed inbound texts in the issue's mix, from the seeded owners' mobiles (shuffled,
    then again from the start once each has texted) and from numbers on no lead."""

    def __init__(self, url: str, mobiles: list[str], seed_text: str = "replies:traffic") -> None:
        self.validator = RequestValidator(AUTH_TOKEN)
        self.url = url
        self.rng = random.Random(seed_text)
        shuffled = list(mobiles)
        self.rng.shuffle(shuffled)
        self.numbers = itertools.cycle(shuffled)
        self.unmatched = (f"+1737{8_000_000 + n:07d}" for n in itertools.count())
        self.seen: set[str] = set()
        self.kinds: Counter[str] = Counter()
        self.repeats = 0

    def signed(self, kind: str, from_e164: str, text: str) -> Inbound:
        """One request, signed as Twilio signs it for the console's public URL."""
        sid = "SM" + uuid.uuid4().hex
        form = twilio_form(sid, from_e164, text)
        signature = self.validator.compute_signature(self.url, form)
        return Inbound(kind, sid, from_e164, urlencode(form).encode(), signature)

    def next(self) -> Inbound:
        """The next request of the mix."""
        kind = self.rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        if kind == "unmatched":
            number, words = next(self.unmatched), self.rng.choice(ORDINARY_REPLIES)
        else:
            number = next(self.numbers)
            words = self.rng.choice(OPT_OUT_REPLIES if kind == "opt_out" else ORDINARY_REPLIES)
            self.repeats += number in self.seen
            self.seen.add(number)
        self.kinds[kind] += 1
        return self.signed(kind, number, words)

    def batch(self, count: int) -> list[Inbound]:
        """`count` requests, signed before any is sent."""
        return [self.next() for _ in range(count)]


class Client:
    """Keep-alive HTTP connections to one server, one a thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=SOCKET_TIMEOUT)
            self.local.conn = conn
            return conn, False
        return conn, True

    def post(self, inbound: Inbound) -> tuple[int, bytes]:
        """POST the request; a connection the server closed while idle is opened again."""
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request(
                    "POST",
                    WEBHOOK,
                    body=inbound.body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": inbound.signature,
                        "User-Agent": "TwilioProxy/1.1",
                    },
                )
                response = conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2 or not reused:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, timeout: float = 5.0) -> int:
        """A GET on a fresh connection; its status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


@dataclass
class Phase:
    """One open-loop run: what was sent when, and what came back."""

    rate: float | None  # None: one request at a time
    sent: int = 0
    ok: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    first_due: float = 0.0
    last_end: float = 0.0
    answered: list[tuple[str, float, float]] = field(default_factory=list)  # (sid, wall, ms)

    @property
    def stored(self) -> int:
        """Requests the server answered 200, in time or late (each stored one text)."""
        return self.ok + self.statuses["late"]

    def summary(self) -> dict:
        """Percentiles, errors and the rate achieved."""
        ms = self.latencies_ms
        span = self.last_end - self.first_due
        return {
            "rate": self.rate,
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.sent - self.ok,
            "statuses": dict(self.statuses),
            "error_samples": list(dict.fromkeys(self.errors))[:3],
            "achieved_per_second": round(self.ok / span, 1) if span > 0 else 0.0,
            "p50_ms": round(percentile(ms, 50), 1),
            "p90_ms": round(percentile(ms, 90), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else float("nan"),
            "client_lag_p99_ms": round(percentile(self.lags_ms, 99), 1),
            # Other work on the machine skews the figures; the 1-minute load says how much.
            "load_after": round(os.getloadavg()[0], 1),
        }

    def record(self, inbound: Inbound, due: float, began: float, outcome: str) -> None:
        """One request's outcome ("200", "HTTP 403", an error), started at `began`."""
        ended = time.perf_counter()
        self.statuses[outcome.split(":")[0]] += 1
        self.lags_ms.append((began - due) * 1000)
        self.last_end = max(self.last_end, ended)
        if outcome != "200":
            self.errors.append(outcome)
            return
        self.ok += 1
        self.latencies_ms.append((ended - due) * 1000)
        wall = time.time() - (ended - due)
        self.answered.append((inbound.sid, wall, (ended - due) * 1000))


def _post(client: Client, inbound: Inbound, due: float) -> tuple[float, str]:
    """Post one request due at `due` unless Twilio would have given up on it already;
    when it started and its outcome ("200", "HTTP 4xx", "late", an error)."""
    began = time.perf_counter()
    if began > due + TWILIO_TIMEOUT:
        return began, f"not sent: the client was {TWILIO_TIMEOUT:g} s behind"
    try:
        status, _body = client.post(inbound)
    except (OSError, http.client.HTTPException) as exc:
        return began, f"{type(exc).__name__}: {exc}"[:200]
    if status != 200:
        return began, f"HTTP {status}"
    if time.perf_counter() > due + TWILIO_TIMEOUT:
        return began, f"late: answered over {TWILIO_TIMEOUT:g} s after its due time"
    return began, "200"


def open_loop(client: Client, inbounds: list[Inbound], rate: float) -> Phase:
    """Send `inbounds` at `rate` a second whatever the answers take; time each from its
    due time to the end of its answer."""
    phase = Phase(rate=rate, sent=len(inbounds))
    lock = threading.Lock()

    def send(inbound: Inbound, due: float) -> None:
        began, outcome = _post(client, inbound, due)
        with lock:
            phase.record(inbound, due, began, outcome)

    interval = 1.0 / rate
    with ThreadPoolExecutor(CLIENT_CONNECTIONS, thread_name_prefix="bench-client") as pool:
        start = time.perf_counter() + 0.05
        phase.first_due = start
        for n, inbound in enumerate(inbounds):
            due = start + n * interval
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            pool.submit(send, inbound, due)
    return phase


def one_at_a_time(client: Client, inbounds: list[Inbound]) -> Phase:
    """Send `inbounds` one after another: each answer's time with nothing queued."""
    phase = Phase(rate=None, sent=len(inbounds))
    phase.first_due = time.perf_counter()
    for inbound in inbounds:
        due = time.perf_counter()
        began, outcome = _post(client, inbound, due)
        phase.record(inbound, due, began, outcome)
    return phase


def wait_idle(client: Client, limit: float = 60.0) -> None:
    """Wait (up to `limit` s) until the server answers a GET quickly twice in a row, so
    requests a busy server still holds do not spill into the next run."""
    deadline, quick = time.monotonic() + limit, 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            client.get(WEBHOOK, timeout=limit)
        except OSError:
            quick = 0
            continue
        quick = quick + 1 if time.perf_counter() - started < 0.25 else 0
        time.sleep(0.2)


# ---------------------------------------------------------------------- the servers


@contextmanager
def gunicorn(spec: str, env: dict[str, str], port: int, args, log: Path) -> Iterator[str]:
    """`spec` served by gunicorn on `port` with the bench's worker settings; yields the
    command line."""
    command = [sys.executable, "-m", "gunicorn", "-w", str(args.workers)]
    command += ["-k", args.worker_class]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    command += ["-b", f"127.0.0.1:{port}", spec]
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        _wait_answering(Client(port), process, log)
        shown = [Path(command[0]).name, *command[1:-1], f"'{spec}'"]
        yield " ".join(shown)
    finally:
        stop_process(process)


def _wait_answering(client: Client, process: subprocess.Popen, log: Path) -> None:
    """Block until the server answers HTTP at all (the webhook's GET is a 405)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            client.get(WEBHOOK)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"gunicorn did not answer in {READY_TIMEOUT:g} s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it does not stop within 20 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def own_redis_db(url: str) -> str:
    """The URL of the bench's own database on the same Redis server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


def console_env(
    database_url: str, redis_url: str, port: int, folder: Path, anthropic_url: str
) -> dict[str, str]:
    """The console's production environment: every connection given, the sandbox off."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "TWILIO_", "ANTHROPIC_", "CONSOLE_"))
        and k != "SECRET_KEY"
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-replies-secret",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": SENDER_NUMBER,
            # Nothing listens there: nothing in this benchmark sends a text.
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "ANTHROPIC_BASE_URL": anthropic_url,
            "CONSOLE_INSTANCE_PATH": str(folder / "instance"),
            "CONSOLE_UPLOAD_DIR": str(folder / "uploads"),
        }
    )
    return env


def model_reply(request_json: dict) -> str:
    """The local model's answer: the reading prompt gets the JSON it asks for (the
    rules' label, as a model that agrees with them), a drafting prompt a short SMS."""
    if READING_PROMPT in content_text(request_json.get("system")):
        reply = last_user_text(request_json).rpartition("Their reply:\n")[2]
        label = classify.by_rules(reply).label
        if label == "STOP":
            label = "UNCLEAR"
        return json.dumps({"label": label, "confidence": 80, "opt_out": False, "extracted": {}})
    return DEFAULT_SMS_REPLY


# ------------------------------------------------------------------------- part 1


def webhook_phases(
    client: Client, traffic: Traffic, rates: list[float], sizes: Sizes, label: str
) -> tuple[list[dict], int]:
    """Requests one at a time, then for each rate a warm-up and the timed open-loop run.
    Returns the timed runs' figures and how many requests, warm-ups included, the
    server answered 200 (in time or late)."""
    progress(f"1. {label}: {sizes.serial} requests one at a time")
    stored = one_at_a_time(client, traffic.batch(sizes.serial // 5)).stored
    serial = one_at_a_time(client, traffic.batch(sizes.serial))
    results, stored = [{"app": label, **serial.summary()}], stored + serial.stored
    for rate in rates:
        progress(f"1. {label}: warm-up at {rate:g}/s for {sizes.warmup:g} s")
        stored += open_loop(client, traffic.batch(round(rate * sizes.warmup)), rate).stored
        wait_idle(client)
        progress(f"1. {label}: {rate:g}/s for {sizes.seconds:g} s")
        phase = open_loop(client, traffic.batch(round(rate * sizes.seconds)), rate)
        stored += phase.stored
        results.append({"app": label, **phase.summary()})
        wait_idle(client)
    return results, stored


def sql_per_webhook(env: dict[str, str], traffic: Traffic, count: int) -> dict:
    """The webhook in this process (Flask test client, the console's production settings,
    no HTTP): SQL statements a request, their time, and the statements taking most."""
    app = create_app(Config(env))
    statements, sql_ms, wall_ms = [], [], []
    with app.app_context():
        recorder = SqlRecorder(db.engine)
        client = app.test_client()
        try:
            for n, inbound in enumerate(traffic.batch(count + 5)):
                recorder.recording = n >= 5  # the first requests warm the pool and caches
                recorder.reset()
                started = time.perf_counter()
                response = client.post(
                    WEBHOOK,
                    data=inbound.body,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": inbound.signature},
                )
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"the webhook answered {response.status_code} in-process")
                if recorder.recording:
                    statements.append(recorder.statements)
                    sql_ms.append(recorder.seconds * 1000)
                    wall_ms.append(elapsed * 1000)
            ranked = sorted(recorder.by_statement.items(), key=lambda item: -sum(item[1]))
        finally:
            recorder.close()
            db.session.remove()
            db.engine.dispose()
    return {
        "requests": count,
        "statements": round(sum(statements) / count, 1),
        "sql_ms": round(sum(sql_ms) / count, 2),
        "p50_ms": round(percentile(wall_ms, 50), 1),
        "heaviest": [
            {
                "ms": round(sum(times) * 1000 / count, 2),
                "runs": round(len(times) / count, 2),
                "sql": campaigns.short_sql(sql, 100),
            }
            for sql, times in ranked[:5]
        ],
    }


def webhook_effects(session, conn: redis.Redis, team_id: int) -> dict:
    """What the console's webhook stored and queued (checks that the requests did the
    real work)."""
    session.rollback()
    handled = dict(
        session.execute(
            select(InboundMessage.handled, func.count(InboundMessage.id)).group_by(
                InboundMessage.handled
            )
        ).all()
    )
    return {
        "stored": sum(handled.values()),
        "handled": {k or "(read later)": v for k, v in handled.items()},
        "items": session.scalar(select(func.count(InboxItem.id))),
        "unmatched_items": session.scalar(
            select(func.count(InboxItem.id)).where(InboxItem.unmatched.is_(True))
        ),
        "suppressions": session.scalar(
            select(func.count(Suppression.id)).where(Suppression.team_id == team_id)
        ),
        "jobs_queued": Queue("default", connection=conn).count,
    }


# ------------------------------------------------------------------------- part 2


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@contextmanager
def rq_workers(count: int, env: dict[str, str], folder: Path, conn: redis.Redis):
    """`count` processes of `flask --app app worker`, registered with RQ."""
    processes = []
    try:
        for n in range(count):
            log = (folder / f"worker-{n + 1}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "app", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while len(Worker.all(connection=conn)) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                logs = "\n".join(p.read_text()[-2000:] for p in sorted(folder.glob("worker-*.log")))
                raise RuntimeError(f"the RQ workers did not start:\n{logs}")
            time.sleep(0.2)
        yield processes
    finally:
        for process in processes:
            stop_process(process)


def time_drafts(
    client: Client,
    traffic: Traffic,
    numbers: list[str],
    rate: float,
    conn: redis.Redis,
    model: AnthropicServer,
) -> dict:
    """Post one reply from each of `numbers` at `rate` a second and wait for every draft;
    the times from each webhook to its item's ready_at, and where they went."""
    rng = random.Random("replies:drafts")
    inbounds = [traffic.signed("reply", n, rng.choice(DRAFT_REPLIES)) for n in numbers]
    model.reset()
    phase = open_loop(client, inbounds, rate)
    if phase.ok != len(inbounds):
        raise RuntimeError(f"the draft run's webhooks failed: {phase.errors[:3]}")
    answered = {sid: (wall, ms) for sid, wall, ms in phase.answered}
    sids = list(answered)
    deadline = time.monotonic() + READY_TIMEOUT + len(sids) * 2 * MODEL_DELAY
    query = (
        select(
            InboundMessage.provider_sid,
            InboundMessage.received_at,
            InboxItem.id,
            InboxItem.state,
            InboxItem.ready_at,
            InboxItem.classified_by,
        )
        .join(InboxItem, InboxItem.inbound_id == InboundMessage.id)
        .where(InboundMessage.provider_sid.in_(sids))
    )
    while True:
        db.session.rollback()
        rows = db.session.execute(query).all()
        if len(rows) == len(sids) and all(r.state != "processing" for r in rows):
            break
        if time.monotonic() > deadline:
            waiting = sum(1 for r in rows if r.state == "processing")
            raise TimeoutError(f"{waiting} of {len(sids)} items still processing")
        time.sleep(0.1)
    drafts = {
        d.item_id: d
        for d in db.session.scalars(
            select(Draft).where(Draft.item_id.in_([r.id for r in rows]), Draft.state == "proposed")
        )
    }
    jobs = _jobs_by_item(conn)
    samples = []
    for row in rows:
        wall, webhook_ms = answered[row.provider_sid]
        sent = datetime.fromtimestamp(wall, UTC)
        job = jobs.get(row.id)
        draft = drafts.get(row.id)
        enqueued, started, ended = (
            (_aware(job.enqueued_at), _aware(job.started_at), _aware(job.ended_at))
            if job is not None
            else (None, None, None)
        )
        samples.append(
            {
                "total_ms": (_aware(row.ready_at) - sent).total_seconds() * 1000,
                "webhook_ms": webhook_ms,
                "server_ms": (_aware(row.ready_at) - _aware(row.received_at)).total_seconds()
                * 1000,
                "queue_ms": (started - enqueued).total_seconds() * 1000 if started else None,
                "job_ms": (ended - started).total_seconds() * 1000 if ended else None,
                "job_overhead_ms": (
                    (ended - started).total_seconds() * 1000 - 2 * MODEL_DELAY * 1000
                    if ended
                    else None
                ),
                "state": row.state,
                "classified_by": row.classified_by,
                "draft": draft.source if draft is not None else "none",
                "draft_model_ms": draft.latency_ms if draft is not None else None,
                "fallback": draft.fallback_reason if draft is not None else "",
            }
        )
    return {
        "replies": len(samples),
        "rate": rate,
        "samples": samples,
        "model_calls": model.calls,
        "model_cache_reads": model.cache_reads,
        "model_peak_concurrency": model.peak,
        "failed_jobs": FailedJobRegistry("default", connection=conn).count,
    }


def _jobs_by_item(conn: redis.Redis) -> dict[int, Job]:
    """The finished reading jobs, by the inbox item they read."""
    ids = FinishedJobRegistry("default", connection=conn).get_job_ids()
    jobs = {}
    for job in Job.fetch_many(ids, connection=conn):
        if job is not None and job.func_name == "jobs.replies.read_reply" and job.args:
            jobs[int(job.args[0])] = job
    return jobs


def summarize_drafts(result: dict) -> dict:
    """Percentiles of each leg, and how the replies were read and drafted."""

    def legs(key: str) -> dict:
        values = [s[key] for s in result["samples"] if s[key] is not None]
        return {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p90_ms": round(percentile(values, 90), 1),
            "max_ms": round(max(values), 1) if values else float("nan"),
        }

    samples = result["samples"]
    return {
        "legs": {
            key: legs(key)
            for key in (
                "total_ms",
                "webhook_ms",
                "queue_ms",
                "job_ms",
                "job_overhead_ms",
                "server_ms",
            )  # fmt: skip
        },
        "draft_model": legs("draft_model_ms"),
        "drafts": dict(Counter(s["draft"] for s in samples)),
        "classified_by": dict(Counter(s["classified_by"] for s in samples)),
        "fallbacks": dict(Counter(s["fallback"] for s in samples if s["fallback"])),
    }


# ------------------------------------------------------------------------- part 3


def rules_accuracy(rows: list[dict[str, str]]) -> dict:
    """The rules' reading of each labeled reply, scored as `tests.classify_eval` scores
    it (per label, overall), with the opt-out flag against STOP and the commonest
    confusions."""
    results = [(row["text"], row["label"], classify.by_rules(row["text"])) for row in rows]
    pairs = [(truth, got.label) for _, truth, got in results]
    per_label = []
    for score in classify_eval.accuracy_by_label(pairs).values():
        if not (score.support or score.predicted):
            continue
        both = score.precision + score.recall
        per_label.append(
            {
                "label": score.label,
                "support": score.support,
                "predicted": score.predicted,
                "correct": score.correct,
                "precision": score.precision if score.predicted else None,
                "recall": score.recall if score.support else None,
                "f1": 2 * score.precision * score.recall / both if both else 0.0,
            }
        )
    confusions = Counter(pair for pair in pairs if pair[0] != pair[1])
    examples: dict[tuple[str, str], str] = {}
    for words, truth, got in results:
        examples.setdefault((truth, got.label), words)
    stops = [got for _, truth, got in results if truth == "STOP"]
    return {
        "n": len(results),
        "accuracy": classify_eval.accuracy(pairs),
        "per_label": per_label,
        "stop_recall": sum(got.label == "STOP" for got in stops) / len(stops) if stops else None,
        "stop_flag_recall": sum(got.opt_out for got in stops) / len(stops) if stops else None,
        "false_opt_outs": [w for w, truth, got in results if truth != "STOP" and got.opt_out],
        "confusions": [
            {"truth": t, "predicted": p, "count": c, "example": examples[(t, p)]}
            for (t, p), c in confusions.most_common(8)
        ],
    }


# ------------------------------------------------------------------------- printing


def _ms(value) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:,.1f}"


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def print_header(info: dict, postgres: str, redis_source: str, args, sizes: Sizes) -> None:
    """The machine, the versions and the run's settings."""
    print("Deal origination console benchmark: replies (issue 6)")
    for line in report.machine_lines(info, postgres):
        print(line)
    print(f"{'redis':<10}{redis_source}")
    workers = f"-w {args.workers} -k {args.worker_class}"
    if args.worker_class == "gthread":
        workers += f" --threads {args.threads}"
    rates = ", ".join(f"{r:g}" for r in args.rate_list)
    print(
        f"{'run':<10}{'quick: ' if args.quick else ''}gunicorn {workers} for both apps; "
        f"rates {rates}/s, {sizes.seconds:g} s each after {sizes.warmup:g} s warm-up; "
        f"{sizes.drafts} drafts at {args.draft_rate:g}/s, {args.draft_workers} RQ workers, "
        f"model {MODEL_DELAY:g} s a call"
    )
    sys.stdout.flush()


def print_webhooks(result: dict) -> None:
    """Part 1: the latency table, the console beside the bare app, and what was stored."""
    seeded = result["seed"]
    c = seeded["counts"]
    print("\n== 1. Webhook latency: POST /webhooks/twilio/sms, open loop ==")
    print(
        f"seed: {c['leads']:,} leads ({c['mobiles']:,} owner mobiles), {c['messages']:,} "
        f"campaign texts delivered, in {seeded['seconds']} s"
    )
    print(f"console: {result['console_command']}")
    print(f"bare:    {result['bare_command']}")
    print()
    rows = []
    for rate in [None, *result["rates"]]:
        for run in result["phases"]:
            if run["rate"] != rate:
                continue
            rows.append(
                (
                    run["app"],
                    "one at a time" if rate is None else f"{rate:g}",
                    run["sent"],
                    run["errors"],
                    run["achieved_per_second"],
                    _ms(run["p50_ms"]),
                    _ms(run["p90_ms"]),
                    _ms(run["p99_ms"]),
                    _ms(run["max_ms"]),
                    _ms(run["client_lag_p99_ms"]),
                    run["load_after"],
                )
            )
    headers = (
        "app", "rate/s", "sent", "errors", "achieved/s", "p50 ms", "p90 ms", "p99 ms",
        "max ms", "client lag p99 ms", "load",
    )  # fmt: skip
    print(report.table(headers, rows, align="<" + ">" * 10))
    print(
        "latency: from each request's due time to the end of its answer (one at a time: "
        "from its start); achieved = answers / (last answer - first due); errors include "
        f"answers later than {TWILIO_TIMEOUT:g} s after the due time (Twilio gives up "
        "then) and requests the client could not start by then; client lag = how late the "
        "client started a request (p99); load = the machine's 1-minute load average after "
        "the run"
    )
    for run in result["phases"]:
        if run["errors"]:
            where = "one at a time" if run["rate"] is None else f"{run['rate']:g}/s"
            outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(run["statuses"].items()))
            print(f"! {run['app']} at {where}: {outcomes}; e.g. {run['error_samples'][0]}")
    effects, traffic = result["effects"], result["traffic"]
    mix = ", ".join(f"{KIND_NAMES[k]} {v:,}" for k, v in traffic["kinds"].items())
    handled = ", ".join(f"{k} {v:,}" for k, v in sorted(effects["handled"].items()))
    print(
        f"\nconsole requests (warm-ups included): {traffic['sent']:,} ({mix}); "
        f"{traffic['repeats']:,} from a lead's number that had texted before in the run"
    )
    print(
        f"stored by the console: {effects['stored']:,} inbound texts ({handled}); "
        f"{effects['items']:,} inbox items, {effects['unmatched_items']:,} unmatched; "
        f"{effects['suppressions']:,} numbers suppressed; {effects['jobs_queued']:,} "
        "reading jobs queued in Redis"
    )
    sql = result["sql"]
    print(
        f"\nSQL a webhook request (in this process through the Flask test client, no HTTP, "
        f"{sql['requests']} requests of the mix): {sql['statements']} statements and a "
        f"commit, {sql['sql_ms']} ms in cursor.execute; p50 {sql['p50_ms']} ms a request. "
        "The statements taking most (ms and runs a request):"
    )
    for statement in sql["heaviest"]:
        print(f"  {statement['ms']:>6.2f} ms  x{statement['runs']:<4g} {statement['sql']}")
    if effects["stored"] != traffic["ok"]:
        print(
            f"! {traffic['ok']:,} answered 200 (in time or late) but {effects['stored']:,} stored"
        )
    sys.stdout.flush()


def print_drafts(result: dict) -> None:
    """Part 2: webhook to draft ready, and its legs."""
    print(
        f"\n== 2. Webhook to draft ready: {result['replies']} replies at {result['rate']:g}/s, "
        f"model answering in {MODEL_DELAY:g} s ==\n"
    )
    summary = result["summary"]
    names = {
        "total_ms": "webhook sent -> item ready (draft written)",
        "webhook_ms": "  webhook answered",
        "queue_ms": "  job waiting in the queue (RQ enqueued -> started)",
        "job_ms": "  job: read (model) + draft (model) + writes",
        "job_overhead_ms": f"    the job less the model's 2 x {MODEL_DELAY:g} s",
        "server_ms": "received_at -> ready_at (server clocks)",
    }
    rows = [
        (names[key], leg["n"], _ms(leg["p50_ms"]), _ms(leg["p90_ms"]), _ms(leg["max_ms"]))
        for key, leg in summary["legs"].items()
    ]
    model = summary["draft_model"]
    rows.append(
        (
            "the draft's model call (Draft.latency_ms)",
            model["n"],
            _ms(model["p50_ms"]),
            _ms(model["p90_ms"]),
            _ms(model["max_ms"]),
        )
    )
    print(report.table(("leg", "n", "p50 ms", "p90 ms", "max ms"), rows, align="<>>>>"))
    drafts = ", ".join(f"{k} {v}" for k, v in sorted(summary["drafts"].items()))
    read = ", ".join(f"{k} {v}" for k, v in sorted(summary["classified_by"].items()))
    print(
        f"\ndrafts: {drafts}; read by: {read}; model calls {result['model_calls']} "
        f"(expected {2 * result['replies']}: classify + draft), prompt-cache reads "
        f"{result['model_cache_reads']}, at most {result['model_peak_concurrency']} at once; "
        f"failed jobs {result['failed_jobs']}"
    )
    for reason, count in summary["fallbacks"].items():
        print(f"! template fallback x{count}: {reason}")
    sys.stdout.flush()


def print_accuracy(result: dict) -> None:
    """Part 3: the rules on the labeled set."""
    print(
        f"\n== 3. Rules-only classification: {result['n']} labeled replies "
        f"({classify_eval.LABELED.relative_to(ROOT)}) ==\n"
    )
    rows = [
        (
            row["label"],
            row["support"],
            row["predicted"],
            row["correct"],
            _pct(row["precision"]),
            _pct(row["recall"]),
            _pct(row["f1"]),
        )
        for row in result["per_label"]
        if row["support"] or row["predicted"]
    ]
    headers = ("label", "support", "predicted", "correct", "precision", "recall", "F1")
    print(report.table(headers, rows))
    print(
        f"\noverall accuracy {_pct(result['accuracy'])}; STOP recall "
        f"{_pct(result['stop_recall'])} (label), {_pct(result['stop_flag_recall'])} "
        f"(opt_out flag); opt_out flagged on {len(result['false_opt_outs'])} replies "
        "labeled otherwise"
    )
    for text_ in result["false_opt_outs"][:5]:
        print(f"! opt_out on a non-STOP reply: {text_!r}")
    if result["confusions"]:
        print("\ncommonest confusions (truth -> rules, count, one example):")
        for c in result["confusions"]:
            print(f"  {c['truth']} -> {c['predicted']}  x{c['count']}  {c['example']!r}")
    sys.stdout.flush()


# ---------------------------------------------------------------------------- main


def run_servers(args, sizes: Sizes, admin_url: str, redis_url: str, folder: Path) -> dict:
    """Parts 1 and 2 on a fresh database; their figures."""
    database_url = create_database(admin_url, DATABASE)
    config = TestConfig(
        {"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(folder / "bench")}
    )
    config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(database_url)
    app = create_app(config)
    conn = redis.Redis.from_url(redis_url)
    result: dict = {"rates": args.rate_list}
    try:
        with (
            app.app_context(),
            AnthropicServer(
                api_key=ANTHROPIC_KEY, delay=MODEL_DELAY, responder=model_reply
            ) as model,
        ):
            progress("migrating (flask db upgrade)")
            with backends._quiet_logging():
                upgrade()
            progress(f"seeding {args.leads:,} leads and {args.sent:,} sent texts")
            seeded = seed_team(db.session, args.leads, args.sent, config.PASSWORD_HASH_METHOD)
            result["seed"] = {"counts": seeded.counts, "seconds": round(seeded.seconds, 2)}
            # The draft run's numbers: texted by the campaign, silent in part 1.
            draft_numbers = seeded.texted[: sizes.drafts]
            reserved = set(draft_numbers)
            conn.flushdb()

            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = console_env(database_url, redis_url, port, folder, model.url)
            client = Client(port)
            phases: list[dict] = []
            traffic = Traffic(url + WEBHOOK, [m for m in seeded.mobiles if m not in reserved])
            progress("1. starting the console under gunicorn")
            with gunicorn("app:create_app()", env, port, args, folder / "console.log") as cmd:
                result["console_command"] = cmd
                if "webhook" in args.part_set:
                    phases, ok = webhook_phases(client, traffic, args.rate_list, sizes, "console")
                    result["traffic"] = {
                        "sent": traffic.kinds.total(),
                        "ok": ok,
                        "kinds": dict(traffic.kinds),
                        "repeats": traffic.repeats,
                    }
                    result["effects"] = webhook_effects(db.session, conn, seeded.team_id)
                    progress("1. counting the SQL of a webhook request (in this process)")
                    result["sql"] = sql_per_webhook(env, traffic, sizes.serial // 2)
                if "drafts" not in args.part_set:
                    return _with_bare(result, phases, args, sizes, env, folder, seeded.mobiles)
                progress(f"2. starting {args.draft_workers} RQ workers")
                # Part 1's reading jobs are dropped (no worker was meant to take them).
                conn.flushdb()
                with rq_workers(args.draft_workers, env, folder, conn):
                    progress(f"2. {sizes.drafts} replies at {args.draft_rate:g}/s")
                    drafts = time_drafts(
                        client, traffic, draft_numbers, args.draft_rate, conn, model
                    )
                drafts["summary"] = summarize_drafts(drafts)
                result["drafts"] = drafts
            if "webhook" not in args.part_set:
                return result
            return _with_bare(result, phases, args, sizes, env, folder, seeded.mobiles)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        backends._drop_database(admin_url, DATABASE)


def _with_bare(
    result: dict, phases: list[dict], args, sizes: Sizes, env: dict, folder: Path, mobiles: list
) -> dict:
    """Part 1's limit: the bare Flask app under the same gunicorn command, after the
    console (on the same port); `result` with every phase."""
    bare_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    port = int(urlsplit(env["PUBLIC_BASE_URL"]).port)
    progress("1. starting the bare Flask app under gunicorn")
    with gunicorn(
        "tests.bench.replies:bare_app()", bare_env, port, args, folder / "bare.log"
    ) as cmd:
        result["bare_command"] = cmd
        bare = Traffic(f"http://127.0.0.1:{port}{WEBHOOK}", mobiles, "replies:bare")
        phases += webhook_phases(Client(port), bare, args.rate_list, sizes, "bare")[0]
    result["phases"] = phases
    return result


def main(
    argv: list[str] | None = None,
    postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None = None,
) -> int:
    """Run the three parts; print figures, optionally write JSON."""
    args = parse_args(argv)
    base = QUICK if args.quick else FULL
    sizes = Sizes(
        args.seconds or base.seconds, base.warmup, args.drafts or base.drafts, base.serial
    )
    started = time.perf_counter()
    output: dict = {
        "machine": report.machine(),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
    }
    folder = Path(tempfile.mkdtemp(prefix="console-bench-replies-"))
    with ExitStack() as stack:
        found = campaigns.services(stack, postgres_server)
        if found is None:
            return 2
        redis_url, redis_source = found.redis_url, found.redis_source
        postgres_url, postgres = found.postgres_url, found.postgres
        output["machine"]["postgres"] = postgres
        print_header(output["machine"], postgres, redis_source, args, sizes)
        for wrong in misread_mix():
            print(f"! the traffic mix: {wrong}")
        if args.part_set & {"webhook", "drafts"}:
            output["servers"] = run_servers(
                args, sizes, postgres_url, own_redis_db(redis_url), folder
            )
    if "webhook" in args.part_set:
        print_webhooks(output["servers"])
    if "drafts" in args.part_set:
        print_drafts(output["servers"]["drafts"])
    if "accuracy" in args.part_set:
        progress("3. rules-only classification of the labeled set")
        output["accuracy"] = rules_accuracy(classify_eval.load_labeled())
        print_accuracy(output["accuracy"])
    print(f"\nlogs of the servers and workers: {folder}")
    report.finish(output, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
