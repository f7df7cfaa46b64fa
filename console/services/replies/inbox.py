"""The inbox: reading replies in the background, and what reviewers do with them.

`process_item` is the job behind the webhook: it reads the reply (rules, then Claude),
sets the priority, bucket, route and deadline, picks the persona from the
conversation's stage, drafts a reply and, only if the team turned auto-send on and
every rule allows it, sends it. The actions (send, archive, escalate, suppress,
callback, deal, assign) are what the inbox page and its keyboard call; every send
goes through the same compliance gate and dispatcher as campaign texts. What the page
lists and counts is read in `inbox_list`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from console.models import (
    Conversation,
    Deal,
    Draft,
    InboxItem,
    Lead,
    Message,
    Sender,
    Suppression,
    Team,
    User,
)
from console.models.base import utcnow
from console.models.campaigns import REPLY_KINDS
from console.providers.claude import Claude
from console.services import audit
from console.services.campaigns import segments
from console.services.deals import deals, tasks
from console.services.replies import contacts, drafting, personas, priority, reading
from console.services.replies.classify import POSITIVE_LABELS
from console.services.sending import sequences
from console.services.sending.compliance import Gate, recipient_of
from console.services.sending.delivery import suppress_number
from console.services.sending.dispatch import REPLY_OPEN_STATUSES
from console.services.sending.policy import ReplySettings, SendingSettings, team_senders

# Never sent without a person, whatever the team's auto-send setting says.
AUTO_SEND_NEVER = frozenset(
    {"STOP", "PRICE_INQUIRY", "CALLBACK_REQUEST", "UNCLEAR", "WRONG_NUMBER", "NOT_OWNER"}
)
WORKING_STATES = ("open", "escalated")
# Labels that make a lead "interested"; statuses a reply may move forward from.
# The readings of an owner who wants to talk (classify.POSITIVE_LABELS: one home).
INTERESTED = frozenset(POSITIVE_LABELS)
REPLY_MOVES = ("new", "ready", "contacted", "replied")
READ_AGAIN = "a newer text arrived; read again"
# A reading that failed or timed out this often is not tried again: a person reads it.
MAX_READ_ATTEMPTS = 3
UNREADABLE = "could not be read"


class InboxProblem(ValueError):
    """An action that cannot be done, in words for the reviewer."""


@dataclass(frozen=True)
class Models:
    """Which Claude models to use, and the client (None when no key is configured)."""

    claude: Claude | None
    classify: str
    draft: str


# -- the job ------------------------------------------------------------------------


def process_item(
    session: Session, item_id: int, models: Models, now: datetime | None = None
) -> str:
    """Read, prioritize and draft one inbox item; idempotent (a read item is left alone).

    Three steps, so that no transaction is open while Claude reads and writes (a STOP
    arriving meanwhile must never wait on this job): read what is needed and end the
    transaction; ask Claude (or the rules and templates); store the result in one short
    transaction, unless a newer text joined the item meanwhile.
    """
    item = session.get(InboxItem, item_id)
    if item is None or item.state != "processing":
        return "nothing to read"
    if (item.read_attempts or 0) >= MAX_READ_ATTEMPTS:
        _give_up_reading(item)
        session.commit()
        return UNREADABLE
    # Counted before reading, so a reading that kills its job still counts.
    item.read_attempts = (item.read_attempts or 0) + 1
    inbound_id = item.inbound_id
    conversation = item.conversation
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    last_out = _last_outbound(session, conversation)
    settings = ReplySettings.of(session.get(Team, item.team_id))
    claude = models.claude if settings.ai_enabled else None
    body, received_at = item.inbound.body, item.inbound.received_at
    touches = _touches_sent(session, conversation)
    earlier_replies = (conversation.inbound_count or 0) > 1
    lead_score = lead.quality_score if lead is not None else None
    title = lead.owner.title if lead is not None and lead.owner is not None else ""
    our_last = (last_out.body, last_out.sent_at) if last_out is not None else ("", None)
    context = drafting.prepare(session, conversation, lead, drafting.answerer(session, item, lead))
    session.commit()  # nothing is held while Claude works

    read = reading.read_reply(body, claude=claude, model=models.classify, our_last_text=our_last[0])
    result = read.classification
    stage = personas.stage_for(result.label, touches, earlier_replies)
    persona = personas.persona_for(stage)
    place = priority.prioritize(
        result.label,
        lead_score=lead_score,
        title=title,
        received_at=received_at,
        last_outbound_at=our_last[1],
        opt_out_suspected=read.opt_out_suspected,
    )
    proposal = None
    if not result.opt_out and result.label not in personas.NO_REPLY_LABELS:
        proposal = drafting.compose(
            context,
            persona=persona,
            label=result.label,
            extracted=result.extracted,
            claude=claude,
            model=models.draft,
            settings=settings,
        )

    item = session.get(InboxItem, item_id, populate_existing=True)
    if item is None or item.state != "processing":
        session.commit()
        return "nothing to read"
    if item.inbound_id != inbound_id:
        item.read_attempts = 0  # read fine; the newer text gets attempts of its own
        session.commit()
        return READ_AGAIN
    item.label, item.confidence = result.label, int(result.confidence)
    item.extracted = dict(result.extracted)
    item.classified_by, item.classify_note = result.source, read.note
    item.opt_out_suspected = read.opt_out_suspected
    item.stage, item.persona = stage, persona
    item.conversation.stage, item.conversation.persona = stage, persona
    item.priority, item.bucket, item.route = place.score, place.bucket, place.route
    item.sla_due_at = place.sla_due_at
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    if lead is not None and result.label in INTERESTED and lead.status in REPLY_MOVES:
        lead.status = "interested"
    contacts.save_from_reply(session, item, lead)
    draft = drafting.record(session, item, proposal)
    item.state, item.ready_at, item.read_attempts = "open", utcnow(), 0
    session.commit()
    if draft is not None and auto_send_allowed(session, item, draft, settings, item.conversation):
        try:
            send_reply(session, item, None, draft.body, auto=True)
        except InboxProblem as problem:  # the gate refused: a person decides
            session.rollback()
            item = session.get(InboxItem, item_id)
            item.classify_note = f"{item.classify_note} Not sent automatically: {problem}"[:255]
            session.commit()
            return f"{item.label}; auto-send refused"
        return f"{item.label}; sent automatically"
    source = draft.source if draft is not None else "none"
    return f"{item.label} ({item.confidence}%), {item.bucket}; draft from {source}"


def _give_up_reading(item: InboxItem) -> None:
    """Put an item its readings kept failing on in front of a person, unread."""
    now = utcnow()
    item.label, item.confidence, item.classified_by = "UNCLEAR", 0, "none"
    item.classify_note = (
        f"Could not be read automatically ({item.read_attempts} attempts failed or timed "
        "out): read it yourself."
    )
    # As urgent as a suspected opt-out: nobody knows yet what the text says.
    item.priority = priority.SUSPECTED_OPT_OUT_PRIORITY
    item.bucket, within = priority.bucket_for(item.priority)
    item.sla_due_at = now + within
    item.state, item.ready_at = "open", now


def _last_outbound(session: Session, conversation: Conversation) -> Message | None:
    return session.scalars(
        select(Message)
        .where(
            Message.team_id == conversation.team_id,
            Message.to_e164 == conversation.e164,
            Message.sent_at.is_not(None),
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    ).first()


def _touches_sent(session: Session, conversation: Conversation) -> int:
    return int(
        session.scalar(
            select(func.count(Message.id)).where(
                Message.team_id == conversation.team_id,
                Message.to_e164 == conversation.e164,
                Message.kind == "campaign",
                Message.sent_at.is_not(None),
            )
        )
        or 0
    )


def auto_send_allowed(
    session: Session,
    item: InboxItem,
    draft: Draft,
    settings: ReplySettings,
    conversation: Conversation,
) -> bool:
    """The seed's auto-send rules: the team opted in, the reading is confident, the
    label is safe, it is not the owner's first reply, and the lead has had fewer than
    the team's limit of automatic replies."""
    if not settings.auto_send or item.opt_out_suspected or item.unmatched:
        return False
    if item.label in AUTO_SEND_NEVER or item.confidence < settings.auto_send_min_confidence:
        return False
    if (conversation.inbound_count or 0) <= 1:
        return False
    sent_automatically = session.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation.id,
            Message.kind == "reply",
            Message.approved_by_id.is_(None),
        )
    )
    return int(sent_automatically or 0) < settings.auto_send_max_per_lead


