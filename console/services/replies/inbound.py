"""An owner's text arriving: stored once, and, before the webhook answers, any opt-out
honoured and committed; then matched to its lead, conversation and inbox item.

Inside Twilio's request only what must not wait is done: storing the text (once per
MessageSid) with its team, and for opt-out, opt-in and help words the suppression or
its lifting (final the moment Twilio hears back), the one confirmation (the TwiML
answer, so it goes exactly once), stopping sequences and closing the item. An ordinary
reply is `attach`ed by the job (lead, conversation, sequences stopped, the inbox item)
before it is read and drafted (`console.services.replies.inbox.process_item`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, null, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import (
    ConsentEvent,
    Conversation,
    InboundMessage,
    InboxItem,
    Lead,
    Message,
    Phone,
    Sender,
    Suppression,
    Team,
)
from console.models.base import utcnow
from console.services import phones, twilio_fields
from console.services.campaigns import segments, templates
from console.services.campaigns.tokens import lead_values, parse, render
from console.services.deals import staleness
from console.services.replies import optout, personas, priority
from console.services.sending import sequences
from console.services.sending.delivery import suppress_number
from console.services.sending.policy import ReplySettings
from console.services.sql import insert_for

# Inbox items still being worked; a new text from the same number joins one of these.
OPEN_STATES = ("processing", "open", "escalated")
# How `_attach` marks a text whose number is (now) opted out.
OPTED_OUT = ("suppressed", "already")
# Lead statuses a reply moves forward to "replied".
REPLY_MOVES = ("new", "ready", "contacted")


@dataclass
class Reception:
    """What the webhook does with an inbound text: the TwiML reply (if any) and the work
    left for a job (`attach_and_read` of the inbound text, or `read` of its item)."""

    inbound_id: int | None = None
    item_id: int | None = None
    reply: str = ""
    handled: str = ""
    duplicate: bool = False
    deferred: bool = False

    @property
    def needs_job(self) -> bool:
        """The text must be attached and read (or its item read) in the background."""
        if self.deferred:
            return True
        return self.item_id is not None and self.handled in ("", "opted_in")


# What the request itself must act on; any other text is stored and left to the job.
ACTS_NOW = (optout.OPT_OUT, optout.OPT_IN, optout.HELP)
# A text whose matching failed or timed out this often is left for the console operator.
MAX_ATTACH_ATTEMPTS = 3


def receive(
    session: Session,
    form: Mapping[str, str],
    now: datetime | None = None,
    *,
    defer: bool = False,
) -> Reception:
    """Store one inbound text (once per MessageSid), act on opt-out words, commit.

    The caller answers Twilio with `reception.reply` as TwiML once this returns: by
    then the suppression, if any, is committed. With `defer` (the webhook), an ordinary
    reply is only stored, in two statements, and `attach` (matching the lead and
    conversation, the inbox item, stopping sequences) runs in the job; opt-out, opt-in
    and help words are always handled here.
    """
    now = now or utcnow()
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise ValueError("An inbound message needs a MessageSid.")
    sender_number = (form.get("From") or "").strip()
    from_e164 = phones.to_e164(sender_number) or sender_number[:16]
    to_address = (form.get("To") or "").strip()
    service_sid = (form.get("MessagingServiceSid") or "").strip()
    body = form.get("Body") or ""
    # Twilio never posts more than BODY_LIMIT; the start of a longer body (where any
    # opt-out is) is kept and flagged rather than refusing the whole text.
    truncated = len(body) > twilio_fields.BODY_LIMIT
    body = body[: twilio_fields.BODY_LIMIT]
    intent = optout.read(body)
    acts_now = not defer or intent.kind in ACTS_NOW
    # A text to a number no team owns is kept without a team (`unowned`), for the
    # console's operator; never given to a team that merely texted the owner. A text
    # the job attaches needs only its team, looked up inside the INSERT itself.
    if acts_now:
        sender = match_sender(session, to_address, service_sid)
        team = sender.team_id if sender is not None else None
    else:
        sender, team = None, _team_of(to_address, service_sid)
    stored = _store_once(
        session,
        team_id=team,
        provider_sid=sid,
        from_e164=from_e164,
        to_address=to_address[:40],
        messaging_service_sid=service_sid[:40],
        body=body,
        body_truncated=truncated,
        media=_media(form),
        intent=intent.kind,
        intent_exact=intent.exact,
        intent_matched=intent.matched[:80],
        received_at=now,
    )
    if stored is None:  # a replay, or the same SID in a concurrent request
        session.rollback()
        return Reception(duplicate=True)
    inbound_id, team_id = stored
    if team_id is None:
        session.commit()
        return Reception(inbound_id=inbound_id, handled="no_team")
    if not acts_now:
        session.commit()
        return Reception(inbound_id=inbound_id, deferred=True)
    inbound = session.get(InboundMessage, inbound_id)
    reception = _attach(session, inbound, sender, intent, now)
    session.commit()
    return reception


def _store_once(session: Session, **values) -> tuple[int, int | None] | None:
    """Insert the inbound text unless its SID is stored already; its id and team, or
    None."""
    statement = (
        insert_for(session)(InboundMessage.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(InboundMessage.id, InboundMessage.team_id)
    )
    # On the session's connection: the ORM's bulk-insert path adds nothing a Core row needs.
    row = session.connection().execute(statement).first()
    return None if row is None else (row.id, row.team_id)


def _team_of(to_address: str, service_sid: str) -> ColumnElement:
    """The team `match_sender` finds, as a scalar subquery for the INSERT (NULL: none)."""
    teams = [
        select(Sender.team_id).where(Sender.address == address).scalar_subquery()
        for address in (to_address, service_sid)
        if address
    ]
    if not teams:
        return null()
    return teams[0] if len(teams) == 1 else func.coalesce(*teams)


def attach(session: Session, inbound_id: int, now: datetime | None = None) -> int | None:
    """The job's first step for a deferred text: match it to its lead and conversation,
    stop the lead's sequences and put it in the inbox; commit. Returns the inbox item
    to read (None when another run attached it and a newer text took the item over)."""
    now = now or utcnow()
    # Counted and committed on its own, so an attempt that crashes its job still counts.
    counted = session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.id == inbound_id,
            InboundMessage.conversation_id.is_(None),
            InboundMessage.attach_attempts < MAX_ATTACH_ATTEMPTS,
        )
        .values(attach_attempts=InboundMessage.attach_attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    # The claim holds the row until the commit, so two runs never both attach it.
    claimed = (
        counted
        and session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.conversation_id.is_(None))
            .values(handled="attaching")
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    inbound = session.get(InboundMessage, inbound_id, populate_existing=True)
    if inbound is None or inbound.team_id is None:
        session.commit()
        return None
    if not claimed or inbound.conversation_id is not None:
        session.commit()
        return session.scalar(
            select(InboxItem.id).where(
                InboxItem.inbound_id == inbound_id, InboxItem.state == "processing"
            )
        )
    sender = match_sender(session, inbound.to_address, inbound.messaging_service_sid)
    if sender is not None and sender.team_id != inbound.team_id:
        sender = None  # the address changed hands since the text was stored
    intent = optout.Intent(inbound.intent, inbound.intent_exact, inbound.intent_matched)
    reception = _attach(session, inbound, sender, intent, now)
    session.commit()
    return reception.item_id


def unattached(session: Session, older_than: datetime, limit: int = 200) -> list[int]:
    """Stored texts whose job never attached them (Redis lost it, a worker died), and
    that have attempts left."""
    return list(
        session.scalars(
            select(InboundMessage.id)
            .where(
                InboundMessage.team_id.is_not(None),
                InboundMessage.conversation_id.is_(None),
                InboundMessage.attach_attempts < MAX_ATTACH_ATTEMPTS,
                InboundMessage.received_at < older_than,
            )
            .order_by(InboundMessage.id)
            .limit(limit)
        )
    )


def stuck(session: Session, limit: int = 100) -> list[InboundMessage]:
    """Team texts that every attempt failed to match to a lead, newest first: kept for
    the console operator (`flask unmatched-inbound --stuck`), never retried again."""
    return list(
        session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.team_id.is_not(None),
                InboundMessage.conversation_id.is_(None),
                InboundMessage.attach_attempts >= MAX_ATTACH_ATTEMPTS,
            )
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(limit)
        )
    )


def unowned(session: Session, limit: int = 100) -> list[InboundMessage]:
    """Texts to a number no team owns, newest first: the console operator's to see
    (`flask unmatched-inbound`), never a team's."""
    return list(
        session.scalars(
            select(InboundMessage)
            .where(InboundMessage.team_id.is_(None))
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(limit)
        )
    )


