"""The Operations report: the seed's monitoring alerts, each with its figure, a green,
amber or red state and a link to the rows behind it, and carriers' filtering (error
30007) by sender.

What each alert counts (over the report's days unless it says "now"):

- Webhook failures: Twilio's requests the console refused (bad signature, malformed) or
  failed on (5xx), of all it received: the failures `webhook_log` writes down, and the
  requests that went through: each inbound text, and each text sent in the range whose
  final status came by its callback (read off the text, so counting them costs nothing
  more than the send figures; Twilio's intermediate "sent" callbacks are left out).
- Classification failures: replies whose reading ended in the range and failed (a
  person must read it) or fell back to the rules because Claude failed, of all read.
- Send failures: texts that went to Twilio in the range (or that it refused outright)
  and failed or were not delivered, of all those.
- Queue backlog (now): texts approved and due that have not gone yet.
- Human response (now): the owners waiting longer than 4 hours on an item nobody has
  answered (being read, open or escalated), counted from their first unanswered text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from console.models import AuditEvent, InboundMessage, InboxItem, Message, Sender, Team
from console.services import webhook_log
from console.services.replies.inbox_list import WAITING_STATES, reading_failed, waiting_since
from console.services.reports.scope import ReportScope
from console.services.reports.tables import Column, ReportPage, Table, rate
from console.services.sending.delivery import FILTERED_CODE, STATUS_RANK
from console.services.sending.policy import SendingSettings
from console.services.timezones import format_when

KEY = "operations"
TITLE = "Operations"
STATUS_TABLE = "status"
SENDERS_TABLE = "senders_30007"
WEBHOOKS_TABLE = "webhooks"


@dataclass(frozen=True)
class Threshold:
    """Where an alert turns amber and red: a figure past `red` is red, past `amber` amber."""

    amber: float
    red: float

    def state(self, figure: float | None) -> str:
        """ "green", "amber" or "red" for `figure` (green when there is nothing to measure)."""
        if figure is None or figure <= self.amber:
            return "green"
        return "red" if figure > self.red else "amber"


# The seed's alert thresholds (issue 17), amber at half of red. Rates are fractions.
THRESHOLDS: dict[str, Threshold] = {
    "webhooks": Threshold(amber=0.025, red=0.05),
    "classification": Threshold(amber=0.05, red=0.10),
    "sends": Threshold(amber=0.01, red=0.02),
    "backlog": Threshold(amber=500, red=1000),
    # Hours an owner waits for a person: the red alert counts those past `red`.
    "response_hours": Threshold(amber=2, red=4),
}
STATES = ("green", "amber", "red")
# Twilio's final statuses: a text showing one had its delivery callback (the webhook).
CALLED_BACK = tuple(s for s, rank in STATUS_RANK.items() if rank >= STATUS_RANK["delivered"])


def page(session: Session, scope: ReportScope, now: datetime, prices: dict) -> ReportPage:
    """The Operations page over `scope` (the "now" alerts read at `now`)."""
    sends = _sends(session, scope)
    team_wide = (
        sends if not scope.campaign_id else _sends(session, replace(scope, campaign_id=None))
    )
    webhooks = webhook_table(session, scope, _called_back(team_wide))
    senders = sender_table(session, scope, sends)
    rows = [
        _webhook_alert(webhooks),
        _classification_alert(session, scope),
        _send_alert(senders, sends),
        _backlog_alert(session, scope, now),
        _response_alert(session, scope, now),
    ]
    status = Table(
        name=STATUS_TABLE,
        title="Alerts",
        columns=[
            Column("alert", "Alert", link_key="link"),
            Column("state", "State", "state"),
            Column("figure", "Figure"),
            Column("count", "Count", "count"),
            Column("of", "Of", "count"),
            Column("rate", "Rate", "rate"),
            Column("amber_over", "Amber over"),
            Column("red_over", "Red over"),
        ],
        rows=rows,
        totals={"alert": _states_total(rows)},
        note="Amber at half the red threshold. Each alert links to the rows behind it.",
    )
    read_at = format_when(now, scope.zone)
    notes = [
        f"Read {read_at}: backlog and response are as of then; the rest cover the days above.",
        "Webhook failures cover the whole team: the campaign, list and persona filters do not "
        "apply to them. The list and pipeline filters do not apply to this page.",
    ]
    return ReportPage(key=KEY, title=TITLE, tables=[status, senders, webhooks], notes=notes)


def _states_total(rows: list[dict]) -> str:
    counts = {state: sum(1 for row in rows if row["state"] == state) for state in STATES}
    return ", ".join(f"{counts[state]} {state}" for state in STATES if counts[state]) or ""


def _path(base: str, **args) -> str:
    """A link inside the console with its arguments (blank ones left out)."""
    kept = {key: value for key, value in args.items() if value not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _alert(name: str, key: str, figure, count, whole, shown: str, link: str, over=str) -> dict:
    threshold = THRESHOLDS[key]
    return {
        "alert": name,
        "state": threshold.state(figure),
        "figure": shown,
        "count": count,
        "of": whole,
        "rate": figure if whole is not None else None,
        "amber_over": over(threshold.amber),
        "red_over": over(threshold.red),
        "link": link,
    }


# -- webhooks ---------------------------------------------------------------------


def webhook_table(session: Session, scope: ReportScope, callbacks: int) -> Table:
    """Webhook requests by kind: handled (`callbacks` delivery callbacks, and the
    inbound texts received), failed by reason, the failure rate."""
    failed = {
        (entity_type.removeprefix(webhook_log.ENTITY_PREFIX), action): count
        for entity_type, action, count in session.execute(
            select(AuditEvent.entity_type, AuditEvent.action, func.count(AuditEvent.id))
            .where(
                AuditEvent.team_id == scope.team_id,
                AuditEvent.entity_type.in_(
                    [webhook_log.ENTITY_PREFIX + kind for kind in webhook_log.KIND_LABELS]
                ),
                AuditEvent.at >= scope.start,
                AuditEvent.at < scope.end,
            )
            .group_by(AuditEvent.entity_type, AuditEvent.action)
        ).all()
    }
    handled = {"inbound": _inbound_received(session, scope), "status": callbacks}
    rows = []
    for kind, label in webhook_log.KIND_LABELS.items():
        row = {"kind": label, "handled": handled[kind]}
        for reason in webhook_log.REASONS:
            row[reason] = failed.get((kind, webhook_log.ACTION_PREFIX + reason), 0)
        rows.append(row)
    totals = {"kind": "Total"}
    for key in ("handled", *webhook_log.REASONS):
        totals[key] = sum(row[key] for row in rows)
    for row in (*rows, totals):
        row["failed"] = sum(row[reason] for reason in webhook_log.REASONS)
        row["received"] = row["handled"] + row["failed"]
        row["failure_rate"] = rate(row["failed"], row["received"])
    return Table(
        name=WEBHOOKS_TABLE,
        title="Webhook requests from Twilio",
        columns=[
            Column("kind", "Webhook"),
            Column("received", "Received", "count"),
            Column("handled", "Handled", "count"),
            *(Column(reason, label, "count") for reason, label in webhook_log.REASONS.items()),
            Column("failed", "Failed", "count"),
            Column("failure_rate", "Failure rate", "rate"),
        ],
        rows=rows,
        totals=totals,
        note="Handled: each inbound text stored, and each text sent in the range whose final "
        "status (delivered, undelivered...) Twilio called back with; failures by the day "
        "they came. A request naming none of the team's numbers or texts is not counted.",
    )


def _inbound_received(session: Session, scope: ReportScope) -> int:
    return int(
        session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.team_id == scope.team_id,
                InboundMessage.received_at >= scope.start,
                InboundMessage.received_at < scope.end,
            )
        )
        or 0
    )


def _webhook_alert(webhooks: Table) -> dict:
    totals = webhooks.totals or {}
    figure = totals.get("failure_rate")
    shown = f"{_percent(figure)} of {totals['received']:,} requests"
    link = f"#table-{WEBHOOKS_TABLE}"
    return _alert(
        "Webhook failures",
        "webhooks",
        figure,
        totals["failed"],
        totals["received"],
        shown,
        link,
        _percent,
    )


# -- classification -----------------------------------------------------------------


def _classification_alert(session: Session, scope: ReportScope) -> dict:
    query = select(
        func.count(InboxItem.id), func.count(InboxItem.id).filter(reading_failed())
    ).where(
        InboxItem.team_id == scope.team_id,
        InboxItem.state != "processing",
        InboxItem.ready_at >= scope.start,
        InboxItem.ready_at < scope.end,
    )
    read, failed = session.execute(_inbox_filters(query, scope)).one()
    figure = rate(failed, read)
    link = _path(
        "/inbox", view="all", unread="1", campaign=scope.campaign_id, persona=scope.persona
    )
    shown = f"{_percent(figure)} of {read:,} replies read"
    return _alert(
        "Classification failures", "classification", figure, failed, read, shown, link, _percent
    )


def _inbox_filters(query, scope: ReportScope):
    if scope.campaign_id:
        query = query.where(InboxItem.campaign_id == scope.campaign_id)
    if scope.persona:
        query = query.where(InboxItem.persona == scope.persona)
    return query


# -- sending ------------------------------------------------------------------------


SEND_FIGURES = ("sent", "failed", "filtered", "called_back")


@dataclass
class Sends:
    """Texts that went out in the range (or Twilio refused), failed, filtered (30007) and
    called back, by sender; failed ones by batch (to link the worst)."""

    by_sender: dict[int | None, dict]
    failed_by_batch: dict[int, int]

    def worst_batch(self) -> int | None:
        """The batch with most failed texts (the lowest id of equals), None when none."""
        failed = [(-count, batch) for batch, count in self.failed_by_batch.items() if count]
        return min(failed)[1] if failed else None


def _sends(session: Session, scope: ReportScope) -> Sends:
    """The range's texts counted by sender and batch in SQL (a few hundred groups at
    most), summed here by sender."""
    went_out = Message.sent_at.is_not(None)
    sent = select(
        Message.sender_id,
        Message.batch_id,
        func.count(Message.id),
        func.count(Message.id).filter(Message.status == "failed"),
        func.count(Message.id).filter(Message.error_code == FILTERED_CODE),
        func.count(Message.id).filter(Message.provider_status.in_(CALLED_BACK)),
    ).where(
        Message.team_id == scope.team_id,
        Message.sent_at >= scope.start,
        Message.sent_at < scope.end,
    )
    refused = select(
        Message.sender_id,
        Message.batch_id,
        func.count(Message.id),
        func.count(Message.id),
        func.count(Message.id).filter(Message.error_code == FILTERED_CODE),
        literal(0),
    ).where(
        Message.team_id == scope.team_id,
        Message.status == "failed",
        ~went_out,
        Message.status_at >= scope.start,
        Message.status_at < scope.end,
    )
    sends = Sends({}, {})
    for query in (sent, refused):
        if scope.campaign_id:
            query = query.where(Message.campaign_id == scope.campaign_id)
        grouped = query.group_by(Message.sender_id, Message.batch_id)
        for sender_id, batch_id, *counts in session.execute(grouped).all():
            found = sends.by_sender.setdefault(sender_id, dict.fromkeys(SEND_FIGURES, 0))
            for key, count in zip(SEND_FIGURES, counts, strict=True):
                found[key] += count
            if batch_id is not None:
                failed = counts[SEND_FIGURES.index("failed")]
                sends.failed_by_batch[batch_id] = sends.failed_by_batch.get(batch_id, 0) + failed
    return sends


def _called_back(sends: Sends) -> int:
    return sum(found["called_back"] for found in sends.by_sender.values())


def sender_table(session: Session, scope: ReportScope, sends: Sends) -> Table:
    """Carriers' filtering (30007) by sender, with the send failures it is part of; the
    state at the team's own pause rate (Settings > Sending), amber at half of it."""
    settings = SendingSettings.of(session.get(Team, scope.team_id))
    threshold = Threshold(
        amber=settings.filtering_pause_rate / 2, red=settings.filtering_pause_rate
    )
    sample = settings.filtering_min_sample
    figures = dict(sends.by_sender)
    senders = session.scalars(
        select(Sender).where(Sender.team_id == scope.team_id).order_by(Sender.label, Sender.id)
    ).all()
    rows = []
    for sender in senders:
        found = figures.pop(sender.id, dict.fromkeys(SEND_FIGURES, 0))
        rows.append(
            _sender_row(sender.label, sender.address, sender.paused, found, threshold, sample)
        )
    gone = dict.fromkeys(SEND_FIGURES, 0)
    for found in figures.values():  # texts whose sender was deleted
        for key in gone:
            gone[key] += found[key]
    if gone["sent"]:
        rows.append(_sender_row("(sender removed)", "", False, gone, threshold, sample))
    totals = {"sender": "Total"}
    for key in ("sent", "failed", "filtered"):
        totals[key] = sum(row[key] for row in rows)
    totals["failure_rate"] = rate(totals["failed"], totals["sent"])
    totals["filtered_rate"] = rate(totals["filtered"], totals["sent"])
    totals["state"] = threshold.state(totals["filtered_rate"]) if totals["sent"] >= sample else ""
    return Table(
        name=SENDERS_TABLE,
        title="Carrier filtering (30007) by sender",
        columns=[
            Column("sender", "Sender", link_key="link"),
            Column("address", "Number"),
            Column("paused", "Paused"),
            Column("sent", "Sent", "count"),
            Column("failed", "Failed", "count"),
            Column("failure_rate", "Failure rate", "rate"),
            Column("filtered", "Filtered (30007)", "count"),
            Column("filtered_rate", "30007 rate", "rate"),
            Column("state", "State", "state"),
        ],
        rows=rows,
        totals=totals,
        note=f"Red over the team's pause rate ({settings.filtering_pause_rate:.0%}), amber "
        f"over half of it; a sender with fewer than {settings.filtering_min_sample} texts "
        "sent is not rated.",
    )


