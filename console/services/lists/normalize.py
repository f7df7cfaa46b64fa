"""Normalizing the values found in purchased business lists, one field at a time.

The one home for what counts as "the same" name, phone, email, address, business,
range and industry code. Every function is pure: it takes the raw text of a cell and
returns plain values or a frozen dataclass, so list imports, jobs, CLI commands and
tests share a single definition. Nothing here imports Flask or touches a database.

The hot paths (phones, street lines, emails) are called once per imported row, so
they have cheap fast paths for the common shapes, each tested to give exactly the
answer of the slow, library-backed path.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
import usaddress
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# --------------------------------------------------------------------------- text

_PLACEHOLDERS = frozenset(
    {
        "n/a", "na", "n.a.", "n.a", "#n/a", "null", "none", "nil", "nan", "unknown",
        "not available", "not applicable", "(blank)", "blank", "-", "--", "---", ".",
        "?", "??", "x", "tbd",
    }
)  # fmt: skip
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_FOLD_EXTRA = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)


def clean_text(value: str | None) -> str:
    """`value` trimmed, whitespace collapsed, control characters dropped; placeholders → ""."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable():
        text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    text = " ".join(text.split())
    if len(text) <= 16 and text.lower() in _PLACEHOLDERS:
        return ""
    return text


def _fold(text: str) -> str:
    """Lower case with accents folded to ASCII letters: `José Müller` → `jose muller`."""
    text = text.lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return "".join(c for c in text if not unicodedata.combining(c))


# -------------------------------------------------------------------------- names

# Lower case inside a name when another word follows: Maria de la Cruz, Bank of America.
_LOWER_INSIDE = frozenset(
    {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "le", "du", "dos",
     "das", "des", "y", "of", "the", "and"}
)  # fmt: skip
# Words before the last one that belong to the last name.
_SURNAME_PARTICLES = frozenset(
    {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "le", "du", "dos",
     "das", "des", "st", "st."}
)  # fmt: skip
# "Mac" is a prefix only in these; Mack, Macy, Macon and Machado are names of their own.
_MAC_NAMES = frozenset(
    {"macarthur", "macaulay", "maccallum", "macdonald", "macdougall", "macfarlane",
     "macgregor", "macintyre", "mackenzie", "mackinnon", "mackintosh", "maclaren",
     "maclean", "macleod", "macmillan", "macneil", "macpherson"}
)  # fmt: skip
_WORD_PARTS = re.compile(r"[^-/]+")
# Job-title and credential acronyms that stay upper case (PRESIDENT & CEO → President & CEO).
_UPPER_WORDS = frozenset(
    {"ceo", "cfo", "coo", "cto", "cio", "cmo", "vp", "svp", "evp", "avp", "gm", "hr", "llc",
     "usa", "cpa", "dds", "dmd", "dvm", "pllc", "llp"}
)  # fmt: skip
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix"})
_ORDINAL = re.compile(r"\d*(?:1st|2nd|3rd|[04-9]th|1[123]th)")
_INITIALISM = re.compile(r"(?:[a-z]\.){2,}[a-z]?")
_HONORIFICS = {
    "mr": "Mr.", "mister": "Mr.", "mrs": "Mrs.", "ms": "Ms.", "miss": "Miss", "mx": "Mx.",
    "dr": "Dr.", "doctor": "Dr.", "prof": "Prof.", "professor": "Prof.", "rev": "Rev.",
    "reverend": "Rev.",
}  # fmt: skip
_NAME_SUFFIXES = {
    "jr": "Jr.", "sr": "Sr.", "ii": "II", "iii": "III", "iv": "IV", "v": "V", "2nd": "II",
    "3rd": "III", "md": "MD", "phd": "PhD", "cpa": "CPA", "esq": "Esq.", "dds": "DDS",
    "dmd": "DMD", "dvm": "DVM", "jd": "JD", "rn": "RN", "pe": "PE", "cfp": "CFP",
    "cfa": "CFA", "mba": "MBA",
}  # fmt: skip
_NICKNAMES = re.compile(r"\([^)]*\)|\"[^\"]*\"|“[^”]*”")
_PEOPLE = re.compile(r"\s+(?:and|&)\s+|\s*&\s*", re.IGNORECASE)


def _capitalize(low: str) -> str:
    """`low` with its first letter upper case: `(jack)` → `(Jack)`."""
    for i, char in enumerate(low):
        if char.isalpha():
            return low[:i] + char.upper() + low[i + 1 :]
    return low


def _case_part(low: str) -> str:
    """One lower-case word without hyphens in Title Case: McDonald, O'Brien, 5th, III."""
    if not low or low in _ROMAN or low in _UPPER_WORDS:
        return low.upper()
    if low[0].isdigit():
        return low if _ORDINAL.fullmatch(low) else low.upper()
    if "." in low and _INITIALISM.fullmatch(low):
        return low.upper()
    if len(low) > 2 and low[1] == "'" and low[0].isalpha() and low[2].isalpha():
        return low[0].upper() + "'" + low[2].upper() + low[3:]
    if len(low) > 3 and low.startswith("mc") and low[2].isalpha():
        return "Mc" + low[2].upper() + low[3:]
    if low in _MAC_NAMES:
        return "Mac" + low[3].upper() + low[4:]
    return _capitalize(low)


def _case_word(word: str, inner: bool = False, followed: bool = False) -> str:
    """One word in Title Case; particles stay lower inside a name (`de` in Maria de la Cruz)."""
    low = word.lower().replace("’", "'")
    if inner and followed and low in _LOWER_INSIDE:
        return low
    if "-" in low or "/" in low:  # Smith-Jones, Owner/Operator
        return _WORD_PARTS.sub(_case_match, low)
    return _case_part(low)


def _case_match(match: re.Match) -> str:
    """`_case_part` for a regex match."""
    return _case_part(match.group())


def _is_shouty(text: str) -> bool:
    """Whether `text` was typed all upper case or all lower case."""
    return text.isupper() or text.islower()


def name_case(word_or_text: str) -> str:
    """Title Case for names and places typed ALL CAPS or all lower; mixed case kept as typed.

    `MCKINNEY` → `McKinney`, `maria de la cruz` → `Maria de la Cruz`,
    `WINSTON-SALEM` → `Winston-Salem`, `McKinney` stays.
    """
    text = " ".join((word_or_text or "").split())
    if not _is_shouty(text):
        return text
    words = text.split()
    last = len(words) - 1
    return " ".join(_case_word(w, i > 0, i < last) for i, w in enumerate(words))


@dataclass(frozen=True)
class PersonName:
    """A person's name split into parts, each in display case."""

    first: str
    middle: str
    last: str
    honorific: str
    suffix: str

    @property
    def full(self) -> str:
        """`First Middle Last Suffix`, e.g. `John A. Smith Jr.`."""
        return " ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)

    @property
    def match_key(self) -> str:
        """Accent-folded lower-case first and last name tokens, sorted: `john smith`."""
        text = _fold(f"{self.first} {self.last}").replace("'", "").replace("’", "")
        return " ".join(sorted(_NON_ALNUM.sub(" ", text).split()))


