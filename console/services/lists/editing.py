"""Working a lead by hand: editing its owner and business, tags, status, assignee.

Every change is audited on the lead (the timeline reads the audit trail), with before
and after of only what changed. Typed values go through the import's normalizers, so
a lead edited by hand reads and matches like one imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from console.models import Business, ConsentEvent, Lead, MatchKey, Owner, Phone, User
from console.models.leads import LEAD_STATUSES
from console.services import audit
from console.services.lists import resolve
from console.services.lists.addresses import address, state_code, zip_code
from console.services.lists.business_fields import (
    name_tokens,
    normalize_website,
    normalized_business_name,
    sic_code,
)
from console.services.lists.leads import clean_tag
from console.services.lists.names import person_name
from console.services.lists.normalize import clean_text, name_case
from console.services.sending import sequences
from console.services.sending.delivery import suppress_number

# What the audit trail calls each editable field, and how the timeline names it.
OWNER_FIELDS: dict[str, str] = {
    "full_name": "owner's name",
    "first_name": "owner's first name",
    "last_name": "owner's last name",
    "title": "owner's title",
}
BUSINESS_FIELDS: dict[str, str] = {
    "name": "business name",
    "street": "street",
    "unit": "unit",
    "city": "city",
    "state": "state",
    "zip": "ZIP",
    "county": "county",
    "website": "website",
    "industry": "industry",
    "sic_code": "SIC code",
}
FIELD_NAMES: dict[str, str] = {
    **{f"owner.{k}": v for k, v in OWNER_FIELDS.items()},
    **{f"business.{k}": v for k, v in BUSINESS_FIELDS.items()},
}
LIMITS = {"full_name": 200, "first_name": 80, "last_name": 80, "title": 120, "name": 255}
LIMITS |= {"street": 255, "unit": 40, "city": 120, "zip": 10, "county": 120, "website": 255}
LIMITS |= {"industry": 255, "sic_code": 8, "state": 2}
DNC_SOURCE = "Lead page"


class EditProblem(ValueError):
    """A typed value the lead cannot take; `field` names the form field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# -- checking typed values (the forms call these too) ---------------------------------


def checked_state(raw: str) -> str:
    """A state's two-letter code from `TX` or `Texas`; "" for blank; EditProblem otherwise."""
    if not clean_text(raw):
        return ""
    code = state_code(raw)
    if not code:
        raise EditProblem("Type a US state, such as TX or Texas.", "state")
    return code


def checked_zip(raw: str) -> str:
    """A ZIP of 5 or 9 digits (`78701`, `78701-1234`); "" for blank; EditProblem otherwise."""
    text = clean_text(raw)
    if not text:
        return ""
    found = zip_code(text) if text.replace("-", "").isdigit() else None
    if found is None or len(text.replace("-", "")) not in (5, 9):
        raise EditProblem("Type a ZIP of 5 or 9 digits, such as 78701 or 78701-1234.", "zip")
    return str(found)


def checked_website(raw: str) -> str:
    """A website's host (`hillcrest.example`); "" for blank; EditProblem otherwise."""
    if not clean_text(raw):
        return ""
    host = normalize_website(raw)
    if not host:
        raise EditProblem("Type a website, such as hillcrestroofing.com.", "website")
    return host


def checked_sic(raw: str) -> str:
    """An SIC code of 2-8 digits in a known major group; "" for blank; EditProblem otherwise."""
    if not clean_text(raw):
        return ""
    code = sic_code(raw)
    if not code:
        raise EditProblem("Type an SIC code of 2 to 8 digits, such as 1761.", "sic_code")
    return code


# -- editing ----------------------------------------------------------------------------


def _owner_values(owner: Owner | None, typed: Mapping[str, str]) -> dict[str, str]:
    """The owner's columns from the typed values, the name split and joined as imports do."""
    old = {k: getattr(owner, k) if owner is not None else "" for k in OWNER_FIELDS}
    new = {k: clean_text(typed.get(k, old[k]))[: LIMITS[k]] for k in OWNER_FIELDS}
    parts_typed = (new["first_name"], new["last_name"]) != (old["first_name"], old["last_name"])
    if new["full_name"] != old["full_name"] and new["full_name"]:
        name = person_name(new["full_name"])
        new["full_name"] = name.full[:200] or new["full_name"]
        if not parts_typed:
            new["first_name"], new["last_name"] = name.first[:80], name.last[:80]
    elif parts_typed:
        new["full_name"] = " ".join(v for v in (new["first_name"], new["last_name"]) if v)[:200]
    return new


