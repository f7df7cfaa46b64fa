"""What the review queue shows beside each drafted text: compliance flags as they stand
now (a STOP may have come in, the recipient's hours move), token highlighting, CSV."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from console.models import Batch, Campaign, Lead, Message, MessageTemplate, Team
from console.models.base import utcnow
from console.services.sending.compliance import Gate, recipient_of
from console.services.sending.policy import SendingSettings

# Flags the gate decides; recomputed when the queue is shown instead of trusted.
GATE_CODES = frozenset(
    {
        "opted_out",
        "suppressed",
        "not_textable",
        "lead_closed",
        "quiet_hours",
        "recipient_cap",
        "sender_cap",
    }
)
LIVE_STATUSES = frozenset({"draft", "approved"})
FLAG_LABELS: dict[str, str] = {
    "opted_out": "Opted out",
    "suppressed": "Do not contact",
    "not_textable": "Landline or not textable",
    "lead_closed": "Lead closed",
    "quiet_hours": "Quiet hours now",
    "recipient_cap": "Frequency cap",
    "sender_cap": "Sender's daily cap",
    "fallback": "Fallback used",
    "missing": "Token left blank",
    "line_unchecked": "Line type not checked",
    "voip": "VoIP number",
    "ucs2": "Unicode (UCS-2)",
    "long": "3+ segments",
}


def flag_label(code: str) -> str:
    """A flag's short name for the queue's summary."""
    return FLAG_LABELS.get(code, code.replace("_", " "))


def live_flags(
    session: Session, batch: Batch, messages: list[Message], now: datetime | None = None
) -> dict[int, list]:
    """Each message's flags: content flags from drafting, gate flags as of now."""
    now = now or utcnow()
    waiting = [m for m in messages if m.status in LIVE_STATUSES]
    gate = Gate(session, batch.team_id, SendingSettings.of(session.get(Team, batch.team_id)))
    gate.prefetch([m.to_e164 for m in waiting])
    flags: dict[int, list] = {}
    for message in messages:
        kept = [f for f in message.flags or [] if f[0] not in GATE_CODES]
        if message.status in LIVE_STATUSES:
            decision = gate.decide(recipient_of(message.lead, message.to_e164), None, now)
            if not decision.allowed:
                level = "block" if decision.blocked else "hold"
                kept.insert(0, [decision.code, decision.reason, level])
        flags[message.id] = kept
    return flags


def highlighted(message: Message) -> list[tuple[str, str | None, bool]]:
    """The text cut at its token spans: (text, token or None, fallback used)."""
    if message.edited or not message.token_spans:
        return [(message.body, None, False)]
    parts, at = [], 0
    for start, end, token, fallback in message.token_spans:
        if start > at:
            parts.append((message.body[at:start], None, False))
        parts.append((message.body[start:end], token, bool(fallback)))
        at = end
    if at < len(message.body):
        parts.append((message.body[at:], None, False))
    return parts


def follow_up_templates(session: Session, campaign: Campaign) -> list[tuple[int, str]]:
    """The campaign's follow-ups in words: (after days, template name)."""
    out = []
    for touch in campaign.touches or []:
        template = session.get(MessageTemplate, int(touch.get("template_id") or 0))
        out.append((touch.get("after_days"), template.name if template else "(template removed)"))
    return out


MESSAGE_COLUMNS = (
    "message_id",
    "batch_id",
    "campaign_id",
    "touch",
    "template",
    "lead_code",
    "business",
    "to",
    "variant",
    "body",
    "edited",
    "segments",
    "encoding",
    "status",
    "flags",
    "hold_reason",
    "blocked_reason",
    "provider_sid",
    "provider_status",
    "error_code",
    "error_message",
    "cost_estimate",
    "price",
    "approved_at",
    "sent_at",
    "delivered_at",
)


def with_details(query):
    """A messages query that also loads what the CSV rows show (lead, business, template)."""
    return query.options(
        joinedload(Message.lead).joinedload(Lead.business),
        joinedload(Message.template),
    )


def team_messages(session: Session, team_id: int):
    """Every outbound text of a team, oldest first, with its lead and template."""
    query = with_details(select(Message).where(Message.team_id == team_id).order_by(Message.id))
    return session.scalars(query).unique()


def message_rows(messages: Iterable[Message]):
    """CSV rows of messages, with the lead they reached."""
    for m in messages:
        lead = m.lead
        yield (
            m.id,
            m.batch_id,
            m.campaign_id,
            m.touch,
            m.template.name if m.template else "",
            lead.code if lead else "",
            lead.business.name if lead and lead.business else "",
            m.to_e164,
            m.variant,
            m.body,
            "yes" if m.edited else "",
            m.segments,
            m.encoding,
            m.status,
            "; ".join(f[1] for f in m.flags or []),
            m.hold_reason,
            m.blocked_reason,
            m.provider_sid or "",
            m.provider_status,
            m.error_code or "",
            m.error_message,
            m.cost_estimate,
            m.price if m.price is not None else "",
            m.approved_at.isoformat() if m.approved_at else "",
            m.sent_at.isoformat() if m.sent_at else "",
            m.delivered_at.isoformat() if m.delivered_at else "",
        )
