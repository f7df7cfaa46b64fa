"""A team's sending rules and its senders: the numbers and Messaging Services texts go
out from, which one a recipient hears from, and what a text is expected to cost."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import time
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import Enrollment, Message, Sender, Team
from console.models.base import utcnow
from console.models.campaigns import DEFAULT_SENDER_MPS
from console.services.campaigns import segments, tokens
from console.services.replies import personas
from console.services.sending import quiethours

# A fictional number (555-01xx is reserved for fiction) the sandbox sends from; the
# first team (the demo team, embedded) gets it, every other team one of its own.
SANDBOX_NUMBER = "+15125550100"
SANDBOX_AREA_CODES = ("512", "737", "210", "214", "469", "713", "832", "281", "817", "972")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class SendingSettings:
    """What a team decided about sending (Settings > Sending), with safe defaults."""

    # The team's own window, in each recipient's local time, inside what the law allows.
    window_start: str = "09:00"
    window_end: str = "20:00"
    window_days: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    # Opt-out wording first touches must carry; the default is "Reply STOP to opt out".
    opt_out_wording: str = ""
    # Batches with more texts than this need a manager's approval.
    manager_approval_over: int = 500
    # Follow-up batches approve themselves (the team's choice; off by default).
    auto_approve_followups: bool = False
    # A sender whose carrier filtering (error 30007) passes this share is paused.
    filtering_pause_rate: float = 0.05
    filtering_min_sample: int = 40
    # Texts to one number in 24 hours, whatever the state says (0 = only state caps).
    recipient_daily_cap: int = 0
    # Expected price of one segment when Twilio has not said (US 2026 list + carrier fee).
    segment_price: str = "0.0113"
    # Admin's changes to the state texting-hours table (console.services.sending.quiethours).
    quiet_hours: dict = field(default_factory=dict)
    # Sandbox only: recipients' hours stand open, so a demo or a test texts at any hour.
    # The gate reads it only for the sandbox transport (compliance.sandbox_hours_open).
    sandbox_open_hours: bool = False

    @classmethod
    def of(cls, team: Team) -> SendingSettings:
        """The team's settings, defaults filled in for anything not saved."""
        saved = (team.settings or {}).get("sending") or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in known})

    def save(self, team: Team) -> None:
        """Store these settings on the team."""
        settings = dict(team.settings or {})
        settings["sending"] = asdict(self)
        team.settings = settings

    @property
    def team_window(self) -> quiethours.TeamWindow:
        """The window as the quiet-hours check takes it."""
        return quiethours.TeamWindow(
            start=_parse_time(self.window_start, time(9)),
            end=_parse_time(self.window_end, time(20)),
            days=frozenset(self.window_days),
        )

    @property
    def rules(self) -> dict[str, quiethours.StateRule]:
        """The state texting-hours table with the team's changes."""
        return quiethours.rules_with_overrides(self.quiet_hours or None)

    @property
    def price(self) -> Decimal:
        """Expected price of a segment."""
        try:
            return Decimal(self.segment_price)
        except (InvalidOperation, TypeError):
            return Decimal("0.0113")

    def describe_window(self) -> str:
        """ "9:00 am-8:00 pm, Mon-Sat" for pages."""
        days = sorted(self.window_days)
        if days == list(range(7)):
            named = "every day"
        elif days and days == list(range(days[0], days[-1] + 1)):
            named = f"{WEEKDAYS[days[0]]}-{WEEKDAYS[days[-1]]}"
        else:
            named = ", ".join(WEEKDAYS[d] for d in days) or "no days"
        window = self.team_window
        return f"{_clock(window.start)}-{_clock(window.end)}, {named}"


