"""Webhook requests the console refused or could not handle, counted for the Operations
report. A request that went through is already a row (an `InboundMessage` for a text, a
`MessageEvent` from "webhook" for a status callback); one that failed leaves nothing, so
each failure is written here as an audit event of the team whose number or text it names.
A request that names no team's number or text is only logged.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Message
from console.services import audit
from console.services.replies.inbound import match_sender

# Each failure is an audit event: entity_type "webhook:<kind>", action "webhook.<reason>".
ENTITY_PREFIX = "webhook:"
ACTION_PREFIX = "webhook."
# What the endpoint was for, by Flask endpoint name.
KINDS: dict[str, str] = {
    "webhooks.twilio_status": "status",
    "webhooks.twilio_sms": "inbound",
}
KIND_LABELS: dict[str, str] = {"status": "Delivery callbacks", "inbound": "Inbound texts"}
# Why it failed, by the status code the console answered.
REASONS: dict[str, str] = {
    "signature": "Bad or missing signature (403)",
    "refused": "Refused as malformed (400)",
    "error": "Console error (5xx)",
}


def reason_for(status_code: int) -> str:
    """The failure a status code stands for ("" for an answer that is no failure)."""
    if status_code == 403:
        return "signature"
    if status_code >= 500:
        return "error"
    if status_code >= 400:
        return "refused"
    return ""


def team_named(session: Session, kind: str, form: Mapping[str, str]) -> int | None:
    """The team a webhook request is about: its text's (status) or its number's (inbound)."""
    if kind == "status":
        sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()[:40]
        if not sid:
            return None
        return session.scalar(select(Message.team_id).where(Message.provider_sid == sid))
    sender = match_sender(
        session, (form.get("To") or "")[:40], (form.get("MessagingServiceSid") or "")[:40]
    )
    return sender.team_id if sender is not None else None


def record_failure(
    session: Session, endpoint: str, form: Mapping[str, str], status_code: int
) -> bool:
    """Write one failed webhook request for the team it names, and commit; False when it
    is no failure or names no team."""
    kind, reason = KINDS.get(endpoint or ""), reason_for(status_code)
    if not kind or not reason:
        return False
    team_id = team_named(session, kind, form)
    if team_id is None:
        return False
    event = audit.record(
        session,
        team_id=team_id,
        actor_id=None,
        action=ACTION_PREFIX + reason,
        after={"status": status_code},
    )
    event.entity_type = ENTITY_PREFIX + kind  # no model instance to name it
    session.commit()
    return True
