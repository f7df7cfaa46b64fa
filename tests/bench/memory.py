"""Memory of the real web process: gunicorn with one worker, started embedded.

The console runs exactly as `gunicorn -w 1 'app:create_app()'` from the repository root
would: embedded, with a fresh instance directory, so the worker migrates SQLite and loads
the demo team at start. Resident memory (VmRSS, and the peak VmHWM) is read from
/proc for the master and its worker once the console answers, and again after 20 signed-in
requests.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from console.config import ROOT
from console.services.demo import DEMO_PASSWORD, DEMO_USERS
from tests.servers import free_port

READY_TIMEOUT = 120.0
REQUESTS = 20
PATHS = ("/", "/leads/", "/leads/?page=2", "/leads/?q=roofing", "/leads/?state=TX&has_mobile=yes")
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]*)"')


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)  # kB
    return {"rss_mib": found.get("VmRSS", 0.0), "peak_mib": found.get("VmHWM", 0.0)}


def children(pid: int) -> list[int]:
    """The child processes of `pid`, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(found)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _wait_ready(base: str, process: subprocess.Popen, log: Path) -> float:
    started = time.perf_counter()
    deadline = started + READY_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the console did not answer in {READY_TIMEOUT} s:\n{log.read_text()}")


def _sign_in(opener: urllib.request.OpenerDirector, base: str) -> None:
    with opener.open(base + "/login", timeout=30) as response:
        token = _CSRF.search(response.read().decode("utf-8"))
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    operator = next(email for role, email, _ in DEMO_USERS if role.value == "operator")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": operator, "password": DEMO_PASSWORD}
    ).encode()
    with opener.open(base + "/login", data=form, timeout=30) as response:
        if urllib.parse.urlsplit(response.geturl()).path == "/login":
            raise RuntimeError("sign-in to the embedded console failed")


def _snapshot(master: int) -> dict:
    workers = children(master)
    return {
        "master": proc_memory(master),
        "workers": [proc_memory(pid) for pid in workers],
    }


def measure(requests: int = REQUESTS) -> dict:
    """Start gunicorn embedded, and report memory after start and after `requests` requests."""
    instance = Path(tempfile.mkdtemp(prefix="console-bench-web-"))
    log = instance / "gunicorn.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CONSOLE_AUTO_MIGRATE")
    }
    env["CONSOLE_INSTANCE_PATH"] = str(instance)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}"]
    with log.open("w") as handle:
        process = subprocess.Popen(
            [*command, "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = _wait_ready(base, process, log)
        time.sleep(0.5)  # let the first response finish before reading memory
        after_start = _snapshot(process.pid)
        opener = _opener()
        _sign_in(opener, base)
        timings = []
        for n in range(requests):
            started = time.perf_counter()
            with opener.open(base + PATHS[n % len(PATHS)], timeout=30) as response:
                response.read()
            timings.append((time.perf_counter() - started) * 1000)
        after_requests = _snapshot(process.pid)
        return {
            "command": " ".join([*command, "'app:create_app()'"]),
            "ready_seconds": round(ready, 2),
            "after_start": after_start,
            "after_requests": after_requests,
            "requests": requests,
            "request_mean_ms": round(sum(timings) / len(timings), 2) if timings else 0.0,
        }
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(instance, ignore_errors=True)
