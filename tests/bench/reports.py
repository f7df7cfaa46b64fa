"""`python -m tests.bench reports`: every Reports page at the size issue 17 names.

On PostgreSQL (a throwaway server, or TEST_POSTGRES_URL; `--backend sqlite` for a look
on SQLite): migrate, then seed one team over the last 90 days with `--leads` leads (ten
imports with a list price), skip-trace results and line checks with their costs,
`--texts` texts (4 senders, 8 campaigns, 3 templates with A/B variants; most
delivered, some failed, a few filtered by carriers with 30007, a small backlog due),
a delivery callback for each text that went out, `--replies` owners' replies (each
with its conversation and inbox item, most answered, some with an AI or template
draft, a few opt-outs), `--deals` deals with their stage history, and some failed
webhook requests. Seeding is by COPY on PostgreSQL (executemany in chunks on SQLite);
its time is printed. Then, signed in as the team's manager through the Flask test
client, it times every page registered in `reports.pages.PAGES` at run time, over the
default 30 days and with a campaign filter, `--requests` times each after warm-ups:
p50/p95, statements and SQL time per request. `--quick` seeds a tenth. It prints
figures; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.models import (
    AuditEvent,
    Batch,
    Campaign,
    ConsentEvent,
    Conversation,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    Lead,
    LeadSource,
    Message,
    MessageTemplate,
    PhoneCheck,
    Role,
    Sender,
    SkipTraceResult,
    SkipTraceRun,
    Suppression,
    User,
)
from console.models.base import utcnow
from console.models.campaigns import MessageEvent
from console.services import webhook_log
from tests.bench import backends, pipeline, render, report, seed

BENCH_DATABASE = "console_bench_reports"
DAYS = 90
CHUNK = 20_000
AIM_MS = 500
LABELS = ("POSITIVE", "NEGATIVE", "QUESTION", "LATER", "PRICE_INQUIRY", "STOP", "UNCLEAR")
LABEL_WEIGHTS = (22, 30, 14, 12, 6, 10, 6)
PERSONAS = ("GIANNA", "CATHY", "SABRINA", "NEVA")
MODELS = ("claude-sonnet-5-5", "claude-haiku-5-5")
PROVIDERS = ("Bench Search", "Bench People")


@dataclass(frozen=True)
class Sizes:
    """How much to seed."""

    texts: int = 1_000_000
    leads: int = 200_000
    replies: int = 50_000
    deals: int = 5_000

    def tenth(self) -> Sizes:
        return Sizes(*(max(1, n // 10) for n in (self.texts, self.leads, self.replies, self.deals)))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench reports",
        description="Seed a team at issue 17's size; time every Reports page.",
    )
    parser.add_argument("--texts", type=int, default=Sizes.texts, help="texts (1000000)")
    parser.add_argument("--leads", type=int, default=Sizes.leads, help="leads (200000)")
    parser.add_argument("--replies", type=int, default=Sizes.replies, help="replies (50000)")
    parser.add_argument("--deals", type=int, default=Sizes.deals, help="deals (5000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page (20)")
    parser.add_argument("--quick", action="store_true", help="seed a tenth of every size")
    parser.add_argument(
        "--backend", choices=("postgres", "sqlite"), default="postgres", help="default postgres"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    if min(args.texts, args.leads, args.replies, args.deals, args.requests) < 1:
        parser.error("every size and --requests must be at least 1")
    if args.replies > args.texts or args.deals > args.leads:
        parser.error("--replies must not pass --texts, nor --deals --leads")
    return args


# -- loading rows fast ---------------------------------------------------------------


class Loader:
    """Rows into tables: COPY on PostgreSQL, executemany in chunks on SQLite; columns
    the generator leaves out get the model's default (as `seed._bulk_insert` does)."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        self.next_ids: dict[str, int] = {}

    def next_id(self, model) -> int:
        """The id the next generated row of `model` takes."""
        name = model.__tablename__
        if name not in self.next_ids:
            self.next_ids[name] = seed._next_id(self.conn, model.__table__)
        return self.next_ids[name]

    def load(self, model, rows: Iterable[dict]) -> int:
        """Insert `rows` (dicts with the same keys) in chunks; how many."""
        total = 0
        for chunk in _chunked(rows):
            if self.postgres:
                self._copy(model.__table__, chunk)
            else:
                seed._bulk_insert(self.conn, model.__table__, chunk)
            total += len(chunk)
            if "id" in chunk[-1]:
                self.next_ids[model.__tablename__] = chunk[-1]["id"] + 1
        self.counts[model.__tablename__] = self.counts.get(model.__tablename__, 0) + total
        return total

    def _copy(self, table, rows: list[dict]) -> None:
        present = {c["name"] for c in inspect(self.conn).get_columns(table.name)}
        columns = [c for c in table.c if c.name in present]
        defaults = {c.name: seed._default(c) for c in columns if c.name not in rows[0]}
        names = [c.name for c in columns if c.name in rows[0] or defaults[c.name] is not seed._OMIT]
        # Each value as the app binds it (Money in cents, JSON as text...): COPY skips types.
        dialect = self.conn.dialect
        processors = {c.name: c.type.bind_processor(dialect) for c in columns if c.name in names}
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cursor:
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    values = []
                    for name in names:
                        value = row[name] if name in row else defaults[name]
                        process = processors[name]
                        if process and value is not None:
                            value = process(value)
                        # psycopg adapts JSON itself when SQLAlchemy does not: as text here.
                        values.append(
                            json.dumps(value) if isinstance(value, dict | list) else value
                        )
                    copy.write_row(values)

    def move_sequences(self) -> None:
        """PostgreSQL: each id sequence past the ids given explicitly."""
        if not self.postgres:
            return
        for name in self.next_ids:
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {name}))"
                )
            )