@dataclass
class ReplySettings:
    """What a team decided about replies (Settings > Replies), with safe defaults."""

    # Twilio's Advanced Opt-Out answers STOP/START/HELP keywords itself: the console then
    # sends no confirmation for an exact keyword (it still confirms free-text opt-outs,
    # which Twilio does not see as opt-outs).
    twilio_advanced_opt_out: bool = False
    # Texts the console answers with; "" means the persona module's default.
    opt_out_confirmation: str = ""
    opt_in_confirmation: str = ""
    help_text: str = ""
    # Drafts may carry links (the team's site) only when the team allows it.
    allow_links: bool = False
    link: str = ""
    # Replies that go without a person: off by default; never a first reply, a price
    # question or a callback request (console.services.replies.inbox.AUTO_SEND_NEVER).
    auto_send: bool = False
    auto_send_min_confidence: int = 85
    auto_send_max_per_lead: int = 3
    # Use Claude for drafts and classification when a key is configured.
    ai_enabled: bool = True
    # Reports count response times in WORKING_HOURS only (True) or on the wall clock.
    response_business_hours: bool = False

    @classmethod
    def of(cls, team: Team) -> ReplySettings:
        """The team's settings, defaults filled in for anything not saved."""
        saved = (team.settings or {}).get("replies") or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in known})

    def save(self, team: Team) -> None:
        """Store these settings on the team."""
        settings = dict(team.settings or {})
        settings["replies"] = asdict(self)
        team.settings = settings


@dataclass(frozen=True)
class WorkingHours:
    """When the team works, on the team's clock: what "business hours" means for the
    response-time report. Days are weekday numbers (Monday 0)."""

    days: tuple[int, ...]
    opens: time
    closes: time

    @property
    def text(self) -> str:
        """ "Monday to Friday, 9:00 am to 5:00 pm"."""
        first, last = WEEKDAY_NAMES[self.days[0]], WEEKDAY_NAMES[self.days[-1]]
        return f"{first} to {last}, {_clock(self.opens)} to {_clock(self.closes)}"


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The one set of working hours every team has for now (its own zone applies).
WORKING_HOURS = WorkingHours(days=(0, 1, 2, 3, 4), opens=time(9), closes=time(17))


def _parse_time(text: str, default: time) -> time:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return default


def _clock(value: time) -> str:
    if value == time(12):
        return "noon"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'am' if value.hour < 12 else 'pm'}"


class SandboxOnly(Exception):
    """A sandbox setting asked of a console whose Twilio is configured."""


def set_sandbox_open_hours(team: Team, config: Mapping, open_hours: bool) -> SendingSettings:
    """Turn "Sandbox: treat recipients' hours as open" on or off for a team.

    Refused (SandboxOnly) when Twilio is configured: then texts reach real phones and
    the law's hours always hold (turning it off is always allowed)."""
    if open_hours and not config.get("TWILIO_SANDBOX", True):
        raise SandboxOnly("Twilio is configured: recipients' legal hours always apply.")
    settings = SendingSettings.of(team)
    settings.sandbox_open_hours = bool(open_hours)
    settings.save(team)
    return settings


def settings_from_form(data: Mapping, current: SendingSettings) -> SendingSettings:
    """New settings from the settings form's cleaned data (a WTForms `data` dict)."""
    updated = SendingSettings(**asdict(current))
    updated.window_start = data["window_start"].strftime("%H:%M")
    updated.window_end = data["window_end"].strftime("%H:%M")
    updated.window_days = sorted(int(d) for d in data["window_days"])
    updated.opt_out_wording = (data.get("opt_out_wording") or "").strip()
    updated.manager_approval_over = int(data["manager_approval_over"])
    updated.auto_approve_followups = bool(data.get("auto_approve_followups"))
    updated.filtering_pause_rate = float(data["filtering_pause_percent"]) / 100
    updated.recipient_daily_cap = int(data.get("recipient_daily_cap") or 0)
    updated.segment_price = str(data["segment_price"])
    return updated


# ----------------------------------------------------------------------------- replies

# The texts the console answers with by itself, and the persona module's defaults.
REPLY_TEXT_DEFAULTS: dict[str, str] = {
    "opt_out_confirmation": personas.OPT_OUT_CONFIRMATION,
    "opt_in_confirmation": personas.OPT_IN_CONFIRMATION,
    "help_text": personas.HELP_TEXT,
}
REPLY_TEXT_LABELS: dict[str, str] = {
    "opt_out_confirmation": "Opt-out confirmation",
    "opt_in_confirmation": "Opt-in confirmation",
    "help_text": "Help text",
}
REPLY_TEXT_MAX = 320  # characters as typed, tokens unfilled
OPT_OUT_CONFIRMATION_SEGMENTS = 2
# Texts that must say how to opt out (CTIA asks it of opt-in confirmations and HELP).
_NEEDS_OPT_OUT_WORDING = frozenset({"opt_in_confirmation", "help_text"})


