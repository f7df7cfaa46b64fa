"""The deal origination console: a Flask app for SMS outreach to business owners."""

from __future__ import annotations

import gc
from decimal import Decimal

from flask import Flask, g, has_request_context, render_template, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from console.config import ROOT, Config
from console.extensions import csrf, db, htmx, login_manager, migrate
from console.models.base import set_clock_offset, utcnow

HTMX_VERSION = "2.0.11"


def create_app(config: Config | None = None) -> Flask:
    """Build the console: extensions, blueprints, commands and error pages."""
    config = config or Config()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=config.INSTANCE_PATH,
    )
    app.config.from_object(config)
    app.config["CONSOLE_MODE"] = config.mode
    set_clock_offset(app.config.get("CLOCK_OFFSET_SECONDS", 0))
    if app.config.get("PROXY_FIX_HOPS"):
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    from console.web import BoundedIntConverter

    # Before the blueprints: their `<int:...>` rules take the bounded converter.
    app.url_map.converters["int"] = BoundedIntConverter
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    _register_security_headers(app)
    _register_favicon(app)

    from console.cli import register_commands

    register_commands(app)

    if config.EMBEDDED and config.EMBEDDED_WORKER:
        from jobs.worker import install_embedded_worker

        install_embedded_worker(app)
        _start_ticker_with_first_request(app)
    if config.EMBEDDED and config.AUTO_MIGRATE:
        from console.bootstrap import bootstrap_embedded

        bootstrap_embedded(app)
    if app.config.get("FREEZE_GC_AT_START"):
        gc.freeze()
    return app


