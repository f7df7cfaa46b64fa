"""`python -m tests.bench ingest`: import generated lists end to end and score the merges.

For each backend (SQLite in a temporary file, PostgreSQL on a throwaway server) it
imports a generated list of `--rows` rows (`tests.bench.listgen`: USBizData-style, about
10% duplicates with typos, reordered names, suites, other legal suffixes and reformatted
phones, about 1% junk) with `console.services.lists.imports.import_file`, the same call the
`import-csv` command makes: file copy, sniff, count, every chunk, ANALYZE. Then it
imports the same file again into that database (nothing new should be created), and a
list twice as large into a fresh database, for the growth ratio.

Every import runs in a subprocess of its own (`python -m tests.bench.ingest import
...`), so its peak memory and its memory before the import are its own. The peak is the
process's VmHWM, not `ru_maxrss`: a process started by fork and exec inherits in
`ru_maxrss` the high-water mark of its parent. A big file is normalized by a helper
process beside the import; its peak is sampled and added (the memory aim is on the sum).
The merges are scored against the generator's `Truth` column, pairwise: two rows are
predicted the same when their `lead_sources` rows point to one lead, and are the same
when they share a Truth id. Counted by group sizes (C(k, 2) per lead, per Truth id, per
lead and Truth id together), never pair by pair. A row sent to review made a lead of its
own, so it counts as not merged.

The re-import and the larger list are skipped, with a note, when the first import's
time says they would end the run past `--budget` seconds (default 900; 0: no limit).
It prints figures and the issue's aims beside them; it is not a pass/fail test.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import json
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from tests.bench import backends, listgen, report

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "console_bench_ingest"
PRESET = "bench list"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
CHILD_TIMEOUT = 3600
EXAMPLES = 10
# The aims the issue sets.
AIM_ROWS_PER_SECOND = 5_000  # embedded (SQLite)
AIM_GROWTH = 2.2
AIM_PEAK_MB = 500  # megabytes, 10**6 bytes
AIM_PRECISION = 0.98
AIM_RECALL = 0.90
SHOWN_COLUMNS = ("Company Name", "Contact Name", "Address", "Zip", "Phone", "Email")


def progress(message: str) -> None:
    """A progress note on stderr, so stdout carries only the figures."""
    print(f".. {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------- scoring


def _pairs(k: int) -> int:
    return k * (k - 1) // 2


def truth_of_rows(path: Path) -> dict[int, str]:
    """Row number (as the import numbers it: the file line) -> Truth id; junk rows unique."""
    truth: dict[int, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        column = next(reader).index("Truth")
        for cells in reader:
            row = reader.line_num
            truth[row] = cells[column] or f"junk:{row}"
    return truth


def score(row_lead: dict[int, int], truth: dict[int, str]) -> dict:
    """Pairwise precision and recall of `row_lead` (row -> lead id) against `truth`.

    Predicted pairs: rows on one lead. True pairs: rows with one Truth id, over every row
    of the file (a rejected real row is a missed pair). True positives: rows on one lead
    with one Truth id.
    """
    per_lead = Counter(row_lead.values())
    per_truth = Counter(truth.values())
    per_cell = Counter((lead, truth[row]) for row, lead in row_lead.items())
    predicted = sum(_pairs(k) for k in per_lead.values())
    actual = sum(_pairs(k) for k in per_truth.values())
    hits = sum(_pairs(k) for k in per_cell.values())
    return {
        "predicted_pairs": predicted,
        "true_pairs": actual,
        "true_positives": hits,
        "false_positives": predicted - hits,
        "false_negatives": actual - hits,
        "precision": round(hits / predicted, 4) if predicted else 1.0,
        "recall": round(hits / actual, 4) if actual else 1.0,
    }


def example_pairs(
    row_lead: dict[int, int], truth: dict[int, str], limit: int = EXAMPLES
) -> dict[str, list[tuple[int, int]]]:
    """Up to `limit` false-positive and false-negative pairs of rows (a seeded sample).

    A false positive is a lead's first row with a row of another Truth on that lead; a
    false negative is a Truth's first row with a row of it on another lead (or missing).
    """
    rows_of_lead: dict[int, list[int]] = defaultdict(list)
    for row, lead in sorted(row_lead.items()):
        rows_of_lead[lead].append(row)
    rows_of_truth: dict[str, list[int]] = defaultdict(list)
    for row, value in sorted(truth.items()):
        rows_of_truth[value].append(row)
    false_positives = []
    for rows in rows_of_lead.values():
        first = rows[0]
        other = next((r for r in rows[1:] if truth[r] != truth[first]), None)
        if other is not None:
            false_positives.append((first, other))
    false_negatives = []
    for rows in rows_of_truth.values():
        if len(rows) < 2:
            continue
        first = rows[0]
        other = next((r for r in rows[1:] if row_lead.get(r) != row_lead.get(first)), None)
        if other is not None or first not in row_lead:
            false_negatives.append((first, other if other is not None else rows[1]))
    rng = random.Random(0)
    return {
        "false_positives": sorted(rng.sample(false_positives, min(limit, len(false_positives)))),
        "false_negatives": sorted(rng.sample(false_negatives, min(limit, len(false_negatives)))),
    }


def rows_of_file(path: Path, wanted: set[int]) -> dict[int, dict[str, str]]:
    """The shown columns of the wanted rows of a list."""
    found: dict[int, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for cells in reader:
            if reader.line_num in wanted:
                found[reader.line_num] = dict(zip(header, cells, strict=False))
    return found


# ----------------------------------------------------------------- the child


def _status_mib(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _maxrss_mib() -> float:
    """getrusage's ru_maxrss of this process, in MiB (KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    found = _status_mib("VmRSS")
    return found if found is not None else _maxrss_mib()


