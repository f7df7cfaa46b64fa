"""SMS segment math: encoding, units and segments of a text, and plain-text replacements.

The one home for these facts (REFERENCE.md section 4): the editor's live counter, the
batch drafter and the cost estimate all measure a body here.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# GSM 03.38 basic set: one septet each. Escape (0x1B) only introduces the extension set.
GSM7_BASIC: frozenset[str] = frozenset(
    string.ascii_letters
    + string.digits
    + " \n\r"
    + "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    + "!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà"
)
# The extension table: escape plus one septet, so two septets each. No backtick here.
GSM7_EXTENDED: frozenset[str] = frozenset("^{}\\[]~|€\f")
_GSM7 = GSM7_BASIC | GSM7_EXTENDED
_ESCAPED = str.maketrans({c: "\x1b" + c for c in GSM7_EXTENDED})

MAX_BODY = 1600
GSM7_SINGLE, GSM7_MULTI = 160, 153  # a split message spends 7 septets per part on its header
UCS2_SINGLE, UCS2_MULTI = 70, 67

# ASCII characters that are not one plain septet; text with none of them takes the fast path.
_ASCII_NOT_PLAIN = frozenset(
    chr(c) for c in range(128) if chr(c) not in GSM7_BASIC
)  # the backtick, control characters other than LF and CR, DEL, and the ASCII extensions

# Smart punctuation and odd spaces with plain GSM-7 equivalents that read the same.
REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",  # ‘ left single quote
    "\u2019": "'",  # ’ right single quote, apostrophe
    "\u201a": "'",  # ‚ low single quote
    "\u201b": "'",  # ‛ reversed single quote
    "\u02bc": "'",  # ʼ modifier letter apostrophe
    "\u2032": "'",  # ′ prime
    "`": "'",  # backtick typed as an apostrophe
    "\u00b4": "'",  # ´ acute accent typed as an apostrophe
    "\u201c": '"',  # “ left double quote
    "\u201d": '"',  # ” right double quote
    "\u201e": '"',  # „ low double quote
    "\u201f": '"',  # ‟ reversed double quote
    "\u2033": '"',  # ″ double prime
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\u2012": "-",  # ‒ figure dash
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2015": "-",  # ― horizontal bar
    "\u2212": "-",  # − minus sign
    "\u2026": "...",  # … ellipsis
    "\u2022": "-",  # • bullet
    "\t": " ",
    "\u00a0": " ",  # no-break space
    **{chr(c): " " for c in range(0x2000, 0x200B)},  # en quad ... hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    "\u200b": "",  # zero-width space
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",  # byte order mark
}
_PLAIN_TABLE = str.maketrans(REPLACEMENTS)
# What a reader sees as one character: a flag (two regional indicators), or a character
# with its combining marks, variation selectors, skin tones, tags and ZWJ-joined parts.
_EXTENDING = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
    "\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
)
_SEEN_AS_ONE = re.compile(f"[\U0001f1e6-\U0001f1ff]{{2}}|.(?:[{_EXTENDING}]|\u200d.)*", re.DOTALL)
# Any of these means a code point may belong to a longer cluster.
_JOINS = re.compile(f"[{_EXTENDING}\u200d\U0001f1e6-\U0001f1ff]")
# Unicode categories a reader cannot see on their own: combining marks, format, spaces.
_UNSEEN = frozenset({"Mn", "Me", "Cf", "Zs"})


@dataclass(frozen=True)
class Measure:
    """How a text travels as SMS: its encoding, size in units, and the segments it takes."""

    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # code points
    units: int  # septets (extensions count 2) or UTF-16 code units (astral characters 2)
    segments: int  # 0 for an empty text
    per_segment: int  # 160/70 for one segment, 153/67 when split
    remaining: int  # units still free in the last segment
    # Distinct characters forcing UCS-2, by first appearance, as a reader sees them: an
    # emoji with its skin tone, a ZWJ family or a flag is one entry.
    offending: tuple[str, ...]
    too_long: bool  # more than MAX_BODY characters

    @property
    def summary(self) -> str:
        """One line for the operator: `75 characters · UCS-2 (because of ’ and —) · 2 segments`."""
        encoding = self.encoding
        if self.offending:
            encoding += f" (because of {_listed(self.offending)})"
        text = (
            f"{_count(self.characters, 'character')} · {encoding} · "
            f"{_count(self.segments, 'segment')}"
        )
        if self.too_long:
            text += f" · over the {MAX_BODY:,}-character limit"
        return text


def measure(text: str) -> Measure:
    """Measure `text` as an SMS body; extension septets and surrogate pairs never split."""
    characters = len(text)
    if text.isascii() and _ASCII_NOT_PLAIN.isdisjoint(text):
        return _measured("GSM-7", characters, characters, None, ())
    if _GSM7.issuperset(text):
        septets = text.translate(_ESCAPED)  # each extension character as ESC + itself

        def escape_at(i: int) -> bool:
            return septets[i] == "\x1b"

        return _measured("GSM-7", characters, len(septets), escape_at, ())
    data = text.encode("utf-16-le")

    def high_surrogate_at(i: int) -> bool:
        return 0xD8 <= data[2 * i + 1] <= 0xDB

    return _measured("UCS-2", characters, len(data) // 2, high_surrogate_at, _offending(text))


def _offending(text: str) -> tuple[str, ...]:
    """The distinct characters of `text` outside GSM-7, by first appearance, as seen."""
    if _JOINS.search(text) is None:  # each code point stands alone: skip the cluster walk
        return tuple(sorted(set(text) - _GSM7, key=text.index))
    return tuple(dict.fromkeys(c for c in _SEEN_AS_ONE.findall(text) if not _GSM7.issuperset(c)))


def _measured(
    encoding: str,
    characters: int,
    units: int,
    pair_starts_at: Callable[[int], bool] | None,
    offending: tuple[str, ...],
) -> Measure:
    """The Measure of a text; `pair_starts_at(i)` tells whether unit i opens a 2-unit pair."""
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    if units <= single:
        segments, per_segment, used = (1 if units else 0), single, units
    else:
        segments, used = _fill(units, multi, pair_starts_at if units > characters else None)
        per_segment = multi
    return Measure(
        encoding=encoding,
        characters=characters,
        units=units,
        segments=segments,
        per_segment=per_segment,
        remaining=per_segment - used,
        offending=offending,
        too_long=characters > MAX_BODY,
    )


def _fill(
    units: int, capacity: int, pair_starts_at: Callable[[int], bool] | None
) -> tuple[int, int]:
    """Segments needed and units used in the last one; a pair moves whole to the next."""
    if pair_starts_at is None:  # every character is one unit: plain division is exact
        segments = -(-units // capacity)
        return segments, units - (segments - 1) * capacity
    segments, start = 1, 0
    while units - start > capacity:
        end = start + capacity
        if pair_starts_at(end - 1):
            end -= 1
        segments, start = segments + 1, end
    return segments, units - start


def _count(n: int, noun: str) -> str:
    """`1 segment`, `2 segments`, `1,600 characters`."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _listed(chars: tuple[str, ...], most: int = 3) -> str:
    """`’`, `’ and —`, `’, — and …`, or `’, —, … and 2 more`, invisible ones by name."""
    shown = [_shown(c) for c in chars[:most]]
    rest = len(chars) - most
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _shown(seen: str) -> str:
    """A character as the operator can see it: itself, or its name when it is invisible."""
    if len(seen) > 1:
        return seen
    if seen.isprintable() and not seen.isspace() and unicodedata.category(seen) not in _UNSEEN:
        return seen
    return unicodedata.name(seen, f"U+{ord(seen):04X}").lower()


def plain(text: str) -> str:
    """`text` with smart quotes, dashes, ellipses and odd spaces made plain (see REPLACEMENTS)."""
    return text.translate(_PLAIN_TABLE)


def replaceable(text: str) -> tuple[str, ...]:
    """The characters forcing UCS-2 that `plain()` would replace, by first appearance."""
    return tuple(c for c in measure(text).offending if c in REPLACEMENTS)
