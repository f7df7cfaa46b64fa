"""Legal texting hours: the one home for the federal and state quiet-hour rules.

The rules are data (`FEDERAL`, `RULES`, the holiday calendar, the state time-zone
table), an admin may override them per team (`rules_with_overrides`), and `check`
decides, for one message at one instant, whether it may go now and, if not, the next
minute it may. A send job, the scheduler and the settings page share this module;
nothing here imports Flask or touches a database.

Every rule is in the recipient's local time. When the recipient's zone is uncertain
(a state split across zones, no state at all) every candidate zone must allow the
message: the strictest wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import NumberParseException, geocoder
from phonenumbers import timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from console.services.lists.addresses import STATE_CODES, state_code
from console.services.lists.addresses import zip_code as parse_zip

try:  # python-dateutil comes with rq (through croniter); the fallback keeps us independent.
    from dateutil.easter import easter as _dateutil_easter
except ImportError:  # pragma: no cover - exercised only without dateutil
    _dateutil_easter = None

__all__ = [
    "AREA_CODES_PRESUMED_IN_STATE",
    "CONTINENTAL_ZONES",
    "FEDERAL",
    "RULES",
    "STATE_ZONES",
    "QuietCheck",
    "StateRule",
    "TeamWindow",
    "check",
    "describe",
    "easter",
    "gregorian_easter",
    "holidays",
    "recipient_cap",
    "rule_settings",
    "rules_with_overrides",
    "states_for",
    "zip_state",
    "zones_for",
]

# ------------------------------------------------------------------------ the rules


@dataclass(frozen=True)
class StateRule:
    """One state's texting-hours law, in the recipient's local time."""

    state: str
    start: time
    end: time
    saturday: tuple[time, time] | None = None
    sunday: tuple[time, time] | None = None
    no_sundays: bool = False
    no_holidays: bool = False
    per_24h_cap: int | None = None
    note: str = ""

    def window_on(self, weekday: int) -> tuple[time, time] | None:
        """The window on a weekday (Monday=0), or None when the state bans texts that day."""
        if weekday == 6:
            return None if self.no_sundays else (self.sunday or (self.start, self.end))
        if weekday == 5 and self.saturday:
            return self.saturday
        return self.start, self.end


#: 47 CFR 64.1200(c)(1): no telephone solicitation before 8 am or after 9 pm.
FEDERAL: tuple[time, time] = (time(8), time(21))


def _rule(state: str, start: int, end: int, **more) -> StateRule:
    """A StateRule with whole-hour weekday bounds."""
    return StateRule(state, time(start), time(end), **more)


#: REFERENCE.md section 1, one row a state (MI, MN and NM share a row there).
RULES: dict[str, StateRule] = {
    rule.state: rule
    for rule in (
        _rule("AL", 8, 20, no_sundays=True, no_holidays=True, note="no state holidays"),
        _rule("CT", 9, 20, note="texts included; CT area codes presumed in state"),
        _rule("FL", 8, 20, per_24h_cap=3,
              note="max 3 per 24 h on the same subject (Fla. Stat. 501.616(6))"),
        _rule("KY", 10, 21),
        _rule("LA", 8, 20, no_sundays=True, no_holidays=True,
              note="Mon-Sat; also no texts during declared emergencies"),
        _rule("MD", 8, 20, per_24h_cap=3, note="max 3 per 24 h"),
        _rule("MA", 8, 20),
        _rule("MI", 9, 21),
        _rule("MN", 9, 21),
        _rule("NM", 9, 21),
        _rule("MS", 8, 20, no_sundays=True),
        _rule("NV", 9, 20),
        _rule("OK", 8, 20, per_24h_cap=3,
              note="max 3 per 24 h; OK area codes presumed in state"),
        _rule("PA", 8, 21, no_holidays=True),
        _rule("RI", 9, 18, saturday=(time(10), time(17)), no_sundays=True, no_holidays=True),
        _rule("TX", 9, 21, sunday=(time(12), time(21)),
              note="texts count as calls (SB 140, 2025)"),
        _rule("UT", 8, 21, no_sundays=True, no_holidays=True,
              note="Sundays and legal holidays need the recipient's consent"),
        _rule("WA", 8, 20, note="RCW 19.158.040"),
    )
}  # fmt: skip

#: States whose law presumes a number with one of their area codes is in the state, so
#: their rules apply whatever the business's address says.
AREA_CODES_PRESUMED_IN_STATE = frozenset({"CT", "OK"})

# ------------------------------------------------------------------------- holidays

HolidayRule = Callable[[int], date]


def gregorian_easter(year: int) -> date:
    """Western Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def easter(year: int) -> date:
    """Western Easter Sunday: dateutil's when installed, else `gregorian_easter`."""
    return _dateutil_easter(year) if _dateutil_easter is not None else gregorian_easter(year)


