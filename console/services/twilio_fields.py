"""What Twilio's webhooks may carry: the formats of its SIDs and addresses and the bounds
on every value, checked at the edge so a bad request is refused (400) before anything
is stored, alike on SQLite and PostgreSQL.

The SID patterns are those of Twilio's OpenAPI description (twilio/twilio-oai).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# E.164 or a short code, optionally behind a channel prefix ("whatsapp:+1512...").
ADDRESS = re.compile(r"(?:[a-z]{1,16}:)?\+?[0-9]{3,15}")
STATUS = re.compile(r"[a-z_-]{1,20}")
ERROR_CODE = re.compile(r"[0-9]{1,6}")
# Twilio's longest concatenated SMS; a longer inbound body is kept to this many characters.
BODY_LIMIT = 1600
# Any other value Twilio posts (media URLs, cities, ZIPs...) is far shorter than this.
FIELD_LIMIT = 1024
NAME_LIMIT = 64
FIELDS_LIMIT = 100

_SIDS = {
    "MessageSid": MESSAGE_SID,
    "SmsSid": MESSAGE_SID,
    "SmsMessageSid": MESSAGE_SID,
    "AccountSid": ACCOUNT_SID,
    "MessagingServiceSid": SERVICE_SID,
}


def inbound_problem(form: Mapping[str, str]) -> str:
    """Why an inbound-text webhook's form cannot be a text from Twilio, "" if it can."""
    if not (form.get("MessageSid") or form.get("SmsSid")):
        return "no MessageSid"
    for name in ("From", "To"):
        if not form.get(name):
            return f"no {name}"
    return _problem(form, long_body=True)


def status_problem(form: Mapping[str, str]) -> str:
    """Why a status callback's form cannot be Twilio's, "" if it can."""
    if not (form.get("MessageSid") or form.get("SmsSid")):
        return "no MessageSid"
    return _problem(form, long_body=False)


def _problem(form: Mapping[str, str], *, long_body: bool) -> str:
    """The first value out of format or bounds: SIDs, addresses, status, error code."""
    if len(form) > FIELDS_LIMIT:
        return f"more than {FIELDS_LIMIT} fields"
    for name in form:
        value = form[name]
        if len(name) > NAME_LIMIT or "\x00" in name or "\x00" in value:
            return f"field {name[:NAME_LIMIT]!r} is malformed"
        if not (long_body and name == "Body") and len(value) > FIELD_LIMIT:
            return f"{name} is longer than {FIELD_LIMIT} characters"
    checks = {
        **_SIDS,
        "From": ADDRESS,
        "To": ADDRESS,
        "MessageStatus": STATUS,
        "SmsStatus": STATUS,
        "ErrorCode": ERROR_CODE,
    }
    for name, pattern in checks.items():
        value = form.get(name)
        if value and not pattern.fullmatch(value):
            return f"{name} is not in Twilio's format"
    return ""
