"""The configurable vendor source against a local vendor API, and the sandbox source."""

from __future__ import annotations

import http.server
import ipaddress
import json
import re
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from urllib3.util import connection as urllib3_connection

from console.providers.skiptrace.base import FoundPhone, Pricing, ProviderError, TraceQuery
from console.providers.skiptrace.http import (
    DEFAULT_BODY,
    EndpointRules,
    HttpSettings,
    HttpSource,
    address_allowed,
    check_template,
    confidence_percent,
    dig,
    endpoint_problem,
    render_body,
)
from console.providers.skiptrace.sandbox import SandboxSource
from tests.fakeservers import VendorServer

PRICING = Pricing(Decimal("0.10"), Decimal("0.05"))
# The vendor servers here listen on loopback, which the default rules refuse.
LOCAL_VENDOR = EndpointRules(allow_http=True, allow_private=True)
FICTIONAL_NUMBER = re.compile(r"\(512\) 555-01\d\d")


def query(business_name: str, **extra: str) -> TraceQuery:
    """A lead in Austin with the given business name."""
    return TraceQuery(
        lead_id=1,
        lead_code="LEAD-TX-000001",
        business_name=business_name,
        first_name="Pat",
        last_name="Lee",
        street="100 Main St",
        city="Austin",
        state="TX",
        zip="78701",
        **extra,
    )


@pytest.fixture
def http_client() -> Iterator[requests.Session]:
    """One session per test, closed after it."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    """A vendor that finds every business unless told otherwise."""
    with VendorServer(
        hit_rate=1.0,
        timeout_sleep=2.0,
        fail_names={
            "Broken Co": "500",
            "Busy Co": "429",
            "Slow Co": "timeout",
            "Gone Co": "404",
            "Garbage Co": "garbage",
        },
    ) as server:
        yield server


def make_source(
    server: VendorServer,
    client: requests.Session | None,
    secret: str = "test-key",
    **settings: object,
) -> HttpSource:
    """An HttpSource reading the vendor's default answer shape."""
    options: dict = {
        "endpoint": settings.get("endpoint") or server.url + "/search",
        "results_path": "results",
        "owner_name_path": "name",
        "addresses_path": "addresses",
    }
    options.update(settings)
    return HttpSource(
        "Vendor", HttpSettings(**options), secret, PRICING, client=client, rules=LOCAL_VENDOR
    )


def test_hit_reads_owner_phones_emails_and_addresses(vendor, http_client):
    source = make_source(vendor, http_client)

    result = source.lookup(query("Hill Country Plumbing"))

    expected = vendor.result_for("Hill Country Plumbing")
    assert result.found
    assert result.cost == Decimal("0.15")
    [candidate] = result.candidates
    assert candidate.owner_name == expected["name"]
    assert candidate.title == "Owner"
    assert candidate.confidence == 91
    assert candidate.phones == [
        FoundPhone(expected["phones"][0]["number"], "mobile"),
        FoundPhone(expected["phones"][1]["number"], "landline"),
    ]
    assert all(FICTIONAL_NUMBER.fullmatch(phone.number) for phone in candidate.phones)
    assert candidate.emails == expected["emails"]
    assert candidate.addresses == expected["addresses"]
    assert result.response["status"] == 200


def test_miss_costs_the_search_only():
    with VendorServer(hit_rate=0.0) as server, requests.Session() as client:
        result = make_source(server, client).lookup(query("Nobody Knows LLC"))

    assert result.found is False
    assert result.candidates == []
    assert result.cost == Decimal("0.10")


def test_request_carries_the_key_and_the_rendered_body(vendor, http_client):
    make_source(vendor, http_client).lookup(query("Hill Country Plumbing"))

    [(path, headers, body)] = vendor.requests
    assert path == "/search"
    assert headers["authorization"] == "Bearer test-key"
    assert body["business_name"] == "Hill Country Plumbing"
    assert body["address"] == {
        "street": "100 Main St",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
    }
    assert vendor.calls_by_name["Hill Country Plumbing"] == 1


