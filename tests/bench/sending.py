"""`python -m tests.bench sending`: texts a second, duplicates and losses, on the real stack.

PostgreSQL (a throwaway server, or TEST_POSTGRES_URL) and Redis (a throwaway
redis-server, or TEST_REDIS_URL; the bench uses a database of its own there) hold one
team seeded as tests/bench/campaigns.py seeds it, with one sender allowed 50 messages a
second. `tests.fakeservers.TwilioServer`, in this process, stands in for Twilio's
Messages API (callbacks off, so sent texts stay `sent`), with a latency and, for the
error set, 10% 429 and 5% 500 answers to creates.

Workers are real `flask --app app worker` processes in production mode (the official
SDK pointed at the fake by TWILIO_API_BASE_URL; each runs the sending ticker behind
the leader lease, which queues `jobs.sending.send_batch`). They start before anything is
timed (importing the console takes seconds), more join as the worker count grows, and
they are never restarted between runs. Every process reads one clock moved by
CONSOLE_CLOCK_OFFSET_SECONDS to noon Central on a coming Tuesday, so quiet hours hold
nothing. `--concurrency` and `--jobs-per-batch` pass DISPATCH_CONCURRENCY and
DISPATCH_JOBS_PER_BATCH to the workers (consoles that do not read them ignore them).

Each run drafts a fresh pool's batch, resets the fake and the Redis rate-limit keys,
then approves every draft and polls until no text of the batch is `approved` or
`sending` (or `--run-timeout` passes: the batch is paused, the texts in flight settle,
and the run is reported as timed out with what it sent so far). Texts a second are
texts created at the fake / (last - first creation), and / (last creation - approval).
From the fake's own log: a recipient created twice is a duplicate; a text of the batch
without exactly one creation at the fake, or whose row did not end `sent` or
`delivered` with that creation's SID, is lost (a text a timed-out run never sent is
counted apart, as unsent). It prints figures beside the issue's aims; it is not a
pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from flask_migrate import upgrade
from rq import Worker
from sqlalchemy import func, select, update

from console import create_app
from console.config import ROOT, Config, TestConfig
from console.extensions import db
from console.models import Batch, Message, Sender, User
from console.models.base import set_clock_offset
from console.services.campaigns import batches
from tests.bench import backends, campaigns, report
from tests.bench.campaigns import md_table
from tests.fakeservers import TwilioServer
from tests.servers import create_database

DATABASE = "console_bench_sending"
# A Redis database of the bench's own: flushed at the start.
REDIS_DB = 12
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "bench-sending-token"
SENDER_MPS = 50.0
ERROR_SET = {429: 0.10, 500: 0.05}
SENT = ("sent", "delivered")
UNSETTLED = ("approved", "sending")
POLL_SECONDS = 0.25
READY_TIMEOUT = 120.0
# After a timed-out run's batch is paused, its texts in flight settle within this.
DRAIN_TIMEOUT = 60.0
AIM_LATENCY_MS = 400
AIM_WORKERS = 2
AIM_RATE = 40.0
AIM_ERROR_SHARE = 0.8


@dataclass(frozen=True)
class Plan:
    """What to run: batch size, latencies (ms), worker counts, error sets, timeout."""

    texts: int
    latencies: list[int]
    workers: list[int]
    errors: bool
    run_timeout: float


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text}") from exc
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"not a list of integers >= 0: {text}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench sending",
        description="Send batches through worker processes to a Twilio fake; print texts/s, "
        "duplicates and losses.",
    )
    parser.add_argument("--texts", type=int, default=2_000, help="texts a batch (default 2000)")
    parser.add_argument(
        "--latencies",
        type=_int_list,
        default=[30, 150, 400],
        help="Twilio's latency in ms, comma-separated (default 30,150,400)",
    )
    parser.add_argument(
        "--workers",
        type=_int_list,
        default=[1, 2, 4],
        help="worker process counts, comma-separated (default 1,2,4)",
    )
    parser.add_argument(
        "--errors",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run every case with 10%% 429 and 5%% 500 answers (default on)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="DISPATCH_CONCURRENCY for the workers (default: unset, the console's default)",
    )
    parser.add_argument(
        "--jobs-per-batch",
        type=int,
        help="DISPATCH_JOBS_PER_BATCH for the workers (default: unset, the console's default)",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="stop a run this long after approval and report it as timed out (default 300)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 200 texts, latencies 30,400, workers 1,2 (explicit options win)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    given = set(argv if argv is not None else sys.argv[1:])
    args = parser.parse_args(argv)
    if args.quick:
        if not any(a.startswith("--texts") for a in given):
            args.texts = 200
        if not any(a.startswith("--latencies") for a in given):
            args.latencies = [30, 400]
        if not any(a.startswith("--workers") for a in given):
            args.workers = [1, 2]
    if args.texts < 1 or min(args.workers) < 1 or args.run_timeout <= 0:
        parser.error("--texts, --workers and --run-timeout must be positive")
    return args


def progress(message: str) -> None:
    """A progress note on stderr, with the seconds since the benchmark started."""
    backends.progress(f"{time.perf_counter() - _STARTED:7.1f} s  {message}")


_STARTED = time.perf_counter()


# ----------------------------------------------------------------------- the stack


def own_redis_db(url: str) -> str:
    """The URL of the bench's own database on the same Redis server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


