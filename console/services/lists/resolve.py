"""Entity resolution: the confidence rules, the blocking keys, and merging two leads.

A lead's blocking keys (`match_keys`) are written when it is created or joined by a
row: its phones, emails, owner name with address or ZIP, business name with ZIP, and
the distinctive words of its name within its ZIP and city. A new row looks up only its
own keys, so matching costs the same for the millionth row as for the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from rapidfuzz import fuzz, process
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from console.models import (
    AuditEvent,
    Business,
    ConsentEvent,
    Conversation,
    Deal,
    Email,
    InboundMessage,
    InboxItem,
    Lead,
    LeadSource,
    MatchKey,
    MatchReview,
    MergeHistory,
    Message,
    Note,
    Owner,
    Phone,
    SkipTraceResult,
    Task,
    Team,
)
from console.models.base import utcnow
from console.models.leads import LEAD_STATUSES
from console.services import bulk
from console.services.tenancy import of_team


@dataclass(frozen=True)
class Rule:
    """A way two records are found to be the same, how sure it is, and what it does."""

    name: str
    score: int
    action: str  # "merge" or "review"
    label: str


# The confidence table. Exact rules are tried in this order; the first hit decides.
RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("same_row", 100, "merge", "Same row imported before"),
        Rule("owner_phone", 100, "merge", "Same phone"),
        Rule("owner_email", 95, "merge", "Same email"),
        Rule("business_name_zip", 95, "merge", "Same business name and ZIP"),
        Rule("owner_name_address", 90, "merge", "Same owner name and address"),
        Rule("owner_name_zip", 70, "review", "Same owner name and ZIP"),
        Rule("business_fuzzy", 80, "review", "Similar business name, same ZIP or city"),
    )
}
EXACT_RULES: tuple[str, ...] = (
    "same_row",
    "owner_phone",
    "owner_email",
    "business_name_zip",
    "owner_name_address",
    "owner_name_zip",
)
KEY_PREFIX: dict[str, str] = {
    "same_row": "row:",
    "owner_phone": "ph:",
    "owner_email": "em:",
    "business_name_zip": "bz:",
    "owner_name_address": "oa:",
    "owner_name_zip": "oz:",
}
RULE_OF_PREFIX: dict[str, str] = {prefix: rule for rule, prefix in KEY_PREFIX.items()}
FUZZY_THRESHOLD = 80
# Owner rules join two rows only if their businesses are not plainly different ones: the
# same person may own a roofing firm and a pool supply store at one address.
OWNER_RULES = frozenset({"owner_phone", "owner_email", "owner_name_address", "owner_name_zip"})
DIFFERENT_BUSINESS_BELOW = 70
FUZZY_PREFIXES = ("fz:", "fc:")
# A fuzzy block this large is a common word in a busy place: it says little and costs a
# lot, so it is closed (block purging) and matching stays linear.
MAX_FUZZY_BLOCK = 50


@dataclass(frozen=True)
class Identity:
    """The normalized facts of a record that the rules compare."""

    fingerprint: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    owner_key: str = ""
    business_key: str = ""
    street_key: str = ""
    zip5: str = ""
    city_key: str = ""
    name_tokens: tuple[str, ...] = ()


@lru_cache(maxsize=8192)
def exact_keys(identity: Identity) -> tuple[tuple[str, str], ...]:
    """(rule, key) pairs of a record, strongest rule first."""
    keys: list[tuple[str, str]] = []
    if identity.fingerprint:
        keys.append(("same_row", "row:" + identity.fingerprint))
    keys += [("owner_phone", "ph:" + phone) for phone in identity.phones]
    keys += [("owner_email", "em:" + email) for email in identity.emails]
    if identity.business_key and identity.zip5:
        keys.append(("business_name_zip", f"bz:{identity.business_key}|{identity.zip5}"))
    if identity.owner_key and identity.street_key and identity.zip5:
        keys.append(
            (
                "owner_name_address",
                f"oa:{identity.owner_key}|{identity.street_key}|{identity.zip5}",
            )
        )
    if identity.owner_key and identity.zip5:
        keys.append(("owner_name_zip", f"oz:{identity.owner_key}|{identity.zip5}"))
    return tuple((rule, key[:255]) for rule, key in keys)


@lru_cache(maxsize=8192)
def fuzzy_keys(identity: Identity) -> tuple[str, ...]:
    """The blocks a business name is compared in.

    In its ZIP, names sharing their first two letters (a typo anywhere else still
    meets its twin); in its city, names sharing a distinctive word.
    """
    if not identity.business_key:
        return ()
    keys = [f"fz:{identity.zip5}|{identity.business_key[:2]}"] if identity.zip5 else []
    if identity.city_key:
        keys += [f"fc:{identity.city_key}|{token}" for token in identity.name_tokens[:2]]
    return tuple(key[:255] for key in keys)


def stored_keys(identity: Identity, fuzzy_accepted: Iterable[str]) -> list[tuple[str, str]]:
    """(key, value) rows to store for a record: its exact keys and the fuzzy blocks it joined."""
    name = identity.business_key[:255]
    return [(key, name) for _, key in exact_keys(identity)] + [
        (key, name) for key in fuzzy_accepted
    ]


def name_similarity(left: str, right: str) -> int:
    """How alike two normalized business names are, 0-100 (word order does not count)."""
    return round(fuzz.token_sort_ratio(left, right))


@dataclass(frozen=True)
class Match:
    """What resolution found for a record: a rule, its score, and the target."""

    rule: str
    score: int
    target: object  # a lead id, or a handle the caller understands

    @property
    def action(self) -> str:
        """merge or review."""
        return RULES[self.rule].action


def best_match(
    identity: Identity,
    exact: dict[str, tuple[object, str]],
    fuzzy: dict[str, dict[object, tuple[object, str]]],
) -> Match | None:
    """The strongest match for a record given the targets its keys point to.

    `exact` maps a key to (target, business name); `fuzzy` maps a fuzzy block key to
    {target marker: (target, business name)}. Exact rules win in the table's order,
    owner rules only between rows of alike businesses; otherwise the most similar
    business name in the same ZIP or city, if at least FUZZY_THRESHOLD.
    """
    for rule, key in exact_keys(identity):
        found = exact.get(key)
        if found is None:
            continue
        target, name = found
        if rule in OWNER_RULES and _different_businesses(identity.business_key, name):
            continue
        return Match(rule, RULES[rule].score, target)
    candidates: dict[object, tuple[object, str]] = {}
    for key in fuzzy_keys(identity):
        block = fuzzy.get(key)
        if block:
            candidates.update(block)
    if not candidates:
        return None
    pairs = list(candidates.values())
    digits = _digits(identity.business_key)
    for _, score, index in process.extract(
        identity.business_key,
        [name for _, name in pairs],
        scorer=fuzz.token_sort_ratio,
        score_cutoff=FUZZY_THRESHOLD,
        limit=5,
    ):
        # "Subway 1234" and "Subway 5678" are two stores, however alike their names.
        if _digits(pairs[index][1]) == digits:
            return Match("business_fuzzy", round(score), pairs[index][0])
    return None


def _digits(name: str) -> tuple[str, ...]:
    return tuple(token for token in name.split() if token.isdigit())


def marker(target: object) -> object:
    """A hashable identity for a match target: a lead id, or the object itself."""
    return target if isinstance(target, int) else id(target)


def _different_businesses(left: str, right: str) -> bool:
    """Whether two names are plainly two businesses. Plain similarity counts too: a typo
    at the start of a word ("troys auto are") throws the word-sorted score off."""
    if not (left and right):
        return False
    return max(fuzz.ratio(left, right), name_similarity(left, right)) < DIFFERENT_BUSINESS_BELOW


def lock_team(session: Session, team_id: int) -> None:
    """Hold the team's resolution lock until this transaction ends.

    Resolving reads a team's keys and then writes leads; two imports (or an import and a
    review merge) doing that at once would both miss each other's rows. Updating the
    team row first makes them take turns, on PostgreSQL (a row lock) and SQLite (the
    write lock) alike, and each then reads what the other committed.
    """
    session.execute(update(Team).where(Team.id == team_id).values(lead_seq=Team.lead_seq))


def lookup_keys(
    session: Session, team_id: int, exact_wanted: Iterable[str], fuzzy_wanted: Iterable[str]
) -> tuple[dict[str, tuple[int, str]], dict[str, dict | None], set[tuple[str, int]]]:
    """Existing leads behind a chunk's keys.

    Returns exact key -> (oldest lead id, name); fuzzy key -> {lead id: (lead id, name)},
    or None for a block that is full (MAX_FUZZY_BLOCK names: a word too common in its
    place to tell anything), so reading blocks stays cheap; and the (key, lead id) pairs
    already stored, so none is stored twice.
    """
    exact: dict[str, tuple[int, str]] = {}
    stored: set[tuple[str, int]] = set()
    for batch in _batches(sorted(set(exact_wanted))):
        rows = session.execute(
            select(MatchKey.key, MatchKey.lead_id, MatchKey.value).where(
                of_team(MatchKey, team_id), bulk.in_list(session, MatchKey.key, batch)
            )
        )
        for key, lead_id, value in rows:
            stored.add((key, lead_id))
            if key not in exact or lead_id < exact[key][0]:
                # The oldest lead wins when a key points to several (kept apart by review).
                exact[key] = (lead_id, value)
    fuzzy: dict[str, dict | None] = {}
    for batch in _batches(sorted(set(fuzzy_wanted))):
        sizes = session.execute(
            select(MatchKey.key, func.count(func.distinct(MatchKey.lead_id)))
            .where(of_team(MatchKey, team_id), bulk.in_list(session, MatchKey.key, batch))
            .group_by(MatchKey.key)
        )
        small = []
        for key, size in sizes:
            if size >= MAX_FUZZY_BLOCK:
                fuzzy[key] = None
            else:
                small.append(key)
        if small:
            rows = session.execute(
                select(MatchKey.key, MatchKey.lead_id, MatchKey.value).where(
                    of_team(MatchKey, team_id), bulk.in_list(session, MatchKey.key, small)
                )
            )
            for key, lead_id, value in rows:
                fuzzy.setdefault(key, {})[lead_id] = (lead_id, value)
    return exact, fuzzy, stored


def _batches(keys: list[str], size: int = 5000) -> Iterable[list[str]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def accept_fuzzy(identity: Identity, target, fuzzy: dict[str, dict | None]) -> list[str]:
    """Put a record's name in its fuzzy blocks; the keys of the blocks it newly joined.

    A block that reaches MAX_FUZZY_BLOCK leads is closed (None): later names are not
    stored in it, and no row is compared within it. A lead already in a block (a row
    joining its own lead again) is not stored twice.
    """
    accepted = []
    for key in fuzzy_keys(identity):
        block = fuzzy.get(key, {})
        if block is None or marker(target) in block:
            continue
        block[marker(target)] = (target, identity.business_key)
        fuzzy[key] = block if len(block) < MAX_FUZZY_BLOCK else None
        accepted.append(key)
    return accepted


# --- merging two leads (the review queue) -------------------------------------------

# The facts a merge fills on the surviving lead when it has none (the name stays its own).
BUSINESS_FIELDS = (
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "county",
    "website",
    "sic_code",
    "naics_code",
    "industry",
    "employees_low",
    "employees_high",
    "revenue_low",
    "revenue_high",
)
OWNER_FIELDS = ("first_name", "last_name", "full_name", "title")


def fill_blanks(target, source, fields: Iterable[str]) -> list[str]:
    """Copy the fields `target` lacks from `source` (a record or a dict); those filled."""
    filled = []
    for name in fields:
        value = source.get(name) if isinstance(source, dict) else getattr(source, name)
        if value not in (None, "") and getattr(target, name) in (None, ""):
            setattr(target, name, value)
            filled.append(name)
    return filled


def merge_leads(
    session: Session,
    survivor: Lead,
    merged: Lead,
    *,
    rule: str,
    score: int,
    actor_id: int | None = None,
    import_id: int | None = None,
) -> MergeHistory:
    """Fold `merged` into `survivor`: contacts it lacks, blank fields, sources, keys, tags.

    The merged lead is deleted; its business and owner go too when no other lead uses
    them. merge_history and the audit trail keep both codes.
    """
    team_id = survivor.team_id
    details: dict[str, list] = {"phones_added": [], "emails_added": [], "fields_filled": []}
    kept = merge_snapshot(session, survivor, merged)
    if survivor.business is None and merged.business is not None:
        survivor.business = merged.business
    elif survivor.business is not None and merged.business is not None:
        details["fields_filled"] += fill_blanks(survivor.business, merged.business, BUSINESS_FIELDS)
    if survivor.owner is None and merged.owner is not None:
        survivor.owner = merged.owner
    elif survivor.owner is not None and merged.owner is not None:
        details["fields_filled"] += fill_blanks(survivor.owner, merged.owner, OWNER_FIELDS)
    details["phones_added"], details["emails_added"] = _copy_contacts(session, survivor, merged)
    survivor.tags = sorted(set(survivor.tags or []) | set(merged.tags or []))
    survivor.custom_fields = {**(merged.custom_fields or {}), **(survivor.custom_fields or {})}
    _keep_the_stricter_state(survivor, merged)
    # Everything that tells the merged lead's story moves to the survivor's timeline
    # (notes and tasks, skip-trace calls, texts, replies and deals would be deleted or
    # orphaned with it); the snapshot above keeps which rows, for an undo.
    for model in MOVED_BY_MERGE.values():
        session.execute(update(model).where(model.lead_id == merged.id).values(lead_id=survivor.id))
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.entity_type == "leads", AuditEvent.entity_id == merged.id)
        .values(entity_id=survivor.id)
    )
    _repoint_reviews(session, survivor, merged)
    history = MergeHistory(
        team_id=team_id,
        survivor_id=survivor.id,
        merged_id=merged.id,
        merged_code=merged.code,
        import_id=import_id,
        rule=rule,
        score=score,
        actor_id=actor_id,
        details={**details, "snapshot": kept},
    )
    session.add(history)
    session.add(
        AuditEvent(
            team_id=team_id,
            actor_id=actor_id,
            action="lead.merged",
            entity_type="leads",
            entity_id=survivor.id,
            before={"merged_code": merged.code, "merged_id": merged.id},
            after={"rule": rule, "score": score, **details},
        )
    )
    orphans = [merged.business, merged.owner]
    # The sources moved by the UPDATE above: neither side's loaded list may act on them.
    session.expire(survivor, ["sources"])
    session.expire(merged, ["sources"])
    session.delete(merged)
    session.flush()
    for entity in orphans:
        if entity is not None and entity not in (survivor.business, survivor.owner):
            _delete_if_unused(session, entity)
    return history


# What a merge may change on the surviving lead itself, kept so an undo can put it back.
SURVIVOR_FIELDS = (
    "business_id",
    "owner_id",
    "status",
    "quality_score",
    "priority",
    "last_contacted_at",
    "tags",
    "custom_fields",
)


def row_values(entity) -> dict:
    """An entity's columns as JSON-safe values (times as ISO text), for merge_history."""
    values = {}
    for attr in entity.__mapper__.column_attrs:
        if attr.key.startswith("_"):
            continue
        value = getattr(entity, attr.key)
        values[attr.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


# The rows of a lead that a merge hands to the survivor (by their `lead_id`), named as
# the merge's snapshot lists them; an undo hands the same rows back.
MOVED_BY_MERGE = {
    "sources": LeadSource,
    "match_keys": MatchKey,
    "consent_events": ConsentEvent,
    "notes": Note,
    "tasks": Task,
    "trace_results": SkipTraceResult,
    "messages": Message,
    "inbound_messages": InboundMessage,
    "inbox_items": InboxItem,
    "conversations": Conversation,
    "deals": Deal,
}


def merge_snapshot(session: Session, survivor: Lead, merged: Lead) -> dict:
    """The merged lead as it was (lead, business, owner, phones, emails), what it owned
    that the merge moves, and the survivor's own facts: all an undo needs."""

    def ids(model, column) -> list[int]:
        return list(session.scalars(select(model.id).where(column == merged.id)))

    return {
        "lead": row_values(merged),
        "business": row_values(merged.business) if merged.business else None,
        "owner": row_values(merged.owner) if merged.owner else None,
        "phones": [row_values(p) for p in merged.phones],
        "emails": [row_values(e) for e in merged.emails],
        "moved": {
            **{key: ids(model, model.lead_id) for key, model in MOVED_BY_MERGE.items()},
            "audit_events": list(
                session.scalars(
                    select(AuditEvent.id).where(
                        AuditEvent.entity_type == "leads", AuditEvent.entity_id == merged.id
                    )
                )
            ),
        },
        "survivor": {
            name: (v.isoformat() if isinstance(v := getattr(survivor, name), datetime) else v)
            for name in SURVIVOR_FIELDS
        },
    }


def _keep_the_stricter_state(survivor: Lead, merged: Lead) -> None:
    """The merged lead's status wins when it is further along (do-not-contact is last),
    and the higher score and priority stay: a merge never makes a lead look newer."""
    if LEAD_STATUSES.index(merged.status) > LEAD_STATUSES.index(survivor.status):
        survivor.status = merged.status
    for name in ("quality_score", "priority"):
        values = [v for v in (getattr(survivor, name), getattr(merged, name)) if v is not None]
        setattr(survivor, name, max(values) if values else None)
    if merged.last_contacted_at and (
        survivor.last_contacted_at is None or merged.last_contacted_at > survivor.last_contacted_at
    ):
        survivor.last_contacted_at = merged.last_contacted_at


def _repoint_reviews(session: Session, survivor: Lead, merged: Lead) -> None:
    """Pending pairs that named the merged lead now name the survivor (none twice)."""
    pending = session.scalars(
        select(MatchReview).where(
            (MatchReview.lead_id == merged.id) | (MatchReview.other_lead_id == merged.id),
            MatchReview.status == "pending",
        )
    ).all()
    pairs = set(
        session.execute(
            select(MatchReview.lead_id, MatchReview.other_lead_id).where(
                (MatchReview.lead_id == survivor.id) | (MatchReview.other_lead_id == survivor.id)
            )
        ).all()
    )
    for review in pending:
        if review.lead_id == merged.id:
            review.lead_id, review.lead_code = survivor.id, survivor.code
        if review.other_lead_id == merged.id:
            review.other_lead_id, review.other_code = survivor.id, survivor.code
        pair = (review.lead_id, review.other_lead_id)
        if review.lead_id == review.other_lead_id or pair in pairs:
            session.delete(review)  # the pair is now one lead, or already waits as another
        else:
            pairs.add(pair)


def _copy_contacts(session: Session, survivor: Lead, merged: Lead) -> tuple[list, list]:
    """Move the merged lead's phones and emails the survivor lacks onto the survivor."""
    have_phones = {p.e164 for p in survivor.phones}
    phones_added, emails_added = [], []
    for phone in merged.phones:
        if phone.e164 in have_phones:
            continue
        have_phones.add(phone.e164)
        phones_added.append(phone.e164)
        session.add(
            Phone(
                team_id=survivor.team_id,
                owner_id=survivor.owner_id if phone.owner_id else None,
                business_id=survivor.business_id if not phone.owner_id else None,
                e164=phone.e164,
                extension=phone.extension,
                kind=phone.kind,
                line_type=phone.line_type,
                carrier=phone.carrier,
                textable=phone.textable,
                source=phone.source,
                validated_at=phone.validated_at,
            )
        )
    holder = survivor.owner or survivor.business
    have_emails = {e.address for e in (holder.emails if holder else [])}
    merged_emails = merged.emails
    if holder is not None:
        for email in merged_emails:
            if email.address not in have_emails:
                have_emails.add(email.address)
                emails_added.append(email.address)
                holder.emails.append(
                    Email(team_id=survivor.team_id, address=email.address, source=email.source)
                )
    return phones_added, emails_added


def _delete_if_unused(session: Session, entity: Business | Owner) -> None:
    column = Lead.business_id if isinstance(entity, Business) else Lead.owner_id
    in_use = session.scalar(select(Lead.id).where(column == entity.id).limit(1))
    if in_use is None:
        session.delete(entity)


def decide_review(
    session: Session, review: MatchReview, decision: str, actor_id: int | None
) -> MatchReview:
    """Apply a person's decision on an uncertain pair: `merge` or `keep_apart`.

    Merging keeps the older lead (the one already in the team) and folds the newer one
    into it. Deciding a pair already decided changes nothing.
    """
    if review.status != "pending":
        return review
    if decision not in ("merge", "keep_apart"):
        raise ValueError(f"Unknown decision {decision!r}.")
    survivor = session.get(Lead, review.other_lead_id)
    newer = session.get(Lead, review.lead_id)
    review.decided_by_id = actor_id
    review.decided_at = utcnow()
    if decision == "merge" and survivor is not None and newer is not None:
        review.status = "merged"
        session.flush()
        merge_leads(
            session,
            survivor,
            newer,
            rule=review.rule,
            score=review.score,
            actor_id=actor_id,
            import_id=review.import_id,
        )
    else:
        review.status = "kept_apart"
        session.add(
            AuditEvent(
                team_id=review.team_id,
                actor_id=actor_id,
                action="lead.kept_apart",
                entity_type="leads",
                entity_id=review.lead_id,
                after={"other_lead_id": review.other_lead_id, "rule": review.rule},
            )
        )
    session.flush()
    return review