@dataclass(frozen=True)
class ReplyText:
    """One of the team's automatic texts as owners would get it, with its problems."""

    name: str  # the ReplySettings field
    label: str
    text: str  # what is sent, tokens unfilled: the team's own text, or the default
    is_default: bool
    rendered: tokens.Rendered  # for the team, with no lead (an unmatched number)
    measure: segments.Measure  # of `rendered`
    problems: tuple[str, ...]


def _reply_body(typed: str | None) -> str:
    """A reply text as stored: browser line endings made LF, outer spaces gone."""
    return (typed or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def reply_text(name: str, typed: str | None, sender: str, team_wording: str = "") -> ReplyText:
    """The text `name` as typed (blank means the default), rendered for a team whose
    texts come from `sender`, measured, and checked."""
    default = REPLY_TEXT_DEFAULTS[name]
    text = _reply_body(typed) or default
    rendered = tokens.render(text, {"senderName": sender})
    measure = segments.measure(rendered.text.strip())
    problems: list[str] = []
    if len(text) > REPLY_TEXT_MAX:
        problems.append(f"At most {REPLY_TEXT_MAX} characters (this has {len(text):,}).")
    unknown = tokens.unknown_tokens(text)
    if unknown:
        named = ", ".join(f"{{{token}}}" for token in unknown)
        problems.append(f"Unknown token {named}: use {{senderName}} for the team's name.")
    if not rendered.text.strip():
        problems.append("Empty once filled in: an unmatched number has no owner's name.")
    elif name == "opt_out_confirmation" and measure.segments > OPT_OUT_CONFIRMATION_SEGMENTS:
        problems.append(
            f"At most {OPT_OUT_CONFIRMATION_SEGMENTS} segments: a confirmation says only "
            f"that they are opted out (this takes {measure.segments})."
        )
    if name in _NEEDS_OPT_OUT_WORDING and not tokens.has_opt_out(text, team_wording):
        problems.append(f'Say how to opt out, as in "{tokens.OPT_OUT_DEFAULT}".')
    return ReplyText(
        name=name,
        label=REPLY_TEXT_LABELS[name],
        text=text,
        is_default=text == default,
        rendered=rendered,
        measure=measure,
        problems=tuple(problems),
    )


def reply_texts(settings: ReplySettings, sender: str, team_wording: str = "") -> list[ReplyText]:
    """The team's three automatic texts as owners get them now."""
    return [
        reply_text(name, getattr(settings, name), sender, team_wording)
        for name in REPLY_TEXT_DEFAULTS
    ]


def reply_settings_from_form(data: Mapping, current: ReplySettings) -> ReplySettings:
    """New reply settings from the replies form's cleaned data (a WTForms `data` dict).

    A text left blank or equal to its default is stored blank, so the team keeps getting
    the default as it improves.
    """
    updated = ReplySettings(**asdict(current))
    updated.twilio_advanced_opt_out = bool(data.get("twilio_advanced_opt_out"))
    for name, default in REPLY_TEXT_DEFAULTS.items():
        text = _reply_body(data.get(name))
        setattr(updated, name, "" if text == default else text)
    updated.allow_links = bool(data.get("allow_links"))
    updated.link = (data.get("link") or "").strip()
    updated.auto_send = bool(data.get("auto_send"))
    updated.auto_send_min_confidence = int(data["auto_send_min_confidence"])
    updated.auto_send_max_per_lead = int(data["auto_send_max_per_lead"])
    updated.ai_enabled = bool(data.get("ai_enabled"))
    updated.response_business_hours = bool(data.get("response_business_hours"))
    return updated


def ensure_default_sender(session: Session, team: Team, config: Mapping) -> Sender | None:
    """A team with no sender gets one: a fictional number of its own in the sandbox; with
    Twilio, the configured number or service if the team owns it (`env_sender_team`).

    Idempotent: a request that loses a race for the address takes the team's sender the
    winner saved (or, in the sandbox, the next free number); the caller commits.
    """
    for _ in range(3):
        existing = session.scalars(
            select(Sender).where(Sender.team_id == team.id).order_by(Sender.id)
        ).first()
        if existing is not None:
            return existing
        sender = _default_sender(session, team, config)
        if sender is None:
            return None
        try:
            with session.begin_nested():
                session.add(sender)
                session.flush()
        except IntegrityError:
            continue
        return sender
    return None


def _default_sender(session: Session, team: Team, config: Mapping) -> Sender | None:
    """The sender `ensure_default_sender` would add for `team`, not yet added."""
    if config.get("TWILIO_SANDBOX", True):
        address = _free_sandbox_number(session)
        if address is None:
            return None
        return Sender(
            team_id=team.id,
            label="Sandbox number",
            kind="number",
            address=address,
            mps=10.0,
            sandbox=True,
        )
    service = config.get("TWILIO_MESSAGING_SERVICE_SID") or ""
    number = config.get("TWILIO_FROM_NUMBER") or ""
    if not (service or number) or env_sender_team(session, config) != team.id:
        return None
    if session.scalar(select(Sender.id).where(Sender.address == (service or number))):
        return None
    return Sender(
        team_id=team.id,
        label="Messaging Service" if service else "Twilio number",
        kind="messaging_service" if service else "number",
        address=service or number,
        mps=10.0 if service else DEFAULT_SENDER_MPS,
    )


def env_sender_team(session: Session, config: Mapping) -> int | None:
    """The one team the environment's Twilio number or service belongs to: the team
    `TWILIO_DEFAULT_SENDER_TEAM` names (name or slug), else the first team created."""
    named = (config.get("TWILIO_DEFAULT_SENDER_TEAM") or "").strip()
    query = select(Team.id).order_by(Team.id).limit(1)
    if named:
        query = query.where((Team.name == named) | (Team.slug == named))
    return session.scalar(query)


def sandbox_numbers() -> Iterator[str]:
    """The fictional numbers sandbox senders take, SANDBOX_NUMBER first."""
    for area in SANDBOX_AREA_CODES:
        for line in range(100, 200):
            yield f"+1{area}555{line:04d}"


def _free_sandbox_number(session: Session) -> str | None:
    """The first fictional number no team's sender has yet."""
    taken = set(session.scalars(select(Sender.address).where(Sender.address.like("+1%55501%"))))
    return next((n for n in sandbox_numbers() if n not in taken), None)


def team_senders(session: Session, team_id: int) -> list[Sender]:
    """The team's senders, oldest first."""
    return list(
        session.scalars(select(Sender).where(Sender.team_id == team_id).order_by(Sender.id))
    )


def campaign_senders(session: Session, team: Team, config: Mapping) -> list[Sender]:
    """The senders a campaign may be given: the team's, its default one added first when
    it has none (the caller commits, so the id offered is the one a save finds)."""
    ensure_default_sender(session, team, config)
    return team_senders(session, team.id)


def conversation_senders(session: Session, team_id: int, numbers: list[str]) -> dict[str, int]:
    """The sender each number already heard from, so a conversation keeps one sender.

    Carriers treat rotating numbers on one recipient as snowshoeing; the sender of the
    latest enrollment (or, failing that, the latest text) to a number wins.
    """
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(numbers)), 500):
        rows = session.execute(
            select(Enrollment.e164, Enrollment.sender_id)
            .where(
                Enrollment.team_id == team_id,
                Enrollment.e164.in_(chunk),
                Enrollment.sender_id.is_not(None),
            )
            .order_by(Enrollment.id)
        )
        found.update({e164: sender_id for e164, sender_id in rows})
        missing = [n for n in chunk if n not in found]
        if missing:
            rows = session.execute(
                select(Message.to_e164, Message.sender_id)
                .where(
                    Message.team_id == team_id,
                    Message.to_e164.in_(missing),
                    Message.sender_id.is_not(None),
                    Message.provider_sid.is_not(None),
                )
                .order_by(Message.id)
            )
            found.update({e164: sender_id for e164, sender_id in rows})
    return found


def pause_sender(sender: Sender, reason: str) -> None:
    """Stop a sender's texts until a person resumes it."""
    sender.paused = True
    sender.paused_reason = reason
    sender.paused_at = utcnow()


def resume_sender(sender: Sender) -> None:
    """Let a paused sender's texts go again."""
    sender.paused = False
    sender.paused_reason = ""
    sender.paused_at = None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
