"""Texting hours: state rules, holidays, recipient zones, the next allowed minute, overrides."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from phonenumbers.tzdata import TIMEZONE_DATA

from console.services.sending.quiethours import (
    CONTINENTAL_ZONES,
    FEDERAL,
    RULES,
    STATE_ZONES,
    QuietCheck,
    StateRule,
    TeamWindow,
    _nanp_facts,
    check,
    describe,
    easter,
    gregorian_easter,
    holidays,
    recipient_cap,
    rule_settings,
    rules_with_overrides,
    states_for,
    zip_state,
    zones_for,
)

ET, CT, MT, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

AUSTIN = "+15125550142"  # 512: Central
EL_PASO = "+19155550142"  # 915: Mountain
HARTFORD = "+18605550142"  # CT area code
TULSA = "+19185550142"  # OK area code
MIAMI = "+13055550142"
MANHATTAN = "+12125550142"
SALT_LAKE = "+18015550142"
PROVIDENCE = "+14015550142"
PHILADELPHIA = "+12155550142"
BIRMINGHAM = "+12055550142"
NEW_ORLEANS = "+15045550142"
LOUISVILLE = "+15025550142"
PADUCAH_UNLISTED = "+12705550142"  # 270 is split; 555 is no listed exchange
TOLL_FREE = "+18005550142"

MON_FRI = frozenset(range(5))


def at(zone: str, year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An aware UTC instant from a wall-clock time in a zone."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local(instant: datetime, zone: str) -> tuple[int, int, int, int, int]:
    """(year, month, day, hour, minute) of an instant on a zone's wall clock."""
    moment = instant.astimezone(ZoneInfo(zone))
    return moment.year, moment.month, moment.day, moment.hour, moment.minute


# ------------------------------------------------------------- the local clock decides

