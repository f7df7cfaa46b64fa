"""Time people can read: the viewer's zone, times written with the zone named, and the
owner's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from console.models import Business, Phone
from console.services import timezones
from tests.clock import TEST_NOW


def _user(own: str = "", team_zone: str | None = None):
    """A user as the zone functions read one: their own zone and their team's settings."""
    settings = {} if team_zone is None else {"time_zone": team_zone}
    return SimpleNamespace(time_zone=own, team=SimpleNamespace(settings=settings))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 14, 21, 0, tzinfo=UTC), "Jan 14, 2026, 4:00 pm EST"),
        (datetime(2026, 7, 14, 20, 0, tzinfo=UTC), "Jul 14, 2026, 4:00 pm EDT"),
        # The spring-forward night: 1:59 am EST, then 3:00 am EDT a minute later.
        (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "Mar 8, 2026, 1:59 am EST"),
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "Mar 8, 2026, 3:00 am EDT"),
        # The fall-back night: 1:30 am happens twice, once in each.
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "Nov 1, 2026, 1:30 am EDT"),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "Nov 1, 2026, 1:30 am EST"),
        (datetime(2026, 1, 14, 17, 0, tzinfo=UTC), "Jan 14, 2026, noon EST"),
        (datetime(2026, 1, 14, 21, 0), "Jan 14, 2026, 4:00 pm EST"),  # naive is UTC
    ],
)
def test_format_when_names_eastern_standard_or_daylight_time(moment, expected):
    assert timezones.format_when(moment, "America/New_York") == expected


def test_format_when_in_other_zones():
    assert timezones.format_when(TEST_NOW, "America/Chicago") == "Jan 14, 2026, 3:00 pm CST"
    assert timezones.format_when(TEST_NOW, "UTC") == "Jan 14, 2026, 9:00 pm UTC"
    # A zone with no letter abbreviation is named by its place.
    assert timezones.format_when(TEST_NOW, "Asia/Dubai") == "Jan 15, 2026, 1:00 am Dubai"
    assert timezones.format_when(None, "America/Chicago") == ""


def test_users_own_zone_beats_the_teams():
    user = _user(own="America/Los_Angeles", team_zone="America/Chicago")
    assert timezones.viewer_zone_name(user) == "America/Los_Angeles"


def test_user_without_a_zone_reads_the_teams():
    assert timezones.viewer_zone_name(_user(team_zone="America/Chicago")) == "America/Chicago"


def test_team_without_a_zone_reads_us_eastern():
    assert timezones.viewer_zone_name(_user()) == "America/New_York"
    assert timezones.viewer_zone_name(None) == "America/New_York"


def test_an_unknown_stored_zone_falls_back_rather_than_failing():
    user = _user(own="Mars/Olympus_Mons", team_zone="Atlantis/Capital")
    assert timezones.viewer_zone_name(user) == "America/New_York"


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "  ", "america/chicago", "EST5EDT"])
def test_an_unknown_zone_is_refused(name):
    with pytest.raises(timezones.ZoneProblem, match="not a time zone we know"):
        timezones.checked_zone(name, blank_allowed=False)


def test_a_user_may_go_back_to_the_teams_zone_but_a_team_needs_one():
    assert timezones.checked_zone(" ", blank_allowed=True) == ""
    assert timezones.checked_zone(" America/Chicago ", blank_allowed=False) == "America/Chicago"


def test_unknown_zone_leaves_the_users_zone_as_it_was():
    user = _user(own="America/Denver")
    with pytest.raises(timezones.ZoneProblem):
        timezones.set_user_zone(user, "Nowhere/Town")
    assert user.time_zone == "America/Denver"


def test_zone_choices_put_the_us_zones_first():
    choices = timezones.zone_choices()
    assert choices[0] == ("America/New_York", "Eastern (New York)")
    assert [name for name, _ in choices[: len(timezones.US_ZONES)]] == list(timezones.US_ZONES)
    assert ("Europe/Paris", "Europe/Paris") in choices
    assert len({name for name, _ in choices}) == len(choices)


def test_start_of_day_is_midnight_on_that_clock():
    assert timezones.start_of_day(date(2026, 1, 14), "America/Chicago") == datetime(
        2026, 1, 14, 6, tzinfo=UTC
    )
    assert timezones.start_of_day(date(2026, 7, 4), "America/New_York") == datetime(
        2026, 7, 4, 4, tzinfo=UTC
    )
    assert timezones.local_date(datetime(2026, 1, 14, 3, tzinfo=UTC), "America/Chicago") == date(
        2026, 1, 13
    )


def test_owner_clock_of_an_illinois_owner():
    clock = timezones.recipient_clock("IL", "", "+13125550100")
    assert clock is not None and not clock.several
    assert clock.zone == "America/Chicago"
    assert clock.now_text(TEST_NOW) == "3:00 pm for the owner, Chicago"
    assert clock.short_text(TEST_NOW) == "3:00 pm, Chicago"
    assert clock.at_text(TEST_NOW) == "Wed Jan 14, 3:00 pm CST"
    assert clock.doubt == f"From {clock.basis}."


def test_owner_clock_says_when_the_facts_allow_several_zones():
    # Texas spans Central and Mountain time, and a 212 number is in New York.
    clock = timezones.recipient_clock("", "", "")
    assert clock is None
    several = timezones.recipient_clock("TX", "", "")
    assert several is not None and several.several
    assert "more than one zone" in several.doubt
    assert several.basis in several.doubt


def test_owner_clock_of_a_lead_reads_the_business_and_best_phone():
    landline = Phone(e164="+12125550100", kind="landline", confidence=90)
    mobile = Phone(e164="+13125550100", kind="mobile", confidence=80)
    lead = SimpleNamespace(business=Business(state="", zip="60601"), phones=[landline, mobile])
    clock = timezones.owner_clock(lead)
    assert clock is not None and not clock.several  # the mobile, not the New York landline
    assert clock.now_text(TEST_NOW) == "3:00 pm for the owner, Chicago"
    nothing = SimpleNamespace(business=None, phones=[])
    assert timezones.owner_clock(nothing) is None


def test_owner_clock_is_named_after_the_business_city_in_its_own_state():
    tampa = SimpleNamespace(
        business=Business(state="FL", zip="33602", city="Tampa"),
        phones=[Phone(e164="+18135550100", kind="mobile")],
    )
    assert timezones.owner_clock(tampa).now_text(TEST_NOW) == "4:00 pm for the owner, Tampa"
    # A city in a state whose zones the clock is not in does not name it.
    elsewhere = SimpleNamespace(
        business=Business(state="", zip="", city="Tampa"),
        phones=[Phone(e164="+13125550100", kind="mobile")],
    )
    assert timezones.owner_clock(elsewhere).now_text(TEST_NOW) == "3:00 pm for the owner, Chicago"
