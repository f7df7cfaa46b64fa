"""Local stand-ins for the paid APIs: a skip-trace vendor and Twilio Lookup v2.

Each server listens on a free loopback port in a daemon thread, answers the way the
real service does (same paths, auth and JSON shapes), and records what it was asked,
so tests and the benchmark exercise the real HTTP clients without an account.

    with VendorServer(hit_rate=1.0) as vendor:
        HttpSource(..., HttpSettings(endpoint=vendor.url + "/search"), ...)
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

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