_EMPTY_NAME = PersonName("", "", "", "", "")


@dataclass
class _NameParts:
    """Raw tokens of one person's name while it is being parsed."""

    honorific: str
    given: list[str]
    last: list[str]
    suffixes: list[str]


def _word_key(token: str) -> str:
    """A token lower-cased without dots or commas, for table look-ups."""
    return token.lower().replace(".", "").strip(",")


def _take_honorific(tokens: list[str]) -> str:
    """Remove leading honorifics from `tokens`; the first one, in display form."""
    found = ""
    while tokens and _word_key(tokens[0]) in _HONORIFICS:
        found = found or _HONORIFICS[_word_key(tokens.pop(0))]
    return found


def _take_suffixes(tokens: list[str], keep: int, roman_v: bool) -> list[str]:
    """Remove trailing suffixes (Jr., III, CPA) from `tokens`, leaving at least `keep`."""
    found: list[str] = []
    while len(tokens) > keep:
        key = _word_key(tokens[-1])
        if key not in _NAME_SUFFIXES or (key == "v" and (not roman_v or len(tokens) < 3)):
            break
        found.insert(0, _NAME_SUFFIXES[key])
        tokens.pop()
    return found


def _parse_person(text: str) -> _NameParts:
    """Honorific, given names, last name and suffixes of one person, as raw tokens."""
    segments = [s.strip() for s in text.split(",") if s.strip()]
    suffixes: list[str] = []
    while len(segments) > 1 and all(_word_key(t) in _NAME_SUFFIXES for t in segments[-1].split()):
        suffixes = [_NAME_SUFFIXES[_word_key(t)] for t in segments.pop().split()] + suffixes
    if not segments:
        return _NameParts("", [], [], suffixes)
    if len(segments) > 1:  # "Smith, John A" and "Smith Jr., Dr. John"
        last, given = segments[0].split(), segments[1].split()
        honorific = _take_honorific(given) or _take_honorific(last)
        tail = _take_suffixes(last, 1, True) + _take_suffixes(given, 0, False)
        return _NameParts(honorific, given, last, tail + suffixes)
    tokens = segments[0].split()
    honorific = _take_honorific(tokens)
    suffixes = _take_suffixes(tokens, 1, True) + suffixes
    if len(tokens) <= 1:
        return _NameParts(honorific, [] if honorific else tokens, tokens if honorific else [],
                          suffixes)  # fmt: skip
    start = len(tokens) - 1
    while start > 1 and _word_key(tokens[start - 1]) in _SURNAME_PARTICLES:
        start -= 1
    return _NameParts(honorific, tokens[:start], tokens[start:], suffixes)


def _first_person(text: str) -> _NameParts:
    """The first person of `Mr. and Mrs. John Smith` or `John and Jane Smith`."""
    people = _PEOPLE.split(text) if "&" in text or " and " in text.lower() else [text]
    parts = _parse_person(people[0])
    if len(people) > 1:
        other = _parse_person(people[1])
        if not parts.given and not parts.last:
            other.honorific = parts.honorific or other.honorific
            return other
        if not parts.last and len(parts.given) == 1:
            parts.last, parts.suffixes = other.last, other.suffixes
    return parts


def _display_tokens(tokens: list[str]) -> list[str]:
    """Name tokens in display case: shouty ones recased, initials as `A.`."""
    out = []
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        if _is_shouty(token):
            token = _case_word(token, i > 0, i < last)
        if len(token.rstrip(".")) == 1 and token[0].isalpha():
            token = token[0].upper() + "."
        out.append(token)
    return out


def person_name(raw: str) -> PersonName:
    """Parse `John A. Smith`, `SMITH, JOHN A`, `Dr. Jane Doe Jr.`, `Mr. and Mrs. John Smith`.

    Honorifics and suffixes are split off and normalized (`Dr.`, `Jr.`, `III`, `CPA`);
    ALL CAPS and all-lower words get Title Case (McDonald, O'Brien, de la Cruz) and
    mixed-case words are kept as typed. A lone word is a first name, unless an
    honorific says it is a last name (`Mr. Smith`).
    """
    text = clean_text(raw).replace("’", "'")
    if "(" in text or '"' in text or "“" in text:
        text = _NICKNAMES.sub(" ", text).strip()
    if not text:
        return _EMPTY_NAME
    parts = _first_person(text)
    tokens = _display_tokens(parts.given + parts.last)
    given, last = tokens[: len(parts.given)], tokens[len(parts.given) :]
    return PersonName(
        first=given[0] if given else "",
        middle=" ".join(given[1:]),
        last=" ".join(last),
        honorific=parts.honorific,
        suffix=", ".join(parts.suffixes),
    )


def split_name(full: str) -> tuple[str, str]:
    """First and last name from `John A. Smith`, `Smith, John` or `Dr. Jane Doe Jr.`."""
    name = person_name(full)
    return name.first, name.last


# ------------------------------------------------------------------------- phones


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
# the installed phonenumbers metadata by tests/unit/test_normalize_fastpaths.py.
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


# ------------------------------------------------------------------------- emails

_EMAIL_SIMPLE = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)
# Top-level names email_validator refuses; the fast path leaves them to it.
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")


def _email_is_simple(text: str) -> bool:
    """Whether a plain ASCII address is certainly valid, without asking email_validator."""
    match = _EMAIL_SIMPLE.fullmatch(text)
    return bool(
        match
        and len(text) <= 254
        and text.index("@") <= 64
        and "--" not in text[text.index("@") :]
        and match.group(1) not in _SPECIAL_USE_TLDS
    )


@lru_cache(maxsize=8192)
def _validated_email(text: str) -> str | None:
    """The address as email_validator normalizes it (syntax only), or None."""
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def normalize_email(raw: str) -> str | None:
    """A lower-cased, syntax-checked email address, or None when it is not one.

    Strips `mailto:`, labels and angle brackets (`Email: Jo <jo@x.com>`) and keeps the
    first of several addresses.
    """
    text = clean_text(raw).lower()
    match = _ANGLE_ADDRESS.search(text)
    if match:
        text = match.group(1)
    candidates = [t for t in _EMAIL_SEPARATORS.split(text) if "@" in t]
    if not candidates:
        return None
    text = candidates[0].strip("'\"()").removeprefix("mailto:").rstrip(".")
    if _email_is_simple(text):
        return text
    return _validated_email(text)


# ---------------------------------------------------------------- states and ZIPs

