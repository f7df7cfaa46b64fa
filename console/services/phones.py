"""Phone numbers: parsing to E.164 and telling what kind of line a number is.

Parsing lives in `console.services.lists.phone_numbers` (where list ingestion normalizes
phones); this module keeps the short forms the rest of the console uses.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import NumberParseException

from console.services.lists.phone_numbers import PhoneResult, parse_phone, phone_kind

__all__ = ["DEFAULT_REGION", "PhoneResult", "display", "parse_phone", "phone_kind", "to_e164"]

DEFAULT_REGION = "US"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (`+15125550142`), or None when it is not a valid number."""
    result = parse_phone(raw, region)
    return result.e164 if result is not None and result.valid else None


@functools.lru_cache(maxsize=8192)
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


def ranked(phones: list) -> list:
    """A lead's phones best first: verified mobiles, other mobiles, textable, then the rest;
    within each, the more confident source first."""

    def rank(phone) -> tuple:
        return (
            not phone.verified_mobile,
            phone.kind != "mobile",
            phone.textable is False,
            -(phone.confidence or 0),
        )

    return sorted(phones, key=rank)
