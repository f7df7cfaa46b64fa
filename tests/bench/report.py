"""The machine the figures were taken on, and aligned plain-text tables."""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict:
    """CPU count and model, memory, kernel, Python, SQLite and library versions."""
    cpu_model = next(
        (
            line.partition(":")[2].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    cgroup_limit = _read("/sys/fs/cgroup/memory.max").strip()
    info = {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "cgroup_memory_limit_gib": round(int(cgroup_limit) / 2**30, 1)
        if cgroup_limit.isdigit()
        else None,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the machine skews the figures; a load near the CPU count says so.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for package in ("flask", "sqlalchemy", "psycopg", "gunicorn"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def machine_lines(info: dict, postgres: str | None) -> list[str]:
    """The machine description as `key  value` lines."""
    cpus = f"{info['cpus']} CPUs"
    if info["cpus_usable"] and info["cpus_usable"] != info["cpus"]:
        cpus += f" ({info['cpus_usable']} usable)"
    memory = f"{info['memory_gib']} GiB"
    if info["cgroup_memory_limit_gib"]:
        memory += f" (cgroup limit {info['cgroup_memory_limit_gib']} GiB)"
    pairs = [
        ("machine", f"{cpus}, {info['cpu_model']}"),
        ("memory", memory),
        ("kernel", info["kernel"]),
        ("load", "{} {} {} (1, 5, 15 min) at start".format(*info["load_average"])),
        (
            "python",
            f"{info['python']}  (Flask {info['flask']}, SQLAlchemy {info['sqlalchemy']}, "
            f"psycopg {info['psycopg']}, gunicorn {info['gunicorn']})",
        ),
        ("sqlite", info["sqlite"]),
        ("postgres", postgres or "not run"),
    ]
    return [f"{key:<10}{value}" for key, value in pairs]


def table(headers: Sequence[str], rows: Sequence[Sequence], align: str = "") -> str:
    """An aligned text table; `align` has one `<` or `>` per column (default: first left)."""
    align = align or "<" + ">" * (len(headers) - 1)
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(f"{value:{a}{w}}" for value, a, w in zip(row, align, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def finish(output: dict, started: float, json_path) -> None:
    """Print the run's duration and load, and write `output` as JSON when asked."""
    import json
    import os
    import time

    output["seconds"] = round(time.perf_counter() - started, 1)
    output["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\nfinished in {output['seconds']} s; load "
        + " ".join(str(x) for x in output["load_average_at_end"])
        + " at end"
    )
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(output, indent=2, default=str) + "\n")
        print(f"results written to {json_path}")
