"""`python -m tests.bench pipeline`: the deal board and moves, the figures issue 16 asks for.

On SQLite and on PostgreSQL (a throwaway server, or TEST_POSTGRES_URL): migrate, seed a
team with `--deals` open deals (and a tenth as many won or lost) by bulk insert, spread
over the default pipeline's stages as a broker's would be (most in the early stages),
with values, assignees, expected closes in the later stages, an opening history row
each, an open task (next step) on a third of them and a stale mark on a twentieth.
Signed in as the team's manager through the Flask test client, it times the board
(all deals; a text search; stale only; one assignee's), the next page of a column, the
list view sorted by value, and one CSV export of every deal; then `--moves` moves, each
a POST as the board's drag and drop sends it (htmx), from the first two stages onward
so no stage asks for fields, and the same number through the service alone
(`moves.move_deal` and a commit) to show what the request adds. It prints figures; it
is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import random
import re
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select, text

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import Deal, DealStageHistory, Lead, Role, Task, User
from console.models.base import utcnow
from console.services.deals import moves, pipelines
from tests.bench import backends, render, report, seed
from tests.bench.stats import summarize
from tests.servers import create_database

BENCH_DATABASE = "console_bench_pipeline"
# Share of open deals in each open stage, Discovery to Closing.
STAGE_WEIGHTS = (30, 25, 15, 12, 10, 8)
BOARD = "/pipeline"
LIST = "/deals"
COLUMN = "/pipeline/column"
EXPORT = "/deals.csv"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench pipeline",
        description="Seed many deals; time the board, the list, the export and moves.",
    )
    parser.add_argument("--deals", type=int, default=10_000, help="open deals (default 10000)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests a page (40)")
    parser.add_argument("--moves", type=int, default=200, help="timed moves (default 200)")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "all"), default="all", help="default all"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    if min(args.deals, args.requests, args.moves) < 1:
        parser.error("--deals, --requests and --moves must be at least 1")
    return args


def seed_deals(session, team_id: int, deals: int, rng: random.Random) -> dict:
    """`deals` open deals and a tenth as many closed ones on the team's leads, by bulk
    insert; returns counts."""
    now = utcnow()
    pipeline = pipelines.default_pipeline(session, team_id)
    stages = pipelines.stages_of(session, pipeline.id)
    open_stages = [s for s in stages if s.is_open]
    won = next(s for s in stages if s.outcome == "won")
    lost = next(s for s in stages if s.outcome == "lost")
    reasons = pipelines.lost_reasons(session, team_id)
    users = list(session.scalars(select(User.id).where(User.team_id == team_id)))
    closed = deals // 10
    leads = list(
        session.execute(
            select(Lead.id, Lead.code).where(Lead.team_id == team_id).order_by(Lead.id)
        ).all()
    )[: deals + closed]
    deal_rows, history_rows, task_rows = [], [], []
    next_id = (session.scalar(text("SELECT coalesce(max(id), 0) FROM deals")) or 0) + 1
    for n, (lead_id, code) in enumerate(leads):
        deal_id = next_id + n
        if n < deals:
            stage = rng.choices(open_stages, STAGE_WEIGHTS[: len(open_stages)])[0]
        else:
            stage = won if rng.random() < 0.4 else lost
        entered = now - timedelta(days=rng.uniform(0, 90), hours=rng.uniform(0, 8))
        later = stage.position >= 4
        value = Decimal(rng.randrange(150, 5000) * 1000) if later or rng.random() < 0.5 else None
        row = {
            "id": deal_id,
            "team_id": team_id,
            "title": f"Deal {code}",
            "lead_id": lead_id,
            "pipeline_id": pipeline.id,
            "stage_id": stage.id,
            "value": value if value is not None or stage.outcome != "won" else Decimal(900000),
            "expected_close": (now + timedelta(days=rng.randrange(20, 200))).date()
            if later and stage.is_open
            else None,
            "assignee_id": rng.choice(users),
            "created_at": entered - timedelta(days=rng.uniform(0, 30)),
            "stage_at": entered,
            "last_touch_at": entered + timedelta(days=rng.uniform(0, 5)),
            "stale_at": now if stage.is_open and rng.random() < 0.05 else None,
            "closed_on": entered.date() if not stage.is_open else None,
            "lost_reason_id": rng.choice(reasons).id if stage.outcome == "lost" else None,
        }
        deal_rows.append(row)
        history_rows.append(
            {
                "team_id": team_id,
                "deal_id": deal_id,
                "to_stage_id": stage.id,
                "to_stage": stage.name,
                "at": entered,
            }
        )
        if stage.is_open and rng.random() < 1 / 3:
            task_rows.append(
                {
                    "team_id": team_id,
                    "kind": "task",
                    "title": "Send the NDA" if rng.random() < 0.5 else "Ask for the P&L",
                    "due_at": now + timedelta(days=rng.uniform(-3, 10)),
                    "state": "open",
                    "lead_id": lead_id,
                    "deal_id": deal_id,
                    "assignee_id": row["assignee_id"],
                    "created_at": entered,
                }
            )
    conn = session.connection()
    seed._bulk_insert(conn, Deal.__table__, deal_rows)
    seed._bulk_insert(conn, DealStageHistory.__table__, history_rows)
    seed._bulk_insert(conn, Task.__table__, task_rows)
    if conn.dialect.name == "postgresql":
        for name in ("deals", "deal_stage_history", "tasks"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    session.commit()
    return {"open": min(deals, len(leads)), "closed": max(0, len(leads) - deals),
            "tasks": len(task_rows)}  # fmt: skip


def _time(client, recorder, label: str, path: str, requests: int) -> dict:
    """`path` timed `requests` times after `render.WARMUP` untimed requests."""
    timing = render.PageTiming(label, path)
    for _ in range(render.WARMUP):
        render._timed_get(client, path)
    recorder.page, recorder.recording = label, True
    try:
        for _ in range(requests):
            recorder.reset()
            ms, response = render._timed_get(client, path)
            timing.ms.append(ms)
            timing.statements.append(recorder.statements)
            timing.sql_ms.append(recorder.seconds * 1000)
            timing.bytes = len(response.data)
    finally:
        recorder.recording = False
    return timing.as_dict()


def _next_cards_path(client) -> str:
    """The address the board's first column loads its next 50 cards from."""
    page = client.get(BOARD).text
    found = re.search(r'hx-get="(' + re.escape(COLUMN) + r'\?[^"]+)"', page)
    if found is None:
        raise RuntimeError("the board shows no column with more cards")
    return html.unescape(found.group(1))