def test_wrong_key_is_not_retried(vendor, http_client):
    source = make_source(vendor, http_client, secret="wrong-key")

    with pytest.raises(ProviderError) as raised:
        source.lookup(query("Hill Country Plumbing"))

    assert raised.value.retryable is False
    assert raised.value.response["status"] == 401


@pytest.mark.parametrize("business", ["Broken Co", "Busy Co"])
def test_server_errors_and_rate_limits_are_retryable(vendor, http_client, business):
    with pytest.raises(ProviderError) as raised:
        make_source(vendor, http_client).lookup(query(business))

    assert raised.value.retryable is True
    assert raised.value.response["status"] in {500, 429}


def test_timeout_is_retryable(vendor, http_client):
    source = make_source(vendor, http_client, timeout_seconds=0.3)

    with pytest.raises(ProviderError, match="No answer within 0.3 s") as raised:
        source.lookup(query("Slow Co"))

    assert raised.value.retryable is True


def test_not_found_is_a_miss(vendor, http_client):
    result = make_source(vendor, http_client).lookup(query("Gone Co"))

    assert result.found is False
    assert result.cost == Decimal("0.10")
    assert result.response == {"status": 404}


def test_answer_that_is_not_json_is_not_retried(vendor, http_client):
    with pytest.raises(ProviderError, match="not JSON") as raised:
        make_source(vendor, http_client).lookup(query("Garbage Co"))

    assert raised.value.retryable is False


def test_flaky_vendor_fails_once_then_answers(http_client):
    with VendorServer(hit_rate=1.0, fail_names={"Flaky Co": "flaky"}) as server:
        source = make_source(server, http_client)
        with pytest.raises(ProviderError) as raised:
            source.lookup(query("Flaky Co"))
        assert raised.value.retryable is True

        assert source.lookup(query("Flaky Co")).found


def test_nested_paths_and_percent_confidence(http_client):
    answer = {
        "data": {
            "matches": [
                {
                    "person": {"full": "Dana  Reyes"},
                    "role": "Managing Member",
                    "contact": {"phones": [{"digits": "512-555-0177", "line": "Cell"}]},
                    "confidence": "87%",
                },
                {"person": {"full": "Sam Reyes"}, "confidence": "40%"},
                {"person": {}},  # nothing found: dropped
            ]
        }
    }
    with VendorServer(answers={"Reyes Roofing": answer}) as server:
        source = make_source(
            server,
            http_client,
            results_path="data.matches",
            owner_name_path="person.full",
            title_path="role",
            phones_path="contact.phones",
            phone_number_key="digits",
            phone_type_key="line",
            emails_path="",
            addresses_path="",
        )
        result = source.lookup(query("Reyes Roofing"))

    assert [c.owner_name for c in result.candidates] == ["Dana Reyes", "Sam Reyes"]
    best = result.candidates[0]
    assert best.title == "Managing Member"
    assert best.phones == [FoundPhone("512-555-0177", "mobile")]
    assert best.confidence == 87
    assert result.candidates[1].confidence == 40


def test_first_and_last_name_paths_when_there_is_no_full_name(http_client):
    answer = {"results": [{"first": "Avery", "last": "Okafor", "phones": ["(512) 555-0150"]}]}
    with VendorServer(answers={"Okafor HVAC": answer}) as server:
        source = make_source(server, http_client, first_name_path="first", last_name_path="last")
        [candidate] = source.lookup(query("Okafor HVAC")).candidates

    assert candidate.owner_name == "Avery Okafor"
    assert candidate.phones == [FoundPhone("(512) 555-0150", "")]


def test_get_sends_the_fields_as_query_parameters(vendor, http_client):
    template = json.dumps({"business_name": "{business_name}", "state": "{state}"})
    source = make_source(vendor, http_client, method="GET", body_template=template)

    result = source.lookup(query("Hill Country Plumbing"))

    assert result.found
    assert result.request["params"] == {"business_name": "Hill Country Plumbing", "state": "TX"}
    [(path, _headers, params)] = vendor.requests
    assert path == "/search"
    assert params == {"business_name": "Hill Country Plumbing", "state": "TX"}


