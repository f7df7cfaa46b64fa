"""Writing the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from console.models import AuditEvent


def record(
    session: Session,
    *,
    team_id: int,
    actor_id: int | None,
    action: str,
    entity: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Add an audit event for `action` on `entity` (a model instance or None)."""
    event = AuditEvent(
        team_id=team_id,
        actor_id=actor_id,
        action=action,
        entity_type=entity.__tablename__ if entity is not None else "",
        entity_id=getattr(entity, "id", None),
        before=before,
        after=after,
    )
    session.add(event)
    return event
