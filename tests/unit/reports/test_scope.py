"""A report's scope read from a link: the days (the last 30 by default, in the viewer's
zone) and the filters, and written back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from console.services.reports.scope import read_scope

TODAY = date(2026, 1, 14)


def test_the_last_30_days_to_today_by_default():
    scope = read_scope({}, 7, "America/Chicago", TODAY)
    assert (scope.first_day, scope.last_day, scope.days) == (date(2025, 12, 16), TODAY, 30)
    assert scope.start == datetime(2025, 12, 16, 6, 0, tzinfo=UTC)  # midnight in Chicago
    assert scope.end == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert scope.label == "Dec 16, 2025 – Jan 14, 2026"
    assert scope.as_args() == {"since": "2025-12-16", "until": "2026-01-14"}


def test_days_and_filters_as_typed_and_back():
    args = {"since": "2026-01-01", "until": "2026-01-07", "campaign": "3", "import": "4",
            "pipeline": "5", "persona": "cathy"}  # fmt: skip
    scope = read_scope(args, 7, "America/New_York", TODAY)
    assert (scope.campaign_id, scope.import_id, scope.pipeline_id, scope.persona) == (
        3, 4, 5, "CATHY"
    )  # fmt: skip
    assert scope.label == "Jan 1 – Jan 7, 2026"
    assert read_scope(scope.as_args(), 7, "America/New_York", TODAY) == scope


def test_bad_values_fall_back_and_backwards_days_are_swapped():
    args = {"since": "2026-02-30", "until": "yesterday", "campaign": "9" * 30,
            "import": "-1", "persona": "<b>"}  # fmt: skip
    scope = read_scope(args, 7, "UTC", TODAY)
    assert (scope.first_day, scope.last_day) == (date(2025, 12, 16), TODAY)
    assert (scope.campaign_id, scope.import_id, scope.persona) == (None, None, "")
    swapped = read_scope({"since": "2026-01-10", "until": "2026-01-02"}, 7, "UTC", TODAY)
    assert (swapped.first_day, swapped.last_day) == (date(2026, 1, 2), date(2026, 1, 10))


def test_a_range_longer_than_two_years_is_cut():
    scope = read_scope({"since": "2010-01-01"}, 7, "UTC", TODAY)
    assert scope.days == 731 and scope.last_day == TODAY
