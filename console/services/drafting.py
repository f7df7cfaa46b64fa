"""Drafting a reply in a persona's voice: Claude when configured, else (or when Claude is
slow, failing or breaks a guardrail) the persona's template for the reply's label.

The persona's system prompt is the same bytes for every call of a team, so prompt
caching serves it; the lead's facts and the conversation go in the user message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Conversation, Draft, InboundMessage, InboxItem, Lead, Message, Team
from console.providers.claude import Claude, ModelFailure
from console.services import personas, segments, templates
from console.services.classify import LABEL_NAMES
from console.services.outreach import ReplySettings
from console.services.tokens import lead_values

# Drafts over this many segments are cut back to the template (guardrail: short).
MAX_SEGMENTS = 2
HISTORY = 12
# JSON, placeholders or markup: a broken answer, not a text for an owner.
_MARKUP = re.compile(r"[{}\[\]<>]")
_LINK = re.compile(r"(https?://|www\.)|\b[\w-]+\.(com|net|org|io|co|us|biz)\b", re.IGNORECASE)
_PRICE = re.compile(r"\$\s?\d|\b\d+(\.\d+)?\s?(k|m|mm|million|thousand)\b|\bmultiple of\b", re.I)


@dataclass(frozen=True)
class Turn:
    """One text in a conversation, for the prompt and the page."""

    direction: str  # "in" or "out"
    body: str
    at: object


def history(session: Session, conversation: Conversation, limit: int = HISTORY) -> list[Turn]:
    """The conversation's last texts, oldest first: what the owner sent and every text
    that went to the number (campaign touches, replies, confirmations)."""
    ins = session.execute(
        select(InboundMessage.body, InboundMessage.received_at)
        .where(InboundMessage.conversation_id == conversation.id)
        .order_by(InboundMessage.received_at.desc())
        .limit(limit)
    ).all()
    outs = session.execute(
        select(Message.body, Message.sent_at)
        .where(
            Message.team_id == conversation.team_id,
            Message.to_e164 == conversation.e164,
            Message.sent_at.is_not(None),
        )
        .order_by(Message.sent_at.desc())
        .limit(limit)
    ).all()
    turns = [Turn("in", b, t) for b, t in ins] + [Turn("out", b, t) for b, t in outs]
    return sorted(turns, key=lambda turn: turn.at)[-limit:]


def lead_facts(lead: Lead | None) -> str:
    """What the persona may know about the lead, one fact a line."""
    if lead is None:
        return "Unknown: this number matches no lead on file."
    business, owner = lead.business, lead.owner
    facts = []
    if owner is not None and (owner.full_name or owner.first_name):
        facts.append(f"Owner: {owner.full_name or owner.first_name}")
        if owner.title:
            facts.append(f"Title: {owner.title}")
    if business is not None:
        facts.append(f"Business: {business.name}")
        if business.industry:
            facts.append(f"Industry: {business.industry}")
        place = ", ".join(p for p in (business.city, business.state) if p)
        if place:
            facts.append(f"Location: {place}")
        if business.employees_low or business.employees_high:
            facts.append(
                f"Employees: {business.employees_low or '?'}-{business.employees_high or '?'}"
            )
    return "\n".join(facts) or "No details on file."


def write_draft(
    session: Session,
    item: InboxItem,
    *,
    claude: Claude | None,
    model: str,
    settings: ReplySettings,
) -> Draft | None:
    """Propose a reply for an item (none for an opt-out); earlier proposals are superseded."""
    for old in session.scalars(
        select(Draft).where(Draft.item_id == item.id, Draft.state == "proposed")
    ):
        old.state = "superseded"
    if item.label == "STOP" or item.opt_out:
        return None
    team = session.get(Team, item.team_id)
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    sender_name = templates.sender_name(team)
    values = lead_values(lead, sender_name) if lead is not None else {"senderName": sender_name}
    fallback = personas.fallback_reply(item.persona, item.label, values)
    draft = Draft(team_id=item.team_id, item_id=item.id, persona=item.persona, label=item.label)
    session.add(draft)
    reason = ""
    if claude is None:
        reason = "No Anthropic key is configured: the persona's template."
    elif not settings.ai_enabled:
        reason = "AI drafts are turned off for the team: the persona's template."
    else:
        reason = _ask_claude(session, draft, item, lead, claude, model, settings, sender_name)
    if reason:
        draft.source, draft.body, draft.fallback_reason = "template", fallback, reason[:255]
    return draft


def _ask_claude(session, draft, item, lead, claude, model, settings, sender_name) -> str:
    """Fill the draft from Claude; returns why the template must stand instead, or ""."""
    system = personas.system_blocks(
        item.persona, team_name=sender_name, allow_links=settings.allow_links, link=settings.link
    )
    turns = history(session, item.conversation)
    transcript = (
        "\n".join(f"{'Owner' if t.direction == 'in' else 'Us'}: {t.body}" for t in turns)
        or "(no texts on record)"
    )
    extracted = ", ".join(f"{k}: {v}" for k, v in (item.extracted or {}).items()) or "nothing"
    prompt = (
        f"About the lead:\n{lead_facts(lead)}\n\n"
        f"The conversation so far:\n{transcript}\n\n"
        f"Their last text reads as: {LABEL_NAMES.get(item.label, item.label)}; "
        f"details they gave: {extracted}.\n\n"
        "Write our next text. Reply with the text only."
    )
    try:
        answer = claude.ask(
            model=model,
            system=system,
            messages=[{"role": "user", "content": prompt}],
            max_tokens=250,
        )
    except ModelFailure as failure:
        return f"{failure}: the persona's template."
    draft.model = answer.model
    draft.input_tokens = answer.input_tokens
    draft.output_tokens = answer.output_tokens
    draft.cache_read_tokens = answer.cache_read_tokens
    draft.cache_write_tokens = answer.cache_write_tokens
    draft.latency_ms = answer.latency_ms
    text = tidy(answer.text)
    broken = guardrail_breach(text, allow_links=settings.allow_links)
    if broken:
        return f"Claude's draft {broken}: the persona's template."
    draft.source, draft.body = "ai", text
    return ""


def tidy(text: str) -> str:
    """Claude's text as an SMS: plain punctuation, no wrapping quotes or labels."""
    text = segments.plain((text or "").strip())
    text = re.sub(r"^(reply|text|sms|draft)\s*:\s*", "", text, flags=re.IGNORECASE)
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return re.sub(r"[ \t]+", " ", text)


def guardrail_breach(text: str, *, allow_links: bool) -> str:
    """What in a draft breaks the guardrails, in words; "" when nothing does."""
    if not text:
        return "was empty"
    measured = segments.measure(text)
    if measured.segments > MAX_SEGMENTS:
        return f"ran to {measured.segments} segments"
    if not allow_links and _LINK.search(text):
        return "carried a link"
    if _PRICE.search(text):
        return "named a figure"
    if _MARKUP.search(text):
        return "was not plain text (braces, brackets or markup)"
    return ""
