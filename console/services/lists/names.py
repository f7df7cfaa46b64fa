"""People's names in purchased lists: honorifics, suffixes, nicknames, two owners in one
cell, and the first, last and display forms (`person_name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from console.services.lists.normalize import (
    NON_ALNUM,
    case_word,
    clean_text,
    fold,
    is_shouty,
    word_key,
)

# Words before the last one that belong to the last name.
_SURNAME_PARTICLES = frozenset(
    {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "le", "du", "dos",
     "das", "des", "st", "st."}
)  # fmt: skip
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
        text = fold(f"{self.first} {self.last}").replace("'", "").replace("’", "")
        return " ".join(sorted(NON_ALNUM.sub(" ", text).split()))


_EMPTY_NAME = PersonName("", "", "", "", "")


@dataclass
class _NameParts:
    """Raw tokens of one person's name while it is being parsed."""

    honorific: str
    given: list[str]
    last: list[str]
    suffixes: list[str]


def _take_honorific(tokens: list[str]) -> str:
    """Remove leading honorifics from `tokens`; the first one, in display form."""
    found = ""
    while tokens and word_key(tokens[0]) in _HONORIFICS:
        found = found or _HONORIFICS[word_key(tokens.pop(0))]
    return found


def _take_suffixes(tokens: list[str], keep: int, roman_v: bool) -> list[str]:
    """Remove trailing suffixes (Jr., III, CPA) from `tokens`, leaving at least `keep`."""
    found: list[str] = []
    while len(tokens) > keep:
        key = word_key(tokens[-1])
        if key not in _NAME_SUFFIXES or (key == "v" and (not roman_v or len(tokens) < 3)):
            break
        found.insert(0, _NAME_SUFFIXES[key])
        tokens.pop()
    return found


def _parse_person(text: str) -> _NameParts:
    """Honorific, given names, last name and suffixes of one person, as raw tokens."""
    segments = [s.strip() for s in text.split(",") if s.strip()]
    suffixes: list[str] = []
    while len(segments) > 1 and all(word_key(t) in _NAME_SUFFIXES for t in segments[-1].split()):
        suffixes = [_NAME_SUFFIXES[word_key(t)] for t in segments.pop().split()] + suffixes
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
    while start > 1 and word_key(tokens[start - 1]) in _SURNAME_PARTICLES:
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
        if is_shouty(token):
            token = case_word(token, i > 0, i < last)
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
