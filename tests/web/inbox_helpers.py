"""Factories for the inbox tests: a team that has texted leads from a campaign, owners'
replies arriving as Twilio posts them and read by the job's own function, a scripted
stand-in for Claude, and a transport that records what the dispatcher sends."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from console.extensions import db
from console.models import Campaign, InboxItem, Lead, Message, Sender, Team
from console.models.base import utcnow
from console.providers.claude import ModelAnswer
from console.providers.messaging import SendResult
from console.services.replies import inbound, inbox
from console.services.sending import dispatch, policy
from tests.conftest import TeamUsers, make_lead
from tests.web.campaign_helpers import add_campaign, make_template, mobile, sent_message

CLASSIFY_MODEL = "classify-model"
DRAFT_MODEL = "draft-model"
OPENER_SENT = "Hi Dana, Harbor here. Thinking of selling {business}? Reply STOP to opt out"
AI_DRAFT = "Thanks for getting back to me. Would a short call this week work for you?"
_sids = itertools.count(1)


@dataclass
class Desk:
    """A team that texts owners: its people, its sender and a campaign."""

    crew: TeamUsers
    sender: Sender
    campaign: Campaign

    @property
    def team(self) -> Team:
        return self.crew.team


def make_desk(crew: TeamUsers, address: str = policy.SANDBOX_NUMBER) -> Desk:
    """A committed sender at `address` and a campaign for `crew`'s team."""
    sender = Sender(
        team_id=crew.team.id, label="Austin line", kind="number", address=address, mps=10.0
    )
    db.session.add(sender)
    db.session.commit()
    campaign = add_campaign(crew.team, make_template(crew.team), sender, name="Spring owners")
    return Desk(crew, sender, campaign)


def add_sender(desk: Desk, address: str, label: str = "Round Rock line") -> Sender:
    """Another committed sender of the desk's team."""
    sender = Sender(team_id=desk.team.id, label=label, kind="number", address=address, mps=10.0)
    db.session.add(sender)
    db.session.commit()
    return sender


def texted_lead(
    desk: Desk,
    n: int,
    *,
    business: str | None = None,
    owner: str | None = None,
    score: int | None = None,
    title: str = "",
    campaign: Campaign | None = None,
    sender: Sender | None = None,
    sent_at: datetime | None = None,
) -> Lead:
    """A lead with its own mobile (`mobile(n)`) who got the campaign's opener from the
    desk's sender (or `sender`), committed."""
    business = business or f"Lake {n} Plumbing LLC"
    lead = make_lead(desk.team, business, owner_name=owner or f"Dana Owner{n}", mobile=mobile(n))
    lead.quality_score = score
    if title:
        lead.owner.title = title
    lead.status = "contacted"
    sender = sender or desk.sender
    text = OPENER_SENT.format(business=business)
    sent_message(
        desk.team,
        "SM" + uuid.uuid4().hex,
        to=mobile(n),
        body=text,
        rendered_body=text,
        kind="campaign",
        lead_id=lead.id,
        campaign_id=(campaign or desk.campaign).id,
        sender_id=sender.id,
        from_address=sender.address,
        sent_at=sent_at or utcnow() - timedelta(minutes=20),
    )
    return lead


def twilio_form(to: str, from_e164: str, body: str, sid: str | None = None) -> dict[str, str]:
    """An inbound SMS as Twilio posts it to the webhook."""
    sid = sid or f"SM{next(_sids):032x}"
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "5" * 32,
        "From": from_e164,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def receive_text(
    desk: Desk, from_e164: str, body: str, *, to: str | None = None, now: datetime | None = None
) -> inbound.Reception:
    """An owner's text arriving at the desk's sender (or `to`), as the webhook takes it."""
    form = twilio_form(to or desk.sender.address, from_e164, body)
    return inbound.receive(db.session, form, now=now)


def models(claude: object | None = None) -> inbox.Models:
    """The job's models: the rules and templates, or a scripted Claude."""
    return inbox.Models(claude=claude, classify=CLASSIFY_MODEL, draft=DRAFT_MODEL)


def read_item(item_id: int, claude: object | None = None) -> str:
    """Run the reading job's logic on one item."""
    return inbox.process_item(db.session, item_id, models(claude))


def reply_from(
    desk: Desk,
    from_e164: str,
    body: str,
    *,
    claude: object | None = None,
    to: str | None = None,
    now: datetime | None = None,
) -> InboxItem:
    """An owner's text received and read: its inbox item, fresh from the database."""
    reception = receive_text(desk, from_e164, body, to=to, now=now)
    assert reception.item_id is not None, reception
    if reception.needs_job:
        read_item(reception.item_id, claude)
    return fresh_item(reception.item_id)


