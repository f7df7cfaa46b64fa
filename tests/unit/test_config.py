"""Configuration from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console import create_app
from console.config import Config, ConfigError, TestConfig
from console.models.base import set_clock_offset, utcnow


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config({"DATABASE_URL": "postgresql://db/console", "REDIS_URL": "redis://r:6379/0"})


def test_production_needs_redis_and_database_together():
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Config({"DATABASE_URL": "postgresql://db/console", "SECRET_KEY": "s"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Config({"REDIS_URL": "redis://r:6379/0", "SECRET_KEY": "s"})


def test_production_uses_psycopg3_and_the_given_secret():
    config = Config(
        {
            "DATABASE_URL": "postgres://u:p@db:5432/console",
            "REDIS_URL": "redis://r:6379/0",
            "SECRET_KEY": "from-the-environment",
            "PUBLIC_BASE_URL": "https://console.example.com/",
        }
    )
    assert config.mode == "production"
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@db:5432/console"
    assert config.SECRET_KEY == "from-the-environment"
    assert config.PUBLIC_BASE_URL == "https://console.example.com"
    assert config.SESSION_COOKIE_SECURE is True
    assert config.AUTO_MIGRATE is False


def test_embedded_default_needs_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("console.config.INSTANCE_DIR", tmp_path)
    config = Config({})
    assert config.mode == "embedded"
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.TWILIO_SANDBOX is True
    assert config.AUTO_MIGRATE is True
    assert config.SESSION_COOKIE_SECURE is False
    # The generated key is kept, so sessions survive a restart.
    assert len(config.SECRET_KEY) >= 40
    assert Config({}).SECRET_KEY == config.SECRET_KEY
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_twilio_is_live_only_with_sid_and_token():
    assert Config({"TWILIO_ACCOUNT_SID": "AC1"}).TWILIO_SANDBOX is True
    assert Config({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}).TWILIO_SANDBOX is False


def test_factory_wires_extensions_and_session_cookie_flags():
    app = create_app(TestConfig())
    for name in ("sqlalchemy", "migrate", "csrf", "htmx"):
        assert name in app.extensions
    assert app.login_manager.login_view == "auth.login"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert set(app.blueprints) >= {"auth", "dashboard", "leads", "settings", "jobruns"}


def test_production_calls_only_public_https_vendors_and_cannot_be_told_otherwise():
    production = {"DATABASE_URL": "postgresql://db/c", "REDIS_URL": "redis://r", "SECRET_KEY": "s"}
    config = Config(production)
    assert config.SKIPTRACE_ALLOW_HTTP is False
    assert config.SKIPTRACE_ALLOW_PRIVATE_HOSTS is False
    with pytest.raises(ConfigError, match="SKIPTRACE_ALLOW_PRIVATE_HOSTS"):
        Config({**production, "SKIPTRACE_ALLOW_PRIVATE_HOSTS": "1"})


@pytest.mark.parametrize(
    "api_base_url", ["", "https://api.twilio.com", "http://127.example.com", "http://10.0.0.5"]
)
def test_test_clock_is_refused_where_real_texts_can_go(api_base_url):
    live = {
        "DATABASE_URL": "postgresql://db/c",
        "REDIS_URL": "redis://r",
        "SECRET_KEY": "s",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_API_BASE_URL": api_base_url,
    }
    assert Config(live).CLOCK_OFFSET_SECONDS == 0
    with pytest.raises(ConfigError, match="CONSOLE_CLOCK_OFFSET_SECONDS"):
        Config({**live, "CONSOLE_CLOCK_OFFSET_SECONDS": "-3600"})


@pytest.mark.parametrize(
    "api_base_url", [None, "http://127.0.0.1:8099", "http://localhost:8099", "http://[::1]:8099"]
)
def test_app_runs_on_the_test_clock_where_no_text_can_reach_a_phone(api_base_url):
    env = {"SECRET_KEY": "s", "CONSOLE_CLOCK_OFFSET_SECONDS": "86400.5"}
    if api_base_url:  # a Twilio simulator; else the sandbox
        env |= {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}
        env["TWILIO_API_BASE_URL"] = api_base_url
    try:
        create_app(TestConfig(env))
        ahead = utcnow() - datetime.now(UTC)
        create_app(TestConfig())
        back = utcnow() - datetime.now(UTC)
    finally:
        set_clock_offset(0)

    assert timedelta(days=1) <= ahead < timedelta(days=1, seconds=1)
    assert abs(back) < timedelta(seconds=1)


PRODUCTION = {
    "DATABASE_URL": "postgresql://db/console",
    "REDIS_URL": "redis://r:6379/0",
    "SECRET_KEY": "s",
}


def test_a_lease_shorter_than_the_slice_is_refused():
    with pytest.raises(ConfigError, match="DISPATCH_LEASE_SECONDS"):
        Config({**PRODUCTION, "DISPATCH_LEASE_SECONDS": "15", "DISPATCH_TIME_SLICE": "30"})


def test_a_lease_within_the_slice_plus_the_twilio_timeout_is_refused():
    settings = {"DISPATCH_TIME_SLICE": "30", "TWILIO_TIMEOUT": "10"}
    with pytest.raises(ConfigError, match=r"TWILIO_TIMEOUT \(10\), 40 s"):
        Config({**PRODUCTION, **settings, "DISPATCH_LEASE_SECONDS": "40"})
    accepted = Config({**PRODUCTION, **settings, "DISPATCH_LEASE_SECONDS": "41"})
    assert accepted.DISPATCH_LEASE_SECONDS == 41


def test_the_default_lease_outlasts_the_default_slice_and_timeout(tmp_path):
    production = Config(PRODUCTION)
    embedded = Config({"CONSOLE_INSTANCE_PATH": str(tmp_path)})
    for config in (production, embedded):
        longest_hold = config.DISPATCH_TIME_SLICE + config.TWILIO_TIMEOUT
        assert longest_hold < config.DISPATCH_LEASE_SECONDS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISPATCH_CONCURRENCY", "0"),
        ("DISPATCH_CONCURRENCY", "lots"),
        ("DISPATCH_CONCURRENCY", "257"),
        ("DISPATCH_JOBS_PER_BATCH", "-1"),
    ],
)
def test_dispatch_counts_outside_their_range_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=rf"{name} must be a whole number from"):
        Config({**PRODUCTION, name: value})


def test_dispatch_counts_default_to_32_in_flight_and_one_dispatcher_a_worker():
    config = Config(PRODUCTION)
    assert (config.DISPATCH_CONCURRENCY, config.DISPATCH_JOBS_PER_BATCH) == (32, 0)
    assert Config({**PRODUCTION, "DISPATCH_CONCURRENCY": "8"}).DISPATCH_CONCURRENCY == 8
