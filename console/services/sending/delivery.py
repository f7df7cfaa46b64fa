"""What Twilio tells us about a text after it left: status callbacks, and the errors
that change what the console does next (suppress a number, mark a landline, pause a
sender the carriers filter)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import (
    ConsentEvent,
    Message,
    MessageEvent,
    Phone,
    Sender,
    Suppression,
    Team,
)
from console.models.base import utcnow
from console.services.sending import sequences
from console.services.sending.policy import SendingSettings, pause_sender

# Twilio's statuses in the order a message moves; a callback never moves one back.
STATUS_RANK: dict[str, int] = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
# Twilio's status as the console counts it.
CONSOLE_STATUS: dict[str, str] = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
ERROR_TEXT: dict[int, str] = {
    20429: "Twilio rate limit (retried)",
    21211: "Not a valid phone number",
    21408: "Texts to this region are not enabled on the account",
    21610: "The recipient opted out with Twilio (STOP)",
    21612: "Twilio cannot route texts to this number",
    21614: "Not a mobile number",
    21617: "The text is longer than 1,600 characters",
    21635: "Landline: it can't take texts",
    30003: "Unreachable handset",
    30004: "Blocked by the recipient",
    30005: "Unknown or inactive number",
    30006: "Landline or unreachable carrier",
    30007: "Filtered by the carrier as spam",
    30008: "Unknown carrier error",
    30034: "Sender not registered for 10DLC",
    30610: "Blocked: outside the hours marketing texts are allowed",
}
LANDLINE_CODES = frozenset({21635, 30006})
NOT_TEXTABLE_CODES = frozenset({21211, 21614, 21612, 30005}) | LANDLINE_CODES
FILTERED_CODE = 30007
OPTED_OUT_CODE = 21610
FILTERING_WINDOW = timedelta(days=7)


def error_text(code: int | None, fallback: str = "") -> str:
    """Twilio's error in words an operator understands."""
    if code is None:
        return fallback
    return f"{ERROR_TEXT.get(code, fallback or 'Twilio error')} ({code})"