def fresh_item(item_id: int) -> InboxItem:
    """An inbox item as stored now."""
    db.session.expire_all()
    return db.session.get(InboxItem, item_id)


def fresh(row):
    """Any row as stored now."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def replies_to(e164: str) -> list[Message]:
    """The inbox replies queued or sent to a number, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.to_e164 == e164, Message.kind == "reply")
            .order_by(Message.id)
        )
    )


def save_reply_settings(team: Team, **values) -> policy.ReplySettings:
    """Store a team's reply settings (Settings > Replies), committed."""
    settings = policy.ReplySettings(**values)
    settings.save(db.session.get(Team, team.id))
    db.session.commit()
    return settings


class ScriptedClaude:
    """Stands in for `console.providers.claude.Claude`: the reading call answers with the
    JSON it is given, the drafting call with a fixed text; every call is kept."""

    def __init__(
        self,
        label: str,
        confidence: int = 95,
        *,
        opt_out: bool = False,
        extracted: dict | None = None,
        draft: str = AI_DRAFT,
    ) -> None:
        self.reading = {
            "label": label,
            "confidence": confidence,
            "opt_out": opt_out,
            "extracted": extracted or {},
        }
        self.draft = draft
        self.calls: list[dict] = []

    def ask(self, *, model: str, system, messages, max_tokens: int) -> ModelAnswer:
        """One Messages API call, answered at once."""
        self.calls.append({"model": model, "messages": messages})
        text = json.dumps(self.reading) if model == CLASSIFY_MODEL else self.draft
        return ModelAnswer(
            text=text,
            model=model,
            input_tokens=120,
            output_tokens=30,
            cache_read_tokens=0,
            cache_write_tokens=0,
            latency_ms=40,
        )


@dataclass
class RecordingTransport:
    """A transport that takes every text at once and keeps what it was given."""

    sent: list[dict] = field(default_factory=list)

    def send(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, status_callback: str
    ) -> SendResult:
        """Take one text: a new SID, queued, from the sender's address."""
        self.sent.append({"to": to, "from": sender_address, "kind": sender_kind, "body": body})
        return SendResult(
            sid=f"SM{len(self.sent):032d}", status="queued", from_address=sender_address
        )

    def find(self, **kwargs) -> SendResult | None:
        """Nothing was ever lost on the way."""
        return None

    def fetch(self, sid: str) -> SendResult | None:
        """No later news about a text."""
        return None


class NoWait:
    """A rate limit that never waits."""

    def acquire(self, max_wait: float | None = None) -> float:
        """Go at once."""
        return 0.0


def dispatch_options(transport, clock) -> dispatch.DispatchOptions:
    """Dispatcher options with a fixed clock and no rate-limit wait."""
    limit = NoWait()
    return dispatch.DispatchOptions(
        transport=transport, limiter_for=lambda sender: limit, clock=clock
    )


# -- reading pages ----------------------------------------------------------------------

_ROW = re.compile(r'<li class="inbox-row[^"]*" data-item="(\d+)"')


def listed_ids(page: str) -> list[int]:
    """The item ids of the list's rows, top to bottom."""
    return [int(found) for found in _ROW.findall(page)]


def totals(page: str) -> dict[str, int]:
    """The bucket totals table: each column's heading and number."""
    table = re.search(r'<table class="totals">.*?</table>', page, re.S)
    assert table, "no totals table on the page"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    headings = [
        re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", rows[0])
    ]
    numbers = [int(re.sub(r"<[^>]+>", "", d)) for d in re.findall(r"<td[^>]*>(.*?)</td>", rows[1])]
    assert len(headings) == len(numbers), (headings, numbers)
    return dict(zip(headings, numbers, strict=True))


def poll_version(page: str) -> str:
    """The version the list's live poller sends back."""
    found = re.search(r'/inbox/changes\?v=([^"&]+)"', page)
    assert found, "no live poller on the page"
    return found.group(1)


def textarea_text(page: str) -> str:
    """The reply editor's text as the page carries it (still HTML-escaped)."""
    found = re.search(
        r'<textarea id="reply-body-\d+" name="body"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert found, "no reply editor on the page"
    return found.group(1)


def triggered(response) -> set[str]:
    """The htmx events a response's HX-Trigger header fires (names, or a JSON object)."""
    value = response.headers.get("HX-Trigger", "").strip()
    if value.startswith("{"):
        return set(json.loads(value))
    return {name.strip() for name in value.split(",") if name.strip()}


def detail_field(page: str, name: str) -> str:
    """The text of a `<dt>name</dt><dd>...</dd>` pair on a page, tags removed (entities
    stay escaped), whitespace collapsed."""
    found = re.search(rf"<dt>{re.escape(name)}</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    assert found, f"no {name!r} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
