"""The fields found in an owner's reply: email, phone, callback time, asking price, timeline.

`extract(text)` reads them with bounded patterns, quickly and without a network; the
rules classifier (`classify.by_rules`) labels a reply by them as well as by its words.
"""

from __future__ import annotations

import re

import phonenumbers

from console.services.phones import DEFAULT_REGION
from console.services.replies import optout

# Starts only where a run of address characters starts, and every part is bounded, so a
# long run without an "@" is read once, not once from each of its characters.
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+'-])[a-z0-9._%+'-]{1,64}"
    r"@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}(?![a-z])",
    re.IGNORECASE,
)

_MONEY_RE = re.compile(
    r"(?<![\w.])(\$\s?)?(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"
    r"(k|mm|m|mil|mill|million|millions|thousand|grand|b|bn|billion)?(?![\w,])"
)
_MONEY_WORDS_RE = re.compile(
    r"\b(half\s+a|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(\s+and\s+a\s+half)?\s+(million|mil)\b"
)
_NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mil": 1e6,
    "mill": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
# A figure followed by one of these is what the business earns, not what it would cost.
_NOT_A_PRICE_RE = re.compile(
    r"\s*(?:in\s+|of\s+)?(?:revenue|sales|gross|ebitda|profit|sde|net|a\s+year|per\s+year"
    r"|annual|yearly|/\s*yr|in\s+debt|debt)"
)
_FEWEST_PHONE_DIGITS = 10  # a US number with its area code; the matcher is slow, so ask it less
_SMALLEST_PRICE = 10_000  # below this a figure is a bill or a fee, not a business

_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_CLOCK = r"\d{1,2}(?::[0-5]\d)?(?![\d:])(?![-.)]\d)(?:\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)(?!\w))?"
_CLOCK_MERIDIEM = r"(?<![\d-])\d{1,2}(?::[0-5]\d)?\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)"
_WHEN_PART = (
    rf"(?:tomorrow|tmrw|tmr|today|tonight|later\s+today|this\s+(?:morning|afternoon|evening|week)"
    rf"|next\s+(?:week|month|{_DAY})|(?:on\s+)?{_DAY}s?|weekdays?|weekends?|any\s?time"
    rf"|(?:in\s+the\s+)?(?:morning|afternoon|evening)s?"
    rf"|(?:at|after|before|around|about|between|by|until)\s+{_CLOCK}(?:\s*(?:-|and|to)\s*{_CLOCK})?"
    rf"|{_CLOCK_MERIDIEM}|in\s+(?:an?|\d+|a\s+few|a\s+couple(?:\s+of)?)\s+(?:hours?|hrs?|minutes?|mins?)"
    rf"|after\s+(?:work|lunch|hours|school|tax\s+season|the\s+holidays)"
    rf"|end\s+of\s+(?:the\s+)?(?:day|week|month))"
)
_CALLBACK_TIME_RE = re.compile(rf"\b{_WHEN_PART}(?:(?:\s+|\s*,\s*){_WHEN_PART})*", re.IGNORECASE)
_CALL_WORDS_RE = re.compile(r"\b(?:call|ring|phone|talk|speak|reach)\w*", re.IGNORECASE)

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_SEASON = (
    r"(?:spring|summer|fall|autumn|winter|tax\s+season|busy\s+season|the\s+season|holidays"
    r"|christmas|new\s+year'?s?|first\s+of\s+the\s+year|year[\s-]end|end\s+of\s+the\s+year)"
)
_COUNT = (
    r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a\s+few|a\s+couple(?:\s+of)?"
    r"|several|\d+(?:\s*(?:-|to)\s*\d+)?)"
)
_UNIT = r"(?:years?|yrs?|months?|mos?|weeks?|wks?)"
_TIMELINE_RE = re.compile(
    rf"\b(?:next\s+(?:year|month|spring|summer|fall|autumn|winter|quarter|season)"
    rf"|this\s+(?:fall|autumn|spring|summer|winter|coming\s+year)"
    rf"|(?:in|by|after|until|around|before)\s+(?:the\s+)?(?:{_SEASON}|{_MONTH})\b"
    rf"|(?:after|once|when)\s+{_SEASON}"
    rf"|(?:in|within)\s+(?:the\s+next\s+)?{_COUNT}\s+{_UNIT}\b"
    rf"|{_COUNT}\s+{_UNIT}\s+(?:from\s+now|out)\b"
    rf"|(?<=give\sme\s){_COUNT}\s+{_UNIT}\b"
    rf"|(?:in|by|until|around)\s+(?:20\d\d|q[1-4])\b|q[1-4](?:\s+20\d\d)?\b"
    rf"|when\s+i\s+(?:turn\s+\d+|retire|hit\s+\d+)|once\s+my\s+\w+\s+(?:is\s+up|ends|expires)"
    rf"|down\s+the\s+road|someday|some\s+day|eventually|in\s+the\s+future)",
    re.IGNORECASE,
)
# "I sold it in 2021" is history, not a timeline.
_PAST_RE = re.compile(r"\b(?:sold|closed|bought|opened|started|since|ago|last)\b[^.!?]*\Z", re.I)


def _email(text: str) -> str:
    """The first email address in the reply, lower case, or ""."""
    match = _EMAIL_RE.search(text)
    return match.group(0).lower().rstrip(".") if match else ""


def _phone(text: str) -> str:
    """The first valid phone number in the reply, in E.164, or ""."""
    if sum(c.isdigit() for c in text) < _FEWEST_PHONE_DIGITS:
        return ""
    for match in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _money(value: float) -> str:
    """A figure in dollars, as operators write it: `$1,200,000`."""
    return f"${round(value):,}"


def _asking_price(folded: str) -> str:
    """The first figure that reads as a price ("1.2M", "$900k", "two million"), or ""."""
    for match in _MONEY_RE.finditer(folded):
        dollar, number, unit = match.groups()
        if not dollar and not unit:
            continue
        if _NOT_A_PRICE_RE.match(folded, match.end()):
            continue
        value = float(number.replace(",", "")) * _MULTIPLIERS.get(unit or "", 1)
        if value >= _SMALLEST_PRICE:
            return _money(value)
    match = _MONEY_WORDS_RE.search(folded)
    if match is None:
        return ""
    count, half, _ = match.groups()
    value = 0.5 if count.startswith("half") else _NUMBER_WORDS[count] + (0.5 if half else 0)
    return _money(value * 1e6)


def _callback_time(text: str) -> str:
    """When the owner wants a call, as written ("tomorrow after 3pm"), or ""."""
    if not _CALL_WORDS_RE.search(text):
        return ""
    match = _CALLBACK_TIME_RE.search(text)
    return match.group(0).strip(" ,") if match else ""


def _timeline(text: str) -> str:
    """When a sale might suit the owner, as written ("next year", "in 6 months"), or ""."""
    for match in _TIMELINE_RE.finditer(text):
        if not _PAST_RE.search(text, 0, match.start()):
            return match.group(0)
    return ""


def extract(text: str) -> dict[str, str]:
    """The fields found in a reply: email, phone, callback_time, asking_price, timeline."""
    text = text[: optout.READ_LIMIT]
    folded = optout.fold(text)
    found = {
        "email": _email(text),
        "phone": _phone(text),
        "callback_time": _callback_time(text),
        "asking_price": _asking_price(folded),
        "timeline": _timeline(text),
    }
    return {key: value for key, value in found.items() if value}
