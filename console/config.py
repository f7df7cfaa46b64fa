"""Configuration read from the environment.

Two modes share one code path. With neither `DATABASE_URL` nor `REDIS_URL` set the
console runs *embedded*: SQLite in `instance/`, an in-process queue over fake Redis,
sandbox providers and a demo team. Setting either one means *production*, where every
connection and the secret key must be given explicitly.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration."""


def _embedded_secret_key(instance_dir: Path) -> str:
    """A random key kept in `instance/` so embedded sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _flag(value: str | None, default: bool = False) -> bool:
    """Read an on/off environment value."""
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_AI_PRICES: dict[str, dict[str, str]] = {
    "claude-opus": {"input": "15", "output": "75", "cache_read": "1.50"},
    "claude-sonnet": {"input": "3", "output": "15", "cache_read": "0.30"},
    "claude-haiku": {"input": "1", "output": "5", "cache_read": "0.10"},
}


def _ai_prices(text: str) -> dict[str, dict[str, str]]:
    """The per-model token prices: AI_PRICES as JSON, else the defaults."""
    if not text.strip():
        return DEFAULT_AI_PRICES
    try:
        prices = json.loads(text)
        assert isinstance(prices, dict) and all(
            isinstance(p, dict) and {"input", "output"} <= set(p) for p in prices.values()
        )
    except (ValueError, AssertionError) as exc:
        raise ConfigError(
            'AI_PRICES must be JSON like {"claude-sonnet": {"input": "3", "output": "15"}}.'
        ) from exc
    return {name: {k: str(v) for k, v in p.items()} for name, p in prices.items()}


class Config:
    """Settings for one running console, built from an environment mapping."""

    TESTING = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    # Start the in-process worker thread (embedded mode only).
    EMBEDDED_WORKER = True
    # Move what starting made (modules, models, routes: some 300,000 objects) out of the
    # garbage collector's reach once the app is built (gc.freeze). Otherwise every full
    # collection walks them all, and a big page (the deal board) pays it now and then:
    # its p95 was about twice its median. Off in tests, which build thousands of apps.
    FREEZE_GC_AT_START = True
    # Failed sign-ins in a row at one account from one address, then from all addresses,
    # before it backs off: first for WINDOW seconds, doubling per failure up to MAX.
    LOGIN_THROTTLE_LIMIT = 5
    LOGIN_THROTTLE_ACCOUNT_LIMIT = 20
    LOGIN_THROTTLE_WINDOW_SECONDS = 60
    LOGIN_THROTTLE_MAX_SECONDS = 900
    LEADS_PAGE_SIZE = 50

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self.DATABASE_URL = env.get("DATABASE_URL", "")
        self.REDIS_URL = env.get("REDIS_URL", "")
        self.EMBEDDED = not (self.DATABASE_URL or self.REDIS_URL)
        instance_dir = Path(env.get("CONSOLE_INSTANCE_PATH") or INSTANCE_DIR)
        self.INSTANCE_PATH = str(instance_dir)
        # Uploaded lists wait here for their import; workers on other machines need the
        # same folder (a shared volume) in production.
        self.UPLOAD_DIR = env.get("CONSOLE_UPLOAD_DIR") or str(instance_dir / "uploads")

        if self.EMBEDDED:
            instance_dir.mkdir(parents=True, exist_ok=True)
            self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance_dir / 'console.db'}"
            self.SECRET_KEY = env.get("SECRET_KEY") or _embedded_secret_key(instance_dir)
        else:
            missing = [
                name for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not env.get(name)
            ]
            if missing:
                raise ConfigError(
                    "Production mode (DATABASE_URL or REDIS_URL is set) also needs "
                    + ", ".join(missing)
                    + ". Set them in the environment, or unset DATABASE_URL and REDIS_URL "
                    "to run the embedded default."
                )
            self.SECRET_KEY = env["SECRET_KEY"]
            self.SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(self.DATABASE_URL)

        # Seals the keys teams enter for their vendors; defaults to the session key.
        self.SECRETS_KEY = env.get("CONSOLE_SECRETS_KEY") or self.SECRET_KEY

        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        # Unset, the default above is a guess: Settings says so, or (embedded) shows the
        # address the browser reached the console at.
        self.PUBLIC_BASE_URL_SET = bool(env.get("PUBLIC_BASE_URL", "").strip())
        self.SESSION_COOKIE_SECURE = self.PUBLIC_BASE_URL.startswith("https://")
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"

        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_MESSAGING_SERVICE_SID = env.get("TWILIO_MESSAGING_SERVICE_SID", "")
        self.TWILIO_FROM_NUMBER = env.get("TWILIO_FROM_NUMBER", "")
        # The team (name or slug) the number or service above belongs to; by default the
        # first team created. Every other team adds a number of its own.
        self.TWILIO_DEFAULT_SENDER_TEAM = env.get("TWILIO_DEFAULT_SENDER_TEAM", "")
        self.TWILIO_API_BASE_URL = env.get("TWILIO_API_BASE_URL", "")
        self.TWILIO_SANDBOX = not (self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN)
        # A test clock: every process of a test reads the same hour (quiet hours, leases,
        # due times). Quiet hours are the law, so only where no text can reach a phone.
        self.CLOCK_OFFSET_SECONDS = float(env.get("CONSOLE_CLOCK_OFFSET_SECONDS") or 0)
        if self.CLOCK_OFFSET_SECONDS and not (
            self.TWILIO_SANDBOX or _is_loopback(self.TWILIO_API_BASE_URL)
        ):
            raise ConfigError(
                "CONSOLE_CLOCK_OFFSET_SECONDS moves the clock that quiet hours are read "
                "from; it is for tests only, with the Twilio sandbox or a Twilio simulator "
                "on a loopback TWILIO_API_BASE_URL. Unset it to send real texts."
            )
        # A dispatcher sends for this many seconds, then lets other jobs have the worker
        # (embedded: the one worker thread also drafts batches and runs imports).
        self.DISPATCH_TIME_SLICE = float(
            env.get("DISPATCH_TIME_SLICE") or (5 if self.EMBEDDED else 30)
        )
        # A text claimed this long ago without a SID is looked up at Twilio, then retried.
        self.DISPATCH_LEASE_SECONDS = int(env.get("DISPATCH_LEASE_SECONDS") or 120)
        # Seconds one request to Twilio's API may take before the SDK gives up.
        self.TWILIO_TIMEOUT = float(env.get("TWILIO_TIMEOUT") or 10)
        _check_lease(self.DISPATCH_LEASE_SECONDS, self.DISPATCH_TIME_SLICE, self.TWILIO_TIMEOUT)
        # Texts one dispatcher has in flight at once (Twilio's answer awaited): with
        # Twilio answering in 0.4 s, 32 in flight send up to 80 texts a second; the
        # sender's MPS keeps fewer in flight (its rate times Twilio's answer time).
        self.DISPATCH_CONCURRENCY = _count_setting(env, "DISPATCH_CONCURRENCY", 32, 1, 256)
        # Dispatchers that share one batch at once; 0: one per running worker.
        self.DISPATCH_JOBS_PER_BATCH = _count_setting(env, "DISPATCH_JOBS_PER_BATCH", 0, 0, 64)
        # Lookup v2 line type intelligence, per number (Twilio's list price).
        self.TWILIO_LOOKUP_PRICE = env.get("TWILIO_LOOKUP_PRICE", "0.008")

        self.ANTHROPIC_API_KEY = env.get("ANTHROPIC_API_KEY", "")
        self.ANTHROPIC_BASE_URL = env.get("ANTHROPIC_BASE_URL", "")
        self.ANTHROPIC_MODEL_DRAFT = env.get("ANTHROPIC_MODEL_DRAFT", "claude-sonnet-5-5")
        self.ANTHROPIC_MODEL_CLASSIFY = env.get("ANTHROPIC_MODEL_CLASSIFY", "claude-haiku-5-5")
        # Seconds a draft or classification call may take before the template stands.
        self.ANTHROPIC_TIMEOUT = float(env.get("ANTHROPIC_TIMEOUT", "5"))
        # What the reports count an AI call at: dollars per million tokens, by model
        # name prefix ("claude-sonnet" covers claude-sonnet-5-5), as input, output and
        # cache-read prices. AI_PRICES (JSON of the same shape) replaces it.
        self.AI_PRICES = _ai_prices(env.get("AI_PRICES", ""))

        # A team's skip-trace vendor: https only in production. Private and loopback
        # hosts (a local vendor simulator) only when the embedded console's operator
        # says so; tests set it on TestConfig. No team setting can change either.
        self.SKIPTRACE_ALLOW_HTTP = self.EMBEDDED
        self.SKIPTRACE_ALLOW_PRIVATE_HOSTS = _flag(env.get("SKIPTRACE_ALLOW_PRIVATE_HOSTS"))
        if self.SKIPTRACE_ALLOW_PRIVATE_HOSTS and not self.EMBEDDED:
            raise ConfigError(
                "SKIPTRACE_ALLOW_PRIVATE_HOSTS is for the embedded console and tests only; "
                "in production a skip-trace vendor is a public https endpoint."
            )

        # Embedded: migrate the schema and create the demo team at start.
        self.AUTO_MIGRATE = _flag(env.get("CONSOLE_AUTO_MIGRATE"), default=self.EMBEDDED)
        # Behind N reverse proxies, trust N X-Forwarded-* hops (client address, https).
        self.PROXY_FIX_HOPS = int(env.get("PROXY_FIX_HOPS") or 0)

    @property
    def mode(self) -> str:
        """`embedded` or `production`, for pages and logs."""
        return "embedded" if self.EMBEDDED else "production"


def _is_loopback(url: str) -> bool:
    """Whether `url` names this machine (a simulator), not a host on the network."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _count_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting from `low` to `high`; a clear error otherwise."""
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return value