def _business_values(business, typed: Mapping[str, str]) -> dict[str, str]:
    """The business's columns from the typed values, standardized as imports do."""
    old = {k: getattr(business, k) if business is not None else "" for k in BUSINESS_FIELDS}
    new = {k: clean_text(typed.get(k, old[k])) for k in BUSINESS_FIELDS}
    new["state"] = checked_state(new["state"])
    new["zip"] = checked_zip(new["zip"])
    new["website"] = checked_website(new["website"])
    new["sic_code"] = checked_sic(new["sic_code"])
    if not new["name"]:
        raise EditProblem("A business needs a name.", "name")
    if new["street"] != old["street"] and new["street"]:
        place = address(new["street"])
        new["street"] = place.street or new["street"]
        if place.unit and not new["unit"]:
            new["unit"] = place.unit
    if new["city"] != old["city"]:
        new["city"] = name_case(new["city"])
    return {k: v[: LIMITS[k]] for k, v in new.items()}


def edit_lead(
    session: Session,
    lead: Lead,
    user: User,
    *,
    owner: Mapping[str, str] | None = None,
    business: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, str]]:
    """Write the typed owner and business fields onto the lead; audit what changed.

    Returns {"business.name": (before, after), ...} of the changed fields only.
    Raises EditProblem (nothing written) when a value is not one the lead can take.
    """
    changes: dict[str, tuple[str, str]] = {}
    if business is not None:
        values = _business_values(lead.business, business)
        if lead.business is None:
            lead.business = Business(team_id=lead.team_id, name=values["name"])
        changes |= _apply(lead.business, values, "business")
        lead.business.normalized_name = normalized_business_name(lead.business.name)[:255]
    if owner is not None:
        values = _owner_values(lead.owner, owner)
        if lead.owner is None and any(values.values()):
            lead.owner = Owner(team_id=lead.team_id)
        if lead.owner is not None:
            changes |= _apply(lead.owner, values, "owner")
    if not changes:
        return changes
    session.flush()
    _add_match_keys(session, lead)
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=user.id,
        action="lead.edited",
        entity=lead,
        before={k: old for k, (old, _new) in changes.items()},
        after={k: new for k, (_old, new) in changes.items()},
    )
    return changes


def _apply(row, values: dict[str, str], prefix: str) -> dict[str, tuple[str, str]]:
    changed = {}
    for name, value in values.items():
        old = getattr(row, name) or ""
        if old != value:
            setattr(row, name, value)
            changed[f"{prefix}.{name}"] = (old, value)
    return changed


def _add_match_keys(session: Session, lead: Lead) -> None:
    """The exact match keys of the lead as it now reads, so later imports find it by
    its new name or address (keys it had stay: a key never makes a wrong merge alone,
    the rules compare the records)."""
    business, owner = lead.business, lead.owner
    business_key = business.normalized_name if business is not None else ""
    zip5 = business.zip[:5] if business is not None else ""
    identity = resolve.Identity(
        owner_key=person_name(owner.full_name).match_key if owner and owner.full_name else "",
        business_key=business_key,
        street_key=address(business.street).street_key if business and business.street else "",
        zip5=zip5,
        city_key=f"{business.state}|{business.city.lower()}" if business and business.city else "",
        name_tokens=tuple(name_tokens(business_key)) if business_key else (),
    )
    wanted = {key for _rule, key in resolve.exact_keys(identity)}
    have = set(
        session.scalars(
            select(MatchKey.key).where(MatchKey.lead_id == lead.id, MatchKey.key.in_(wanted))
        )
    )
    for key in sorted(wanted - have):
        session.add(
            MatchKey(team_id=lead.team_id, lead_id=lead.id, key=key, value=business_key[:255])
        )


