"""`python -m tests.bench campaigns`: draft, preview, approve and send a 2,000-text batch.

For each backend (SQLite in a temporary file, PostgreSQL on a throwaway server when one
can be started) it migrates a fresh database and seeds one team whose leads all have an
owner and most a mobile (some verified, some never checked, a few VoIP), in a mix of
states (TX, FL, CA, NY, RI, GA, PA) with area codes to match, and a two-variant opener
full of tokens. Leads come in pools, one tag a pool, one campaign a pool. Then:

1. `batches.generate` drafts the first pool's batch (2,000 texts), timed directly.
2. An operator signed in through the Flask test client opens the batch's queue page
   (`GET /campaigns/batches/<id>`, and with `?filter=flagged` and `?page=20`) 50 times
   each after two warm-ups: p50 and p95 server time.
3. A manager approves every draft (`batches.approve`), timed.
4. One dispatcher (`dispatch.run` in this process, a long time slice) sends that batch
   through `TwilioTransport` and the official SDK to `tests.fakeservers.TwilioServer`
   answering at once, then a second pool's batch with the fake answering in 50 ms;
   callbacks off, a real Redis limiter at 10,000 messages a second so it never binds,
   a fixed clock at noon Central on a coming Tuesday and the team's window every day
   00:00-23:59 so nothing is held. The transport and the limiter are wrapped to time
   the calls, so the overhead of a message is its share of the wall time outside
   `transport.send`. Exactly once: the fake's created messages equal the texts sent.
5. Two OS processes (spawned) each run a dispatcher on a batch of their own, both from
   one sender allowed 10 messages a second, against one fake in this process: the
   achieved rate is messages / (last - first creation at the fake), and the busiest
   one-second window is counted. SQLite runs it too (WAL, one process per batch). The
   two processes are spawned before anything is timed, since importing the console
   takes seconds, and serve both backends.

Figures print as markdown tables beside the aims (a 2,000-text batch drafted in under
10 s, the preview's p95 under 150 ms, one worker's overhead at most 2 ms a message, issue 21);
whatever misses its aim is run again under cProfile, on a fresh batch where it needs
one, and the top 15 functions by cumulative time are printed (with the console's own
functions and the top by own time beside them). `--quick` shrinks every size for a
smoke run. It prints figures; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import multiprocessing
import os
import pstats
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import (
    Batch,
    Business,
    Campaign,
    Lead,
    Message,
    MessageTemplate,
    Owner,
    Phone,
    Sender,
    User,
)
from console.providers.messaging import TwilioTransport
from console.providers.twilio_client import make_client
from console.services.campaigns import batches, campaigns
from console.services.lists.business_fields import normalized_business_name
from console.services.lists.leads import allocate_codes
from console.services.sending import dispatch, quiethours
from console.services.sending.policy import SendingSettings
from console.services.sending.ratelimit import sender_limiter
from tests.bench import backends, report, seed
from tests.bench.render import WARMUP, SqlRecorder, signed_in_client
from tests.bench.stats import summarize
from tests.fakeservers import TwilioServer
from tests.servers import RedisServer, create_database

DATABASE = "console_bench_campaigns"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "bench-campaigns-token"
FAST_NUMBER = "+15125550100"
RATED_NUMBER = "+15125550101"
# The dispatch benchmark's limiter: high enough never to bind.
HIGH_MPS = 10_000.0
# The rate-limit benchmark's sender, shared by both worker processes.
RATED_MPS = 10.0
SLOW_LATENCY = 0.05
TIME_SLICE = 3600.0
# The aims the issue sets.
AIM_MESSAGES = 2_000
AIM_BATCH_SECONDS = 10.0
AIM_PREVIEW_P95_MS = 150.0
AIM_OVERHEAD_MS = 2.0
PROFILE_TOP = 15
PROFILE_OWN_TOP = 10
# Statements shown for each page and for a dispatcher's run.
SLOWEST_SHOWN = 3
# Profiled frames that only wrap the code under test (see `profiled`).
HARNESS = (
    "tests/bench/",
    "werkzeug/test.py",
    "flask/testing.py",
    "flask/app.py",
    "flask_login/utils.py",
    "console/web.py:39(wrapped)",
    "<method 'run' of '_contextvars.Context' objects>",
)
# The console's own code (templates compile to functions named after their files).
PROJECT = ("console/", "jobs/", "templates/")
# Leads seeded per text wanted: some are closed or have no textable mobile.
LEADS_PER_TEXT = 1.25
QUEUE_PATHS = (
    ("queue, page 1", ""),
    ("queue, flagged", "?filter=flagged"),
    ("queue, page 20", "?page=20"),
)
CENTRAL = ZoneInfo("America/Chicago")
OPENER_A = (
    "Hi {firstName|there}, {senderName} here. Have you thought about selling "
    "{companyName}? We buy {industry|local} businesses around {city}. Reply STOP to opt out"
)
OPENER_B = (
    "Hello {firstName|there}! Would you consider an offer for {companyName|your business} "
    "in {state}? Reply STOP to opt out"
)
NUDGE = "{firstName|Hi}, just checking back about {companyName}. Reply STOP to opt out"
# (state, [(city, zip, county)], area codes, weight): every number's area code is in
# its business's state, so the quiet-hours check sees one zone.
STATES = (
    ("TX", [("Austin", "78701", "Travis"), ("Houston", "77002", "Harris")], ("512", "713"), 30),
    ("FL", [("Miami", "33130", "Miami-Dade"), ("Tampa", "33602", "Hillsborough")],
     ("305", "813"), 15),
    ("CA", [("San Diego", "92101", "San Diego"), ("Oakland", "94612", "Alameda")],
     ("619", "510"), 15),
    ("NY", [("Brooklyn", "11201", "Kings"), ("Buffalo", "14202", "Erie")], ("718", "716"), 15),
    ("RI", [("Providence", "02903", "Providence")], ("401",), 5),
    ("GA", [("Atlanta", "30303", "Fulton")], ("404",), 10),
    ("PA", [("Philadelphia", "19103", "Philadelphia")], ("215",), 10),
)  # fmt: skip
CARRIERS = ("Verizon Wireless", "T-Mobile USA, Inc.", "AT&T Wireless")


@dataclass(frozen=True)
class Sizes:
    """How big each part of the run is."""

    messages: int  # the batch drafted, previewed, approved and sent at 0 ms
    requests: int  # timed requests per queue page
    slow_messages: int  # the batch sent with Twilio answering in 50 ms
    rate_messages: int  # each worker's batch in the rate-limit run
    profile_requests: int
    profile_messages: int  # the batch a missed dispatch aim is profiled on


FULL = Sizes(2_000, 50, 500, 150, 10, 300)
QUICK = Sizes(60, 5, 10, 10, 1, 10)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench campaigns",
        description="Draft, preview, approve and send a campaign batch; print the figures.",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="database to run on; both = SQLite, then PostgreSQL when available (default)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run: {QUICK.messages} texts, {QUICK.requests} requests a page, "
        f"{QUICK.slow_messages} slow sends, {QUICK.rate_messages} per rate-limited worker",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile figures that miss their aim"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    return parser.parse_args(argv)


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """A progress note on stderr, with the seconds since the benchmark started."""
    backends.progress(f"{time.perf_counter() - _STARTED:6.1f} s  {message}")


# --------------------------------------------------------------------------- seeding


def next_tuesday_noon(states: list[str]) -> datetime:
    """Noon Central on the first Tuesday after today that is no holiday in any of `states`."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    while day.weekday() != 1 or any(
        day in quiethours.holidays(day.year, state) for state in [None, *states]
    ):
        day += timedelta(days=1)
    return datetime.combine(day, wall_time(12), tzinfo=CENTRAL).astimezone(UTC)


