"""A skip-trace vendor's JSON API, configured rather than coded.

The team gives the endpoint, the header that carries its key, a request body template
with `{field}` placeholders filled from the lead, and where in the answer the owner's
name, title, phones, emails, addresses and confidence sit (dotted paths such as
`data.results` or `owner.name`). Timeouts, 429 and 5xx are retryable errors; 404 and
an empty result list are a miss.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import requests

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


def _session(pool_size: int = 64) -> requests.Session:
    """A session whose connection pool is as large as a pass's concurrency may be."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
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
    ) -> None:
        self.name = name
        self.settings = settings
        self.secret = secret
        self.pricing = pricing
        self.client = client or _session()

    def lookup(self, query: TraceQuery) -> LookupResult:
        """Call the vendor about one lead and read its candidates."""
        body = render_body(self.settings.body_template, query.fields())
        request = {"method": self.settings.method.upper(), "url": self.settings.endpoint}
        request["params" if request["method"] == "GET" else "json"] = body
        started = time.monotonic()
        try:
            response = self.client.request(
                request["method"],
                self.settings.endpoint,
                headers=self._headers(),
                timeout=self.settings.timeout_seconds,
                **({"params": body} if request["method"] == "GET" else {"json": body}),
            )
        except requests.Timeout as exc:
            raise ProviderError(
                f"No answer within {self.settings.timeout_seconds:g} s.",
                retryable=True,
                request=request,
            ) from exc
        except requests.RequestException as exc:
            raise ProviderError(
                f"Could not reach {self.settings.endpoint}: {exc}", retryable=True, request=request
            ) from exc
        request["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        return self._read(response, request)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.secret and self.settings.auth_header:
            headers[self.settings.auth_header] = f"{self.settings.auth_prefix}{self.secret}"
        return headers

    def _read(self, response: requests.Response, request: dict) -> LookupResult:
        status = response.status_code
        if status == 404:
            return LookupResult([], self.pricing.cost(False), request, {"status": 404})
        if status == 429 or status >= 500:
            raise ProviderError(
                f"The vendor answered {status}.",
                retryable=True,
                request=request,
                response={"status": status, "body": response.text[:500]},
            )
        if status >= 400:
            raise ProviderError(
                f"The vendor refused the request ({status}): {response.text[:200]}",
                retryable=False,
                request=request,
                response={"status": status, "body": response.text[:500]},
            )
        try:
            payload = response.json()
        except ValueError as exc:
            raise ProviderError(
                "The vendor's answer is not JSON.",
                retryable=False,
                request=request,
                response={"status": status, "body": response.text[:500]},
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
