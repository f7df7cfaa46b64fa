"""Line-type checks: can this number take a text?

Twilio Lookup v2 `line_type_intelligence` (a paid call) when Twilio is configured,
else the offline numbering plan (`phonenumbers`), which knows validity everywhere but
the line type only where the plan tells it (not for most US numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from console.services.lists.phone_numbers import parse_phone, phone_kind

# Lines that cannot receive an SMS: never texted.
NOT_TEXTABLE = frozenset(
    {"landline", "tollFree", "pager", "voicemail", "sharedCost", "uan", "premium"}
)
# Texts reach these, but they are often not the owner's phone in hand: flagged.
VOIP = frozenset({"fixedVoip", "nonFixedVoip", "voip"})
LINE_TYPE_LABELS = {
    "mobile": "Mobile",
    "landline": "Landline",
    "fixedVoip": "Fixed VoIP",
    "nonFixedVoip": "Non-fixed VoIP",
    "voip": "VoIP",
    "tollFree": "Toll-free",
    "personal": "Personal",
    "pager": "Pager",
    "voicemail": "Voicemail only",
    "sharedCost": "Shared cost",
    "uan": "Universal access",
    "premium": "Premium rate",
    "unknown": "Unknown",
    "": "Not checked",
}
# phonenumbers' kinds (console.services.lists.phone_numbers.phone_kind) in Twilio's words.
_OFFLINE_TYPES = {
    "mobile": "mobile",
    "landline": "landline",
    "toll_free": "tollFree",
    "voip": "voip",
}


@dataclass(frozen=True)
class LineType:
    """What a check said about one number."""

    e164: str
    valid: bool
    line_type: str  # Twilio's words: mobile, landline, nonFixedVoip, tollFree, unknown...
    carrier: str
    cost: Decimal
    source: str
    response: dict = field(default_factory=dict)

    @property
    def textable(self) -> bool:
        """Whether a text can reach the number."""
        return self.valid and self.line_type not in NOT_TEXTABLE


class LookupFailed(Exception):
    """A check that got no answer; `retryable` for 429, 5xx and network errors."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class OfflineLookup:
    """The numbering plan's answer: free, offline, silent on most US line types."""

    source = "offline"

    def check(self, e164: str) -> LineType:
        """Validity from the plan, and the line type where the plan knows it."""
        parsed = parse_phone(e164)
        valid = bool(parsed and parsed.valid)
        kind = _OFFLINE_TYPES.get(phone_kind(e164), "unknown") if valid else "unknown"
        return LineType(e164, valid, kind, "", Decimal(0), self.source, {"plan": kind})


class TwilioLookup:
    """Twilio Lookup v2 with line type intelligence, through the official SDK."""

    source = "twilio"

    def __init__(self, client: Client, price: Decimal) -> None:
        self.client = client
        self.price = price

    def check(self, e164: str) -> LineType:
        """Ask Twilio what line the number is on and who carries it."""
        try:
            number = self.client.lookups.v2.phone_numbers(e164).fetch(
                fields="line_type_intelligence"
            )
        except TwilioRestException as exc:
            if exc.status == 404:
                return LineType(
                    e164, False, "unknown", "", self.price, self.source, {"status": 404}
                )
            raise LookupFailed(
                f"Twilio Lookup answered {exc.status}: {exc.msg}",
                retryable=exc.status == 429 or exc.status >= 500,
            ) from exc
        except (TwilioException, requests.RequestException) as exc:
            raise LookupFailed(f"Twilio Lookup could not be reached: {exc}", True) from exc
        intelligence = number.line_type_intelligence or {}
        return LineType(
            e164,
            bool(number.valid),
            intelligence.get("type") or "unknown",
            intelligence.get("carrier_name") or "",
            self.price,
            self.source,
            {
                "valid": number.valid,
                "validation_errors": number.validation_errors,
                "line_type_intelligence": intelligence,
            },
        )