def pool_rows(
    team_id: int, codes: list[str], tag: str, start_ids: dict[str, int], rng: random.Random
) -> dict[str, list[dict]]:
    """Leads tagged `tag`, each with a business and an owner; most with a mobile.

    Every 20th lead has only an office landline and every 25th is closed, so about 91%
    can be texted. Mobiles: 55% verified, 35% never checked, 10% VoIP. One owner in
    ten has no first name, so the opener falls back to "there".
    """
    ids = dict(start_ids)
    rows: dict[str, list[dict]] = {"businesses": [], "owners": [], "phones": [], "leads": []}
    weights = [w for *_rest, w in STATES]
    long_ago = datetime.now(UTC) - timedelta(days=90)
    for n, code in enumerate(codes):
        state, places, areas, _weight = rng.choices(STATES, weights)[0]
        city, zip_code, county = rng.choice(places)
        trade, sic, industry = rng.choice(seed.TRADES)
        name = " ".join(
            p for p in (rng.choice(seed.PREFIXES), trade, rng.choice(seed.SUFFIXES)) if p
        )
        business_id, owner_id = ids["businesses"], ids["owners"]
        rows["businesses"].append(
            {
                "id": business_id,
                "team_id": team_id,
                "name": name,
                "normalized_name": normalized_business_name(name),
                "street": f"{rng.randint(100, 9999)} {rng.choice(seed.STREETS)}",
                "city": city,
                "state": state,
                "zip": zip_code,
                "county": county,
                "sic_code": sic,
                "naics_code": "",
                "industry": industry,
            }
        )
        first, last = rng.choice(seed.FIRST_NAMES), rng.choice(seed.LAST_NAMES)
        if rng.random() < 0.1:
            first = ""
        rows["owners"].append(
            {
                "id": owner_id,
                "team_id": team_id,
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}".strip(),
                "title": "Owner",
            }
        )
        area = rng.choice(areas)
        # A distinct number a phone row: the id picks the exchange and line.
        e164 = f"+1{area}{2_000_000 + ids['phones']:07d}"
        if n % 20 == 7:
            phone = {"owner_id": None, "business_id": business_id, "kind": "office"}
            phone |= {"line_type": "landline", "textable": False, "carrier": "", "validated": True}
        else:
            check = rng.random()
            phone = {"owner_id": owner_id, "business_id": None, "kind": "mobile"}
            if check < 0.55:
                phone |= {"line_type": "mobile", "textable": True, "validated": True}
            elif check < 0.90:
                phone |= {"line_type": "", "textable": None, "validated": False}
            else:
                phone |= {"line_type": "nonFixedVoip", "textable": True, "validated": True}
            phone["carrier"] = rng.choice(CARRIERS) if phone["validated"] else ""
        validated = phone.pop("validated")
        rows["phones"].append(
            {
                "id": ids["phones"],
                "team_id": team_id,
                "e164": e164,
                "extension": "",
                "source": seed.SOURCE,
                "validated_at": long_ago if validated else None,
                **phone,
            }
        )
        status = rng.choice(("new", "new", "new", "ready", "contacted"))
        if n % 25 == 3:
            status = rng.choice(("do_not_contact", "not_interested", "deal"))
        rows["leads"].append(
            {
                "id": ids["leads"],
                "team_id": team_id,
                "code": code,
                "business_id": business_id,
                "owner_id": owner_id,
                "status": status,
                "quality_score": rng.randint(20, 99),
                "priority": rng.choice((None, 1, 2, 3)),
                "tags": [tag],
                "custom_fields": {},
                "provenance": {"source": seed.SOURCE, "file": f"{tag}.csv"},
                "last_contacted_at": long_ago if status == "contacted" else None,
            }
        )
        for key in ("businesses", "owners", "phones", "leads"):
            ids[key] += 1
    return rows


def seed_pool(session, team_id: int, leads: int, tag: str) -> dict[str, int]:
    """Insert a pool of `leads` leads tagged `tag`; commit; the rows by table."""
    codes = allocate_codes(session, team_id, leads)
    conn = session.connection()
    tables = {
        "businesses": Business.__table__,
        "owners": Owner.__table__,
        "phones": Phone.__table__,
        "leads": Lead.__table__,
    }
    start_ids = {name: seed._next_id(conn, table) for name, table in tables.items()}
    rows = pool_rows(team_id, codes, tag, start_ids, random.Random(f"{tag}:{leads}"))
    for name, table in tables.items():
        seed._bulk_insert(conn, table, rows[name])
    if conn.dialect.name == "postgresql":
        for name in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    session.commit()
    counts = {name: len(r) for name, r in rows.items()}
    counts["mobiles"] = sum(1 for p in rows["phones"] if p["kind"] == "mobile")
    counts["verified"] = sum(1 for p in rows["phones"] if p["line_type"] == "mobile")
    counts["unchecked"] = sum(
        1 for p in rows["phones"] if p["kind"] == "mobile" and not p["line_type"]
    )
    return counts


@dataclass
class Outreach:
    """The benchmark team: its users, template, two senders."""

    team_id: int
    operator_email: str
    manager_id: int
    template_id: int
    nudge_id: int
    fast_sender_id: int
    rated_sender_id: int


