"""The compliance gate: may this text go to this number now, and if not, why and when.

One function decides at build time (to flag drafts) and again at the moment of
sending: suppression and opt-out, line type, recipient-local quiet hours with the
state windows and holidays, per-recipient frequency caps and per-sender daily caps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import Campaign, Lead, Message, Phone, Sender, Suppression
from console.models.base import utcnow
from console.providers.lookup import NOT_TEXTABLE
from console.services.sending import quiethours
from console.services.sending.policy import SendingSettings

# Lead statuses that end outreach to the lead.
CLOSED_STATUSES = frozenset({"do_not_contact", "not_interested", "deal"})


@dataclass(frozen=True)
class Decision:
    """The gate's answer. A refusal without `next_allowed_at` is for good (blocked);
    one with it is a hold until then."""

    allowed: bool
    reason: str = ""
    code: str = ""
    next_allowed_at: datetime | None = None

    @property
    def blocked(self) -> bool:
        """Refused for good: the message must not be sent at all."""
        return not self.allowed and self.next_allowed_at is None


ALLOWED = Decision(True)


@dataclass
class Recipient:
    """Who a text goes to, as the gate needs it."""

    e164: str
    state: str = ""
    zip_code: str = ""
    lead_status: str = ""


def sandbox_hours_open(settings: SendingSettings, transport: object | None) -> bool:
    """Whether recipients' hours stand open: only when the team asked for it (Settings >
    Sending) and the texts go to the sandbox transport, which reaches no phone. A real
    Twilio transport never opens them, whatever flag is stored."""
    if not settings.sandbox_open_hours or transport is None:
        return False
    from console.services.sending.sandbox_twilio import SandboxTransport  # no import cycle

    return isinstance(transport, SandboxTransport)


class Gate:
    """Decides texts for one team. Build-time callers `prefetch` the numbers of a whole
    batch; the send path asks fresh for every message, naming its `transport` (the
    sandbox's may open quiet hours, see `sandbox_hours_open`)."""

    def __init__(
        self,
        session: Session,
        team_id: int,
        settings: SendingSettings,
        *,
        transport: object | None = None,
    ) -> None:
        self.session = session
        self.team_id = team_id
        self.settings = settings
        self.rules = settings.rules
        self.team_window = settings.team_window
        self.hours_open = sandbox_hours_open(settings, transport)
        # Filled by `prefetch` (build time); None means ask the database each time.
        self._suppressed: dict[str, Suppression] | None = None
        self._untextable: dict[str, str] | None = None
        self._recent: dict[str, list[datetime]] | None = None
        self._daily_counts: dict[tuple[str, int], tuple[datetime, int]] = {}

    def prefetch(self, numbers: list[str]) -> None:
        """Load suppressions and line types of `numbers` at once (build time)."""
        unique = sorted(set(numbers))
        self.prefetch_sending(unique)
        self._prefetch_recent(unique)

    def prefetch_sending(self, numbers: list[str]) -> None:
        """Load the suppressions and line types of a chunk about to be sent. A STOP that
        comes after this is caught by the dispatcher's last check (`dispatch.fence`),
        in the same statement that renews the claim just before Twilio is called."""
        self._suppressed = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            for row in self.session.scalars(
                select(Suppression).where(
                    Suppression.team_id == self.team_id, Suppression.e164.in_(chunk)
                )
            ):
                self._suppressed[row.e164] = row
        self.prefetch_lines(unique)

    def _prefetch_recent(self, numbers: list[str]) -> None:
        """When the numbers were texted in the last 24 hours (for the frequency caps)."""
        self._recent = {}
        since = utcnow() - timedelta(hours=48)
        for start in range(0, len(numbers), 500):
            for e164, sent_at in self.session.execute(
                select(Message.to_e164, Message.sent_at)
                .where(
                    Message.team_id == self.team_id,
                    Message.to_e164.in_(numbers[start : start + 500]),
                    Message.sent_at >= since,
                )
                .order_by(Message.sent_at)
            ):
                self._recent.setdefault(e164, []).append(sent_at)

    def prefetch_lines(self, numbers: list[str]) -> None:
        """Load the line types of `numbers` at once (they change rarely)."""
        self._untextable = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            for e164, line_type, textable in self.session.execute(
                select(Phone.e164, Phone.line_type, Phone.textable).where(
                    Phone.team_id == self.team_id, Phone.e164.in_(chunk)
                )
            ):
                why = _untextable(line_type, textable)
                if why:
                    self._untextable[e164] = why

    def decide(
        self, recipient: Recipient, sender: Sender | None, when: datetime | None = None
    ) -> Decision:
        """Whether a text to `recipient` from `sender` may go at `when` (default now)."""
        when = when or utcnow()
        refused = self.refusal(recipient)
        if refused is not None:
            return refused
        quiet = self.quiet_hours(recipient, when)
        if not quiet.allowed:
            return Decision(False, quiet.reason, "quiet_hours", quiet.next_allowed_at)
        capped = self.recipient_cap(recipient, when)
        if capped is not None:
            return capped
        if sender is not None:
            return self.sender_cap(sender, when)
        return ALLOWED

    def quiet_hours(self, recipient: Recipient, when: datetime) -> quiethours.QuietCheck:
        """The quiet-hours rule alone: the recipient's legal hours and the team's window
        (open in the sandbox when the team asked, see `sandbox_hours_open`)."""
        if self.hours_open:
            return quiethours.QuietCheck(True, "", None, "")
        return quiethours.check(
            when,
            state=recipient.state,
            zip_code=recipient.zip_code,
            e164=recipient.e164,
            team_window=self.team_window,
            rules=self.rules,
        )

    def refusal(self, recipient: Recipient) -> Decision | None:
        """A reason never to text this number (suppressed, opted out, landline), or None."""
        suppression = self._suppression(recipient.e164)
        if suppression is not None:
            return _suppressed_decision(suppression)
        if recipient.lead_status == "do_not_contact":
            return Decision(False, "The lead is marked do not contact.", "opted_out")
        if recipient.lead_status in CLOSED_STATUSES:
            label = recipient.lead_status.replace("_", " ")
            return Decision(False, f"The lead is {label}: outreach has ended.", "lead_closed")
        why = self._line_problem(recipient.e164)
        if why:
            return Decision(False, why, "not_textable")
        return None

    def recipient_cap(self, recipient: Recipient, when: datetime) -> Decision | None:
        """A hold when the number already had its texts for the last 24 hours."""
        states = quiethours.states_for(recipient.state, recipient.e164)
        caps = [c for c in (quiethours.recipient_cap(states, self.rules),) if c]
        if self.settings.recipient_daily_cap:
            caps.append(self.settings.recipient_daily_cap)
        if not caps:
            return None
        cap = min(caps)
        since = when - timedelta(hours=24)
        if self._recent is not None:
            sent = [at for at in self._recent.get(recipient.e164, []) if at >= since]
        else:
            sent = list(
                self.session.scalars(
                    select(Message.sent_at)
                    .where(
                        Message.team_id == self.team_id,
                        Message.to_e164 == recipient.e164,
                        Message.sent_at >= since,
                    )
                    .order_by(Message.sent_at)
                )
            )
        if len(sent) < cap:
            return None
        where = "/".join(s for s in states if quiethours.recipient_cap([s], self.rules)) or "team"
        return Decision(
            False,
            f"Frequency cap: {cap} texts in 24 hours to one number ({where} rule).",
            "recipient_cap",
            sent[len(sent) - cap] + timedelta(hours=24),
        )

    def sender_cap(self, sender: Sender, when: datetime) -> Decision:
        """A hold when the sender has sent its daily cap today (UTC day)."""
        return self._daily_cap(
            ("sender", sender.id),
            Message.sender_id == sender.id,
            sender.daily_cap,
            f"{sender.label} has sent its {sender.daily_cap:,} texts for today.",
            "sender_cap",
            when,
        )

    def campaign_cap(self, campaign: Campaign | None, when: datetime) -> Decision:
        """A hold when the campaign has sent its own daily cap today (UTC day)."""
        if campaign is None:
            return ALLOWED
        return self._daily_cap(
            ("campaign", campaign.id),
            Message.campaign_id == campaign.id,
            campaign.daily_cap,
            f"The campaign has sent its {campaign.daily_cap:,} texts for today.",
            "campaign_cap",
            when,
        )

    def _daily_cap(self, key, condition, cap: int, reason: str, code: str, when) -> Decision:
        if not cap:
            return ALLOWED
        day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        counted = self._daily_counts.get(key)
        if counted is None or counted[0] != day:
            count = self.session.scalar(
                select(func.count(Message.id)).where(condition, Message.sent_at >= day)
            )
            counted = (day, int(count or 0))
            self._daily_counts[key] = counted
        if counted[1] < cap:
            return ALLOWED
        return Decision(False, reason, code, day + timedelta(days=1))

    def note_sent(
        self, sender: Sender | None, campaign_id: int | None = None, count: int = 1
    ) -> None:
        """Count a text just sent (or in flight: -1 takes back one that failed) against
        its sender's and campaign's daily caps."""
        for key in (("sender", sender.id if sender else None), ("campaign", campaign_id)):
            if key in self._daily_counts:
                day, counted = self._daily_counts[key]
                self._daily_counts[key] = (day, counted + count)

    def fresh_refusal(self, recipient: Recipient) -> Decision | None:
        """`refusal` asked of the database now, not of what was prefetched."""
        prefetched, self._suppressed = self._suppressed, None
        try:
            return self.refusal(recipient)
        finally:
            self._suppressed = prefetched

    def _suppression(self, e164: str) -> Suppression | None:
        if self._suppressed is not None:
            return self._suppressed.get(e164)
        # Asked for every text sent: a bare id first (cheap), the row only when there is one.
        found = self.session.scalar(
            select(Suppression.id)
            .where(Suppression.team_id == self.team_id, Suppression.e164 == e164)
            .limit(1)
        )
        return self.session.get(Suppression, found) if found is not None else None

    def _line_problem(self, e164: str) -> str:
        if self._untextable is not None:
            return self._untextable.get(e164, "")
        for line_type, textable in self.session.execute(
            select(Phone.line_type, Phone.textable).where(
                Phone.team_id == self.team_id, Phone.e164 == e164
            )
        ):
            why = _untextable(line_type, textable)
            if why:
                return why
        return ""


def _untextable(line_type: str, textable: bool | None) -> str:
    if line_type in NOT_TEXTABLE:
        label = "Landline" if line_type == "landline" else f"Not a mobile ({line_type})"
        return f"{label}: texts can't reach it."
    if textable is False:
        return "The number can't take texts (a check or a carrier said so)."
    return ""


def _suppressed_decision(suppression: Suppression) -> Decision:
    when = suppression.created_at.strftime("%b %-d, %Y") if suppression.created_at else ""
    if suppression.reason.startswith("opt"):
        return Decision(
            False, f"Opted out ({suppression.source or 'STOP'}) on {when}.", "opted_out"
        )
    return Decision(
        False, f"On the do-not-contact list ({suppression.reason}) since {when}.", "suppressed"
    )


def recipient_of(lead: Lead | None, e164: str) -> Recipient:
    """The gate's view of a lead's number: where the business is, the lead's status."""
    business = lead.business if lead is not None else None
    return Recipient(
        e164=e164,
        state=business.state if business else "",
        zip_code=business.zip if business else "",
        lead_status=lead.status if lead is not None else "",
    )
