"""Time people can read: the viewer's zone, the owner's clock, and times written in them.

Every stored time is UTC. The console shows each one in the viewer's zone (the user's own
choice, else the team's, else US Eastern) with the zone named, and beside the owner the
owner's local time, from where the business is and the number's area code (the same
facts the quiet-hours engine uses).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from console.services import audit
from console.services import phones as phone_service
from console.services.sending import quiethours

DEFAULT_ZONE = "America/New_York"
# The zones a US team picks from first (the full IANA list follows them in the select).
US_ZONES: dict[str, str] = {
    "America/New_York": "Eastern (New York)",
    "America/Chicago": "Central (Chicago)",
    "America/Denver": "Mountain (Denver)",
    "America/Phoenix": "Mountain, no DST (Phoenix)",
    "America/Los_Angeles": "Pacific (Los Angeles)",
    "America/Anchorage": "Alaska (Anchorage)",
    "Pacific/Honolulu": "Hawaii (Honolulu)",
    "America/Puerto_Rico": "Atlantic (Puerto Rico)",
    "Pacific/Guam": "Chamorro (Guam)",
    "UTC": "UTC",
}


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every zone a person may choose: the US ones first, then the rest of IANA's."""
    rest = sorted(z for z in available_timezones() if z not in US_ZONES and "/" in z)
    return (*US_ZONES, *rest)


def valid_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows."""
    return zone_of(name) is not None


@lru_cache(maxsize=512)
def zone_of(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None for an empty or unknown name."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_choices() -> list[tuple[str, str]]:
    """(name, label) pairs for a zone select: the US zones by their common names first."""
    return [(name, zone_label(name)) for name in zone_names()]


def zone_label(name: str) -> str:
    """A zone as the menu names it: "Central (Chicago)", "Europe/Paris"."""
    return US_ZONES.get(name, name.replace("_", " "))


class ZoneProblem(ValueError):
    """A zone that can't be saved, in words for the person who chose it."""


def checked_zone(name: str, *, blank_allowed: bool) -> str:
    """`name` stripped, when it is a zone people may choose (or blank, where allowed)."""
    name = (name or "").strip()
    if not name and blank_allowed:
        return ""
    if name not in zone_names():
        raise ZoneProblem(f"{name or 'A blank zone'!r} is not a time zone we know; pick one.")
    return name


def set_team_zone(session, team, name: str, actor_id: int | None) -> bool:
    """Save the team's zone (an admin's choice) and audit the change; False if unchanged."""
    name = checked_zone(name, blank_allowed=False)
    before = team_zone_name(team)
    if name == (team.settings or {}).get("time_zone"):
        return False
    team.settings = {**(team.settings or {}), "time_zone": name}
    audit.record(
        session,
        team_id=team.id,
        actor_id=actor_id,
        action="team.time_zone",
        entity=team,
        before={"time_zone": before},
        after={"time_zone": name},
    )
    return True


def set_user_zone(user, name: str) -> None:
    """Save the zone `user` reads times in; blank means the team's."""
    user.time_zone = checked_zone(name, blank_allowed=True)


def place_name(zone: str) -> str:
    """The city a zone is named after: "America/Indiana/Indianapolis" -> "Indianapolis"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ") if zone else ""


def team_zone_name(team) -> str:
    """The team's zone (an admin's setting), US Eastern until one is chosen."""
    settings = (team.settings or {}) if team is not None else {}
    name = settings.get("time_zone", "")
    return name if valid_zone(name) else DEFAULT_ZONE


def viewer_zone_name(user) -> str:
    """The zone `user` reads times in: their own choice, else their team's."""
    own = getattr(user, "time_zone", "") or ""
    if valid_zone(own):
        return own
    return team_zone_name(getattr(user, "team", None))


def clock_text(moment: datetime) -> str:
    """ "3:18 am", "noon": an aware local time of day as people say it."""
    if moment.minute == 0 and moment.hour in (0, 12):
        return "noon" if moment.hour == 12 else "midnight"
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