def console_env(
    database_url: str, redis_url: str, twilio_url: str, folder: Path, offset: float, args
) -> dict[str, str]:
    """The workers' production environment: the sandbox off, Twilio at the fake."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "TWILIO_", "ANTHROPIC_", "CONSOLE_"))
        and not k.startswith("DISPATCH_")
        and k != "SECRET_KEY"
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-sending-secret",
            # Callbacks are off at the fake; nothing needs to listen here.
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": twilio_url,
            "CONSOLE_INSTANCE_PATH": str(folder / "instance"),
            "CONSOLE_UPLOAD_DIR": str(folder / "uploads"),
            "CONSOLE_CLOCK_OFFSET_SECONDS": repr(offset),
        }
    )
    if args.concurrency is not None:
        env["DISPATCH_CONCURRENCY"] = str(args.concurrency)
    if args.jobs_per_batch is not None:
        env["DISPATCH_JOBS_PER_BATCH"] = str(args.jobs_per_batch)
    return env


class Workers:
    """`flask --app app worker` processes; more join when a run needs more."""

    def __init__(self, env: dict[str, str], folder: Path, conn: redis.Redis) -> None:
        self.env, self.folder, self.conn = env, folder, conn
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int) -> None:
        """Start processes until `count` run (without waiting for them)."""
        while len(self.processes) < count:
            n = len(self.processes) + 1
            with (self.folder / f"worker-{n}.log").open("w") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "app", "worker"],
                        cwd=ROOT,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def ensure(self, count: int) -> None:
        """`count` processes running and registered with RQ; raises with their logs if not."""
        self.start(count)
        deadline = time.monotonic() + READY_TIMEOUT
        while len(Worker.all(connection=self.conn)) < count:
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError(f"the workers did not start:\n{self.logs()}")
            time.sleep(0.2)

    def alive(self) -> bool:
        """Whether every process still runs."""
        return all(p.poll() is None for p in self.processes)

    def logs(self, tail: int = 2000) -> str:
        """The end of every worker's log."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-tail:]}"
            for path in sorted(self.folder.glob("worker-*.log"))
        )

    def stop(self) -> None:
        """SIGTERM each (a warm shutdown), SIGKILL any still running after 20 s."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


# ------------------------------------------------------------------------- one run


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def drafted_batch(session, outreach: campaigns.Outreach, tag: str, texts: int) -> int:
    """A fresh pool's batch of `texts` drafts from the 50 MPS sender, not yet approved."""
    campaign_id, _counts = campaigns.pooled_campaign(session, outreach, tag, texts)
    batch_id = campaigns.new_batch(session, campaign_id)
    batches.generate(session, batch_id)
    session.commit()
    return batch_id


def batch_statuses(session, batch_id: int) -> dict[str, int]:
    """The batch's messages by status, read fresh."""
    session.rollback()
    rows = session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.batch_id == batch_id)
        .group_by(Message.status)
    ).all()
    return dict(rows)


def wait_settled(session, batch_id: int, workers: Workers, deadline: float) -> bool:
    """Poll until no text of the batch is approved or sending (True) or the deadline."""
    while time.monotonic() < deadline:
        statuses = batch_statuses(session, batch_id)
        if not any(statuses.get(s) for s in UNSETTLED):
            return True
        if not workers.alive():
            raise RuntimeError(f"a worker exited:\n{workers.logs()}")
        time.sleep(POLL_SECONDS)
    return False


def stop_batch(session, batch_id: int, manager_id: int) -> None:
    """Pause a timed-out batch and wait for its texts in flight to settle."""
    batch = session.get(Batch, batch_id)
    if batch.status in ("in_review", "approved", "sending"):
        batches.pause(batch, session.get(User, manager_id))
        session.commit()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline and batch_statuses(session, batch_id).get("sending"):
        time.sleep(POLL_SECONDS)


