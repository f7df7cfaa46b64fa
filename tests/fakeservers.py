"""Local stand-ins for the paid APIs: a skip-trace vendor, Twilio Lookup v2 and Messaging,
and Anthropic's Messages API.

Each server listens on a free loopback port in a daemon thread, answers the way the
real service does (same paths, auth and JSON shapes), and records what it was asked,
so tests and the benchmark exercise the real HTTP clients without an account.

    with VendorServer(hit_rate=1.0) as vendor:
        HttpSource(..., HttpSettings(endpoint=vendor.url + "/search"), ...)

    with TwilioServer(SID, TOKEN, service_numbers=["+15125550100"]) as twilio:
        make_client(SID, TOKEN, base_url=twilio.url).messages.create(...)

    with AnthropicServer(api_key="sk-test") as claude:
        anthropic.Anthropic(api_key="sk-test", base_url=claude.url).messages.create(...)
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import heapq
import itertools
import json
import math
import random
import re
import secrets
import socket
import string
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from requests import RequestException, Session
from twilio.request_validator import RequestValidator

FIRST_NAMES = (
    "Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan",
    "Elena", "Marcus", "Priya", "Diego", "Grace", "Samuel", "Naomi", "Victor",
)  # fmt: skip
LAST_NAMES = (
    "Whitfield", "Castellano", "Okafor", "Lindqvist", "Brennan", "Moreau",
    "Takahashi", "Delgado", "Ashworth", "Kowalski", "Farrow", "Pemberton",
)  # fmt: skip
STREETS = ("Main St", "Congress Ave", "Lamar Blvd", "Oak Hollow Dr", "Cedar Ln")
FAIL_BEHAVIOURS = frozenset({"500", "429", "timeout", "flaky", "garbage", "404"})
# Mobile country and network codes Twilio gives with the carriers the defaults name.
CARRIER_CODES = {
    "Verizon Wireless": ("311", "480"),
    "T-Mobile USA, Inc.": ("310", "260"),
    "AT&T Wireless": ("310", "410"),
    "AT&T": ("310", "410"),
    "Bandwidth": ("313", "981"),
}
# Calling codes the Lookup fake can name a country for; enough for the tests.
CALLING_CODES = {"1": "US", "44": "GB", "52": "MX", "61": "AU"}
TWILIO_ERRORS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
TWILIO_MESSAGES = {
    401: "Authenticate",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def name_hash(text: str) -> int:
    """The number every vendor decision about a business is derived from."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class _QuietServer(ThreadingHTTPServer):
    """A threading server that drops clients who hung up without a traceback."""

    daemon_threads = True
    # The benchmark opens many connections at once; the default backlog of 5 resets some.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that gave up (a timed-out test hangs up mid-answer)."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request and hands it to the owning fake; writes JSON answers."""

    # Keep-alive, as the real services offer; every answer carries Content-Length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm meets the
    # client's delayed ACK and adds ~40 ms to every answer.
    disable_nagle_algorithm = True
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Say nothing: test output stays readable."""

    def do_GET(self) -> None:
        """Hand a GET to the fake."""
        self._dispatch()

    def do_POST(self) -> None:
        """Hand a POST to the fake."""
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.fake.answer(self, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            content_type = "application/json" if not isinstance(payload, bytes) else "text/html"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class FakeServer:
    """A loopback HTTP server in a daemon thread; `with` starts and stops it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` once started."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Listen on a free loopback port and serve in a daemon thread."""
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        # A short poll interval so stop() (and so every test's teardown) is quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake requests that are sleeping, and free the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        """The status and JSON (or raw bytes) for one request."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start; the `with` block gets the running server."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop, whatever happened in the block."""
        self.stop()


class VendorServer(FakeServer):
    """A skip-trace vendor's JSON API: `POST /search` (or GET with query parameters).

    Whether a business is found depends only on its name, so runs are repeatable;
    `fail_names` makes chosen businesses fail ("500", "429", "404", "timeout",
    "flaky", "garbage") and `answers` gives chosen businesses an exact payload.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        latency: float = 0.0,
        hit_rate: float = 0.6,
        fail_names: dict[str, str] | None = None,
        answers: dict[str, dict | list] | None = None,
        timeout_sleep: float = 3.0,
    ) -> None:
        super().__init__()
        unknown = set((fail_names or {}).values()) - FAIL_BEHAVIOURS
        if unknown:
            raise ValueError(f"unknown fail behaviours: {sorted(unknown)}")
        self.api_key = api_key
        self.latency = latency
        self.hit_rate = hit_rate
        self.fail_names = dict(fail_names or {})
        self.answers = dict(answers or {})
        self.timeout_sleep = timeout_sleep
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.calls_by_name: Counter[str] = Counter()
        self.current = 0
        self.peak = 0

    def reset(self) -> None:
        """Forget recorded requests, call counts and the concurrency peak."""
        with self.lock:
            self.requests.clear()
            self.calls_by_name.clear()
            self.peak = self.current

    def hits(self, business_name: str) -> bool:
        """Whether a search for this business finds someone (ignoring failures)."""
        if business_name in self.answers:
            return True
        return name_hash(business_name) % 1000 < self.hit_rate * 1000

    def result_for(self, business_name: str) -> dict:
        """The generated owner record for a business, as a hit returns it."""
        digest = hashlib.sha256(business_name.encode()).digest()
        first = FIRST_NAMES[digest[0] % len(FIRST_NAMES)]
        last = LAST_NAMES[digest[1] % len(LAST_NAMES)]
        mobile, landline = digest[2] % 100, digest[3] % 100
        if landline == mobile:
            landline = (mobile + 1) % 100
        return {
            "name": f"{first} {last}",
            "title": "Owner",
            "confidence": 0.91,
            "phones": [
                {"number": f"(512) 555-01{mobile:02d}", "type": "Wireless"},
                {"number": f"(512) 555-01{landline:02d}", "type": "Landline"},
            ],
            "emails": [f"{first.lower()}.{last.lower()}@example.com"],
            "addresses": [
                {
                    "street": f"{100 + digest[4] * 7} {STREETS[digest[5] % len(STREETS)]}",
                    "city": "Austin",
                    "state": "TX",
                    "zip": "78701",
                }
            ],
        }

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        """Authorize, record, then answer as the business's behaviour says."""
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        try:
            return self._answer(handler, body)
        finally:
            with self.lock:
                self.current -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(handler.path)
        headers = {key.lower(): value for key, value in handler.headers.items()}
        if handler.command == "GET":
            parsed: Any = dict(parse_qsl(parts.query, keep_blank_values=True))
            key_text = parts.query
        else:
            key_text = body.decode("utf-8", "replace")
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = None
        name = parsed.get("business_name") if isinstance(parsed, dict) else None
        name = str(name) if name is not None else key_text
        with self.lock:
            self.requests.append((parts.path, headers, parsed))
            self.calls_by_name[name] += 1
            seen = self.calls_by_name[name]
        self.sleep(self.latency)
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "unauthorized"}
        if parts.path != "/search":
            return 404, {"error": "not found"}
        if parsed is None:
            return 400, {"error": "the body is not JSON"}
        behaviour = self.fail_names.get(name, "")
        if behaviour in {"500", "429", "404"}:
            return int(behaviour), {"error": f"failing on purpose ({behaviour})"}
        if behaviour == "flaky" and seen == 1:
            return 500, {"error": "flaky: failing the first call"}
        if behaviour == "garbage":
            return 200, b"<html><body>Service temporarily unavailable</body></html>"
        if behaviour == "timeout":
            self.sleep(self.timeout_sleep)
        if name in self.answers:
            return 200, self.answers[name]
        if not self.hits(name):
            return 200, {"results": []}
        return 200, {"results": [self.result_for(name)]}


class LookupServer(FakeServer):
    """Twilio Lookup v2 `GET /v2/PhoneNumbers/{PhoneNumber}`, answering its LookupResponse.

    Line types come from `types` ({e164: (type, carrier)}); other numbers are mobile on
    Verizon unless they end in 0 (landline, AT&T) or 9 (nonFixedVoip, Bandwidth).
    `invalid` numbers are not valid; `status_for` numbers get that HTTP status.
    """

    PREFIX = "/v2/PhoneNumbers/"

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-token",
        types: dict[str, tuple[str, str]] | None = None,
        invalid: set[str] | None = None,
        status_for: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.types = dict(types or {})
        self.invalid = set(invalid or ())
        self.status_for = dict(status_for or {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        """Forget recorded requests and call counts."""
        with self.lock:
            self.requests.clear()
            self.calls.clear()

    def line_type(self, e164: str) -> tuple[str, str]:
        """(type, carrier) this server gives a valid number."""
        if e164 in self.types:
            return self.types[e164]
        if e164.endswith("0"):
            return "landline", "AT&T"
        if e164.endswith("9"):
            return "nonFixedVoip", "Bandwidth"
        return "mobile", "Verizon Wireless"

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        """Authenticate, record, then answer like Lookup v2."""
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            self.requests.append((parts.path, query))
        if not self._authorized(handler.headers.get("Authorization", "")):
            return self._error(401)
        if handler.command != "GET" or not parts.path.startswith(self.PREFIX):
            return self._error(404)
        # Not unquote_plus: the SDK sends a bare "+", which means plus in a path.
        e164 = unquote(parts.path[len(self.PREFIX) :])
        with self.lock:
            self.calls[e164] += 1
        if e164 in self.status_for:
            return self._error(self.status_for[e164])
        fields = {f.strip() for f in query.get("Fields", "").split(",") if f.strip()}
        return 200, self.lookup_response(e164, "line_type_intelligence" in fields)

    def lookup_response(self, e164: str, with_line_type: bool) -> dict:
        """The LookupResponse body for a number, as the schema lays it out."""
        digits = e164.lstrip("+")
        calling_code = next((code for code in CALLING_CODES if digits.startswith(code)), None)
        valid = e164 not in self.invalid and e164.startswith("+") and digits.isdigit()
        intelligence = None
        if valid and with_line_type:
            kind, carrier = self.line_type(e164)
            mcc, mnc = CARRIER_CODES.get(carrier, (None, None))
            intelligence = {
                "mobile_country_code": mcc,
                "mobile_network_code": mnc,
                "carrier_name": carrier,
                "type": kind,
                "error_code": None,
            }
        return {
            "calling_country_code": calling_code,
            "country_code": CALLING_CODES.get(calling_code or ""),
            "phone_number": e164,
            "national_format": _national_format(digits, calling_code) if valid else None,
            "valid": valid,
            "validation_errors": None if valid else ["INVALID_BUT_POSSIBLE"],
            "caller_name": None,
            "sim_swap": None,
            "call_forwarding": None,
            "line_type_intelligence": intelligence,
            "line_status": None,
            "identity_match": None,
            "reassigned_number": None,
            "sms_pumping_risk": None,
            "phone_number_quality_score": None,
            "pre_fill": None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{e164}",
        }

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"

    @staticmethod
    def _error(status: int) -> tuple[int, dict]:
        code = TWILIO_ERRORS.get(status, 20000 + status)
        return status, {
            "code": code,
            "message": TWILIO_MESSAGES.get(status, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }


def _national_format(digits: str, calling_code: str | None) -> str:
    """`(512) 555-0142` for a NANP number; the digits after the country code otherwise."""
    if calling_code == "1" and len(digits) == 11:
        return f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"
    return digits[len(calling_code or "") :]


class TwilioServer(FakeServer):
    """Twilio Programmable Messaging (2010-04-01): create, list and fetch Messages; the
    account's IncomingPhoneNumbers (list, filtered by PhoneNumber) and its Messaging
    Services (Messaging v1 fetch), answered in the shapes of Twilio's OpenAPI schemas.

    The official SDK talks to it through `make_client(sid, token, base_url=server.url)`.
    Created messages move on in a background thread as Twilio's do: queued (or
    accepted, then queued, with a Messaging Service), sent, then the final status from
    `outcomes` (default delivered); failed skips sent. With a StatusCallback, each
    step after the first is POSTed there, signed like Twilio, `callback_delay` apart.

    `incoming_numbers` are the account's phone numbers and `services` its Messaging
    Services (`service_numbers` is the pool a service sends from).

    Behaviours, settable while it runs: `latency` per request, `outcomes`
    ({to: (final status, error code)}), `create_errors` ({to: (http status, code,
    message)}), `fail_next(n)`, `drop_after_create(n)`, `rate_limit_mps`,
    `error_rates` ({http status: share of creates refused at random, from a seeded
    generator; counted in `errors_answered`}), `callbacks`, `callback_delay`, `clock`
    (when new messages are dated; a message's later status times keep its time base,
    so a backdated message stays backdated).
    """

    PREFIX = "/2010-04-01/Accounts/"
    SERVICES_PREFIX = "/v1/Services/"
    API_VERSION = "2010-04-01"
    E164 = re.compile(r"^\+[1-9]\d{6,14}$")
    NANP = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
    ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
    SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
    BODY_LIMIT = 1600
    FAILED_FEE = Decimal("0.00100")
    ERROR_MESSAGES = {
        30003: "Unreachable destination handset",
        30004: "Message blocked",
        30005: "Unknown destination handset",
        30006: "Landline or unreachable carrier",
        30007: "Message filtered",
        30008: "Unknown error",
    }

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-token",
        service_numbers: list[str] | None = None,
        latency: float = 0.0,
        outcomes: dict[str, tuple[str, int | None]] | None = None,
        create_errors: dict[str, tuple[int, int, str]] | None = None,
        rate_limit_mps: float | None = None,
        callbacks: bool = True,
        callback_delay: float = 0.05,
        price_per_segment: str = "0.00830",
        incoming_numbers: list[str] | None = None,
        services: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.service_numbers = list(service_numbers or ())
        self.incoming_numbers = list(incoming_numbers or ())
        self.services = list(services or ())
        self.latency = latency
        self.outcomes = dict(outcomes or {})
        self.create_errors = dict(create_errors or {})
        self.rate_limit_mps = rate_limit_mps
        self.error_rates: dict[int, float] = {}
        self.errors_answered: Counter[int] = Counter()
        self._error_rng = random.Random(0)
        self.callbacks = callbacks
        self.callback_delay = callback_delay
        self.callback_timeout = 2.0
        self.price_per_segment = Decimal(price_per_segment)
        # Twilio takes SendAt 15 minutes to 35 days ahead; a test may shorten the wait.
        self.min_schedule_ahead = 900.0
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.requests = 0
        self.created: list[dict[str, Any]] = []
        self.callbacks_sent: list[dict[str, Any]] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._senders: dict[tuple[str, str], str] = {}
        self._failures: list[tuple[int, int]] = []
        self._drops = 0
        self._recent_creates: deque[float] = deque()
        self._steps: list[tuple[float, int, str]] = []
        self._step_order = itertools.count()
        self._unsettled = 0
        self._changed = threading.Condition(self.lock)
        self._stepper: threading.Thread | None = None
        self._poster: ThreadPoolExecutor | None = None
        self._sessions = threading.local()

    # -- running -------------------------------------------------------------------

    def start(self) -> Self:
        """Serve, and move created messages along in a background thread."""
        super().start()
        self._poster = ThreadPoolExecutor(max_workers=8, thread_name_prefix="TwilioCallback")
        self._stepper = threading.Thread(target=self._run_steps, name="TwilioSteps", daemon=True)
        self._stepper.start()
        return self

    def stop(self) -> None:
        """Stop serving, stepping and posting callbacks."""
        super().stop()
        with self._changed:
            self._changed.notify_all()
        if self._stepper is not None:
            self._stepper.join(timeout=5)
            self._stepper = None
        if self._poster is not None:
            self._poster.shutdown(wait=False, cancel_futures=True)
            self._poster = None

    def reset(self) -> None:
        """Forget messages, records, senders and pending behaviours."""
        with self.lock:
            self.requests = 0
            self.created.clear()
            self.callbacks_sent.clear()
            self._messages.clear()
            self._senders.clear()
            self._failures.clear()
            self._drops = 0
            self._recent_creates.clear()
            self._steps.clear()
            self._unsettled = 0
            self.errors_answered.clear()
            self._error_rng.seed(0)

    def fail_next(self, n: int = 1, http_status: int = 500, code: int = 20500) -> None:
        """Refuse the next `n` creates with this status and Twilio code (stores nothing)."""
        with self.lock:
            self._failures.extend([(http_status, code)] * n)

    def drop_after_create(self, n: int = 1) -> None:
        """Store the next `n` creates, then hang up without answering."""
        with self.lock:
            self._drops += n

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until every message reached its final status and its callbacks went.

        False on timeout; a scheduled message counts as unsettled until its SendAt.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._unsettled:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    @property
    def callback_failures(self) -> list[dict[str, Any]]:
        """Callback POSTs that raised or got a non-2xx answer."""
        with self.lock:
            return [c for c in self.callbacks_sent if not 200 <= (c["status_code"] or 0) < 300]

    def message(self, sid: str) -> dict[str, Any]:
        """A copy of a stored Message resource, as a fetch would answer it."""
        with self.lock:
            return dict(self._messages[sid]["resource"])

    # -- answering -----------------------------------------------------------------

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        """Authenticate, then route to create, list or fetch."""
        with self.lock:
            self.requests += 1
        self.sleep(self.latency)
        parts = urlsplit(handler.path)
        if not _basic_auth_matches(handler, self.account_sid, self.auth_token):
            return self._error(401, 20003, "Authenticate")
        if parts.path.startswith(self.SERVICES_PREFIX) and handler.command == "GET":
            return self._service(parts.path)
        account, _, rest = parts.path.removeprefix(self.PREFIX).partition("/")
        if not parts.path.startswith(self.PREFIX) or account != self.account_sid:
            return self._not_found(parts.path)
        if rest == "IncomingPhoneNumbers.json" and handler.command == "GET":
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            return self._incoming_numbers(parts.path, query)
        if rest == "Messages.json" and handler.command == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self._create(handler, form)
        if rest == "Messages.json" and handler.command == "GET":
            return self._list(parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)))
        sid = rest.removeprefix("Messages/").removesuffix(".json")
        if handler.command == "GET" and rest == f"Messages/{sid}.json":
            with self.lock:
                entry = self._messages.get(sid)
                return (200, dict(entry["resource"])) if entry else self._not_found(parts.path)
        return self._not_found(parts.path)

    def _create(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> tuple[int, Any]:
        refusal = self._throttle() or self._invalid(form)
        if refusal:
            return refusal
        to = form["To"]
        with self.lock:
            planned = self.create_errors.get(to)
        if planned:
            return self._error(*planned)
        resource = self._store(form)
        with self.lock:
            drop, self._drops = self._drops > 0, max(self._drops - 1, 0)
        if drop:
            # Twilio acted but the answer never came back: a crash or timeout mid-call.
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
        return 201, resource

    def _throttle(self) -> tuple[int, dict] | None:
        """429 past `rate_limit_mps`, the next planned failure, or one of `error_rates`."""
        now = time.monotonic()
        with self.lock:
            if self.rate_limit_mps:
                while self._recent_creates and now - self._recent_creates[0] >= 1.0:
                    self._recent_creates.popleft()
                if len(self._recent_creates) >= self.rate_limit_mps:
                    return self._error(429, 20429, "Too Many Requests")
                self._recent_creates.append(now)
            if self._failures:
                status, code = self._failures.pop(0)
                return self._error(status, code, TWILIO_MESSAGES.get(status, "Error"))
            roll = self._error_rng.random() if self.error_rates else 1.0
            for status, share in self.error_rates.items():
                if roll < share:
                    self.errors_answered[status] += 1
                    code = TWILIO_ERRORS.get(status, 20000 + status)
                    return self._error(status, code, TWILIO_MESSAGES.get(status, "Error"))
                roll -= share
        return None

    def _invalid(self, form: dict[str, str]) -> tuple[int, dict] | None:
        """Twilio's 400 for a create it refuses to queue, checked in Twilio's order."""
        to, sender = form.get("To", ""), form.get("From", "")
        service, body = form.get("MessagingServiceSid", ""), form.get("Body", "")
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not self.E164.match(to) or (to.startswith("+1") and not self.NANP.match(to)):
            return self._error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not sender and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if sender and not (self.E164.match(sender) or self.ALPHANUMERIC_SENDER.match(sender)):
            why = "is not a valid phone number, shortcode, or alphanumeric sender ID."
            return self._error(400, 21212, f"The 'From' number {sender} {why}")
        if sender == to:
            return self._error(400, 21266, f"'To' and 'From' number cannot be the same: {to}")
        if service and not self.SERVICE_SID.match(service):
            return self._error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if service and not sender and not self.service_numbers:
            return self._error(400, 21704, "The Messaging Service contains no phone numbers")
        if not body and not form.get("MediaUrl"):
            return self._error(400, 21602, "Message body is required.")
        if len(body) > self.BODY_LIMIT:
            why = f"The concatenated message body exceeds the {self.BODY_LIMIT} character limit."
            return self._error(400, 21617, why)
        if self._send_at(form) is False:
            return self._error(400, 35114, "Scheduling does not support this timestamp.")
        return None

    def _send_at(self, form: dict[str, str]) -> datetime | bool | None:
        """When a scheduled message goes; None if not scheduled, False if out of range.

        Like Twilio, SendAt counts only with ScheduleType=fixed and a Messaging Service.
        """
        if not (form.get("SendAt") and form.get("ScheduleType") == "fixed"):
            return None
        if not form.get("MessagingServiceSid"):
            return None
        try:
            when = datetime.fromisoformat(form["SendAt"].replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            return False
        ahead = (when - datetime.now(UTC)).total_seconds()
        return when if self.min_schedule_ahead <= ahead <= 35 * 86400 else False

    def _store(self, form: dict[str, str]) -> dict[str, Any]:
        """Keep a new message, plan its statuses, and answer its resource."""
        to, service = form["To"], form.get("MessagingServiceSid") or None
        sid = "SM" + uuid.uuid4().hex
        send_at = self._send_at(form)
        segments = _segment_count(form.get("Body", ""))
        born = self.clock()
        stamp = format_datetime(born)
        uri = f"{self.PREFIX}{self.account_sid}/Messages/{sid}"
        with self.lock:
            sender = form.get("From") or self._sticky_sender(service or "", to)
            hidden = bool(service and not form.get("From"))
            status = "scheduled" if send_at else "accepted" if service else "queued"
            outcome = self.outcomes.get(to, ("delivered", None))
            plan = ["queued"] if status != "queued" else []
            plan += ([] if outcome[0] == "failed" else ["sent"]) + [outcome[0]]
            resource = {
                "account_sid": self.account_sid,
                "api_version": self.API_VERSION,
                "body": form.get("Body", ""),
                "date_created": stamp,
                # Twilio leaves date_sent empty until the text leaves its queue.
                "date_sent": None,
                "date_updated": stamp,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                # With a service Twilio picks the sender after accepting: null until queued.
                "from": None if hidden else sender,
                "messaging_service_sid": service,
                "num_media": "0",
                "num_segments": "0" if hidden else str(segments),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": status,
                "subresource_uris": {
                    "media": f"{uri}/Media.json",
                    "feedback": f"{uri}/Feedback.json",
                },
                "to": to,
                "uri": f"{uri}.json",
            }
            self._messages[sid] = {
                "resource": resource,
                "plan": plan,
                "outcome": outcome,
                "sender": sender,
                "segments": segments,
                "callback": form.get("StatusCallback", ""),
                # Later stamps keep this message's time base, so a backdated one stays so.
                "born": (born, time.monotonic()),
            }
            self.created.append(
                {
                    "to": to,
                    "from": sender,
                    "body": resource["body"],
                    "messaging_service_sid": service,
                    "status_callback": form.get("StatusCallback") or None,
                    "sid": sid,
                    "at": time.monotonic(),
                }
            )
            self._unsettled += 1
            due = self.callback_delay
            if isinstance(send_at, datetime):
                due = (send_at - datetime.now(UTC)).total_seconds()
            self._schedule(sid, time.monotonic() + due)
            return dict(resource)

    def _sticky_sender(self, service: str, to: str) -> str:
        """The pool number this recipient already hears from, or the next in turn."""
        key = (service, to)
        if key not in self._senders:
            turn = len(self._senders) % len(self.service_numbers)
            self._senders[key] = self.service_numbers[turn]
        return self._senders[key]

    def _list(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """One page of matching messages, newest first, paged by PageToken like Twilio."""
        filters = {
            name: query[name]
            for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if query.get(name)
        }
        bounds = {}
        for name in ("DateSent", "DateSent<", "DateSent>"):
            if name in filters:
                day = _filter_date(filters[name])
                if day is None:
                    return self._error(400, 20001, f"Invalid {name}: {filters[name]}")
                bounds[name] = day
        try:
            size = min(max(int(query.get("PageSize") or 50), 1), 1000)
            page = max(int(query.get("Page") or 0), 0)
        except ValueError:
            return self._error(400, 20001, "PageSize and Page must be integers")
        with self.lock:
            matching = [
                dict(entry["resource"])
                for entry in reversed(self._messages.values())
                if _matches(entry["resource"], filters, bounds)
            ]
        token = query.get("PageToken", "")
        start = page * size
        if token.startswith("PA"):
            after = next((i for i, m in enumerate(matching) if m["sid"] == token[2:]), None)
            start = after + 1 if after is not None else len(matching)
        chunk = matching[start : start + size]

        def page_uri(number: int, page_token: str = "") -> str:
            params = {**filters, "PageSize": size, "Page": number}
            if page_token:
                params["PageToken"] = page_token
            return f"{path}?{urlencode(params)}"

        more = start + size < len(matching)
        return 200, {
            "end": start + len(chunk) - 1 if chunk else start,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1]["sid"]) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page, token),
            "messages": chunk,
        }

    def _incoming_numbers(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """The account's numbers matching PhoneNumber: like Twilio, a partial number
        matches any number containing it, and `*` stands for any one digit."""
        wanted = query.get("PhoneNumber", "")
        pattern = re.compile(".*" + _digit_pattern(wanted) + ".*")
        try:
            size = min(max(int(query.get("PageSize") or 50), 1), 1000)
        except ValueError:
            return self._error(400, 20001, "PageSize must be an integer")
        with self.lock:
            found = [n for n in self.incoming_numbers if not wanted or pattern.fullmatch(n)]
        chunk = [self._incoming_number(number) for number in found[:size]]
        params = {**({"PhoneNumber": wanted} if wanted else {}), "PageSize": size, "Page": 0}
        uri = f"{path}?{urlencode(params)}"
        return 200, {
            "end": max(len(chunk) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
            "incoming_phone_numbers": chunk,
        }

    def _incoming_number(self, number: str) -> dict[str, Any]:
        """An IncomingPhoneNumber resource (api.v2010.account.incoming_phone_number)."""
        sid = "PN" + hashlib.md5(number.encode()).hexdigest()  # noqa: S324 - an id, not a secret
        stamp = format_datetime(datetime(2025, 1, 6, tzinfo=UTC))
        return {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": self.API_VERSION,
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": stamp,
            "date_updated": stamp,
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "friendly_name": _national_format(number.lstrip("+"), "1"),
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": number,
            "sid": sid,
            "sms_application_sid": "",
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": "POST",
            "sms_url": "",
            "status_callback": "",
            "status_callback_method": "POST",
            "trunk_sid": None,
            "uri": f"{self.PREFIX}{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
            "voice_application_sid": "",
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": None,
            "bundle_sid": None,
            "voice_receive_mode": "voice",
            "status": "in-use",
            "type": "local",
        }

    def _service(self, path: str) -> tuple[int, Any]:
        """A Messaging Service of the account (messaging.v1.service), or Twilio's 404."""
        sid = path.removeprefix(self.SERVICES_PREFIX)
        with self.lock:
            known = sid in self.services
        if not known:
            return self._not_found(path)
        links = {
            name: f"https://messaging.twilio.com/v1/Services/{sid}/{part}"
            for name, part in (
                ("phone_numbers", "PhoneNumbers"),
                ("short_codes", "ShortCodes"),
                ("alpha_senders", "AlphaSenders"),
                ("messages", "Messages"),
                ("us_app_to_person", "Compliance/Usa2p"),
                ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
                ("channel_senders", "ChannelSenders"),
            )
        }
        return 200, {
            "account_sid": self.account_sid,
            "sid": sid,
            "date_created": "2025-01-06T00:00:00Z",
            "date_updated": "2025-01-06T00:00:00Z",
            "friendly_name": "Console senders",
            "inbound_request_url": None,
            "inbound_method": "POST",
            "fallback_url": None,
            "fallback_method": "POST",
            "status_callback": None,
            "sticky_sender": True,
            "mms_converter": True,
            "smart_encoding": True,
            "scan_message_content": "inherit",
            "fallback_to_long_code": False,
            "area_code_geomatch": True,
            "synchronous_validation": True,
            "validity_period": 14400,
            "url": f"https://messaging.twilio.com/v1/Services/{sid}",
            "links": links,
            "usecase": "marketing",
            "us_app_to_person_registered": False,
            "use_inbound_webhook_on_number": True,
        }

    # -- moving messages along -----------------------------------------------------

    def _schedule(self, sid: str, due: float) -> None:
        """Queue a message's next status change (the caller holds the lock)."""
        heapq.heappush(self._steps, (due, next(self._step_order), sid))
        self._changed.notify_all()

    def _run_steps(self) -> None:
        """Apply status changes as they come due, until the server stops."""
        while not self._stopping.is_set():
            with self._changed:
                now = time.monotonic()
                due = []
                while self._steps and self._steps[0][0] <= now:
                    due.append(heapq.heappop(self._steps)[2])
                if not due:
                    wait = self._steps[0][0] - now if self._steps else 0.05
                    self._changed.wait(min(wait, 0.05))
                    continue
            for sid in due:
                self._advance(sid)

    def _advance(self, sid: str) -> None:
        """Move one message to its next status; post the callback or queue the next step."""
        with self.lock:
            entry = self._messages.get(sid)
            if entry is None or not entry["plan"]:
                return
            status = entry["plan"].pop(0)
            resource = entry["resource"]
            born, born_at = entry["born"]
            stamp = format_datetime(born + timedelta(seconds=time.monotonic() - born_at))
            resource.update(status=status, date_updated=stamp)
            if status == "queued":
                resource["from"] = entry["sender"]
                resource["num_segments"] = str(entry["segments"])
            if status == "sent":
                resource["date_sent"] = stamp
            if status in {"sent", "delivered", "undelivered"}:
                price = self.price_per_segment * entry["segments"]
                resource["price"] = f"-{price:.5f}"
            if status in {"undelivered", "failed"}:
                code = entry["outcome"][1]
                resource["error_code"] = code
                why = self.ERROR_MESSAGES.get(code or 0, "Message delivery failed")
                resource["error_message"] = why
            if status == "failed":
                resource["price"] = f"-{self.FAILED_FEE:.5f}"
            url = entry["callback"] if self.callbacks and status != "queued" else ""
            params = self._callback_params(resource) if url else {}
            more = bool(entry["plan"])
            if not url:
                self._after_step(sid, more)
        if url and self._poster is not None:
            with contextlib.suppress(RuntimeError):  # the server is stopping
                self._poster.submit(self._post_callback, sid, url, params, more)

    def _after_step(self, sid: str, more: bool) -> None:
        """Queue the next step, or count the message settled (the caller holds the lock)."""
        if more:
            self._schedule(sid, time.monotonic() + self.callback_delay)
        else:
            self._unsettled -= 1
            self._changed.notify_all()

    def _callback_params(self, resource: dict[str, Any]) -> dict[str, str]:
        """The form Twilio posts to a StatusCallback for the message's current status."""
        params = {
            "AccountSid": resource["account_sid"],
            "ApiVersion": self.API_VERSION,
            "From": resource["from"] or "",
            "MessageSid": resource["sid"],
            "MessageStatus": resource["status"],
            "SmsSid": resource["sid"],
            "SmsStatus": resource["status"],
            "To": resource["to"],
        }
        if resource["messaging_service_sid"]:
            params["MessagingServiceSid"] = resource["messaging_service_sid"]
        if resource["error_code"] is not None:
            params["ErrorCode"] = str(resource["error_code"])
        return params

    def _post_callback(self, sid: str, url: str, params: dict[str, str], more: bool) -> None:
        """POST one signed status callback; record what happened instead of raising."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": f"{sid}-{params['MessageStatus']}",
            "User-Agent": "TwilioProxy/1.1",
        }
        record: dict[str, Any] = {"url": url, "params": params, "status_code": None, "error": None}
        try:
            session = getattr(self._sessions, "session", None)
            if session is None:
                session = self._sessions.session = Session()
            reply = session.post(url, data=params, headers=headers, timeout=self.callback_timeout)
            record["status_code"] = reply.status_code
        except RequestException as exc:
            record["error"] = repr(exc)
        with self.lock:
            record["at"] = time.monotonic()
            self.callbacks_sent.append(record)
            self._after_step(sid, more)

    # -- errors --------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: int, message: str) -> tuple[int, dict]:
        """Twilio's error body: code, message, more_info, status."""
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def _not_found(self, path: str) -> tuple[int, dict]:
        return self._error(404, 20404, f"The requested resource {path} was not found")


def _digit_pattern(text: str) -> str:
    """A PhoneNumber filter as a regular expression: `*` is any one digit."""
    return "".join("[0-9]" if char == "*" else re.escape(char) for char in text)


def _basic_auth_matches(handler: BaseHTTPRequestHandler, user: str, password: str) -> bool:
    """Whether the request carries HTTP Basic credentials `user:password`."""
    scheme, _, encoded = handler.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except ValueError:
        return False
    return decoded == f"{user}:{password}"


GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")


@functools.cache
def _console_measure() -> Callable[[str], Any] | None:
    """`console.services.campaigns.segments.measure`, the one home of segment math, if present."""
    try:
        from console.services.campaigns.segments import measure
    except ImportError:
        return None
    return measure


def _segment_count(body: str) -> int:
    """Segments Twilio bills for a body: the console's measure, or a GSM-7/UCS-2 count."""
    measure = _console_measure()
    if measure is not None:
        return measure(body).segments
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        units, single, split = sum(2 if ch in GSM7_EXTENSION else 1 for ch in body), 160, 153
    else:
        units, single, split = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // split)


def _filter_date(text: str) -> date | None:
    """The day a DateSent filter names: Twilio compares dates only (GMT)."""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).astimezone(UTC).date()
    except (TypeError, ValueError):
        return None


def _matches(resource: dict[str, Any], filters: dict[str, str], bounds: dict[str, date]) -> bool:
    """Whether a message passes a list request's To, From and DateSent filters."""
    if "To" in filters and resource["to"] != filters["To"]:
        return False
    if "From" in filters and resource["from"] != filters["From"]:
        return False
    if not bounds:
        return True
    if not resource["date_sent"]:
        return False
    sent = parsedate_to_datetime(resource["date_sent"]).astimezone(UTC).date()
    return (
        sent == bounds.get("DateSent", sent)
        and sent <= bounds.get("DateSent<", sent)
        and sent >= bounds.get("DateSent>", sent)
    )


# -- Anthropic Messages API ------------------------------------------------------------

# The error `type` Anthropic puts in the body for each HTTP status it answers.
ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ANTHROPIC_MESSAGES = {
    400: "Invalid request",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "Not found",
    408: "Request timed out",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit.",
    500: "Internal server error",
    503: "Service unavailable",
    504: "Request timed out",
    529: "Overloaded",
}
MALFORMED_KINDS = frozenset({"http", "html", "text"})
CACHE_BREAKPOINT_LIMIT = 4
# How many block boundaries before a breakpoint the API checks for an earlier cache entry.
CACHE_LOOKBACK_BLOCKS = 20
DEFAULT_CLASSIFICATION = {"label": "UNCLEAR", "confidence": 50, "opt_out": False, "extracted": {}}
DEFAULT_SMS_REPLY = "Thanks for getting back to me. Would a quick call this week work?"
# What a model cut off mid-answer leaves: the start of a JSON object.
BROKEN_JSON_TEXT = '{"label": "POSITIVE", "confid'
GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_ID_ALPHABET = string.ascii_letters + string.digits


def _anthropic_id(prefix: str) -> str:
    """An id shaped like Anthropic's (`msg_01…`, `req_011…`): a prefix and base62 text."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def content_text(content: Any) -> str:
    """The text of a system prompt or message content: a string or a list of blocks."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        str(block.get("text", ""))
        for block in content
        if isinstance(block, dict) and block.get("type") == "text"
    )


def last_user_text(request: dict[str, Any]) -> str:
    """The text of the last user turn of a Messages request."""
    turns = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    users = [m for m in turns if m.get("role") == "user"]
    return content_text(users[-1].get("content")) if users else ""


def default_reply(request: dict[str, Any]) -> str:
    """A classification JSON when the prompt asks to classify or for JSON, else an SMS reply."""
    asked = f"{content_text(request.get('system'))}\n{last_user_text(request)}".lower()
    wants_json = bool((request.get("output_config") or {}).get("format"))
    if "classif" in asked or wants_json:
        return json.dumps(DEFAULT_CLASSIFICATION)
    return DEFAULT_SMS_REPLY


def _token_count(text: str) -> int:
    """A rough token count: four characters a token, rounded up."""
    return -(-len(text) // 4)


def _block_tokens(block: dict[str, Any]) -> int:
    """Tokens of one content block: its text, or its JSON for images and tool blocks."""
    if block.get("type") == "text":
        return _token_count(str(block.get("text", "")))
    return _token_count(json.dumps(block, sort_keys=True))


def _as_blocks(content: Any) -> list[dict[str, Any]]:
    """Content as a list of blocks: a bare string is one text block."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or [] if isinstance(block, dict)]


def _prompt_blocks(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(role, block) in the order the prompt cache reads them: system, then each turn.

    A top-level `cache_control` marks the last block, as the API's automatic caching does.
    """
    blocks = [("system", block) for block in _as_blocks(request.get("system"))]
    for turn in request.get("messages") or []:
        blocks += [(str(turn.get("role")), block) for block in _as_blocks(turn.get("content"))]
    automatic = request.get("cache_control")
    if automatic and blocks and not blocks[-1][1].get("cache_control"):
        role, last = blocks[-1]
        blocks[-1] = (role, {**last, "cache_control": automatic})
    return blocks


def _request_problem(request: Any) -> str | None:
    """Why Anthropic would refuse this Messages body with a 400, or None."""
    if not isinstance(request, dict):
        return "The request body is not valid JSON."
    if not isinstance(request.get("model"), str) or not request["model"]:
        return "model: Field required"
    max_tokens = request.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        return "max_tokens: Field required"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, turn in enumerate(messages):
        if not isinstance(turn, dict) or turn.get("role") not in {"user", "assistant"}:
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        if not isinstance(turn.get("content"), str | list):
            return f"messages.{index}.content: Input should be a valid string or list"
    system = request.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: Input should be a valid string or list"
    if isinstance(system, list) and any(
        not isinstance(block, dict) or block.get("type") != "text" for block in system
    ):
        return "system: every block must be a text block"
    temperature = request.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 1
    ):
        return "temperature: Input should be between 0 and 1"
    if request.get("stream"):
        return "stream: this fake answers non-streaming requests only"
    return _cache_control_problem(request)


def _cache_control_problem(request: dict[str, Any]) -> str | None:
    """Why the request's cache_control markers are refused, or None."""
    controls = [
        block["cache_control"] for _, block in _prompt_blocks(request) if block.get("cache_control")
    ]
    if len(controls) > CACHE_BREAKPOINT_LIMIT:
        found = len(controls)
        limit = CACHE_BREAKPOINT_LIMIT
        return f"A maximum of {limit} blocks with cache_control may be provided. Found {found}."
    for control in controls:
        if not isinstance(control, dict) or control.get("type") != "ephemeral":
            return "cache_control.type: Input should be 'ephemeral'"
        if control.get("ttl", "5m") not in {"5m", "1h"}:
            return "cache_control.ttl: Input should be '5m' or '1h'"
    return None


@dataclass(frozen=True)
class _Plan:
    """One planned answer: an error status, or a 200 broken the `malformed` way."""

    status: int
    message: str = ""
    should_retry: bool | None = None
    malformed: str = ""


@dataclass(frozen=True)
class _Reply:
    """One HTTP answer: status, headers (Content-Type included) and body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes


class _AnthropicHandler(_Handler):
    """Writes the fake's replies with their own headers (request-id, retry-after)."""

    fake: AnthropicServer

    def _dispatch(self) -> None:
        """Read the body, ask the fake for its reply, and write it with its headers."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.fake.respond(self, body)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class AnthropicServer(FakeServer):
    """Anthropic's Messages API, `POST /v1/messages`, for the official `anthropic` SDK.

    Checks the key (401 `authentication_error`), sent as `x-api-key` or, as SDK 2.x
    does, `Authorization: Bearer`, and that `anthropic-version` is present; refuses
    malformed bodies with a 400 as the API does; answers a Message whose text comes
    from `responder(request_json)` (default: `default_reply`), cut at `max_tokens` or
    a stop sequence. Usage counts four characters a token.

    Prompt caching is simulated: a block carrying `cache_control` marks the prefix up
    to it (system blocks, then message blocks, keyed per model; a top-level
    `cache_control` marks the last block). A prefix written before, ending at the
    marked block or up to CACHE_LOOKBACK_BLOCKS blocks earlier, is read; the rest up
    to the mark is written. `cache_creations`/`cache_reads` count requests that wrote
    or read, `cache_creation_tokens`/`cache_read_tokens` their tokens. Prefixes shorter
    than `min_cache_tokens` are not cached, like the API's minimum cacheable length.

    Behaviours, settable while it runs: `delay` (seconds the model takes to write a
    200 answer; other requests go on meanwhile), `responder`, `retry_after` (the wait
    planned 429/5xx answers ask for, as `retry-after-ms` and whole-second
    `retry-after`; None sends neither, leaving the SDK to its own backoff),
    `fail_next(status, count)` and `garbage_next(count, malformed)`.
    """

    PATH = "/v1/messages"

    def __init__(
        self,
        api_key: str = "sk-ant-test-key",
        responder: Callable[[dict[str, Any]], str] | None = None,
        delay: float = 0.0,
        retry_after: float | None = 0.01,
        min_cache_tokens: int = 0,
        models: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.responder: Callable[[dict[str, Any]], str] = responder or default_reply
        self.delay = delay
        self.retry_after = retry_after
        self.min_cache_tokens = min_cache_tokens
        # None takes any model name; a set makes others a 404 as unknown models are.
        self.models = frozenset(models) if models is not None else None
        self.requests: list[dict[str, Any]] = []
        self.cache_creations = 0
        self.cache_reads = 0
        self.cache_creation_tokens = 0
        self.cache_read_tokens = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.current = 0
        self.peak = 0
        self._planned: deque[_Plan] = deque()
        self._cache: set[str] = set()
        self._idle = threading.Condition(self.lock)

    # -- running -------------------------------------------------------------------

    def start(self) -> Self:
        """Serve, writing replies through the handler that sends this fake's headers."""
        super().start()
        # Swapped before `start` returns, so before anyone knows the port to call.
        assert self._server is not None
        self._server.RequestHandlerClass = type(
            f"{type(self).__name__}Handler", (_AnthropicHandler,), {"fake": self}
        )
        return self

    @property
    def calls(self) -> int:
        """How many requests arrived, whatever they were answered."""
        with self.lock:
            return len(self.requests)

    def reset(self) -> None:
        """Forget requests, counters, planned failures and the prompt cache."""
        with self.lock:
            self.requests.clear()
            self.cache_creations = self.cache_reads = 0
            self.cache_creation_tokens = self.cache_read_tokens = 0
            self.input_tokens = self.output_tokens = 0
            self.peak = self.current
            self._planned.clear()
            self._cache.clear()

    def clear_cache(self) -> None:
        """Drop every cached prefix, as if their time to live ran out."""
        with self.lock:
            self._cache.clear()

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        message: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Answer the next `count` authorized requests with this error status.

        429 is `rate_limit_error`, 500 `api_error`, 529 `overloaded_error`, 400
        `invalid_request_error` (see ANTHROPIC_ERRORS). `should_retry` sends
        `x-should-retry`, which the SDK obeys over its status rules.
        """
        if status not in ANTHROPIC_ERRORS:
            raise ValueError(f"no Anthropic error type for HTTP {status}")
        with self.lock:
            self._planned.extend([_Plan(status, message or "", should_retry)] * count)

    def garbage_next(self, count: int = 1, malformed: str = "http") -> None:
        """Answer the next `count` authorized requests 200 with a broken answer.

        "http": a Message cut off mid-JSON, sent as application/json; "html": a proxy's
        error page, sent as text/html; "text": a valid Message whose text is the start
        of a JSON object (BROKEN_JSON_TEXT), as a model stopped mid-answer writes.
        """
        if malformed not in MALFORMED_KINDS:
            raise ValueError(f"malformed must be one of {sorted(MALFORMED_KINDS)}")
        with self.lock:
            self._planned.extend([_Plan(200, malformed=malformed)] * count)

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no request is being answered; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.current:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- answering -----------------------------------------------------------------

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
        """The status and body bytes of the reply (`respond` also gives its headers)."""
        reply = self.respond(handler, body)
        return reply.status, reply.body

    def respond(self, handler: BaseHTTPRequestHandler, body: bytes) -> _Reply:
        """Record one request, answer it, and note the status it got."""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        record: dict[str, Any] = {
            "path": urlsplit(handler.path).path,
            "method": handler.command,
            "headers": {key.lower(): value for key, value in handler.headers.items()},
            "json": parsed,
            "received_at": time.monotonic(),
            "status": None,
            "usage": None,
        }
        with self.lock:
            self.requests.append(record)
            self.current += 1
            self.peak = max(self.peak, self.current)
        reply = None
        try:
            reply = self._answer(record)
            return reply
        finally:
            with self._idle:
                record["status"] = reply.status if reply else None
                self.current -= 1
                self._idle.notify_all()

    def _answer(self, record: dict[str, Any]) -> _Reply:
        """Authenticate, then a planned failure, a 400 for a bad body, or a Message."""
        headers, request = record["headers"], record["json"]
        if not self._authorized(headers):
            return self._error(401)
        if not headers.get("anthropic-version"):
            return self._error(400, "anthropic-version: header is required")
        if record["method"] != "POST" or record["path"] != self.PATH:
            return self._error(404, f"Not found: {record['method']} {record['path']}")
        with self.lock:
            planned = self._planned.popleft() if self._planned else None
        if planned and planned.status != 200:
            return self._planned_error(planned)
        problem = _request_problem(request)
        if problem:
            return self._error(400, problem)
        if self.models is not None and request["model"] not in self.models:
            return self._error(404, f"model: {request['model']}")
        self.sleep(self.delay)
        malformed = planned.malformed if planned else ""
        if malformed == "html":
            return _Reply(200, {"Content-Type": "text/html"}, GATEWAY_PAGE)
        message = self._message(request, record, BROKEN_JSON_TEXT if malformed == "text" else None)
        if isinstance(message, _Reply):
            return message
        data = json.dumps(message).encode()
        if malformed == "http":
            data = data[: len(data) // 2]
        return _Reply(200, self._headers(), data)

    def _authorized(self, headers: dict[str, str]) -> bool:
        """Whether the key came as `x-api-key` or, as SDK 2.x sends it, a Bearer token."""
        bearer = headers.get("authorization", "")
        return headers.get("x-api-key") == self.api_key or bearer == f"Bearer {self.api_key}"

    def _message(
        self, request: dict[str, Any], record: dict[str, Any], text: str | None
    ) -> dict[str, Any] | _Reply:
        """The Message for a valid request, or a 500 when the responder raised."""
        if text is None:
            try:
                text = str(self.responder(request))
            except Exception as exc:
                # A broken responder is a bug in the test: say so in the answer.
                return self._error(500, f"the fake's responder raised {exc!r}")
        text, stop_reason, stop_sequence = self._stop(request, text)
        usage = self._usage(request)
        usage["output_tokens"] = max(_token_count(text), 1)
        with self.lock:
            record["usage"] = usage
            self.output_tokens += usage["output_tokens"]
        return {
            "id": _anthropic_id("msg_01"),
            "type": "message",
            "role": "assistant",
            "model": request["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }

    @staticmethod
    def _stop(request: dict[str, Any], text: str) -> tuple[str, str, str | None]:
        """Cut the text where the model would stop: max_tokens or a stop sequence."""
        limit = request["max_tokens"] * 4
        truncated = len(text) > limit
        text = text[:limit]
        hits = [(text.find(s), s) for s in request.get("stop_sequences") or [] if s and s in text]
        if hits:
            at, sequence = min(hits)
            return text[:at], "stop_sequence", sequence
        return text, "max_tokens" if truncated else "end_turn", None

    def _usage(self, request: dict[str, Any]) -> dict[str, Any]:
        """Input token counts, reading and writing the simulated prompt cache."""
        digest = hashlib.sha256(request["model"].encode())
        total = 0
        # (tokens of the prefix ending at each block, that prefix's key)
        prefixes: list[tuple[int, str]] = []
        marks: list[tuple[int, str]] = []  # (index of a marked block, its ttl)
        for index, (role, block) in enumerate(_prompt_blocks(request)):
            bare = {key: value for key, value in block.items() if key != "cache_control"}
            digest.update(json.dumps([role, bare], sort_keys=True).encode())
            total += _block_tokens(bare)
            prefixes.append((total, digest.hexdigest()))
            control = block.get("cache_control")
            if control and total >= self.min_cache_tokens:
                marks.append((index, control.get("ttl", "5m")))
        looked_at = {
            prefixes[earlier]
            for index, _ in marks
            for earlier in range(max(index - CACHE_LOOKBACK_BLOCKS, 0), index + 1)
        }
        written = {"5m": 0, "1h": 0}
        with self.lock:
            read = max((tokens for tokens, key in looked_at if key in self._cache), default=0)
            covered = read
            for index, ttl in marks:
                tokens, key = prefixes[index]
                if tokens > covered:
                    written[ttl] += tokens - covered
                    covered = tokens
                self._cache.add(key)
            created = written["5m"] + written["1h"]
            self.cache_creations += created > 0
            self.cache_reads += read > 0
            self.cache_creation_tokens += created
            self.cache_read_tokens += read
            self.input_tokens += total - read - created
        return {
            "input_tokens": total - read - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written["5m"],
                "ephemeral_1h_input_tokens": written["1h"],
            },
            "output_tokens": 0,
            "service_tier": "standard",
        }

    # -- errors --------------------------------------------------------------------

    def _planned_error(self, plan: _Plan) -> _Reply:
        """A failure from `fail_next`, with the retry hints a client reads."""
        extra: dict[str, str] = {}
        retry_after = self.retry_after
        if retry_after is not None and (plan.status == 429 or plan.status >= 500):
            extra["retry-after-ms"] = str(round(retry_after * 1000))
            extra["retry-after"] = str(math.ceil(retry_after))
        if plan.should_retry is not None:
            extra["x-should-retry"] = "true" if plan.should_retry else "false"
        return self._error(plan.status, plan.message, extra)

    def _error(self, status: int, message: str = "", extra: dict[str, str] | None = None) -> _Reply:
        """Anthropic's error body, `{"type": "error", "error": {...}}`, with a request-id."""
        headers = self._headers(extra)
        body = {
            "type": "error",
            "error": {
                "type": ANTHROPIC_ERRORS[status],
                "message": message or ANTHROPIC_MESSAGES[status],
            },
            "request_id": headers["request-id"],
        }
        return _Reply(status, headers, json.dumps(body).encode())

    @staticmethod
    def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
        """JSON content type and a fresh request-id, plus any extra headers."""
        return {
            "Content-Type": "application/json",
            "request-id": _anthropic_id("req_011"),
            **(extra or {}),
        }
