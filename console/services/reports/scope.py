"""What a report covers: a team, a range of days in the viewer's zone (the last 30 by
default), and the filters every report page takes (campaign, list/import, pipeline,
persona), read from a link's arguments and written back to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from console.services.numbers import whole_number
from console.services.timezones import start_of_day

DEFAULT_DAYS = 30
# The longest range a page is asked for: longer is cut to this many days.
MAX_DAYS = 731


@dataclass(frozen=True)
class ReportScope:
    """One report's team, days and filters. `first_day` and `last_day` are dates on the
    viewer's clock (`zone`), both included."""

    team_id: int
    first_day: date
    last_day: date
    zone: str
    campaign_id: int | None = None
    import_id: int | None = None
    pipeline_id: int | None = None
    persona: str = ""

    @property
    def start(self) -> datetime:
        """The range's first instant (UTC): midnight starting `first_day` in `zone`."""
        return start_of_day(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the range (UTC): midnight after `last_day` in `zone`."""
        return start_of_day(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        """How many days the range holds."""
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        """ "Nov 6 – Dec 5, 2026": the range in words."""
        first, last = self.first_day, self.last_day
        head = f"{first:%b} {first.day}" + (f", {first.year}" if first.year != last.year else "")
        return f"{head} – {last:%b} {last.day}, {last.year}"

    def as_args(self) -> dict[str, str]:
        """The scope as a link's arguments (blank filters left out)."""
        args = {"since": self.first_day.isoformat(), "until": self.last_day.isoformat()}
        for key, value in (
            ("campaign", self.campaign_id),
            ("import", self.import_id),
            ("pipeline", self.pipeline_id),
            ("persona", self.persona),
        ):
            if value:
                args[key] = str(value)
        return args

    def with_days(self, first_day: date, last_day: date) -> ReportScope:
        """The same filters over other days."""
        return replace(self, first_day=first_day, last_day=last_day)


def read_scope(args: Mapping, team_id: int, zone: str, today: date) -> ReportScope:
    """The scope a link asks for: `since`/`until` as YYYY-MM-DD (the last 30 days to
    `today` when missing or not dates; swapped when backwards; at most MAX_DAYS), and
    the filters (ids that are not whole numbers are ignored; queries keep to the team)."""
    last = parse_day(args.get("until")) or today
    first = parse_day(args.get("since")) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    persona = (args.get("persona") or "").strip().upper()
    return ReportScope(
        team_id=team_id,
        first_day=first,
        last_day=last,
        zone=zone,
        campaign_id=whole_number(args.get("campaign")),
        import_id=whole_number(args.get("import")),
        pipeline_id=whole_number(args.get("pipeline")),
        persona=persona if persona.isalpha() and len(persona) <= 10 else "",
    )


def parse_day(text) -> date | None:
    """A day typed as YYYY-MM-DD; None when it is not one."""
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        return None
