"""Phone numbers in purchased lists: parsing to E.164 (`parse_phone`) and the kind of line.

Called once per imported row, so the common North American shapes have a cheap fast
path, tested to give exactly the answer of the phonenumbers-backed slow path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from console.services.lists.normalize import clean_text


@dataclass(frozen=True)
class PhoneResult:
    """A parsed phone number: E.164 when valid, the extension kept aside, or why not."""

    e164: str
    extension: str
    valid: bool
    reason: str


_PHONE_LABEL = re.compile(
    r"^(?:tel(?:ephone)?|ph(?:one)?|office|main|work|cell|mobile|direct|[ocmhw])\s*[:.]?\s*"
    r"(?=[+(\d])",
    re.IGNORECASE,
)
_PHONE_NOTE = re.compile(
    r"\s*(?:\([a-z .]*\)|\b(?:cell|mobile|office|work|home|main|fax|direct)\b\.?)\s*$", re.I
)
_EXTENSION = re.compile(r"\s*[,;]?\s*(?:ext(?:ension|n)?|x|#)\.?\s*(\d{1,7})\s*$", re.I)
_EXCEL_FLOAT = re.compile(r"(\d+)\.0+")
_EXCEL_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d{1,2}")
_VANITY = re.compile(r"\+?[\d\s().-]*\d[\s().-]*(?:[A-Za-z][\s.-]*){3,}[A-Za-z\d\s.-]*")
_PLAIN_PHONE = re.compile(r"[\d\s().+-]+")
_NON_DIGIT = re.compile(r"\D")
_KEYPAD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")
_NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
# NANP prefixes whose validity depends on the 7th digit (Barbados, Jamaica); every other
# 10-digit NANP number is valid or not by its first six digits (NPA-NXX). Checked against
# the installed phonenumbers metadata by tests/unit/lists/test_normalize_fastpaths.py.
_SEVEN_DIGIT_PREFIXES = frozenset({"246521", "246522", "876606"})
_KINDS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
}
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_IMPOSSIBLE = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "missing area code",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}


def _unexcel(text: str) -> str:
    """Undo a spreadsheet's number formatting: `5125550142.0`, `5.125550142E9`."""
    match = _EXCEL_FLOAT.fullmatch(text)
    if match:
        return match.group(1)
    if _EXCEL_SCIENTIFIC.fullmatch(text):
        try:
            value = Decimal(text)
        except InvalidOperation:
            return text
        if value == value.to_integral_value():
            return str(int(value))
    return text


def _unvanity(text: str) -> str:
    """Letters of a vanity number as keypad digits; extra letters past 10 digits dropped."""
    digits = _NON_DIGIT.sub("", text.upper().translate(_KEYPAD))
    if digits.startswith("1"):
        return "1" + digits[1:11]
    return digits[:10]


def _nanp_national(text: str) -> str | None:
    """The 10 national digits of a plain NANP number (`(512) 555-0142`), else None."""
    if not _PLAIN_PHONE.fullmatch(text):
        return None
    digits = _NON_DIGIT.sub("", text)
    if "+" in text and not (text.startswith("+") and text.count("+") == 1 and len(digits) == 11):
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) == 10 and digits[0] in "23456789":
        return digits
    return None


def _nanp_key(national: str) -> str:
    """The prefix of a NANP number that decides its validity and kind."""
    key = national[:6]
    return national[:7] if key in _SEVEN_DIGIT_PREFIXES else key


@lru_cache(maxsize=65536)
def _nanp_valid(key: str) -> bool:
    """Whether NANP numbers starting with `key` are valid, per phonenumbers."""
    number = _nanp_representative(key)
    # The US is the first +1 region and has no leading-digit rule, so a number valid for
    # the US is what is_valid_number calls valid, at half the cost.
    return phonenumbers.is_valid_number_for_region(number, "US") or phonenumbers.is_valid_number(
        number
    )


@lru_cache(maxsize=65536)
def _nanp_kind(key: str) -> str:
    """The kind of line of NANP numbers starting with `key`, per phonenumbers."""
    if not _nanp_valid(key):
        return "unknown"
    return _KINDS.get(phonenumbers.number_type(_nanp_representative(key)), "unknown")


def _nanp_representative(key: str) -> phonenumbers.PhoneNumber:
    """A number standing for every NANP number starting with `key`."""
    return phonenumbers.PhoneNumber(country_code=1, national_number=int(key.ljust(10, "0")))


def _invalid_reason(number: phonenumbers.PhoneNumber, region: str) -> str:
    """Why a possible number is not valid, in plain words."""
    if number.country_code == phonenumbers.country_code_for_region(region):
        return f"not a valid {region} number"
    return "not a valid number"


def _parse_phone_slow(text: str, extension: str, region: str) -> PhoneResult:
    """Parse with phonenumbers: the reference answer the fast path must agree with."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        reason = _PARSE_ERRORS.get(error.error_type, "not a phone number")
        return PhoneResult("", extension, False, reason)
    extension = extension or number.extension or ""
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return PhoneResult("", extension, False, _IMPOSSIBLE.get(possible, "not a phone number"))
    if not phonenumbers.is_valid_number(number):
        return PhoneResult("", extension, False, _invalid_reason(number, region))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return PhoneResult(e164, extension, True, "")


def _phone_text(raw: str) -> tuple[str, str]:
    """The number part and the extension of a cleaned phone cell."""
    text = _PHONE_NOTE.sub("", _PHONE_LABEL.sub("", raw, count=1))
    text = _unexcel(text)
    extension = ""
    match = _EXTENSION.search(text)
    if match and match.start() > 0:
        text, extension = text[: match.start()], match.group(1)
    if _VANITY.fullmatch(text):
        text = _unvanity(text)
    return text, extension


def parse_phone(raw: str, region: str = "US") -> PhoneResult | None:
    """Parse a phone cell to E.164; None when blank.

    Understands `(512) 555-0142`, `+1 512 555 0142`, `512-555-0142 x204`, spreadsheet
    mangling (`5125550142.0`, `5.125550142E9`) and vanity numbers (`1-800-FLOWERS`).
    Invalid numbers come back with `valid=False`, an empty `e164` and a reason.
    Plain 10/11-digit NANP numbers skip phonenumbers.parse; their validity is looked
    up once per NPA-NXX prefix.
    """
    cleaned = clean_text(raw)
    if not cleaned:
        return None
    if _PLAIN_PHONE.fullmatch(cleaned) and not _EXCEL_FLOAT.fullmatch(cleaned):
        text, extension = cleaned, ""
    else:
        text, extension = _phone_text(cleaned)
    national = _nanp_national(text) if region in _NANP_REGIONS else None
    if national is None:
        return _parse_phone_slow(text, extension, region)
    if _nanp_valid(_nanp_key(national)):
        return PhoneResult("+1" + national, extension, True, "")
    return PhoneResult("", extension, False, f"not a valid {region} number")


@lru_cache(maxsize=4096)
def _phone_kind_slow(e164: str) -> str:
    """The kind of a non-NANP number, per phonenumbers."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "unknown"
    return _KINDS.get(phonenumbers.number_type(number), "unknown")


def phone_kind(e164: str) -> str:
    """`mobile`, `landline`, `toll_free`, `voip` or `unknown` (most US numbers) for a number."""
    if len(e164) == 12 and e164.startswith("+1") and e164[2:].isdigit():
        return _nanp_kind(_nanp_key(e164[2:]))
    return _phone_kind_slow(e164)
