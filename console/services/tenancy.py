"""The one place that scopes customer data to a team.

Every query of a team's rows filters with `of_team` (or starts from `scoped`, or loads
one row with `get_scoped`), so a row of another team is simply not found; the web
layer turns that into a 404.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

M = TypeVar("M")


def of_team(model: Any, team_id: int) -> ColumnElement[bool]:
    """The condition that a row of `model` belongs to team `team_id`."""
    return model.team_id == team_id


def scoped(model: type[M], team_id: int) -> Select[tuple[M]]:
    """A SELECT of `model` limited to one team's rows."""
    return select(model).where(of_team(model, team_id))


def get_scoped(session: Session, model: type[M], team_id: int, row_id: int) -> M | None:
    """One row of `model` by id, or None when it is missing or another team's."""
    return session.scalars(scoped(model, team_id).where(model.id == row_id)).one_or_none()
