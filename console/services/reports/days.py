"""Days on the viewer's clock, counted by the database: which local day a timestamp
falls on, as SQL both PostgreSQL and SQLite run, so a report groups a million texts by
day without reading them.

A day is numbered as days since 1 January 1970 on the zone's clock. The zone's offset
from UTC is written into the SQL as a CASE over the few changes (daylight saving) the
range crosses, so midnight falls where the viewer's clock puts it on every day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import BigInteger, case, cast, func, literal
from sqlalchemy.orm import Session

from console.services.reports.scope import ReportScope
from console.services.timezones import zone_of

EPOCH_DAY = date(1970, 1, 1)
DAY_SECONDS = 86_400
# Zones change their offset on a quarter hour at the finest.
_STEP = timedelta(minutes=15)


def day_number(session: Session, column, scope: ReportScope):
    """SQL: the day on `scope`'s clock that the timestamp `column` falls on (days since
    1970-01-01 there); `as_date` turns it back into a date."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = cast(func.floor(func.extract("epoch", column)), BigInteger)
    else:
        seconds = cast(func.strftime("%s", column), BigInteger)
    return (seconds + _offset(column, scope)) // DAY_SECONDS


def as_date(number: int) -> date:
    """The date of a day number from `day_number`."""
    return EPOCH_DAY + timedelta(days=int(number))


def days_of(scope: ReportScope) -> list[date]:
    """Every day of the range, first to last."""
    return [scope.first_day + timedelta(days=n) for n in range(scope.days)]


def _offset(column, scope: ReportScope):
    """SQL: the zone's offset from UTC in seconds at `column`, over the range."""
    segments = offsets(scope.zone, scope.start, scope.end)
    if len(segments) == 1:
        return literal(segments[0][1], BigInteger)
    return case(
        *((column < until, offset) for until, offset in segments[:-1]),
        else_=segments[-1][1],
    )


def offsets(zone: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's offsets (seconds) between two instants: [(until, offset), ...], the last
    with no end."""
    tz = zone_of(zone) or UTC

    def offset_at(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    segments: list[tuple[datetime | None, int]] = []
    current, at = offset_at(start), start
    while at < end:
        following = min(at + timedelta(days=1), end)
        if offset_at(following) == current:
            at = following
            continue
        while offset_at(at) == current:
            at += _STEP
        segments.append((at, current))
        current = offset_at(at)
    segments.append((None, current))
    return segments
