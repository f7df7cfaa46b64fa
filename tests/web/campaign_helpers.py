"""Factories for the campaign, batch and status-webhook tests: leads with mobiles, a
template with two variants, the team's sender, the builder's form, campaigns built
through the builder (or, for another team, through the service), drafted batches and
sent messages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask import Flask
from sqlalchemy import select

from console.extensions import db
from console.models import (
    Batch,
    Campaign,
    Lead,
    Message,
    MessageTemplate,
    Sender,
    Team,
)
from console.models.base import utcnow
from console.services.campaigns import batches, campaigns
from console.services.sending import policy
from jobs.worker import drain
from tests.conftest import make_lead

OPENER = (
    "Hi {firstName|there}, {senderName} here. Thinking of selling "
    "{companyName|your business}? Reply STOP to opt out"
)
VARIANT_B = "Hello {firstName|there}! Any interest in selling {companyName}? Reply STOP to opt out"


def mobile(n: int) -> str:
    """A fictional Austin mobile (555 exchange)."""
    return f"+1512555{n:04d}"


def make_template(
    team: Team, name: str = "Opener", body: str = OPENER, variants: tuple[str, ...] = (VARIANT_B,)
) -> MessageTemplate:
    """A committed first-touch template of `team` with variant A (`body`) and `variants`."""
    template = MessageTemplate(team_id=team.id, name=name, body=body, variants=list(variants))
    db.session.add(template)
    db.session.commit()
    return template


def team_sender(app: Flask, team: Team) -> Sender:
    """The team's sender (the sandbox number the builder would give it), committed."""
    sender = policy.ensure_default_sender(db.session, team, app.config)
    db.session.commit()
    return sender


def make_leads(team: Team, count: int, start: int = 0, name: str = "Lake {n} Plumbing LLC"):
    """`count` committed leads of `team` in Texas, each with its owner's own mobile."""
    return [
        make_lead(team, name.format(n=n), owner_name=f"Dana Owner{n}", mobile=mobile(n))
        for n in range(start, start + count)
    ]


def set_manager_limit(team: Team, limit: int) -> None:
    """Batches over `limit` texts need a manager (Settings > Sending), committed."""
    settings = policy.SendingSettings.of(team)
    settings.manager_approval_over = limit
    settings.save(team)
    db.session.commit()


def builder_form(template: MessageTemplate, sender: Sender, **changes) -> dict:
    """A valid campaign-builder post (every lead, variant A only), with `changes`."""
    form = {
        "name": "Spring owners",
        "persona": "GIANNA",
        "template_id": template.id,
        "sender_id": sender.id,
        "split_a": 100,
        "recent_contact_days": 30,
        "batch_size": 500,
        "daily_cap": 0,
        "touch1_template": 0,
        "touch2_template": 0,
        "touch3_template": 0,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def create_campaign(client, template: MessageTemplate, sender: Sender, **changes) -> Campaign:
    """Build a campaign through the builder's form; the saved row."""
    response = client.post("/campaigns/new", data=builder_form(template, sender, **changes))
    assert response.status_code == 302, response.text
    campaign_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return db.session.get(Campaign, campaign_id)


def add_campaign(team: Team, template: MessageTemplate, sender: Sender, **values) -> Campaign:
    """A committed campaign of `team` made by the service (for another team's data)."""
    saved = {
        "name": "Rival push",
        "persona": "GIANNA",
        "criteria": campaigns.Criteria(),
        "recent_contact_days": 30,
        "template_id": template.id,
        "split": {},
        "sender_id": sender.id,
        "start_at": None,
        "daily_cap": 0,
        "batch_size": 500,
        "touches": [],
    } | values
    campaign = campaigns.save_campaign(db.session, team.id, saved, None)
    db.session.commit()
    return campaign


def draft_batch(client, app: Flask, campaign: Campaign) -> Batch:
    """Draft the campaign's next batch through the page and run the drafting job."""
    response = client.post(f"/campaigns/{campaign.id}/batches")
    assert response.status_code == 302, response.text
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    drain(app)
    db.session.expire_all()
    batch = db.session.get(Batch, batch_id)
    assert batch.status == "in_review", batch.status
    return batch


def generate_batch(campaign: Campaign) -> Batch:
    """Draft a campaign's next batch with the service, no page or job (another team's)."""
    batch = batches.create_batch(db.session, campaign, None)
    db.session.commit()
    return batches.generate(db.session, batch.id)


def messages_of(batch: Batch) -> list[Message]:
    """The batch's messages, as stored now, in queue order."""
    db.session.expire_all()
    return list(
        db.session.scalars(select(Message).where(Message.batch_id == batch.id).order_by(Message.id))
    )


def lead_of(message: Message) -> Lead:
    """The lead a message goes to."""
    return db.session.get(Lead, message.lead_id)


def sent_message(team: Team, sid: str, to: str = "+15125550199", **values) -> Message:
    """A committed text that Twilio took (status sent, provider status queued)."""
    text = "Hi Dana, thinking of selling? Reply STOP to opt out"
    fields = {
        "team_id": team.id,
        "to_e164": to,
        "body": text,
        "rendered_body": text,
        "status": "sent",
        "provider_sid": sid,
        "provider_status": "queued",
        "from_address": "+15125550100",
        "sent_at": utcnow(),
    }
    message = Message(**(fields | values))
    db.session.add(message)
    db.session.commit()
    return message


def row_html(page: str, message_id: int) -> str:
    """The queue row of one message in a page."""
    match = re.search(rf'<tr id="message-{message_id}".*?</tr>', page, re.S)
    assert match, f"no row for message {message_id}"
    return match.group(0)


def audience_counts(fragment: str) -> dict[str, int]:
    """The builder's live count as numbers: each exclusion's label, plus "Match the
    criteria", "Left out" and "Can be texted"."""
    counts = {
        label: int(number.replace(",", ""))
        for label, number in re.findall(
            r'<th scope="row">([^<]+)</th><td class="num">([\d,]+)</td>', fragment
        )
    }
    for label, number in re.findall(r"<dt>([^<]+)</dt><dd>(?:<strong>)?([\d,]+)", fragment):
        counts[label] = int(number.replace(",", ""))
    return counts


class FormReader(HTMLParser):
    """The values a browser would post from the page's first form of class `form_class`."""

    def __init__(self, form_class: str) -> None:
        super().__init__()
        self.form_class = form_class
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "form" and not self._done and self.form_class in classes:
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((name, a.get("value") or "y"))
            elif kind not in ("submit", "button"):
                self.values.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and self._options:
                chosen = [self._options[0][0]]  # a browser posts the first option
            self.values.extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_values(page: str, form_class: str) -> list[tuple[str, str]]:
    """What posting the page's form of class `form_class` unchanged would send."""
    reader = FormReader(form_class)
    reader.feed(page)
    assert reader.values, f"no form of class {form_class!r} on the page"
    return reader.values


def approve_all(client, batch: Batch, **kwargs):
    """Post "Approve all" for the batch as the signed-in user, agreeing to the question
    it asks ("Approve all N texts?") with the number of drafts waiting now."""
    waiting = sum(message.status == "draft" for message in messages_of(batch))
    return client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "all", "confirm": waiting},
        **kwargs,
    )
