"""Twilio's status callbacks: only signed requests count, each (SID, status) once, a
message only moves forward, errors act on the number, early callbacks wait for their
SID, and the webhook needs neither a session nor a CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from console.extensions import db
from console.models import ConsentEvent, Message, MessageEvent, Suppression
from console.providers.messaging import SendResult
from console.services.sending import delivery, dispatch
from console.services.sending.policy import SendingSettings
from tests.conftest import PASSWORD, login
from tests.web.campaign_helpers import (
    add_campaign,
    generate_batch,
    make_leads,
    make_template,
    messages_of,
    sent_message,
    team_sender,
)

TOKEN = "tok"
BASE_URL = "https://console.example.com"
PATH = "/webhooks/twilio/status"
URL = BASE_URL + PATH
SID = "SM" + "a" * 32


@pytest.fixture
def app_settings() -> dict:
    """The console with a Twilio auth token and the public URL Twilio calls back."""
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE_URL}


def signature(params: dict, url: str = URL, token: str = TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for `params` posted to `url`."""
    return RequestValidator(token).compute_signature(url, params)


def callback(sid: str = SID, status: str = "delivered", **more: str) -> dict:
    """A status callback's form, as Twilio posts it."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "5" * 32,
        "From": "+15125550100",
        "To": "+15125550199",
        "ApiVersion": "2010-04-01",
    }
    params.update(more)
    return params


def post_signed(client, params: dict, **headers: str):
    """Post a callback signed as Twilio signs it."""
    headers = {"X-Twilio-Signature": signature(params), **headers}
    return client.post(PATH, data=params, headers=headers)


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def events() -> list[MessageEvent]:
    """Every stored callback, oldest first."""
    return list(db.session.scalars(select(MessageEvent).order_by(MessageEvent.id)))


def fresh(message: Message) -> Message:
    """The message as stored now."""
    db.session.expire_all()
    return db.session.get(Message, message.id)


def snapshot(message: Message) -> tuple:
    """What a callback could change on a message."""
    m = fresh(message)
    return (
        m.status,
        m.provider_status,
        m.delivered_at,
        m.status_at,
        m.error_code,
        m.error_message,
        m.from_address,
    )


# ------------------------------------------------------------------------- signatures


def test_signed_delivered_callback_moves_the_message(client, crew):
    message = sent_message(crew.team, SID)
    response = post_signed(client, callback(status="delivered"))
    assert response.status_code == 204
    assert response.data == b""
    stored = fresh(message)
    assert (stored.status, stored.provider_status) == ("delivered", "delivered")
    assert stored.delivered_at is not None
    assert stored.status_at is not None
    (event,) = events()
    assert (event.message_id, event.provider_sid, event.status) == (message.id, SID, "delivered")
    assert event.params["MessageStatus"] == "delivered"


def test_sent_callback_moves_queued_forward_without_delivering(client, crew):
    message = sent_message(crew.team, SID)
    assert post_signed(client, callback(status="sent")).status_code == 204
    stored = fresh(message)
    assert (stored.status, stored.provider_status, stored.delivered_at) == ("sent", "sent", None)


def _wrong_signature(params: dict) -> dict:
    return {"X-Twilio-Signature": signature(params, token="not-the-token")}


def _no_signature(params: dict) -> dict:
    return {}


def _signed_for_another_url(params: dict) -> dict:
    return {"X-Twilio-Signature": signature(params, url="https://evil.example.com" + PATH)}


def _signed_for_the_request_url(params: dict) -> dict:
    # What the test client calls (console.test), not PUBLIC_BASE_URL: Twilio never signs it.
    return {"X-Twilio-Signature": signature(params, url="http://console.test" + PATH)}


def _garbage(params: dict) -> dict:
    return {"X-Twilio-Signature": "not base64 at all"}


@pytest.mark.parametrize(
    "headers",
    [
        _wrong_signature,
        _no_signature,
        _signed_for_another_url,
        _signed_for_the_request_url,
        _garbage,
    ],
)
def test_unsigned_or_badly_signed_callbacks_are_refused_and_store_nothing(client, crew, headers):
    message = sent_message(crew.team, SID)
    before = snapshot(message)
    params = callback(status="delivered")
    response = client.post(PATH, data=params, headers=headers(params))
    assert response.status_code == 403
    assert events() == []
    assert snapshot(message) == before


@pytest.mark.parametrize(
    "tamper",
    [
        {"MessageStatus": "failed", "SmsStatus": "failed"},
        {"ErrorCode": "21610"},
        {"MessageSid": "SM" + "b" * 32},
    ],
)
def test_a_tampered_callback_is_refused(client, crew, tamper):
    message = sent_message(crew.team, SID)
    other = sent_message(crew.team, "SM" + "b" * 32, to="+15125550198")
    before, other_before = snapshot(message), snapshot(other)
    signed = callback(status="delivered")
    tampered = {**signed, **tamper}
    response = client.post(PATH, data=tampered, headers={"X-Twilio-Signature": signature(signed)})
    assert response.status_code == 403
    assert events() == []
    assert (snapshot(message), snapshot(other)) == (before, other_before)
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


@pytest.mark.parametrize("app_overrides", [{"TWILIO_AUTH_TOKEN": ""}])
def test_without_an_auth_token_every_callback_is_refused(client, crew):
    message = sent_message(crew.team, SID)
    before = snapshot(message)
    params = callback(status="delivered")
    for token in ("", TOKEN):
        headers = {"X-Twilio-Signature": signature(params, token=token)}
        assert client.post(PATH, data=params, headers=headers).status_code == 403
    assert events() == []
    assert snapshot(message) == before


def test_only_post_is_allowed(client):
    assert client.get(PATH).status_code == 405


# -------------------------------------------------------------------- idempotence, order


def test_a_replayed_callback_changes_nothing(client, crew):
    message = sent_message(crew.team, SID)
    params = callback(status="delivered")
    assert post_signed(client, params).status_code == 204
    after_first = snapshot(message)
    assert post_signed(client, params).status_code == 204
    assert post_signed(client, params).status_code == 204
    assert len(events()) == 1
    assert snapshot(message) == after_first


def test_a_late_sent_never_moves_delivered_back(client, crew):
    message = sent_message(crew.team, SID)
    assert post_signed(client, callback(status="delivered")).status_code == 204
    delivered = snapshot(message)
    assert post_signed(client, callback(status="sent")).status_code == 204
    assert post_signed(client, callback(status="queued")).status_code == 204
    assert snapshot(message) == delivered
    assert fresh(message).status == "delivered"
    assert [e.status for e in events()] == ["delivered", "sent", "queued"]


def test_a_late_failure_never_undoes_delivered(client, crew):
    message = sent_message(crew.team, SID)
    post_signed(client, callback(status="delivered"))
    post_signed(client, callback(status="undelivered", ErrorCode="30003"))
    stored = fresh(message)
    assert (stored.status, stored.error_code, stored.error_message) == ("delivered", None, "")


# ----------------------------------------------------------------------------- errors


def test_carrier_filtering_is_explained_in_words(client, crew):
    message = sent_message(crew.team, SID)
    response = post_signed(client, callback(status="undelivered", ErrorCode="30007"))
    assert response.status_code == 204
    stored = fresh(message)
    assert (stored.status, stored.provider_status) == ("failed", "undelivered")
    assert stored.error_code == 30007
    assert stored.error_message == "Filtered by the carrier as spam (30007)"
    assert stored.delivered_at is None
    assert events()[0].error_code == 30007


def test_an_unknown_error_code_still_reads_as_words(client, crew):
    message = sent_message(crew.team, SID)
    post_signed(client, callback(status="failed", ErrorCode="39999"))
    assert fresh(message).error_message == "Not delivered (39999)"


def test_twilio_opt_out_error_suppresses_the_number(client, crew):
    to = "+15125550177"
    message = sent_message(crew.team, SID, to=to)
    response = post_signed(client, callback(status="undelivered", ErrorCode="21610", To=to))
    assert response.status_code == 204
    assert fresh(message).error_message == "The recipient opted out with Twilio (STOP) (21610)"
    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert (suppression.team_id, suppression.e164, suppression.reason) == (
        crew.team.id,
        to,
        "opt_out",
    )
    assert suppression.source == "Twilio 21610"
    consent = db.session.scalars(select(ConsentEvent)).one()
    assert (consent.e164, consent.kind) == (to, "opt_out")


def test_twilio_opt_out_cancels_unsent_texts_to_that_number(app, client, crew):
    make_leads(crew.team, 2)
    campaign = add_campaign(crew.team, make_template(crew.team), team_sender(app, crew.team))
    batch = generate_batch(campaign)
    waiting, other = messages_of(batch)
    message = sent_message(crew.team, SID, to=waiting.to_e164)
    post_signed(client, callback(status="undelivered", ErrorCode="21610"))
    db.session.expire_all()
    assert fresh(message).status == "failed"
    assert fresh(waiting).status == "cancelled"
    assert fresh(other).status == "draft"


# ---------------------------------------------------------------- early and unknown SIDs


def test_a_callback_for_an_unknown_sid_waits_for_its_message(client, crew):
    early = "SM" + "e" * 32
    assert post_signed(client, callback(sid=early, status="delivered")).status_code == 204
    (event,) = events()
    assert (event.provider_sid, event.message_id, event.status) == (early, None, "delivered")
    assert post_signed(client, callback(sid=early, status="delivered")).status_code == 204
    assert len(events()) == 1

    message = Message(
        team_id=crew.team.id,
        to_e164="+15125550199",
        body="Hi Dana, thinking of selling? Reply STOP to opt out",
        status="sending",
    )
    db.session.add(message)
    db.session.commit()
    dispatch.record_sent(
        db.session,
        message,
        SendResult(sid=early, status="queued", from_address="+15125550100"),
        SendingSettings(),
        message.created_at,
    )
    stored = fresh(message)
    assert (stored.status, stored.provider_status, stored.provider_sid) == (
        "delivered",
        "delivered",
        early,
    )
    assert stored.delivered_at is not None
    assert events()[0].message_id == message.id


def test_early_events_apply_in_order_and_only_once(client, crew):
    early = "SM" + "f" * 32
    post_signed(client, callback(sid=early, status="sent"))
    post_signed(client, callback(sid=early, status="undelivered", ErrorCode="30007"))
    message = sent_message(crew.team, early)
    delivery.apply_early_events(db.session, message)
    db.session.commit()
    stored = fresh(message)
    assert (stored.status, stored.error_code) == ("failed", 30007)
    delivery.apply_early_events(db.session, stored)  # nothing left to apply
    db.session.commit()
    assert fresh(message).status == "failed"
    assert {e.message_id for e in events()} == {message.id}


def test_a_callback_with_an_unknown_status_is_ignored(client, crew):
    message = sent_message(crew.team, SID)
    before = snapshot(message)
    assert post_signed(client, callback(status="exploded")).status_code == 204
    assert events() == []
    assert snapshot(message) == before


# Values Twilio never sends, which PostgreSQL would refuse and SQLite would keep: each is
# a 400 before anything is stored, on both databases.
MALFORMED_CALLBACKS = {
    "no MessageSid": {"MessageSid": "", "SmsSid": ""},
    "a 500-character MessageSid": {"MessageSid": "SM" + "a" * 498, "SmsSid": "SM" + "a" * 498},
    "a short MessageSid": {"MessageSid": "SM123"},
    "a MessageSid of another resource": {"MessageSid": "CA" + "a" * 32},
    "a bad AccountSid": {"AccountSid": "AC1"},
    "an ErrorCode past any integer": {"MessageStatus": "failed", "ErrorCode": "9" * 30},
    "an ErrorCode in words": {"MessageStatus": "failed", "ErrorCode": "thirty"},
    "a 500-character status": {"MessageStatus": "d" * 500},
    "a 500-character From": {"From": "+1" + "5" * 498},
    "a NUL in To": {"To": "+1512555\x000199"},
    "a 5,000-character extra field": {"ChannelStatusMessage": "x" * 5000},
}


@pytest.mark.parametrize("changes", MALFORMED_CALLBACKS.values(), ids=MALFORMED_CALLBACKS.keys())
def test_a_signed_callback_with_a_malformed_value_is_refused_and_stores_nothing(
    client, crew, changes
):
    message = sent_message(crew.team, SID)
    before = snapshot(message)
    params = {k: v for k, v in callback(**changes).items() if v}
    assert post_signed(client, params).status_code == 400
    assert count_events() == 0
    assert snapshot(message) == before


def count_events() -> int:
    """Stored callbacks, read on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(MessageEvent))