_STATES = (
    ("AL", "Alabama", "ala"), ("AK", "Alaska", ""), ("AZ", "Arizona", "ariz"),
    ("AR", "Arkansas", "ark"), ("CA", "California", "calif cal"), ("CO", "Colorado", "colo"),
    ("CT", "Connecticut", "conn"), ("DE", "Delaware", "del"), ("FL", "Florida", "fla"),
    ("GA", "Georgia", ""), ("HI", "Hawaii", ""), ("ID", "Idaho", ""),
    ("IL", "Illinois", "ill"), ("IN", "Indiana", "ind"), ("IA", "Iowa", ""),
    ("KS", "Kansas", "kan kans"), ("KY", "Kentucky", ""), ("LA", "Louisiana", ""),
    ("ME", "Maine", ""), ("MD", "Maryland", ""), ("MA", "Massachusetts", "mass"),
    ("MI", "Michigan", "mich"), ("MN", "Minnesota", "minn"), ("MS", "Mississippi", "miss"),
    ("MO", "Missouri", ""), ("MT", "Montana", "mont"), ("NE", "Nebraska", "neb nebr"),
    ("NV", "Nevada", "nev"), ("NH", "New Hampshire", ""), ("NJ", "New Jersey", ""),
    ("NM", "New Mexico", ""), ("NY", "New York", ""), ("NC", "North Carolina", ""),
    ("ND", "North Dakota", ""), ("OH", "Ohio", ""), ("OK", "Oklahoma", "okla"),
    ("OR", "Oregon", "ore oreg"), ("PA", "Pennsylvania", "penn penna"),
    ("RI", "Rhode Island", ""), ("SC", "South Carolina", ""), ("SD", "South Dakota", ""),
    ("TN", "Tennessee", "tenn"), ("TX", "Texas", "tex"), ("UT", "Utah", ""),
    ("VT", "Vermont", ""), ("VA", "Virginia", ""), ("WA", "Washington", "wash"),
    ("WV", "West Virginia", "wva"), ("WI", "Wisconsin", "wis wisc"), ("WY", "Wyoming", "wyo"),
    ("DC", "District of Columbia", "washington dc"), ("PR", "Puerto Rico", ""),
    ("VI", "Virgin Islands", "us virgin islands"), ("GU", "Guam", ""),
    ("AS", "American Samoa", ""), ("MP", "Northern Mariana Islands", ""),
)  # fmt: skip


class _CaseInsensitiveCodes(dict[str, str]):
    """A dict whose string keys are looked up without regard to case."""

    def __missing__(self, key: str) -> str:
        """The value under the lower-case form of `key`."""
        lower = key.lower()
        if lower == key:
            raise KeyError(key)
        return self[lower]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value under `key` in any case, or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        """Whether `key`, in any case, is a key."""
        return super().__contains__(key.lower() if isinstance(key, str) else key)


#: Two-letter USPS codes by code, name or common abbreviation in any case
#: (`TX`, `texas`, `Tex`); `state_code` also ignores dots and spacing.
STATE_CODES: dict[str, str] = _CaseInsensitiveCodes(
    (key, code)
    for code, name, aliases in _STATES
    for key in (code.lower(), name.lower(), *aliases.split())
)


def state_code(raw: str) -> str:
    """The two-letter code for `TX`, `Texas`, `tex.` or `N.Y.`; "" when unknown."""
    text = clean_text(raw).lower().replace(".", " ")
    return STATE_CODES.get(" ".join(text.split())) or STATE_CODES.get(text.replace(" ", ""), "")


@dataclass(frozen=True)
class ZipCode:
    """A US ZIP code: five digits and the optional plus-four."""

    zip5: str
    zip4: str

    def __str__(self) -> str:
        """`78701` or `78701-1234`."""
        return f"{self.zip5}-{self.zip4}" if self.zip4 else self.zip5


_ZIP = re.compile(r"(\d{5})(?:[\s-]?(\d{4}))?")


def zip_code(raw: str) -> ZipCode | None:
    """A ZIP from `78701`, `78701-1234`, `787011234`, `78701.0` or `2134` (→ 02134); else None.

    Three- and four-digit values are ZIPs whose leading zeros a spreadsheet dropped.
    """
    text = clean_text(raw).rstrip("-")
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and 3 <= len(text) <= 4:
        text = text.zfill(5)
    match = _ZIP.fullmatch(text)
    if not match or match.group(1) == "00000":
        return None
    zip4 = match.group(2) or ""
    return ZipCode(match.group(1), "" if zip4 == "0000" else zip4)


# ---------------------------------------------------------------------- addresses

