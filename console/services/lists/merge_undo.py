"""Undoing a merge of two leads: the merged lead back as it was, and what moved, moved back.

A merge keeps a snapshot of the lead it merged away in merge_history.details
(`resolve.merge_snapshot`): its lead, business and owner rows, phones and emails, the
ids of the sources, match keys, consent events and audit events it moved onto the
survivor, and the survivor's own facts before. An undo is refused, with the reason,
when it can no longer be done faithfully. Nothing here imports Flask.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from console.models import (
    AuditEvent,
    Business,
    Email,
    Lead,
    MatchReview,
    MergeHistory,
    Owner,
    Phone,
)
from console.models.base import UTCDateTime, utcnow
from console.services.lists import resolve
from console.services.tenancy import scoped


class UndoRefused(Exception):
    """The merge cannot be undone; the message says why, for the person who asked."""


def merge_of_review(session: Session, review: MatchReview) -> MergeHistory | None:
    """The merge a merged pair led to: the newest one of its newer lead into its older one."""
    if review.status != "merged" or not review.lead_code:
        return None
    return session.scalars(
        scoped(MergeHistory, review.team_id)
        .where(
            MergeHistory.merged_code == review.lead_code,
            MergeHistory.survivor_id == review.other_lead_id,
        )
        .order_by(MergeHistory.id.desc())
        .limit(1)
    ).first()


def undo_problem(session: Session, history: MergeHistory) -> str:
    """Why `history` cannot be undone, in words; "" when it can."""
    details = history.details or {}
    if details.get("undone_at"):
        return f"The merge of {history.merged_code} was already undone."
    if not details.get("snapshot"):
        return (
            f"{history.merged_code} was merged before merges kept a copy of the merged lead, "
            "so it cannot be brought back."
        )
    survivor = session.get(Lead, history.survivor_id) if history.survivor_id else None
    if survivor is None or survivor.team_id != history.team_id:
        return (
            f"The lead {history.merged_code} was merged into has since been deleted or merged "
            "into another lead, so the merge cannot be undone."
        )
    later = session.scalars(
        scoped(MergeHistory, history.team_id).where(
            MergeHistory.survivor_id == survivor.id,
            MergeHistory.id > history.id,
            MergeHistory.merged_id.is_not(None),
        )
    ).all()
    later = [h for h in later if not (h.details or {}).get("undone_at")]
    if later:
        codes = ", ".join(h.merged_code for h in later)
        return f"{survivor.code} has taken in {codes} since; undo that merge first."
    taken = session.scalar(
        scoped(Lead, history.team_id)
        .where(Lead.code == history.merged_code)
        .with_only_columns(Lead.id)
    )
    if taken is not None:
        return f"A lead {history.merged_code} exists again, so the merged lead cannot come back."
    return ""


def undo_merge(session: Session, history: MergeHistory, actor_id: int | None) -> Lead:
    """Bring the merged lead back as it was and move back what the merge moved (audited
    `lead.merge_undone`); UndoRefused when that is no longer possible. The caller commits."""
    problem = undo_problem(session, history)
    if problem:
        raise UndoRefused(problem)
    snap = history.details["snapshot"]
    survivor = session.get(Lead, history.survivor_id)
    before = snap["survivor"]
    business = _restore_entity(session, Business, snap["business"], snap)
    owner = _restore_entity(session, Owner, snap["owner"], snap)
    _give_back_adopted(survivor, before, business, owner)
    _unfill(survivor, history.details.get("fields_filled", []), snap)
    _remove_contacts(session, survivor, history.details)
    lead = _restore_entity(session, Lead, {**snap["lead"], "business_id": None, "owner_id": None})
    lead.business, lead.owner = business, owner
    _restore_survivor_facts(survivor, before, snap["lead"])
    session.flush()
    _move_back(session, snap["moved"], survivor.id, lead.id)
    _reopen_review(session, history, survivor, lead)
    history.details = {
        **history.details,
        "undone_at": utcnow().isoformat(),
        "undone_by_id": actor_id,
        "restored_id": lead.id,
    }
    session.add(
        AuditEvent(
            team_id=history.team_id,
            actor_id=actor_id,
            action="lead.merge_undone",
            entity_type="leads",
            entity_id=lead.id,
            before={"survivor_code": survivor.code, "merge_id": history.id},
            after={"restored_code": lead.code, "restored_id": lead.id},
        )
    )
    session.flush()
    return lead


def _loaded(model, values: dict) -> dict:
    """Snapshot values as the model's columns take them (ISO text back to times)."""
    columns = model.__table__.columns
    loaded = {}
    for key, value in values.items():
        if key not in columns:
            continue
        if isinstance(value, str) and isinstance(columns[key].type, UTCDateTime):
            value = datetime.fromisoformat(value)
        loaded[key] = value
    return loaded


