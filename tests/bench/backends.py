"""One benchmark run on one database: migrate, seed, sign in, time pages and the export."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from console import create_app
from console.config import TestConfig, _sqlalchemy_url
from console.extensions import db
from tests.bench import render, seed
from tests.servers import create_database

BENCH_DATABASE = "console_bench"


def progress(message: str) -> None:
    """A progress note on stderr, so stdout carries only the figures."""
    print(f".. {message}", file=sys.stderr, flush=True)


@contextmanager
def _quiet_logging():
    """Hide the INFO lines Alembic logs while migrating."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_mib(engine, instance: Path) -> float:
    """Size of the database on disk: the SQLite file and its WAL, or pg_database_size."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            size = conn.scalar(text("SELECT pg_database_size(current_database())"))
    else:
        size = sum(path.stat().st_size for path in instance.glob("bench.db*"))
    return round(size / 2**20, 1)


def run(
    backend: str,
    leads: int,
    requests: int,
    *,
    postgres_admin_url: str | None = None,
    page_budget: float = 30.0,
    statement_timeout: float = 10.0,
) -> dict:
    """Benchmark the console on `backend` ("sqlite" or "postgres") with `leads` leads.

    Each page gets about `page_budget` seconds of timed requests; a statement running
    longer than `statement_timeout` seconds is cancelled and its page reported as such.
    """
    instance = Path(tempfile.mkdtemp(prefix=f"console-bench-{backend}-"))
    config = TestConfig({"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)})
    if backend == "postgres":
        if not postgres_admin_url:
            raise ValueError("the postgres backend needs a server URL")
        config.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
            create_database(postgres_admin_url, BENCH_DATABASE)
        )
    else:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'bench.db'}"
    app = create_app(config)
    result: dict = {
        "backend": backend,
        "leads": leads,
        "requests": requests,
        "page_budget_seconds": page_budget,
        "statement_timeout_seconds": statement_timeout,
    }
    try:
        with app.app_context():
            engine = db.engine
            progress(f"{backend}: migrating (flask db upgrade)")
            started = time.perf_counter()
            with _quiet_logging():
                upgrade()
            result["migrate_seconds"] = round(time.perf_counter() - started, 2)
            if backend == "postgres":
                with engine.connect() as conn:
                    result["server_version"] = conn.scalar(text("SHOW server_version"))
            progress(f"{backend}: seeding {leads:,} leads")
            seeded = seed.seed(db.session, leads, config.PASSWORD_HASH_METHOD)
            result["seed"] = {
                "counts": seeded.counts,
                "seconds": round(seeded.seconds, 2),
                "leads_per_second": round(seeded.leads_per_second),
            }
            analyzed = seed.analyze(engine)
            if analyzed:
                result["seed"]["vacuum_analyze_seconds"] = round(analyzed, 2)
            result["database_mib"] = database_mib(engine, instance)
            db.session.remove()

        recorder = render.SqlRecorder(engine, statement_timeout)
        try:
            client = render.signed_in_client(app, seeded.operator_email, seeded.password)
            progress(f"{backend}: timing pages ({render.WARMUP} warm-up + {requests} each)")
            result["pages"] = [
                timing.as_dict()
                for timing in render.time_pages(client, recorder, requests, page_budget)
            ]
            result["slowest_statements"] = render.slowest_statements(recorder)
            progress(f"{backend}: exporting every lead as CSV")
            result["export"] = render.time_export(client, recorder)
        finally:
            recorder.close()
        engine.dispose()
    finally:
        if backend == "postgres":
            _drop_database(postgres_admin_url, BENCH_DATABASE)
        shutil.rmtree(instance, ignore_errors=True)
    return result
