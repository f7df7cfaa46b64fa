"""Replies for real: PostgreSQL, Redis, a `flask --app app worker --with-scheduler`
process, the console served on a loopback port, a local Twilio Messages API
(`tests.fakeservers.TwilioServer`) and a local Anthropic Messages API
(`tests.fakeservers.AnthropicServer`) that takes a second to answer.

An owner answers a campaign text: Twilio's signed webhook reaches the console, the
worker reads the reply and drafts an answer with Claude, a reviewer approves it in the
inbox, and the worker sends it through Twilio from the number the owner heard from.

An owner who says stop is suppressed before the webhook answers: a dispatcher that
runs after the answer sends nothing to the number, whether the reply to it was
approved before (cancelled), claimed before (blocked at the gate), or on its way to
Twilio at that moment (it alone goes). One confirmation, never two: not on a replay,
not on a second STOP, not when Twilio's Advanced Opt-Out confirmed the keyword itself,
not when twenty copies of one webhook arrive at once.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from rq import Worker
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from console import create_app
from console.config import Config
from console.extensions import db
from console.models import (
    ConsentEvent,
    Draft,
    InboundMessage,
    InboxItem,
    Lead,
    Message,
    Suppression,
    Team,
)
from console.models.base import set_clock_offset, utcnow
from console.services.campaigns import templates
from console.services.campaigns.tokens import lead_values, render
from console.services.replies import inbound, inbox, personas, reading
from console.services.sending import dispatch
from console.services.sending.compliance import Gate
from console.services.sending.policy import ReplySettings, SendingSettings
from jobs import queue as job_queue
from jobs import sending
from tests import clock
from tests.fakeservers import AnthropicServer, TwilioServer, content_text
from tests.integration.test_campaign_flow import (
    FROM_NUMBER,
    Browser,
    Outreach,
    make_outreach,
    wait_for,
    worker_process,
)
from tests.servers import create_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ACCOUNT_SID = "AC" + "8" * 32
AUTH_TOKEN = "replies-flow-token"
ANTHROPIC_KEY = "sk-ant-replies-flow-key"
# A Redis database of this module's own: it is flushed before the tests start.
REDIS_DB = 13
# How long the local model takes to write each answer.
CLAUDE_DELAY = 1.0
SMS_PATH = "/webhooks/twilio/sms"
AI_DRAFT = "Great to hear, Dana. Would a 15-minute call with our team on Tuesday or Thursday work?"
OPENER = "Hi Dana, thinking of selling Lake Plumbing? Reply STOP to opt out"


def claude_answers(request: dict) -> str:
    """The local model: a POSITIVE reading for classification requests, else our draft."""
    if content_text(request.get("system")) == reading.SYSTEM:
        return '{"label": "POSITIVE", "confidence": 92, "opt_out": false, "extracted": {}}'
    return AI_DRAFT


# -- the stack ------------------------------------------------------------------------------


@dataclass
class Stack:
    """What the worker process and the tests share (`worker_process` and `wait_for` of
    the campaign flow read `env` and `logs`)."""

    app: Flask
    env: dict[str, str]
    base_url: str
    twilio: TwilioServer
    claude: AnthropicServer
    logs: Path


@pytest.fixture(scope="module")
def stack(postgres_admin_url, redis_url, tmp_path_factory) -> Iterator[Stack]:
    """A migrated database, a clean Redis database, local Twilio and Anthropic APIs, and
    the console served on a loopback port, configured as in production."""
    database_url = create_database(postgres_admin_url, "console_replies_flow")
    folder = tmp_path_factory.mktemp("replies-flow")
    app_box: dict[str, Flask] = {}
    web = make_server(
        "127.0.0.1", 0, lambda environ, reply: app_box["app"](environ, reply), threaded=True
    )
    base_url = f"http://127.0.0.1:{web.server_port}"
    twilio = TwilioServer(ACCOUNT_SID, AUTH_TOKEN)
    twilio.clock = clock.now  # the reconciler compares Twilio's dates with its claims
    twilio.start()
    claude = AnthropicServer(
        api_key=ANTHROPIC_KEY, responder=claude_answers, delay=CLAUDE_DELAY
    ).start()
    redis_base, _, _ = redis_url.rpartition("/")
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": f"{redis_base}/{REDIS_DB}",
        "SECRET_KEY": "replies-flow-secret",
        "PUBLIC_BASE_URL": base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": claude.url,
        "ANTHROPIC_TIMEOUT": "5",
        "CONSOLE_INSTANCE_PATH": str(folder / "instance"),
        "CONSOLE_UPLOAD_DIR": str(folder / "uploads"),
        **clock.environment(),  # texting hours hold no reply, whatever the hour
    }
    app = create_app(Config(env))
    assert not app.config["TWILIO_SANDBOX"]
    app_box["app"] = app
    thread = threading.Thread(target=web.serve_forever, name="console-web", daemon=True)
    thread.start()
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            job_queue.connection(app).flushdb()
            yield Stack(app, {**os.environ, **env}, base_url, twilio, claude, folder)
            db.session.remove()
            db.engine.dispose()
    finally:
        web.shutdown()
        thread.join(timeout=5)
        twilio.stop()
        claude.stop()
        set_clock_offset(0)  # the app put this process on the test clock


@pytest.fixture
def twilio(stack) -> TwilioServer:
    """The module's Twilio fake, forgetting earlier tests' messages."""
    stack.twilio.reset()
    return stack.twilio


# -- owners, their texts, the webhook --------------------------------------------------------


@dataclass
class Owner:
    """A lead's owner who got our opener: the team, the lead and the mobile."""

    outreach: Outreach
    lead: Lead
    number: str

    @property
    def team(self) -> Team:
        return self.outreach.crew.team