def _attach(
    session: Session,
    inbound: InboundMessage,
    sender: Sender | None,
    intent: optout.Intent,
    now: datetime,
) -> Reception:
    """Conversation, lead, opt-out/in/help handling and the inbox item of a stored text."""
    team_id, from_e164 = inbound.team_id, inbound.from_e164
    conversation = _conversation(session, team_id, from_e164, sender, inbound.received_at)
    inbound.conversation_id = conversation.id
    inbound.lead_id = conversation.lead_id
    conversation.inbound_count += 1
    if conversation.last_inbound_at is None or conversation.last_inbound_at < inbound.received_at:
        conversation.last_inbound_at = inbound.received_at
    if conversation.lead_id is not None:  # a reply is activity on the lead's open deal
        staleness.touch(session, team_id, inbound.received_at, lead_id=conversation.lead_id)
    settings = ReplySettings.of(session.get(Team, team_id))
    reception = Reception(inbound_id=inbound.id)
    if intent.kind == "opt_out":
        reception.reply, reception.handled = _opt_out(session, conversation, intent, settings)
    elif intent.kind == "opt_in" and _suppressed_by_owner(session, team_id, from_e164):
        reception.reply, reception.handled = _opt_in(session, conversation, intent, settings)
    elif intent.kind == "help" and intent.exact:
        reception.handled = "help"
        if not settings.twilio_advanced_opt_out:
            reception.reply = _team_text(
                session, conversation, settings.help_text or personas.HELP_TEXT
            )
    inbound.handled = reception.handled
    if reception.handled != "help":
        if reception.handled not in OPTED_OUT:  # `_opt_out` stopped everything already
            _lead_replied(session, conversation, now)
        item = _inbox_item(session, conversation, inbound, reception.handled, now)
        reception.item_id = item.id
    if reception.reply:
        _record_answer(session, conversation, reception.reply, now)
    return reception


