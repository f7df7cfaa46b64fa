"""Line-type checks: Twilio Lookup v2 through the official SDK, and the offline plan."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from console.providers.lookup import LookupFailed, OfflineLookup, TwilioLookup
from console.providers.twilio_client import make_client
from tests.fakeservers import LookupServer

SID = "AC" + "1" * 32
TOKEN = "lookup-test-token"
PRICE = Decimal("0.008")


@pytest.fixture
def lookup_server() -> Iterator[LookupServer]:
    """A Lookup v2 endpoint with one number of each kind the console cares about."""
    with LookupServer(
        SID,
        TOKEN,
        types={"+15125550101": ("mobile", "T-Mobile USA, Inc.")},
        invalid={"+15125550155"},
        status_for={"+15125550104": 404, "+15125550129": 429, "+15125550150": 500},
    ) as server:
        yield server


def twilio_lookup(server: LookupServer, token: str = TOKEN) -> TwilioLookup:
    """TwilioLookup whose SDK client talks to the local server."""
    return TwilioLookup(make_client(SID, token, base_url=server.url, timeout=5), PRICE)


def test_mobile_number_comes_with_its_carrier(lookup_server):
    line = twilio_lookup(lookup_server).check("+15125550101")

    assert line.valid is True
    assert line.line_type == "mobile"
    assert line.carrier == "T-Mobile USA, Inc."
    assert line.textable is True
    assert line.cost == PRICE
    assert line.source == "twilio"
    assert line.response["line_type_intelligence"]["type"] == "mobile"


def test_landline_is_not_textable(lookup_server):
    line = twilio_lookup(lookup_server).check("+15125550140")

    assert (line.line_type, line.carrier) == ("landline", "AT&T")
    assert line.textable is False


def test_non_fixed_voip_is_textable(lookup_server):
    line = twilio_lookup(lookup_server).check("+15125550149")

    assert (line.line_type, line.carrier) == ("nonFixedVoip", "Bandwidth")
    assert line.textable is True


def test_invalid_number_is_not_textable(lookup_server):
    line = twilio_lookup(lookup_server).check("+15125550155")

    assert line.valid is False
    assert line.textable is False
    assert line.response["validation_errors"] == ["INVALID_BUT_POSSIBLE"]
    assert line.cost == PRICE


def test_not_found_is_an_invalid_number_not_an_error(lookup_server):
    line = twilio_lookup(lookup_server).check("+15125550104")

    assert line.valid is False
    assert line.textable is False
    assert line.response == {"status": 404}


@pytest.mark.parametrize("number", ["+15125550129", "+15125550150"])
def test_rate_limits_and_server_errors_are_retryable(lookup_server, number):
    with pytest.raises(LookupFailed) as raised:
        twilio_lookup(lookup_server).check(number)

    assert raised.value.retryable is True


def test_wrong_token_is_not_retryable(lookup_server):
    with pytest.raises(LookupFailed, match="401") as raised:
        twilio_lookup(lookup_server, token="wrong-token").check("+15125550101")

    assert raised.value.retryable is False


def test_unreachable_endpoint_is_retryable():
    with LookupServer(SID, TOKEN) as server:
        url = server.url
    lookup = TwilioLookup(make_client(SID, TOKEN, base_url=url, timeout=2), PRICE)

    with pytest.raises(LookupFailed) as raised:
        lookup.check("+15125550101")

    assert raised.value.retryable is True


def test_request_asks_for_line_type_intelligence_once(lookup_server):
    twilio_lookup(lookup_server).check("+15125550142")

    # The SDK puts the number in the path as is; "+" is a literal plus in a path.
    [(path, query)] = lookup_server.requests
    assert path == "/v2/PhoneNumbers/+15125550142"
    assert query == {"Fields": "line_type_intelligence"}
    assert lookup_server.calls == {"+15125550142": 1}


def test_server_reads_a_percent_encoded_number(lookup_server):
    import base64
    import json
    import urllib.request

    request = urllib.request.Request(
        lookup_server.url + "/v2/PhoneNumbers/%2B15125550142?Fields=line_type_intelligence",
        headers={"Authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.load(response)

    assert body["phone_number"] == "+15125550142"
    assert body["national_format"] == "(512) 555-0142"
    assert body["line_type_intelligence"]["error_code"] is None
    assert lookup_server.calls == {"+15125550142": 1}


def test_offline_valid_us_number_is_unknown_but_textable():
    line = OfflineLookup().check("+15125550142")

    assert (line.valid, line.line_type, line.textable) == (True, "unknown", True)
    assert line.cost == Decimal(0)
    assert line.source == "offline"


def test_offline_toll_free_is_not_textable():
    line = OfflineLookup().check("+18005550199")

    assert (line.valid, line.line_type, line.textable) == (True, "tollFree", False)


@pytest.mark.parametrize("number", ["+11234567890", "+1512555"])
def test_offline_invalid_number(number):
    line = OfflineLookup().check(number)

    assert line.valid is False
    assert line.textable is False


def test_offline_uk_mobile():
    line = OfflineLookup().check("+447400123456")

    assert (line.valid, line.line_type, line.textable) == (True, "mobile", True)