def owner_texted(team_name: str, first_line: int) -> Owner:
    """A team (legal to text right now) whose campaign texted one owner five minutes ago."""
    outreach = make_outreach(team_name, first_line, count=1)
    (number,) = outreach.numbers
    lead = db.session.scalars(select(Lead).where(Lead.team_id == outreach.crew.team.id)).one()
    db.session.add(
        Message(
            team_id=lead.team_id,
            kind="campaign",
            campaign_id=outreach.campaign.id,
            lead_id=lead.id,
            sender_id=outreach.sender.id,
            to_e164=number,
            to_state=outreach.state,
            body=OPENER,
            rendered_body=OPENER,
            status="sent",
            provider_sid="SM" + uuid.uuid4().hex,
            provider_status="delivered",
            from_address=outreach.sender.address,
            sent_at=utcnow() - timedelta(minutes=5),
        )
    )
    db.session.commit()
    return Owner(outreach, lead, number)


def text_form(owner: Owner, body: str, sid: str = "") -> dict[str, str]:
    """An inbound text from the owner to the team's sender, as Twilio posts it."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": owner.outreach.sender.address,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": owner.number,
        "ApiVersion": "2010-04-01",
    }


def post_text(stack: Stack, form: dict[str, str], signature: str = "") -> requests.Response:
    """POST a text to the served console's webhook, signed as Twilio signs it."""
    url = stack.base_url + SMS_PATH
    signature = signature or RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)


def twiml_messages(response: requests.Response) -> list[str]:
    """The texts a TwiML answer asks Twilio to send (none for an empty <Response/>)."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(("application/xml", "text/xml"))
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


def opt_out_confirmation(owner: Owner) -> str:
    """The default confirmation, as the owner reads it."""
    values = lead_values(owner.lead, templates.sender_name(owner.team))
    return render(personas.OPT_OUT_CONFIRMATION, values).text.strip()


def fresh() -> None:
    """Forget what this session read, so the next query sees other processes' commits."""
    db.session.rollback()
    db.session.expire_all()


