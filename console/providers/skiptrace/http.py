"""A skip-trace vendor's JSON API, configured rather than coded.

The team gives the endpoint, the header that carries its key, a request body template
with `{field}` placeholders filled from the lead, and where in the answer the owner's
name, title, phones, emails, addresses and confidence sit (dotted paths such as
`data.results` or `owner.name`). Timeouts, 429 and 5xx are retryable errors; 404 and
an empty result list are a miss.

The endpoint is typed by a team admin, so it must not reach the console's own network:
`EndpointRules` say whether plain http and private addresses are allowed (only the
embedded console and tests allow them). The session resolves the host itself, refuses
it when any address is loopback, private, link-local, multicast, reserved or a cloud
metadata address, and connects to the very address it checked (no second DNS answer
can swap it). Redirects are never followed, and a vendor's answer is never repeated
back in an error: errors say what happened in plain words.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import time
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from console.providers.skiptrace.base import (
    Candidate,
    FoundPhone,
    LookupResult,
    Pricing,
    ProviderError,
    TraceQuery,
    phone_type_word,
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Kept in a result row: enough to see what came back, not a whole vendor dossier.
MAX_STORED_RESPONSE = 20_000
TEST_QUERY = TraceQuery(
    lead_id=0,
    lead_code="LEAD-TEST-000000",
    business_name="Connection Test Plumbing",
    owner_name="Test Owner",
    first_name="Test",
    last_name="Owner",
    street="100 Main St",
    city="Austin",
    state="TX",
    zip="78701",
    phone="+15125550100",
)
DEFAULT_BODY = json.dumps(
    {
        "business_name": "{business_name}",
        "first_name": "{first_name}",
        "last_name": "{last_name}",
        "address": {"street": "{street}", "city": "{city}", "state": "{state}", "zip": "{zip}"},
        "phone": "{phone}",
    },
    indent=2,
)


@dataclass
class HttpSettings:
    """Everything but the key: where to call and how to read the answer."""

    endpoint: str = ""
    method: str = "POST"
    auth_header: str = "Authorization"
    auth_prefix: str = "Bearer "
    body_template: str = DEFAULT_BODY
    timeout_seconds: float = 10.0
    results_path: str = "results"
    owner_name_path: str = "name"
    first_name_path: str = ""
    last_name_path: str = ""
    title_path: str = "title"
    phones_path: str = "phones"
    phone_number_key: str = "number"
    phone_type_key: str = "type"
    emails_path: str = "emails"
    email_key: str = ""
    addresses_path: str = ""
    confidence_path: str = "confidence"

    @classmethod
    def from_dict(cls, data: dict | None) -> HttpSettings:
        """Settings from a provider row, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        if "timeout_seconds" in values:
            try:
                values["timeout_seconds"] = float(values["timeout_seconds"] or 10.0)
            except ValueError:
                values["timeout_seconds"] = 10.0  # a typed mistake is refused by the form
        return cls(**values)

    def to_dict(self) -> dict:
        """The settings as stored on the provider row."""
        return asdict(self)


def check_template(template: str) -> str:
    """ "" when the body template is JSON with known placeholders, else what is wrong."""
    try:
        json.loads(template)
    except ValueError as exc:
        return f"The request body is not valid JSON: {exc}."
    unknown = sorted(set(_PLACEHOLDER.findall(template)) - set(TEST_QUERY.fields()))
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in TEST_QUERY.fields())
        return f"Unknown placeholders {', '.join(unknown)}; use {allowed}."
    return ""


def render_body(template: str, values: dict[str, str]) -> Any:
    """The template with each `{field}` in its strings replaced by the lead's value."""

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), node)
        if isinstance(node, list):
            return [fill(item) for item in node]
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        return node

    return fill(json.loads(template))


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path (`data.owners.0.name`); None when any step is missing."""
    if not path:
        return data
    node = data
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.lstrip("-").isdigit():
            index = int(step)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _as_list(value: Any) -> list:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def confidence_percent(value: Any) -> int | None:
    """A confidence as 0-100, whether the vendor says 0.87, 87 or "87%"."""
    if value is None or value == "":
        return None
    try:
        number = float(str(value).rstrip("%"))
    except ValueError:
        return None
    if 0 < number <= 1 and not (isinstance(value, str) and value.endswith("%")):
        number *= 100
    return max(0, min(100, round(number)))


# Cloud metadata services; most sit in ranges refused anyway, named so none slips by.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_ALLOWED = "address not allowed: {host} is on a private, local or reserved network"


@dataclass(frozen=True)
class EndpointRules:
    """Which endpoints a team's vendor may have: the default is public https only."""

    allow_http: bool = False
    # Loopback and private networks: only for the embedded console and tests.
    allow_private: bool = False