def match_sender(session: Session, to_address: str, service_sid: str) -> Sender | None:
    """The sender the text was sent to: the number it went to, else its Messaging
    Service. An address belongs to one team, so that team alone gets the text."""
    for address in (to_address, service_sid):
        if not address:
            continue
        sender = session.scalars(select(Sender).where(Sender.address == address)).first()
        if sender is not None:
            return sender
    return None


def _media(form: Mapping[str, str]) -> list[str]:
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    return [form[f"MediaUrl{i}"] for i in range(min(count, 10)) if form.get(f"MediaUrl{i}")]


def match_lead(session: Session, team_id: int, e164: str) -> tuple[int | None, Message | None]:
    """The lead a number belongs to: the lead last texted at it, else the lead whose
    owner or business has the number (the most recently contacted). Also returns the
    last text sent to the number, for the campaign and sender."""
    last = session.scalars(
        select(Message)
        .where(
            Message.team_id == team_id,
            Message.to_e164 == e164,
            Message.sent_at.is_not(None),
            Message.kind == "campaign",
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    ).first()
    if last is not None and last.lead_id is not None:
        return last.lead_id, last
    owners, businesses = set(), set()
    for owner_id, business_id in session.execute(
        select(Phone.owner_id, Phone.business_id).where(
            Phone.team_id == team_id, Phone.e164 == e164
        )
    ):
        if owner_id:
            owners.add(owner_id)
        if business_id:
            businesses.add(business_id)
    if not owners and not businesses:
        return None, last
    lead_id = session.scalar(
        select(Lead.id)
        .where(
            Lead.team_id == team_id,
            or_(Lead.owner_id.in_(owners), Lead.business_id.in_(businesses)),
        )
        .order_by(Lead.last_contacted_at.desc().nulls_last(), Lead.id.desc())
        .limit(1)
    )
    return lead_id, last


def _conversation(
    session: Session, team_id: int, e164: str, sender: Sender | None, now: datetime
) -> Conversation:
    """The team's conversation with a number, started on its first text."""
    found = session.scalars(
        select(Conversation).where(Conversation.team_id == team_id, Conversation.e164 == e164)
    ).first()
    if found is not None:
        if found.lead_id is None:
            found.lead_id, _ = match_lead(session, team_id, e164)
        return found
    lead_id, last = match_lead(session, team_id, e164)
    conversation = Conversation(
        team_id=team_id,
        e164=e164,
        lead_id=lead_id,
        sender_id=(last.sender_id if last is not None else None) or (sender.id if sender else None),
        campaign_id=last.campaign_id if last is not None else None,
        last_outbound_at=last.sent_at if last is not None else None,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:  # a text from the same number in a concurrent request
        return session.scalars(
            select(Conversation).where(Conversation.team_id == team_id, Conversation.e164 == e164)
        ).one()
    return conversation


def _opt_out(
    session: Session, conversation: Conversation, intent: optout.Intent, settings: ReplySettings
) -> tuple[str, str]:
    """Suppress the number (once) and stop everything to it; the confirmation, if due."""
    team_id, e164 = conversation.team_id, conversation.e164
    source = f"Reply: {intent.matched}"[:60]
    suppression = suppress_number(
        session, team_id, e164, reason="opt_out", source=source, lead_id=conversation.lead_id
    )
    if conversation.lead_id is not None:
        lead = session.get(Lead, conversation.lead_id)
        if lead is not None:
            lead.status = "do_not_contact"
            sequences.stop_for_lead(session, team_id, lead.id, "opted_out", source)
    if not suppression.created:
        return "", "already"
    if intent.exact and settings.twilio_advanced_opt_out:
        return "", "suppressed"
    text = settings.opt_out_confirmation or personas.OPT_OUT_CONFIRMATION
    return _team_text(session, conversation, text), "suppressed"


def _suppressed_by_owner(session: Session, team_id: int, e164: str) -> bool:
    """The number opted itself out (only its own START lifts that; a team's DNC stays)."""
    return bool(
        session.scalar(
            select(Suppression.id).where(
                Suppression.team_id == team_id,
                Suppression.e164 == e164,
                Suppression.reason == "opt_out",
            )
        )
    )


def _opt_in(
    session: Session, conversation: Conversation, intent: optout.Intent, settings: ReplySettings
) -> tuple[str, str]:
    """The number asked to hear from the team again: lift its opt-out, record consent."""
    team_id, e164 = conversation.team_id, conversation.e164
    session.execute(
        delete(Suppression).where(
            Suppression.team_id == team_id,
            Suppression.e164 == e164,
            Suppression.reason == "opt_out",
        )
    )
    session.add(
        ConsentEvent(
            team_id=team_id,
            e164=e164,
            kind="opt_in",
            source=f"Reply: {intent.matched}"[:60],
            detail="Opted back in by a text from the number itself.",
            lead_id=conversation.lead_id,
        )
    )
    if conversation.lead_id is not None:
        lead = session.get(Lead, conversation.lead_id)
        if lead is not None and lead.status == "do_not_contact":
            lead.status = "replied"
    if intent.exact and settings.twilio_advanced_opt_out:
        return "", "opted_in"
    text = settings.opt_in_confirmation or personas.OPT_IN_CONFIRMATION
    return _team_text(session, conversation, text), "opted_in"


def _team_text(session: Session, conversation: Conversation, text: str) -> str:
    """A confirmation or help text with the team's name filled in."""
    team = session.get(Team, conversation.team_id)
    sender_name = templates.sender_name(team)
    values = {"senderName": sender_name}
    # The lead's owner and business are read only for a text that names them.
    if conversation.lead_id and any(name not in (None, "senderName") for _, name, _ in parse(text)):
        lead = session.get(Lead, conversation.lead_id)
        values = lead_values(lead, sender_name) if lead is not None else values
    return render(text, values).text.strip()


def _lead_replied(session: Session, conversation: Conversation, now: datetime) -> None:
    """A reply ends the lead's sequences; the lead moves to "replied"."""
    if conversation.lead_id is None:
        return
    lead = session.get(Lead, conversation.lead_id)
    if lead is None:
        return
    if lead.status in REPLY_MOVES:
        lead.status = "replied"
    sequences.stop_for_lead(session, lead.team_id, lead.id, "replied", "The owner replied.")


def _inbox_item(
    session: Session,
    conversation: Conversation,
    inbound: InboundMessage,
    handled: str,
    now: datetime,
) -> InboxItem:
    """The conversation's open item (a new text joins it), or a new one."""
    item = session.scalars(
        select(InboxItem)
        .where(
            InboxItem.conversation_id == conversation.id,
            InboxItem.state.in_(OPEN_STATES),
        )
        .order_by(InboxItem.id.desc())
        .limit(1)
    ).first()
    if item is None:
        item = InboxItem(
            team_id=conversation.team_id,
            conversation_id=conversation.id,
            campaign_id=conversation.campaign_id,
            created_at=now,
        )
        session.add(item)
    newer = item.inbound_id is None or item.inbound_id == inbound.id
    if not newer:
        current = session.get(InboundMessage, item.inbound_id)
        newer = current is None or current.received_at <= inbound.received_at
    if newer:  # texts attached out of order keep the item on the newest
        item.inbound_id = inbound.id
    item.lead_id = conversation.lead_id
    item.unmatched = conversation.lead_id is None
    if handled in OPTED_OUT:
        item.state, item.resolution = "done", "opted_out"
        item.label, item.confidence, item.opt_out = "STOP", 100, True
        item.classified_by, item.route = "rules", "suppressed"
        # The bucket follows the priority the item already has (one table of boundaries).
        item.bucket, _ = priority.bucket_for(item.priority or 0)
        item.extracted = {}
        item.resolved_at = item.ready_at = now
        if item.id is not None:  # a new item has no drafts yet
            _supersede_drafts(session, item)
    else:
        item.state = "processing"
    session.flush()
    return item


def _supersede_drafts(session: Session, item: InboxItem) -> None:
    from console.models import Draft

    for draft in session.scalars(
        select(Draft).where(Draft.item_id == item.id, Draft.state == "proposed")
    ):
        draft.state = "superseded"


def _record_answer(session: Session, conversation: Conversation, text: str, now) -> None:
    """Keep the TwiML answer (confirmation or help) in the conversation as sent."""
    measure = segments.measure(text)
    sender = session.get(Sender, conversation.sender_id) if conversation.sender_id else None
    session.add(
        Message(
            team_id=conversation.team_id,
            kind="confirmation",
            conversation_id=conversation.id,
            lead_id=conversation.lead_id,
            sender_id=conversation.sender_id,
            to_e164=conversation.e164,
            body=text,
            rendered_body=text,
            segments=measure.segments,
            encoding=measure.encoding,
            status="sent",
            provider_status="twiml",
            from_address=sender.address if sender is not None else "",
            sent_at=now,
            status_at=now,
        )
    )
    conversation.last_outbound_at = now