def _chunked(rows: Iterable[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- the world -----------------------------------------------------------------------


@dataclass
class World:
    team_id: int
    manager_email: str
    campaign_ids: list[int]
    counts: dict[str, int]
    seconds: float


def seed_world(session: Session, sizes: Sizes, hash_method: str, seed_number: int = 17) -> World:
    """One team with `sizes` of everything over the last `DAYS` days, committed."""
    started = time.perf_counter()
    rng = random.Random(seed_number)
    now = utcnow()
    seeded = seed.seed(session, sizes.leads, hash_method)
    team_id = seeded.team_id
    users = dict(session.execute(select(User.role, User.id).where(User.team_id == team_id)).all())
    manager = session.scalar(
        select(User.email).where(User.team_id == team_id, User.role == Role.MANAGER)
    )
    leads = list(session.scalars(select(Lead.id).where(Lead.team_id == team_id).order_by(Lead.id)))
    loader = Loader(session)

    def when(days: float = DAYS) -> datetime:
        return now - timedelta(seconds=rng.uniform(60, days * 86400))

    imports = _imports(loader, team_id, leads, rng, when)
    _tracing(loader, team_id, leads, rng, when)
    senders, templates, campaigns, batches = _outreach(session, loader, team_id, rng, now)
    outreach = (senders, campaigns, batches)
    texted = _texts(loader, team_id, leads, sizes, rng, now, when, outreach)
    _webhook_failures(loader, team_id, max(1, sizes.texts // 400), rng, when)
    _replies(loader, team_id, texted, sizes.replies, rng, now, users)
    loader.move_sequences()
    session.commit()
    pipeline.seed_deals(session, team_id, max(1, sizes.deals * 10 // 11), rng)
    counts = {"leads": len(leads), "imports": imports, **loader.counts}
    return World(
        team_id=team_id,
        manager_email=manager,
        campaign_ids=[c["id"] for c in campaigns],
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def _imports(loader: Loader, team_id: int, leads: list[int], rng, when) -> int:
    first = loader.next_id(ImportJob)
    jobs = [
        {
            "id": first + n,
            "team_id": team_id,
            "filename": f"owners-list-{n + 1}.csv",
            "list_price": Decimal(rng.randrange(250, 2500)),
            "stored_path": "",
            "status": "done",
            "created_at": when(),
        }
        for n in range(10)
    ]
    loader.load(ImportJob, jobs)
    start = loader.next_id(LeadSource)
    loader.load(
        LeadSource,
        (
            {
                "id": start + n,
                "team_id": team_id,
                "lead_id": lead_id,
                "import_id": first + n % len(jobs),
                "filename": jobs[n % len(jobs)]["filename"],
                "row_number": n + 2,
                "at": when(),
            }
            for n, lead_id in enumerate(leads)
        ),
    )
    return len(jobs)


def _tracing(loader: Loader, team_id: int, leads: list[int], rng, when) -> None:
    run_id = loader.next_id(SkipTraceRun)
    loader.load(
        SkipTraceRun,
        [
            {
                "id": run_id,
                "team_id": team_id,
                "status": "done",
                "created_at": when(),
                "updated_at": when(),
            }
        ],
    )
    traced = [lead for lead in leads if rng.random() < 0.6]
    start = loader.next_id(SkipTraceResult)
    loader.load(
        SkipTraceResult,
        (
            {
                "id": start + n,
                "team_id": team_id,
                "run_id": run_id,
                "lead_id": lead_id,
                "provider_name": rng.choice(PROVIDERS),
                "outcome": "hit" if (found := rng.random() < 0.7) else "miss",
                "found": found,
                "confidence": rng.randint(50, 99) if found else None,
                "cost": Decimal("0.12") if found else Decimal("0.02"),
                "created_at": when(),
            }
            for n, lead_id in enumerate(traced)
        ),
    )
    start = loader.next_id(PhoneCheck)
    loader.load(
        PhoneCheck,
        (
            {
                "id": start + n,
                "team_id": team_id,
                "e164": f"+1{2000000000 + n}",
                "source": "lookup",
                "line_type": "mobile" if rng.random() < 0.8 else "landline",
                "textable": True,
                "cost": Decimal("0.008"),
                "checked_at": when(),
            }
            for n in range(int(len(traced) * 0.7))
        ),
    )


def _outreach(session: Session, loader: Loader, team_id: int, rng, now):
    first = loader.next_id(Sender)
    senders = [
        {
            "id": first + n,
            "team_id": team_id,
            "label": f"Line {n + 1}",
            "address": f"+1512700{n:04d}",
        }
        for n in range(4)
    ]
    loader.load(Sender, senders)
    first = loader.next_id(MessageTemplate)
    templates = [
        {
            "id": first + n,
            "team_id": team_id,
            "name": f"Opener {n + 1}",
            "persona": PERSONAS[n % 3],
            "body": "Hi {firstName}, thinking of selling {business}? Reply STOP to opt out",
            "variants": ["Hello {firstName}: would you sell {business}? Reply STOP to opt out"],
        }
        for n in range(3)
    ]
    loader.load(MessageTemplate, templates)
    first = loader.next_id(Campaign)
    campaigns = [
        {
            "id": first + n,
            "team_id": team_id,
            "name": f"Campaign {n + 1}",
            "persona": PERSONAS[n % 3],
            "status": "active",
            "template_id": templates[n % 3]["id"],
            "sender_id": senders[n % 4]["id"],
            "split": {"A": 50, "B": 50},
        }
        for n in range(8)
    ]
    loader.load(Campaign, campaigns)
    first = loader.next_id(Batch)
    batches = [
        {
            "id": first + n,
            "team_id": team_id,
            "campaign_id": campaigns[n % 8]["id"],
            "status": "done",
            "created_at": now - timedelta(days=DAYS - n),
        }
        for n in range(DAYS)
    ]
    loader.load(Batch, batches)
    return senders, templates, campaigns, batches


# Of the texts: (share, status, Twilio's status, error code).
OUTCOMES = (
    (0.880, "delivered", "delivered", None),
    (0.050, "sent", "sent", None),
    (0.025, "failed", "undelivered", 30003),
    (0.020, "failed", "undelivered", 30005),
    (0.015, "failed", "undelivered", 30007),
    (0.009, "failed", "failed", 21211),
    (0.001, "approved", "", None),
)


def _texts(loader, team_id, leads, sizes: Sizes, rng, now, when, outreach) -> list:
    """The texts and a delivery callback for each that went out; returns (lead id, phone,
    campaign id, sender id, sent at) of some texted leads, for the replies."""
    _senders, campaigns, batches = outreach
    count, keep = sizes.texts, sizes.replies * 3
    shares, outcomes = zip(*((o[0], o[1:]) for o in OUTCOMES), strict=True)
    first = loader.next_id(Message)
    texted: list[tuple] = []
    events: list[dict] = []
    event_id = loader.next_id(MessageEvent)

    def rows():
        nonlocal event_id
        for n in range(count):
            campaign = campaigns[n % len(campaigns)]
            status, provider_status, code = rng.choices(outcomes, shares)[0]
            lead_id = leads[rng.randrange(len(leads))]
            at = when()
            sid = f"SM{first + n:032x}"
            went_out = status != "approved"
            row = {
                "id": first + n,
                "team_id": team_id,
                "batch_id": batches[(now - at).days % len(batches)]["id"],
                "campaign_id": campaign["id"],
                "lead_id": lead_id,
                "template_id": campaign["template_id"],
                "sender_id": campaign["sender_id"],
                "variant": "A" if n % 2 else "B",
                "to_e164": f"+1{3000000000 + lead_id}",
                "body": "Hi, thinking of selling? Reply STOP to opt out",
                "status": status,
                "provider_status": provider_status,
                "provider_sid": sid if went_out else None,
                "error_code": code,
                "cost_estimate": Decimal("0.0113"),
                "price": Decimal("0.0083") if went_out and rng.random() < 0.8 else None,
                "price_source": "twilio",
                "created_at": at - timedelta(hours=1),
                "sent_at": at if went_out else None,
                "delivered_at": at + timedelta(seconds=5) if status == "delivered" else None,
                "status_at": at + timedelta(seconds=5) if went_out else None,
                "due_at": at,
                "approved_at": at - timedelta(minutes=30),
            }
            if went_out and status != "sent":
                events.append(
                    {
                        "id": event_id,
                        "message_id": first + n,
                        "provider_sid": sid,
                        "status": provider_status,
                        "error_code": code,
                        "source": "webhook",
                        "params": {},
                        "at": at + timedelta(seconds=5),
                    }
                )
                event_id += 1
            if status == "delivered" and len(texted) < keep:
                texted.append((lead_id, row["to_e164"], campaign["id"], row["sender_id"], at))
            yield row

    # Each chunk of texts before its callbacks (their foreign key is checked at once).
    for chunk in _chunked(rows()):
        loader.load(Message, chunk)
        loader.load(MessageEvent, events)
        events.clear()
    return texted


def _webhook_failures(loader: Loader, team_id: int, count: int, rng, when) -> None:
    kinds = list(webhook_log.KIND_LABELS)
    reasons = list(webhook_log.REASONS)
    first = loader.next_id(AuditEvent)
    loader.load(
        AuditEvent,
        (
            {
                "id": first + n,
                "team_id": team_id,
                "action": webhook_log.ACTION_PREFIX + rng.choice(reasons),
                "entity_type": webhook_log.ENTITY_PREFIX + rng.choice(kinds),
                "at": when(),
            }
            for n in range(count)
        ),
    )


def _replies(loader, team_id, texted, count, rng, now, users) -> None:
    """Owners' replies to texted leads: conversation, inbound text, inbox item, drafts,
    opt-outs."""
    chosen: dict[str, tuple] = {}
    for lead_id, e164, campaign_id, sender_id, at in texted:
        if len(chosen) >= count:
            break
        chosen.setdefault(e164, (lead_id, campaign_id, sender_id, at))
    conversations, inbound, inbox, drafts, optouts = [], [], [], [], []
    conversation_id, inbound_id = loader.next_id(Conversation), loader.next_id(InboundMessage)
    item_id, draft_id = loader.next_id(InboxItem), loader.next_id(Draft)
    reviewer = users.get(Role.REVIEWER) or next(iter(users.values()))
    for n, (e164, (lead_id, campaign_id, sender_id, sent_at)) in enumerate(chosen.items()):
        received = min(
            now - timedelta(minutes=5), sent_at + timedelta(minutes=rng.uniform(2, 2880))
        )
        label = rng.choices(LABELS, LABEL_WEIGHTS)[0]
        persona = rng.choice(PERSONAS)
        late = now - received
        state = (
            "done"
            if late > timedelta(days=1) or rng.random() < 0.6
            else rng.choice(("open", "escalated"))
        )
        answered = received + timedelta(minutes=rng.expovariate(1 / 90))
        conversations.append(
            {
                "id": conversation_id + n,
                "team_id": team_id,
                "e164": e164,
                "lead_id": lead_id,
                "sender_id": sender_id,
                "campaign_id": campaign_id,
                "persona": persona,
                "inbound_count": 1,
                "last_inbound_at": received,
                "created_at": received,
            }
        )
        inbound.append(
            {
                "id": inbound_id + n,
                "team_id": team_id,
                "conversation_id": conversation_id + n,
                "lead_id": lead_id,
                "provider_sid": f"SM{(1 << 100) + n:032x}",
                "from_e164": e164,
                "body": "Maybe. What would you pay?",
                "intent": "opt_out" if label == "STOP" else "",
                "received_at": received,
            }
        )
        failed = rng.random() < 0.03
        inbox.append(
            {
                "id": item_id + n,
                "team_id": team_id,
                "conversation_id": conversation_id + n,
                "inbound_id": inbound_id + n,
                "lead_id": lead_id,
                "campaign_id": campaign_id,
                "state": state,
                "resolution": "sent" if state == "done" else "",
                "label": "UNCLEAR" if failed else label,
                "confidence": rng.randint(40, 99),
                "opt_out": label == "STOP",
                "classified_by": "none" if failed else rng.choice(("rules", "ai")),
                "classify_note": "Could not be read automatically" if failed else "Read by claude.",
                "priority": rng.randint(1, 100),
                "bucket": rng.choice(("urgent", "high", "normal", "low")),
                "sla_due_at": received + timedelta(hours=rng.choice((1, 4, 24))),
                "persona": persona,
                "created_at": received,
                "updated_at": answered if state == "done" else received,
                "ready_at": received + timedelta(seconds=20),
                "resolved_at": answered if state == "done" else None,
                "resolved_by_id": reviewer if state == "done" else None,
            }
        )
        if label != "STOP" and rng.random() < 0.7:
            ai = rng.random() < 0.6
            drafts.append(
                {
                    "id": draft_id + len(drafts),
                    "team_id": team_id,
                    "item_id": item_id + n,
                    "persona": persona,
                    "label": label,
                    "body": "Thanks for getting back to me. Would a call this week work?",
                    "source": "ai" if ai else "template",
                    "model": rng.choice(MODELS) if ai else "",
                    "input_tokens": rng.randint(800, 2000) if ai else 0,
                    "output_tokens": rng.randint(40, 120) if ai else 0,
                    "cache_read_tokens": rng.randint(0, 1500) if ai else 0,
                    "state": "sent" if state == "done" else "proposed",
                    "edited": rng.random() < 0.25,
                    "decided_by_id": reviewer if state == "done" else None,
                    "decided_at": answered if state == "done" else None,
                    "created_at": received + timedelta(seconds=25),
                }
            )
        if label == "STOP":
            optouts.append((e164, lead_id, received))
    loader.load(Conversation, conversations)
    loader.load(InboundMessage, inbound)
    loader.load(InboxItem, inbox)
    loader.load(Draft, drafts)
    first = loader.next_id(Suppression)
    loader.load(
        Suppression,
        (
            {"id": first + n, "team_id": team_id, "e164": e164, "reason": "opt_out",
             "source": "reply", "created_at": at}
            for n, (e164, _lead, at) in enumerate(optouts)
        ),
    )  # fmt: skip
    first = loader.next_id(ConsentEvent)
    loader.load(
        ConsentEvent,
        (
            {"id": first + n, "team_id": team_id, "e164": e164, "kind": "opt_out",
             "source": "reply", "lead_id": lead, "at": at}
            for n, (e164, lead, at) in enumerate(optouts)
        ),
    )  # fmt: skip


# -- timing --------------------------------------------------------------------------


def report_paths(campaign_id: int) -> list[tuple[str, str]]:
    """(label, path) of every registered report page, plain and with a campaign filter."""
    from console.services.reports import pages

    paths = []
    for key in pages.PAGES:
        paths.append((key, f"/reports/{key}"))
        paths.append((f"{key}, one campaign", f"/reports/{key}?campaign={campaign_id}"))
    return paths


def run(backend: str, sizes: Sizes, requests: int, admin_url: str | None) -> dict:
    """Migrate, seed, time every page on `backend`; the figures."""
    instance = Path(tempfile.mkdtemp(prefix=f"console-bench-reports-{backend}-"))
    config = TestConfig({"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)})
    if backend == "postgres":
        url = create_database_url(admin_url)
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(url)
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'bench.db'}"
    app = create_app(config)
    result: dict = {"backend": backend, "sizes": sizes.__dict__}
    from console.extensions import db

    try:
        with app.app_context():
            engine = db.engine
            backends.progress(f"{backend}: migrating")
            with backends._quiet_logging():
                upgrade()
            backends.progress(
                f"{backend}: seeding {sizes.texts:,} texts, {sizes.leads:,} leads, "
                f"{sizes.replies:,} replies, {sizes.deals:,} deals"
            )
            world = seed_world(db.session, sizes, config.PASSWORD_HASH_METHOD)
            result["seed"] = {"seconds": round(world.seconds, 1), "counts": world.counts}
            backends.progress(f"{backend}: seeded in {world.seconds:.0f} s; VACUUM ANALYZE")
            result["analyze_seconds"] = round(seed.analyze(engine), 1)
            result["database_mib"] = backends.database_mib(engine, instance)
            db.session.remove()
        recorder = render.SqlRecorder(engine, 30.0)
        try:
            client = render.signed_in_client(app, world.manager_email, seed.PASSWORD)
            result["pages"] = []
            for label, path in report_paths(world.campaign_ids[0]):
                backends.progress(f"{backend}: timing {path}")
                result["pages"].append(pipeline._time(client, recorder, label, path, requests))
            result["slowest_statements"] = render.slowest_statements(recorder, top=6)
        finally:
            recorder.close()
        engine.dispose()
    finally:
        if backend == "postgres":
            backends._drop_database(admin_url, BENCH_DATABASE)
        shutil.rmtree(instance, ignore_errors=True)
    return result


def create_database_url(admin_url: str) -> str:
    from tests.servers import create_database

    return create_database(admin_url, BENCH_DATABASE)


def print_result(result: dict) -> None:
    seeded = result["seed"]
    counts = ", ".join(f"{name} {count:,}" for name, count in seeded["counts"].items())
    print(f"\n== {result['backend']} ==")
    print(f"seed {seeded['seconds']} s ({counts}); VACUUM ANALYZE {result['analyze_seconds']} s;")
    print(f"database {result['database_mib']} MiB")
    rows = []
    for page in result["pages"]:
        over = " over" if page["p95_ms"] > AIM_MS else ""
        rows.append(
            (
                page["label"],
                page["n"],
                page["p50_ms"],
                f"{page['p95_ms']}{over}",
                page["statements"],
                page["sql_mean_ms"],
                page["kib"],
            )
        )
    headers = ("page", "n", "p50 ms", "p95 ms", "SQL/req", "SQL ms", "KiB")
    print(report.table(headers, rows, align="<>>>>>>"))
    print(f"aim: every page p95 <= {AIM_MS} ms (over = past it)")
    print("slowest statements (mean of its runs, on which pages):")
    for statement in result["slowest_statements"]:
        mean, runs, on = statement["mean_ms"], statement["runs"], "; ".join(statement["pages"])
        print(f"  {mean:>8.2f} ms  x{runs:<4} {on}")
        print(f"      {statement['sql'][:300]}")
    sys.stdout.flush()


def main(argv: list[str], postgres_server) -> int:
    """Run the reports benchmark; print its figures."""
    args = parse_args(argv)
    sizes = Sizes(args.texts, args.leads, args.replies, args.deals)
    if args.quick:
        sizes = sizes.tenth()
    started = time.perf_counter()
    output: dict = {"machine": report.machine(), "args": vars(args) | {"json": None}}
    with ExitStack() as stack:
        admin_url = None
        if args.backend == "postgres":
            admin_url, source = postgres_server(stack)
            if admin_url is None:
                print(f"PostgreSQL is not available: {source}", file=sys.stderr)
                return 2
        print("Reports benchmark (issue 17)")
        for line in report.machine_lines(output["machine"], None):
            print(line)
        print(
            f"{args.requests} timed requests a page after {render.WARMUP} warm-ups, as the manager"
        )
        output["result"] = run(args.backend, sizes, args.requests, admin_url)
        print_result(output["result"])
    report.finish(output, started, args.json)
    return 0