def _movable(session, team_id: int, count: int) -> list[tuple[int, int, int]]:
    """(deal id, its stage id, the next stage's id) for deals in the first two stages."""
    pipeline = pipelines.default_pipeline(session, team_id)
    first, second, third = pipelines.open_stages(session, pipeline.id)[:3]
    following = {first.id: second.id, second.id: third.id}
    rows = session.execute(
        select(Deal.id, Deal.stage_id)
        .where(Deal.team_id == team_id, Deal.stage_id.in_(list(following)))
        .order_by(Deal.id)
        .limit(count)
    ).all()
    return [(deal_id, stage_id, following[stage_id]) for deal_id, stage_id in rows]


def time_moves(client, app, team_id: int, count: int) -> dict:
    """`count` moves posted as the board does, then `count` through the service alone."""
    with app.app_context():
        movable = _movable(db.session, team_id, count * 2)
        manager = db.session.scalar(
            select(User).where(User.team_id == team_id, User.role == Role.MANAGER.value)
        )
        manager_id = manager.id
        db.session.remove()
    posted, served = movable[:count], movable[count : count * 2]
    http_ms, codes = [], {}
    for deal_id, seen, target in posted:
        started = time.perf_counter()
        response = client.post(
            f"/deals/{deal_id}/move",
            data={"stage_id": target, "seen_stage_id": seen},
            headers={"HX-Request": "true"},
        )
        http_ms.append((time.perf_counter() - started) * 1000)
        codes[response.status_code] = codes.get(response.status_code, 0) + 1
    service_ms = []
    with app.app_context():
        user = db.session.get(User, manager_id)
        for deal_id, _seen, target in served:
            started = time.perf_counter()
            deal = db.session.get(Deal, deal_id)
            moves.move_deal(db.session, deal, pipelines.stage_of(db.session, team_id, target), user)
            db.session.commit()
            service_ms.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return {
        "posted": {**summarize(http_ms), "status_codes": codes},
        "service": summarize(service_ms),
    }


