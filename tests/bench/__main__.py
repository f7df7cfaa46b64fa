"""`python -m tests.bench`: seed many leads, time the dashboard and leads list, read memory.

`python -m tests.bench ingest` instead imports generated lists end to end and scores the
merges (see tests/bench/ingest.py); `python -m tests.bench skiptrace` traces 2,000 leads
through the HTTP skip-trace adapter (see tests/bench/skiptrace.py); `python -m tests.bench
campaigns` drafts, previews, approves and sends a 2,000-text batch (see
tests/bench/campaigns.py); `python -m tests.bench sending` sends 2,000-text batches through
worker processes at several Twilio latencies, with and without errors (see
tests/bench/sending.py); `python -m tests.bench pipeline` times the deal board, list,
export and moves with 10,000 open deals (see tests/bench/pipeline.py); `python -m
tests.bench reports` seeds a team at issue 17's size and times every Reports page (see
tests/bench/reports.py); `python -m tests.bench render` is the default below.

Seeds a team with `--leads` leads (by bulk insert, on the schema `flask db upgrade`
creates, indexes included), signs in as its operator through the Flask test client and
times the dashboard and four views of the leads list `--requests` times each after two
warm-up requests, on SQLite and on PostgreSQL; then exports every lead as CSV once. Last,
it starts the real console under gunicorn (one worker, embedded) and reads the master's
and the worker's memory after start and after 20 requests. It prints figures; it is not
a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from tests.bench import backends, memory, report
from tests.bench.render import WARMUP

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench [render]",
        description="Seed many leads and print the console's render times and memory.",
        epilog="`python -m tests.bench ingest --help`: the list ingestion benchmark.",
    )
    parser.add_argument(
        "--leads", type=int, default=50_000, help="leads to seed per backend (default 50000)"
    )
    parser.add_argument(
        "--requests", type=int, default=40, help="timed requests per page (default 40)"
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "all"),
        default="all",
        help="database to run on; all = SQLite, then PostgreSQL when available (default all)",
    )
    parser.add_argument(
        "--page-budget",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time a slow page fewer times (at least 5) to stay near this (default 30)",
    )
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="cancel a SQL statement after this long and report its page (default 10, 0: never)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the gunicorn memory measurement"
    )
    args = parser.parse_args(argv)
    if args.leads < 1 or args.requests < 1:
        parser.error("--leads and --requests must be at least 1")
    return args


def postgres_server(stack: ExitStack) -> tuple[str | None, str]:
    """A PostgreSQL admin URL (TEST_POSTGRES_URL, or a throwaway server), or why there is none."""
    if os.environ.get("TEST_POSTGRES_URL"):
        return os.environ["TEST_POSTGRES_URL"], "TEST_POSTGRES_URL"
    from tests.servers import PostgresServer

    server = PostgresServer()
    if not (server.initdb and server.pg_ctl):
        return (
            None,
            "initdb and pg_ctl not found (apt-get install postgresql, or set TEST_POSTGRES_URL)",
        )
    backends.progress("postgres: starting a throwaway server (initdb, pg_ctl)")
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001 - any start failure means "not available"
        return None, f"could not start: {exc}"
    stack.callback(server.stop)
    return url, "throwaway server (fsync off)"


def _short_sql(sql: str, width: int = 200) -> str:
    """A statement with long column lists elided, its middle cut to fit `width` characters."""
    sql = re.sub(r"SELECT (?:(?!SELECT|FROM).){40,}? FROM", "SELECT … FROM", sql)
    if len(sql) <= width:
        return sql
    head = width * 2 // 5
    return f"{sql[:head]} … {sql[-(width - head - 3) :]}"


def print_backend(result: dict, postgres_source: str = "") -> None:
    """One backend's seed, page timings, export and slowest statements."""
    name = NAMES[result["backend"]]
    if result.get("server_version"):
        name += f" {result['server_version']}"
    if postgres_source:
        name += f", {postgres_source}"
    seeded, counts = result["seed"], result["seed"]["counts"]
    print(f"\n== {name} ==")
    print(
        f"migrate {result['migrate_seconds']} s; seed {counts['leads']:,} leads in "
        f"{seeded['seconds']} s ({seeded['leads_per_second']:,} leads/s): "
        f"{counts['businesses']:,} businesses, {counts['owners']:,} owners, "
        f"{counts['phones']:,} phones ({counts['mobiles']:,} mobiles), "
        f"{counts['emails']:,} emails; database {result['database_mib']} MiB"
        + (
            f"; VACUUM ANALYZE {seeded['vacuum_analyze_seconds']} s"
            if "vacuum_analyze_seconds" in seeded
            else ""
        )
    )
    print()
    rows, notes = [], []
    for page in result["pages"]:
        if page.get("error"):
            notes.append(f"{page['label']}: {page['error']}")
        if page.get("repeated"):
            times, sql = page["repeated"]["times_per_request"], page["repeated"]["sql"]
            notes.append(f"{page['label']}: one statement runs {times} times a request (N+1?)")
            notes.append(f"    {_short_sql(sql)}")
        if not page["n"]:
            rows.append((page["label"], page["path"], 0, *["—"] * 6))
            continue
        rows.append(
            (
                page["label"],
                page["path"],
                page["n"],
                page["p50_ms"],
                page["p95_ms"],
                page["mean_ms"],
                page["statements"],
                page["sql_mean_ms"],
                page["kib"],
            )
        )
    headers = ("page", "GET", "n", "p50 ms", "p95 ms", "mean ms", "SQL/req", "SQL ms", "KiB")
    print(report.table(headers, rows, align="<<>>>>>>>"))
    print(
        "n = timed requests; SQL/req = statements per request; SQL ms = time in "
        "cursor.execute per request; KiB = response body"
    )
    for note in notes:
        print(f"! {note}")
    export = result["export"]
    if "error" in export:
        print(f"\nexport  GET {export['path']}: {export['error']}")
    else:
        print(
            f"\nexport  GET {export['path']}: {export['rows']:,} rows, {export['mib']} MiB in "
            f"{export['seconds']} s ({export['rows_per_second']:,} rows/s)"
        )
    print("slowest statements over the timed pages (mean of its runs, on which pages):")
    for statement in result["slowest_statements"]:
        mean, runs, pages = statement["mean_ms"], statement["runs"], statement["pages"]
        print(f"  {mean:>8.2f} ms  x{runs:<4} {'; '.join(pages)}")
        print(f"      {_short_sql(statement['sql'])}")
    sys.stdout.flush()