def count_once(texts: dict[int, tuple[str, str]], rows: dict[int, tuple[str, str | None]],
               created: list[dict]) -> dict:  # fmt: skip
    """Duplicates and losses from the fake's log of creations, against the batch's rows.

    `texts` are the approved texts {id: (to, status at approval)}, `rows` their final
    {id: (status, SID)}; a text never claimed because its run timed out is `unsent`.
    """
    per_to = Counter(c["to"] for c in created)
    sid_of = {c["to"]: c["sid"] for c in created}
    numbers = {to for to, _ in texts.values()}
    lost = unsent = 0
    examples: list[str] = []
    for message_id, (to, _) in texts.items():
        status, sid = rows[message_id]
        made = per_to.get(to, 0)
        if made == 0 and status == "approved":
            unsent += 1
        elif made > 1:
            continue  # a duplicate, counted below
        elif not (made == 1 and status in SENT and sid == sid_of[to]):
            lost += 1
            if len(examples) < 5:
                examples.append(f"#{message_id} {to}: {status}, {made} created at the fake")
    return {
        "duplicates": sum(n - 1 for n in per_to.values() if n > 1),
        "lost": lost,
        "unsent": unsent,
        "strays": sum(n for to, n in per_to.items() if to not in numbers),
        "lost_examples": examples,
    }


def one_run(
    session, outreach, twilio: TwilioServer, conn: redis.Redis, workers: Workers,
    plan: Plan, case: dict, tag: str,
) -> dict:  # fmt: skip
    """Draft, approve and send one batch with the case's workers, latency and errors."""
    progress(f"{tag}: drafting {plan.texts:,} texts")
    batch_id = drafted_batch(session, outreach, tag, plan.texts)
    workers.ensure(case["workers"])
    twilio.reset()
    twilio.latency = case["latency_ms"] / 1000
    twilio.error_rates = dict(ERROR_SET if case["errors"] else {})
    conn.delete(*conn.keys("console:rate:*") or ["-"])
    progress(f"{tag}: approving and sending")
    started = time.monotonic()
    campaigns.approve_all(session, batch_id, outreach.manager_id)
    texts = {
        message_id: (to, status)
        for message_id, to, status in session.execute(
            select(Message.id, Message.to_e164, Message.status).where(
                Message.batch_id == batch_id, Message.status == "approved"
            )
        )
    }
    settled = wait_settled(session, batch_id, workers, started + plan.run_timeout)
    waited = time.monotonic() - started
    if not settled:
        progress(f"{tag}: timed out after {plan.run_timeout:g} s; pausing the batch")
        stop_batch(session, batch_id, outreach.manager_id)
    session.rollback()
    rows = {
        message_id: (status, sid)
        for message_id, status, sid in session.execute(
            select(Message.id, Message.status, Message.provider_sid).where(
                Message.id.in_(list(texts))
            )
        )
    }
    with twilio.lock:
        created = sorted(twilio.created, key=lambda c: c["at"])
        answered = dict(twilio.errors_answered)
        requests = twilio.requests
    stamps = [c["at"] for c in created]
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    wall = stamps[-1] - started if stamps else 0.0
    return {
        **case,
        "batch_id": batch_id,
        "texts": len(texts),
        "timed_out": not settled,
        "seconds": round(waited, 1),
        "created": len(created),
        "span_seconds": round(span, 2),
        "per_second": round(len(created) / span, 2) if span else None,
        "wall_seconds": round(wall, 2),
        "per_second_wall": round(len(created) / wall, 2) if wall else None,
        "first_create_s": round(stamps[0] - started, 2) if stamps else None,
        "by_status": Counter(status for status, _sid in rows.values()),
        "errors_answered": answered,
        "twilio_requests": requests,
        "load_average": load_average(),
        **count_once(texts, rows, created),
    }


# ------------------------------------------------------------------------ printing


def _rate(run: dict) -> str:
    rate = run["per_second"]
    text = "—" if rate is None else f"{rate:,.2f}"
    return f"{text} (timed out)" if run["timed_out"] else text


def _workers(count: int) -> str:
    return f"{count} worker" + ("s" if count != 1 else "")


def _errors_label(run: dict) -> str:
    return "10% 429 + 5% 500" if run["errors"] else "none"