def time_export(client) -> dict:
    started = time.perf_counter()
    response = client.get(EXPORT)
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in csv.reader(io.StringIO(response.data.decode("utf-8")))) - 1
    return {"status": response.status_code, "rows": rows, "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds) if seconds else 0}  # fmt: skip


def run(backend: str, args, postgres_admin_url: str | None) -> dict:
    """Migrate, seed, time the pages and the moves on `backend`."""
    instance = Path(tempfile.mkdtemp(prefix=f"console-bench-pipeline-{backend}-"))
    # As a served console does (Config.FREEZE_GC_AT_START), unlike the test suite's.
    config = TestConfig(
        {"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)},
        FREEZE_GC_AT_START=True,
    )
    if backend == "postgres":
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
            create_database(postgres_admin_url, BENCH_DATABASE)
        )
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'bench.db'}"
    app = create_app(config)
    result: dict = {"backend": backend}
    try:
        with app.app_context():
            engine = db.engine
            with backends._quiet_logging():
                upgrade()
            if backend == "postgres":
                with engine.connect() as conn:
                    result["server_version"] = conn.scalar(text("SHOW server_version"))
            backends.progress(f"{backend}: seeding {args.deals * 11 // 10:,} leads and deals")
            started = time.perf_counter()
            seeded = seed.seed(db.session, args.deals + args.deals // 10,
                               config.PASSWORD_HASH_METHOD)  # fmt: skip
            result["deals"] = seed_deals(db.session, seeded.team_id, args.deals,
                                         random.Random(20261205))  # fmt: skip
            result["seed_seconds"] = round(time.perf_counter() - started, 1)
            seed.analyze(engine)
            team_id = seeded.team_id
            someone = db.session.scalar(
                select(User.id).where(User.team_id == team_id, User.role == "operator")
            )
            manager_email = db.session.scalar(
                select(User.email).where(User.team_id == team_id, User.role == "manager")
            )
            db.session.remove()
        recorder = render.SqlRecorder(engine)
        try:
            client = render.signed_in_client(app, manager_email, seeded.password)
            pages = [
                ("board", BOARD),
                ("board, text search", f"{BOARD}?q=Deal+LEAD"),
                ("board, stale only", f"{BOARD}?stale=1"),
                ("board, one assignee", f"{BOARD}?assignee={someone}"),
                ("column, next 50", _next_cards_path(client)),
                ("list, by value", f"{LIST}?sort=value&dir=desc"),
            ]
            backends.progress(f"{backend}: timing {len(pages)} pages x {args.requests}")
            result["pages"] = [_time(client, recorder, *page, args.requests) for page in pages]
            backends.progress(f"{backend}: exporting every deal")
            result["export"] = time_export(client)
            backends.progress(f"{backend}: {args.moves} moves posted, {args.moves} by service")
            result["moves"] = time_moves(client, app, team_id, args.moves)
        finally:
            recorder.close()
        engine.dispose()
    finally:
        if backend == "postgres":
            backends._drop_database(postgres_admin_url, BENCH_DATABASE)
        shutil.rmtree(instance, ignore_errors=True)
    return result


def print_result(result: dict) -> None:
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[result["backend"]]
    if result.get("server_version"):
        name += f" {result['server_version']}"
    deals = result["deals"]
    print(f"\n== {name} ==")
    print(f"seeded {deals['open']:,} open and {deals['closed']:,} closed deals, "
          f"{deals['tasks']:,} open tasks, in {result['seed_seconds']} s")  # fmt: skip
    rows = [
        (
            p["label"],
            p["path"],
            p.get("n", 0),
            p.get("p50_ms"),
            p.get("p95_ms"),
            p.get("statements"),
            p.get("kib"),
        )  # fmt: skip
        for p in result["pages"]
    ]
    print(report.table(("page", "GET", "n", "p50 ms", "p95 ms", "SQL/req", "KiB"), rows,
                       align="<<>>>>>"))  # fmt: skip
    export = result["export"]
    print(f"export  GET {EXPORT}: {export['rows']:,} rows in {export['seconds']} s "
          f"({export['rows_per_second']:,} rows/s), status {export['status']}")  # fmt: skip
    posted, served = result["moves"]["posted"], result["moves"]["service"]
    print(f"moves posted (htmx): n {posted['n']}, p50 {posted['p50_ms']} ms, "
          f"p95 {posted['p95_ms']} ms, status codes {posted['status_codes']}")  # fmt: skip
    print(f"moves by the service alone: n {served['n']}, p50 {served['p50_ms']} ms, "
          f"p95 {served['p95_ms']} ms")  # fmt: skip
    sys.stdout.flush()


def main(argv: list[str], postgres_server) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    wanted = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    output: dict = {"machine": report.machine(), "args": vars(args) | {"json": None},
                    "backends": []}  # fmt: skip
    with ExitStack() as stack:
        postgres_url = None
        if "postgres" in wanted:
            postgres_url, source = postgres_server(stack)
            if postgres_url is None:
                backends.progress(f"postgres: skipped, {source}")
                wanted.remove("postgres")
        for line in report.machine_lines(output["machine"], None):
            print(line)
        for backend in wanted:
            result = run(backend, args, postgres_url)
            output["backends"].append(result)
            print_result(result)
    report.finish(output, started, args.json)
    return 0
