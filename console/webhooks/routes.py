"""Twilio's calls to the console. No login: each request is proved by its signature,
checked against the URL Twilio was given (`PUBLIC_BASE_URL`), before anything is stored."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator

from console.extensions import csrf, db
from console.services import delivery

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _signed() -> bool:
    """Whether the request carries Twilio's signature for exactly what it sent."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN", "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    return RequestValidator(token).validate(url, request.form, signature)


@bp.post("/twilio/status")
@csrf.exempt
def twilio_status():
    """A message status callback: recorded once per (SID, status), moving only forward."""
    if not _signed():
        abort(403)
    delivery.apply_callback(db.session, request.form)
    db.session.commit()
    return "", 204