def _fixed(month: int, day: int) -> HolidayRule:
    """A holiday on the same date every year."""
    return lambda year: date(year, month, day)


def _nth(month: int, weekday: int, n: int, plus_days: int = 0) -> HolidayRule:
    """The nth weekday (Monday=0) of a month, n=-1 for the last, shifted by plus_days."""

    def on(year: int) -> date:
        if n > 0:
            first = date(year, month, 1)
            day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        else:
            last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
            day = last - timedelta(days=(last.weekday() - weekday) % 7)
        return day + timedelta(days=plus_days)

    return on


def _from_easter(days: int) -> HolidayRule:
    """A movable feast, days after (or, negative, before) Easter."""
    return lambda year: easter(year) + timedelta(days=days)


_MON, _THU = 0, 3

FEDERAL_HOLIDAYS: tuple[tuple[str, HolidayRule], ...] = (
    ("New Year's Day", _fixed(1, 1)),
    ("Martin Luther King Jr. Day", _nth(1, _MON, 3)),
    ("Presidents' Day", _nth(2, _MON, 3)),
    ("Memorial Day", _nth(5, _MON, -1)),
    ("Independence Day", _fixed(7, 4)),
    ("Labor Day", _nth(9, _MON, 1)),
    ("Veterans Day", _fixed(11, 11)),
    ("Thanksgiving", _nth(11, _THU, 4)),
    ("Christmas", _fixed(12, 25)),
)

STATE_HOLIDAYS: dict[str, tuple[tuple[str, HolidayRule], ...]] = {
    "UT": (("Pioneer Day", _fixed(7, 24)),),
    "RI": (("Rhode Island Independence Day", _fixed(5, 4)), ("Victory Day", _nth(8, _MON, 2))),
    "LA": (("Mardi Gras", _from_easter(-47)), ("Day after Thanksgiving", _nth(11, _THU, 4, 1))),
}

#: States where a holiday that falls on a Sunday is also observed on the Monday.
SUNDAY_HOLIDAYS_OBSERVED_MONDAY = frozenset({"AL"})


@lru_cache(maxsize=512)
def _holiday_table(year: int, state: str | None) -> dict[date, str]:
    """The holidays of a year for a state (federal only for None); shared, do not mutate."""
    named = FEDERAL_HOLIDAYS + STATE_HOLIDAYS.get(state or "", ())
    table = {rule(year): name for name, rule in named}
    if state in SUNDAY_HOLIDAYS_OBSERVED_MONDAY:
        for day, name in list(table.items()):
            if day.weekday() == 6:
                table.setdefault(day + timedelta(days=1), f"{name} (observed)")
    return dict(sorted(table.items()))


def holidays(year: int, state: str | None) -> dict[date, str]:
    """The legal holidays of a year, date to name: federal ones plus the state's extras."""
    return dict(_holiday_table(year, state.upper() if state else None))


# ------------------------------------------------------------------------ time zones

_ET, _CT, _MT, _PT = "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix"
_LA, _BOISE = "America/Los_Angeles", "America/Boise"

