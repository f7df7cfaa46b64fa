"""Settings > Sending: adding, changing and removing a team's senders, what each sent,
and the team's changes to the state texting-hours table.

The rules themselves live in console.services.sending.quiethours and the team's sending
settings in console.services.sending.policy; this module checks what an admin typed before
either is changed. Nothing here imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from phonenumbers import NumberParseException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import Campaign, Message, Sender
from console.models.base import utcnow
from console.models.campaigns import SENDER_KINDS
from console.providers.messaging import AccountCheckError, TwilioAccount
from console.providers.twilio_client import make_client
from console.services.sending import delivery, quiethours
from console.services.sending.policy import SendingSettings

MPS_RANGE = (0.1, 500.0)
# The person texts from a sender are signed by ({senderName}); senders.sender_name holds 80.
SENDER_NAME_LENGTH = 80
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# Said alike whether another team has the address or the console's Twilio account does
# not hold it, so an admin learns nothing about other teams.
NOT_AVAILABLE = (
    "{address} cannot be a sender for this team: it must be a number or Messaging "
    "Service of the console's Twilio account that no other team uses."
)


class SenderProblem(ValueError):
    """A sender setting that cannot be saved, said for the form field it belongs to."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------- senders


def sender_address(kind: str, address: str) -> str:
    """The address as stored: E.164 for a number, `MG` and 32 hex digits for a service."""
    text = (address or "").strip()
    if kind == "messaging_service":
        if not _SERVICE_SID.fullmatch(text):
            raise SenderProblem(
                "A Messaging Service SID is MG followed by 32 hex digits "
                "(Twilio console > Messaging > Services).",
                "address",
            )
        return "MG" + text[2:].lower()
    if kind != "number":
        raise SenderProblem("Choose a phone number or a Messaging Service.", "kind")
    try:
        number = phonenumbers.parse(text, "US")
    except NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise SenderProblem(
            f"{text or 'That'} is not a valid phone number; write it as +15125550100.",
            "address",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def twilio_account(config: Mapping) -> TwilioAccount | None:
    """The console's Twilio account, to check what it holds; None in the sandbox."""
    if config.get("TWILIO_SANDBOX", True):
        return None
    client = make_client(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        config.get("TWILIO_API_BASE_URL", ""),
    )
    return TwilioAccount(client)


def _checked(
    session: Session,
    team_id: int,
    sender: Sender | None,
    account: TwilioAccount | None,
    *,
    label: str,
    kind: str,
    address: str,
    mps: float | None,
    daily_cap: int | None,
    sender_name: str = "",
) -> dict:
    """The sender's settings checked and tidied, or SenderProblem for the first bad one."""
    label = (label or "").strip()
    if not label:
        raise SenderProblem("Give the sender a name people will recognise.", "label")
    if len(label) > 80:
        raise SenderProblem("Keep the name to 80 characters.", "label")
    if kind not in SENDER_KINDS:
        raise SenderProblem("Choose a phone number or a Messaging Service.", "kind")
    address = sender_address(kind, address)
    if sender is None or address != sender.address:
        _check_available(session, team_id, kind, address, account)
    low, high = MPS_RANGE
    if mps is None or not low <= mps <= high:
        raise SenderProblem(
            f"Messages a second is a number from {low:g} to {high:g} "
            "(1 for a sole proprietor, 3 for toll-free, your 10DLC tier otherwise).",
            "mps",
        )
    if daily_cap is None or daily_cap < 0:
        raise SenderProblem("The daily cap is a whole number, 0 for no cap.", "daily_cap")
    sender_name = " ".join((sender_name or "").split())
    if len(sender_name) > SENDER_NAME_LENGTH:
        raise SenderProblem(
            f"Keep the signing name to {SENDER_NAME_LENGTH} characters.", "sender_name"
        )
    return {
        "label": label,
        "kind": kind,
        "address": address,
        "mps": mps,
        "daily_cap": daily_cap,
        "sender_name": sender_name,
    }


def _check_available(
    session: Session, team_id: int, kind: str, address: str, account: TwilioAccount | None
) -> None:
    """Refuse an address another sender has (of any team: replies are routed by it) or,
    with real Twilio, one the console's account does not hold."""
    holder = session.scalar(select(Sender.team_id).where(Sender.address == address).limit(1))
    if holder == team_id:
        raise SenderProblem(f"The team already has a sender {address}.", "address")
    if holder is not None:
        raise SenderProblem(NOT_AVAILABLE.format(address=address), "address")
    if account is None:
        return
    try:
        held = account.holds(kind, address)
    except AccountCheckError as exc:
        raise SenderProblem(
            f"Twilio could not confirm {address} is the console's ({exc}); try again shortly.",
            "address",
        ) from exc
    if not held:
        raise SenderProblem(NOT_AVAILABLE.format(address=address), "address")


def _given(
    label: str, kind: str, address: str, mps: float | None, daily_cap: int | None, sender_name: str
) -> dict:
    """The settings a sender form gives, by name."""
    return {
        "label": label,
        "kind": kind,
        "address": address,
        "mps": mps,
        "daily_cap": daily_cap,
        "sender_name": sender_name,
    }


def _flush_owned(session: Session, address: str) -> None:
    """Flush; an address another team took meanwhile (the unique index) is refused."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise SenderProblem(NOT_AVAILABLE.format(address=address), "address") from exc


def add_sender(
    session: Session,
    team_id: int,
    *,
    label: str,
    kind: str,
    address: str,
    mps: float | None,
    daily_cap: int | None,
    sender_name: str = "",
    account: TwilioAccount | None = None,
) -> Sender:
    """Add a number or Messaging Service to the team's senders; with `account` (real
    Twilio), only one the account holds."""
    given = _given(label, kind, address, mps, daily_cap, sender_name)
    values = _checked(session, team_id, None, account, **given)
    sender = Sender(team_id=team_id, **values)
    session.add(sender)
    _flush_owned(session, values["address"])
    return sender


def update_sender(
    session: Session,
    sender: Sender,
    *,
    label: str,
    kind: str,
    address: str,
    mps: float | None,
    daily_cap: int | None,
    sender_name: str = "",
    account: TwilioAccount | None = None,
) -> dict:
    """Change a sender's name, address and limits; the values before, for the audit."""
    given = _given(label, kind, address, mps, daily_cap, sender_name)
    values = _checked(session, sender.team_id, sender, account, **given)
    before = sender_facts(sender)
    # The sandbox's fictional number stops being the sandbox sender once readdressed.
    sender.sandbox = sender.sandbox and values["address"] == sender.address
    for name, value in values.items():
        setattr(sender, name, value)
    _flush_owned(session, values["address"])
    return before