class AddressNotAllowed(Exception):
    """The endpoint's host is, or resolves to, an address the rules refuse."""


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is a public unicast one (IPv4 inside IPv6 read as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None and not address_allowed(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address in METADATA_ADDRESSES
    )


def checked_addresses(host: str, port: int) -> list[str]:
    """The host's addresses, resolved once; AddressNotAllowed if any of them is refused."""
    host = host.strip("[]").rstrip(".")
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for text in addresses:
        if not address_allowed(ipaddress.ip_address(text.split("%")[0])):
            raise AddressNotAllowed(NOT_ALLOWED.format(host=host))
    return addresses


def endpoint_problem(url: str, rules: EndpointRules, *, resolve: bool = False) -> str:
    """ "" when `url` may be called under `rules`, else what is wrong, in words for a form.

    With `resolve`, a host that resolves to a refused address is refused too; one that
    does not resolve (yet) is left to the call, which checks again.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The endpoint is not a valid address."
    schemes = ("http", "https") if rules.allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        return "The endpoint is a full " + " or ".join(f"{s}://" for s in schemes) + " address."
    if parts.username or parts.password:
        return "Put the key in the API key field, not in the endpoint."
    if rules.allow_private:
        return ""
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal):
        return NOT_ALLOWED.format(host=host) + "."
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return NOT_ALLOWED.format(host=host) + "."
    if resolve:
        try:
            checked_addresses(host, port or (443 if parts.scheme == "https" else 80))
        except AddressNotAllowed as refused:
            return f"{refused}."
        except (OSError, UnicodeError):
            pass
    return ""


class _PinnedConnectionMixin:
    """Connects only to addresses it resolved and checked itself (TLS still checks the name)."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = checked_addresses(self._dns_host, self.port)
        except (OSError, UnicodeError) as exc:
            raise NewConnectionError(self, "could not resolve the host") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(self, "connect timed out")
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(self, "could not connect")
                error.__cause__ = exc
        raise error or NewConnectionError(self, "no address")


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """A transport whose pools connect only to checked public addresses."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        """The usual pool manager, with pinned connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPPool,
            "https": _PinnedHTTPSPool,
        }