def _start_ticker_with_first_request(app: Flask) -> None:
    """Embedded: the sending ticker starts with the first request (not for CLI commands)."""
    from jobs.sending import start_ticker

    @app.before_request
    def _ticker() -> None:
        if "console.ticker_stop" not in app.extensions:
            start_ticker(app)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from console.models import User  # noqa: F401 - registers every model
    from console.services.accounts import load_user

    @login_manager.user_loader
    def _load_user(session_id: str):
        return load_user(db.session, session_id)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys, and let the worker thread and requests share the file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync stays consistent after a crash (a power cut may lose the
        # last commit); a 64 MB page cache keeps the import indexes in memory.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    from console.auth.routes import bp as auth_bp
    from console.campaigns.routes import bp as campaigns_bp
    from console.dashboard.routes import bp as dashboard_bp
    from console.imports.routes import bp as imports_bp
    from console.inbox.routes import bp as inbox_bp
    from console.jobruns.routes import bp as jobruns_bp
    from console.leads.routes import bp as leads_bp
    from console.library.routes import bp as library_bp
    from console.pipeline.routes import bp as pipeline_bp
    from console.reports.routes import bp as reports_bp
    from console.settings.routes import bp as settings_bp
    from console.skiptrace.routes import bp as skiptrace_bp
    from console.tasks.routes import bp as tasks_bp
    from console.webhooks.routes import bp as webhooks_bp

    for blueprint in (
        auth_bp,
        dashboard_bp,
        leads_bp,
        imports_bp,
        pipeline_bp,
        reports_bp,
        skiptrace_bp,
        campaigns_bp,
        library_bp,
        inbox_bp,
        tasks_bp,
        webhooks_bp,
        settings_bp,
        jobruns_bp,
    ):
        app.register_blueprint(blueprint)


def _register_error_pages(app: Flask) -> None:
    from console.web import wants_partial

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code is None or error.code < 400 or error.code in (401,):
            return error
        template = "errors/_error.html" if wants_partial() else "errors/error.html"
        return render_template(template, error=error), error.code

    @app.errorhandler(500)
    def _server_error(error):
        db.session.rollback()
        template = "errors/_error.html" if wants_partial() else "errors/error.html"
        return render_template(template, error=None), 500


def _register_template_helpers(app: Flask) -> None:
    from console.models import Role
    from console.services import timezones
    from console.services.campaigns import queue_flags, segments
    from console.services.campaigns.campaigns import EXCLUSIONS
    from console.services.phones import display as display_phone
    from console.services.sending import held
    from console.services.sending.policy import SendingSettings

    def viewer_zone() -> str:
        """The zone the signed-in viewer reads times in; US Eastern outside a request.
        Worked out once a request (a board shows hundreds of times)."""
        if not has_request_context():
            return timezones.DEFAULT_ZONE
        if "viewer_zone" not in g:
            authenticated = current_user.is_authenticated
            g.viewer_zone = (
                timezones.viewer_zone_name(current_user)
                if authenticated
                else timezones.DEFAULT_ZONE
            )
        return g.viewer_zone

    @app.context_processor
    def _globals():
        return {
            "now": utcnow(),  # a view's own `now` wins over this one
            "owner_clock": timezones.owner_clock,
            "recipient_clock": timezones.recipient_clock,
            "zone_label": timezones.zone_label,
            "console_mode": app.config["CONSOLE_MODE"],
            "twilio_sandbox": app.config["TWILIO_SANDBOX"],
            "htmx_version": HTMX_VERSION,
            "Role": Role,
            "current_user": current_user,
            "exclusions_label": lambda key: EXCLUSIONS.get(key, key.replace("_", " ")),
            "flag_label": queue_flags.flag_label,
            "held_reply_words": lambda message: held.reply_goes_words(
                message, timezones.viewer_zone_name(current_user), utcnow()
            ),
            "sandbox_hours_open": lambda team: bool(
                app.config["TWILIO_SANDBOX"] and SendingSettings.of(team).sandbox_open_hours
            ),
        }

    app.add_template_filter(display_phone, "phone")
    app.add_template_filter(segments.measure, "measure")
    app.add_template_filter(queue_flags.highlighted, "highlighted")

    @app.template_filter("when")
    def _when(value, zone: str = "") -> str:
        """ "Jan 14, 2026, 4:00 pm EST": in `zone`, else the viewer's, the zone named."""
        return timezones.format_when(value, zone or viewer_zone()) if value else ""

    @app.template_filter("duration")
    def _duration(seconds: float) -> str:
        seconds = int(round(seconds))
        if seconds < 60:
            return f"{seconds} s"
        minutes, seconds = divmod(seconds, 60)
        if minutes < 60:
            return f"{minutes} min {seconds:02d} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"

    @app.template_filter("span")
    def _span(seconds) -> str:
        """ "40 min", "5 h 10 min", "2 d 3 h": a stretch of time as a report reads it."""
        seconds = int(round(float(seconds)))
        if seconds < 60:
            return f"{seconds} s"
        minutes = seconds // 60
        if minutes < 60:
            return f"{minutes} min"
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return f"{hours} h {minutes} min" if minutes else f"{hours} h"
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h" if hours else f"{days} d"

    @app.template_filter("timesince_short")
    def _timesince_short(value, now) -> str:
        """ "in 12 min", "3 h ago": a deadline against now, in a few characters."""
        if value is None:
            return ""
        seconds = int((value - now).total_seconds())
        span = abs(seconds)
        if span < 3600:
            text = f"{max(1, span // 60)} min"
        elif span < 86400:
            text = f"{span // 3600} h {span % 3600 // 60} min"
        else:
            text = f"{span // 86400} d {span % 86400 // 3600} h"
        return f"in {text}" if seconds >= 0 else f"{text} ago"

    @app.template_filter("money")
    def _money(value, places: int = 2) -> str:
        if value is None:
            return ""
        amount = Decimal(value)
        # Sub-cent prices ($0.0083) keep their digits; amounts show cents.
        if (
            places == 2
            and amount
            and abs(amount) < 1
            and amount != amount.quantize(Decimal("0.01"))
        ):
            places = 4
        return f"${amount:,.{places}f}"

    @app.template_filter("width")
    def _width(percent) -> str:
        """The `w-N` class that sets a bar's width (the CSP refuses inline styles)."""
        return f"w-{max(0, min(100, round(float(percent or 0))))}"

    @app.template_filter("percent")
    def _percent(value) -> str:
        return "" if value is None else f"{value * 100:.1f}%"

    @app.template_filter("number")
    def _number(value) -> str:
        return f"{value:,}" if isinstance(value, int) else ("" if value is None else str(value))

    @app.after_request
    def _vary(response):
        response.vary.add("HX-Request")  # pages and fragments share URLs
        return response


def _register_favicon(app: Flask) -> None:
    """Browsers ask for /favicon.ico whatever the page links; they get the console's icon."""
    app.add_url_rule(
        "/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"), methods=["GET"]
    )


def _register_security_headers(app: Flask) -> None:
    from console.web import security_headers

    @app.after_request
    def _security_headers(response):
        https = request.is_secure or app.config["PUBLIC_BASE_URL"].startswith("https://")
        private = request.endpoint != "static" and current_user.is_authenticated
        for name, value in security_headers(https=https, private=private).items():
            response.headers.setdefault(name, value)
        return response
