"""The Twilio Messaging fake answers the official SDK the way Twilio does."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from console.providers.twilio_client import make_client
from tests.fakeservers import TwilioServer

SID = "AC" + "2" * 32
TOKEN = "messaging-test-token"
SERVICE = "MG" + "a" * 32
POOL = ["+15125550100", "+15125550101", "+15125550102"]
SENDER = "+15125550199"
ALICE, BOB, CAROL = "+15125550111", "+15125550122", "+15125550133"


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    """A Messaging endpoint with a three-number service pool and quick status steps."""
    with TwilioServer(SID, TOKEN, service_numbers=POOL, callback_delay=0.005) as server:
        yield server


@pytest.fixture
def client(twilio: TwilioServer) -> Client:
    """The official SDK pointed at the fake."""
    return make_client(SID, TOKEN, base_url=twilio.url, timeout=5)


class CallbackReceiver(ThreadingHTTPServer):
    """A tiny status-callback endpoint recording each POST's path, headers and form."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                outer.received.append((self.path, dict(self.headers), form))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Stay quiet."""

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """Where the receiver listens."""
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A callback receiver serving in a thread for one test."""
    server = CallbackReceiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_create_with_a_from_number_answers_a_queued_message(twilio, client):
    message = client.messages.create(to=ALICE, from_=SENDER, body="Hello from Austin")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.to, message.from_) == ("queued", ALICE, SENDER)
    assert (message.account_sid, message.api_version) == (SID, "2010-04-01")
    assert (message.direction, message.num_segments, message.num_media) == (
        "outbound-api",
        "1",
        "0",
    )
    assert (message.price, message.price_unit, message.error_code) == (None, "USD", None)
    assert message.date_created.tzinfo is not None
    assert message.uri == f"/2010-04-01/Accounts/{SID}/Messages/{message.sid}.json"
    assert twilio.message(message.sid)["date_created"].endswith("+0000")
    assert [(c["to"], c["from"], c["sid"]) for c in twilio.created] == [
        (ALICE, SENDER, message.sid)
    ]


def test_messaging_service_keeps_one_sender_per_recipient(twilio, client):
    sids = {
        to: [client.messages.create(to=to, messaging_service_sid=SERVICE, body="Hi").sid]
        for to in (ALICE, BOB)
    }
    accepted = client.messages.create(to=ALICE, messaging_service_sid=SERVICE, body="Again")
    sids[ALICE].append(accepted.sid)

    assert (accepted.status, accepted.from_, accepted.num_segments) == ("accepted", None, "0")
    assert twilio.wait_idle()
    senders = {to: {client.messages(sid).fetch().from_ for sid in ids} for to, ids in sids.items()}
    assert senders == {ALICE: {POOL[0]}, BOB: {POOL[1]}}
    assert [c["from"] for c in twilio.created] == [POOL[0], POOL[1], POOL[0]]


def test_list_filters_by_recipient_and_sender_and_pages_newest_first(twilio, client):
    made = [client.messages.create(to=ALICE, from_=SENDER, body=f"n{i}").sid for i in range(60)]
    client.messages.create(to=BOB, from_=SENDER, body="other recipient")
    client.messages.create(to=ALICE, from_=POOL[2], body="other sender")
    before = twilio.requests

    listed = client.messages.list(to=ALICE, from_=SENDER, page_size=20)

    assert [m.sid for m in listed] == made[::-1]
    assert twilio.requests - before == 3
    page = client.messages.page(to=ALICE, from_=SENDER, page_size=20)
    assert page.next_page_url.startswith("https://api.twilio.com/2010-04-01/Accounts/")
    assert len(client.messages.list(to=ALICE)) == 61
    assert len(client.messages.list(from_=SENDER, limit=5)) == 5


def test_list_filters_by_the_day_sent(twilio, client):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    twilio.clock = lambda: yesterday
    old = {client.messages.create(to=ALICE, from_=SENDER, body="old").sid for _ in range(3)}
    twilio.clock = lambda: datetime.now(UTC)
    new = {client.messages.create(to=ALICE, from_=SENDER, body="new").sid for _ in range(2)}
    assert twilio.wait_idle()  # date_sent is set once a text leaves Twilio's queue

    def sids(**filters) -> set[str]:
        return {m.sid for m in client.messages.list(to=ALICE, **filters)}

    today = datetime.now(UTC)
    assert sids(date_sent_after=today) == new
    assert sids(date_sent_after=today.date()) == new
    assert sids(date_sent_after=yesterday) == old | new
    assert sids(date_sent_before=yesterday) == old
    assert sids(date_sent=yesterday.date()) == old


def test_a_queued_text_has_no_date_sent_and_no_date_range_lists_it(twilio, client):
    twilio.callbacks = False
    twilio.callback_delay = 5
    message = client.messages.create(to=ALICE, from_=SENDER, body="queued")

    assert client.messages(message.sid).fetch().date_sent is None
    assert [m.sid for m in client.messages.list(to=ALICE)] == [message.sid]
    assert client.messages.list(to=ALICE, date_sent_after=datetime.now(UTC)) == []


def test_fetch_shows_the_price_once_delivered(twilio, client):
    message = client.messages.create(to=ALICE, from_=SENDER, body="x" * 161)

    assert twilio.wait_idle()
    fetched = client.messages(message.sid).fetch()

    assert (fetched.status, fetched.num_segments, fetched.price) == ("delivered", "2", "-0.01660")
    assert fetched.date_sent is not None


def test_undelivered_outcome_carries_its_error_code(twilio, client):
    twilio.outcomes[BOB] = ("undelivered", 30007)
    message = client.messages.create(to=BOB, from_=SENDER, body="Hello")

    assert twilio.wait_idle()
    fetched = client.messages(message.sid).fetch()

    assert (fetched.status, fetched.error_code, fetched.error_message) == (
        "undelivered",
        30007,
        "Message filtered",
    )


def test_fetching_an_unknown_message_is_20404(client):
    with pytest.raises(TwilioRestException) as raised:
        client.messages("SM" + "f" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "Hi"}, 400, 21604),
        ({"to": "+1512555", "from_": SENDER, "body": "Hi"}, 400, 21211),
        ({"to": "not-a-number", "from_": SENDER, "body": "Hi"}, 400, 21211),
        ({"to": ALICE, "body": "Hi"}, 400, 21603),
        ({"to": ALICE, "from_": SENDER, "body": "x" * 1601}, 400, 21617),
        ({"to": ALICE, "from_": SENDER}, 400, 21602),
        ({"to": CAROL, "from_": SENDER, "body": "Hi"}, 400, 21610),
        ({"to": BOB, "from_": SENDER, "body": "Hi"}, 400, 21635),
    ],
)
def test_refused_creates_raise_twilio_errors(twilio, client, kwargs, status, code):
    twilio.create_errors = {
        CAROL: (400, 21610, "Attempt to send to unsubscribed recipient"),
        BOB: (400, 21635, "The 'To' number cannot be reached via SMS (landline)"),
    }

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(**kwargs)

    assert (raised.value.status, raised.value.code) == (status, code)
    assert twilio.created == []


def test_wrong_auth_token_is_20003(twilio):
    stranger = make_client(SID, "wrong-token", base_url=twilio.url, timeout=5)

    with pytest.raises(TwilioRestException) as raised:
        stranger.messages.create(to=ALICE, from_=SENDER, body="Hi")

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert raised.value.msg.endswith("Authenticate")


def test_fail_next_fails_that_many_creates_then_recovers(twilio, client):
    twilio.fail_next(1)
    twilio.fail_next(1, http_status=429, code=20429)

    codes = []
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to=ALICE, from_=SENDER, body="Hi")
        codes.append((raised.value.status, raised.value.code))

    assert codes == [(500, 20500), (429, 20429)]
    assert client.messages.create(to=ALICE, from_=SENDER, body="Hi").status == "queued"
    assert len(twilio.created) == 1


def test_rate_limit_answers_20429_past_the_rate(twilio, client):
    twilio.rate_limit_mps = 2
    client.messages.create(to=ALICE, from_=SENDER, body="1")
    client.messages.create(to=ALICE, from_=SENDER, body="2")

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=ALICE, from_=SENDER, body="3")

    assert (raised.value.status, raised.value.code) == (429, 20429)


def test_dropped_answer_still_leaves_the_message_at_twilio(twilio, client):
    twilio.drop_after_create(1)

    with pytest.raises(requests.exceptions.ConnectionError):
        client.messages.create(to=ALICE, from_=SENDER, body="Did it go?")

    listed = client.messages.list(to=ALICE)
    assert [m.body for m in listed] == ["Did it go?"]
    assert client.messages.create(to=ALICE, from_=SENDER, body="Next").status == "queued"


def test_scheduled_send_needs_a_service_and_fifteen_minutes(twilio, client):
    soon, later = (datetime.now(UTC) + timedelta(minutes=m) for m in (5, 60))
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(
            to=ALICE, messaging_service_sid=SERVICE, body="Hi", schedule_type="fixed", send_at=soon
        )
    assert raised.value.code == 35114

    message = client.messages.create(
        to=ALICE, messaging_service_sid=SERVICE, body="Hi", schedule_type="fixed", send_at=later
    )
    assert message.status == "scheduled"


def test_status_callbacks_arrive_signed_and_in_order(twilio, client, receiver):
    twilio.outcomes[BOB] = ("undelivered", 30007)
    url = receiver.url + "/twilio/status?team=7"
    delivered = client.messages.create(to=ALICE, from_=SENDER, body="Hi", status_callback=url)
    filtered = client.messages.create(
        to=BOB, messaging_service_sid=SERVICE, body="Hi", status_callback=url
    )

    assert twilio.wait_idle()
    validator = RequestValidator(TOKEN)
    by_sid: dict[str, list[tuple[str, str | None]]] = {}
    for path, headers, form in receiver.received:
        assert path == "/twilio/status?team=7"
        assert validator.validate(url, form, headers["X-Twilio-Signature"])
        assert form["SmsStatus"] == form["MessageStatus"]
        by_sid.setdefault(form["MessageSid"], []).append(
            (form["MessageStatus"], form.get("ErrorCode"))
        )
    assert by_sid == {
        delivered.sid: [("sent", None), ("delivered", None)],
        filtered.sid: [("sent", None), ("undelivered", "30007")],
    }
    assert [r["status_code"] for r in twilio.callbacks_sent] == [204] * 4
    bob = next(form for _, _, form in receiver.received if form["To"] == BOB)
    assert (bob["From"], bob["MessagingServiceSid"], bob["AccountSid"]) == (POOL[0], SERVICE, SID)


def test_failed_callback_posts_are_recorded_not_raised(twilio, client):
    twilio.create_errors.clear()
    client.messages.create(
        to=ALICE, from_=SENDER, body="Hi", status_callback="http://127.0.0.1:9/nobody-home"
    )

    assert twilio.wait_idle()
    assert len(twilio.callback_failures) == 2
    assert all(failure["error"] for failure in twilio.callback_failures)


def test_callbacks_can_be_turned_off(twilio, client, receiver):
    twilio.callbacks = False
    client.messages.create(to=ALICE, from_=SENDER, body="Hi", status_callback=receiver.url)

    assert twilio.wait_idle()
    time.sleep(0.02)
    assert receiver.received == []
    assert twilio.callbacks_sent == []


def test_error_rates_refuse_that_share_of_creates_in_twilios_schema(twilio, client):
    twilio.error_rates = {429: 0.10, 500: 0.05}

    refused = []
    for n in range(400):
        try:
            client.messages.create(to=ALICE, from_=SENDER, body=f"Hi {n}")
        except TwilioRestException as exc:
            refused.append((exc.status, exc.code))

    assert set(refused) == {(429, 20429), (500, 20500)}
    assert twilio.errors_answered == {
        429: refused.count((429, 20429)),
        500: refused.count((500, 20500)),
    }
    assert 20 <= twilio.errors_answered[429] <= 60
    assert 5 <= twilio.errors_answered[500] <= 35
    assert len(twilio.created) == 400 - len(refused)