def _peak_mib() -> float:
    """This process's peak resident memory so far, in MiB.

    VmHWM where there is one: on Linux a process started by fork and exec inherits in
    ru_maxrss the high-water mark of the parent it was forked from, so ru_maxrss says
    how big the benchmark's parent was, not the import. VmHWM belongs to this program
    image alone.
    """
    found = _status_mib("VmHWM")
    return found if found is not None else _maxrss_mib()


def _descendants(root: int) -> list[int]:
    """Process ids below `root` (children, their children...), from /proc."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        parents[int(stat.rpartition(")")[2].split()[1])].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _proc_mib(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class HelperMemory(threading.Thread):
    """Samples the memory of the processes the import starts (its normalizing helper).

    Every `interval` seconds: each descendant's peak (VmHWM), and the resident memory
    of this process and its descendants together.
    """

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.helpers: dict[int, float] = {}
        self.peak_together = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop_event.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """One look at the process tree."""
        if not Path("/proc/self/status").exists():
            return
        me = os.getpid()
        together = _proc_mib(me, "VmRSS")
        for pid in _descendants(me):
            together += _proc_mib(pid, "VmRSS")
            self.helpers[pid] = max(self.helpers.get(pid, 0.0), _proc_mib(pid, "VmHWM"))
        self.peak_together = max(self.peak_together, together)

    def stop(self) -> dict:
        """Stop sampling; the figures."""
        self._stop_event.set()
        self.join()
        return {
            "helpers": len(self.helpers),
            "helper_peak_mib": round(max(self.helpers.values(), default=0.0), 1),
            "sampled_peak_together_mib": round(self.peak_together, 1),
        }


def _app(url: str, instance: Path):
    from console import create_app
    from console.config import TestConfig

    config = TestConfig({"SECRET_KEY": "bench-secret", "CONSOLE_INSTANCE_PATH": str(instance)})
    config.SQLALCHEMY_DATABASE_URI = url
    return create_app(config), config


def child_prepare(url: str, instance: Path) -> dict:
    """Migrate a fresh database, create the bench team and save the list's mapping."""
    import logging

    from flask_migrate import upgrade

    from console.extensions import db
    from console.services.lists import mapping
    from tests.bench import seed

    app, config = _app(url, instance)
    with app.app_context():
        started = time.perf_counter()
        logging.disable(logging.INFO)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        migrated = time.perf_counter() - started
        team, _ = seed.create_team(db.session, config.PASSWORD_HASH_METHOD)
        # What an operator does once per vendor layout: keep every column the alias
        # table maps, drop the Truth column (it is the benchmark's, not the vendor's).
        fields = [
            mapping.IGNORE if header == "Truth" else field
            for header, field in zip(listgen.HEADER, mapping.auto_map(listgen.HEADER), strict=True)
        ]
        mapping.save_preset(db.session, team.id, PRESET, listgen.HEADER, fields)
        team_id = team.id
        db.session.commit()
        db.engine.dispose()
    return {"team_id": team_id, "migrate_seconds": round(migrated, 2), "mapping": fields}