# -- sending ------------------------------------------------------------------------


def reply_sender(session: Session, conversation: Conversation) -> Sender | None:
    """The sender the owner heard from (no number rotation), else the team's first."""
    if conversation.sender_id is not None:
        sender = session.get(Sender, conversation.sender_id)
        if sender is not None:
            return sender
    senders = team_senders(session, conversation.team_id)
    return senders[0] if senders else None


def send_reply(
    session: Session,
    item: InboxItem,
    user: User | None,
    body: str,
    *,
    auto: bool = False,
    now: datetime | None = None,
    transport: object | None = None,
) -> Message:
    """Queue a reply to the item's number through the gate; log it against the draft.

    Refused at once (InboxProblem) when the gate blocks the number for good; a reply
    that must wait (quiet hours, caps) is queued with its hold and goes when allowed.
    `transport` is where it will go (the sandbox's may open quiet hours).
    """
    now = now or utcnow()
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    # The apology to a wrong number goes once; the number is suppressed when it has.
    kind = "farewell" if item.label == "WRONG_NUMBER" else "reply"
    message = queue_reply(
        session, item.conversation, lead, user, body, kind=kind, now=now, transport=transport
    )
    body = message.body
    _log_draft(session, item, user, body, message, now)
    _resolve(item, user, "auto_sent" if auto else "sent", now)
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id if user is not None else None,
        action="inbox.reply_auto" if auto else "inbox.reply",
        entity=item,
        after={"message_id": message.id, "body": body},
    )
    session.commit()
    return message


