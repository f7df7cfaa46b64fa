"""Phone numbers: parsing to E.164 and telling what kind of line a number is."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException

DEFAULT_REGION = "US"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (`+15125550142`), or None when it is not a possible number."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """A number formatted for people: `(512) 555-0142` for US numbers."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