def zone_abbreviation(local: datetime) -> str:
    """ "CST", "EDT"; zones without a letter abbreviation give their place name."""
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in "+-" or not abbreviation:
        return place_name(getattr(local.tzinfo, "key", "")) or "UTC"
    return abbreviation


def in_zone(moment: datetime, zone: str) -> datetime:
    """`moment` (UTC when naive) as the clock reads in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone_of(zone) or UTC)


def format_when(moment: datetime | None, zone: str) -> str:
    """ "Jan 14, 2026, 3:00 pm CST": a time in `zone`, the zone named."""
    if moment is None:
        return ""
    local = in_zone(moment, zone)
    return f"{local:%b} {local.day}, {local.year}, {clock_text(local)} {zone_abbreviation(local)}"


def start_of_day(day: date, zone: str) -> datetime:
    """Midnight starting `day` in `zone`, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=zone_of(zone) or UTC).astimezone(UTC)


def local_date(moment: datetime, zone: str) -> date:
    """The date the clock in `zone` shows at `moment`."""
    return in_zone(moment, zone).date()


@dataclass(frozen=True)
class OwnerClock:
    """Where the owner's clock is, and how sure the console is of it."""

    zone: str  # IANA name
    basis: str  # "state IL, area code 312"
    several: bool  # the facts allow more than one zone; `zone` is the first of them
    city: str = ""  # the business's city, when the clock is its state's

    @property
    def place(self) -> str:
        """Where the clock is, in words: the business's city, else the zone's city."""
        return self.city or place_name(self.zone)

    def now_text(self, now: datetime) -> str:
        """ "3:18 am for the owner, Chicago"."""
        return f"{clock_text(in_zone(now, self.zone))} for the owner, {self.place}"

    def short_text(self, now: datetime) -> str:
        """ "3:18 am, Chicago": the owner's time where a table has little room."""
        return f"{clock_text(in_zone(now, self.zone))}, {self.place}"

    @property
    def doubt(self) -> str:
        """Why the clock may be wrong, when the facts allow more than one zone."""
        if not self.several:
            return f"From {self.basis}."
        return f"The owner may be in more than one zone ({self.basis}); this is the first."

    def at_text(self, moment: datetime) -> str:
        """ "Thu Jan 15, 3:00 pm CST": `moment` on the owner's clock."""
        local = in_zone(moment, self.zone)
        return f"{local:%a} {local:%b} {local.day}, {clock_text(local)} {zone_abbreviation(local)}"


def owner_clock(lead) -> OwnerClock | None:
    """The owner's zone from the business's state or ZIP and the best phone's area code;
    None when nothing places the owner."""
    business = getattr(lead, "business", None)
    state = business.state if business is not None else ""
    zip_code = business.zip if business is not None else ""
    phones = phone_service.ranked(lead.phones) if lead is not None else []
    e164 = phones[0].e164 if phones else ""
    clock = recipient_clock(state, zip_code, e164)
    city = business.city.strip() if business is not None and business.city else ""
    # A Tampa owner reads "Tampa", not "New York": the business's city names the clock
    # when the clock is one of its state's zones.
    home = quiethours.STATE_ZONES.get(quiethours.state_code(state) if state else "", ())
    if clock is not None and city and clock.zone in home:
        return replace(clock, city=city)
    return clock


@lru_cache(maxsize=4096)
def recipient_clock(state: str, zip_code: str, e164: str) -> OwnerClock | None:
    """The clock of whoever is at `e164` with a business in `state`/`zip_code` (the facts
    a queued text carries); None when nothing places them. Cached: a page of texts to the
    same places asks once a place."""
    if not (state or zip_code or e164):
        return None
    zones, basis = quiethours.zones_for(state or "", zip_code or "", e164 or "")
    if not zones or basis.startswith("nothing known"):
        return None
    return OwnerClock(zone=zones[0], basis=basis, several=len(set(zones)) > 1)
