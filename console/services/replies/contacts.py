"""Contact details an owner gives in a reply, kept on the lead.

"Send me info at bob.smith@gmail.com" or "call my cell 512-555-0142" is read by
`extraction`; here the address or number is saved on the lead's owner (or its business
when no owner is known) with source "reply", once, and the lead's history says which
text it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Email, InboxItem, Lead, Phone
from console.services import audit
from console.services.lists.emails import normalize_email
from console.services.phones import phone_kind, to_e164

SOURCE = "reply"


@dataclass
class Saved:
    """What a reply added to its lead: the new email address and number, or ""."""

    email: str = ""
    phone: str = ""


def save_from_reply(session: Session, item: InboxItem, lead: Lead | None) -> Saved:
    """Keep the email and phone read in an inbox item's reply on its lead, when new."""
    saved = Saved()
    if lead is None or (lead.owner is None and lead.business is None):
        return saved
    extracted = item.extracted or {}
    address = normalize_email(extracted.get("email") or "")
    if address and address not in {email.address for email in lead.emails}:
        _attach(lead, Email(team_id=lead.team_id, address=address, source=SOURCE))
        saved.email = address
        _record(session, item, lead, "lead.email_from_reply", {"email": address})
    e164 = to_e164(extracted.get("phone") or "")
    if e164 and e164 not in {phone.e164 for phone in lead.phones}:
        kind = _kind(session, lead.team_id, e164)
        _attach(lead, Phone(team_id=lead.team_id, e164=e164, kind=kind, source=SOURCE))
        saved.phone = e164
        _record(session, item, lead, "lead.phone_from_reply", {"phone": e164})
    return saved


def _attach(lead: Lead, row: Email | Phone) -> None:
    """Add a contact row to the lead's owner, or to its business when it has no owner."""
    holder = lead.owner if lead.owner is not None else lead.business
    (holder.emails if isinstance(row, Email) else holder.phones).append(row)


def _kind(session: Session, team_id: int, e164: str) -> str:
    """The kind of a number: as the team already knows it, else "mobile" when its
    number range says so, else "other"."""
    known = session.scalars(
        select(Phone.kind).where(Phone.team_id == team_id, Phone.e164 == e164).limit(1)
    ).first()
    if known:
        return known
    return "mobile" if phone_kind(e164) == "mobile" else "other"


def _record(session: Session, item: InboxItem, lead: Lead, action: str, after: dict) -> None:
    """The lead's history: what the reply gave, and which inbound text said it."""
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=None,
        action=action,
        entity=lead,
        after=after | {"inbound_id": item.inbound_id, "inbox_item_id": item.id},
    )