# 2026-03-14 is a Saturday, 03-15 a Sunday, 03-16 a Monday (after the DST change).
ALLOWED_OR_NOT = [
    # TX: 9-21 Mon-Sat, noon-21 Sunday
    ("TX Sunday 11:59", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 15, 11, 59), False),
    ("TX Sunday noon", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 15, 12, 0), True),
    ("TX Monday 8:59", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 8, 59), False),
    ("TX Monday 9:00", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 9, 0), True),
    ("TX Monday 20:59", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 20, 59), True),
    ("TX Monday 21:00", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 21, 0), False),
    # RI: 9-18 Mon-Fri, 10-17 Saturday, never Sunday
    ("RI Saturday 9:30", {"state": "RI"}, (ET, 2026, 3, 14, 9, 30), False),
    ("RI Saturday 10:00", {"state": "RI"}, (ET, 2026, 3, 14, 10, 0), True),
    ("RI Saturday 16:59", {"state": "RI"}, (ET, 2026, 3, 14, 16, 59), True),
    ("RI Saturday 17:00", {"state": "RI"}, (ET, 2026, 3, 14, 17, 0), False),
    ("RI Sunday noon", {"state": "RI"}, (ET, 2026, 3, 15, 12, 0), False),
    ("RI weekday 17:59", {"state": "RI"}, (ET, 2026, 3, 16, 17, 59), True),
    ("RI weekday 18:00", {"state": "RI"}, (ET, 2026, 3, 16, 18, 0), False),
    ("RI May 4", {"state": "RI", "e164": PROVIDENCE}, (ET, 2026, 5, 4, 12, 0), False),
    ("RI Victory Day", {"state": "RI", "e164": PROVIDENCE}, (ET, 2026, 8, 10, 12, 0), False),
    # UT: no Sundays, no holidays (Pioneer Day Jul 24)
    ("UT Sunday", {"state": "UT", "e164": SALT_LAKE}, (MT, 2026, 3, 15, 12, 0), False),
    ("UT Saturday", {"state": "UT", "e164": SALT_LAKE}, (MT, 2026, 3, 14, 12, 0), True),
    ("UT Pioneer Day", {"state": "UT", "e164": SALT_LAKE}, (MT, 2026, 7, 24, 12, 0), False),
    ("UT Jul 23", {"state": "UT", "e164": SALT_LAKE}, (MT, 2026, 7, 23, 12, 0), True),
    # PA: legal holidays
    ("PA Thanksgiving", {"state": "PA"}, (ET, 2026, 11, 26, 12, 0), False),
    ("PA Black Friday", {"state": "PA"}, (ET, 2026, 11, 27, 12, 0), True),
    ("PA Dec 26 2022", {"state": "PA"}, (ET, 2022, 12, 26, 12, 0), True),
    # AL: Sundays, and a Sunday holiday is observed on Monday too
    ("AL Sunday", {"state": "AL", "e164": BIRMINGHAM}, (CT, 2026, 3, 15, 12, 0), False),
    ("AL Christmas 2022 observed", {"state": "AL"}, (CT, 2022, 12, 26, 12, 0), False),
    ("AL New Year 2023 observed", {"state": "AL"}, (CT, 2023, 1, 2, 12, 0), False),
    ("AL Dec 27 2022", {"state": "AL"}, (CT, 2022, 12, 27, 12, 0), True),
    ("AL 20:00", {"state": "AL"}, (CT, 2026, 3, 16, 20, 0), False),
    # LA: Mardi Gras, the day after Thanksgiving, Sundays
    ("LA Mardi Gras 2027", {"state": "LA", "e164": NEW_ORLEANS}, (CT, 2027, 2, 9, 12, 0), False),
    ("LA Ash Wednesday", {"state": "LA", "e164": NEW_ORLEANS}, (CT, 2027, 2, 10, 12, 0), True),
    ("LA Sunday", {"state": "LA", "e164": NEW_ORLEANS}, (CT, 2026, 3, 15, 12, 0), False),
    ("LA Black Friday", {"state": "LA"}, (CT, 2026, 11, 27, 12, 0), False),
    ("MS Sunday", {"state": "MS"}, (CT, 2026, 3, 15, 12, 0), False),
    ("MS Monday", {"state": "MS"}, (CT, 2026, 3, 16, 12, 0), True),
    # A state with no rule of its own: the federal 8-21
    ("NY 7:59", {"state": "NY", "e164": MANHATTAN}, (ET, 2026, 3, 16, 7, 59), False),
    ("NY 8:00", {"state": "NY", "e164": MANHATTAN}, (ET, 2026, 3, 16, 8, 0), True),
    ("NY 20:59", {"state": "NY", "e164": MANHATTAN}, (ET, 2026, 3, 16, 20, 59), True),
    ("NY 21:00", {"state": "NY", "e164": MANHATTAN}, (ET, 2026, 3, 16, 21, 0), False),
    ("NY Sunday", {"state": "NY"}, (ET, 2026, 3, 15, 12, 0), True),
    ("NY Thanksgiving", {"state": "NY"}, (ET, 2026, 11, 26, 12, 0), True),
    ("FL 19:59", {"state": "FL", "e164": MIAMI}, (ET, 2026, 3, 16, 19, 59), True),
    ("FL 20:00", {"state": "FL", "e164": MIAMI}, (ET, 2026, 3, 16, 20, 0), False),
    ("KY 9:59", {"state": "KY", "e164": LOUISVILLE}, (ET, 2026, 3, 16, 9, 59), False),
    ("KY 10:00", {"state": "KY", "e164": LOUISVILLE}, (ET, 2026, 3, 16, 10, 0), True),
    ("NV 20:00", {"state": "NV"}, (PT, 2026, 3, 16, 20, 0), False),
    ("WA 19:59", {"state": "WA"}, (PT, 2026, 3, 16, 19, 59), True),
    # CT number, business with no state: CT's 9-20 in CT's zone
    ("CT number 8:59", {"e164": HARTFORD}, (ET, 2026, 3, 16, 8, 59), False),
    ("CT number 9:00", {"e164": HARTFORD}, (ET, 2026, 3, 16, 9, 0), True),
    ("CT number 20:00", {"e164": HARTFORD}, (ET, 2026, 3, 16, 20, 0), False),
    # OK number for a TX business: TX allows 20:30, OK does not
    ("TX business OK number", {"state": "TX", "e164": TULSA}, (CT, 2026, 3, 16, 20, 30), False),
    ("TX business TX number", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 20, 30), True),
    # A split state: El Paso is on Mountain time, Austin on Central
    ("El Paso 9:30 Central", {"state": "TX", "e164": EL_PASO}, (CT, 2026, 3, 16, 9, 30), False),
    ("El Paso 9:00 Mountain", {"state": "TX", "e164": EL_PASO}, (MT, 2026, 3, 16, 9, 0), True),
    ("El Paso 20:30 Mountain", {"state": "TX", "e164": EL_PASO}, (MT, 2026, 3, 16, 20, 30), True),
    ("Austin 9:30 Central", {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 9, 30), True),
    ("TX, no phone: Mountain opens last", {"state": "TX"}, (CT, 2026, 3, 16, 9, 30), False),
    ("TX, no phone: Central closes first", {"state": "TX"}, (MT, 2026, 3, 16, 20, 30), False),
    # No state: the area code's zone
    ("512, no state, 8:00", {"e164": AUSTIN}, (CT, 2026, 3, 16, 8, 0), True),
    ("512, no state, 7:59", {"e164": AUSTIN}, (CT, 2026, 3, 16, 7, 59), False),
    # Nothing known: every continental zone, 8 am in LA is 11 am in New York
    ("unknown 10:59 ET", {}, (ET, 2026, 3, 16, 10, 59), False),
    ("unknown 11:00 ET", {}, (ET, 2026, 3, 16, 11, 0), True),
    ("unknown 20:59 ET", {}, (ET, 2026, 3, 16, 20, 59), True),
    ("toll-free is unknown", {"e164": TOLL_FREE}, (ET, 2026, 3, 16, 10, 0), False),
    # ZIP gives the state when there is none
    ("ZIP 78701 Sunday 11:00", {"zip_code": "78701"}, (CT, 2026, 3, 15, 11, 0), False),
    ("ZIP 10001 Sunday 11:00", {"zip_code": "10001"}, (ET, 2026, 3, 15, 11, 0), True),
    # DST: on spring-forward day 8:00 EDT is 12:00 UTC, not 13:00
    ("NY spring-forward 8:30 EDT", {"state": "NY"}, (ET, 2026, 3, 8, 8, 30), True),
    ("NY spring-forward 7:59 EDT", {"state": "NY"}, (ET, 2026, 3, 8, 7, 59), False),
    ("NY fall-back 8:00 EST", {"state": "NY"}, (ET, 2026, 11, 1, 8, 0), True),
    ("NY fall-back 7:59 EST", {"state": "NY"}, (ET, 2026, 11, 1, 7, 59), False),
]