def apply_callback(session: Session, params: Mapping[str, str], source: str = "webhook") -> str:
    """Record one status callback and move its message forward. Idempotent on (SID, status).

    Returns "applied", "replay" (this SID and status were seen already), "stale" (the
    message is already further along) or "unknown" (no message has that SID yet: the
    event is kept and applied when the SID is recorded). The caller commits.
    """
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid or status not in STATUS_RANK:
        return "ignored"
    error_code = _int(params.get("ErrorCode"))
    message = session.scalars(select(Message).where(Message.provider_sid == sid)).first()
    event = MessageEvent(
        message_id=message.id if message else None,
        provider_sid=sid,
        status=status,
        error_code=error_code,
        source=source,
        params={k: params[k] for k in params},
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return "replay"
    if message is None:
        return "unknown"
    sender_number = params.get("From") or ""
    if sender_number.startswith("+") and not message.from_address.startswith("+"):
        message.from_address = sender_number  # a Messaging Service picked the number
    return "applied" if apply_status(session, message, status, error_code) else "stale"


def apply_early_events(session: Session, message: Message) -> None:
    """Apply callbacks that arrived before the message's SID was recorded."""
    events = session.scalars(
        select(MessageEvent)
        .where(MessageEvent.provider_sid == message.provider_sid, MessageEvent.message_id.is_(None))
        .order_by(MessageEvent.id)
    ).all()
    for event in events:
        event.message_id = message.id
        apply_status(session, message, event.status, event.error_code)


def adopt_orphans(session: Session, limit: int = 500) -> int:
    """Apply callbacks stored before their SID was recorded (a webhook racing the
    dispatcher's commit) whose message now has that SID; commit. Returns how many."""
    rows = session.execute(
        select(MessageEvent, Message)
        .join(Message, Message.provider_sid == MessageEvent.provider_sid)
        .where(MessageEvent.message_id.is_(None))
        .order_by(MessageEvent.id)
        .limit(limit)
    ).all()
    for event, message in rows:
        event.message_id = message.id
        apply_status(session, message, event.status, event.error_code)
    session.commit()
    return len(rows)


def apply_status(session: Session, message: Message, status: str, error_code: int | None) -> bool:
    """Move a message to Twilio's `status` if that is forward; act on its error."""
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(message.provider_status, 0):
        return False
    now = utcnow()
    message.provider_status = status
    message.status_at = now
    message.status = CONSOLE_STATUS[status]
    if message.status == "delivered" and message.delivered_at is None:
        message.delivered_at = now
    if message.status == "failed":
        message.error_code = error_code
        message.error_message = error_text(error_code, "Not delivered")[:255]
        if error_code is not None:
            apply_error(session, message, error_code)
    return True


def apply_error(session: Session, message: Message, code: int) -> None:
    """What a Twilio error means for the number, the enrollment and the sender."""
    if code == OPTED_OUT_CODE:
        suppress_number(
            session,
            message.team_id,
            message.to_e164,
            reason="opt_out",
            source="Twilio 21610",
            lead_id=message.lead_id,
        )
    elif code in NOT_TEXTABLE_CODES:
        values = {"textable": False, "validated_at": utcnow()}
        if code in LANDLINE_CODES:
            values["line_type"] = "landline"
        session.execute(
            update(Phone)
            .where(Phone.team_id == message.team_id, Phone.e164 == message.to_e164)
            .values(**values)
        )
        sequences.stop_for_number(
            session, message.team_id, message.to_e164, "stopped", error_text(code)
        )
    elif code == FILTERED_CODE and message.sender_id is not None:
        check_filtering(session, session.get(Sender, message.sender_id))


def suppress_number(
    session: Session,
    team_id: int,
    e164: str,
    *,
    reason: str,
    source: str,
    lead_id: int | None = None,
    user_id: int | None = None,
) -> Suppression:
    """Put a number on the team's do-not-text list (once), stop its sequences and
    cancel texts to it that have not gone yet. `created` on the row says whether this
    call added it (two STOPs at the same moment add it once, and the loser knows)."""
    query = select(Suppression).where(Suppression.team_id == team_id, Suppression.e164 == e164)
    existing = session.scalars(query).first()
    created = False
    if existing is None:
        try:
            with session.begin_nested():
                existing = Suppression(
                    team_id=team_id,
                    e164=e164,
                    reason=reason,
                    source=source,
                    created_by_id=user_id,
                )
                session.add(existing)
                if reason.startswith("opt"):
                    session.add(
                        ConsentEvent(
                            team_id=team_id,
                            e164=e164,
                            kind="opt_out",
                            source=source,
                            lead_id=lead_id,
                        )
                    )
            created = True
        except IntegrityError:  # a concurrent request suppressed it first
            existing = session.scalars(query).one()
    existing.created = created
    status = "opted_out" if reason.startswith("opt") else "stopped"
    sequences.stop_for_number(session, team_id, e164, status, f"Suppressed: {source}")
    session.flush()
    return existing


def filtering_rate(session: Session, sender_id: int, since) -> tuple[int, int]:
    """(texts filtered by carriers with 30007, texts sent) for a sender since a time."""
    sent, filtered = session.execute(
        select(
            func.count(Message.id),
            func.count(Message.id).filter(Message.error_code == FILTERED_CODE),
        ).where(Message.sender_id == sender_id, Message.sent_at >= since)
    ).one()
    return int(filtered or 0), int(sent or 0)


def check_filtering(session: Session, sender: Sender | None, now=None) -> bool:
    """Pause a sender whose carrier filtering passed the team's threshold; True if paused."""
    if sender is None or sender.paused:
        return False
    settings = SendingSettings.of(session.get(Team, sender.team_id))
    filtered, sent = filtering_rate(session, sender.id, (now or utcnow()) - FILTERING_WINDOW)
    if sent < settings.filtering_min_sample or filtered / sent < settings.filtering_pause_rate:
        return False
    pause_sender(
        sender,
        f"Paused automatically: carriers filtered {filtered} of {sent:,} texts "
        f"({filtered / sent:.1%}, error 30007) in the last 7 days, past the team's "
        f"{settings.filtering_pause_rate:.0%} limit. Review the wording, then resume.",
    )
    return True


def _int(value) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None