def _sender_row(
    label: str, address: str, paused: bool, found: dict, threshold: Threshold, sample: int
) -> dict:
    """One sender's figures; rated only on `sample` texts or more, as the auto-pause is."""
    filtered_rate = rate(found["filtered"], found["sent"])
    return {
        "sender": label,
        "address": address,
        "paused": "yes" if paused else "",
        "sent": found["sent"],
        "failed": found["failed"],
        "failure_rate": rate(found["failed"], found["sent"]),
        "filtered": found["filtered"],
        "filtered_rate": filtered_rate,
        "state": threshold.state(filtered_rate) if found["sent"] >= sample else "",
        "link": "/settings/sending",
    }


def _send_alert(senders: Table, sends: Sends) -> dict:
    totals = senders.totals or {}
    figure = totals.get("failure_rate")
    worst = sends.worst_batch()
    link = _path(f"/campaigns/batches/{worst}", filter="failed") if worst else "/campaigns/"
    shown = f"{_percent(figure)} of {totals['sent']:,} texts"
    return _alert(
        "Send failures", "sends", figure, totals["failed"], totals["sent"], shown, link, _percent
    )


# -- now ----------------------------------------------------------------------------


def _backlog_alert(session: Session, scope: ReportScope, now: datetime) -> dict:
    query = (
        select(Message.batch_id, func.count(Message.id), func.min(Message.due_at))
        .where(
            Message.team_id == scope.team_id,
            Message.status == "approved",
            Message.due_at <= now,
        )
        .group_by(Message.batch_id)
    )
    if scope.campaign_id:
        query = query.where(Message.campaign_id == scope.campaign_id)
    by_batch = session.execute(query).all()
    backlog = sum(count for _batch, count, _due in by_batch)
    oldest = min((due for _batch, _count, due in by_batch if due), default=None)
    biggest = max(((count, batch) for batch, count, _due in by_batch if batch), default=(0, None))[
        1
    ]
    link = f"/campaigns/batches/{biggest}" if biggest else _path("/campaigns/")
    shown = f"{backlog:,} texts due, not sent"
    if oldest is not None:
        shown += f"; the oldest due {_span(now - oldest)} ago"
    return _alert("Queue backlog", "backlog", backlog, backlog, None, shown, link, _whole)


