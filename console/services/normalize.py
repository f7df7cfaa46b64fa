"""Normalizing the values found in business lists, one field at a time."""

from __future__ import annotations

import re

_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v", "md", "phd", "dds", "cpa", "esq"}
_HONORIFICS = {"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "miss"}
_LEGAL_SUFFIX = re.compile(
    r"[\s,]+(l\.?l\.?c|inc|corp|corporation|co|company|ltd|limited|p\.?l\.?l\.?c|l\.?l\.?p|l\.?p|p\.?c|p\.?a)\.?$",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "m": 1_000_000,
    "billion": 1_000_000_000,
    "b": 1_000_000_000,
}


def split_name(full: str) -> tuple[str, str]:
    """First and last name from `John A. Smith`, `Smith, John` or `Dr. Jane Doe Jr.`."""
    full = " ".join(full.split())
    if not full:
        return "", ""
    if "," in full:
        last, _, rest = full.partition(",")
        if rest.strip().lower() not in _SUFFIXES:
            first = rest.split()[0] if rest.split() else ""
            return first, last.strip()
    words = [w for w in full.split() if w.lower() not in _HONORIFICS]
    while len(words) > 1 and words[-1].lower().rstrip(",") in _SUFFIXES:
        words.pop()
    if len(words) == 1:
        return words[0], ""
    last_start = len(words) - 1
    # Particles belong to the last name: de la Cruz, van der Berg.
    while last_start > 1 and words[last_start - 1].lower() in {
        "de",
        "la",
        "del",
        "van",
        "von",
        "der",
        "da",
        "di",
        "le",
    }:
        last_start -= 1
    return words[0], " ".join(words[last_start:])


def normalized_business_name(name: str) -> str:
    """A business name for matching: lower case, no legal suffix, no punctuation."""
    text = name.strip().lower().replace("&", " and ")
    previous = None
    while previous != text:
        previous, text = text, _LEGAL_SUFFIX.sub("", text)
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def parse_range(text: str) -> tuple[int | None, int | None]:
    """Low and high numbers from `5 to 9`, `$1 to 2.5 Million`, `Less Than $500,000`, `12`."""
    cleaned = text.strip().lower().replace(",", "").replace("$", "")
    if not cleaned:
        return None, None
    unit = 1
    for word, factor in _MULTIPLIERS.items():
        if re.search(rf"\d\s*{word}\b|\b{word}$", cleaned):
            unit = factor
            break
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", cleaned)]
    if not numbers:
        return None, None

    def scale(value: float) -> int:
        return int(value * unit) if value < 1000 else int(value)

    if cleaned.startswith(("less than", "under", "<")):
        return 0, scale(numbers[0])
    if cleaned.startswith(("over", "more than", ">")) or cleaned.endswith("+"):
        return scale(numbers[0]), None
    if len(numbers) == 1:
        return scale(numbers[0]), scale(numbers[0])
    return scale(numbers[0]), scale(numbers[1])