def setup_team(session, hash_method: str) -> Outreach:
    """The team, its users, sending window open all day every day, a two-variant opener,
    a follow-up, a sender at HIGH_MPS and one at RATED_MPS; committed."""
    team, operator_email = seed.create_team(session, hash_method)
    settings = SendingSettings.of(team)
    settings.window_start, settings.window_end = "00:00", "23:59"
    settings.window_days = list(range(7))
    settings.save(team)
    template = MessageTemplate(
        team_id=team.id, name="Bench opener", body=OPENER_A, variants=[OPENER_B]
    )
    nudge = MessageTemplate(
        team_id=team.id, name="Bench nudge", body=NUDGE, touch="follow_up", category="follow_up"
    )
    fast = Sender(
        team_id=team.id, label="Bench line", kind="number", address=FAST_NUMBER, mps=HIGH_MPS
    )
    rated = Sender(
        team_id=team.id, label="Rated line", kind="number", address=RATED_NUMBER, mps=RATED_MPS
    )
    session.add_all([template, nudge, fast, rated])
    session.flush()
    manager = session.scalars(
        select(User).where(User.team_id == team.id, User.email.like("manager@%"))
    ).one()
    outreach = Outreach(
        team.id, operator_email, manager.id, template.id, nudge.id, fast.id, rated.id
    )
    session.commit()
    return outreach


def pooled_campaign(
    session, outreach: Outreach, tag: str, texts: int, sender_id: int | None = None
) -> tuple[int, dict[str, int]]:
    """Seed a pool for `texts` texts and a campaign over it (A/B 50/50, one follow-up)."""
    counts = seed_pool(session, outreach.team_id, math.ceil(texts * LEADS_PER_TEXT), tag)
    campaign = Campaign(
        team_id=outreach.team_id,
        name=f"Bench {tag}",
        criteria=campaigns.Criteria(tags=[tag]).as_dict(),
        recent_contact_days=30,
        template_id=outreach.template_id,
        split={"A": 50, "B": 50},
        sender_id=sender_id or outreach.fast_sender_id,
        batch_size=texts,
        touches=[{"after_days": 3, "template_id": outreach.nudge_id}],
    )
    session.add(campaign)
    session.commit()
    return campaign.id, counts


def new_batch(session, campaign_id: int) -> int:
    """A batch of the campaign waiting to be generated; committed."""
    batch = batches.create_batch(session, session.get(Campaign, campaign_id), None)
    session.commit()
    return batch.id


def approve_all(session, batch_id: int, manager_id: int) -> int:
    """The manager approves every draft of the batch; committed."""
    count = batches.approve(session, session.get(Batch, batch_id), session.get(User, manager_id))
    session.commit()
    return count


def drafted_and_approved(session, outreach: Outreach, tag: str, texts: int, sender_id=None):
    """A pool, its campaign and its batch, generated and approved: the batch id and size."""
    campaign_id, _counts = pooled_campaign(session, outreach, tag, texts, sender_id)
    batch_id = new_batch(session, campaign_id)
    batches.generate(session, batch_id)
    approve_all(session, batch_id, outreach.manager_id)
    return batch_id, session.get(Batch, batch_id).size


# -------------------------------------------------------------------------- timing


class TimedTransport:
    """The transport, with the time spent inside `send` added up."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0

    def send(self, **kwargs):
        """Send through the real transport, timing the call."""
        started = time.perf_counter()
        try:
            return self.inner.send(**kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1

    def find(self, **kwargs):
        """Look up through the real transport."""
        return self.inner.find(**kwargs)


class TimedLimiters:
    """Per-sender Redis limiters, with the time spent acquiring added up."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.seconds = 0.0

    def __call__(self, sender: Sender):
        """The sender's limiter (as jobs.sending builds it), wrapped."""
        limiter = sender_limiter(self.conn, sender.id, sender.mps)
        outer = self

        class Timed:
            def acquire(self, max_wait: float | None = None) -> float:
                """Wait for a slot as the sender's limiter does, timing the wait."""
                started = time.perf_counter()
                try:
                    return limiter.acquire(max_wait=max_wait)
                finally:
                    outer.seconds += time.perf_counter() - started

        return Timed()


@contextmanager
def sql_time(engine) -> Iterator[SqlRecorder]:
    """Statements the engine runs during the block, and their time in cursor.execute."""
    recorder = SqlRecorder(engine)
    recorder.recording = True
    try:
        yield recorder
    finally:
        recorder.recording = False
        recorder.close()