def test_a_messaging_service_reports_the_number_it_picked(client, crew):
    message = sent_message(crew.team, SID)
    message.from_address = "MG" + "1" * 32
    db.session.commit()
    post_signed(client, callback(status="sent", From="+15125550111"))
    assert fresh(message).from_address == "+15125550111"


# ------------------------------------------------------------------------ no login, CSRF


def test_the_webhook_needs_no_login(client, crew):
    message = sent_message(crew.team, SID)
    assert post_signed(client, callback(status="delivered")).status_code == 204
    assert fresh(message).status == "delivered"


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_the_webhook_is_exempt_from_csrf_but_campaign_posts_are_not(app, client, crew):
    assert app.config["WTF_CSRF_ENABLED"] is True
    make_leads(crew.team, 1)
    campaign = add_campaign(crew.team, make_template(crew.team), team_sender(app, crew.team))
    batch = generate_batch(campaign)
    message = sent_message(crew.team, SID)

    assert post_signed(client, callback(status="delivered")).status_code == 204
    assert fresh(message).status == "delivered"

    signed_in = app.test_client()
    token = csrf_token(signed_in.get("/login").text)
    login_form = {"email": crew.operator.email, "password": PASSWORD, "csrf_token": token}
    assert signed_in.post("/login", data=login_form).status_code == 302
    refused = signed_in.post(f"/campaigns/batches/{batch.id}/approve", data={"scope": "all"})
    assert refused.status_code == 400
    refused = signed_in.post(f"/campaigns/{campaign.id}/status", data={"action": "finish"})
    assert refused.status_code == 400
    draft = messages_of(batch)[0]
    refused = signed_in.post(
        f"/campaigns/messages/{draft.id}",
        data={"action": "skip"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert batch.status == "in_review"
    assert campaign.status == "active"
    assert [m.status for m in messages_of(batch)] == ["draft"]


def test_login_is_not_a_way_around_the_signature(client, crew):
    message = sent_message(crew.team, SID)
    login(client, crew.admin)
    assert client.post(PATH, data=callback(status="delivered")).status_code == 403
    assert events() == []
    assert fresh(message).status == "sent"