def queue_reply(
    session: Session,
    conversation: Conversation,
    lead: Lead | None,
    user: User | None,
    body: str,
    *,
    kind: str = "reply",
    now: datetime | None = None,
    transport: object | None = None,
) -> Message:
    """A text to the conversation's number, queued for the dispatcher after the gate
    let it through (held, with its reason and time, when it must wait); flushed, not
    committed. InboxProblem, in words for people, when it is empty, too long, has no
    sender or the gate refuses the number. The inbox's reply and the deal page's use it.
    """
    now = now or utcnow()
    body = (body or "").strip()
    if not body:
        raise InboxProblem("The reply is empty.")
    measured = segments.measure(body)
    if measured.too_long:
        raise InboxProblem("The reply is longer than 1,600 characters.")
    sender = reply_sender(session, conversation)
    if sender is None:
        raise InboxProblem("The team has no sender to reply from.")
    recipient = recipient_of(lead, conversation.e164)
    if recipient.lead_status in REPLY_OPEN_STATUSES:
        recipient.lead_status = ""
    settings = SendingSettings.of(session.get(Team, conversation.team_id))
    gate = Gate(session, conversation.team_id, settings, transport=transport)
    decision = gate.decide(recipient, sender, now)
    if decision.blocked:
        raise InboxProblem(f"Not sent: {decision.reason}")
    business = lead.business if lead is not None else None
    message = Message(
        team_id=conversation.team_id,
        kind=kind,
        conversation_id=conversation.id,
        lead_id=lead.id if lead is not None else None,
        campaign_id=None,
        sender_id=sender.id,
        to_e164=conversation.e164,
        to_state=business.state if business else "",
        to_zip=business.zip if business else "",
        body=body,
        rendered_body=body,
        segments=measured.segments,
        encoding=measured.encoding,
        status="approved",
        due_at=decision.next_allowed_at or now,
        hold_reason="" if decision.allowed else decision.reason[:255],
        approved_by_id=user.id if user is not None else None,
        approved_at=now,
    )
    session.add(message)
    session.flush()
    return message


