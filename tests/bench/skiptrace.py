"""`python -m tests.bench skiptrace`: a skip-trace pass of 2,000 leads through the HTTP adapter.

For each backend (SQLite in a temporary file, PostgreSQL on a throwaway server when one
can be started) it migrates a fresh database, seeds a team of `--leads` leads (every
business with a name, address and office phone, most with an owner, no owner mobile,
every business name distinct) and starts `tests.fakeservers.VendorServer` answering in
100 ms with a 60% hit rate, decided by the business name. One HTTP provider points at
it ($0.05 a search, $0.10 a hit, 100 calls a second) and `waterfall.run_pass` traces
every lead in this process, with the offline line checker, as the job would. Then it
runs a second pass over the same leads, which should call the vendor for none of them.

It does this at the provider's concurrency of 16 and again, on a second team seeded
alike, at 8 (a more careful vendor setting), and prints wall time, lookups per second,
the vendor's peak of requests in flight, hits, spend against the sum of the result rows
and against the price list, business names the vendor was asked about twice, and
where the pass's time and SQL statements went, step by step. The vendor's measured round
trip is printed too: the fake sends headers and body in two writes, so Nagle's algorithm
adds about 40 ms to its 100 ms unless `--vendor-nodelay` is given. It prints figures
and the issue's aims beside them; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from functools import wraps
from pathlib import Path

import requests
from flask_migrate import upgrade
from sqlalchemy import event, select, text

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from console.models import Business, Lead, Owner, Phone, SkipTraceRun, Team
from console.providers.lookup import OfflineLookup
from console.providers.skiptrace.http import DEFAULT_BODY, EndpointRules
from console.services import accounts
from console.services.lists.business_fields import normalized_business_name
from console.services.lists.leads import allocate_codes
from console.services.tracing import pass_reports, provider_settings, waterfall
from tests.bench import backends, report, seed
from tests.fakeservers import VendorServer
from tests.servers import create_database

DATABASE = "console_bench_skiptrace"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
LATENCY = 0.1
HIT_RATE = 0.6
COST_PER_SEARCH = Decimal("0.05")
COST_PER_HIT = Decimal("0.10")
RATE_PER_SECOND = 100
TIMEOUT_SECONDS = 10
CONCURRENCIES = (16, 8)
OWNER_SHARE = 0.7
# The aims the issue sets, for 2,000 leads.
AIM_LEADS = 2_000
AIM_SECONDS = 30.0
# The benchmark's vendor listens on loopback, which consoles refuse unless told.
LOCAL_VENDOR = EndpointRules(allow_http=True, allow_private=True)
# run_pass's steps, timed by wrapping the module's functions during a pass: (label, name).
# Each step's time and statements exclude the steps it calls, so the rows add up.
PHASES = (
    ("vendor calls + recording", "_make_calls"),
    ("claims + commits", "_call_within_budget"),
    ("earlier results", "_prior_results"),
    ("apply results to leads", "_finish_leads"),
    ("line check + scoring", "_check_and_score"),
    ("load leads, rest of chunk", "_trace_chunk"),
)
OUTSIDE = "outside chunks"
ROUND_TRIPS = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench skiptrace",
        description="Trace many leads through the HTTP skip-trace adapter against a local "
        "vendor and print time, throughput, concurrency and spend.",
    )
    parser.add_argument(
        "--leads", type=int, default=AIM_LEADS, help=f"leads per pass (default {AIM_LEADS})"
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "all"),
        default="all",
        help="database to run on; all = SQLite, then PostgreSQL when available (default all)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=list(CONCURRENCIES),
        metavar="N",
        help="the provider's max_concurrency, one pass each (default 16 8)",
    )
    parser.add_argument(
        "--vendor-nodelay",
        action="store_true",
        help="set TCP_NODELAY on the fake vendor's sockets, so its answers are not held "
        "back by Nagle's algorithm and 100 ms means 100 ms",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    if args.leads < 1 or any(not 1 <= n <= 64 for n in args.concurrency):
        parser.error("--leads is at least 1 and --concurrency from 1 to 64")
    return args


# --------------------------------------------------------------------------- seeding


def business_names(count: int, rng: random.Random) -> list[str]:
    """`count` distinct business names of the shape a purchased list has."""
    suffixes = sorted(set(seed.SUFFIXES))
    combos = [
        (prefix, trade, suffix)
        for prefix in seed.PREFIXES
        for trade, _sic, _industry in seed.TRADES
        for suffix in suffixes
    ]
    picked = rng.sample(combos, min(count, len(combos)))
    # Past every combination, branches get numbers: still distinct, still plausible.
    picked += [(*rng.choice(combos)[:2], f"No. {n}") for n in range(count - len(picked))]
    return [" ".join(part for part in parts if part) for parts in picked]


def trace_rows(team_id: int, codes: list[str], start_ids: dict[str, int]) -> dict[str, list]:
    """Businesses with an office phone, owners for most, and their leads, by explicit ids."""
    rng = random.Random(20261122)  # every team gets the same list, so the passes compare
    locations, titles = seed._sample()
    names = business_names(len(codes), rng)
    ids = dict(start_ids)
    rows: dict[str, list[dict]] = {"businesses": [], "owners": [], "phones": [], "leads": []}
    for code, name in zip(codes, names, strict=True):
        city, state, zip_code, county, area = rng.choice(locations)
        business_id = ids["businesses"]
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
            }
        )
        rows["phones"].append(
            {
                "id": ids["phones"],
                "team_id": team_id,
                "business_id": business_id,
                "owner_id": None,
                "e164": f"+1{area or '512'}555{rng.randint(0, 9999):04d}",
                "extension": "",
                "kind": "office",
                "source": seed.SOURCE,
            }
        )
        owner_id = None
        if rng.random() < OWNER_SHARE:
            first, last = rng.choice(seed.FIRST_NAMES), rng.choice(seed.LAST_NAMES)
            owner_id = ids["owners"]
            rows["owners"].append(
                {
                    "id": owner_id,
                    "team_id": team_id,
                    "first_name": first,
                    "last_name": last,
                    "full_name": f"{first} {last}",
                    "title": rng.choice(titles),
                }
            )
            ids["owners"] += 1
        rows["leads"].append(
            {
                "id": ids["leads"],
                "team_id": team_id,
                "code": code,
                "business_id": business_id,
                "owner_id": owner_id,
                "status": "new",
                "provenance": {"source": seed.SOURCE, "file": "bench-trace.csv"},
            }
        )
        ids["businesses"] += 1
        ids["phones"] += 1
        ids["leads"] += 1
    return rows


def seed_team(session, name: str, leads: int) -> tuple[int, dict[str, int], float]:
    """A team called `name` with `leads` leads to trace: its id, row counts and seconds."""
    started = time.perf_counter()
    team = accounts.get_or_create_team(session, name)
    codes = allocate_codes(session, team.id, leads)
    conn = session.connection()
    tables = {
        "businesses": Business.__table__,
        "owners": Owner.__table__,
        "phones": Phone.__table__,
        "leads": Lead.__table__,
    }
    start_ids = {name: seed._next_id(conn, table) for name, table in tables.items()}
    rows = trace_rows(team.id, codes, start_ids)
    for table_name, table in tables.items():
        seed._bulk_insert(conn, table, rows[table_name])
    if conn.dialect.name == "postgresql":
        for table_name in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                    f"(SELECT max(id) FROM {table_name}))"
                )
            )
    team_id = team.id
    session.commit()
    return team_id, {k: len(v) for k, v in rows.items()}, time.perf_counter() - started


# ------------------------------------------------------------------------- one pass


def http_provider(session, team_id: int, server: VendorServer, concurrency: int, key: str):
    """The team's one HTTP provider, calling `server` at the benchmark's prices and limits."""
    provider = provider_settings.add_provider(session, team_id, "http", "Bench vendor")
    provider_settings.update_provider(
        provider,
        {
            "enabled": "y",
            "endpoint": server.url + "/search",
            "method": "POST",
            "auth_header": "Authorization",
            "auth_prefix": "Bearer ",
            "secret": server.api_key,
            "body_template": DEFAULT_BODY,
            "results_path": "results",
            "owner_name_path": "name",
            "title_path": "title",
            "phones_path": "phones",
            "phone_number_key": "number",
            "phone_type_key": "type",
            "emails_path": "emails",
            "addresses_path": "addresses",
            "confidence_path": "confidence",
            "timeout_seconds": str(TIMEOUT_SECONDS),
            "cost_per_search": str(COST_PER_SEARCH),
            "cost_per_hit": str(COST_PER_HIT),
            "rate_per_second": str(RATE_PER_SECOND),
            "max_concurrency": str(concurrency),
        },
        key,
        LOCAL_VENDOR,
    )
    session.commit()
    return provider


class NoDelayVendor(VendorServer):
    """The fake vendor with TCP_NODELAY on its sockets.

    It writes an answer's headers and body in two sends; with Nagle's algorithm on, the
    body waits for the client's delayed ACK of the headers (about 40 ms on Linux).
    """

    def start(self) -> NoDelayVendor:
        """Start, then hand new connections to a handler that disables Nagle."""
        super().start()
        handler = self._server.RequestHandlerClass
        self._server.RequestHandlerClass = type(
            handler.__name__, (handler,), {"disable_nagle_algorithm": True}
        )
        return self


def round_trip_ms(server: VendorServer, count: int = ROUND_TRIPS) -> float:
    """The mean time of `count` sequential searches, on one kept-alive connection."""
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with requests.Session() as client:
        started = time.perf_counter()
        for n in range(count):
            client.post(
                server.url + "/search", json={"business_name": f"Ping {n}"}, headers=headers
            )
        return (time.perf_counter() - started) / count * 1000


@contextmanager
def phase_timer(engine) -> Iterator[dict[str, dict]]:
    """Seconds and SQL statements in each of PHASES during the block, each step's own.

    Wraps the skiptrace functions it still has, and counts the engine's statements
    against the innermost step running (only run_pass's thread touches the database).
    """
    figures = {label: {"seconds": 0.0, "statements": 0} for label, _ in PHASES}
    figures[OUTSIDE] = {"seconds": 0.0, "statements": 0}
    running: list[str] = []
    originals = {}

    def timed(label: str, function: Callable) -> Callable:
        @wraps(function)
        def wrapper(*args, **kwargs):
            running.append(label)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - started
                running.pop()
                figures[label]["seconds"] += seconds
                if running:
                    figures[running[-1]]["seconds"] -= seconds

        return wrapper

    def count(*_args) -> None:
        figures[running[-1] if running else OUTSIDE]["statements"] += 1

    for label, name in PHASES:
        if callable(getattr(waterfall, name, None)):
            originals[name] = getattr(waterfall, name)
            setattr(waterfall, name, timed(label, originals[name]))
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield figures
    finally:
        event.remove(engine, "before_cursor_execute", count)
        for name, function in originals.items():
            setattr(waterfall, name, function)


def timed_pass(session, team_id: int, lead_ids: list[int], key: str) -> dict:
    """Create a pass over `lead_ids` and run it to the end; its run, summary and timings."""
    team = session.get(Team, team_id)
    run = waterfall.create_run(
        session, team, lead_ids, filters={"bench": "skiptrace"}, budget=None, started_by_id=None
    )
    session.commit()
    options = waterfall.PassOptions(
        secrets_key=key, checker=OfflineLookup(), endpoint_rules=LOCAL_VENDOR
    )
    with phase_timer(session.get_bind()) as phases:
        started = time.perf_counter()
        waterfall.run_pass(session, run.id, options)
        wall = time.perf_counter() - started
    phases[OUTSIDE]["seconds"] = wall - sum(
        phase["seconds"] for label, phase in phases.items() if label != OUTSIDE
    )
    session.expire_all()
    run = session.get(SkipTraceRun, run.id)
    summary = pass_reports.summarize(session, run)
    return {"run": run, "summary": summary, "wall": wall, "phases": phases}


def pass_figures(done: dict, server: VendorServer, leads: int) -> dict:
    """The issue's figures for one pass, from the run, its result rows and the vendor."""
    run, summary, wall = done["run"], done["summary"], done["wall"]
    found = sum(p.found for p in summary.providers)
    calls = summary.calls
    asked = len(server.requests)
    counts = run.counts or {}
    return {
        "leads": leads,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "wall_seconds": round(wall, 2),
        "vendor_requests": asked,
        "result_rows": calls,
        "lookups_per_second": round(asked / wall, 1) if wall else 0.0,
        "peak_concurrency": server.peak,
        "hits": summary.hits,
        "found": found,
        "errors": sum(p.errors for p in summary.providers),
        "hit_rate": round(summary.hit_rate, 4) if summary.hit_rate is not None else None,
        "vendor_hits": sum(1 for name in server.calls_by_name if server.hits(name)),
        "spent": run.spent,
        "result_cost": summary.trace_cost,
        "expected_cost": calls * COST_PER_SEARCH + found * COST_PER_HIT,
        "paid_twice": sum(1 for n in server.calls_by_name.values() if n > 1),
        "skipped_fresh": counts.get("skipped_fresh", 0),
        "reused": counts.get("reused", 0),
        "statements": sum(phase["statements"] for phase in done["phases"].values()),
        "phases": {
            label: {"seconds": round(phase["seconds"], 2), "statements": phase["statements"]}
            for label, phase in done["phases"].items()
        },
        "summary": pass_reports.as_dict(run, summary),
    }


def trace_twice(session, team_id: int, server: VendorServer, concurrency: int, key: str) -> dict:
    """A first pass over every lead of the team, then a second over the same leads."""
    http_provider(session, team_id, server, concurrency, key)
    team = session.get(Team, team_id)
    lead_ids = list(session.scalars(select(Lead.id).where(Lead.team_id == team_id)))
    plan = waterfall.plan_pass(session, team, lead_ids)
    server.reset()
    backends.progress(f"  first pass, {len(plan.to_trace):,} leads at concurrency {concurrency}")
    first = pass_figures(timed_pass(session, team_id, plan.to_trace, key), server, len(lead_ids))
    first["planned"] = len(plan.to_trace)
    first["plan_cost_expected"] = plan.cost_expected
    server.reset()
    backends.progress(f"  second pass over the same {len(lead_ids):,} leads")
    again = pass_figures(timed_pass(session, team_id, lead_ids, key), server, len(lead_ids))
    return {"concurrency": concurrency, "first": first, "again": again}


def run_backend(
    backend: str,
    leads: int,
    concurrencies: list[int],
    postgres_admin_url: str | None,
    vendor: type[VendorServer] = VendorServer,
) -> dict:
    """Migrate a fresh database on `backend` and trace a freshly seeded team per concurrency."""
    instance = Path(tempfile.mkdtemp(prefix=f"console-bench-trace-{backend}-"))
    config = TestConfig({"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)})
    if backend == "postgres":
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
            create_database(postgres_admin_url, DATABASE)
        )
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'bench.db'}"
    app = create_app(config)
    result: dict = {"backend": backend, "passes": []}
    try:
        with app.app_context(), vendor(latency=LATENCY, hit_rate=HIT_RATE) as server:
            result["vendor"] = server.url + "/search"
            result["round_trip_ms"] = round(round_trip_ms(server), 1)
            backends.progress(f"{backend}: migrating (flask db upgrade)")
            started = time.perf_counter()
            with backends._quiet_logging():
                upgrade()
            result["migrate_seconds"] = round(time.perf_counter() - started, 2)
            if backend == "postgres":
                result["server_version"] = db.session.scalar(text("SHOW server_version"))
            for number, concurrency in enumerate(concurrencies, start=1):
                backends.progress(f"{backend}: seeding {leads:,} leads (concurrency {concurrency})")
                team_id, counts, seconds = seed_team(
                    db.session, f"Bench Trace {number} (concurrency {concurrency})", leads
                )
                seed.analyze(db.engine)
                traced = trace_twice(
                    db.session, team_id, server, concurrency, app.config["SECRETS_KEY"]
                )
                traced["seed"] = {"counts": counts, "seconds": round(seconds, 2)}
                result["passes"].append(traced)
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgres":
            backends._drop_database(postgres_admin_url, DATABASE)
        shutil.rmtree(instance, ignore_errors=True)
    return result


# ------------------------------------------------------------------------- printing


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _same(a: Decimal, b: Decimal) -> str:
    return "yes" if a == b else f"NO ({_money(a - b)} apart)"


def print_backend(result: dict, postgres_source: str = "") -> None:
    """One backend's passes: the first-pass figures, the second pass, where time went."""
    name = NAMES[result["backend"]]
    if result.get("server_version"):
        name += f" {result['server_version']}"
    if postgres_source:
        name += f", {postgres_source}"
    print(f"\n== {name} ==")
    seeded = result["passes"][0]["seed"]
    counts = seeded["counts"]
    print(
        f"vendor {result['vendor']}: {result['round_trip_ms']} ms a search, the mean of "
        f"{ROUND_TRIPS} sequential ones (its latency is {LATENCY * 1000:g} ms)"
    )
    print(
        f"migrate {result['migrate_seconds']} s; each team seeded in ~{seeded['seconds']} s: "
        f"{counts['leads']:,} leads, {counts['businesses']:,} businesses with an office phone "
        f"({counts['phones']:,}), {counts['owners']:,} owners, no owner mobiles"
    )
    print()
    rows = []
    for traced in result["passes"]:
        f = traced["first"]
        rows.append(
            (
                traced["concurrency"],
                f["leads"],
                f"{f['wall_seconds']:.2f}",
                f["vendor_requests"],
                f["lookups_per_second"],
                f["peak_concurrency"],
                f["hits"],
                f"{f['hit_rate']:.1%}" if f["hit_rate"] is not None else "—",
                f["errors"],
                _money(f["spent"]),
                _same(f["spent"], f["result_cost"]),
                _money(f["expected_cost"]),
                f["paid_twice"],
            )
        )
    headers = (
        "max conc.", "leads", "wall s", "lookups", "lookups/s", "peak", "hits", "hit rate",
        "errors", "spend", "= rows", "expected", "paid twice",
    )  # fmt: skip
    print(report.table(headers, rows, align=">" * len(headers)))
    print(
        "lookups = requests the vendor received; peak = most requests in flight at the "
        "vendor; spend = run.spent; = rows: equals the sum of the result rows' cost; "
        f"expected = calls x ${COST_PER_SEARCH} + found x ${COST_PER_HIT}; paid twice = "
        "business names the vendor was asked about more than once"
    )
    for traced in result["passes"]:
        f = traced["first"]
        if f["status"] != "done":
            print(f"! concurrency {traced['concurrency']}: pass {f['status']}: {f['stop_reason']}")
        if f["planned"] != f["leads"]:
            print(f"! concurrency {traced['concurrency']}: plan_pass chose {f['planned']:,} leads")
        if f["vendor_hits"] != f["found"]:
            print(
                f"! concurrency {traced['concurrency']}: the vendor had {f['vendor_hits']:,} "
                f"hits among the names it was asked, the result rows say {f['found']:,} found"
            )
        if f["spent"] != f["expected_cost"]:
            print(f"! concurrency {traced['concurrency']}: spend differs from the price list")

    print("\nsecond pass over the same leads (freshness window: no lookup paid twice)")
    rows = [
        (
            traced["concurrency"],
            traced["again"]["leads"],
            f"{traced['again']['wall_seconds']:.2f}",
            traced["again"]["vendor_requests"],
            traced["again"]["result_rows"],
            traced["again"]["skipped_fresh"],
            _money(traced["again"]["spent"]),
        )
        for traced in result["passes"]
    ]
    print(
        report.table(
            (
                "max conc.",
                "leads",
                "wall s",
                "vendor calls",
                "result rows",
                "skipped fresh",
                "spend",
            ),
            rows,
            align=">" * 7,
        )
    )

    print("\nwhere the first pass's time went: seconds / SQL statements, each step's own")
    passes = result["passes"]
    rows = [
        (
            label,
            *(
                f"{p['first']['phases'][label]['seconds']:.2f} / "
                f"{p['first']['phases'][label]['statements']:,}"
                for p in passes
            ),
        )
        for label in (*(label for label, _ in PHASES), OUTSIDE)
    ]
    rows.append(
        (
            "whole pass",
            *(f"{p['first']['wall_seconds']:.2f} / {p['first']['statements']:,}" for p in passes),
        )
    )
    rows.append(
        (
            "SQL statements a lead",
            *(f"{p['first']['statements'] / p['first']['leads']:.1f}" for p in passes),
        )
    )
    print(
        report.table(("step of run_pass", *(f"max conc. {p['concurrency']}" for p in passes)), rows)
    )
    print(
        "vendor calls + recording: the thread pool, the rate limit and writing each answer "
        "on its row; claims: the pending rows written and committed before calling"
    )
    sys.stdout.flush()


def print_aims(results: list[dict], leads: int) -> list[str]:
    """The issue's aims beside the figures; the ones missed."""
    print(f"\n== aims: {AIM_LEADS:,} leads under {AIM_SECONDS:g} s, no lookup paid twice ==")
    missed = []
    for result in results:
        for traced in result["passes"]:
            first, again = traced["first"], traced["again"]
            where = f"{NAMES[result['backend']]}, concurrency {traced['concurrency']}"
            checks = [
                (
                    f"{first['leads']:,} leads in {first['wall_seconds']:.1f} s",
                    first["wall_seconds"] < AIM_SECONDS * leads / AIM_LEADS,
                ),
                (f"{first['paid_twice']} names paid twice", first["paid_twice"] == 0),
                (
                    f"second pass: {again['vendor_requests']} calls, {_money(again['spent'])}",
                    again["vendor_requests"] == 0 and again["spent"] == 0,
                ),
            ]
            for text_, met in checks:
                print(f"  {'met   ' if met else 'MISSED'}  {where}: {text_}")
                if not met:
                    missed.append(f"{where}: {text_}")
    return missed


def print_header(info: dict, version: str | None, args: argparse.Namespace, wanted) -> None:
    """The machine, the versions, the vendor and provider settings."""
    print("Deal origination console benchmark: skip-trace pass through the HTTP adapter")
    for line in report.machine_lines(info, version):
        print(line)
    print(
        f"{'vendor':<10}tests.fakeservers.VendorServer on loopback, in this process: "
        f"{LATENCY * 1000:g} ms latency, {HIT_RATE:.0%} hit rate (by business name), "
        f"POST /search" + (", TCP_NODELAY" if args.vendor_nodelay else "")
    )
    print(
        f"{'provider':<10}HTTP, ${COST_PER_SEARCH} a search + ${COST_PER_HIT} a hit, "
        f"rate {RATE_PER_SECOND} calls/s, max_concurrency "
        f"{' then '.join(str(n) for n in args.concurrency)}, timeout {TIMEOUT_SECONDS} s, "
        f"{waterfall.CHUNK} leads a chunk"
    )
    print(
        f"{'run':<10}{args.leads:,} leads a team, one team per concurrency; "
        f"{', '.join(NAMES[b] for b in wanted)}; run_pass in process, OfflineLookup checker"
    )
    sys.stdout.flush()


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def main(
    argv: list[str] | None = None,
    postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None = None,
) -> int:
    """Run the passes the arguments ask for; print figures, optionally write JSON."""
    args = parse_args(argv)
    started = time.perf_counter()
    output: dict = {"machine": report.machine(), "args": {**vars(args)}, "backends": []}
    wanted = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    with ExitStack() as stack:
        postgres_url, postgres_source, version = None, "", None
        if "postgres" in wanted:
            postgres_url, postgres_source = (
                postgres_server(stack) if postgres_server else (None, "no server given")
            )
            if postgres_url is None:
                if args.backend == "postgres":
                    print(f"PostgreSQL is not available: {postgres_source}", file=sys.stderr)
                    return 2
                backends.progress(f"postgres: skipped, {postgres_source}")
                version = f"skipped: {postgres_source}"
                wanted.remove("postgres")
            else:
                import psycopg

                with psycopg.connect(postgres_url) as conn:
                    version = conn.execute("SHOW server_version").fetchone()[0]
        output["machine"]["postgres"] = version
        print_header(output["machine"], version, args, wanted)
        if "postgres" not in wanted and args.backend == "all":
            print(f"note: PostgreSQL skipped ({postgres_source})")
        for backend in wanted:
            result = run_backend(
                backend,
                args.leads,
                args.concurrency,
                postgres_url,
                NoDelayVendor if args.vendor_nodelay else VendorServer,
            )
            output["backends"].append(result)
            print_backend(result, postgres_source if backend == "postgres" else "")
    output["missed"] = print_aims(output["backends"], args.leads)
    report.finish(_jsonable(output), started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