def sender_facts(sender: Sender) -> dict:
    """What an audit event keeps of a sender."""
    return {
        "label": sender.label,
        "kind": sender.kind,
        "address": sender.address,
        "mps": sender.mps,
        "daily_cap": sender.daily_cap,
        "sender_name": sender.sender_name,
        "paused": sender.paused,
    }


def sender_uses(session: Session, sender: Sender) -> str:
    """Why the sender cannot be removed ("used by 12 texts and 1 campaign"), "" if unused."""
    texts = session.scalar(select(func.count(Message.id)).where(Message.sender_id == sender.id))
    campaigns = session.scalar(
        select(func.count(Campaign.id)).where(Campaign.sender_id == sender.id)
    )
    uses = [
        f"{count:,} {noun}{'' if count == 1 else 's'}"
        for count, noun in ((texts or 0, "text"), (campaigns or 0, "campaign"))
        if count
    ]
    return f"used by {' and '.join(uses)}" if uses else ""


def delete_sender(session: Session, sender: Sender) -> None:
    """Remove a sender nothing refers to; a used one stays so its history keeps its sender."""
    uses = sender_uses(session, sender)
    if uses:
        raise SenderProblem(
            f"{sender.label} is {uses}, so it stays to keep their history; pause it instead."
        )
    session.delete(sender)
    session.flush()


@dataclass(frozen=True)
class SenderActivity:
    """What a sender sent today (UTC) and how carriers treated it lately."""

    sent_today: int
    filtered: int
    sent_recently: int

    @property
    def filtering_rate(self) -> float | None:
        """Share of recent texts the carriers filtered (30007), None before any was sent."""
        return self.filtered / self.sent_recently if self.sent_recently else None


