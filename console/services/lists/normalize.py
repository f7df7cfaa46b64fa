"""Normalizing the values found in purchased business lists: the shared cleaning, and
where each field's rules live.

Every cell passes `clean_text` first. Each field has one home in `lists/`: people's
names in `names` (`person_name`), phones in `phone_numbers` (`parse_phone`), emails
in `emails` (`normalize_email`), states, ZIPs and street addresses in `addresses`
(`address`), business names, size ranges, industry codes and websites in
`business_fields` (`normalized_business_name`). This module keeps what they share:
the cleaning, the accent fold and the Title Case of names and places (`name_case`).
Every function is pure: it takes the raw text of a cell and returns plain values or
a frozen dataclass, so list imports, jobs, CLI commands and tests share a single
definition. Nothing here imports Flask or touches a database.
"""

from __future__ import annotations

import re
import unicodedata

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


# What Excel and Google Sheets show in a cell whose formula failed: never a value.
_SPREADSHEET_ERROR = re.compile(
    r"#(?:REF!|N/A|VALUE!|DIV/0!|NAME\?|NULL!|NUM!|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!"
    r"|BUSY!|UNKNOWN!|GETTING_DATA|ERROR!)",
    re.IGNORECASE,
)


def spreadsheet_error(value: str | None) -> str:
    """The error a cell shows when its formula failed (`#REF!`, `#N/A`, `#DIV/0!`), else ""."""
    text = " ".join((value or "").split())
    return text.upper() if len(text) <= 14 and _SPREADSHEET_ERROR.fullmatch(text) else ""


def fold(text: str) -> str:
    """Lower case with accents folded to ASCII letters: `José Müller` → `jose muller`."""
    text = text.lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return "".join(c for c in text if not unicodedata.combining(c))


# ------------------------------------------------------------------------- casing

# Lower case inside a name when another word follows: Maria de la Cruz, Bank of America.
_LOWER_INSIDE = frozenset(
    {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "le", "du", "dos",
     "das", "des", "y", "of", "the", "and"}
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
ORDINAL = re.compile(r"\d*(?:1st|2nd|3rd|[04-9]th|1[123]th)")
_INITIALISM = re.compile(r"(?:[a-z]\.){2,}[a-z]?")
NON_ALNUM = re.compile(r"[^a-z0-9]+")


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
        return low if ORDINAL.fullmatch(low) else low.upper()
    if "." in low and _INITIALISM.fullmatch(low):
        return low.upper()
    if len(low) > 2 and low[1] == "'" and low[0].isalpha() and low[2].isalpha():
        return low[0].upper() + "'" + low[2].upper() + low[3:]
    if len(low) > 3 and low.startswith("mc") and low[2].isalpha():
        return "Mc" + low[2].upper() + low[3:]
    if low in _MAC_NAMES:
        return "Mac" + low[3].upper() + low[4:]
    return _capitalize(low)


def case_word(word: str, inner: bool = False, followed: bool = False) -> str:
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


def is_shouty(text: str) -> bool:
    """Whether `text` was typed all upper case or all lower case."""
    return text.isupper() or text.islower()


def name_case(word_or_text: str) -> str:
    """Title Case for names and places typed ALL CAPS or all lower; mixed case kept as typed.

    `MCKINNEY` → `McKinney`, `maria de la cruz` → `Maria de la Cruz`,
    `WINSTON-SALEM` → `Winston-Salem`, `McKinney` stays.
    """
    text = " ".join((word_or_text or "").split())
    if not is_shouty(text):
        return text
    words = text.split()
    last = len(words) - 1
    return " ".join(case_word(w, i > 0, i < last) for i, w in enumerate(words))


def word_key(token: str) -> str:
    """A token lower-cased without dots or commas, for table look-ups."""
    return token.lower().replace(".", "").strip(",")