def test_test_connection_names_the_endpoint(vendor, http_client):
    source = make_source(vendor, http_client)

    message = source.test_connection()

    assert message.startswith("Connected: ")
    assert f"{vendor.url}/search" in message


def test_test_connection_without_endpoint_says_so(http_client):
    source = HttpSource("Vendor", HttpSettings(), "key", PRICING, client=http_client)

    with pytest.raises(ProviderError, match="No endpoint"):
        source.test_connection()


def test_render_body_fills_nested_placeholders_and_keeps_unknown_ones():
    template = json.dumps(
        {
            "q": {"name": "{business_name}", "where": ["{city}, {state}", 7]},
            "ref": "{lead_code}-{nope}",
            "strict": True,
        }
    )
    values = {"business_name": "Acme", "city": "Austin", "state": "TX", "lead_code": "L-1"}

    assert render_body(template, values) == {
        "q": {"name": "Acme", "where": ["Austin, TX", 7]},
        "ref": "L-1-{nope}",
        "strict": True,
    }


def test_check_template_reports_bad_json_and_unknown_placeholders():
    assert check_template(DEFAULT_BODY) == ""
    assert check_template('{"name": "{business_name}",}').startswith(
        "The request body is not valid JSON"
    )
    message = check_template('{"name": "{business_name}", "x": "{nope}", "y": "{ssn}"}')
    assert message.startswith("Unknown placeholders nope, ssn;")
    assert "{business_name}" in message


def test_dig_follows_keys_and_list_indexes():
    data = {"data": {"owners": [{"name": "A"}, {"name": "B"}]}, "flat": "x"}

    assert dig(data, "data.owners.0.name") == "A"
    assert dig(data, "data.owners.-1.name") == "B"
    assert dig(data, "data.owners.5.name") is None
    assert dig(data, "data.owners.first") is None
    assert dig(data, "data.missing.name") is None
    assert dig(data, "flat.deeper") is None
    assert dig(data, "") is data


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        (0.87, 87),
        (87, 87),
        ("87%", 87),
        ("0.87", 87),
        (1, 100),
        ("1%", 1),
        ("", None),
        (None, None),
        ("high", None),
        (150, 100),
        (-3, 0),
    ],
)
def test_confidence_percent(value, percent):
    assert confidence_percent(value) == percent


def test_sandbox_answers_the_same_every_time():
    source = SandboxSource("Sandbox", PRICING)
    lead = query("Hill Country Plumbing")

    first, second = source.lookup(lead), source.lookup(lead)

    assert first.candidates == second.candidates
    assert first.cost == second.cost


def test_sandbox_finds_about_two_in_three_with_fictional_numbers():
    source = SandboxSource("Sandbox", PRICING)
    results = [
        source.lookup(TraceQuery(lead_id=n, lead_code=f"LEAD-TX-{n:06d}", state="TX"))
        for n in range(1000)
    ]

    hits = sum(result.found for result in results)
    assert 550 <= hits <= 750
    assert all(result.sandbox for result in results)
    numbers = [p.number for r in results for c in r.candidates for p in c.phones]
    assert numbers
    assert all(re.fullmatch(r"\+1\d{3}55501\d\d", number) for number in numbers)
    assert {r.cost for r in results} == {Decimal("0.10"), Decimal("0.15")}


# ------------------------------------------------------------- where a vendor may be


