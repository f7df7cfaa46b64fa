"""The one place that scopes customer data to a team.

Every query of a team-owned model goes through `scoped` or `get_scoped`, so a row of
another team is simply not found (the web layer turns that into a 404).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from console.models.base import TeamOwned

M = TypeVar("M", bound=TeamOwned)


def scoped(model: type[M], team_id: int) -> Select[tuple[M]]:
    """A SELECT of `model` limited to one team's rows."""
    return select(model).where(model.team_id == team_id)


def get_scoped(session: Session, model: type[M], team_id: int, row_id: int) -> M | None:
    """One row of `model` by id, or None when it is missing or another team's."""
    return session.scalars(scoped(model, team_id).where(model.id == row_id)).one_or_none()