# -- tags, status, assignee ---------------------------------------------------------------


def add_tag(session: Session, lead: Lead, user: User, text: str) -> str:
    """Tag the lead (audited); the tag as stored, "" when there was nothing to add."""
    tag = clean_tag(text)
    if not tag or tag in (lead.tags or []):
        return ""
    lead.tags = sorted({*(lead.tags or []), tag})
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=user.id,
        action="lead.tagged",
        entity=lead,
        after={"tag": tag},
    )
    return tag


def remove_tag(session: Session, lead: Lead, user: User, tag: str) -> bool:
    """Take a tag off the lead (audited); whether it had it."""
    if tag not in (lead.tags or []):
        return False
    lead.tags = [t for t in lead.tags if t != tag]
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=user.id,
        action="lead.untagged",
        entity=lead,
        before={"tag": tag},
    )
    return True


def lead_numbers(session: Session, lead: Lead) -> list[str]:
    """Every number of the lead (its owner's and its business's), each once."""
    clauses = []
    if lead.owner_id is not None:
        clauses.append(Phone.owner_id == lead.owner_id)
    if lead.business_id is not None:
        clauses.append(Phone.business_id == lead.business_id)
    if not clauses:
        return []
    return list(
        dict.fromkeys(
            session.scalars(
                select(Phone.e164)
                .where(Phone.team_id == lead.team_id, or_(*clauses))
                .order_by(Phone.id)
            )
        )
    )


@dataclass(frozen=True)
class StatusChange:
    """What setting a status did: the status before, and the numbers it suppressed."""

    before: str
    suppressed: tuple[str, ...] = ()


def set_status(
    session: Session, lead: Lead, user: User, status: str, reason: str = ""
) -> StatusChange:
    """Move the lead to `status` (audited).

    Do-not-contact needs a reason: every number of the lead goes on the team's
    do-not-text list (the one suppression path, which also stops its sequences), with
    a consent event per number recording who asked and why.
    """
    if status not in LEAD_STATUSES:
        raise EditProblem("Choose a status from the list.", "status")
    reason = clean_text(reason)[:500]
    if status == "do_not_contact" and not reason:
        raise EditProblem("Say why this lead must not be contacted.", "reason")
    before = lead.status
    suppressed: list[str] = []
    if status == "do_not_contact":
        for e164 in lead_numbers(session, lead):
            suppress_number(
                session,
                lead.team_id,
                e164,
                reason="dnc",
                source=DNC_SOURCE,
                lead_id=lead.id,
                user_id=user.id,
            )
            session.add(
                ConsentEvent(
                    team_id=lead.team_id,
                    e164=e164,
                    kind="do_not_contact",
                    source=DNC_SOURCE,
                    detail=reason,
                    lead_id=lead.id,
                )
            )
            suppressed.append(e164)
        sequences.stop_for_lead(session, lead.team_id, lead.id, "stopped", "Do not contact")
    if before == status and not suppressed:
        return StatusChange(before)
    lead.status = status
    after: dict = {"status": status}
    if reason:
        after["reason"] = reason
    if suppressed:
        after["suppressed"] = suppressed
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=user.id,
        action="lead.status",
        entity=lead,
        before={"status": before},
        after=after,
    )
    return StatusChange(before, tuple(suppressed))


def team_members(session: Session, team_id: int) -> list[User]:
    """The team's active users a lead can be given to, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.active.is_(True))
            .order_by(User.name, User.email)
        )
    )


def assign(session: Session, lead: Lead, user: User, assignee: User | None) -> bool:
    """Give the lead to a teammate, or to nobody (audited); whether it changed.

    The caller has checked that `assignee` is on the lead's team.
    """
    new_id = assignee.id if assignee is not None else None
    if lead.assignee_id == new_id:
        return False
    audit.record(
        session,
        team_id=lead.team_id,
        actor_id=user.id,
        action="lead.assigned",
        entity=lead,
        before={"assignee_id": lead.assignee_id},
        after={"assignee_id": new_id},
    )
    lead.assignee_id = new_id
    return True
