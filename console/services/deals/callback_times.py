"""When an owner asked to be called, read from their words: "tomorrow after 3",
"call me Friday at 10am", "after 5pm", "Monday morning".

The words are read against the moment the reply arrived, on the owner's clock: a reply
received at 9 pm in Chicago saying "tomorrow" means the next day in Chicago, whatever
the date in UTC. A bare hour is read as business hours ("after 3" is 3 pm, "at 9" is
9 am). Words that name no day and no time give nothing, so the form stays empty rather
than guessing. Written here rather than with `dateparser`: that library is large, and
it reads neither "after 3" as an afternoon nor "morning" as 9 am.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from console.services.timezones import in_zone

WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
# The times of day people name instead of a clock time, and the hour each one means.
PARTS_OF_DAY = {
    "morning": time(9, 0),
    "lunch": time(12, 0),
    "lunchtime": time(12, 0),
    "noon": time(12, 0),
    "midday": time(12, 0),
    "afternoon": time(14, 0),
    "evening": time(18, 0),
    "tonight": time(18, 0),
}
# A bare hour below this is afternoon ("after 3"); from it up to 11, morning ("at 9").
FIRST_MORNING_HOUR = 8

_DAY_RE = re.compile(
    r"\b(?P<today>today|this afternoon|this morning|this evening|tonight)\b"
    r"|\b(?P<tomorrow>tomorrow|tmrw|tmr|tomorow|tommorow)\b"
    r"|\b(?P<weekday>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\b"
)
# "3:30 pm", "3pm", "10 a.m.": a clock time, with or without a word before it.
_CLOCK_RE = re.compile(
    r"\b(?P<hour>1[0-2]|0?[1-9])(?::(?P<minute>[0-5]\d))?\s*(?P<half>[ap])\.?\s*m\b\.?"
    r"|\b(?P<hour24>[01]?\d|2[0-3]):(?P<minute24>[0-5]\d)\b"
)
# "after 3", "at 10", "around 4", "by 5", "@ 2": a bare hour after a word that makes
# it a time (a bare number alone may be anything: a price, a count).
_BARE_HOUR_RE = re.compile(
    r"(?:\bafter|\bat|\baround|\bby|\bbefore|\bpast|@)\s*(?P<hour>1[0-2]|0?[1-9])"
    r"(?:\s*o'?\s*clock)?\b(?![:\d%$])"
)
_PART_RE = re.compile(r"\b(?P<part>" + "|".join(PARTS_OF_DAY) + r")\b")


@dataclass(frozen=True)
class CallbackTime:
    """The day and, when the words gave one, the time the owner asked to be called."""

    day: date
    at: time | None

    @property
    def date_text(self) -> str:
        """ "2026-01-15", as a date input holds it."""
        return self.day.isoformat()

    @property
    def time_text(self) -> str:
        """ "15:00", as a time input holds it; "" when only the day was said."""
        return f"{self.at:%H:%M}" if self.at is not None else ""


def read_callback_time(words: str, received_at: datetime, zone: str) -> CallbackTime | None:
    """The day and time `words` ask for, on the clock of `zone` where the reply arrived
    at `received_at` (UTC); None when they name neither a day nor a time."""
    text = " ".join((words or "").lower().replace("’", "'").split())
    if not text:
        return None
    received = in_zone(received_at, zone)
    at = _time_of_day(text)
    day, named = _day(text, received.date())
    if day is None and at is None:
        return None
    clock_now = received.time().replace(second=0, microsecond=0)
    if day is None:
        # A time alone ("after 5pm") is today's if it is still ahead, else tomorrow's.
        day = received.date() + timedelta(days=1 if at <= clock_now else 0)
    elif named == "weekday" and day == received.date() and (at is None or at <= clock_now):
        day += timedelta(days=7)  # "Wednesday" said on a Wednesday afternoon: next week's
    return CallbackTime(day=day, at=at)


def _day(text: str, today: date) -> tuple[date | None, str]:
    """The day named in `text` (today, tomorrow, or the coming such weekday, today's
    included) and which of those words named it."""
    match = _DAY_RE.search(text)
    if match is None:
        return None, ""
    if match.group("today"):
        return today, "today"
    if match.group("tomorrow"):
        return today + timedelta(days=1), "tomorrow"
    ahead = (WEEKDAYS[match.group("weekday")] - today.weekday()) % 7
    return today + timedelta(days=ahead), "weekday"


def _time_of_day(text: str) -> time | None:
    """The time named in `text`: a clock time, a bare hour after "at"/"after", or a part
    of the day ("morning"); a part of the day also says am or pm for a bare hour."""
    part_match = _PART_RE.search(text)
    part = PARTS_OF_DAY[part_match.group("part")] if part_match else None
    clock = _CLOCK_RE.search(text)
    if clock is not None:
        if clock.group("hour24") is not None:
            hour, minute = int(clock.group("hour24")), int(clock.group("minute24"))
            if hour < 13 and part is not None:
                return time(_with_part(hour, part), minute)
            return time(_business_hour(hour) if hour < 13 else hour, minute)
        hour = int(clock.group("hour")) % 12
        if clock.group("half") == "p":
            hour += 12
        return time(hour, int(clock.group("minute") or 0))
    bare = _BARE_HOUR_RE.search(text)
    if bare is not None:
        hour = int(bare.group("hour"))
        return time(_with_part(hour, part) if part is not None else _business_hour(hour), 0)
    return part


def _business_hour(hour: int) -> int:
    """A bare hour as a business day reads it: 8-11 are morning, 12 is noon, 1-7 pm."""
    if hour >= FIRST_MORNING_HOUR or hour == 0:
        return hour
    return hour + 12


def _with_part(hour: int, part: time) -> int:
    """A bare hour in the half of the day a part of the day names ("9 in the morning")."""
    hour %= 12
    return hour + 12 if part.hour >= 12 else hour