def _check_lease(lease: float, time_slice: float, twilio_timeout: float) -> None:
    """Refuse a lease a live dispatcher can outlast: it holds a claim for up to its time
    slice and then one Twilio call, and a claim past its lease is reconciled and may be
    sent again by another worker."""
    if lease <= time_slice + twilio_timeout:
        raise ConfigError(
            f"DISPATCH_LEASE_SECONDS ({lease:g}) must exceed DISPATCH_TIME_SLICE "
            f"({time_slice:g}) plus TWILIO_TIMEOUT ({twilio_timeout:g}), "
            f"{time_slice + twilio_timeout:g} s: a text a live worker is still sending would "
            "otherwise be looked up and sent again. Raise the lease or shorten the others."
        )


def _sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for plain `postgres://` and `postgresql://` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class TestConfig(Config):
    """Settings for the test suite: in-memory SQLite, no background thread, no CSRF."""

    __test__ = False  # not a pytest test class

    TESTING = True
    WTF_CSRF_ENABLED = False
    EMBEDDED_WORKER = False
    FREEZE_GC_AT_START = False
    SERVER_NAME = "console.test"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashes keep the suite quick

    def __init__(self, environ: Mapping[str, str] | None = None, **overrides) -> None:
        super().__init__(environ if environ is not None else {"SECRET_KEY": "test-secret"})
        self.SQLALCHEMY_DATABASE_URI = "sqlite://"
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.AUTO_MIGRATE = False
        for key, value in overrides.items():
            setattr(self, key, value)