def _database_mib(session, instance: Path) -> float:
    return backends.database_mib(session.get_bind(), instance)


def child_import(
    url: str,
    instance: Path,
    source: Path,
    team_id: int,
    *,
    evaluate: bool,
    profile: Path | None = None,
    serial: bool = False,
) -> dict:
    """Time one import_file of `source`; memory, counts and, if asked, the merge scores.

    `serial` keeps normalizing in this process however big the file (no helper process).
    """
    from sqlalchemy import func, select

    from console.extensions import db
    from console.models import Lead, LeadSource
    from console.services.lists import imports, ingest

    if serial and hasattr(ingest, "PARALLEL_FROM_ROWS"):
        ingest.PARALLEL_FROM_ROWS = 2**62

    app, _ = _app(url, instance)
    with app.app_context():
        db.session.execute(select(1))  # connect before measuring
        db.session.rollback()
        gc.collect()
        rss_before = _rss_mib()
        chunks = 0

        def on_chunk(job, _result) -> None:
            nonlocal chunks
            chunks += 1
            if chunks % 25 == 0:
                progress(f"   {job.rows_done:,} of {job.total_rows or 0:,} rows")

        profiler = cProfile.Profile() if profile else None
        helpers = HelperMemory()
        helpers.start()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        job = imports.import_file(
            db.session,
            team_id=team_id,
            source=source,
            upload_dir=instance / "uploads",
            preset=PRESET,
            on_chunk=on_chunk,
        )
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = _peak_mib()
        helper = helpers.stop()
        if profiler:
            profiler.dump_stats(str(profile))
        summary = imports.summary(job)
        rows = summary["rows"]
        result = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds) if seconds else 0,
            "rss_before_mib": rss_before,
            "peak_rss_mib": peak,
            **helper,
            "peak_sum_mib": round(peak + helper["helper_peak_mib"], 1),
            "ru_maxrss_mib": _maxrss_mib(),
            "serial": serial,
            "summary": summary,
            "leads_in_team": db.session.scalar(
                select(func.count()).select_from(Lead).where(Lead.team_id == team_id)
            ),
            "database_mib": _database_mib(db.session, instance),
        }
        if evaluate:
            found = db.session.execute(
                select(
                    LeadSource.row_number, LeadSource.lead_id, LeadSource.action, LeadSource.rule
                ).where(LeadSource.import_id == job.id)
            ).all()
            result.update(evaluation(source, found))
        db.engine.dispose()
    return result


def evaluation(source: Path, found: list) -> dict:
    """Scores, review figures and example pairs for one import's lead_sources rows."""
    truth = truth_of_rows(source)
    row_lead = {row: lead for row, lead, _, _ in found}
    how = {row: (action, rule) for row, _, action, rule in found}
    scores = score(row_lead, truth)
    per_truth = Counter(truth.values())
    review = [row for row, (action, _) in how.items() if action == "review"]
    scores["review_rows"] = len(review)
    scores["review_rows_true_duplicates"] = sum(1 for r in review if per_truth[truth[r]] > 1)
    examples = example_pairs(row_lead, truth)
    wanted = {row for pairs in examples.values() for pair in pairs for row in pair}
    cells = rows_of_file(source, wanted)

    def shown(row: int) -> dict:
        action, rule = how.get(row, ("not imported", ""))
        return {
            "row": row,
            "truth": truth[row],
            "lead": row_lead.get(row),
            "action": f"{action} {rule}".strip(),
            **{name: cells.get(row, {}).get(name, "") for name in SHOWN_COLUMNS},
        }

    scores["examples"] = {
        kind: [[shown(a), shown(b)] for a, b in pairs] for kind, pairs in examples.items()
    }
    return scores


