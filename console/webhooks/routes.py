"""Twilio's calls to the console. No login: each request is proved by its signature,
checked against the URL Twilio was given (`PUBLIC_BASE_URL`), before anything is stored."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from console.extensions import csrf, db
from console.services import twilio_fields, webhook_log
from console.services.replies import inbound
from console.services.sending import delivery
from jobs.replies import enqueue_inbound, enqueue_reading

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _signed() -> bool:
    """Whether the request carries Twilio's signature for exactly what it sent."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN", "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    return RequestValidator(token).validate(url, request.form, signature)


@bp.after_request
def _count_failure(response: Response) -> Response:
    """Write a refused or failed request down for the Operations report; never let the
    writing change the answer Twilio gets."""
    if response.status_code >= 400:
        try:
            db.session.rollback()
            webhook_log.record_failure(
                db.session, request.endpoint or "", request.form, response.status_code
            )
        except Exception:  # noqa: BLE001 - the count is a report, the answer matters more
            db.session.rollback()
            log.exception("Could not record a failed webhook request")
    return response


@bp.post("/twilio/status")
@csrf.exempt
def twilio_status():
    """A message status callback: recorded once per (SID, status), moving only forward."""
    if not _signed():
        abort(403)
    _refuse_if(twilio_fields.status_problem(request.form))
    delivery.apply_callback(db.session, request.form)
    db.session.commit()
    return "", 204


@bp.post("/twilio/sms")
@csrf.exempt
def twilio_sms():
    """An owner's text: stored once per MessageSid, any opt-out committed, then answered
    with TwiML (the one confirmation, or nothing); reading and drafting run in a job."""
    if not _signed():
        abort(403)
    _refuse_if(twilio_fields.inbound_problem(request.form))
    try:
        reception = inbound.receive(db.session, request.form, defer=True)
    except ValueError:
        abort(400)
    if reception.needs_job:
        try:
            if reception.deferred:
                enqueue_inbound(current_app._get_current_object(), reception.inbound_id)
            else:
                enqueue_reading(current_app._get_current_object(), reception.item_id)
        except Exception:  # noqa: BLE001 - the ticker re-queues what was left
            log.exception("Could not queue the reading of inbound text %s", reception.inbound_id)
    if reception.handled == "no_team":
        log.warning("Inbound text %s matches no team's sender", reception.inbound_id)
    return twiml(reception.reply)


def _refuse_if(problem: str) -> None:
    """A 400, before anything is stored, for a value Twilio would never send."""
    if problem:
        log.warning("Refused a Twilio webhook: %s", problem)
        abort(400)


# What `MessagingResponse()` renders with no message: most answers, so built once.
EMPTY_TWIML = str(MessagingResponse())


def twiml(text: str) -> Response:
    """A TwiML answer: one message, or an empty <Response/> that sends nothing."""
    if not text:
        return Response(EMPTY_TWIML, mimetype="application/xml")
    answer = MessagingResponse()
    answer.message(text)
    return Response(str(answer), mimetype="application/xml")