def profiled(call: Callable[[], object]) -> dict[str, list[tuple]]:
    """Run `call` under cProfile: the top functions by cumulative and by own time.

    Frames of the harness (this benchmark, the test client, Flask's request plumbing,
    the sign-in decorators) wrap everything and say nothing, so they are left out.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        call()
    finally:
        profiler.disable()
    entries = []
    for (path, line, name), (primitive, calls, own, cumulative, _callers) in pstats.Stats(
        profiler
    ).stats.items():
        where = _where(path, line, name)
        if where.startswith(HARNESS):
            continue
        count = str(calls) if calls == primitive else f"{calls}/{primitive}"
        entries.append((count, own, cumulative, where))
    by_cumulative = sorted(entries, key=lambda e: e[2], reverse=True)
    ours = [e for e in by_cumulative if e[3].startswith(PROJECT)]
    by_own = sorted(entries, key=lambda e: e[1], reverse=True)

    def rows(ranked: list[tuple], top: int) -> list[tuple]:
        return [(c, f"{own:.3f}", f"{cum:.3f}", w) for c, own, cum, w in ranked[:top]]

    return {
        "total_seconds": round(sum(e[1] for e in entries), 3),
        "cumulative": rows(by_cumulative, PROFILE_TOP),
        "project": rows(ours, PROFILE_TOP),
        "own": rows(by_own, PROFILE_OWN_TOP),
    }


def _where(path: str, line: int, name: str) -> str:
    """A function's place, its path cut to the project or the installed package."""
    if path == "~":
        return name  # a built-in
    for marker in ("site-packages/", str(Path.cwd()) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = re.sub(r"^.*/lib/python3\.\d+/", "", path)  # the standard library
    return f"{path}:{line}({name})"


# ------------------------------------------------------------------------- the steps


def time_generate(session, campaign_id: int) -> dict:
    """Step 1: generate the campaign's first batch; seconds, size, flags, exclusions."""
    batch_id = new_batch(session, campaign_id)
    with sql_time(session.get_bind()) as sql:
        started = time.perf_counter()
        batch = batches.generate(session, batch_id)
        seconds = time.perf_counter() - started
    flagged = session.scalar(
        select(func.count(Message.id)).where(
            Message.batch_id == batch_id, func.json_array_length(Message.flags) > 0
        )
    )
    return {
        "batch_id": batch_id,
        "size": batch.size,
        "seconds": round(seconds, 2),
        "statements": sql.statements,
        "sql_seconds": round(sql.seconds, 2),
        "flagged": flagged,
        "flag_counts": dict(batches.flag_counts(session, batch)),
        "excluded": dict(batch.excluded or {}),
    }


def time_preview(app, outreach: Outreach, batch_id: int, requests: int) -> list[dict]:
    """Step 2: the queue page as the operator sees it, `requests` times a path."""
    client = signed_in_client(app, outreach.operator_email, seed.PASSWORD)
    results = []
    for label, query in QUEUE_PATHS:
        path = f"/campaigns/batches/{batch_id}{query}"
        for _ in range(WARMUP):
            _get(client, path)
        ms, statements, sql_ms = [], [], []
        size = 0
        with sql_time(db.engine) as recorder:
            for _ in range(requests):
                recorder.reset()
                started = time.perf_counter()
                response = _get(client, path)
                ms.append((time.perf_counter() - started) * 1000)
                statements.append(recorder.statements)
                sql_ms.append(recorder.seconds * 1000)
                size = len(response.data)
        results.append(
            {
                "label": label,
                "path": path,
                **summarize(ms),
                "statements": round(sum(statements) / len(statements), 1),
                "sql_mean_ms": round(sum(sql_ms) / len(sql_ms), 2),
                "kib": round(size / 1024, 1),
                "slowest": heaviest_statements(recorder, requests, SLOWEST_SHOWN),
            }
        )
    return results


def heaviest_statements(recorder: SqlRecorder, per: int, top: int) -> list[dict]:
    """The statements with the most time in cursor.execute, per request or per text."""
    ranked = sorted(recorder.by_statement.items(), key=lambda item: sum(item[1]), reverse=True)
    return [
        {
            "ms": round(sum(times) * 1000 / per, 2),
            "runs": round(len(times) / per, 2),
            "sql": short_sql(sql),
        }
        for sql, times in ranked[:top]
    ]


def short_sql(sql: str, width: int = 160) -> str:
    """A statement with its column lists elided and its middle cut to fit `width`."""
    sql = re.sub(r"SELECT (?:(?!SELECT|FROM).){40,}? FROM", "SELECT … FROM", sql)
    if len(sql) <= width:
        return sql
    head = width * 2 // 5
    return f"{sql[:head]} … {sql[-(width - head - 3) :]}"


def _get(client, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response


def time_approve(session, batch_id: int, manager_id: int) -> dict:
    """Step 3: the manager approves every draft; milliseconds, with the commit."""
    started = time.perf_counter()
    count = approve_all(session, batch_id, manager_id)
    return {"approved": count, "ms": round((time.perf_counter() - started) * 1000, 1)}


def time_dispatch(
    session, batch_id: int, server: TwilioServer, conn, clock: datetime, latency: float
) -> dict:
    """Step 4: one dispatcher sends the batch; throughput, overhead, exactly once."""
    server.reset()
    server.latency = latency
    conn.delete(*conn.keys("console:rate:*") or ["-"])
    transport = TimedTransport(_transport(server.url))
    limiters = TimedLimiters(conn)
    options = dispatch.DispatchOptions(
        transport=transport, limiter_for=limiters, clock=lambda: clock, time_slice=TIME_SLICE
    )
    with sql_time(session.get_bind()) as sql:
        started = time.perf_counter()
        outcome = dispatch.run(session, batch_id, options)
        wall = time.perf_counter() - started
    session.expire_all()
    by_status = dict(
        session.execute(
            select(Message.status, func.count(Message.id))
            .where(Message.batch_id == batch_id)
            .group_by(Message.status)
        ).all()
    )
    with server.lock:
        created = list(server.created)
    sids = {c["sid"] for c in created}
    recorded = set(
        session.scalars(select(Message.provider_sid).where(Message.batch_id == batch_id))
    )
    sent = outcome.sent
    return {
        "latency_ms": round(latency * 1000),
        "report": outcome.sentence(),
        "sent": sent,
        "held": outcome.held,
        "blocked": outcome.blocked,
        "failed": outcome.failed,
        "by_status": by_status,
        "wall_seconds": round(wall, 2),
        "per_second": round(sent / wall, 1) if wall else 0.0,
        "ms_per_message": round(wall / sent * 1000, 2) if sent else None,
        "send_ms": round(transport.seconds / sent * 1000, 2) if sent else None,
        "limiter_ms": round(limiters.seconds / sent * 1000, 2) if sent else None,
        "overhead_ms": round((wall - transport.seconds) / sent * 1000, 2) if sent else None,
        "sql_ms": round(sql.seconds / sent * 1000, 2) if sent else None,
        "statements_per_message": round(sql.statements / sent, 1) if sent else None,
        "heaviest": heaviest_statements(sql, max(sent, 1), SLOWEST_SHOWN),
        "created": len(created),
        "distinct_to": len({c["to"] for c in created}),
        "exactly_once": len(created) == sent == len(sids) and sids <= recorded,
    }


def _transport(url: str) -> TwilioTransport:
    return TwilioTransport(make_client(ACCOUNT_SID, AUTH_TOKEN, base_url=url, timeout=10.0))


def bench_config(instance: Path, database_uri: str) -> TestConfig:
    """The app's settings for a run: a file or server database, the instance folder."""
    config = TestConfig({"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)})
    config.SQLALCHEMY_DATABASE_URI = database_uri
    return config


def rate_worker(jobs, barrier, results) -> None:
    """A spawned process's loop: for each job, send one batch as the dispatcher job would.

    A job is a dict (instance, database_uri, batch_id, twilio_url, redis_url, clock);
    every worker prepares, meets the others at `barrier`, and sends; None ends the loop.
    """
    results.put({"ready": os.getpid()})
    while (job := jobs.get()) is not None:
        try:
            results.put(_send_one_batch(job, barrier))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which prints it
            results.put({"batch_id": job["batch_id"], "pid": os.getpid(), "error": repr(exc)[:500]})


def _send_one_batch(job: dict, barrier) -> dict:
    app = create_app(bench_config(Path(job["instance"]), job["database_uri"]))
    clock = datetime.fromisoformat(job["clock"])
    conn = redis.Redis.from_url(job["redis_url"])
    with app.app_context():
        options = dispatch.DispatchOptions(
            transport=_transport(job["twilio_url"]),
            limiter_for=lambda sender: sender_limiter(conn, sender.id, sender.mps),
            clock=lambda: clock,
            time_slice=TIME_SLICE,
        )
        db.session.execute(text("SELECT 1"))  # connected before the start
        db.session.commit()
        barrier.wait(120)
        started = time.monotonic()
        outcome = dispatch.run(db.session, job["batch_id"], options)
        seconds = time.monotonic() - started
        db.session.remove()
        db.engine.dispose()
    return {
        "batch_id": job["batch_id"],
        "pid": os.getpid(),
        "sent": outcome.sent,
        "report": outcome.sentence(),
        "seconds": round(seconds, 2),
    }


class RateWorkers:
    """Worker processes for step 5, spawned once and reused by every backend.

    Importing the console takes a few seconds a process, so they start before anything
    is timed (while PostgreSQL initializes) and are ready when their turn comes.
    """

    def __init__(self, count: int = 2) -> None:
        context = multiprocessing.get_context("spawn")
        self.jobs = [context.Queue() for _ in range(count)]
        self.results = context.Queue()
        self.barrier = context.Barrier(count + 1)
        self.processes = [
            context.Process(
                target=rate_worker,
                args=(jobs, self.barrier, self.results),
                name=f"bench-dispatch-{n}",
                daemon=True,
            )
            for n, jobs in enumerate(self.jobs, start=1)
        ]
        for process in self.processes:
            process.start()
        self._ready = False

    def wait_ready(self, timeout: float = 180) -> None:
        """Block until every worker has imported the console."""
        if not self._ready:
            for _ in self.processes:
                self.results.get(timeout=timeout)
            self._ready = True

    def run(self, jobs: list[dict]) -> list[dict]:
        """Give each worker a job, start them together, and collect what they report."""
        self.wait_ready()
        for queue, job in zip(self.jobs, jobs, strict=True):
            queue.put(job)
        try:
            self.barrier.wait(180)
        except threading.BrokenBarrierError:
            self.barrier.reset()  # a worker failed before the start: its error follows
        return [self.results.get(timeout=600) for _ in jobs]

    def stop(self) -> None:
        """End the workers' loops and wait for them."""
        for queue in self.jobs:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


def time_rate_limit(
    workers: RateWorkers, instance: Path, database_uri: str, batch_ids: list[int],
    numbers: dict[int, set[str]], server: TwilioServer, redis_url: str, clock: datetime,
) -> dict:  # fmt: skip
    """Step 5: two worker processes, one batch each, one sender at RATED_MPS."""
    server.reset()
    server.latency = 0.0
    conn = redis.Redis.from_url(redis_url)
    conn.delete(*conn.keys("console:rate:*") or ["-"])
    job = {
        "instance": str(instance),
        "database_uri": database_uri,
        "twilio_url": server.url,
        "redis_url": redis_url,
        "clock": clock.isoformat(),
    }
    done = workers.run([{**job, "batch_id": batch_id} for batch_id in batch_ids])
    with server.lock:
        created = sorted(server.created, key=lambda c: c["at"])
    stamps = [c["at"] for c in created]
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    per_worker = []
    for batch_id in batch_ids:
        own = [c["at"] for c in created if c["to"] in numbers[batch_id]]
        per_worker.append(
            {
                "batch_id": batch_id,
                "created": len(own),
                "first_s": round(own[0] - stamps[0], 2) if own else None,
                "last_s": round(own[-1] - stamps[0], 2) if own else None,
            }
        )
    sent = sum(d.get("sent", 0) for d in done)
    return {
        "workers": done,
        "per_worker": per_worker,
        "errors": [d["error"] for d in done if "error" in d],
        "sent": sent,
        "created": len(created),
        "exactly_once": len(created) == sent == len({c["sid"] for c in created}),
        "span_seconds": round(span, 3),
        "achieved_mps": round(len(stamps) / span, 2) if span else None,
        "interval_mps": round((len(stamps) - 1) / span, 2) if span else None,
        "busiest_window": busiest_window(stamps),
        "min_gap_ms": round(min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) * 1000, 1)
        if len(stamps) > 1
        else None,
    }


def busiest_window(stamps: list[float], width: float = 1.0) -> int:
    """The most timestamps in any window [t, t + width) of the sorted `stamps`."""
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def batch_numbers(session, batch_id: int) -> set[str]:
    """The numbers a batch texts."""
    return set(session.scalars(select(Message.to_e164).where(Message.batch_id == batch_id)))


# ------------------------------------------------------------------------- one backend


def database_uri(backend: str, instance: Path, postgres_url: str | None) -> str:
    """A fresh database for the run: a SQLite file, or a new database on the server."""
    if backend == "postgres":
        return _sqlalchemy_url(create_database(postgres_url, DATABASE))
    return f"sqlite:///{instance / 'bench.db'}"


def run_backend(
    backend: str,
    sizes: Sizes,
    postgres_url: str | None,
    redis_url: str,
    workers: RateWorkers,
    profile: bool,
) -> dict:
    """Every step on one backend, in a fresh database; the figures and any profiles."""
    instance = Path(tempfile.mkdtemp(prefix=f"console-bench-campaigns-{backend}-"))
    uri = database_uri(backend, instance, postgres_url)
    app = create_app(bench_config(instance, uri))
    result: dict = {"backend": backend, "profiles": {}}
    conn = redis.Redis.from_url(redis_url)
    clock = next_tuesday_noon([s for s, *_ in STATES])
    result["clock"] = clock.isoformat()
    try:
        with app.app_context(), TwilioServer(ACCOUNT_SID, AUTH_TOKEN, callbacks=False) as server:
            session = db.session
            progress(f"{backend}: migrating (flask db upgrade)")
            started = time.perf_counter()
            with backends._quiet_logging():
                upgrade()
            result["migrate_seconds"] = round(time.perf_counter() - started, 2)
            if backend == "postgres":
                result["server_version"] = session.scalar(text("SHOW server_version"))
            outreach = setup_team(session, app.config["PASSWORD_HASH_METHOD"])
            progress(f"{backend}: seeding {sizes.messages * LEADS_PER_TEXT:,.0f} leads")
            started = time.perf_counter()
            campaign_id, counts = pooled_campaign(session, outreach, "pool-main", sizes.messages)
            result["seed"] = {"counts": counts, "seconds": round(time.perf_counter() - started, 2)}
            seed.analyze(db.engine)

            progress(f"{backend}: 1. generating the batch")
            generated = time_generate(session, campaign_id)
            result["generate"] = generated
            batch_id = generated["batch_id"]
            session.remove()

            progress(f"{backend}: 2. timing the queue page ({sizes.requests} each)")
            result["preview"] = time_preview(app, outreach, batch_id, sizes.requests)
            result["pages"] = max(1, math.ceil(generated["size"] / batches.PAGE_SIZE))

            progress(f"{backend}: 3. approving every draft")
            result["approve"] = time_approve(session, batch_id, outreach.manager_id)

            progress(f"{backend}: 4. one worker, Twilio at 0 ms")
            fast = time_dispatch(session, batch_id, server, conn, clock, 0.0)
            progress(f"{backend}: 4. one worker, Twilio at 50 ms")
            slow_id, _size = drafted_and_approved(
                session, outreach, "pool-slow", sizes.slow_messages
            )
            slow = time_dispatch(session, slow_id, server, conn, clock, SLOW_LATENCY)
            result["dispatch"] = [fast, slow]

            progress(f"{backend}: 5. two workers, one sender at {RATED_MPS:g} MPS")
            rated = [
                drafted_and_approved(
                    session, outreach, f"pool-rate-{n}", sizes.rate_messages,
                    outreach.rated_sender_id,
                )[0]
                for n in (1, 2)
            ]  # fmt: skip
            numbers = {b: batch_numbers(session, b) for b in rated}
            session.remove()
            try:
                result["rate_limit"] = time_rate_limit(
                    workers, instance, uri, rated, numbers, server, redis_url, clock
                )
            except Exception as exc:  # noqa: BLE001 - e.g. SQLite refusing two writers
                result["rate_limit"] = {"errors": [repr(exc)[:500]]}

            if profile:
                result["profiles"] = profile_misses(
                    app, session, outreach, result, sizes, server, conn, clock
                )
            session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgres":
            backends._drop_database(postgres_url, DATABASE)
        shutil.rmtree(instance, ignore_errors=True)
    return result


def profile_misses(app, session, outreach, result, sizes, server, conn, clock) -> dict:
    """cProfile whatever missed its aim, on fresh batches: {what: top-15 rows}."""
    profiles = {}
    aim_seconds = AIM_BATCH_SECONDS * sizes.messages / AIM_MESSAGES
    if result["generate"]["seconds"] >= aim_seconds:
        progress("  profiling batches.generate on a fresh pool")
        campaign_id, _ = pooled_campaign(session, outreach, "pool-profile", sizes.messages)
        batch_id = new_batch(session, campaign_id)
        profiles[f"batches.generate, {sizes.messages:,} texts"] = profiled(
            lambda: batches.generate(session, batch_id)
        )
    worst = max(result["preview"], key=lambda page: page["p95_ms"])
    if worst["p95_ms"] >= AIM_PREVIEW_P95_MS:
        progress(f"  profiling GET {worst['path']}")
        session.remove()
        client = signed_in_client(app, outreach.operator_email, seed.PASSWORD)
        _get(client, worst["path"])
        profiles[f"GET {worst['path']} x{sizes.profile_requests}"] = profiled(
            lambda: [_get(client, worst["path"]) for _ in range(sizes.profile_requests)]
        )
    fast = result["dispatch"][0]
    if fast["overhead_ms"] is not None and fast["overhead_ms"] >= AIM_OVERHEAD_MS:
        progress("  profiling dispatch.run at 0 ms on a fresh batch")
        batch_id, size = drafted_and_approved(
            session, outreach, "pool-profile-send", sizes.profile_messages
        )
        server.reset()
        server.latency = 0.0
        options = dispatch.DispatchOptions(
            transport=_transport(server.url),
            limiter_for=TimedLimiters(conn),
            clock=lambda: clock,
            time_slice=TIME_SLICE,
        )
        profiles[f"dispatch.run, {size:,} texts, Twilio at 0 ms"] = profiled(
            lambda: dispatch.run(session, batch_id, options)
        )
    return profiles


# ------------------------------------------------------------------------- printing


def md_table(headers, rows, align: str = "") -> str:
    """A markdown table; `align` has one `<` or `>` per column (default: first left)."""
    align = align or "<" + ">" * (len(headers) - 1)
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(headers))]

    def line(row) -> str:
        return (
            "| "
            + " | ".join(f"{v:{a}{w}}" for v, a, w in zip(row, align, widths, strict=True))
            + " |"
        )

    rule = (
        "| "
        + " | ".join(
            "-" * (w - 1) + ":" if a == ">" else "-" * w for a, w in zip(align, widths, strict=True)
        )
        + " |"
    )
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _p50_p95(page: dict) -> str:
    return f"{page['p50_ms']:.1f} / {page['p95_ms']:.1f}"


def _once(figures: dict) -> str:
    same = "" if figures["exactly_once"] else " NO"
    return f"{figures['created']:,} = {figures['sent']:,}{same}"


def summary_rows(results: list[dict], sizes: Sizes) -> list[tuple]:
    """(step, figure, one value a backend..., aim) for the figures table."""
    n = sizes.messages

    def each(pick: Callable[[dict], object]) -> list:
        values = []
        for result in results:
            try:
                values.append(pick(result))
            except (KeyError, IndexError, TypeError):  # the step failed; details say why
                values.append("error")
        return values

    aim_seconds = AIM_BATCH_SECONDS * n / AIM_MESSAGES
    rows = [
        (
            "1",
            f"generate a {n:,}-text batch, s",
            *each(lambda r: r["generate"]["seconds"]),
            f"< {aim_seconds:g} s",
        )
    ]
    for i, (label, _query) in enumerate(QUEUE_PATHS):
        rows.append(
            (
                "2",
                f"preview {label}, p50 / p95 ms",
                *each(lambda r, i=i: _p50_p95(r["preview"][i])),
                f"p95 < {AIM_PREVIEW_P95_MS:g} ms",
            )
        )
    rows.append(("3", f"approve all {n:,} drafts, ms", *each(lambda r: r["approve"]["ms"]), ""))
    for i, latency in enumerate((0, round(SLOW_LATENCY * 1000))):
        one = f"one worker, Twilio {latency} ms:"
        rows += [
            ("4", f"{one} texts", *each(lambda r, i=i: r["dispatch"][i]["sent"]), ""),
            ("4", f"{one} texts/s", *each(lambda r, i=i: r["dispatch"][i]["per_second"]), ""),
            ("4", f"{one} ms a text", *each(lambda r, i=i: r["dispatch"][i]["ms_per_message"]), ""),
            (
                "4",
                f"{one} overhead ms a text",
                *each(lambda r, i=i: r["dispatch"][i]["overhead_ms"]),
                f"< {AIM_OVERHEAD_MS:g} ms",
            ),
            (
                "4",
                f"{one} created = sent (exactly once)",
                *each(lambda r, i=i: _once(r["dispatch"][i])),
                "equal",
            ),
        ]
    rated = f"2 workers, 1 sender at {RATED_MPS:g} MPS:"
    rows += [
        ("5", f"{rated} texts", *each(lambda r: r["rate_limit"]["created"]), ""),
        (
            "5",
            f"{rated} achieved MPS = texts / (last - first)",
            *each(lambda r: r["rate_limit"]["achieved_mps"]),
            f"{RATED_MPS:g}",
        ),
        (
            "5",
            f"{rated} busiest 1-s window, texts",
            *each(lambda r: r["rate_limit"]["busiest_window"]),
            f"<= {RATED_MPS:g}",
        ),
        (
            "5",
            f"{rated} created = sent (exactly once)",
            *each(lambda r: _once(r["rate_limit"])),
            "equal",
        ),
    ]
    return rows


def aim_checks(results: list[dict], sizes: Sizes) -> list[tuple[str, str, bool]]:
    """(backend, the aim and the figure in words, met) for each aim and backend."""
    aim_seconds = AIM_BATCH_SECONDS * sizes.messages / AIM_MESSAGES
    checks = []
    for r in results:
        name = NAMES[r["backend"]]
        seconds = r["generate"]["seconds"]
        worst = max(r["preview"], key=lambda page: page["p95_ms"])
        overhead = r["dispatch"][0]["overhead_ms"]
        lean = overhead is not None and overhead < AIM_OVERHEAD_MS
        checks += [
            (name, f"{sizes.messages:,}-text batch drafted in {seconds:.2f} s "
             f"(aim < {aim_seconds:g} s)", seconds < aim_seconds),
            (name, f"preview p95, worst page ({worst['label']}): {worst['p95_ms']:.1f} ms "
             f"(aim < {AIM_PREVIEW_P95_MS:g} ms)", worst["p95_ms"] < AIM_PREVIEW_P95_MS),
            (name, f"one worker's overhead at 0 ms: {overhead} ms a text "
             f"(aim < {AIM_OVERHEAD_MS:g} ms)", lean),
        ]  # fmt: skip
    return checks


def print_summary(results: list[dict], sizes: Sizes) -> list[str]:
    """The figures, the backends side by side, with the aims; returns the misses."""
    print("\n## Figures\n")
    headers = ("step", "figure", *(NAMES[r["backend"]] for r in results), "aim")
    print(md_table(headers, summary_rows(results, sizes), "<<" + ">" * (len(results) + 1)))
    print("\n## Aims\n")
    checks = aim_checks(results, sizes)
    rows = [(b, t, "met" if m else "MISSED") for b, t, m in checks]
    print(md_table(("backend", "aim", "result"), rows, "<<<"))
    return [f"{b}: {t}" for b, t, m in checks if not m]


def print_details(result: dict, sizes: Sizes, postgres_source: str) -> None:
    """One backend's supporting figures: seed, drafting, pages' SQL, where sending goes."""
    name = NAMES[result["backend"]]
    if result.get("server_version"):
        name += f" {result['server_version']}"
    if result["backend"] == "postgres" and postgres_source:
        name += f", {postgres_source}"
    print(f"\n## {name}: details\n")
    seeded, generated = result["seed"], result["generate"]
    c = seeded["counts"]
    print(
        f"- migrate {result['migrate_seconds']} s; first pool seeded in {seeded['seconds']} s: "
        f"{c['leads']:,} leads, each with a business and an owner; {c['mobiles']:,} mobiles "
        f"({c['verified']:,} verified, {c['unchecked']:,} unchecked, the rest VoIP), "
        f"{c['phones'] - c['mobiles']:,} office landlines"
    )
    excluded = generated["excluded"]
    left_out = ", ".join(
        f"{campaigns.EXCLUSIONS.get(k, k)} {v:,}"
        for k, v in excluded.items()
        if k not in ("eligible", "matched")
    )
    print(
        f"- batch #{generated['batch_id']}: {generated['size']:,} texts from "
        f"{excluded.get('matched', 0):,} matched leads ({excluded.get('eligible', 0):,} "
        f"eligible; left out: {left_out or 'none'}); {generated['statements']:,} SQL "
        f"statements ({generated['sql_seconds']} s in SQL); {generated['flagged']:,} drafts "
        f"flagged "
        f"({', '.join(f'{k} {v:,}' for k, v in generated['flag_counts'].items())})"
    )
    print(f"- fixed clock for sending: {result['clock']} (noon Central, a Tuesday)")
    print(f"\nqueue page, {sizes.requests} timed requests each after {WARMUP} warm-ups:\n")
    rows = [
        (p["label"], p["path"].split("/batches/")[1], p["n"], p["p50_ms"], p["p95_ms"],
         p["mean_ms"], p["max_ms"], p["statements"], p["sql_mean_ms"], p["kib"])
        for p in result["preview"]
    ]  # fmt: skip
    headers = (
        "page",
        "path",
        "n",
        "p50 ms",
        "p95 ms",
        "mean ms",
        "max ms",
        "SQL/req",
        "SQL ms",
        "KiB",
    )
    print(md_table(headers, rows, "<<" + ">" * 8))
    if result["pages"] < 20:
        print(f"\n(the batch has {result['pages']} pages; ?page=20 shows the last)")
    print(f"\nthe {SLOWEST_SHOWN} statements with the most SQL time on each page:\n")
    rows = [
        (p["label"], s["ms"], s["runs"], f"`{s['sql']}`")
        for p in result["preview"]
        for s in p["slowest"]
    ]
    print(md_table(("page", "ms a request", "runs a request", "statement"), rows, "<>><"))
    print(f"\napprove: {result['approve']['approved']:,} drafts in {result['approve']['ms']} ms")
    print("\none dispatcher, where a text's time goes (ms a text):\n")
    rows = [
        (f"{d['latency_ms']} ms", d["sent"], d["wall_seconds"], d["per_second"],
         d["ms_per_message"], d["send_ms"], d["overhead_ms"], d["limiter_ms"], d["sql_ms"],
         _rest(d), d["statements_per_message"], d["report"])
        for d in result["dispatch"]
    ]  # fmt: skip
    headers = (
        "Twilio latency", "texts", "wall s", "texts/s", "total", "in send", "overhead",
        "of which limiter", "of which SQL", "of which rest", "SQL/text", "dispatch report",
    )  # fmt: skip
    print(md_table(headers, rows, "<" + ">" * 10 + "<"))
    print(
        "\noverhead = (wall - time inside transport.send) / texts; of it: the Redis limiter "
        "(acquire), SQL (time in cursor.execute) and the rest (the ORM, the gate and "
        "quiet-hours checks, commits, Python). The fake Twilio answers from a thread of "
        "this process, so its own work competes for the GIL inside `in send`."
    )
    fast = result["dispatch"][0]
    print(f"\nthe {SLOWEST_SHOWN} statements with the most SQL time at 0 ms:\n")
    rows = [(s["ms"], s["runs"], f"`{s['sql']}`") for s in fast["heaviest"]]
    print(md_table(("ms a text", "runs a text", "statement"), rows, ">><"))
    for d in result["dispatch"]:
        if not d["exactly_once"] or d["distinct_to"] != d["created"]:
            print(
                f"! {d['latency_ms']} ms: Twilio created {d['created']:,} "
                f"({d['distinct_to']:,} numbers), {d['sent']:,} sent"
            )
    rated = result["rate_limit"]
    print(f"\ntwo worker processes, one sender at {RATED_MPS:g} MPS:\n")
    if rated.get("errors"):
        for error in rated["errors"]:
            print(f"! {error}")
    if "per_worker" in rated:
        rows = [
            (w["batch_id"], w["created"], w["first_s"], w["last_s"],
             next((d.get("report", d.get("error")) for d in rated["workers"]
                   if d["batch_id"] == w["batch_id"]), ""))
            for w in rated["per_worker"]
        ]  # fmt: skip
        print(md_table(("batch", "created", "first s", "last s", "dispatch report"), rows, "<>>><"))
        print(
            f"\n{rated['created']:,} texts in {rated['span_seconds']} s between the first "
            f"and last creation: {rated['achieved_mps']} MPS as texts / span "
            f"({rated['interval_mps']} as (texts - 1) / span, the rate of the gaps); busiest "
            f"1-s window {rated['busiest_window']}; smallest gap {rated['min_gap_ms']} ms"
        )
        print(
            "(the limiter spaces slots exactly 1/MPS apart and the fake stamps each text on "
            "arrival, after the HTTP request: with any jitter, 11 stamps fit in some 1-s window "
            "even at exactly 10 MPS)"
        )
    sys.stdout.flush()


def _rest(d: dict) -> float | None:
    if d["overhead_ms"] is None:
        return None
    return round(d["overhead_ms"] - d["limiter_ms"] - d["sql_ms"], 2)


def print_profiles(results: list[dict]) -> None:
    """The cProfile tables of whatever missed its aim."""
    for result in results:
        for what, profile in result["profiles"].items():
            print(f"\n## Profile, {NAMES[result['backend']]}: {what}\n")
            print(
                f"top {PROFILE_TOP} by cumulative time, seconds under the profiler "
                f"({profile['total_seconds']} s profiled; harness frames left out):\n"
            )
            headers = ("calls", "own s", "cumulative s", "function")
            print(md_table(headers, profile["cumulative"], ">>><"))
            print(
                f"\nthe console's own functions and templates, top {PROFILE_TOP} by cumulative:\n"
            )
            print(md_table(headers, profile["project"], ">>><"))
            print(f"\ntop {PROFILE_OWN_TOP} by own time:\n")
            print(md_table(headers, profile["own"], ">>><"))


def print_header(info: dict, version: str | None, args, sizes: Sizes, redis_source: str) -> None:
    """The machine, the versions and the run's sizes."""
    print("# Deal origination console benchmark: campaign batches\n")
    memory = f"{info['memory_gib']} GiB"
    if info["cgroup_memory_limit_gib"]:
        memory += f" (cgroup limit {info['cgroup_memory_limit_gib']} GiB)"
    cpus = f"{info['cpus']}" + (
        f" ({info['cpus_usable']} usable)" if info["cpus_usable"] != info["cpus"] else ""
    )
    rows = [
        ("CPUs", f"{cpus}, {info['cpu_model']}"),
        ("RAM", memory),
        ("kernel", info["kernel"]),
        ("load at start", " ".join(str(x) for x in info["load_average"])),
        ("Python", f"{info['python']} (Flask {info['flask']}, SQLAlchemy {info['sqlalchemy']}, "
         f"psycopg {info['psycopg']})"),
        ("SQLite", info["sqlite"]),
        ("PostgreSQL", version or "not run"),
        ("Redis", redis_source),
        ("run", f"{'quick: ' if args.quick else ''}{sizes.messages:,}-text batch, "
         f"{sizes.requests} requests a page, {sizes.slow_messages:,} texts at 50 ms, "
         f"2 x {sizes.rate_messages:,} texts rate-limited"),
    ]  # fmt: skip
    print(md_table(("machine", ""), rows, "<<"))
    sys.stdout.flush()


def redis_server(stack: ExitStack) -> tuple[str | None, str]:
    """A Redis URL (TEST_REDIS_URL, or a throwaway redis-server), or why there is none."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"], "TEST_REDIS_URL"
    server = RedisServer()
    if not server.binary:
        return None, "redis-server not found (apt-get install redis-server)"
    progress("redis: starting a throwaway redis-server")
    url = server.start()
    stack.callback(server.stop)
    version = redis.Redis.from_url(url).info("server")["redis_version"]
    return url, f"redis-server {version}, throwaway"


@dataclass
class Services:
    """Redis and PostgreSQL for a benchmark that runs real workers or servers."""

    redis_url: str
    redis_source: str
    postgres_url: str
    postgres: str  # version and source, for the header


def services(
    stack: ExitStack, postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None
) -> Services | None:
    """Start (or find) Redis and PostgreSQL; None, having said which is missing."""
    redis_url, redis_source = redis_server(stack)
    if redis_url is None:
        print(f"Redis is not available: {redis_source}", file=sys.stderr)
        return None
    postgres_url, postgres_source = (
        postgres_server(stack) if postgres_server else (None, "no server given")
    )
    if postgres_url is None:
        print(f"PostgreSQL is not available: {postgres_source}", file=sys.stderr)
        return None
    import psycopg

    with psycopg.connect(postgres_url) as pg:
        version = pg.execute("SHOW server_version").fetchone()[0]
    return Services(redis_url, redis_source, postgres_url, f"{version} ({postgres_source})")


def main(
    argv: list[str] | None = None,
    postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None = None,
) -> int:
    """Run the steps on the backends asked for; print figures, optionally write JSON."""
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    output: dict = {"machine": report.machine(), "args": {**vars(args)}, "backends": []}
    wanted = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with ExitStack() as stack:
        redis_url, redis_source = redis_server(stack)
        if redis_url is None:
            print(f"Redis is not available: {redis_source}", file=sys.stderr)
            return 2
        progress("starting the two worker processes of step 5 (spawn)")
        workers = RateWorkers()
        stack.callback(workers.stop)
        postgres_url, postgres_source, version = None, "", None
        if "postgres" in wanted:
            postgres_url, postgres_source = (
                postgres_server(stack) if postgres_server else (None, "no server given")
            )
            if postgres_url is None:
                if args.backend == "postgres":
                    print(f"PostgreSQL is not available: {postgres_source}", file=sys.stderr)
                    return 2
                progress(f"postgres: skipped, {postgres_source}")
                version = f"skipped: {postgres_source}"
                wanted.remove("postgres")
            else:
                import psycopg

                with psycopg.connect(postgres_url) as conn:
                    version = conn.execute("SHOW server_version").fetchone()[0]
                version += f" ({postgres_source})"
        output["machine"]["postgres"] = version
        progress("waiting for the worker processes to import the console")
        workers.wait_ready()
        print_header(output["machine"], version, args, sizes, redis_source)
        for backend in wanted:
            output["backends"].append(
                run_backend(backend, sizes, postgres_url, redis_url, workers, not args.no_profile)
            )
    output["missed"] = print_summary(output["backends"], sizes)
    for result in output["backends"]:
        print_details(result, sizes, postgres_source)
    print_profiles(output["backends"])
    report.finish(output, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