class _OneAnswerServer:
    """A loopback server giving every request the same status, headers and body."""

    def __init__(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        answer = (status, body, headers or {})
        self.paths: list[str] = []
        paths = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                paths.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(answer[0])
                for name, value in answer[2].items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer[1])))
                self.end_headers()
                self.wfile.write(answer[1])

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _OneAnswerServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.10", "169.254.169.254",
        "100.100.100.200", "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1",
        "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
        "2002:7f00:1::1", "2001:db8::1",
    ],
)  # fmt: skip
def test_local_private_reserved_and_metadata_addresses_are_refused(address):
    assert address_allowed(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://api.vendor.example/search", "https://"),
        ("https://127.0.0.1/search", "not allowed"),
        ("https://[::ffff:127.0.0.1]/search", "not allowed"),
        ("https://169.254.169.254/latest/meta-data", "not allowed"),
        ("https://localhost:8080/search", "not allowed"),
        ("https://metadata.google.internal/", "not allowed"),
        ("https://user:pw@api.vendor.example/", "API key field"),
        ("https://api.vendor.example/v1/search", ""),
    ],
)
def test_by_default_an_endpoint_is_a_public_https_address(url, problem):
    found = endpoint_problem(url, EndpointRules())
    assert (problem in found) if problem else found == ""


def test_a_loopback_vendor_gets_no_call_and_no_key(vendor):
    source = HttpSource(
        "Vendor",
        HttpSettings(endpoint=vendor.url + "/search"),
        "test-key",
        PRICING,
        rules=EndpointRules(allow_http=True),
    )

    with pytest.raises(ProviderError, match="address not allowed") as raised:
        source.lookup(query("Hill Country Plumbing"))

    assert raised.value.retryable is False
    assert vendor.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(vendor, monkeypatch):
    port = int(vendor.url.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real("127.0.0.1" if host == "vendor.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    source = HttpSource(
        "Vendor",
        HttpSettings(endpoint=f"http://vendor.test:{port}/search"),
        "test-key",
        PRICING,
        rules=EndpointRules(allow_http=True),
    )

    with pytest.raises(ProviderError, match="address not allowed"):
        source.lookup(query("Hill Country Plumbing"))
    assert vendor.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    resolved, connected = [], []

    def resolve(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    def connect(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(urllib3_connection, "create_connection", connect)
    source = HttpSource(
        "Vendor",
        HttpSettings(endpoint="https://api.vendor.test/search"),
        "test-key",
        PRICING,
    )

    with pytest.raises(ProviderError, match="Could not connect"):
        source.lookup(query("Hill Country Plumbing"))
    assert resolved == ["api.vendor.test"]
    assert connected == [("93.184.216.34", 443)]


def test_a_redirect_is_reported_not_followed():
    secret_place = "/latest/meta-data/iam"
    with _OneAnswerServer(302, headers={"Location": secret_place}) as server:
        source = make_source(server, None, endpoint=server.url + "/search")
        with pytest.raises(ProviderError, match="redirect, which is not followed") as raised:
            source.lookup(query("Hill Country Plumbing"))
    assert server.paths == ["/search"]
    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("status", "says"),
    [(401, "Answered 401: the key was refused; check the key."), (400, "Answered 400"),
     (503, "Answered 503."), (200, "Answered 200, but not JSON.")],
)  # fmt: skip
def test_an_error_never_repeats_what_the_vendor_answered(status, says):
    body = b"root:x:0:0:INTERNAL-ONLY admin panel"
    with _OneAnswerServer(status, body) as server:
        source = make_source(server, None, endpoint=server.url + "/search")
        with pytest.raises(ProviderError) as raised:
            source.lookup(query("Hill Country Plumbing"))
    assert says in str(raised.value)
    assert "INTERNAL-ONLY" not in str(raised.value)
    assert "INTERNAL-ONLY" not in json.dumps(raised.value.response)


def test_a_closed_port_and_an_unknown_host_read_the_same():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    messages = set()
    for endpoint in (f"http://127.0.0.1:{closed}/search", "http://nothing-here.invalid/search"):
        settings = HttpSettings(endpoint=endpoint, timeout_seconds=2)
        source = HttpSource("Vendor", settings, "key", PRICING, rules=LOCAL_VENDOR)
        with pytest.raises(ProviderError) as raised:
            source.lookup(query("Hill Country Plumbing"))
        messages.add(str(raised.value))
    assert messages == {"Could not connect."}