def how_many(model, *conditions) -> int:
    """Rows of a table meeting `conditions`."""
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def confirmations_to(number: str) -> int:
    """Confirmation texts recorded to a number."""
    return how_many(Message, Message.kind == "confirmation", Message.to_e164 == number)


def suppressions_of(number: str) -> int:
    """Suppression rows of a number."""
    return how_many(Suppression, Suppression.e164 == number)


def opt_out_events_of(number: str) -> int:
    """Opt-out consent events of a number."""
    return how_many(ConsentEvent, ConsentEvent.e164 == number, ConsentEvent.kind == "opt_out")


def creates_to(twilio: TwilioServer, number: str) -> list[dict]:
    """The messages Twilio took for a number."""
    with twilio.lock:
        return [c for c in twilio.created if c["to"] == number]


def approved_replies(owner: Owner, *bodies: str) -> list[Message]:
    """The owner asked who we are; a reviewer approved answers (due now, not yet sent)."""
    reception = inbound.receive(db.session, text_form(owner, "Who is this?"))
    item = db.session.get(InboxItem, reception.item_id)
    reviewer = owner.outreach.crew.reviewer
    return [inbox.send_reply(db.session, item, reviewer, body) for body in bodies]


def dispatcher(stack: Stack, owner: Owner, **changes) -> dispatch.DispatchOptions:
    """The worker's reply dispatcher options (real Redis rate limits, the local Twilio)."""
    options = sending.dispatch_options(stack.app, db.session, owner.team.id)
    for name, value in changes.items():
        setattr(options, name, value)
    return options


# -- the tests -----------------------------------------------------------------------------


def test_reply_is_read_drafted_approved_and_sent_by_the_worker(stack, twilio, record_property):
    owner = owner_texted("Harbor Replies Partners", first_line=310)
    reviewer = owner.outreach.crew.reviewer
    text = "Sure, I would talk. What are the next steps?"
    stack.claude.reset()
    redis = job_queue.connection(stack.app)

    with worker_process(stack, "replies-worker"):
        wait_for(stack, "the worker listens", lambda: Worker.all(connection=redis), timeout=60)
        started = time.monotonic()
        answer = post_text(stack, text_form(owner, text))
        answered = time.monotonic() - started
        assert twiml_messages(answer) == []  # nothing to say in the request itself

        def drafted() -> InboxItem | None:
            item = db.session.scalars(
                select(InboxItem).where(InboxItem.team_id == owner.team.id)
            ).first()
            return item if item is not None and item.state == "open" else None

        item = wait_for(stack, "the worker reads and drafts the reply", drafted, timeout=30)
        ready = time.monotonic() - started
        print(f"\nwebhook answered in {answered * 1000:.0f} ms; draft ready {ready:.2f} s after")
        record_property("webhook_to_draft_seconds", round(ready, 2))
        # Two model calls of a second each; the rest is the queue, a fork and the database.
        assert 2 * CLAUDE_DELAY <= ready < 15, f"the draft took {ready:.1f} s"

        draft = inbox.current_draft(db.session, item)
        assert (item.label, item.classified_by, item.persona) == ("POSITIVE", "ai", "SABRINA")
        assert (draft.source, draft.body, draft.model) == ("ai", AI_DRAFT, "claude-sonnet-5-5")
        assert draft.latency_ms >= CLAUDE_DELAY * 1000
        assert stack.claude.calls == 2

        # The reviewer approves the draft as it is, in the inbox.
        browser = Browser(stack.base_url, reviewer.email)
        page = f"/inbox/{item.id}"
        sent = browser.post(f"{page}/send", page, body=draft.body)
        assert sent.status_code == 200, sent.text

        def went_out() -> Message | None:
            reply = db.session.scalars(
                select(Message).where(
                    Message.conversation_id == item.conversation_id, Message.kind == "reply"
                )
            ).first()
            return reply if reply is not None and reply.provider_sid else None

        reply = wait_for(stack, "the worker sends the approved reply", went_out, timeout=30)
        conversation_page = browser.get(page).text

    (created,) = creates_to(twilio, owner.number)  # one create, from the owner's sender
    assert (created["from"], created["body"]) == (owner.outreach.sender.address, AI_DRAFT)
    assert created["status_callback"] == f"{stack.base_url}/webhooks/twilio/status"
    assert reply.provider_sid == created["sid"]
    assert reply.status in ("sent", "delivered")
    assert (reply.from_address, reply.approved_by_id) == (
        owner.outreach.sender.address,
        reviewer.id,
    )
    db.session.refresh(draft)
    assert (draft.state, draft.sent_body, draft.edited) == ("sent", AI_DRAFT, False)
    assert draft.message_id == reply.id
    db.session.refresh(item)
    assert (item.state, item.resolution) == ("done", "sent")
    # The item's page shows the conversation: our opener, the owner's text, our answer.
    turns = [
        f'<li class="turn turn-out"><p>{OPENER}</p>',
        f'<li class="turn turn-in"><p>{text}</p>',
        f'<li class="turn turn-out"><p>{AI_DRAFT}</p>',
    ]
    assert all(turn in conversation_page for turn in turns), conversation_page
    assert sorted(turns, key=conversation_page.index) == turns
    assert twilio.wait_idle(timeout=15)