def _restore_entity(session: Session, model, values: dict | None, snap: dict | None = None):
    """The row from the snapshot: still there (shared or adopted), or made again, with its
    old id when that is free. A business or owner made again gets its phones and emails."""
    if values is None:
        return None
    existing = session.get(model, values["id"])
    if existing is not None and model is not Lead and existing.team_id == values["team_id"]:
        return existing
    loaded = _loaded(model, values)
    if existing is not None:
        loaded.pop("id")  # the old id went to another row meanwhile (SQLite reuses them)
    entity = model(**loaded)
    session.add(entity)
    session.flush()
    if snap is not None:
        column = "business_id" if model is Business else "owner_id"
        for contact_model, rows in ((Phone, snap["phones"]), (Email, snap["emails"])):
            for row in rows:
                if row.get(column) == values["id"]:
                    kept = {k: v for k, v in _loaded(contact_model, row).items() if k != "id"}
                    session.add(contact_model(**{**kept, column: entity.id}))
        session.flush()
        session.expire(entity, ["phones", "emails"])
    return entity


def _give_back_adopted(survivor: Lead, before: dict, business, owner) -> None:
    """A survivor that had no business (or owner) took the merged lead's: it gives it back."""
    if before["business_id"] is None and business is not None:
        survivor.business = None
    if before["owner_id"] is None and owner is not None:
        survivor.owner = None


def _unfill(survivor: Lead, filled: list[str], snap: dict) -> None:
    """Blank the survivor's fields the merge filled from the merged lead, if still as filled."""
    for entity, values, fields in (
        (survivor.business, snap["business"], resolve.BUSINESS_FIELDS),
        (survivor.owner, snap["owner"], resolve.OWNER_FIELDS),
    ):
        if entity is None or values is None:
            continue
        for name in fields:
            if name in filled and getattr(entity, name) == values.get(name):
                blank = "" if isinstance(values.get(name), str) else None
                setattr(entity, name, blank)


def _remove_contacts(session: Session, survivor: Lead, details: dict) -> None:
    """The phones and emails the merge copied onto the survivor go."""
    phones, emails = set(details.get("phones_added", [])), set(details.get("emails_added", []))
    for phone in list(survivor.phones):
        if phone.e164 in phones:
            session.delete(phone)
    for email in list(survivor.emails):
        if email.address in emails:
            session.delete(email)
    session.flush()
    session.expire(survivor)


def _restore_survivor_facts(survivor: Lead, before: dict, merged: dict) -> None:
    """Tags, custom fields, status and scores the merge brought back to what they were,
    keeping whatever people changed on the survivor since."""
    added_tags = set(merged.get("tags") or []) - set(before["tags"] or [])
    survivor.tags = sorted(set(survivor.tags or []) - added_tags)
    added_keys = set(merged.get("custom_fields") or {}) - set(before["custom_fields"] or {})
    survivor.custom_fields = {
        k: v for k, v in (survivor.custom_fields or {}).items() if k not in added_keys
    }
    for name in ("status", "quality_score", "priority", "last_contacted_at"):
        value = getattr(survivor, name)
        taken = merged.get(name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value == taken and taken != before[name]:
            setattr(survivor, name, _loaded(Lead, {name: before[name]})[name])


def _move_back(session: Session, moved: dict, survivor_id: int, lead_id: int) -> None:
    """What the merge moved (sources, keys, consent events, notes, tasks, texts, replies,
    deals...) and the lead's audit events go back to the lead."""
    for key, model in resolve.MOVED_BY_MERGE.items():
        if moved.get(key):
            session.execute(
                update(model)
                .where(model.id.in_(moved[key]), model.lead_id == survivor_id)
                .values(lead_id=lead_id)
                .execution_options(synchronize_session=False)
            )
    if moved.get("audit_events"):
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id.in_(moved["audit_events"]))
            .values(entity_id=lead_id)
            .execution_options(synchronize_session=False)
        )


def _reopen_review(session: Session, history: MergeHistory, survivor: Lead, lead: Lead) -> None:
    """The pair whose decision was this merge waits for a decision again."""
    review = session.scalars(
        scoped(MatchReview, history.team_id).where(
            MatchReview.status == "merged",
            MatchReview.lead_code == history.merged_code,
            MatchReview.other_lead_id == survivor.id,
        )
    ).first()
    if review is not None:
        review.lead_id, review.status = lead.id, "pending"
        review.decided_by_id = review.decided_at = None