@pytest.mark.parametrize(
    ("recipient", "wall_clock", "allowed"),
    [pytest.param(r, w, a, id=name) for name, r, w, a in ALLOWED_OR_NOT],
)
def test_the_recipients_local_time_decides(recipient, wall_clock, allowed):
    """Each rule, at and around its edges, in the recipient's zone."""
    result = check(at(*wall_clock), **recipient)
    assert result.allowed is allowed
    assert (result.reason == "") is allowed
    assert (result.next_allowed_at is None) is allowed


@pytest.mark.parametrize(
    ("recipient", "wall_clock"),
    [pytest.param(r, w, id=name) for name, r, w, a in ALLOWED_OR_NOT if not a],
)
def test_next_allowed_at_is_the_first_allowed_minute(recipient, wall_clock):
    """The next allowed instant is allowed, and the minute before it is not."""
    when = at(*wall_clock)
    result = check(when, **recipient)
    assert result.next_allowed_at is not None
    assert result.next_allowed_at.tzinfo is UTC
    assert result.next_allowed_at > when
    assert result.next_allowed_at.second == 0
    assert check(result.next_allowed_at, **recipient).allowed
    assert not check(result.next_allowed_at - timedelta(minutes=1), **recipient).allowed


# ---------------------------------------------------------------- the next minute