#: The zones of each state, east to west, named as phonenumbers names them (it says
#: New_York where the tz database says Indiana/Indianapolis or Detroit, and uses Denver
#: and North_Dakota/Center in ID, OR, NV, ND and SD) so that a number's zones narrow a
#: split state by plain intersection.
STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": (_CT,), "AK": ("America/Anchorage", "America/Juneau", "America/Adak"),
    "AZ": (_MT, _PT), "AR": (_CT,), "CA": (_LA,), "CO": (_MT,), "CT": (_ET,), "DE": (_ET,),
    "DC": (_ET,), "FL": (_ET, _CT), "GA": (_ET,), "HI": ("Pacific/Honolulu",),
    "ID": (_MT, _BOISE, _LA), "IL": (_CT,), "IN": (_ET, _CT), "IA": (_CT,),
    "KS": (_CT, _MT), "KY": (_ET, _CT), "LA": (_CT,), "ME": (_ET,), "MD": (_ET,),
    "MA": (_ET,), "MI": (_ET, _CT), "MN": (_CT,), "MS": (_CT,), "MO": (_CT,), "MT": (_MT,),
    "NE": (_CT, _MT), "NV": (_MT, _LA), "NH": (_ET,), "NJ": (_ET,), "NM": (_MT,),
    "NY": (_ET,), "NC": (_ET,), "ND": (_CT, "America/North_Dakota/Center", _MT),
    "OH": (_ET,), "OK": (_CT,), "OR": (_MT, _BOISE, _LA), "PA": (_ET,), "RI": (_ET,),
    "SC": (_ET,), "SD": (_CT, "America/North_Dakota/Center", _MT), "TN": (_ET, _CT),
    "TX": (_CT, _MT), "UT": (_MT,), "VT": (_ET,), "VA": (_ET,), "WA": (_LA,),
    "WV": (_ET,), "WI": (_CT,), "WY": (_MT,),
    "PR": ("America/Puerto_Rico",), "VI": ("America/St_Thomas",), "GU": ("Pacific/Guam",),
    "AS": ("Pacific/Pago_Pago",), "MP": ("Pacific/Saipan",),
}  # fmt: skip

#: Where a recipient may be when nothing about them is known.
CONTINENTAL_ZONES: tuple[str, ...] = (_ET, _CT, _MT, _PT, _LA)