def test_bad_signature_is_refused_and_nothing_is_stored(stack):
    owner = owner_texted("Forged Signature Partners", first_line=320)
    form = text_form(owner, "STOP")

    answer = post_text(stack, form, signature="bm90IGEgc2lnbmF0dXJl")

    assert answer.status_code == 403
    fresh()
    assert not db.session.scalar(
        select(InboundMessage.id).where(InboundMessage.provider_sid == form["MessageSid"])
    )
    assert suppressions_of(owner.number) == 0


def test_stop_reply_suppresses_before_response_and_cancels_the_approved_reply(stack, twilio):
    owner = owner_texted("Stop First Partners", first_line=330)
    (queued,) = approved_replies(owner, "Happy to explain. Would a short call work?")

    answer = post_text(stack, text_form(owner, "please stop texting me"))

    # By the time Twilio hears back, the suppression is committed and the reply cancelled.
    assert twiml_messages(answer) == [opt_out_confirmation(owner)]
    fresh()
    assert suppressions_of(owner.number) == 1
    assert db.session.get(Message, queued.id).status == "cancelled"
    report = dispatch.run_replies(db.session, owner.team.id, dispatcher(stack, owner))
    assert report.sent == 0
    assert creates_to(twilio, owner.number) == []
    assert db.session.get(Lead, owner.lead.id).status == "do_not_contact"


def test_stop_between_claim_and_send_blocks_the_send(stack, twilio):
    owner = owner_texted("Claimed First Partners", first_line=340)
    (queued,) = approved_replies(owner, "Happy to explain. Would a short call work?")
    options = dispatcher(stack, owner)
    settings = SendingSettings.of(owner.team)
    # The dispatcher claims the reply and builds its gate, as run_replies does...
    assert dispatch.claim_replies(db.session, owner.team.id, options.clock()) == [queued.id]
    gate = Gate(db.session, owner.team.id, settings)
    message = db.session.get(Message, queued.id)
    assert message.status == "sending"

    # ...then the owner's opt-out arrives and is answered...
    answer = post_text(stack, text_form(owner, "please stop texting me"))
    assert twiml_messages(answer) == [opt_out_confirmation(owner)]

    # ...and only then does the dispatcher get to the send.
    outcome = dispatch.send_claimed(db.session, message, gate, options, settings, 10.0)

    assert outcome == "blocked"
    assert creates_to(twilio, owner.number) == []
    fresh()
    blocked = db.session.get(Message, queued.id)
    assert (blocked.status, blocked.provider_sid) == ("blocked", None)
    assert blocked.blocked_reason.startswith("Opted out (Reply: ")


