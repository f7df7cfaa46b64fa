"""Render times of the dashboard and the leads list, through the Flask test client.

Every request runs in a context of its own, as in a real server, so requests share no
app context or database session. SQL statements are counted and timed per request with
engine events, which shows how much of a page is the database and which statement is
the slowest.
"""

from __future__ import annotations

import contextvars
import csv
import io
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tests.bench.seed import SEARCH_WORD
from tests.bench.stats import summarize

WARMUP = 2
# A page too slow for every requested run within its budget is still timed this often.
MIN_REQUESTS = 5
# A statement run this often in one request is reported as a likely N+1 query.
REPEATED = 10
# (label, path) of every page timed, in the order printed.
PAGES: tuple[tuple[str, str], ...] = (
    ("dashboard", "/"),
    ("leads, first page", "/leads/"),
    ("leads, page 500", "/leads/?page=500"),
    (f"leads, search {SEARCH_WORD!r}", f"/leads/?q={SEARCH_WORD}"),
    ("leads, TX with mobile", "/leads/?state=TX&has_mobile=yes"),
)
EXPORT_PATH = "/leads/export.csv"


class IsolatedClient(FlaskClient):
    """A test client whose requests each run in a fresh context, as in a real server."""

    def open(self, *args, **kwargs):
        """Send a request in its own context, reading a streamed body inside it."""
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


class SqlRecorder:
    """Counts and times the SQL statements an engine runs, per request and per statement.

    Times are those of `cursor.execute` (fetching large results is not included).
    """

    def __init__(self, engine: Engine, statement_timeout: float = 0.0) -> None:
        self.engine = engine
        self.statement_timeout = statement_timeout
        self.statements = 0
        self.seconds = 0.0
        self.by_statement: dict[str, list[float]] = defaultdict(list)
        self.pages_of: dict[str, set[str]] = defaultdict(set)
        self.in_request: Counter[str] = Counter()
        self.page = ""
        self.recording = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        if statement_timeout:
            limit_statements(engine, statement_timeout)

    def close(self) -> None:
        """Stop listening."""
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        """Start counting a new request."""
        self.statements, self.seconds = 0, 0.0
        self.in_request.clear()

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started")
        if not self.recording:
            return
        self.statements += 1
        self.seconds += elapsed
        key = " ".join(statement.split())
        self.by_statement[key].append(elapsed)
        self.pages_of[key].add(self.page)
        self.in_request[key] += 1


def limit_statements(engine: Engine, seconds: float) -> None:
    """Cancel any statement that runs longer than `seconds`, on connections opened from now.

    PostgreSQL gets `statement_timeout`; SQLite a progress handler that aborts the
    statement (SQLite has no timeout of its own). A page whose statement is cancelled
    fails, and is reported as too slow instead of stalling the run.
    """
    engine.dispose()

    def on_connect(dbapi_connection, record) -> None:
        if engine.dialect.name == "postgresql":
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
            dbapi_connection.commit()
        elif engine.dialect.name == "sqlite":
            info = record.info

            def over_time() -> int:
                started = info.get("bench_started")
                return int(started is not None and time.perf_counter() - started > seconds)

            dbapi_connection.set_progress_handler(over_time, 100_000)

    event.listen(engine, "connect", on_connect)


@dataclass
class PageTiming:
    """Timings of one page: wall clock per request, SQL statements and SQL time."""

    label: str
    path: str
    ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    bytes: int = 0
    error: str = ""
    # The statement run most often in one request, when run REPEATED times or more (N+1).
    repeated: tuple[int, str] | None = None

    def as_dict(self) -> dict:
        """Summary figures, for printing and JSON."""
        if not self.ms:
            return {"label": self.label, "path": self.path, "n": 0, "error": self.error}
        return {
            "label": self.label,
            "path": self.path,
            **summarize(self.ms),
            "statements": round(sum(self.statements) / len(self.statements), 1),
            "sql_mean_ms": round(sum(self.sql_ms) / len(self.sql_ms), 2),
            "kib": round(self.bytes / 1024, 1),
            **(
                {"repeated": {"times_per_request": self.repeated[0], "sql": self.repeated[1]}}
                if self.repeated
                else {}
            ),
        }


def signed_in_client(app: Flask, email: str, password: str) -> FlaskClient:
    """A test client signed in through the login form."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:300]}")
    return client


def _get(client: FlaskClient, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response


def _timed_get(client: FlaskClient, path: str) -> tuple[float, object]:
    started = time.perf_counter()
    response = _get(client, path)
    return (time.perf_counter() - started) * 1000, response


def time_pages(
    client: FlaskClient, recorder: SqlRecorder, requests: int, page_budget: float
) -> list[PageTiming]:
    """Each page `WARMUP` times untimed, then `requests` times timed.

    A page slow enough that `requests` runs would take more than `page_budget` seconds
    is timed fewer times (at least `MIN_REQUESTS`); a page whose statement was cancelled
    by `limit_statements` is not timed at all and carries the error instead.
    """
    results = []
    for label, path in PAGES:
        timing = PageTiming(label, path)
        results.append(timing)
        try:
            slowest = max(_timed_get(client, path)[0] for _ in range(WARMUP))
        except DBAPIError as exc:
            timing.error = _cancelled(recorder, exc)
            continue
        runs = min(requests, max(MIN_REQUESTS, int(page_budget * 1000 / max(slowest, 0.001))))
        recorder.page, recorder.recording = label, True
        try:
            for _ in range(runs):
                recorder.reset()
                ms, response = _timed_get(client, path)
                timing.ms.append(ms)
                timing.statements.append(recorder.statements)
                timing.sql_ms.append(recorder.seconds * 1000)
                timing.bytes = len(response.data)
                if recorder.in_request:
                    statement, times = recorder.in_request.most_common(1)[0]
                    if times >= REPEATED:
                        timing.repeated = (times, statement)
        except DBAPIError as exc:
            timing.error = _cancelled(recorder, exc)
        finally:
            recorder.recording = False
    return results


def _cancelled(recorder: SqlRecorder, exc: DBAPIError) -> str:
    """What to report for a statement `limit_statements` cancelled; other errors go on up."""
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
    if type(exc.orig).__name__ != "QueryCanceled" and reason != "interrupted":
        raise exc
    return f"a statement ran over {recorder.statement_timeout:g} s and was cancelled ({reason})"


def time_export(client: FlaskClient, recorder: SqlRecorder) -> dict:
    """One full CSV export of the team's leads: rows, size, seconds and rows per second."""
    started = time.perf_counter()
    try:
        response = _get(client, EXPORT_PATH)
    except DBAPIError as exc:
        return {"path": EXPORT_PATH, "error": _cancelled(recorder, exc)}
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in csv.reader(io.StringIO(response.data.decode("utf-8")))) - 1
    return {
        "path": EXPORT_PATH,
        "rows": rows,
        "mib": round(len(response.data) / 2**20, 2),
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else 0,
    }


def slowest_statements(recorder: SqlRecorder, top: int = 4) -> list[dict]:
    """The statements with the highest mean time over the timed requests."""
    ranked = sorted(
        recorder.by_statement.items(), key=lambda item: sum(item[1]) / len(item[1]), reverse=True
    )
    return [
        {
            "mean_ms": round(sum(times) / len(times) * 1000, 2),
            "runs": len(times),
            "pages": sorted(recorder.pages_of[statement]),
            "sql": statement,
        }
        for statement, times in ranked[:top]
    ]