#: First three ZIP digits (inclusive ranges) to state, from the USPS prefix list; gaps
#: and military prefixes are absent.
_ZIP3_RANGES = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"),
    (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"),
    (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"), (206, 219, "MD"),
    (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"),
    (300, 319, "GA"), (320, 339, "FL"), (341, 349, "FL"), (350, 369, "AL"),
    (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"),
    (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"),
    (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"),
    (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"),
    (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"),
    (730, 732, "OK"), (733, 733, "TX"), (734, 749, "OK"), (750, 799, "TX"),
    (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"),
    (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"),
    (900, 961, "CA"), (967, 968, "HI"), (970, 979, "OR"), (980, 994, "WA"),
    (995, 999, "AK"),
)  # fmt: skip
_ZIP3_STARTS = [low for low, _, _ in _ZIP3_RANGES]

# phonenumbers' geocoder says "Hartford, CT", "Connecticut" or, for two, these.
_GEOCODER_STATES = {"Washington State": "WA", "Washington D.C.": "DC"}
_US_STATES = frozenset(STATE_CODES.values())


def zip_state(zip_code: str) -> str:
    """The state of a US ZIP code from its first three digits; "" when unknown."""
    parsed = parse_zip(zip_code) if zip_code else None
    if parsed is None:
        return ""
    prefix = int(parsed.zip5[:3])
    at = bisect.bisect_right(_ZIP3_STARTS, prefix) - 1
    if at < 0:
        return ""
    low, high, state = _ZIP3_RANGES[at]
    return state if low <= prefix <= high else ""


class _NumberFacts(NamedTuple):
    """What the offline numbering plan says about where a number is."""

    area_code: str
    zones: tuple[str, ...]
    state: str


_NO_FACTS = _NumberFacts("", (), "")


def _geocoded_state(number: phonenumbers.PhoneNumber) -> str:
    """The US state phonenumbers' geocoder gives for a number, "" when none."""
    if phonenumbers.region_code_for_number(number) != "US":
        return ""
    place = geocoder.description_for_number(number, "en")
    if place in _GEOCODER_STATES:
        return _GEOCODER_STATES[place]
    code = state_code(place.rsplit(", ", 1)[-1])
    return code if code in _US_STATES else ""


@lru_cache(maxsize=1)
def _zones_by_area_code() -> dict[str, tuple[str, ...]]:
    """Every zone phonenumbers gives any exchange of each NANP area code."""
    found: dict[str, set[str]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            found.setdefault(prefix[1:4], set()).update(zones)
    return {npa: tuple(sorted(zones)) for npa, zones in found.items()}


def _nanp_zones(national: str) -> tuple[str, ...]:
    """The zones of a NANP number: its exchange's, or, where phonenumbers knows only the
    area code, every zone of that area code.

    phonenumbers lists the exchanges of a split area code that differ from one default
    (270 defaults to New York though most of its listed exchanges are Central), so an
    unlisted exchange could be in any of the area code's zones.
    """
    for length in (7, 6):
        zones = TIMEZONE_DATA.get("1" + national[: length - 1])
        if zones:
            return zones
    return _zones_by_area_code().get(national[:3], ())


def _facts_of(number: phonenumbers.PhoneNumber) -> _NumberFacts:
    """Area code, zones and state of a parsed number; zones () when not geographic."""
    if not phonenumbers.is_number_geographical(number):
        return _NO_FACTS
    national = str(number.national_number)
    if number.country_code == 1:
        zones, area_code = _nanp_zones(national), national[:3]
    else:
        zones, area_code = phone_timezone.time_zones_for_geographical_number(number), ""
    zones = tuple(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE)
    return _NumberFacts(area_code, zones, _geocoded_state(number))


@lru_cache(maxsize=8192)
def _nanp_facts(prefix: str) -> _NumberFacts:
    """Facts for `+1NPANXX`: phonenumbers' zone and place data go no deeper than that."""
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(prefix[2:] + "0000"))
    return _facts_of(number)


@lru_cache(maxsize=1024)
def _other_facts(raw: str) -> _NumberFacts:
    """Facts for a number not written as +1 and ten digits."""
    try:
        number = phonenumbers.parse(raw, "US")
    except NumberParseException:
        return _NO_FACTS
    if number.country_code == 1 and len(str(number.national_number)) == 10:
        return _nanp_facts(f"+1{number.national_number}"[:8])
    return _facts_of(number) if phonenumbers.is_valid_number(number) else _NO_FACTS


def _number_facts(e164: str) -> _NumberFacts:
    """Where the numbering plan puts a number; empty facts for no or a bad number."""
    if not e164:
        return _NO_FACTS
    if len(e164) == 12 and e164.startswith("+1") and e164[2:].isdigit():
        return _nanp_facts(e164[:8])
    return _other_facts(e164)


class _Recipient(NamedTuple):
    """Where a recipient may be and whose laws cover them."""

    zones: tuple[tuple[str, ZoneInfo], ...]
    basis: str
    states: tuple[str, ...]


@lru_cache(maxsize=16384)
def _recipient(state: str, zip_code: str, e164: str) -> _Recipient:
    """Candidate zones, the basis in words and the states whose rules apply."""
    business = state_code(state) if state else ""
    basis = f"state {business}" if business else ""
    if not business and zip_code:
        business = zip_state(zip_code)
        basis = f"ZIP {zip_code.strip()} ({business})" if business else ""
    number = _number_facts(e164)
    elsewhere = ""  # the phone's state when its zones lie wholly outside the business's
    if business in STATE_ZONES:
        zones = STATE_ZONES[business]
        narrowed = tuple(z for z in zones if z in number.zones)
        if narrowed:
            zones = narrowed
            basis += f", area code {number.area_code}" if number.area_code else ""
        elif number.zones and number.state not in AREA_CODES_PRESUMED_IN_STATE:
            # The owner may be at the business or where the mobile's area code is: both
            # clocks must allow the text, and both places' rules apply (strictest wins).
            zones += number.zones
            elsewhere = number.state if number.state != business else ""
            where = f" ({elsewhere})" if elsewhere else ""
            basis += f"; area code {number.area_code}{where} too" if number.area_code else ""
    elif number.zones:
        zones = number.zones
        basis = f"area code {number.area_code}" if number.area_code else "the phone number"
    else:
        zones, basis = CONTINENTAL_ZONES, "nothing known: every continental US zone"
    states = tuple(s for s in (business, elsewhere) if s)
    if number.state in AREA_CODES_PRESUMED_IN_STATE and number.state != business:
        states += (number.state,)
        # The presumption puts the recipient in that state too, so its clock counts.
        zones += tuple(z for z in number.zones if z not in zones)
        presumed = f"presumed in {number.state}"
        basis += f" ({presumed})" if not business else f"; area code {number.area_code} {presumed}"
    return _Recipient(tuple((z, ZoneInfo(z)) for z in zones), basis, states)


def zones_for(state: str, zip_code: str, e164: str) -> tuple[list[str], str]:
    """Candidate IANA zones for a recipient and the basis in words ("state TX, area code 915").

    The business's state (or, without one, its ZIP's) gives that state's zones, narrowed
    to the phone's own zones where they overlap, and joined by them where they do not
    (a Guam business with a 512 mobile: both clocks must allow the text); with no place,
    the phone's zones; with nothing, every continental US zone. A CT or OK number adds
    its zone (see `states_for`).
    """
    recipient = _recipient(state, zip_code, e164)
    return [name for name, _ in recipient.zones], recipient.basis


def states_for(state: str, e164: str) -> list[str]:
    """The states whose rules apply: the business's, plus the number's where the law
    presumes its area codes are in state (CT, OK) or where the number's zones lie
    outside the business's state."""
    return list(_recipient(state, "", e164).states)


# ----------------------------------------------------------------------- words


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _clock(t: time) -> str:
    """A time of day for people: "9:00 am", "noon", "5:30 pm"."""
    if t.minute == 0 and t.hour in (0, 12):
        return "noon" if t.hour == 12 else "midnight"
    return f"{t.hour % 12 or 12}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def _span(window: tuple[time, time]) -> str:
    """A window for people, like 9:00 am-9:00 pm."""
    return f"{_clock(window[0])}-{_clock(window[1])}"


def _days_text(days: Iterable[int]) -> str:
    """A set of weekdays for people: daily, Mon-Fri, "Mon, Wed, Fri" or Saturday."""
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "daily"
    if len(ordered) == 1:
        return _DAY_NAMES[ordered[0]]
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    short = [name[:3] for name in _DAY_NAMES]
    return ", ".join(
        f"{short[r[0]]}-{short[r[-1]]}" if len(r) > 2 else ", ".join(short[d] for d in r)
        for r in runs
    )


def _windows_text(rule: StateRule, long_names: bool = False) -> str:
    """The rule's windows by day: "9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sun"."""
    weekday = (rule.start, rule.end)
    saturday = rule.saturday or weekday
    sunday = None if rule.no_sundays else (rule.sunday or weekday)
    sat, sun = ("Saturday", "Sunday") if long_names else ("Sat", "Sun")
    if saturday == weekday and sunday == weekday:
        return f"{_span(weekday)} daily"
    parts = [f"{_span(weekday)} Mon-Sat"]
    if saturday != weekday:
        parts = [f"{_span(weekday)} Mon-Fri", f"{_span(saturday)} {sat}"]
    if sunday:
        parts.append(f"{_span(sunday)} {sun}")
    return ", ".join(parts)


def describe(rule: StateRule) -> str:
    """The rule in a line for the settings page: "9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sun"."""
    extras = [
        "no Sundays" if rule.no_sundays else "",
        "no holidays" if rule.no_holidays else "",
        f"max {rule.per_24h_cap} per 24 h" if rule.per_24h_cap else "",
    ]
    return "; ".join([_windows_text(rule), *(e for e in extras if e)])


# ---------------------------------------------------------------------- overrides

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_FIELDS = ("start", "end", "saturday", "sunday", "no_sundays", "no_holidays", "per_24h_cap", "note")


def _time_setting(where: str, value: object) -> time:
    """A time from "09:00" (or a time)."""
    if isinstance(value, time):
        return value
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{where}: {value!r} is not a time like 09:00.")
    return time(int(match[1]), int(match[2]))


def _window_setting(where: str, value: object) -> tuple[time, time] | None:
    """A day window from ["12:00", "21:00"], or None."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f'{where}: expected two times like ["12:00", "21:00"] or null.')
    start, end = (_time_setting(where, v) for v in value)
    if start >= end:
        raise ValueError(f"{where}: {_clock(start)} is not before {_clock(end)}.")
    return start, end


def _field_setting(state: str, name: str, value: object) -> object:
    """One override field checked and converted to the StateRule type."""
    where = f"{state} {name}"
    if name in ("start", "end"):
        return _time_setting(where, value)
    if name in ("saturday", "sunday"):
        return _window_setting(where, value)
    if name in ("no_sundays", "no_holidays"):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, not {value!r}.")
        return value
    if name == "per_24h_cap":
        if value is not None and (type(value) is not int or value < 1):
            raise ValueError(f"{where}: expected a whole number of at least 1, or null.")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text.")
    return value


def _overridden(state: str, base: StateRule | None, settings: object) -> StateRule:
    """The base rule (or a new one) with a state's override settings applied."""
    if not isinstance(settings, dict):
        raise ValueError(f"{state}: settings must be a mapping of fields to values.")
    unknown = sorted(set(settings) - set(_FIELDS))
    if unknown:
        raise ValueError(f"{state}: unknown setting {unknown[0]!r}; known: {', '.join(_FIELDS)}.")
    changes = {name: _field_setting(state, name, value) for name, value in settings.items()}
    if base is None:
        if "start" not in changes or "end" not in changes:
            raise ValueError(f"{state}: a new state rule needs both start and end.")
        rule = StateRule(state=state, **changes)
    else:
        rule = replace(base, **changes)
    if rule.start >= rule.end:
        raise ValueError(
            f"{state}: start {_clock(rule.start)} is not before end {_clock(rule.end)}."
        )
    return rule


def rules_with_overrides(overrides: dict | None) -> dict[str, StateRule]:
    """`RULES` with a team's stored overrides applied ({"TX": {"start": "09:00", ...}}).

    Raises ValueError naming the state and field for an unknown state, field or value.
    """
    rules = dict(RULES)
    if not overrides:
        return rules
    if not isinstance(overrides, dict):
        raise ValueError("Texting-hour overrides must map state codes to settings.")
    for key, settings in overrides.items():
        state = key.strip().upper() if isinstance(key, str) else ""
        if state not in STATE_ZONES:
            raise ValueError(f"Unknown state {key!r} in texting-hour overrides.")
        rules[state] = _overridden(state, rules.get(state), settings)
    return rules


def rule_settings(rule: StateRule) -> dict:
    """A rule as the JSON `rules_with_overrides` reads (for the settings form)."""

    def hhmm(t: time) -> str:
        return t.strftime("%H:%M")

    def pair(window: tuple[time, time] | None) -> list[str] | None:
        return [hhmm(window[0]), hhmm(window[1])] if window else None

    return {
        "start": hhmm(rule.start),
        "end": hhmm(rule.end),
        "saturday": pair(rule.saturday),
        "sunday": pair(rule.sunday),
        "no_sundays": rule.no_sundays,
        "no_holidays": rule.no_holidays,
        "per_24h_cap": rule.per_24h_cap,
        "note": rule.note,
    }


def recipient_cap(states: list[str], rules: dict[str, StateRule] | None = None) -> int | None:
    """The smallest per-24-hour message cap among the states, or None when none has one."""
    rules = RULES if rules is None else rules
    caps = [rules[s].per_24h_cap for s in states if s in rules and rules[s].per_24h_cap]
    return min(caps) if caps else None


# -------------------------------------------------------------------------- check


@dataclass(frozen=True)
class TeamWindow:
    """A team's own sending window, applied in the recipient's zone (end time(0) = midnight)."""

    start: time = time(9)
    end: time = time(20)
    days: frozenset[int] = frozenset(range(7))  # Monday=0

    def __post_init__(self) -> None:
        """Accept any iterable of weekdays; keep a frozenset so the window can be a cache key."""
        object.__setattr__(self, "days", frozenset(self.days))


@dataclass(frozen=True)
class QuietCheck:
    """Whether a text may go now; if not, why in an operator's words and when it may."""

    allowed: bool
    reason: str
    next_allowed_at: datetime | None
    zone: str


_DAY = 86_400


class _Plan(NamedTuple):
    """A local day's allowed span in seconds after midnight, and the words for each side.

    A day with no allowed span has start == end == 0 and the reason in `before`.
    """

    start: int
    end: int
    before: str  # "{clock}" is filled in with the local time
    after: str


def _seconds(t: time, end: bool = False) -> int:
    """Seconds after midnight; an end of midnight means the end of the day."""
    seconds = t.hour * 3600 + t.minute * 60 + t.second
    return _DAY if end and seconds == 0 else seconds


def _closed(reason: str) -> _Plan:
    """A day on which nothing may be sent."""
    return _Plan(0, 0, reason, reason)


@lru_cache(maxsize=4096)
def _plan(day: date, rules: tuple[StateRule, ...], team: TeamWindow | None) -> _Plan:
    """The span of a local day that the federal window, the rules and the team all allow."""
    weekday = day.weekday()
    for rule in rules:
        name = _holiday_table(day.year, rule.state).get(day) if rule.no_holidays else None
        if name:
            return _closed(f"{name}: no texts on legal holidays in {rule.state}.")
        if weekday == 6 and rule.no_sundays:
            return _closed(f"No texts on Sundays in {rule.state}.")
    if team is not None and weekday not in team.days:
        return _closed(
            f"Outside the team's sending days ({_days_text(team.days)}); "
            f"it is {_DAY_NAMES[weekday]} there."
        )
    # (start, end, priority, words): the law speaks before the team on a tie.
    bounds = [(*FEDERAL, 1, f"Quiet hours: federal rules allow texts {_span(FEDERAL)}")]
    for rule in rules:
        window = rule.window_on(weekday)
        words = f"Quiet hours in {rule.state}: texts {_windows_text(rule, long_names=True)}"
        bounds.append((*window, 0, words))  # a Sunday ban returned above, so never None
    if team is not None:
        words = f"Outside the team's sending hours, {_span((team.start, team.end))}"
        bounds.append((team.start, team.end, 2, words))
    opening = max(bounds, key=lambda b: (_seconds(b[0]), -b[2]))
    closing = min(bounds, key=lambda b: (_seconds(b[1], end=True), b[2]))
    start, end = _seconds(opening[0]), _seconds(closing[1], end=True)
    if start >= end:
        return _closed(
            f"No sending hours on {_DAY_NAMES[weekday]}: {_uncapitalized(opening[3])}, "
            f"but {_uncapitalized(closing[3])}."
        )
    clock = "; it is {clock} there."
    return _Plan(start, end, opening[3] + clock, closing[3] + clock)


def _uncapitalized(words: str) -> str:
    """Words to follow a colon or a comma."""
    return words[:1].lower() + words[1:]


def _as_utc(when: datetime) -> datetime:
    """An aware instant in UTC."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("check() needs an aware datetime (UTC), not a naive one.")
    return when.astimezone(UTC)


def _failure(
    when: datetime, zone: ZoneInfo, rules: tuple[StateRule, ...], team: TeamWindow | None
) -> str:
    """Why the instant is outside the allowed span in a zone, or "" when it is inside."""
    local = when.astimezone(zone)
    plan = _plan(local.date(), rules, team)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    if plan.start <= seconds < plan.end:
        return ""
    words = plan.before if seconds < plan.start or plan.start == plan.end else plan.after
    return words.replace("{clock}", _clock(local.time()))


_HORIZON_DAYS = 14


def _openings(
    when: datetime, zone: ZoneInfo, rules: tuple[StateRule, ...], team: TeamWindow | None
) -> list[datetime]:
    """The instants (UTC) at which allowed spans open in a zone over the next 14 days."""
    today = when.astimezone(zone).date()
    openings = []
    for offset in range(_HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        plan = _plan(day, rules, team)
        if plan.start < plan.end:
            local = datetime.combine(day, time(), tzinfo=zone) + timedelta(seconds=plan.start)
            # Wall-clock arithmetic above; a span never opens in a DST gap (8 am or later).
            opening = local.astimezone(UTC)
            if opening >= when:
                openings.append(opening)
    return openings


def _blocked(
    when: datetime,
    zones: tuple[tuple[str, ZoneInfo], ...],
    rules: tuple[StateRule, ...],
    team: TeamWindow | None,
) -> QuietCheck:
    """The answer for an instant some zone blocks: the reason and the next allowed minute."""
    openings = {name: _openings(when, zone, rules, team) for name, zone in zones}
    # Allowed spans intersect in a span that opens when the last zone opens, so the
    # next allowed instant is one of the zones' openings.
    next_allowed = next(
        (
            instant
            for instant in sorted({o for found in openings.values() for o in found})
            if not any(_failure(instant, zone, rules, team) for _, zone in zones)
        ),
        None,
    )
    # Name the zone that stays closed longest; on a tie, the first listed.
    far = datetime.max.replace(tzinfo=UTC)
    failures = [(name, _failure(when, zone, rules, team)) for name, zone in zones]
    name, reason = max(
        ((n, r) for n, r in failures if r),
        key=lambda f: openings[f[0]][0] if openings[f[0]] else far,
    )
    if next_allowed is None:
        reason += f" Nothing is allowed in the next {_HORIZON_DAYS} days."
    return QuietCheck(False, reason, next_allowed, name)


def check(
    when: datetime,
    *,
    state: str = "",
    zip_code: str = "",
    e164: str = "",
    team_window: TeamWindow | None = None,
    rules: dict[str, StateRule] | None = None,
) -> QuietCheck:
    """May a text to this recipient go at `when` (aware UTC)? The strictest zone and rule win.

    Allowed only if, in every candidate zone, the local time is inside the federal
    window, every applicable state rule and the team's window. When blocked,
    `next_allowed_at` is the earliest instant (UTC) at which all of them allow it.
    """
    when = _as_utc(when)
    rules = RULES if rules is None else rules
    recipient = _recipient(state, zip_code, e164)
    applicable = tuple(rules[s] for s in recipient.states if s in rules)
    strictest, earliest = "", (date.max, _DAY)
    for name, zone in recipient.zones:
        local = when.astimezone(zone)
        day = local.date()
        plan = _plan(day, applicable, team_window)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if not plan.start <= seconds < plan.end:
            return _blocked(when, recipient.zones, applicable, team_window)
        if (day, seconds) < earliest:  # the zone whose clock reads earliest opened last
            strictest, earliest = name, (day, seconds)
    return QuietCheck(True, "", None, strictest)
