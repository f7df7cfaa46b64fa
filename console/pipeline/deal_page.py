"""The deal page: stage, value and outcome, the conversation with a reply box, the lead,
stage history, tasks and notes, the timeline and attribution."""

from __future__ import annotations

from console.pipeline.routes import bp  # noqa: F401