def queued_replies(session: Session, conversation: Conversation) -> list[Message]:
    """Replies to the conversation's number waiting to go (held or being sent), oldest
    first: the thread shows them under the texts already sent."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.kind.in_(REPLY_KINDS),
                Message.status.in_(("approved", "sending")),
            )
            .order_by(Message.id)
        )
    )


def _log_draft(session, item, user, body, message, now) -> None:
    """Every reply is logged against the draft it started from (AI quality figures)."""
    draft = current_draft(session, item)
    if draft is None:
        draft = Draft(
            team_id=item.team_id,
            item_id=item.id,
            persona=item.persona,
            label=item.label,
            body="",
            source="person",
        )
        session.add(draft)
    draft.state = "sent"
    draft.sent_body = body
    draft.edited = draft.source == "person" or body != draft.body
    draft.message_id = message.id
    draft.decided_by_id = user.id if user is not None else None
    draft.decided_at = now


def suppression_of(session: Session, item: InboxItem) -> Suppression | None:
    """The do-not-text entry of the item's number, if it has one."""
    return session.scalars(
        select(Suppression).where(
            Suppression.team_id == item.team_id, Suppression.e164 == item.conversation.e164
        )
    ).first()


def current_draft(session: Session, item: InboxItem) -> Draft | None:
    """The item's proposed draft, if any."""
    return session.scalars(
        select(Draft)
        .where(Draft.item_id == item.id, Draft.state == "proposed")
        .order_by(Draft.id.desc())
        .limit(1)
    ).first()


def _resolve(item: InboxItem, user: User | None, resolution: str, now: datetime | None = None):
    item.state, item.resolution = "done", resolution
    item.resolved_at = now or utcnow()
    item.resolved_by_id = user.id if user is not None else None


def _discard_drafts(session: Session, item: InboxItem, user: User | None) -> None:
    for draft in session.scalars(
        select(Draft).where(Draft.item_id == item.id, Draft.state == "proposed")
    ):
        draft.state = "discarded"
        draft.decided_by_id = user.id if user is not None else None
        draft.decided_at = utcnow()


# -- the other actions --------------------------------------------------------------


def archive(session: Session, item: InboxItem, user: User) -> None:
    """Close the item without a reply (a no becomes "not interested")."""
    if item.state == "done":
        raise InboxProblem("This reply is already done.")
    _discard_drafts(session, item, user)
    _resolve(item, user, "archived")
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    if lead is not None and item.label == "NEGATIVE" and lead.status not in ("deal",):
        lead.status = "not_interested"
    if item.label == "WRONG_NUMBER":
        _suppress_wrong_number(session, item, user)
    audit.record(
        session, team_id=item.team_id, actor_id=user.id, action="inbox.archive", entity=item
    )


def escalate(session: Session, item: InboxItem, user: User, note: str = "") -> None:
    """Hand the item to a manager (it stays open, marked escalated)."""
    if item.state == "done":
        raise InboxProblem("The item is already done.")
    item.state = "escalated"
    item.escalated_note = (note or f"Escalated by {user.name or user.email}")[:255]
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id,
        action="inbox.escalate",
        entity=item,
        after={"note": item.escalated_note},
    )


def suppress(session: Session, item: InboxItem, user: User, *, opt_out: bool = False) -> None:
    """Put the number on the do-not-text list (a confirmed opt-out, or the team's DNC)."""
    conversation = item.conversation
    suppress_number(
        session,
        item.team_id,
        conversation.e164,
        reason="opt_out" if opt_out else "dnc",
        source=("Opt-out confirmed in the inbox" if opt_out else "Inbox: do not contact")[:60],
        lead_id=item.lead_id,
        user_id=user.id,
    )
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    if lead is not None:
        lead.status = "do_not_contact"
        sequences.stop_for_lead(
            session, item.team_id, lead.id, "stopped", "Suppressed in the inbox"
        )
    _discard_drafts(session, item, user)
    if opt_out:
        item.label, item.opt_out = "STOP", True
    item.opt_out_suspected = False
    _resolve(item, user, "opted_out" if opt_out else "suppressed")
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id,
        action="inbox.opt_out_confirmed" if opt_out else "inbox.suppress",
        entity=item,
    )


def dismiss_opt_out(session: Session, item: InboxItem, user: User) -> None:
    """A person read the reply and it is not an opt-out: the flag goes, priority with it."""
    item.opt_out_suspected = False
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    place = priority.prioritize(
        item.label,
        lead_score=lead.quality_score if lead is not None else None,
        title=lead.owner.title if lead is not None and lead.owner is not None else "",
        received_at=item.inbound.received_at,
        last_outbound_at=None,
    )
    item.priority, item.bucket, item.route = place.score, place.bucket, place.route
    item.sla_due_at = place.sla_due_at
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id,
        action="inbox.opt_out_dismissed",
        entity=item,
    )