@pytest.mark.parametrize(
    ("recipient", "wall_clock", "zone", "expected"),
    [
        pytest.param({"state": "UT"}, (MT, 2026, 3, 15, 10, 0), MT, (2026, 3, 16, 8, 0),
                     id="UT Sunday -> Monday 8:00 Denver"),
        pytest.param({"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 15, 11, 59), CT,
                     (2026, 3, 15, 12, 0), id="TX Sunday 11:59 -> noon"),
        pytest.param({"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 7, 42), CT,
                     (2026, 3, 16, 9, 0), id="TX Monday 7:42 -> 9:00"),
        pytest.param({"state": "TX"}, (CT, 2026, 3, 16, 8, 0), CT, (2026, 3, 16, 10, 0),
                     id="TX both zones -> 9:00 Denver"),
        pytest.param({"state": "NY"}, (ET, 2026, 3, 13, 21, 0), ET, (2026, 3, 14, 8, 0),
                     id="NY Friday 21:00 -> Saturday 8:00"),
        pytest.param({"state": "UT"}, (MT, 2026, 9, 5, 21, 30), MT, (2026, 9, 8, 8, 0),
                     id="UT Labor Day weekend -> Tuesday"),
        pytest.param({"state": "AL"}, (CT, 2022, 12, 24, 20, 30), CT, (2022, 12, 27, 8, 0),
                     id="AL Christmas on Sunday, observed Monday -> Tuesday"),
        pytest.param({"state": "RI"}, (ET, 2026, 7, 3, 18, 0), ET, (2026, 7, 6, 9, 0),
                     id="RI July 4 on Saturday -> Monday"),
        pytest.param({"state": "PA"}, (ET, 2026, 11, 25, 21, 0), ET, (2026, 11, 27, 8, 0),
                     id="PA Thanksgiving eve -> Friday"),
        pytest.param({"state": "LA"}, (CT, 2026, 11, 25, 20, 0), CT, (2026, 11, 28, 8, 0),
                     id="LA Thanksgiving and the day after -> Saturday"),
        pytest.param({"state": "LA"}, (CT, 2027, 2, 6, 20, 0), CT, (2027, 2, 8, 8, 0),
                     id="LA Saturday night -> Monday before Mardi Gras"),
        pytest.param({"state": "NY"}, (ET, 2026, 3, 8, 1, 30), ET, (2026, 3, 8, 8, 0),
                     id="spring-forward night -> 8:00 EDT"),
        pytest.param({"state": "NY"}, (ET, 2026, 11, 1, 1, 30), ET, (2026, 11, 1, 8, 0),
                     id="fall-back night -> 8:00 EST"),
        pytest.param({}, (ET, 2026, 3, 16, 9, 0), ET, (2026, 3, 16, 11, 0),
                     id="unknown -> 8:00 Los Angeles"),
    ],
)  # fmt: skip
def test_next_allowed_at(recipient, wall_clock, zone, expected):
    """Across nights, Sundays, holiday weekends and DST changes, in the right zone."""
    result = check(at(*wall_clock), **recipient)
    assert not result.allowed
    assert local(result.next_allowed_at, zone) == expected


def test_dst_moves_the_utc_instant_of_8_am():
    """8 am New York is 13:00 UTC in winter and 12:00 UTC once clocks spring forward."""
    saturday = check(datetime(2026, 3, 7, 12, 30, tzinfo=UTC), state="NY")
    sunday = check(datetime(2026, 3, 8, 12, 30, tzinfo=UTC), state="NY")
    assert not saturday.allowed
    assert saturday.next_allowed_at == datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
    assert sunday.allowed


# ------------------------------------------------------------------------ reasons


@pytest.mark.parametrize(
    ("recipient", "wall_clock", "reason", "zone"),
    [
        pytest.param(
            {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 7, 42),
            "Quiet hours in TX: texts 9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sunday; "
            "it is 7:42 am there.", CT, id="TX morning",
        ),
        pytest.param(
            {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 15, 11, 59),
            "Quiet hours in TX: texts 9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sunday; "
            "it is 11:59 am there.", CT, id="TX Sunday morning",
        ),
        pytest.param(
            {"state": "RI"}, (ET, 2026, 3, 14, 17, 0),
            "Quiet hours in RI: texts 9:00 am-6:00 pm Mon-Fri, 10:00 am-5:00 pm Saturday; "
            "it is 5:00 pm there.", ET, id="RI Saturday evening",
        ),
        pytest.param({"state": "UT"}, (MT, 2026, 3, 15, 12, 0), "No texts on Sundays in UT.",
                     MT, id="UT Sunday"),
        pytest.param({"state": "PA"}, (ET, 2026, 11, 26, 12, 0),
                     "Thanksgiving: no texts on legal holidays in PA.", ET, id="PA Thanksgiving"),
        pytest.param({"state": "AL"}, (CT, 2022, 12, 26, 12, 0),
                     "Christmas (observed): no texts on legal holidays in AL.", CT,
                     id="AL observed"),
        pytest.param({"state": "LA"}, (CT, 2027, 2, 9, 12, 0),
                     "Mardi Gras: no texts on legal holidays in LA.", CT, id="LA Mardi Gras"),
        pytest.param({"state": "UT"}, (MT, 2026, 7, 24, 12, 0),
                     "Pioneer Day: no texts on legal holidays in UT.", MT, id="UT Pioneer Day"),
        pytest.param(
            {"state": "NY"}, (ET, 2026, 3, 16, 21, 0),
            "Quiet hours: federal rules allow texts 8:00 am-9:00 pm; it is 9:00 pm there.",
            ET, id="federal evening",
        ),
        pytest.param(
            {"state": "FL", "e164": MIAMI}, (ET, 2026, 3, 16, 7, 0),
            "Quiet hours in FL: texts 8:00 am-8:00 pm daily; it is 7:00 am there.",
            ET, id="state named on a tie with federal",
        ),
        pytest.param(
            {"e164": HARTFORD}, (ET, 2026, 3, 16, 8, 30),
            "Quiet hours in CT: texts 9:00 am-8:00 pm daily; it is 8:30 am there.",
            ET, id="CT by area code",
        ),
        pytest.param(
            {"state": "TX", "e164": EL_PASO}, (MT, 2026, 3, 16, 8, 30),
            "Quiet hours in TX: texts 9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sunday; "
            "it is 8:30 am there.", MT, id="El Paso",
        ),
        pytest.param(
            {"state": "TX"}, (CT, 2026, 3, 16, 9, 30),
            "Quiet hours in TX: texts 9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sunday; "
            "it is 8:30 am there.", MT, id="split state names the zone still closed",
        ),
    ],
)  # fmt: skip
def test_reason_is_in_an_operators_words(recipient, wall_clock, reason, zone):
    """The reason names the rule, the state and the recipient's 12-hour clock."""
    result = check(at(*wall_clock), **recipient)
    assert result.reason == reason
    assert result.zone == zone


@pytest.mark.parametrize(
    ("recipient", "wall_clock", "zone"),
    [
        ({"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 12, 0), CT),
        ({"state": "TX", "e164": EL_PASO}, (MT, 2026, 3, 16, 12, 0), MT),
        ({"state": "TX"}, (CT, 2026, 3, 16, 12, 0), MT),
        ({"state": "TX", "e164": HARTFORD}, (CT, 2026, 3, 16, 12, 0), MT),
    ],
)
def test_an_allowed_check_names_the_latest_opening_zone(recipient, wall_clock, zone):
    """When allowed, the zone is the one whose clock reads earliest."""
    assert check(at(*wall_clock), **recipient) == QuietCheck(True, "", None, zone)


def test_a_mobile_far_from_the_business_needs_both_clocks_open():
    """A Guam business's Austin mobile was texted at 02:45 Texas time: both windows count."""
    at_0245_austin = at(CT, 2026, 3, 16, 2, 45)  # 18:45 in Guam, inside its window
    assert check(at_0245_austin, state="GU").allowed
    blocked = check(at_0245_austin, state="GU", e164=AUSTIN)
    assert not blocked.allowed
    assert blocked.zone == CT
    # Texas's rule (9am-9pm) applies too, on both clocks: they overlap from 9am in Guam
    # (6pm in Austin) until 9pm in Austin.
    assert blocked.next_allowed_at == at(CT, 2026, 3, 16, 18, 0)


def test_check_needs_an_aware_time():
    """A naive datetime is a bug in the caller, not a time in some zone."""
    with pytest.raises(ValueError, match="aware"):
        check(datetime(2026, 3, 16, 12, 0), state="TX")


def test_an_aware_time_in_another_zone_is_converted():
    """The same instant given in Chicago time or UTC gets the same answer."""
    chicago = datetime(2026, 3, 16, 8, 30, tzinfo=ZoneInfo(CT))
    assert check(chicago, state="TX", e164=AUSTIN) == check(
        chicago.astimezone(UTC), state="TX", e164=AUSTIN
    )


# ------------------------------------------------------------------- team window

TEAM_10_TO_5_WEEKDAYS = TeamWindow(start=time(10), end=time(17), days=MON_FRI)


@pytest.mark.parametrize(
    ("recipient", "team", "wall_clock", "allowed", "reason", "next_local"),
    [
        pytest.param({"state": "TX", "e164": AUSTIN}, TEAM_10_TO_5_WEEKDAYS,
                     (CT, 2026, 3, 16, 9, 30), False,
                     "Outside the team's sending hours, 10:00 am-5:00 pm; it is 9:30 am there.",
                     (CT, 2026, 3, 16, 10, 0), id="before the team starts"),
        pytest.param({"state": "TX", "e164": AUSTIN}, TEAM_10_TO_5_WEEKDAYS,
                     (CT, 2026, 3, 16, 17, 0), False,
                     "Outside the team's sending hours, 10:00 am-5:00 pm; it is 5:00 pm there.",
                     (CT, 2026, 3, 17, 10, 0), id="after the team stops"),
        pytest.param({"state": "TX", "e164": AUSTIN}, TEAM_10_TO_5_WEEKDAYS,
                     (CT, 2026, 3, 14, 12, 0), False,
                     "Outside the team's sending days (Mon-Fri); it is Saturday there.",
                     (CT, 2026, 3, 16, 10, 0), id="Saturday"),
        pytest.param({"state": "TX", "e164": AUSTIN}, TEAM_10_TO_5_WEEKDAYS,
                     (CT, 2026, 3, 16, 16, 59), True, "", None, id="inside"),
        pytest.param({"state": "NY", "e164": MANHATTAN}, TeamWindow(),
                     (ET, 2026, 3, 16, 20, 30), False,
                     "Outside the team's sending hours, 9:00 am-8:00 pm; it is 8:30 pm there.",
                     (ET, 2026, 3, 17, 9, 0), id="team default in New York"),
        pytest.param({"state": "CA"}, TeamWindow(), (ET, 2026, 3, 16, 20, 30), True, "", None,
                     id="same instant in Los Angeles is 5:30 pm"),
        pytest.param({"state": "NY"}, TeamWindow(start=time(7), end=time(23)),
                     (ET, 2026, 3, 16, 7, 30), False,
                     "Quiet hours: federal rules allow texts 8:00 am-9:00 pm; "
                     "it is 7:30 am there.",
                     (ET, 2026, 3, 16, 8, 0), id="a wider team window loosens nothing"),
        pytest.param({"state": "KY"}, TeamWindow(start=time(9), end=time(10)),
                     (ET, 2026, 3, 16, 9, 30), False,
                     "No sending hours on Monday: quiet hours in KY: texts 10:00 am-9:00 pm "
                     "daily, but outside the team's sending hours, 9:00 am-10:00 am.",
                     None, id="no overlap at all"),
    ],
)  # fmt: skip
def test_team_window_applies_in_the_recipients_zone(
    recipient, team, wall_clock, allowed, reason, next_local
):
    """The team's hours and days narrow the law's, never widen them."""
    result = check(at(*wall_clock), team_window=team, **recipient)
    assert result.allowed is allowed
    assert result.reason.startswith(reason)
    if next_local is None:
        assert result.next_allowed_at is None
    else:
        assert local(result.next_allowed_at, next_local[0]) == next_local[1:]


def test_team_window_ending_at_midnight_means_end_of_day():
    """TeamWindow(end=time(0)) lets the law decide the evening."""
    team = TeamWindow(start=time(0), end=time(0))
    assert check(at(ET, 2026, 3, 16, 20, 59), state="NY", team_window=team).allowed


# ------------------------------------------------------------------- zones, states


NOTHING_KNOWN = "nothing known: every continental US zone"


@pytest.mark.parametrize(
    ("state", "zip_code", "e164", "zones", "basis"),
    [
        ("TX", "", "", [CT, MT], "state TX"),
        ("tx", "", "", [CT, MT], "state TX"),
        ("Texas", "", "", [CT, MT], "state TX"),
        ("TX", "", EL_PASO, [MT], "state TX, area code 915"),
        ("TX", "", AUSTIN, [CT], "state TX, area code 512"),
        ("FL", "", "", [ET, CT], "state FL"),
        ("NY", "", AUSTIN, [ET, CT], "state NY; area code 512 (TX) too"),
        ("GU", "", AUSTIN, ["Pacific/Guam", CT], "state GU; area code 512 (TX) too"),
        ("KY", "", PADUCAH_UNLISTED, [ET, CT], "state KY, area code 270"),
        ("", "", AUSTIN, [CT], "area code 512"),
        ("", "", "5125550142", [CT], "area code 512"),
        ("", "", EL_PASO, [MT], "area code 915"),
        ("", "", PADUCAH_UNLISTED, [CT, ET], "area code 270"),
        ("", "", HARTFORD, [ET], "area code 860 (presumed in CT)"),
        ("TX", "", HARTFORD, [CT, MT, ET], "state TX; area code 860 presumed in CT"),
        ("", "78701", "", [CT, MT], "ZIP 78701 (TX)"),
        ("", "02134", "", [ET], "ZIP 02134 (MA)"),
        ("", "79901", EL_PASO, [MT], "ZIP 79901 (TX), area code 915"),
        ("", "", "", list(CONTINENTAL_ZONES), NOTHING_KNOWN),
        ("", "", TOLL_FREE, list(CONTINENTAL_ZONES), NOTHING_KNOWN),
        ("", "", "not a number", list(CONTINENTAL_ZONES), NOTHING_KNOWN),
        ("", "00000", "", list(CONTINENTAL_ZONES), NOTHING_KNOWN),
    ],
)  # fmt: skip
def test_zones_for(state, zip_code, e164, zones, basis):
    """State, then ZIP, then area code, then every continental zone; the phone narrows."""
    assert zones_for(state, zip_code, e164) == (zones, basis)


@pytest.mark.parametrize(
    ("state", "e164", "states"),
    [
        ("TX", AUSTIN, ["TX"]),
        ("TX", HARTFORD, ["TX", "CT"]),
        ("TX", TULSA, ["TX", "OK"]),
        ("", HARTFORD, ["CT"]),
        ("", "+12035550142", ["CT"]),
        ("", "+14055550142", ["OK"]),
        ("OK", TULSA, ["OK"]),
        ("TX", MIAMI, ["TX", "FL"]),
        ("FL", MIAMI, ["FL"]),
        ("GU", AUSTIN, ["GU", "TX"]),
        ("", MIAMI, []),
        ("", "", []),
        ("NY", "", ["NY"]),
    ],
)
def test_states_for_adds_states_that_presume_their_area_codes(state, e164, states):
    """A CT or OK area code brings that state's rules along; other area codes do not."""
    assert states_for(state, e164) == states


@pytest.mark.parametrize(
    ("zip_code", "state"),
    [
        ("78701", "TX"),
        ("79901-1234", "TX"),
        ("73301", "TX"),
        ("73101", "OK"),
        ("06103", "CT"),
        ("6103", "CT"),
        ("02903", "RI"),
        ("10001", "NY"),
        ("20500", "DC"),
        ("84101", "UT"),
        ("99501", "AK"),
        ("96813", "HI"),
        ("00901", "PR"),
        ("09001", ""),
        ("", ""),
        ("abcde", ""),
    ],
)
def test_zip_state(zip_code, state):
    """The first three digits of a ZIP name its state."""
    assert zip_state(zip_code) == state


def test_every_state_has_zones_that_load():
    """All 50 states, DC and the territories have zones, and every rule's state is there."""
    assert len(STATE_ZONES) == 56
    assert set(RULES) <= set(STATE_ZONES)
    for zones in STATE_ZONES.values():
        for zone in zones:
            ZoneInfo(zone)


def test_phonenumbers_zones_fall_inside_their_states_zones():
    """Narrowing a state by a phone's zones works because both name zones alike; the one
    known exception is an Aleutian exchange phonenumbers puts on Honolulu time."""
    odd = set()
    for prefix in TIMEZONE_DATA:
        if prefix.startswith("1") and len(prefix) == 7:
            facts = _nanp_facts("+" + prefix)
            if facts.state and not set(facts.zones) <= set(STATE_ZONES[facts.state]):
                odd |= {(facts.state, zone) for zone in facts.zones}
    assert odd <= {("AK", "Pacific/Honolulu")}


# ------------------------------------------------------------------------ holidays


def test_federal_holidays_2026():
    """The nine federal holidays, on their 2026 dates."""
    assert holidays(2026, None) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 16): "Presidents' Day",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving",
        date(2026, 12, 25): "Christmas",
    }


@pytest.mark.parametrize(
    ("year", "state", "day", "name"),
    [
        (2027, None, date(2027, 1, 18), "Martin Luther King Jr. Day"),
        (2027, None, date(2027, 5, 31), "Memorial Day"),
        (2027, None, date(2027, 11, 25), "Thanksgiving"),
        (2025, None, date(2025, 9, 1), "Labor Day"),
        (2026, "UT", date(2026, 7, 24), "Pioneer Day"),
        (2026, "ut", date(2026, 7, 24), "Pioneer Day"),
        (2026, "RI", date(2026, 5, 4), "Rhode Island Independence Day"),
        (2026, "RI", date(2026, 8, 10), "Victory Day"),
        (2027, "RI", date(2027, 8, 9), "Victory Day"),
        (2026, "LA", date(2026, 2, 17), "Mardi Gras"),
        (2027, "LA", date(2027, 2, 9), "Mardi Gras"),
        (2026, "LA", date(2026, 11, 27), "Day after Thanksgiving"),
        (2022, "AL", date(2022, 12, 26), "Christmas (observed)"),
        (2023, "AL", date(2023, 1, 2), "New Year's Day (observed)"),
        (2027, "AL", date(2027, 7, 5), "Independence Day (observed)"),
        (2026, "PA", date(2026, 11, 26), "Thanksgiving"),
    ],
)
def test_holiday_dates(year, state, day, name):
    """Movable and state holidays land on the right day."""
    assert holidays(year, state)[day] == name


@pytest.mark.parametrize(
    ("year", "state", "day"),
    [
        (2026, None, date(2026, 7, 24)),
        (2026, "TX", date(2026, 2, 17)),
        (2022, None, date(2022, 12, 26)),
        (2022, "PA", date(2022, 12, 26)),
        (2026, "AL", date(2026, 12, 28)),
    ],
)
def test_not_holidays(year, state, day):
    """State extras stay in their state; only AL observes Sunday holidays on Monday."""
    assert day not in holidays(year, state)


def test_holidays_returns_a_copy():
    """Changing the answer does not change the calendar."""
    holidays(2026, "UT").clear()
    assert date(2026, 7, 24) in holidays(2026, "UT")


def test_gregorian_easter_matches_known_dates():
    """The fallback algorithm: Easter 2024 Mar 31, 2025 Apr 20, 2027 Mar 28, 2038 Apr 25."""
    known = [date(2024, 3, 31), date(2025, 4, 20), date(2027, 3, 28), date(2038, 4, 25)]
    assert [gregorian_easter(d.year) for d in known] == known
    assert [easter(d.year) for d in known] == known


def test_gregorian_easter_agrees_with_dateutil():
    """The fallback gives dateutil's answer for three centuries."""
    dateutil_easter = pytest.importorskip("dateutil.easter").easter
    assert all(gregorian_easter(y) == dateutil_easter(y) for y in range(1900, 2200))


# ------------------------------------------------------------------ rules as data


def test_rules_cover_every_row_of_the_reference():
    """Every state in REFERENCE.md section 1, and the federal window."""
    reference = {"AL", "CT", "FL", "KY", "LA", "MD", "MA", "MI", "MN", "NM", "MS", "NV", "OK"}
    assert set(RULES) == reference | {"PA", "RI", "TX", "UT", "WA"}
    assert (time(8), time(21)) == FEDERAL
    assert all(rule.state == state for state, rule in RULES.items())


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("TX", "9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sun"),
        ("RI", "9:00 am-6:00 pm Mon-Fri, 10:00 am-5:00 pm Sat; no Sundays; no holidays"),
        ("UT", "8:00 am-9:00 pm Mon-Sat; no Sundays; no holidays"),
        ("LA", "8:00 am-8:00 pm Mon-Sat; no Sundays; no holidays"),
        ("FL", "8:00 am-8:00 pm daily; max 3 per 24 h"),
        ("KY", "10:00 am-9:00 pm daily"),
        ("PA", "8:00 am-9:00 pm daily; no holidays"),
    ],
)
def test_describe(state, words):
    """A rule in one line for the settings page."""
    assert describe(RULES[state]) == words