def sender_activity(
    session: Session, senders: list[Sender], now: datetime | None = None
) -> dict[int, SenderActivity]:
    """Each sender's texts today (the day its daily cap counts) and its carrier filtering
    over `delivery.FILTERING_WINDOW`, by sender id."""
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ids = [s.id for s in senders]
    today = dict(
        session.execute(
            select(Message.sender_id, func.count(Message.id))
            .where(Message.sender_id.in_(ids), Message.sent_at >= midnight)
            .group_by(Message.sender_id)
        ).all()
    )
    activity = {}
    for sender_id in ids:
        filtered, sent = delivery.filtering_rate(
            session, sender_id, now - delivery.FILTERING_WINDOW
        )
        activity[sender_id] = SenderActivity(int(today.get(sender_id, 0)), filtered, sent)
    return activity


# ---------------------------------------------------------------------- texting hours


@dataclass(frozen=True)
class StateHours:
    """One row of the texting-hours table as the team's rules have it."""

    rule: quiethours.StateRule
    # "default" (the law as shipped), "changed" (the team's override) or "added".
    origin: str
    # Holidays this state adds to the federal ones, this year: [(date, name)].
    extra_holidays: list[tuple[date, str]]

    @property
    def windows(self) -> str:
        """The day windows alone ("9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sun")."""
        return quiethours.describe(self.rule).split("; ")[0]


def team_rules(settings: SendingSettings) -> tuple[dict[str, quiethours.StateRule], str]:
    """The team's texting-hours table, and a problem in words if its stored changes no
    longer read (then the shipped table is used, as the send path would refuse them)."""
    try:
        return settings.rules, ""
    except ValueError as exc:
        return dict(quiethours.RULES), f"The saved texting-hour changes are ignored: {exc}"


def hours_table(settings: SendingSettings, year: int) -> list[StateHours]:
    """The texting-hours table, state by state, with where each row came from."""
    rules, _ = team_rules(settings)
    changed = {key.upper() for key in settings.quiet_hours or {}}
    federal = quiethours.holidays(year, None)
    rows = []
    for state in sorted(rules):
        if state not in changed:
            origin = "default"
        else:
            origin = "changed" if state in quiethours.RULES else "added"
        extras = [
            (day, name)
            for day, name in quiethours.holidays(year, state).items()
            if day not in federal
        ]
        rows.append(StateHours(rules[state], origin, extras))
    return rows


def state_code(text: str) -> str:
    """A state code the time-zone table knows ("tx" -> "TX"), or "" when it is none."""
    code = (text or "").strip().upper()
    return code if code in quiethours.STATE_ZONES else ""


def state_rule(settings: SendingSettings, state: str) -> quiethours.StateRule:
    """The state's rule as the team has it; a state without one starts at the federal
    window, every day."""
    rules, _ = team_rules(settings)
    return rules.get(state) or quiethours.StateRule(state, *quiethours.FEDERAL)


def set_state_hours(settings: SendingSettings, state: str, rule_fields: dict) -> None:
    """Store the team's version of one state's row (fields as `quiethours.rule_settings`
    writes them); only what differs from the shipped rule is kept.

    Raises ValueError, in rules_with_overrides' words, when the row cannot be used.
    """
    base = quiethours.RULES.get(state)
    if base is None:
        change = dict(rule_fields)
    else:
        shipped = quiethours.rule_settings(base)
        change = {name: value for name, value in rule_fields.items() if shipped[name] != value}
    overrides = {k: v for k, v in (settings.quiet_hours or {}).items() if k.upper() != state}
    if change:
        overrides[state] = change
    quiethours.rules_with_overrides(overrides)
    settings.quiet_hours = overrides


def reset_state_hours(settings: SendingSettings, state: str) -> bool:
    """Drop the team's change to a state's row (an added state leaves the table); True if
    there was one."""
    overrides = dict(settings.quiet_hours or {})
    keys = [k for k in overrides if k.upper() == state]
    for key in keys:
        del overrides[key]
    settings.quiet_hours = overrides
    return bool(keys)


def federal_window() -> str:
    """The federal window in words ("8:00 am-9:00 pm"), as quiethours words a rule."""
    everyday = quiethours.StateRule("US", *quiethours.FEDERAL)
    return quiethours.describe(everyday).removesuffix(" daily")