def _suppress_wrong_number(session: Session, item: InboxItem, user: User | None) -> None:
    """A wrong number is never texted again (not an opt-out: no consent was given)."""
    suppress_number(
        session,
        item.team_id,
        item.conversation.e164,
        reason="wrong_number",
        source="Inbox: wrong number",
        lead_id=item.lead_id,
        user_id=user.id if user is not None else None,
    )


def schedule_callback(
    session: Session, item: InboxItem, user: User, when: datetime, note: str = "", zone: str = ""
) -> None:
    """Book a callback task on the lead at the time the owner asked for; the item is done."""
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    if lead is None:
        raise InboxProblem("This number matches no lead, so a callback has nowhere to go.")
    task = tasks.book_callback(
        session,
        lead,
        user,
        when,
        zone=zone,
        note=note or item.extracted.get("callback_time", ""),
        inbox_item_id=item.id,
    )
    if item.state != "done":
        _discard_drafts(session, item, user)
        _resolve(item, user, "callback")
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id,
        action="inbox.callback",
        entity=item,
        after={"at": when.isoformat(), "note": task.note},
    )


def convert_to_deal(
    session: Session,
    item: InboxItem,
    user: User,
    stage: str,
    value: str | Decimal | None = None,
) -> Deal:
    """A deal for the lead and this conversation in the open stage picked (its id, as the
    form posts it), worth `value` dollars if given (typed text is read here); one open
    deal a lead, so a lead that has one keeps it as it is. InboxProblem when the stage
    or value cannot be taken."""
    lead = session.get(Lead, item.lead_id) if item.lead_id else None
    if lead is None:
        raise InboxProblem("This number matches no lead; match it to a lead first.")
    try:
        start, amount = deals.open_stage(session, item.team_id, stage), deals.deal_value(value)
        deal, _created = deals.open_deal(
            session,
            lead,
            user,
            stage=start,
            value=amount,
            conversation_id=item.conversation_id,
            note="Converted from the inbox",
        )
    except deals.DealProblem as problem:
        raise InboxProblem(str(problem)) from problem
    if item.state != "done":  # a reply already sent keeps its resolution
        _discard_drafts(session, item, user)
        _resolve(item, user, "converted")
    audit.record(
        session,
        team_id=item.team_id,
        actor_id=user.id,
        action="inbox.deal",
        entity=item,
        after={"deal_id": deal.id, "stage": deal.stage.name},
    )
    return deal


def assign(
    session: Session, team_id: int, item_ids: list[int], assignee: User | None, user: User
) -> int:
    """Give items to a teammate (or nobody); returns how many changed."""
    item_ids = list(
        session.scalars(
            select(InboxItem.id).where(InboxItem.team_id == team_id, InboxItem.id.in_(item_ids))
        )
    )
    changed = session.execute(
        update(InboxItem)
        .where(InboxItem.team_id == team_id, InboxItem.id.in_(item_ids))
        .values(assignee_id=assignee.id if assignee is not None else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        session,
        team_id=team_id,
        actor_id=user.id,
        action="inbox.assign",
        after={"items": item_ids, "assignee": assignee.id if assignee else None},
    )
    return int(changed or 0)


def archive_many(session: Session, team_id: int, item_ids: list[int], user: User) -> int:
    """Archive several open items at once; returns how many."""
    items = session.scalars(
        select(InboxItem).where(
            InboxItem.team_id == team_id,
            InboxItem.id.in_(item_ids),
            InboxItem.state.in_(WORKING_STATES),
        )
    ).all()
    for item in items:
        archive(session, item, user)
    return len(items)


def load_item(session: Session, team_id: int, item_id: int) -> InboxItem | None:
    """One of the team's items with what its page shows."""
    return session.scalars(
        select(InboxItem)
        .where(InboxItem.team_id == team_id, InboxItem.id == item_id)
        .options(
            joinedload(InboxItem.conversation),
            joinedload(InboxItem.inbound),
            joinedload(InboxItem.lead).joinedload(Lead.business),
            joinedload(InboxItem.lead).joinedload(Lead.owner),
        )
    ).first()
