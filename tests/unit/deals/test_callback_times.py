"""Reading when an owner asked to be called from their words, on the owner's clock,
against the moment the reply arrived."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from console.services.deals.callback_times import CallbackTime, read_callback_time

CHICAGO = "America/Chicago"
# Wednesday 14 January 2026, 3:00 pm in Chicago (the tests' clock).
WED_3PM = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)
WED, THU, FRI = date(2026, 1, 14), date(2026, 1, 15), date(2026, 1, 16)


@pytest.mark.parametrize(
    ("words", "day", "at"),
    [
        ("tomorrow after 3", THU, time(15, 0)),
        ("tomorrow after 3pm", THU, time(15, 0)),
        ("Call me tomorrow after 3pm", THU, time(15, 0)),
        ("call me Friday at 10am", FRI, time(10, 0)),
        ("Friday at 10", FRI, time(10, 0)),
        ("fri @ 2", FRI, time(14, 0)),
        ("tmrw at 9", THU, time(9, 0)),
        ("tomorrow 3:30", THU, time(15, 30)),
        ("tomorrow at 3:30 pm", THU, time(15, 30)),
        ("tomorrow 10:30 a.m.", THU, time(10, 30)),
        ("tomorrow at 16:45", THU, time(16, 45)),
        ("tomorrow morning", THU, time(9, 0)),
        ("tomorrow afternoon", THU, time(14, 0)),
        ("tomorrow evening", THU, time(18, 0)),
        ("tomorrow at noon", THU, time(12, 0)),
        ("tomorrow around 4 o'clock", THU, time(16, 0)),
        ("tomorrow morning around 10", THU, time(10, 0)),
        ("tonight at 8", WED, time(20, 0)),
        ("today after 5", WED, time(17, 0)),
        ("this evening", WED, time(18, 0)),
        ("Monday morning", date(2026, 1, 19), time(9, 0)),
        ("next Tuesday at 11", date(2026, 1, 20), time(11, 0)),
        ("TOMORROW AFTER 3PM", THU, time(15, 0)),
        ("tomorrow", THU, None),
        ("Friday", FRI, None),
    ],
)
def test_words_give_the_day_and_time_on_the_owners_clock(words, day, at):
    assert read_callback_time(words, WED_3PM, CHICAGO) == CallbackTime(day, at)


@pytest.mark.parametrize(
    ("words", "day", "at"),
    [
        ("after 5pm", WED, time(17, 0)),  # still ahead today
        ("after 2pm", THU, time(14, 0)),  # already past at 3 pm: tomorrow
        ("at 3", THU, time(15, 0)),  # 3 pm exactly is not ahead
        ("in the morning", THU, time(9, 0)),
        ("noon", THU, time(12, 0)),
    ],
)
def test_a_time_alone_is_the_next_time_it_comes_round(words, day, at):
    assert read_callback_time(words, WED_3PM, CHICAGO) == CallbackTime(day, at)


def test_todays_weekday_is_today_while_the_time_is_ahead_else_next_week():
    assert read_callback_time("Wednesday at 4pm", WED_3PM, CHICAGO) == CallbackTime(
        WED, time(16, 0)
    )
    assert read_callback_time("Wednesday at 10am", WED_3PM, CHICAGO) == CallbackTime(
        date(2026, 1, 21), time(10, 0)
    )
    assert read_callback_time("Wednesday", WED_3PM, CHICAGO).day == date(2026, 1, 21)


def test_tomorrow_is_the_owners_tomorrow_not_utcs():
    # 9 pm Wednesday in Chicago is already Thursday in UTC.
    late = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    assert read_callback_time("tomorrow after 3", late, CHICAGO).day == THU
    assert read_callback_time("tomorrow after 3", late, "UTC").day == FRI
    # And 7 am Thursday in Tokyo is still Wednesday in Chicago.
    assert read_callback_time("today at 4", late, "Asia/Tokyo").day == THU


def test_the_time_keeps_its_clock_across_a_dst_change():
    # Saturday 7 March 2026 noon in Chicago; Sunday the clocks go forward an hour.
    saturday = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)
    read = read_callback_time("tomorrow at 3pm", saturday, CHICAGO)
    assert read == CallbackTime(date(2026, 3, 8), time(15, 0))
    local = datetime.combine(read.day, read.at, ZoneInfo(CHICAGO))
    assert local.astimezone(UTC) == datetime(2026, 3, 8, 20, 0, tzinfo=UTC)  # CDT, not CST
    # And back in November: 3 pm is 21:00 UTC again.
    fall = read_callback_time("tomorrow at 3pm", datetime(2026, 10, 31, 17, 0, tzinfo=UTC), CHICAGO)
    local = datetime.combine(fall.day, fall.at, ZoneInfo(CHICAGO))
    assert local.astimezone(UTC) == datetime(2026, 11, 1, 21, 0, tzinfo=UTC)


def test_the_form_values_are_what_date_and_time_inputs_hold():
    read = read_callback_time("tomorrow after 3", WED_3PM, CHICAGO)
    assert (read.date_text, read.time_text) == ("2026-01-15", "15:00")
    assert read_callback_time("Friday", WED_3PM, CHICAGO).time_text == ""


@pytest.mark.parametrize(
    "words",
    ["", "   ", "sure", "whenever works", "I paid 300 for it", "call me sometime", "in 2 weeks"],
)
def test_words_that_name_no_day_or_time_give_nothing(words):
    assert read_callback_time(words, WED_3PM, CHICAGO) is None