def print_runs(runs: list[dict]) -> None:
    """One row a run: the rates, exactly once, where the texts ended."""
    print("\n## Runs\n")
    rows = [
        (r["latency_ms"], r["workers"], _errors_label(r), r["texts"], r["created"], _rate(r),
         r["per_second_wall"], r["first_create_s"], r["seconds"], r["duplicates"], r["lost"],
         r["unsent"], ", ".join(f"{s} {n:,}" for s, n in sorted(r["by_status"].items())),
         ", ".join(f"{s}: {n}" for s, n in sorted(r["errors_answered"].items())) or "—",
         r["load_average"])
        for r in runs
    ]  # fmt: skip
    headers = (
        "Twilio ms", "workers", "errors", "texts", "created", "texts/s", "texts/s from approval",
        "first create s", "run s", "duplicates", "lost", "unsent", "final statuses",
        "errors answered", "load after",
    )  # fmt: skip
    print(md_table(headers, rows, ">><>>>>>>>>><<<"))
    print(
        "\ntexts/s = created at the fake / (last - first creation); from approval = created "
        "/ (last creation - approval); first create s = approval to the first creation (the "
        "ticker queues the dispatcher); run s = approval until no text is approved or "
        "sending; unsent = texts a timed-out run never sent (its batch paused); load after = "
        "1, 5, 15 min load averages after the run"
    )
    for r in runs:
        for example in r["lost_examples"]:
            print(f"! {r['latency_ms']} ms, {_workers(r['workers'])}, errors "
                  f"{_errors_label(r)}: lost {example}")  # fmt: skip
        if r["strays"]:
            print(f"! {r['strays']} creations at the fake for numbers outside the batch")


def _find(runs: list[dict], latency: int, workers: int, errors: bool) -> dict | None:
    wanted = (latency, workers, errors)
    return next((r for r in runs if (r["latency_ms"], r["workers"], r["errors"]) == wanted), None)


def aim_checks(runs: list[dict]) -> list[tuple[str, str, str, bool | None]]:
    """(case, aim, figure, met) for each aim; met is None when the case was not run."""
    checks: list[tuple[str, str, str, bool | None]] = []
    target = _find(runs, AIM_LATENCY_MS, AIM_WORKERS, False)
    case = f"{AIM_LATENCY_MS} ms, MPS {SENDER_MPS:g}, {AIM_WORKERS} workers"
    if target is None:
        checks.append((case, f">= {AIM_RATE:g} texts/s", "not run", None))
    else:
        rate = target["per_second"] or 0.0
        met = rate >= AIM_RATE and not target["timed_out"]
        checks.append((case, f">= {AIM_RATE:g} texts/s", _rate(target), met))
    for run in runs:
        if not run["errors"]:
            continue
        clean = _find(runs, run["latency_ms"], run["workers"], False)
        case = f"15% errors, {run['latency_ms']} ms, {_workers(run['workers'])}"
        aim = f">= {AIM_ERROR_SHARE:.0%} of the error-free rate"
        if clean is None or not clean["per_second"]:
            checks.append((case, aim, "no error-free figure", None))
            continue
        share = (run["per_second"] or 0.0) / clean["per_second"]
        figure = f"{share:.0%} ({_rate(run)} vs {_rate(clean)})"
        checks.append((case, aim, figure, share >= AIM_ERROR_SHARE and not run["timed_out"]))
    for run in runs:
        case = f"{run['latency_ms']} ms, {_workers(run['workers'])}, errors {_errors_label(run)}"
        figure = f"{run['duplicates']} duplicates, {run['lost']} lost"
        once = not run["duplicates"] and not run["lost"]
        checks.append((case, "0 duplicates, 0 lost", figure, once))
    return checks


def print_aims(runs: list[dict]) -> list[str]:
    """The aims with ✓ or ✗; returns the misses."""
    print("\n## Aims\n")
    checks = aim_checks(runs)
    mark = {True: "✓", False: "✗", None: "not run"}
    rows = [(case, aim, figure, mark[met]) for case, aim, figure, met in checks]
    print(md_table(("case", "aim", "figure", "met"), rows, "<<<<"))
    print("\n(a timed-out run misses its rate aims whatever its rate so far)")
    return [f"{case}: {aim}, {figure}" for case, aim, figure, met in checks if met is False]