def test_stop_while_a_reply_is_in_flight_lets_only_that_one_go(stack, twilio):
    owner = owner_texted("In Flight Partners", first_line=350)
    first, second = approved_replies(
        owner, "Happy to explain. We work with owners like you.", "Would a call this week work?"
    )
    answers: list[requests.Response] = []

    def opt_out_arrives(message: Message, result) -> None:
        """Twilio has just taken the first reply: the owner's STOP arrives and is answered."""
        if not answers:
            answers.append(post_text(stack, text_form(owner, "Stop texting me")))

    report = dispatch.run_replies(
        db.session, owner.team.id, dispatcher(stack, owner, after_call=opt_out_arrives)
    )

    assert len(answers) == 1 and twiml_messages(answers[0]) == [opt_out_confirmation(owner)]
    assert (report.sent, report.blocked) == (1, 1)
    (created,) = creates_to(twilio, owner.number)  # the one in flight, nothing after
    assert created["body"] == first.body
    fresh()
    assert db.session.get(Message, first.id).status in ("sent", "delivered")
    blocked = db.session.get(Message, second.id)
    assert (blocked.status, blocked.provider_sid) == ("blocked", None)
    assert blocked.blocked_reason.startswith("Opted out (Reply: ")
    assert suppressions_of(owner.number) == 1


def test_stop_is_confirmed_once_across_replays_and_repeats(stack):
    owner = owner_texted("One Confirmation Partners", first_line=360)
    stop = text_form(owner, "STOP")

    first = post_text(stack, stop)
    replay = post_text(stack, stop)  # Twilio retries the same MessageSid
    again = post_text(stack, text_form(owner, "STOP"))  # a second STOP, new SID

    assert twiml_messages(first) == [opt_out_confirmation(owner)]
    assert twiml_messages(replay) == []
    assert twiml_messages(again) == []
    fresh()
    assert confirmations_to(owner.number) == 1
    assert suppressions_of(owner.number) == 1
    assert opt_out_events_of(owner.number) == 1
    assert how_many(InboundMessage, InboundMessage.from_e164 == owner.number) == 2


@pytest.mark.parametrize(
    ("text", "confirmed"),
    [("STOP", False), ("Stop.", False), ("please stop texting me", True)],
    ids=["exact-keyword", "keyword-with-a-period", "free-text"],
)
def test_advanced_opt_out_leaves_keywords_to_twilio_but_not_free_text(stack, text, confirmed):
    first_line = {"STOP": 370, "Stop.": 371}.get(text, 372)
    owner = owner_texted(f"Advanced Opt Out Partners {first_line}", first_line=first_line)
    settings = ReplySettings.of(owner.team)
    settings.twilio_advanced_opt_out = True
    settings.save(owner.team)
    db.session.commit()

    answer = post_text(stack, text_form(owner, text))

    # Twilio confirms an exact keyword itself; it never sees free text as an opt-out.
    assert twiml_messages(answer) == ([opt_out_confirmation(owner)] if confirmed else [])
    fresh()
    assert suppressions_of(owner.number) == 1
    assert confirmations_to(owner.number) == (1 if confirmed else 0)


def test_twenty_copies_of_one_stop_store_one_text_and_confirm_once(stack):
    owner = owner_texted("Concurrent Stop Partners", first_line=380)
    form = text_form(owner, "STOP")
    start = threading.Barrier(20)

    def post_copy(_: int) -> requests.Response:
        start.wait(timeout=10)
        return post_text(stack, form)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post_copy, range(20)))

    spoken = [twiml_messages(answer) for answer in answers]
    assert sorted(spoken, key=len) == [[]] * 19 + [[opt_out_confirmation(owner)]]
    fresh()
    assert how_many(InboundMessage, InboundMessage.provider_sid == form["MessageSid"]) == 1
    assert suppressions_of(owner.number) == 1
    assert opt_out_events_of(owner.number) == 1
    assert confirmations_to(owner.number) == 1
    assert how_many(InboxItem, InboxItem.team_id == owner.team.id) == 1
    assert how_many(Draft, Draft.team_id == owner.team.id) == 0