def _session(pool_size: int = 64, rules: EndpointRules | None = None) -> requests.Session:
    """A session whose connection pool is as large as a pass's concurrency may be.

    Unless private hosts are allowed, it connects only to checked public addresses and
    ignores proxy settings from the environment (a proxy would connect for it, unchecked).
    """
    rules = rules or EndpointRules()
    session = requests.Session()
    kind = requests.adapters.HTTPAdapter if rules.allow_private else _PinnedAdapter
    adapter = kind(pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = rules.allow_private
    return session


class HttpSource:
    """One vendor's JSON API, read through `HttpSettings`."""

    sandbox = False

    def __init__(
        self,
        name: str,
        settings: HttpSettings,
        secret: str,
        pricing: Pricing,
        client: requests.Session | None = None,
        rules: EndpointRules | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.secret = secret
        self.pricing = pricing
        self.rules = rules or EndpointRules()
        self.client = client or _session(rules=self.rules)

    def lookup(self, query: TraceQuery) -> LookupResult:
        """Call the vendor about one lead and read its candidates."""
        body = render_body(self.settings.body_template, query.fields())
        request = {"method": self.settings.method.upper(), "url": self.settings.endpoint}
        request["params" if request["method"] == "GET" else "json"] = body
        problem = endpoint_problem(self.settings.endpoint, self.rules)
        if problem:
            raise ProviderError(problem, retryable=False, request=request)
        started = time.monotonic()
        try:
            response = self.client.request(
                request["method"],
                self.settings.endpoint,
                headers=self._headers(),
                timeout=self.settings.timeout_seconds,
                allow_redirects=False,
                **({"params": body} if request["method"] == "GET" else {"json": body}),
            )
        except AddressNotAllowed as exc:
            raise ProviderError(f"{exc}.", retryable=False, request=request) from exc
        except requests.Timeout as exc:
            raise ProviderError(
                f"No answer within {self.settings.timeout_seconds:g} s (timed out).",
                retryable=True,
                request=request,
            ) from exc
        except requests.RequestException as exc:
            # One message for refused, unreachable and unresolved: no port scanning.
            raise ProviderError("Could not connect.", retryable=True, request=request) from exc
        request["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        return self._read(response, request)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.secret and self.settings.auth_header:
            headers[self.settings.auth_header] = f"{self.settings.auth_prefix}{self.secret}"
        return headers

    def _read(self, response: requests.Response, request: dict) -> LookupResult:
        status = response.status_code
        # Only the status is kept from an error: the body is never stored nor shown.
        seen = {"status": status}
        if status == 404:
            return LookupResult([], self.pricing.cost(False), request, seen)
        if status == 429 or status >= 500:
            raise ProviderError(
                f"Answered {status}.", retryable=True, request=request, response=seen
            )
        if 300 <= status < 400:
            raise ProviderError(
                f"Answered {status}, a redirect, which is not followed: check the endpoint.",
                retryable=False,
                request=request,
                response=seen,
            )
        if status in (401, 403):
            raise ProviderError(
                f"Answered {status}: the key was refused; check the key.",
                retryable=False,
                request=request,
                response=seen,
            )
        if status >= 400:
            raise ProviderError(
                f"Answered {status}: the request was refused; check the endpoint and body.",
                retryable=False,
                request=request,
                response=seen,
            )
        try:
            payload = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"Answered {status}, but not JSON.",
                retryable=False,
                request=request,
                response=seen,
            ) from exc
        candidates = [c for c in self.candidates(payload) if c.found_anything]
        candidates.sort(key=lambda c: c.confidence or 0, reverse=True)
        stored = payload if len(response.content) <= MAX_STORED_RESPONSE else {"truncated": True}
        return LookupResult(
            candidates,
            self.pricing.cost(bool(candidates)),
            request,
            {"status": status, "body": stored},
        )

    def candidates(self, payload: Any) -> list[Candidate]:
        """Every candidate in a vendor's answer, read through the configured paths."""
        s = self.settings
        found = []
        for item in _as_list(dig(payload, s.results_path)):
            if not isinstance(item, dict):
                continue
            name = _text(dig(item, s.owner_name_path)) if s.owner_name_path else ""
            if not name and (s.first_name_path or s.last_name_path):
                name = _text(
                    f"{_text(dig(item, s.first_name_path))} {_text(dig(item, s.last_name_path))}"
                )
            found.append(
                Candidate(
                    owner_name=name,
                    title=_text(dig(item, s.title_path)) if s.title_path else "",
                    phones=self._phones(dig(item, s.phones_path) if s.phones_path else None),
                    emails=self._emails(dig(item, s.emails_path) if s.emails_path else None),
                    addresses=self._addresses(
                        dig(item, s.addresses_path) if s.addresses_path else None
                    ),
                    confidence=confidence_percent(dig(item, s.confidence_path))
                    if s.confidence_path
                    else None,
                )
            )
        return found

    def _phones(self, value: Any) -> list[FoundPhone]:
        phones = []
        for entry in _as_list(value):
            if isinstance(entry, dict):
                number = _text(entry.get(self.settings.phone_number_key))
                kind = phone_type_word(entry.get(self.settings.phone_type_key, ""))
            else:
                number, kind = _text(entry), ""
            if number:
                phones.append(FoundPhone(number, kind))
        return phones

    def _emails(self, value: Any) -> list[str]:
        key = self.settings.email_key
        emails = [_text(e.get(key) if key and isinstance(e, dict) else e) for e in _as_list(value)]
        return [email for email in emails if email and "@" in email]

    def _addresses(self, value: Any) -> list[dict]:
        addresses = []
        for entry in _as_list(value):
            if isinstance(entry, dict):
                parts = {
                    k: _text(entry.get(k))
                    for k in ("street", "city", "state", "zip")
                    if entry.get(k)
                }
                if parts:
                    addresses.append(parts)
            elif _text(entry):
                addresses.append({"street": _text(entry)})
        return addresses

    def test_connection(self) -> str:
        """One lookup with a made-up business; says what came back."""
        if not self.settings.endpoint:
            raise ProviderError("No endpoint is set.", retryable=False)
        result = self.lookup(TEST_QUERY)
        found = len(result.candidates)
        return (
            f"Connected: {self.settings.endpoint} answered in "
            f"{result.request.get('elapsed_ms', 0)} ms with {found} "
            f"candidate{'' if found == 1 else 's'} for a made-up business."
        )