def test_describe_a_rule_with_a_sunday_window_and_half_hours():
    """Minutes and midnight-free 12-hour times."""
    rule = StateRule("ZZ", time(8, 30), time(12, 30), sunday=(time(13), time(17, 45)))
    assert describe(rule) == "8:30 am-12:30 pm Mon-Sat, 1:00 pm-5:45 pm Sun"


@pytest.mark.parametrize(
    ("states", "cap"),
    [
        (["FL"], 3),
        (["MD"], 3),
        (["OK"], 3),
        (["TX"], None),
        (["TX", "OK"], 3),
        (["NY"], None),
        ([], None),
    ],
)
def test_recipient_cap(states, cap):
    """The smallest per-24-hour cap of the states that have one."""
    assert recipient_cap(states) == cap


def test_recipient_cap_with_overrides():
    """A team's stricter cap wins; a removed cap no longer counts."""
    rules = rules_with_overrides({"FL": {"per_24h_cap": 2}, "OK": {"per_24h_cap": None}})
    assert recipient_cap(["FL", "OK"], rules) == 2
    assert recipient_cap(["OK"], rules) is None


# ------------------------------------------------------------------------ overrides


def test_no_overrides_is_a_copy_of_the_rules():
    """None and {} give the defaults, in a dict the caller may change."""
    for overrides in (None, {}):
        rules = rules_with_overrides(overrides)
        assert rules == RULES
        assert rules is not RULES


