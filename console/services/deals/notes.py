"""Notes people write on a lead (or its deal)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from console.models import Deal, Lead, Note, User
from console.services.deals import staleness

MAX_NOTE = 5000


class NoteProblem(ValueError):
    """A note that cannot be kept (empty, too long)."""


def add_note(session: Session, lead: Lead, user: User, body: str, deal: Deal | None = None) -> Note:
    """Keep what `user` wrote about `lead` (on its `deal`, when written there: the note
    shows on both pages); the timeline shows it with their name."""
    body = (body or "").strip()
    if not body:
        raise NoteProblem("Write something first.")
    if len(body) > MAX_NOTE:
        raise NoteProblem(f"A note is at most {MAX_NOTE:,} characters.")
    note = Note(
        team_id=lead.team_id,
        lead_id=lead.id,
        deal_id=deal.id if deal is not None else None,
        body=body,
        author_id=user.id,
    )
    session.add(note)
    session.flush()
    staleness.touch(session, lead.team_id, note.created_at, lead_id=lead.id, deal_id=note.deal_id)
    return note
