"""End-to-end fixtures: the real console in a subprocess, driven by headless Chromium.

The console runs the way a person starts it (`flask --app app run`) in the embedded
default: SQLite in a temporary instance folder, migrated at start, with the demo team
and its ~300 sample leads. Chromium is Debian's `/usr/bin/chromium`, driven by the
playwright package; no browser is downloaded. Each test gets a fresh browser context
(no cookies) with a 1,366 x 768 viewport.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from console.models import Role
from console.services.demo import DEMO_PASSWORD, DEMO_USERS
from tests import clock, servers

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails, in CI) and says how to install it
    expect = None

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
START_TIMEOUT = 60.0
# Variables that would take the console out of the embedded default, or point it at
# outside services or another instance folder.
CONSOLE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "PROXY_FIX_HOPS",
    "TWILIO_",
    "ANTHROPIC_",
    "CONSOLE_",
    "FLASK_",
)
DEMO_EMAILS = {role: email for role, email, _name in DEMO_USERS}
_failed_key = pytest.StashKey[bool]()


@dataclass(frozen=True)
class ConsoleServer:
    """A running console: where it answers and where it logs."""

    url: str
    log: Path


def _client_addresses() -> Iterator[str]:
    """Distinct made-up client addresses, one per browser context."""
    for n in itertools.count():
        yield f"10.77.{n // 250 % 250}.{n % 250 + 1}"


CLIENT_ADDRESSES = _client_addresses()


def _console_environment(
    instance: Path, test_clock: bool = False, at: datetime = clock.TEST_NOW
) -> dict[str, str]:
    """This process's environment without the console's settings, plus the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONSOLE_VARIABLES)}
    if test_clock:
        env |= clock.environment(at)
    env["CONSOLE_INSTANCE_PATH"] = str(instance)
    # The sign-in throttle counts failures per client address. Every browser comes from
    # 127.0.0.1, so one test's failed sign-ins would lock out the rest; trusting one
    # proxy hop lets each browser context present an address of its own.
    env["PROXY_FIX_HOPS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # The provider tests save a loopback vendor endpoint.
    env["SKIPTRACE_ALLOW_PRIVATE_HOSTS"] = "1"
    return env


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    """Wait for the console to accept connections; fail with its log if it exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"the console exited with status {process.returncode} before serving:\n"
                + log.read_text(errors="replace"),
                pytrace=False,
            )
        try:
            servers.wait_for_port(port, timeout=0.5)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the console did not listen on port {port} within {START_TIMEOUT} s:\n"
                    + log.read_text(errors="replace"),
                    pytrace=False,
                )


@contextlib.contextmanager
def running_console(
    instance: Path, *, test_clock: bool = False, at: datetime = clock.TEST_NOW
) -> Iterator[ConsoleServer]:
    """`flask --app app run` in the embedded default with its own instance folder, on a
    free port, stopped on leaving; on the test clock (`tests.clock`, standing at `at`)
    when asked."""
    port = servers.free_port()
    log = instance / "console.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
            cwd=ROOT,
            env=_console_environment(instance, test_clock, at),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(process, port, log)
        yield ConsoleServer(url=f"http://127.0.0.1:{port}", log=log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session")
def console_server(tmp_path_factory) -> Iterator[ConsoleServer]:
    """The console for the session's tests."""
    with running_console(tmp_path_factory.mktemp("console-instance")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium for the session, or a skip saying how to get it."""
    if not CHROMIUM.exists():
        servers.unavailable("chromium", f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        servers.unavailable("chromium", "the playwright package is not installed")
    with _real_clock():
        playwright = sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # noqa: BLE001 - any launch failure means "not available"
            playwright.stop()
            servers.unavailable("chromium", f"could not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()


@contextlib.contextmanager
def _real_clock() -> Iterator[None]:
    """Processes started inside run on the real clock: Playwright's driver and Chromium
    stall under libfaketime (README: the tests at another hour), while the consoles they
    browse keep the test's faked clock."""
    preload = os.environ.pop("LD_PRELOAD", None)
    try:
        yield
    finally:
        if preload is not None:
            os.environ["LD_PRELOAD"] = preload


@pytest.fixture
def context(browser, console_server):
    """A fresh browser context on the console: no cookies, 1,366 px wide."""
    context = browser.new_context(
        viewport=VIEWPORT,
        base_url=console_server.url,
        accept_downloads=True,
        extra_http_headers={"X-Forwarded-For": next(CLIENT_ADDRESSES)},
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember whether a test failed, so its page can be photographed."""
    report = yield
    if report.failed:
        item.stash[_failed_key] = True
    return report


@pytest.fixture
def page(context, request):
    """A tab in the test's context; the test errs on script errors (a refusal by the
    Content-Security-Policy among them) or server errors.

    A failing test leaves `tests/e2e/screenshots/FAILED-<test>.png` behind.
    """
    page = context.new_page()
    script_errors: list[str] = []
    server_errors: list[str] = []

    def note_server_error(response) -> None:
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def note_policy_violation(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            script_errors.append(message.text)

    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on("console", note_policy_violation)
    page.on("response", note_server_error)
    yield page
    if request.node.stash.get(_failed_key, False):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"FAILED-{request.node.name}.png", full_page=True)
    assert not script_errors, f"script errors on the page: {script_errors}"
    assert not server_errors, f"the console answered with errors: {server_errors}"


@pytest.fixture
def shoot(page) -> Callable[[str], Path]:
    """Save a full-page screenshot as `tests/e2e/screenshots/<name>.png`."""

    def save(name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


def sign_in(page, role: Role, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form as the demo user of `role`; land on the dashboard
    (a reviewer lands on the inbox)."""
    page.goto("/login")
    page.get_by_label("Email").fill(DEMO_EMAILS[role])
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    home = "Inbox" if role == Role.REVIEWER else "Dashboard"
    expect(page.get_by_role("heading", name=home, exact=True)).to_be_visible()


def mark_page(page) -> None:
    """Tag the loaded document; a full page load loses the tag, an htmx swap keeps it."""
    page.evaluate("window.__e2eMark = 'still the same document'")


def assert_not_reloaded(page) -> None:
    """The document tagged by `mark_page` is still the one shown."""
    assert page.evaluate("window.__e2eMark") == "still the same document", "the page reloaded"


def assert_fits_width(page) -> None:
    """Nothing on the page, and no table in its scroll box, is wider than the window."""
    overflow = page.evaluate(
        """() => {
            const root = document.documentElement;
            const wide = [...document.querySelectorAll('.table-wrap')]
                .filter(el => el.scrollWidth > el.clientWidth + 1)
                .map(el => el.scrollWidth + ' > ' + el.clientWidth);
            return {page: root.scrollWidth - root.clientWidth, tables: wide};
        }"""
    )
    assert overflow["page"] <= 0, f"the page is {overflow['page']} px wider than the window"
    assert not overflow["tables"], f"tables scroll sideways: {overflow['tables']}"


def url_path(pattern: str) -> re.Pattern:
    """A URL matcher for a path on the console (any host and port)."""
    return re.compile(r"^https?://[^/]+" + pattern)