def print_header(info: dict, postgres: str, redis_source: str, args, plan: Plan, clock) -> None:
    """The machine, the versions and the plan."""
    print("# Deal origination console benchmark: sending\n")
    memory = f"{info['memory_gib']} GiB"
    if info["cgroup_memory_limit_gib"]:
        memory += f" (cgroup limit {info['cgroup_memory_limit_gib']} GiB)"
    cpus = f"{info['cpus']}" + (
        f" ({info['cpus_usable']} usable)" if info["cpus_usable"] != info["cpus"] else ""
    )
    settings = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("DISPATCH_CONCURRENCY", args.concurrency),
            ("DISPATCH_JOBS_PER_BATCH", args.jobs_per_batch),
        )
        if value is not None
    )
    latencies = ", ".join(str(x) for x in plan.latencies)
    counts = ", ".join(str(x) for x in plan.workers)
    errors = "none, then 10% 429 + 5% 500" if plan.errors else "none"
    rows = [
        ("CPUs", f"{cpus}, {info['cpu_model']}"),
        ("RAM", memory),
        ("load at start", " ".join(str(x) for x in info["load_average"])),
        ("Python", f"{info['python']} (SQLAlchemy {info['sqlalchemy']}, "
         f"psycopg {info['psycopg']})"),
        ("PostgreSQL", postgres),
        ("Redis", redis_source),
        ("run", f"{'quick: ' if args.quick else ''}{plan.texts:,}-text batches; Twilio at "
         f"{latencies} ms; {counts} workers; sender MPS {SENDER_MPS:g}; errors {errors}; "
         f"timeout {plan.run_timeout:g} s a run"),
        ("workers' settings", settings or "the console's defaults"),
        ("workers' clock", f"{clock.isoformat()} at the start (noon Central, a Tuesday)"),
    ]  # fmt: skip
    print(md_table(("machine", ""), rows, "<<"))
    sys.stdout.flush()


# ---------------------------------------------------------------------------- main


def cases(plan: Plan) -> Iterator[dict]:
    """Runs in the order that only ever adds workers: by worker count, then errors, latency."""
    for workers in sorted(set(plan.workers)):
        for errors in (False, True) if plan.errors else (False,):
            for latency in plan.latencies:
                yield {"workers": workers, "errors": errors, "latency_ms": latency}


@contextmanager
def console(env: dict[str, str]) -> Iterator:
    """This process's app on the workers' database and clock, migrated; restores the clock."""
    app = create_app(Config(env))
    try:
        with app.app_context():
            with backends._quiet_logging():
                upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        set_clock_offset(0)


def run_all(args, plan: Plan, postgres_url: str, redis_url: str, folder: Path) -> dict:
    """Every case, on one database, one fake and one growing set of workers."""
    clock = campaigns.next_tuesday_noon([s for s, *_ in campaigns.STATES])
    offset = (clock - datetime.now(UTC)).total_seconds()
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    database_url = create_database(postgres_url, DATABASE)
    runs: list[dict] = []
    with ExitStack() as stack:
        twilio = stack.enter_context(TwilioServer(ACCOUNT_SID, AUTH_TOKEN, callbacks=False))
        # The reconciler compares Twilio's dates with its claims: one clock for both.
        twilio.clock = lambda: datetime.now(UTC) + timedelta(seconds=offset)
        env = console_env(database_url, redis_url, twilio.url, folder, offset, args)
        stack.enter_context(console(env))
        workers = Workers(env, folder, conn)
        stack.callback(workers.stop)
        progress(f"migrated; starting {min(plan.workers)} worker(s)")
        workers.start(min(plan.workers))
        session = db.session
        outreach = campaigns.setup_team(session, TestConfig.PASSWORD_HASH_METHOD)
        session.execute(
            update(Sender).where(Sender.id == outreach.fast_sender_id).values(mps=SENDER_MPS)
        )
        session.commit()
        for n, case in enumerate(cases(plan), start=1):
            tag = f"run-{n}"
            run = one_run(session, outreach, twilio, conn, workers, plan, case, tag)
            progress(f"{tag}: {run['created']:,} created, {_rate(run)} texts/s, "
                     f"{run['duplicates']} duplicates, {run['lost']} lost")  # fmt: skip
            runs.append(run)
    backends._drop_database(postgres_url, DATABASE)
    return {"clock": clock, "runs": runs}


def main(
    argv: list[str] | None = None,
    postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None = None,
) -> int:
    """Run every case; print figures and aims, optionally write JSON."""
    args = parse_args(argv)
    plan = Plan(args.texts, args.latencies, args.workers, args.errors, args.run_timeout)
    started = time.perf_counter()
    output: dict = {
        "machine": report.machine(),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
    }
    folder = Path(tempfile.mkdtemp(prefix="console-bench-sending-"))
    with ExitStack() as stack:
        found = campaigns.services(stack, postgres_server)
        if found is None:
            return 2
        redis_url, redis_source = found.redis_url, found.redis_source
        postgres_url, postgres = found.postgres_url, found.postgres
        output["machine"]["postgres"] = postgres
        result = run_all(args, plan, postgres_url, own_redis_db(redis_url), folder)
    print_header(output["machine"], postgres, redis_source, args, plan, result["clock"])
    output["runs"] = result["runs"]
    print_runs(result["runs"])
    output["missed"] = print_aims(result["runs"])
    print(f"\nworkers' logs: {folder}")
    report.finish(output, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