def test_overrides_change_one_field_and_keep_the_rest():
    """A later TX start keeps TX's Sunday window and leaves other states alone."""
    rules = rules_with_overrides({"tx": {"start": "10:00"}})
    assert rules["TX"].start == time(10)
    assert rules["TX"].sunday == (time(12), time(21))
    assert rules["FL"] == RULES["FL"]
    assert RULES["TX"].start == time(9)


@pytest.mark.parametrize(
    ("overrides", "recipient", "wall_clock", "allowed"),
    [
        ({"TX": {"start": "10:00"}}, {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 16, 9, 30),
         False),
        ({"TX": {"sunday": None}}, {"state": "TX", "e164": AUSTIN}, (CT, 2026, 3, 15, 9, 30),
         True),
        ({"TX": {"no_sundays": True}}, {"state": "TX", "e164": AUSTIN},
         (CT, 2026, 3, 15, 13, 0), False),
        ({"PA": {"no_holidays": False}}, {"state": "PA"}, (ET, 2026, 11, 26, 12, 0), True),
        ({"NY": {"start": "09:00", "end": "20:00"}}, {"state": "NY"}, (ET, 2026, 3, 16, 8, 30),
         False),
        ({"RI": {"saturday": ["11:00", "16:00"]}}, {"state": "RI"}, (ET, 2026, 3, 14, 10, 30),
         False),
    ],
)  # fmt: skip
def test_overrides_change_the_check(overrides, recipient, wall_clock, allowed):
    """check() follows the rules it is given."""
    rules = rules_with_overrides(overrides)
    assert check(at(*wall_clock), rules=rules, **recipient).allowed is allowed