def _p50_p95(page: dict) -> str:
    if not page["n"]:
        return "cancelled"
    return f"{page['p50_ms']:,.1f} / {page['p95_ms']:,.1f}"


def _rows_per_second(export: dict) -> str:
    return "cancelled" if "error" in export else f"{export['rows_per_second']:,}"


def print_summary(results: list[dict]) -> None:
    """p50 / p95 of every page, the backends side by side."""
    if len(results) < 2:
        return
    print("\n== p50 / p95 ms by backend ==")
    rows = [
        [page["label"], *(_p50_p95(r["pages"][i]) for r in results)]
        for i, page in enumerate(results[0]["pages"])
    ]
    rows.append(["export, rows/s", *(_rows_per_second(r["export"]) for r in results)])
    print(report.table(["page", *(NAMES[r["backend"]] for r in results)], rows))


def print_memory(result: dict) -> None:
    """Master and worker memory after start and after the requests."""
    print("\n== Web process memory (embedded: fresh SQLite, migrated, demo team loaded) ==")
    print(f"{result['command']}")
    print(
        f"answered GET /login {result['ready_seconds']} s after start; "
        f"{result['requests']} signed-in requests, mean {result['request_mean_ms']} ms"
    )
    start, after = result["after_start"], result["after_requests"]
    rows = [
        (
            "master",
            start["master"]["rss_mib"],
            after["master"]["rss_mib"],
            after["master"]["peak_mib"],
        )
    ]
    for n, (w_start, w_after) in enumerate(zip(start["workers"], after["workers"], strict=False)):
        rows.append(
            (f"worker {n + 1}", w_start["rss_mib"], w_after["rss_mib"], w_after["peak_mib"])
        )
    total = ("total", *(round(sum(r[i] for r in rows), 1) for i in (1, 2, 3)))
    print()
    print(
        report.table(
            (
                "process",
                "RSS after start MiB",
                f"RSS after {result['requests']} requests MiB",
                "peak RSS MiB",
            ),
            [*rows, total],
        )
    )


