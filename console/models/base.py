"""Shared column helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, TypeDecorator
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

# The process's clock: the wall clock, moved by a test clock's offset (`Config`
# accepts one only where no text can reach a phone; `create_app` sets it).
_clock_offset = [timedelta(0)]


def utcnow() -> datetime:
    """The console's current time, timezone-aware in UTC: the wall clock or a test clock."""
    return datetime.now(UTC) + _clock_offset[0]


def set_clock_offset(seconds: float) -> None:
    """Move this process's clock `seconds` from the wall clock (0 puts it back)."""
    _clock_offset[0] = timedelta(seconds=seconds)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always handed back timezone-aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Store aware datetimes as UTC; naive ones are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Attach UTC to the naive values SQLite returns."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Timestamps:
    """`created_at` and `updated_at`, kept by the database session."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TeamOwned:
    """A row that holds customer data: it belongs to exactly one team.

    `team_id` is indexed on its own unless the table has a composite index that starts
    with it (set `team_id_indexed = False`), which serves the same lookups cheaper.
    """

    team_id_indexed = True

    @declared_attr
    def team_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(
            Integer, ForeignKey("teams.id", ondelete="CASCADE"), index=cls.team_id_indexed
        )


class Money(TypeDecorator):
    """US dollars kept exactly: stored as whole micro-dollars, handed back as `Decimal`.

    Provider prices run to fractions of a cent ($0.0083 a segment, $0.07 a trace), and
    sums of them must add up to the cent on every database, SQLite included.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect) -> int | None:
        """Dollars (Decimal, int, str or float) to micro-dollars."""
        if value is None:
            return None
        return int((Decimal(str(value)) * MICROS).to_integral_value(ROUND_HALF_UP))

    def process_result_value(self, value, dialect) -> Decimal | None:
        """Micro-dollars back to dollars."""
        if value is None:
            return None
        return (Decimal(int(value)) / MICROS).quantize(MONEY_STEP)


# The largest value an `Integer` column holds (PostgreSQL's `integer`): every id is one.
INT_MAX = 2**31 - 1

MICROS = Decimal(1_000_000)
MONEY_STEP = Decimal("0.000001")
