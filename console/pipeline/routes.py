"""The pipeline blueprint: `/pipeline` (the board and the list of deals, their export,
moves between stages: `board`) and `/deals/<id>` (the deal page: `deal_page`)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pipeline", __name__)

from console.pipeline import board, deal_page  # noqa: E402, F401 - their routes join bp
