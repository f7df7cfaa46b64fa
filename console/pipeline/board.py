"""The board: one column a stage of a pipeline, cards of deals, filters kept in the URL,
the list view and CSV of the same deals, and moves between stages."""

from __future__ import annotations

from console.pipeline.routes import bp  # noqa: F401