def child_main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench.ingest prepare|import ...`: one step, its result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ingest")
    parser.add_argument("step", choices=("prepare", "import"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--team", type=int)
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--serial", action="store_true")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        result = child_prepare(args.url, args.instance)
    else:
        result = child_import(
            args.url,
            args.instance,
            args.file,
            args.team,
            evaluate=args.evaluate,
            profile=args.profile,
            serial=args.serial,
        )
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


# ---------------------------------------------------------------- the parent


def _child(step: str, url: str, instance: Path, *extra: str) -> dict:
    """Run one step in a fresh Python process; its JSON result."""
    out = instance / f"{step}-{time.monotonic_ns()}.json"
    command = [
        sys.executable,
        "-m",
        "tests.bench.ingest",
        step,
        "--url",
        url,
        "--instance",
        str(instance),
        "--out",
        str(out),
        *extra,
    ]
    subprocess.run(command, cwd=ROOT, check=True, timeout=CHILD_TIMEOUT)
    return json.loads(out.read_text())


class Database:
    """A fresh database for one run: a SQLite file in a temporary folder, or a PostgreSQL db."""

    def __init__(self, backend: str, postgres_admin_url: str | None) -> None:
        from console.config import _sqlalchemy_url

        self.backend = backend
        self.admin_url = postgres_admin_url
        self.instance = Path(tempfile.mkdtemp(prefix=f"console-ingest-{backend}-"))
        if backend == "postgres":
            from tests.servers import create_database

            if not postgres_admin_url:
                raise ValueError("the postgres backend needs a server URL")
            self.url = _sqlalchemy_url(create_database(postgres_admin_url, DATABASE))
        else:
            self.url = f"sqlite:///{self.instance / 'bench.db'}"

    def close(self) -> None:
        """Drop the database and its folder."""
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        shutil.rmtree(self.instance, ignore_errors=True)


def _label(rows: int) -> str:
    return f"{rows // 1000:,}k" if rows % 1000 == 0 else f"{rows:,}"


def run_backend(
    backend: str,
    lists: dict[int, Path],
    rows: int,
    *,
    postgres_admin_url: str | None,
    growth: bool,
    reimport: bool,
    deadline: float | None = None,
    serial: bool = False,
) -> dict:
    """Import `rows` rows (and again, and twice as many afresh) on one backend.

    The first import always runs. The re-import and the larger list are skipped, with a
    note, when the time the first import took says they would end after `deadline`
    (a time.monotonic() value; None: never skip).
    """
    result: dict = {"backend": backend, "runs": [], "skipped": []}
    mode = ["--serial"] if serial else []

    def fits(what: str, estimate: float) -> bool:
        if deadline is None or time.monotonic() + estimate <= deadline:
            return True
        note = f"{what}: about {estimate:,.0f} s would pass the time budget (--budget)"
        result["skipped"].append(note)
        progress(f"{backend}: skipped {note}")
        return False

    sizes = [rows, rows * 2] if growth else [rows]
    for size in sizes:
        if size != rows and not fits(
            f"{_label(size)} rows (growth)", AIM_GROWTH * result["runs"][0]["seconds"]
        ):
            continue
        database = Database(backend, postgres_admin_url)
        try:
            progress(f"{backend}: migrating a fresh database for {size:,} rows")
            prepared = _child("prepare", database.url, database.instance)
            result.setdefault("migrate_seconds", prepared["migrate_seconds"])
            team = str(prepared["team_id"])
            progress(f"{backend}: importing {size:,} rows")
            first = _child(
                "import",
                database.url,
                database.instance,
                "--file",
                str(lists[size]),
                "--team",
                team,
                "--evaluate",
                *mode,
            )
            first["run"] = _label(size)
            first["size"] = size
            result["runs"].append(first)
            progress(f"{backend}: {size:,} rows in {first['seconds']} s")
            if reimport and size == rows and fits(f"{_label(size)} again", first["seconds"]):
                progress(f"{backend}: importing the same {size:,} rows again")
                again = _child(
                    "import",
                    database.url,
                    database.instance,
                    "--file",
                    str(lists[size]),
                    "--team",
                    team,
                    *mode,
                )
                again["run"] = f"{_label(size)} again"
                again["size"] = size
                again["reimport"] = True
                result["runs"].append(again)
        finally:
            database.close()
    firsts = {r["size"]: r for r in result["runs"] if not r.get("reimport")}
    if rows in firsts and rows * 2 in firsts:
        result["growth"] = round(firsts[rows * 2]["seconds"] / firsts[rows]["seconds"], 2)
    return result


def generate_list(path: Path, rows: int, seed: int) -> dict:
    """Write a list in a subprocess (so this process stays small); its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.listgen", str(path), "--rows", str(rows)]
        + ["--seed", str(seed)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    return json.loads(done.stdout)


def profile_sqlite(path: Path, out: Path, top: int = 25, serial: bool = False) -> dict:
    """Import `path` into a fresh SQLite database under cProfile; the top console/ lines."""
    database = Database("sqlite", None)
    try:
        prepared = _child("prepare", database.url, database.instance)
        result = _child(
            "import",
            database.url,
            database.instance,
            "--file",
            str(path),
            "--team",
            str(prepared["team_id"]),
            "--profile",
            str(out),
            *(["--serial"] if serial else []),
        )
    finally:
        database.close()
    result["top"] = top_console_lines(out, top)
    result["profile_path"] = str(out)
    return result


def top_console_lines(path: Path, top: int = 25) -> list[dict]:
    """The `top` functions under console/ by cumulative time in a cProfile dump."""
    stats = pstats.Stats(str(path))
    marker = f"{os.sep}console{os.sep}"
    found = [
        (filename, line, name, calls, own, cumulative)
        for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items()
        if marker in filename and filename.startswith(str(ROOT))
    ]
    total = max((f[5] for f in found), default=0.0) or 1.0  # import_file's own cumulative
    rows = [
        {
            "function": f"{Path(filename).relative_to(ROOT)}:{line}({name})",
            "calls": calls,
            "own_seconds": round(own, 2),
            "cumulative_seconds": round(cumulative, 2),
            "cumulative_share": round(cumulative / total, 3),
        }
        for filename, line, name, calls, own, cumulative in found
    ]
    rows.sort(key=lambda r: -r["cumulative_seconds"])
    return rows[:top]


# ------------------------------------------------------------------ printing


def _mb(mib: float) -> str:
    return f"{mib:,.0f} MiB ({mib * 2**20 / 1e6:,.0f} MB)"


def print_lists(stats: dict[int, dict]) -> None:
    """What the generated lists hold."""
    print("\n== Generated lists (tests/bench/listgen.py) ==")
    rows = []
    for size, s in sorted(stats.items()):
        rows.append(
            (
                f"{size:,}",
                s["originals"],
                s["duplicates"],
                s["true_pairs"],
                s["junk"],
                s["cities"],
                s["zips"],
                f"{s['businesses_per_zip_mean']} / {s['businesses_per_zip_max']}",
                round(s["bytes"] / 2**20, 1),
                s["seconds"],
            )
        )
    headers = (
        "rows",
        "businesses",
        "duplicates",
        "true pairs",
        "junk",
        "cities",
        "ZIPs",
        "per ZIP mean/max",
        "MiB",
        "made in s",
    )
    print(report.table(headers, rows))
    first = stats[min(stats)]
    kinds = ", ".join(
        f"{k.replace('_', ' ')} {v:,}"
        for k, v in first["perturbations"].items()
        if "perturbation" not in k
    )
    singles = first["perturbations"].get("1 perturbation", 0)
    doubles = first["perturbations"].get("2 perturbations", 0)
    print(
        f"duplicates of the {min(stats):,}-row list: {singles:,} with one perturbation, "
        f"{doubles:,} with two; {kinds}"
    )
    shared = first.get("second_businesses_sharing", {})
    print(
        f"different businesses made to look alike: {first.get('second_businesses', 0):,} "
        f"second businesses of an earlier owner (sharing {shared.get('mobile', 0):,} mobiles, "
        f"{shared.get('address', 0):,} addresses, {shared.get('email', 0):,} emails); "
        f"{first.get('without_contact', 0):,} businesses without an owner's name"
    )


def print_runs(results: list[dict]) -> None:
    """One line per import: speed, memory, outcome and scores."""
    print("\n== Imports (import_file end to end: copy, sniff, count, chunks, ANALYZE) ==")
    rows = []
    for result in results:
        for run in result["runs"]:
            summary = run["summary"]
            rows.append(
                (
                    NAMES[result["backend"]],
                    run["run"],
                    run["rows"],
                    run["seconds"],
                    run["rows_per_second"],
                    run["rss_before_mib"],
                    run["peak_rss_mib"],
                    run["helper_peak_mib"] or "-",
                    summary["created"],
                    summary["merged"],
                    summary["review"],
                    summary["rejected"],
                    f"{run['precision']:.4f}" if "precision" in run else "",
                    f"{run['recall']:.4f}" if "recall" in run else "",
                    run["database_mib"],
                )
            )
    headers = (
        "backend",
        "run",
        "rows",
        "seconds",
        "rows/s",
        "RSS before MiB",
        "peak MiB",
        "helper peak MiB",
        "created",
        "merged",
        "review",
        "rejected",
        "precision",
        "recall",
        "DB MiB",
    )
    print(report.table(headers, rows, align="<<" + ">" * 13))
    print(
        "each import in its own process; RSS before = after app start, before import_file; "
        "peak = its VmHWM;\nhelper peak = VmHWM of the process that normalizes rows beside it "
        "(big files); 'again' = the same file re-imported into that database"
    )
    for result in results:
        for note in result.get("skipped", []):
            print(f"! {NAMES[result['backend']]}: skipped {note}")
    print("\nmerged by rule, rejected by reason:")
    for result in results:
        for run in result["runs"]:
            summary = run["summary"]
            merged = ", ".join(f"{k} {v:,}" for k, v in sorted(summary["merged_by_rule"].items()))
            rejected = ", ".join(
                f"{k} {v:,}" for k, v in sorted(summary["rejected_by_reason"].items())
            )
            print(
                f"  {NAMES[result['backend']]:<11}{run['run']:<10} {merged}; rejected: {rejected}"
            )
    print("\npairs (predicted = rows on one lead; true = rows with one Truth id):")
    for result in results:
        for run in result["runs"]:
            if "precision" not in run:
                continue
            print(
                f"  {NAMES[result['backend']]:<11}{run['run']:<10} true {run['true_pairs']:,}, "
                f"predicted {run['predicted_pairs']:,}, hits {run['true_positives']:,}, "
                f"false merges {run['false_positives']:,}, missed {run['false_negatives']:,}; "
                f"review rows {run['review_rows']:,} "
                f"({run['review_rows_true_duplicates']:,} of them true duplicates)"
            )


def _aim(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_aims(results: list[dict]) -> list[str]:
    """The issue's aims against the figures; the missed ones."""
    print("\n== Aims ==")
    rows, missed = [], []
    for result in results:
        name = NAMES[result["backend"]]
        firsts = [r for r in result["runs"] if not r.get("reimport")]
        first = firsts[0]
        checks = []
        if result["backend"] == "sqlite":
            checks.append(
                (
                    f">= {AIM_ROWS_PER_SECOND:,} rows/s embedded ({first['run']})",
                    f"{first['rows_per_second']:,}",
                    first["rows_per_second"] >= AIM_ROWS_PER_SECOND,
                )
            )
        else:
            checks.append(
                (f"rows/s ({first['run']}, no aim)", f"{first['rows_per_second']:,}", None)
            )
        if "growth" in result:
            checks.append(
                (
                    f"growth t({firsts[1]['run']}) / t({first['run']}) <= {AIM_GROWTH}x",
                    f"{result['growth']}x",
                    result["growth"] <= AIM_GROWTH,
                )
            )
        peak = max(r["peak_sum_mib"] for r in result["runs"])
        checks.append(
            (
                f"peak memory < {AIM_PEAK_MB} MB (import + helper)",
                _mb(peak),
                peak * 2**20 < AIM_PEAK_MB * 1e6,
            )
        )
        precision = min(r["precision"] for r in firsts)
        recall = min(r["recall"] for r in firsts)
        checks.append(
            (
                f"precision >= {AIM_PRECISION} (worst run)",
                f"{precision:.4f}",
                precision >= AIM_PRECISION,
            )
        )
        checks.append(
            (f"recall >= {AIM_RECALL} (worst run)", f"{recall:.4f}", recall >= AIM_RECALL)
        )
        for again in (r for r in result["runs"] if r.get("reimport")):
            created = again["summary"]["created"]
            checks.append(
                (
                    f"re-import creates nothing ({again['run']}, "
                    f"{again['rows_per_second']:,} rows/s)",
                    f"{created:,} created",
                    created == 0,
                )
            )
        for label, value, ok in checks:
            verdict = "" if ok is None else _aim(ok)
            rows.append((name, label, value, verdict))
            if ok is False:
                missed.append(f"{name}: {label}: {value}")
    print(report.table(("backend", "aim", "figure", ""), rows, align="<<><"))
    return missed


def print_examples(results: list[dict]) -> None:
    """Example false merges and missed pairs, for tuning the resolver."""
    for result in results:
        run = next(r for r in result["runs"] if "examples" in r)
        for kind, title in (
            ("false_positives", "false merges (one lead, different Truth)"),
            ("false_negatives", "missed duplicates (one Truth, different leads)"),
        ):
            pairs = run["examples"][kind]
            if not pairs:
                continue
            print(f"\n-- {NAMES[result['backend']]} {run['run']}: {len(pairs)} {title} --")
            for a, b in pairs:
                for side in (a, b):
                    cells = " | ".join(side[name] for name in SHOWN_COLUMNS)
                    print(
                        f"  row {side['row']:>7} {side['truth']:<10} {side['action']:<28} {cells}"
                    )
                print()


def print_profile(result: dict) -> None:
    """The top console/ functions of a profiled import."""
    where = (
        "all in one process (--serial)"
        if result.get("serial")
        else "the importing process only: a helper process normalizes big files beside it, "
        "unprofiled (--serial to see its work)"
    )
    print(
        f"\n== cProfile of one {result['rows']:,}-row SQLite import: {result['seconds']} s "
        f"under the profiler; top console/ functions by cumulative time ==\n{where}"
    )
    rows = [
        (
            r["function"],
            r["calls"],
            r["own_seconds"],
            r["cumulative_seconds"],
            f"{r['cumulative_share']:.1%}",
        )
        for r in result["top"]
    ]
    print(
        report.table(
            ("function", "calls", "own s", "cumulative s", "of import_file"), rows, align="<>>>>"
        )
    )
    print(f"full profile: {result['profile_path']} (python -m pstats)")


def code_version() -> str:
    """The commit and uncommitted changes of the code an import runs, as `abc1234+d1e2f3`."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "console", "jobs", "migrations"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff:
        return head
    import hashlib

    return f"{head}+{hashlib.sha1(diff, usedforsecurity=False).hexdigest()[:7]}"


# ---------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of `python -m tests.bench ingest`."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench ingest",
        description="Import generated lists end to end; print speed, memory and merge scores.",
    )
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows of the list (default 100000)"
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "all"),
        default="all",
        help="database to run on; all = SQLite, then PostgreSQL when available (default all)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--no-growth", action="store_true", help="skip the list twice as large (no growth ratio)"
    )
    parser.add_argument("--no-reimport", action="store_true", help="skip importing the list again")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="PATH",
        help="instead: import --rows rows into SQLite under cProfile, save the profile to "
        "PATH and print the top 25 console/ functions by cumulative time",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="skip a re-import or a larger list that would end the run after this long; "
        "the first import of each backend always runs (default 900, 0: no limit)",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="normalize rows in the importing process even for big files (no helper process)",
    )
    parser.add_argument("--seed", type=int, default=7, help="list generator seed (default 7)")
    parser.add_argument(
        "--keep-lists",
        type=Path,
        metavar="DIR",
        help="write the generated lists here and keep them",
    )
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    return args


def main(
    argv: list[str] | None = None,
    postgres_server: Callable[[ExitStack], tuple[str | None, str]] | None = None,
) -> int:
    """Generate the lists, run the imports the arguments ask for, print the figures."""
    args = parse_args(argv)
    started = time.perf_counter()
    deadline = time.monotonic() + args.budget if args.budget > 0 else None
    output: dict = {"machine": report.machine(), "args": {**vars(args)}, "backends": []}
    wanted = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    if args.profile:
        wanted = ["sqlite"]
    with ExitStack() as stack:
        folder = args.keep_lists or Path(tempfile.mkdtemp(prefix="console-ingest-lists-"))
        folder.mkdir(parents=True, exist_ok=True)
        if not args.keep_lists:
            stack.callback(shutil.rmtree, folder, True)
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
                version += f", {postgres_source}"
        output["machine"]["postgres"] = version
        print("Deal origination console benchmark: list ingestion")
        for line in report.machine_lines(output["machine"], version):
            print(line)
        output["code"] = code_version()
        print(f"{'code':<10}{output['code']} (git HEAD, + a digest of uncommitted changes)")
        sizes = [args.rows] if (args.no_growth or args.profile) else [args.rows, args.rows * 2]
        print(
            f"{'run':<10}lists of {' and '.join(f'{s:,}' for s in sizes)} rows (seed {args.seed}); "
            f"{', '.join(NAMES[b] for b in wanted)}; each import in its own process"
        )
        sys.stdout.flush()
        lists: dict[int, Path] = {}
        list_stats: dict[int, dict] = {}
        for size in sizes:
            progress(f"generating a {size:,}-row list")
            path = folder / f"list-{size}.csv"
            list_stats[size] = generate_list(path, size, args.seed)
            lists[size] = path
        output["lists"] = {str(k): v for k, v in list_stats.items()}
        print_lists(list_stats)
        if args.profile:
            args.profile.parent.mkdir(parents=True, exist_ok=True)
            progress(f"sqlite: importing {args.rows:,} rows under cProfile")
            output["profile"] = profile_sqlite(lists[args.rows], args.profile, serial=args.serial)
            print_profile(output["profile"])
        else:
            for backend in wanted:
                output["backends"].append(
                    run_backend(
                        backend,
                        lists,
                        args.rows,
                        postgres_admin_url=postgres_url,
                        growth=not args.no_growth,
                        reimport=not args.no_reimport,
                        deadline=deadline,
                        serial=args.serial,
                    )
                )
            print_runs(output["backends"])
            output["missed"] = print_aims(output["backends"])
            if any(m.split(": ")[1].startswith(("precision", "recall")) for m in output["missed"]):
                print_examples(output["backends"])
    output["code_at_end"] = code_version()
    if output["code_at_end"] != output["code"]:
        print(
            f"\n! the console's code changed during the run ({output['code']} -> "
            f"{output['code_at_end']}): the figures mix two versions; run again"
        )
    report.finish(output, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