def _response_alert(session: Session, scope: ReportScope, now: datetime) -> dict:
    hours = THRESHOLDS["response_hours"]
    since = waiting_since()
    query = select(
        func.count(InboxItem.id),
        func.count(InboxItem.id).filter(since < now - timedelta(hours=hours.red)),
        func.min(since),
    ).where(InboxItem.team_id == scope.team_id, InboxItem.state.in_(WAITING_STATES))
    waiting, late, oldest = session.execute(_inbox_filters(query, scope)).one()
    longest = (now - oldest).total_seconds() / 3600 if oldest is not None else None
    link = _path(
        "/inbox",
        waiting=int(hours.red),
        campaign=scope.campaign_id,
        persona=scope.persona,
    )
    shown = f"{late:,} of {waiting:,} owners waiting over {hours.red:g} h"
    if oldest is not None:
        shown += f"; the longest has waited {_span(now - oldest)}"
    row = _alert(
        "Human response over 4 h", "response_hours", longest, late, waiting, shown, link, _h
    )
    row["rate"] = rate(late, waiting)
    return row


def _whole(value: float) -> str:
    return f"{value:,.0f}"


def _h(value: float) -> str:
    return f"{value:g} h"


def _span(span: timedelta) -> str:
    """ "3 h 20 min", "12 min", "4 days"."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
