"""Real PostgreSQL and Redis servers for the integration tests.

Each server is taken from the environment when given (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`), else started here from the installed binaries on a free loopback
port, in a temporary directory, and stopped at the end of the session. When the
binaries are missing the tests that need them skip, unless `CONSOLE_REQUIRE_SERVICES=1`
(as in CI), where a missing server fails the run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

HOW_TO_ENABLE = {
    "postgres": "install PostgreSQL (Debian: apt-get install postgresql) or set TEST_POSTGRES_URL",
    "redis": "install Redis (Debian: apt-get install redis-server) or set TEST_REDIS_URL",
    "chromium": "install Chromium (Debian: apt-get install chromium) and the test extra "
    "(pip install -e '.[test]'); no `playwright install` is needed",
}


def services_required() -> bool:
    """Whether missing servers fail the run instead of skipping (CI sets this)."""
    return os.environ.get("CONSOLE_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def unavailable(service: str, reason: str):
    """Skip (on a laptop) or fail (in CI) a test that needs `service`."""
    message = f"{service} is not available ({reason}); to run these tests, {HOW_TO_ENABLE[service]}"
    if services_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class RedisServer:
    """A throwaway redis-server on a free port."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        port = free_port()
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Redis fails to start under libfaketime (README: the tests at another hour);
            # it only counts TTLs, so its clock may stay real.
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"},
        )
        wait_for_port(port)
        self.url = f"redis://127.0.0.1:{port}/0"
        return self.url

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class PostgresServer:
    """A throwaway PostgreSQL cluster, run as the `postgres` user when we are root."""

    def __init__(self) -> None:
        self.initdb = _pg_bin("initdb")
        self.pg_ctl = _pg_bin("pg_ctl")
        self.datadir: Path | None = None
        self.url = ""

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def start(self) -> str:
        root = Path(tempfile.mkdtemp(prefix="console-pg-"))
        self.datadir = root / "data"
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        port = free_port()
        subprocess.run(
            self._as_owner(
                [
                    self.initdb,
                    "-D",
                    str(self.datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            self._as_owner(
                [
                    self.pg_ctl,
                    "-D",
                    str(self.datadir),
                    "-o",
                    options,
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.url

    def stop(self) -> None:
        if self.datadir:
            subprocess.run(
                self._as_owner([self.pg_ctl, "-D", str(self.datadir), "-m", "fast", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            shutil.rmtree(self.datadir.parent, ignore_errors=True)


def worker_suffix() -> str:
    """ "_gw0", "_gw1"... under pytest-xdist (`pytest -n`), "" otherwise: what keeps the
    workers' databases apart on one server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def worker_redis_url(url: str) -> str:
    """`url` on a Redis database of this xdist worker's own (1, 2... for gw0, gw1...), so
    workers sharing one given server never flush each other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.removeprefix("gw").isdigit():
        return url
    base = url.split("?", 1)[0].rstrip("/")
    head, _, last = base.rpartition("/")
    if last.isdigit() and head.count("/") >= 2:
        base = head
    return f"{base}/{int(worker.removeprefix('gw')) % 15 + 1}"


def create_database(admin_url: str, name: str) -> str:
    """Create (or recreate) database `name` on the server at `admin_url`; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"
