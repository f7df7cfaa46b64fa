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

from console.models import (
    Conversation,
    Draft,
    InboundMessage,
    InboxItem,
    Lead,
    Message,
    Sender,
    Team,
    User,
)
from console.providers.claude import Claude, ModelFailure
from console.services.campaigns import segments, templates
from console.services.campaigns.tokens import lead_values
from console.services.replies import personas
from console.services.replies.classify import LABEL_NAMES
from console.services.sending.policy import ReplySettings

NO_KEY = "No Anthropic key is configured: the persona's template."
AI_OFF = "AI drafts are turned off for the team: the persona's template."
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


@dataclass(frozen=True)
class DraftContext:
    """What a draft is written from, read from the database before Claude is asked (so
    no transaction is open while Claude thinks)."""

    team_id: int
    sender_name: str  # the team's name, for the persona's prompt
    values: dict[str, str]  # the lead's token values; {senderName} is the person who signs
    facts: str
    transcript: str


@dataclass(frozen=True)
class Proposal:
    """A draft before it is stored: its text and where it came from."""

    body: str
    source: str
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: int = 0
    fallback_reason: str = ""


def prepare(
    session: Session, conversation: Conversation, lead: Lead | None, signer: User | None = None
) -> DraftContext:
    """Read what a draft needs: the team's name, the lead's values and facts, the texts.

    {senderName} is the conversation's sender's signing name, else `signer`'s name (the
    teammate who answers), else blank so the template's fallback is used.
    """
    team = session.get(Team, conversation.team_id)
    sender_name = templates.sender_name(team)
    sender = session.get(Sender, conversation.sender_id) if conversation.sender_id else None
    signed = templates.signing_name(sender, signer)
    values = lead_values(lead, signed) if lead is not None else {"senderName": signed}
    turns = history(session, conversation)
    transcript = (
        "\n".join(f"{'Owner' if t.direction == 'in' else 'Us'}: {t.body}" for t in turns)
        or "(no texts on record)"
    )
    return DraftContext(conversation.team_id, sender_name, values, lead_facts(lead), transcript)


def compose(
    context: DraftContext,
    *,
    persona: str,
    label: str,
    extracted: dict,
    claude: Claude | None,
    model: str,
    settings: ReplySettings,
) -> Proposal:
    """Claude's draft in the persona's voice, or the persona's template and why."""
    fallback = personas.fallback_reply(persona, label, context.values)
    if claude is None:
        return Proposal(fallback, "template", fallback_reason=NO_KEY)
    if not settings.ai_enabled:
        return Proposal(fallback, "template", fallback_reason=AI_OFF)
    system = personas.system_blocks(
        persona,
        team_name=context.sender_name,
        allow_links=settings.allow_links,
        link=settings.link,
    )
    details = ", ".join(f"{k}: {v}" for k, v in (extracted or {}).items()) or "nothing"
    prompt = (
        f"About the lead:\n{context.facts}\n\n"
        f"The conversation so far:\n{context.transcript}\n\n"
        f"Their last text reads as: {LABEL_NAMES.get(label, label)}; "
        f"details they gave: {details}.\n\n"
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
        return Proposal(fallback, "template", fallback_reason=f"{failure}: the persona's template.")
    usage = {
        "model": answer.model,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cache_read_tokens": answer.cache_read_tokens,
        "cache_write_tokens": answer.cache_write_tokens,
        "latency_ms": answer.latency_ms,
    }
    text = tidy(answer.text)
    broken = guardrail_breach(text, allow_links=settings.allow_links)
    if broken:
        reason = f"Claude's draft {broken}: the persona's template."
        return Proposal(fallback, "template", fallback_reason=reason, **usage)
    return Proposal(text, "ai", **usage)


def record(session: Session, item: InboxItem, proposal: Proposal | None) -> Draft | None:
    """Store a proposal as the item's draft; earlier proposals are superseded."""
    for old in session.scalars(
        select(Draft).where(Draft.item_id == item.id, Draft.state == "proposed")
    ):
        old.state = "superseded"
    if proposal is None:
        return None
    draft = Draft(
        team_id=item.team_id,
        item_id=item.id,
        persona=item.persona,
        label=item.label,
        body=proposal.body,
        source=proposal.source,
        model=proposal.model,
        input_tokens=proposal.input_tokens,
        output_tokens=proposal.output_tokens,
        cache_read_tokens=proposal.cache_read_tokens,
        cache_write_tokens=proposal.cache_write_tokens,
        latency_ms=proposal.latency_ms,
        fallback_reason=proposal.fallback_reason[:255],
    )
    session.add(draft)
    return draft


def write_draft(
    session: Session,
    item: InboxItem,
    *,
    claude: Claude | None,
    model: str,
    settings: ReplySettings,
) -> Draft | None:
    """Prepare, compose and record a draft for an item in one go (none for an opt-out).

    The inbox job does the three steps apart so that no transaction is open while
    Claude writes; this is for callers that hold no locks worth minding.
    """
    if item.label == "STOP" or item.opt_out:
        return record(session, item, None)
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    context = prepare(session, item.conversation, lead, answerer(session, item, lead))
    proposal = compose(
        context,
        persona=item.persona,
        label=item.label,
        extracted=item.extracted or {},
        claude=claude,
        model=model,
        settings=settings,
    )
    return record(session, item, proposal)


def answerer(session: Session, item: InboxItem, lead: Lead | None) -> User | None:
    """The teammate who answers an item: its assignee, else the lead's, else nobody."""
    user_id = item.assignee_id or (lead.assignee_id if lead is not None else None)
    return session.get(User, user_id) if user_id else None


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