def postgres_version(admin_url: str) -> str:
    """The server's version string."""
    import psycopg

    with psycopg.connect(admin_url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def print_header(info: dict, postgres: str | None, args: argparse.Namespace) -> None:
    """The machine, the versions and what is being run."""
    print("Deal origination console benchmark")
    for line in report.machine_lines(info, postgres):
        print(line)
    print(
        f"{'run':<10}{args.leads:,} leads per backend; {args.requests} timed requests per page "
        f"after {WARMUP} warm-ups, Flask test client signed in as an operator"
    )
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks the arguments ask for; print figures, optionally write JSON.

    The first argument may name the benchmark: `render` (the default), `ingest`,
    `skiptrace`, `campaigns`, `replies`, `sending`, `pipeline` or `reports`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ingest"]:
        from tests.bench import ingest

        return ingest.main(argv[1:], postgres_server)
    if argv[:1] == ["skiptrace"]:
        from tests.bench import skiptrace

        return skiptrace.main(argv[1:], postgres_server)
    if argv[:1] == ["campaigns"]:
        from tests.bench import campaigns

        return campaigns.main(argv[1:], postgres_server)
    if argv[:1] == ["replies"]:
        from tests.bench import replies

        return replies.main(argv[1:], postgres_server)
    if argv[:1] == ["sending"]:
        from tests.bench import sending

        return sending.main(argv[1:], postgres_server)
    if argv[:1] == ["pipeline"]:
        from tests.bench import pipeline

        return pipeline.main(argv[1:], postgres_server)
    if argv[:1] == ["reports"]:
        from tests.bench import reports

        return reports.main(argv[1:], postgres_server)
    if argv[:1] == ["render"]:
        argv = argv[1:]
    args = parse_args(argv)
    started = time.perf_counter()
    wanted = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    output: dict = {
        "machine": report.machine(),
        "args": {
            "leads": args.leads,
            "requests": args.requests,
            "backend": args.backend,
            "warmup": WARMUP,
        },
        "backends": [],
    }
    with ExitStack() as stack:
        postgres_url, postgres_source, version = None, "", None
        if "postgres" in wanted:
            postgres_url, postgres_source = postgres_server(stack)
            if postgres_url is None:
                if args.backend == "postgres":
                    print(f"PostgreSQL is not available: {postgres_source}", file=sys.stderr)
                    return 2
                backends.progress(f"postgres: skipped, {postgres_source}")
                version = f"skipped: {postgres_source}"
                wanted.remove("postgres")
            else:
                version = postgres_version(postgres_url)
        output["machine"]["postgres"] = version
        print_header(output["machine"], version, args)
        for backend in wanted:
            result = backends.run(
                backend,
                args.leads,
                args.requests,
                postgres_admin_url=postgres_url,
                page_budget=args.page_budget,
                statement_timeout=args.statement_timeout,
            )
            output["backends"].append(result)
            print_backend(result, postgres_source if backend == "postgres" else "")
    print_summary(output["backends"])
    if not args.no_memory:
        backends.progress("memory: starting gunicorn -w 1 (embedded)")
        output["memory"] = memory.measure()
        print_memory(output["memory"])
    report.finish(output, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
