"""Writing a skip-trace result onto a lead: nothing overwritten, every value sourced.

An owner the lead did not have is created; a different name than the one on file is
kept beside it (`alt_names`), never in its place. Phones and emails are added when new
to the lead, with the provider as their source and the result's confidence; they get
match keys so a later import of the same number finds this lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.models import Email, Lead, MatchKey, Owner, Phone
from console.providers.skiptrace import Candidate
from console.services.lists.emails import normalize_email
from console.services.lists.names import person_name
from console.services.lists.phone_numbers import parse_phone


@dataclass
class Applied:
    """What a result added to a lead."""

    phones: int = 0
    mobiles: int = 0
    emails: int = 0
    owner_created: bool = False
    other_name: bool = False


def source_label(provider_name: str, sandbox: bool) -> str:
    """How a provider is named as a value's source (sandbox data says so)."""
    label = f"skiptrace:{provider_name}"
    return (label + " (sandbox)" if sandbox else label)[:60]


def apply_candidate(
    session: Session, lead: Lead, candidate: Candidate, provider_name: str, sandbox: bool
) -> Applied:
    """Add the candidate's owner, phones, emails and addresses to the lead."""
    source = source_label(provider_name, sandbox)
    applied = Applied()
    owner = _owner(session, lead, candidate, source, applied)
    business_key = lead.business.normalized_name if lead.business else ""
    known_phones = {phone.e164 for phone in lead.phones}
    for found in candidate.phones:
        parsed = parse_phone(found.number)
        if parsed is None or not parsed.valid or parsed.e164 in known_phones:
            continue
        known_phones.add(parsed.e164)
        kind = "mobile" if found.type == "mobile" else "other"
        session.add(
            Phone(
                team_id=lead.team_id,
                owner=owner,
                e164=parsed.e164,
                extension=parsed.extension[:10],
                kind=kind,
                source=source,
                confidence=candidate.confidence,
            )
        )
        _match_key(session, lead, "ph:" + parsed.e164, business_key)
        applied.phones += 1
        applied.mobiles += kind == "mobile"
    known_emails = {email.address for email in lead.emails}
    for raw in candidate.emails:
        address = normalize_email(raw)
        if address and address not in known_emails:
            known_emails.add(address)
            session.add(Email(team_id=lead.team_id, owner=owner, address=address, source=source))
            _match_key(session, lead, "em:" + address, business_key)
            applied.emails += 1
    _add_addresses(owner, candidate.addresses, source)
    return applied


def _owner(session: Session, lead: Lead, candidate: Candidate, source: str, applied) -> Owner:
    """The lead's owner, created or completed from the candidate; a differing name kept aside."""
    name = person_name(candidate.owner_name)
    owner = lead.owner
    if owner is None:
        owner = Owner(
            team_id=lead.team_id,
            first_name=name.first[:80],
            last_name=name.last[:80],
            full_name=name.full[:200],
            title=candidate.title[:120],
        )
        session.add(owner)
        lead.owner = owner
        applied.owner_created = True
        return owner
    if not owner.full_name and name.full:
        owner.first_name, owner.last_name = name.first[:80], name.last[:80]
        owner.full_name = name.full[:200]
    elif name.full and name.match_key != person_name(owner.full_name).match_key:
        others = list(owner.alt_names or [])
        if not any(other.get("name") == name.full for other in others):
            others.append({"name": name.full, "title": candidate.title, "source": source})
            owner.alt_names = others
            applied.other_name = True
        return owner
    if not owner.title and candidate.title:
        owner.title = candidate.title[:120]
    return owner


def _add_addresses(owner: Owner, addresses: list[dict], source: str) -> None:
    kept = list(owner.addresses or [])
    seen = {(a.get("street", "").lower(), a.get("zip", "")) for a in kept}
    for address in addresses:
        key = (address.get("street", "").lower(), address.get("zip", ""))
        if key not in seen and any(address.values()):
            seen.add(key)
            kept.append({**address, "source": source})
    if len(kept) != len(owner.addresses or []):
        owner.addresses = kept


def _match_key(session: Session, lead: Lead, key: str, business_key: str) -> None:
    session.add(
        MatchKey(team_id=lead.team_id, lead_id=lead.id, key=key[:255], value=business_key[:255])
    )