def test_overridden_rule_is_named_in_the_reason():
    """The reason quotes the team's window, not the default."""
    rules = rules_with_overrides({"TX": {"start": "10:00"}})
    result = check(at(CT, 2026, 3, 16, 9, 30), state="TX", e164=AUSTIN, rules=rules)
    assert result.reason.startswith("Quiet hours in TX: texts 10:00 am-9:00 pm Mon-Sat")
    assert local(result.next_allowed_at, CT) == (2026, 3, 16, 10, 0)


def test_rule_settings_round_trip():
    """Every rule written as settings JSON reads back as the same rule."""
    stored = {state: rule_settings(rule) for state, rule in RULES.items()}
    assert rules_with_overrides(stored) == RULES
    assert rule_settings(RULES["TX"])["sunday"] == ["12:00", "21:00"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ZZ": {"start": "09:00"}}, "Unknown state 'ZZ'"),
        ({7: {"start": "09:00"}}, "Unknown state 7"),
        (["TX"], "must map state codes"),
        ({"TX": "9-21"}, "TX: settings must be a mapping"),
        ({"TX": {"open": "09:00"}}, "TX: unknown setting 'open'"),
        ({"TX": {"start": "25:00"}}, "TX start: '25:00' is not a time like 09:00"),
        ({"TX": {"start": "9am"}}, "TX start: '9am' is not a time"),
        ({"TX": {"end": 21}}, "TX end: 21 is not a time"),
        ({"TX": {"start": "22:00"}}, "TX: start 10:00 pm is not before end 9:00 pm"),
        ({"TX": {"sunday": ["12:00"]}}, "TX sunday: expected two times"),
        ({"TX": {"sunday": ["21:00", "12:00"]}}, "TX sunday: 9:00 pm is not before noon"),
        ({"TX": {"no_sundays": "false"}}, "TX no_sundays: expected true or false"),
        ({"TX": {"per_24h_cap": 0}}, "TX per_24h_cap: expected a whole number"),
        ({"TX": {"per_24h_cap": True}}, "TX per_24h_cap: expected a whole number"),
        ({"TX": {"per_24h_cap": "3"}}, "TX per_24h_cap: expected a whole number"),
        ({"TX": {"note": 3}}, "TX note: expected text"),
        ({"NY": {"start": "09:00"}}, "NY: a new state rule needs both start and end"),
    ],
)
def test_invalid_overrides_say_what_is_wrong(overrides, message):
    """Each bad value names the state and the field."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        rules_with_overrides(overrides)


# ---------------------------------------------------------------------- performance


def test_ten_thousand_checks_take_well_under_a_second():
    """A 2,000-message batch is checked once per send attempt, so checks must be cheap."""
    numbers = [f"+1512555{n:04d}" for n in range(2_000)]
    states = ["TX", "FL", "", "UT", "RI"]
    noon = at(CT, 2026, 3, 16, 12, 0)
    started = clock.perf_counter()
    for n in range(10_000):
        check(noon, state=states[n % 5], e164=numbers[n % 2_000], team_window=TeamWindow())
    assert clock.perf_counter() - started < 2.0