# USPS Publication 28, appendix C1: street suffixes and the spellings seen in lists.
_SUFFIX_SPELLINGS = {
    "Aly": "alley allee ally", "Anx": "annex anex annx", "Arc": "arcade",
    "Ave": "avenue av aven avenu avn avnue ave", "Byu": "bayou bayoo", "Bch": "beach",
    "Bnd": "bend", "Blf": "bluff bluf", "Blvd": "boulevard boul boulv blv blvd",
    "Br": "branch brnch", "Brg": "bridge brdge", "Brk": "brook",
    "Byp": "bypass bypa bypas byps", "Cyn": "canyon canyn cnyn", "Cpe": "cape",
    "Cswy": "causeway causwa", "Ctr": "center centre cent centr cnter cntr cen ctr",
    "Cir": "circle circ circl crcl crcle cir", "Clf": "cliff", "Clb": "club",
    "Cmn": "common", "Cor": "corner", "Crse": "course", "Ct": "court crt ct",
    "Cts": "courts", "Cv": "cove", "Crk": "creek", "Cres": "crescent crsent crsnt",
    "Xing": "crossing crssng xing", "Curv": "curve", "Dl": "dale", "Dm": "dam",
    "Dr": "drive driv drv dr", "Est": "estate", "Ests": "estates",
    "Expy": "expressway expr expw expy", "Ext": "extension extn extnsn", "Fls": "falls",
    "Fry": "ferry", "Fld": "field", "Flds": "fields", "Flt": "flat", "Frst": "forest",
    "Frk": "fork", "Ft": "fort frt", "Fwy": "freeway freewy frway frwy fwy",
    "Gdn": "garden gardn grden grdn", "Gdns": "gardens", "Gtwy": "gateway gatewy gatway",
    "Gln": "glen", "Grn": "green", "Grv": "grove grov", "Hbr": "harbor", "Hvn": "haven",
    "Hts": "heights hgts", "Hwy": "highway highwy hiway hiwy hway hwy", "Hl": "hill",
    "Hls": "hills", "Holw": "hollow", "Inlt": "inlet", "Is": "island", "Jct": "junction",
    "Knl": "knoll", "Lk": "lake", "Lks": "lakes", "Lndg": "landing",
    "Ln": "lane ln", "Ldg": "lodge", "Loop": "loop loops", "Mall": "mall", "Mnr": "manor",
    "Mdw": "meadow", "Mdws": "meadows", "Ml": "mill", "Mtn": "mountain", "Oval": "oval",
    "Park": "park parks", "Pkwy": "parkway parkwy pkway pky pkwy parkways",
    "Pass": "pass", "Path": "path", "Pike": "pike", "Pne": "pine", "Pl": "place pl",
    "Pln": "plain", "Plz": "plaza plza plz", "Pt": "point", "Prt": "port", "Pr": "prairie",
    "Rnch": "ranch", "Rdg": "ridge", "Riv": "river", "Rd": "road rd", "Rte": "route",
    "Row": "row", "Run": "run", "Shr": "shore", "Spg": "spring", "Spgs": "springs",
    "Spur": "spur", "Sq": "square sqr squ sq", "Sta": "station",
    "St": "street str strt stret st", "Smt": "summit", "Ter": "terrace terr ter",
    "Trce": "trace", "Trl": "trail trails trl", "Tpke": "turnpike trnpk turnpk",
    "Vly": "valley", "Via": "viaduct", "Vw": "view", "Vlg": "village", "Vis": "vista",
    "Walk": "walk", "Way": "way wy", "Wls": "wells",
}  # fmt: skip
_STREET_SUFFIXES = {
    spelling: abbreviation
    for abbreviation, spellings in _SUFFIX_SPELLINGS.items()
    for spelling in (abbreviation.lower(), *spellings.split())
}
_DIRECTIONALS = {
    "n": "N", "north": "N", "s": "S", "south": "S", "e": "E", "east": "E", "w": "W",
    "west": "W", "ne": "NE", "northeast": "NE", "north east": "NE", "n e": "NE",
    "nw": "NW", "northwest": "NW", "north west": "NW", "n w": "NW", "se": "SE",
    "southeast": "SE", "south east": "SE", "s e": "SE", "sw": "SW", "southwest": "SW",
    "south west": "SW", "s w": "SW",
}  # fmt: skip
# USPS Publication 28, appendix C2: secondary unit designators.
_UNIT_DESIGNATORS = {
    "apartment": "Apt", "apt": "Apt", "basement": "Bsmt", "bsmt": "Bsmt", "building": "Bldg",
    "bldg": "Bldg", "bld": "Bldg", "department": "Dept", "dept": "Dept", "floor": "Fl",
    "fl": "Fl", "flr": "Fl", "front": "Frnt", "frnt": "Frnt", "hangar": "Hngr", "lobby": "Lbby",
    "lot": "Lot", "lower": "Lowr", "office": "Ofc", "ofc": "Ofc", "penthouse": "Ph", "ph": "Ph",
    "pier": "Pier", "rear": "Rear", "room": "Rm", "rm": "Rm", "side": "Side", "slip": "Slip",
    "space": "Spc", "spc": "Spc", "suite": "Ste", "ste": "Ste", "trailer": "Trlr",
    "trlr": "Trlr", "unit": "Unit", "upper": "Uppr", "uppr": "Uppr",
}  # fmt: skip
_BOX_GROUPS = {
    "rr": "RR", "rural route": "RR", "route": "RR", "hc": "HC", "highway contract": "HC",
}  # fmt: skip
_STREET_ACRONYMS = frozenset(
    {"US", "FM", "RM", "CR", "SR", "SH", "IH", "RR", "HC", "MLK", "NASA", "NE", "NW", "SE", "SW"}
)
_PO_BOX = re.compile(
    r"(?:p\.?\s*o\.?\s*box|p\.?\s*o\.?\s*b\.?|post\s+office\s+box|box)\s*#?\s*([a-z0-9-]+)",
    re.IGNORECASE,
)
# The fast tagger's vocabulary: what it may call a unit, a suffix, a word of a name.
_FAST_UNITS = frozenset(
    {"apt", "apartment", "bldg", "building", "fl", "floor", "rm", "room", "ste", "suite", "unit"}
)
_FAST_SUFFIXES = frozenset(
    {"ave", "avenue", "av", "blvd", "boulevard", "cir", "circle", "ct", "court", "dr", "drive",
     "expy", "expressway", "fwy", "freeway", "hwy", "highway", "ln", "lane", "pkwy", "parkway",
     "pl", "place", "plz", "plaza", "rd", "road", "sq", "square", "st", "street", "ter",
     "terrace", "trl", "way", "loop", "xing", "crossing"}
)  # fmt: skip
# Suffix words that are common inside street names (Lake Shore Dr, Park Place Dr).
_NAME_SUFFIX_WORDS = frozenset(
    {"lake", "park", "place", "center", "plaza", "square", "spring", "valley", "hill", "creek",
     "point", "forest", "mill", "ridge", "oak", "pine", "glen", "grove", "meadow", "brook",
     "view", "river", "village", "cove", "green", "summit", "shore", "bend", "station",
     "heights"}
)  # fmt: skip
# Words the fast tagger leaves to usaddress: pre-types, particles, box and route words.
_FAST_NAME_WORDS_REFUSED = frozenset(
    {"and", "of", "the", "box", "po", "county", "state", "us", "fm", "route", "camino",
     "calle", "avenida", "el", "la", "old", "mount", "mt", "saint", "st", "ft", "fort", "i"}
)  # fmt: skip
_FAST_NAME_STOP = (
    (frozenset(_STREET_SUFFIXES) - _NAME_SUFFIX_WORDS)
    | frozenset(_DIRECTIONALS)
    | frozenset(_UNIT_DESIGNATORS)
    | _FAST_NAME_WORDS_REFUSED
)
_NAME_WORD = re.compile(r"[A-Za-z]+|\d+(?:st|nd|rd|th|ST|ND|RD|TH)")
_UNIT_ID = re.compile(r"#?(?:\d{1,6}[A-Za-z]?|[A-Za-z]\d{0,4})")
_STREET_ORDER = {
    label: i
    for i, label in enumerate(
        ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix", "StreetNamePreModifier",
         "StreetNamePreDirectional", "StreetNamePreType", "StreetName", "StreetNamePostType",
         "StreetNamePostDirectional")
    )
}  # fmt: skip
_UNIT_LABELS = frozenset(
    {"SubaddressType", "SubaddressIdentifier", "OccupancyType", "OccupancyIdentifier"}
)
_NUMBER_LABELS = ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")
_KEY_DROP = re.compile(r"[.,'’]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Address:
    """A standardized US address; `street_key` matches streets whatever their unit."""

    street: str
    unit: str
    city: str
    state: str
    zip: str
    street_key: str


class _StreetLine(NamedTuple):
    """A parsed street line, with any city, state and ZIP that were written on it."""

    street: str
    unit: str
    street_key: str
    city: str = ""
    state: str = ""
    zip: str = ""


def _street_key(street: str) -> str:
    """The lower-case, accent- and punctuation-free form of a delivery line."""
    return " ".join(_KEY_DROP.sub("", _fold(street)).split())


def _case_street_words(text: str, shouty: bool) -> str:
    """Street-name words in Title Case with ordinals lower (`5th`) and acronyms upper (`FM`)."""
    words = text.split()
    last = len(words) - 1
    out = []
    for i, word in enumerate(words):
        lower = word.islower()
        if not (lower or word.isupper()):  # mixed case or digits: as typed
            out.append(word)
        elif word[0].isdigit():
            out.append(word.lower() if _ORDINAL.fullmatch(word.lower()) else word.upper())
        elif word.upper() in _STREET_ACRONYMS:
            out.append(word.upper())
        elif shouty or lower:
            out.append(_case_word(word, i > 0, i < last))
        else:
            out.append(word)
    return " ".join(out)


def _standard_word(table: dict[str, str], value: str, shouty: bool) -> str:
    """`value` abbreviated by a USPS table, or cased as typed when the table lacks it."""
    if not value:
        return ""
    found = table.get(value.lower())
    if found:
        return found
    key = " ".join(value.lower().replace(".", " ").split())
    return table.get(key) or table.get(key.replace(" ", "")) or _case_street_words(value, shouty)


def _standard_unit(kind: str, ident: str, shouty: bool) -> str:
    """`Ste 200`, `Apt 3B`, `# 4` or `Rear` from a designator and an identifier."""
    ident = "".join(ident.replace("#", " ").strip(" .,-").split()).upper()
    if kind and kind.strip() != "#":
        return f"{_standard_word(_UNIT_DESIGNATORS, kind, shouty)} {ident}".strip()
    if ident.lower() in _UNIT_DESIGNATORS:
        return _UNIT_DESIGNATORS[ident.lower()]
    return f"# {ident}" if ident else ""


def _units(tags: dict[str, str], shouty: bool) -> str:
    """The secondary units of a tagged line (`Bldg 2 Ste 300`), in the order written."""
    if _UNIT_LABELS.isdisjoint(tags):
        return ""
    pairs: list[list[str]] = []  # [family, designator, identifier]
    for label, value in tags.items():
        family = label[:3]
        if label in ("SubaddressType", "OccupancyType"):
            pairs.append([family, value, ""])
        elif label in ("SubaddressIdentifier", "OccupancyIdentifier"):
            if pairs and pairs[-1][0] == family and not pairs[-1][2]:
                pairs[-1][2] = value
            else:
                pairs.append([family, "", value])
    units = (_standard_unit(kind, ident, shouty) for _, kind, ident in pairs)
    return " ".join(u for u in units if u)


def _box_line(tags: dict[str, str]) -> str:
    """`PO Box 12` or `RR 2 Box 15` from a tagged box address."""
    box = "".join(tags.get("USPSBoxID", "").replace("#", " ").split()).upper()
    group = tags.get("USPSBoxGroupType", "")
    if group:
        group_id = tags.get("USPSBoxGroupID", "").replace("#", "").strip().upper()
        kind = _BOX_GROUPS.get(" ".join(group.lower().replace(".", " ").split()), group.upper())
        return " ".join(p for p in (kind, group_id, "Box", box) if p)
    return f"PO Box {box}".strip()


def _street_name(tags: dict[str, str], shouty: bool) -> str:
    """The name part of a street, highway types abbreviated before numbers (`US Hwy 290`)."""
    name = tags.get("StreetName", "")
    post = tags.get("StreetNamePostType", "")
    if " " in post:  # usaddress sometimes tags "Ridge Parkway" as the type
        name = f"{name} {post.rpartition(' ')[0]}"
    pretype = tags.get("StreetNamePreType", "")
    if pretype and name[:1].isdigit():
        *head, tail = pretype.split()
        pretype = " ".join([*head, _STREET_SUFFIXES.get(tail.lower().rstrip("."), tail)])
    premodifier = tags.get("StreetNamePreModifier", "")
    if pretype or premodifier:
        name = " ".join(w for w in (premodifier, pretype, name) if w)
    return _case_street_name(name, shouty)


@lru_cache(maxsize=16384)
def _case_street_name(name: str, shouty: bool) -> str:
    """`_case_street_words`, cached: lists repeat their street names."""
    return _case_street_words(name, shouty)


def _delivery_line(tags: dict[str, str], shouty: bool) -> str:
    """`4500 N Lamar Blvd` from a tagged street address."""
    number = tags.get("AddressNumber", "")
    if "AddressNumberPrefix" in tags or "AddressNumberSuffix" in tags:
        number = " ".join(tags.get(k, "") for k in _NUMBER_LABELS).strip()
    if not number.isdigit():
        if any(c.isdigit() for c in number):  # "123a", "N123 W456"
            number = number.upper()
        else:  # "One Main St"
            number = _case_street_words(number, shouty)
    suffix = tags.get("StreetNamePostType", "").rpartition(" ")[2]  # see _street_name
    parts = (
        number,
        _standard_word(_DIRECTIONALS, tags.get("StreetNamePreDirectional", ""), shouty),
        _street_name(tags, shouty),
        _standard_word(_STREET_SUFFIXES, suffix, shouty),
        _standard_word(_DIRECTIONALS, tags.get("StreetNamePostDirectional", ""), shouty),
    )
    return " ".join(p for p in parts if p)


def _line_from_tags(tags: dict[str, str], shouty: bool) -> _StreetLine | None:
    """A standardized street line from usaddress-style tags; None when it is no address."""
    if "USPSBoxID" in tags:
        street = _box_line(tags)
    elif "StreetName" in tags:
        street = _delivery_line(tags, shouty)
    else:
        return None
    unit = _units(tags, shouty)
    city = tags.get("PlaceName", "")
    designator = _UNIT_DESIGNATORS.get(city.lower().rstrip("."))
    if designator:  # usaddress reads "123 Main St Bsmt" as a place named Bsmt
        unit, city = f"{unit} {designator}".strip(), ""
    return _StreetLine(
        street, unit, _street_key(street), city, tags.get("StateName", ""), tags.get("ZipCode", "")
    )


def _fast_unit(tokens: list[str]) -> tuple[dict[str, str], int]:
    """Tags for a trailing `Ste 200` / `# 4` / `#4`, and how many tokens it took."""
    last = tokens[-1]
    if len(tokens) >= 4 and _UNIT_ID.fullmatch(last):
        kind = tokens[-2].lower().rstrip(".")
        if kind in _FAST_UNITS:
            return {"OccupancyType": tokens[-2], "OccupancyIdentifier": last}, 2
        if kind == "#" and not last.startswith("#"):
            return {"OccupancyIdentifier": "# " + last}, 2
    if len(tokens) >= 3 and last.startswith("#") and _UNIT_ID.fullmatch(last):
        return {"OccupancyIdentifier": "# " + last[1:]}, 1
    return {}, 0


def _fast_tags(line: str) -> dict[str, str] | None:
    """usaddress-style tags for the common simple line shapes, without usaddress.

    Handles `NUMBER [PREDIR] NAME KNOWN-SUFFIX [POSTDIR] [UNIT ID]` and PO boxes; returns
    None for anything else so that usaddress decides.
    """
    if not line[:1].isdigit():
        box = _PO_BOX.fullmatch(line)
        return {"USPSBoxType": "PO Box", "USPSBoxID": box.group(1)} if box else None
    tokens = line.replace(",", " ").split()
    if len(tokens) < 3 or not (tokens[0].isascii() and tokens[0].isdigit()):
        return None
    unit, end = _fast_unit(tokens)
    end = len(tokens) - end
    postdir = ""
    if _word_key(tokens[end - 1]) in _DIRECTIONALS:
        end -= 1
        postdir = tokens[end]
    if end < 3 or _word_key(tokens[end - 1]) not in _FAST_SUFFIXES:
        return None
    start = 2 if _word_key(tokens[1]) in _DIRECTIONALS else 1
    name = tokens[start : end - 1]
    if not name or not all(
        _NAME_WORD.fullmatch(w) and w.lower() not in _FAST_NAME_STOP for w in name
    ):
        return None
    tags = {"AddressNumber": tokens[0]}
    if start == 2:
        tags["StreetNamePreDirectional"] = tokens[1]
    tags["StreetName"] = " ".join(name)
    tags["StreetNamePostType"] = tokens[end - 1]
    if postdir:
        tags["StreetNamePostDirectional"] = postdir
    return tags | unit


def _usaddress_tags(line: str) -> dict[str, str] | None:
    """usaddress tags of a line; the first run of each label when labels repeat."""
    try:
        tags, kind = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        return _first_runs(usaddress.parse(line))
    if kind in ("Ambiguous", "Intersection"):
        return None
    return _repair_tags(dict(tags))


def _repair_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags with a street name for lines usaddress reads as a type or a building name.

    usaddress tags `12 E 3rd Road` as a pre-type and `10 Town Center Place` as a
    building; both end in a street suffix, so they are streets.
    """
    if "StreetName" in tags or "AddressNumber" not in tags:
        return tags
    for label in ("StreetNamePreType", "BuildingName"):
        *name, suffix = tags.get(label, "").split() or [""]
        if name and suffix.lower().rstrip(".") in _STREET_SUFFIXES:
            repaired = {k: v for k, v in tags.items() if k != label}
            return repaired | {"StreetName": " ".join(name), "StreetNamePostType": suffix}
    return tags


def _first_runs(parsed: list[tuple[str, str]]) -> dict[str, str] | None:
    """Tags from usaddress.parse tokens: the first run of each label, if in street order."""
    tags: dict[str, str] = {}
    closed: set[str] = set()
    previous = None
    for token, label in parsed:
        if previous is not None and label != previous:
            closed.add(previous)
        previous = label
        token = token.strip(" ,;")
        if label in closed or not token:
            continue
        tags[label] = f"{tags[label]} {token}" if label in tags else token
    order = [_STREET_ORDER[label] for label in tags if label in _STREET_ORDER]
    return tags if order == sorted(order) else None


def _raw_line(line: str, shouty: bool) -> _StreetLine:
    """A street line no parser understood, kept as typed (Title Case when shouty)."""
    street = name_case(line) if shouty else line
    return _StreetLine(street, "", _street_key(street))


def _parse_street_fast(line: str) -> _StreetLine | None:
    """The fast path: a standardized line when the simple tagger understands it."""
    tags = _fast_tags(line)
    return None if tags is None else _line_from_tags(tags, _is_shouty(line))


# No street line is longer; past it usaddress is not asked (its tokenizer is quadratic on
# some text: 16,000 "(" took 13 s), and the line is kept as written.
MAX_STREET_LINE = 200


def _parse_street_slow(line: str) -> _StreetLine:
    """The reference path: usaddress tags, then the raw text when it finds no address."""
    shouty = _is_shouty(line)
    tags = _usaddress_tags(line) if len(line) <= MAX_STREET_LINE else None
    parsed = None if tags is None else _line_from_tags(tags, shouty)
    return parsed or _raw_line(line, shouty)


@lru_cache(maxsize=65536)
def _parse_street(line: str) -> _StreetLine:
    """A cleaned street line, standardized; cached because lists repeat lines."""
    return _parse_street_fast(line) or _parse_street_slow(line)


def address(street: str, city: str = "", state: str = "", zip: str = "") -> Address:
    """A standardized address (USPS abbreviations, unit apart, `street_key` for matching).

    `4500 North Lamar Boulevard, Suite 12` → street `4500 N Lamar Blvd`, unit `Ste 12`,
    key `4500 n lamar blvd`. City, state and ZIP written on the street line fill in
    the ones not given.
    """
    line = clean_text(street)
    parsed = _parse_street(line) if line else _NO_STREET
    city = clean_text(city) or parsed.city.strip(" ,")
    state = clean_text(state) or parsed.state
    zip = clean_text(zip) or parsed.zip
    return Address(
        street=parsed.street,
        unit=parsed.unit,
        city=_city(city) if city else "",
        state=state_code(state) if state else "",
        zip=_zip_text(zip) if zip else "",
        street_key=parsed.street_key,
    )


_NO_STREET = _StreetLine("", "", "")


@lru_cache(maxsize=8192)
def _city(text: str) -> str:
    """A city in display case; cached because lists repeat their cities."""
    return name_case(text)


@lru_cache(maxsize=8192)
def _zip_text(text: str) -> str:
    """A ZIP as text (`78701-1234`), "" when invalid; cached because lists repeat ZIPs."""
    found = zip_code(text)
    return str(found) if found else ""


# --------------------------------------------------------------------- businesses

_DBA = re.compile(
    r"\b(?:d\s*/\s*b\s*/\s*a|d\.?\s?b\.?\s?a|doing business as|a\.?k\.?a|t/a|trading as)\b\.?"
)
_ABBREVIATION_DOT = re.compile(r"(?<=[a-z0-9]{2})\.(?=[a-z0-9]{2})")
_DROPPED_MARKS = re.compile(r"[.'’`]")
_LEGAL_SUFFIXES = frozenset(
    {("llc",), ("l", "l", "c"), ("lc",), ("inc",), ("incorporated",), ("corp",),
     ("corporation",), ("co",), ("company",), ("ltd",), ("limited",), ("pllc",),
     ("p", "l", "l", "c"), ("llp",), ("l", "l", "p"), ("lllp",), ("lp",), ("l", "p"),
     ("pc",), ("p", "c"), ("pa",), ("p", "a"), ("plc",), ("psc",), ("chtd",),
     ("chartered",), ("limited", "liability", "company"), ("professional", "corporation"),
     ("professional", "association"), ("limited", "partnership"),
     ("limited", "liability", "partnership"), ("and",), ("the",)}
)  # fmt: skip
_BUSINESS_ACRONYMS = frozenset(
    {"ABC", "AC", "AI", "ATM", "AV", "BBQ", "CPA", "DBA", "DDS", "DMD", "DVM", "HVAC", "IBM",
     "IT", "LLC", "LLP", "LP", "MD", "PA", "PC", "PLLC", "RV", "TV", "UPS", "USA", "US",
     "II", "III", "IV"}
)  # fmt: skip
# Words without vowels that are not acronyms.
_VOWELLESS_WORDS = frozenset(
    {"st", "dr", "mr", "mrs", "ms", "jr", "sr", "ft", "mt", "pl", "rd", "ln", "ct", "n", "s", "w"}
)
_GENERIC_NAME_WORDS = frozenset(
    {"and", "the", "of", "for", "inc", "llc", "co", "corp", "ltd", "llp", "pllc", "company",
     "companies", "group", "groups", "services", "service", "svc", "svcs", "enterprises",
     "enterprise", "solutions", "solution", "associates", "assoc", "center", "centers",
     "centre", "shop", "shops", "store", "stores", "american", "america", "national",
     "united", "professional", "professionals", "pro", "pros", "international", "intl",
     "global", "systems", "industries", "holdings", "holding", "partners", "management",
     "agency", "usa", "new", "best", "quality", "general", "all", "plus", "works"}
)  # fmt: skip


def _before_dba(text: str) -> str:
    """The legal name of `Acme LLC dba Acme Plumbing` (the part before `dba`)."""
    match = _DBA.search(text)
    if not match:
        return text
    before = text[: match.start()].strip(" ,;-")
    return before or text[match.end() :]


def _strip_legal_suffixes(tokens: list[str]) -> list[str]:
    """`tokens` without trailing legal forms (LLC, Inc, L L C, & Co), keeping one token."""
    changed = True
    while changed:
        changed = False
        for size in (3, 2, 1):
            if len(tokens) > size and tuple(tokens[-size:]) in _LEGAL_SUFFIXES:
                del tokens[-size:]
                changed = True
                break
    return tokens


def normalized_business_name(name: str) -> str:
    """A business name for matching: `The Smith & Sons Co., L.L.C.` → `smith and sons`.

    Lower case, accents folded, `&` → `and`, punctuation dropped, a leading `The` and
    trailing legal forms removed. For `Acme LLC dba Acme Plumbing` the legal name
    before `dba` is kept (`acme`): it is the stable identity across lists, while trade
    names vary by location and listing.
    """
    text = _before_dba(_fold(clean_text(name)))
    text = _ABBREVIATION_DOT.sub(" ", text.replace("&", " and "))
    tokens = _NON_ALNUM.sub(" ", _DROPPED_MARKS.sub("", text)).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join(_strip_legal_suffixes(tokens))


def _is_acronym(core: str) -> bool:
    """Whether a lower-case word stays upper case in a business name: `hvac`, `bbq`, `a&b`."""
    if core.upper() in _BUSINESS_ACRONYMS:
        return True
    if "&" in core:
        return len(core) <= 5
    vowelless = not any(c in "aeiouy" for c in core)
    return core.isalpha() and len(core) <= 4 and vowelless and core not in _VOWELLESS_WORDS


def business_display_name(name: str) -> str:
    """A business name for people: shouty names in Title Case with acronyms kept (`ABC HVAC`)."""
    text = clean_text(name)
    if not _is_shouty(text):
        return text
    words = text.split()
    last = len(words) - 1
    out = []
    for i, word in enumerate(words):
        if _is_acronym(word.strip(".,;:()'\"").lower()):
            out.append(word.upper())
        else:
            out.append(_case_word(word, i > 0, i < last))
    return " ".join(out)


def name_tokens(normalized: str) -> list[str]:
    """Up to three distinctive words of a normalized business name, longest first.

    For blocking fuzzy matches: words of 3+ letters that are not generic (`services`,
    `group`, `american`); when none survive, the single longest word.
    """
    words = normalized.split()
    distinctive = [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in _GENERIC_NAME_WORDS]
    if not distinctive:
        return [max(words, key=len)] if words else []
    return sorted(distinctive, key=len, reverse=True)[:3]


# ------------------------------------------------------------------------- ranges

_MULTIPLIERS = {
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "mil": 1_000_000,
    "mm": 1_000_000,
    "m": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "b": 1_000_000_000,
}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|mil|mm|bn|k|m|b)?\b")
_AT_MOST = ("less than", "under", "<", "up to", "below", "fewer than")
_AT_LEAST = ("over", "more than", ">", "greater than", "at least", "above")
_EMPLOYEE_CODES = {
    "A": (1, 4), "B": (5, 9), "C": (10, 19), "D": (20, 49), "E": (50, 99), "F": (100, 249),
    "G": (250, 499), "H": (500, 999), "I": (1_000, 4_999), "J": (5_000, 9_999),
    "K": (10_000, None),
}  # fmt: skip
_REVENUE_CODES = {
    "A": (0, 500_000), "B": (500_000, 1_000_000), "C": (1_000_000, 2_500_000),
    "D": (2_500_000, 5_000_000), "E": (5_000_000, 10_000_000), "F": (10_000_000, 20_000_000),
    "G": (20_000_000, 50_000_000), "H": (50_000_000, 100_000_000),
    "I": (100_000_000, 500_000_000), "J": (500_000_000, 1_000_000_000),
    "K": (1_000_000_000, None),
}  # fmt: skip


def _amounts(cleaned: str) -> list[int]:
    """The numbers in a range, each scaled by its unit or by the unit written next to it.

    `1 to 2.5 million` scales both; a number of 1,000 or more is never scaled by a
    borrowed unit (`500,000 to 1 million`).
    """
    found = [(float(n), _MULTIPLIERS[u] if u else None) for n, u in _AMOUNT.findall(cleaned)]
    units = [u for _, u in found if u]
    values = []
    for i, (value, unit) in enumerate(found):
        if unit is None and value < 1000:
            later = [u for _, u in found[i + 1 :] if u]
            unit = later[0] if later else (units[-1] if units else 1)
        scaled = value * (unit or 1)
        if math.isfinite(scaled):  # a 400-digit "number" is no amount at all
            values.append(round(scaled))
    return values


def parse_range(text: str) -> tuple[int | None, int | None]:
    """Low and high numbers from `5 to 9`, `$1 to 2.5 Million`, `Less Than $500,000`, `12`."""
    cleaned = clean_text(text).lower().replace(",", "").replace("$", "")
    values = _amounts(cleaned)
    if not values:
        return None, None
    if cleaned.startswith(_AT_MOST):
        return 0, values[0]
    if cleaned.startswith(_AT_LEAST) or cleaned.endswith(("+", "plus", "or more")):
        return values[0], None
    if len(values) == 1:
        return values[0], values[0]
    return values[0], values[1]


_Range = tuple[int | None, int | None]


def _coded_range(raw: str, codes: dict[str, _Range]) -> _Range:
    """A range from a one-letter list code, else from the text."""
    text = clean_text(raw)
    if len(text) == 1 and text.upper() in codes:
        return codes[text.upper()]
    return parse_range(text)


def employee_range(raw: str) -> tuple[int | None, int | None]:
    """Employees low/high from `5 to 9`, `1,200`, `1000+` or a letter code (`C` = 10-19)."""
    return _coded_range(raw, _EMPLOYEE_CODES)


def revenue_range(raw: str) -> tuple[int | None, int | None]:
    """Revenue low/high in dollars from `$1-2.5 Million`, `500K`, `Over $1 Billion`, `C`."""
    return _coded_range(raw, _REVENUE_CODES)


# ----------------------------------------------------------------------- industry

_SIC_MAJOR_GROUPS = {
    "01": "Agricultural Production - Crops",
    "02": "Agricultural Production - Livestock",
    "07": "Agricultural Services",
    "08": "Forestry",
    "09": "Fishing, Hunting and Trapping",
    "10": "Metal Mining",
    "12": "Coal Mining",
    "13": "Oil and Gas Extraction",
    "14": "Mining and Quarrying of Nonmetallic Minerals",
    "15": "Construction - General Contractors and Operative Builders",
    "16": "Construction - Heavy Construction Except Building",
    "17": "Construction - Special Trade Contractors",
    "20": "Food and Kindred Products",
    "21": "Tobacco Products",
    "22": "Textile Mill Products",
    "23": "Apparel and Other Textile Products",
    "24": "Lumber and Wood Products",
    "25": "Furniture and Fixtures",
    "26": "Paper and Allied Products",
    "27": "Printing and Publishing",
    "28": "Chemicals and Allied Products",
    "29": "Petroleum Refining",
    "30": "Rubber and Plastics Products",
    "31": "Leather and Leather Products",
    "32": "Stone, Clay, Glass and Concrete Products",
    "33": "Primary Metal Industries",
    "34": "Fabricated Metal Products",
    "35": "Industrial Machinery and Computer Equipment",
    "36": "Electronic and Electrical Equipment",
    "37": "Transportation Equipment",
    "38": "Instruments and Related Products",
    "39": "Miscellaneous Manufacturing",
    "40": "Railroad Transportation",
    "41": "Local and Interurban Passenger Transit",
    "42": "Trucking and Warehousing",
    "43": "United States Postal Service",
    "44": "Water Transportation",
    "45": "Transportation by Air",
    "46": "Pipelines, Except Natural Gas",
    "47": "Transportation Services",
    "48": "Communications",
    "49": "Electric, Gas and Sanitary Services",
    "50": "Wholesale Trade - Durable Goods",
    "51": "Wholesale Trade - Nondurable Goods",
    "52": "Building Materials and Garden Supplies",
    "53": "General Merchandise Stores",
    "54": "Food Stores",
    "55": "Automotive Dealers and Service Stations",
    "56": "Apparel and Accessory Stores",
    "57": "Furniture and Home Furnishings Stores",
    "58": "Eating and Drinking Places",
    "59": "Miscellaneous Retail",
    "60": "Depository Institutions",
    "61": "Nondepository Credit Institutions",
    "62": "Security and Commodity Brokers",
    "63": "Insurance Carriers",
    "64": "Insurance Agents and Brokers",
    "65": "Real Estate",
    "67": "Holding and Other Investment Offices",
    "70": "Hotels and Other Lodging Places",
    "72": "Personal Services",
    "73": "Business Services",
    "75": "Automotive Repair, Services and Parking",
    "76": "Miscellaneous Repair Services",
    "78": "Motion Pictures",
    "79": "Amusement and Recreation Services",
    "80": "Health Services",
    "81": "Legal Services",
    "82": "Educational Services",
    "83": "Social Services",
    "84": "Museums, Galleries and Gardens",
    "86": "Membership Organizations",
    "87": "Engineering, Accounting, Research and Management Services",
    "88": "Private Households",
    "89": "Miscellaneous Services",
    "91": "Executive, Legislative and General Government",
    "92": "Justice, Public Order and Safety",
    "93": "Public Finance, Taxation and Monetary Policy",
    "94": "Administration of Human Resource Programs",
    "95": "Environmental Quality and Housing Programs",
    "96": "Administration of Economic Programs",
    "97": "National Security and International Affairs",
    "99": "Nonclassifiable Establishments",
}
_NAICS_SECTORS = {
    "11": "Agriculture, Forestry, Fishing and Hunting",
    "21": "Mining, Quarrying, and Oil and Gas Extraction",
    "22": "Utilities",
    "23": "Construction",
    **dict.fromkeys(("31", "32", "33"), "Manufacturing"),
    "42": "Wholesale Trade",
    **dict.fromkeys(("44", "45"), "Retail Trade"),
    **dict.fromkeys(("48", "49"), "Transportation and Warehousing"),
    "51": "Information",
    "52": "Finance and Insurance",
    "53": "Real Estate and Rental and Leasing",
    "54": "Professional, Scientific, and Technical Services",
    "55": "Management of Companies and Enterprises",
    "56": "Administrative and Support and Waste Management Services",
    "61": "Educational Services",
    "62": "Health Care and Social Assistance",
    "71": "Arts, Entertainment, and Recreation",
    "72": "Accommodation and Food Services",
    "81": "Other Services (except Public Administration)",
    "92": "Public Administration",
    "99": "Unclassified Establishments",
}


def _code_digits(raw: str) -> str:
    """The digits of a code cell, without a spreadsheet's `.0` or separators."""
    text = clean_text(raw)
    if text.endswith(".0"):
        text = text[:-2]
    return _NON_DIGIT.sub("", text)


def sic_code(raw: str) -> str:
    """An SIC code of 2-8 digits (`1761.0` → `1761`, `0782` kept); "" when not one.

    Odd lengths get back the leading zero a spreadsheet dropped (`782` → `0782`).
    """
    digits = _code_digits(raw)
    if len(digits) in (3, 5, 7):
        digits = "0" + digits
    return digits if 2 <= len(digits) <= 8 and digits[:2] in _SIC_MAJOR_GROUPS else ""


def naics_code(raw: str) -> str:
    """A NAICS code of 2-6 digits in a known sector (`238160`); "" when not one."""
    digits = _code_digits(raw)
    return digits if 2 <= len(digits) <= 6 and digits[:2] in _NAICS_SECTORS else ""


def industry_label(sic: str, naics: str, description: str = "") -> str:
    """A readable industry: the list's description, else the SIC major group or NAICS sector."""
    text = clean_text(description)
    if text:
        return name_case(text)
    sic = sic_code(sic)
    if sic:
        return _SIC_MAJOR_GROUPS[sic[:2]]
    naics = naics_code(naics)
    return _NAICS_SECTORS[naics[:2]] if naics else ""


# ----------------------------------------------------------------------- websites

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_WWW = re.compile(r"^www\d?\.")
_HOST_END = re.compile(r"[/?#\s\\]")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})")


def normalize_website(raw: str) -> str:
    """The lower-case host of a website cell, without scheme, `www.`, port or path.

    `http://www.HillcrestRoofing.example/` → `hillcrestroofing.example`; "" when the
    cell is not a plausible domain (an email address, a bare word).
    """
    text = clean_text(raw).lower()
    if "@" in text and "://" not in text:
        return ""
    host = _HOST_END.split(_SCHEME.sub("", text), maxsplit=1)[0]
    host = host.rpartition("@")[2].partition(":")[0].rstrip(".")
    host = _WWW.sub("", host)
    return host if _DOMAIN.fullmatch(host) and "_" not in host else ""
