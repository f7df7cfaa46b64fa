"""One timeline of everything that happened to a lead, with who and when, in words.

Read from the tables that already hold each fact (source rows, merges, skip-trace calls,
line checks, texts, replies, drafts, consent, notes, the audit trail, tasks and deal
stages): nothing is written twice, nothing needs backfilling, and sending pays nothing
for it. Each source is asked for at most the events one page needs (one bounded query
each, newest first), the names of the people in them are read in one more query, and
the events are merged here.

The deal page reuses it: a source takes the lead, so a deal's timeline is its lead's
timeline narrowed to the kinds the deal page shows.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from console.models import (
    AuditEvent,
    Campaign,
    ConsentEvent,
    Deal,
    DealStageHistory,
    Draft,
    ImportJob,
    InboundMessage,
    InboxItem,
    Lead,
    LeadSource,
    LostReason,
    MergeHistory,
    Message,
    Note,
    Phone,
    PhoneCheck,
    PipelineStage,
    Sender,
    SkipTraceResult,
    SkipTraceRun,
    Suppression,
    Task,
    User,
)
from console.models.base import UTCDateTime
from console.providers.lookup import LINE_TYPE_LABELS
from console.services.lists.editing import DNC_SOURCE, FIELD_NAMES
from console.services.lists.resolve import RULES
from console.services.phones import display as phone_text
from console.services.replies.classify import LABEL_NAMES
from console.services.timezones import format_when

# The kinds of event, in the order the filter lists them.
KINDS: dict[str, str] = {
    "imports": "Imports",
    "tracing": "Tracing",
    "texts": "Texts",
    "replies": "Replies",
    "drafts": "Drafts",
    "consent": "Consent",
    "notes": "Notes",
    "edits": "Edits",
    "tasks": "Tasks",
    "deals": "Deals",
}
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
CSV_COLUMNS = ("at", "kind", "who", "what")
QUOTE_LENGTH = 120
CONSENT_WORDS = {
    "opt_out": "Opted out (STOP)",
    "opt_in": "Opted back in (START)",
    "help": "Asked for help (HELP)",
}
SUPPRESSION_WORDS = {"dnc": "do not contact", "wrong_number": "wrong number"}


@dataclass(frozen=True)
class Event:
    """One thing that happened: when (UTC), its kind, who did it ("" for the owner or
    the console) and what, in words."""

    at: datetime
    kind: str
    who: str
    what: str
    # Ties at the same moment keep a stable order: the source, then its row.
    order: tuple[int, int] = (0, 0)


@dataclass
class TimelinePage:
    """One page of a lead's timeline, newest first."""

    events: list[Event]
    page: int
    per_page: int
    has_more: bool
    kinds: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class _Raw:
    """An event before the names of its people are known."""

    at: datetime
    kind: str
    what: str | Callable[[dict[int, str]], str]
    who_id: int | None = None
    order: tuple[int, int] = (0, 0)
    # Other people the words name (an assignee), by user id.
    mentions: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Ask:
    """What every source is given: the lead, how many rows at most, the reader's zone."""

    session: Session
    lead: Lead
    limit: int
    zone: str

    def numbers(self) -> Select:
        """The SELECT of the lead's numbers (owner's and business's), for IN clauses."""
        lead = self.lead
        clauses = []
        if lead.owner_id is not None:
            clauses.append(Phone.owner_id == lead.owner_id)
        if lead.business_id is not None:
            clauses.append(Phone.business_id == lead.business_id)
        return select(Phone.e164).where(
            Phone.team_id == lead.team_id, or_(*clauses) if clauses else false()
        )


def quoted(text: str, length: int = QUOTE_LENGTH) -> str:
    """A text in curly quotes, cut at `length` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return f"“{text if len(text) <= length else text[: length - 1].rstrip() + '…'}”"


def _status(status: str) -> str:
    return (status or "—").replace("_", " ").capitalize()


# -- the sources ------------------------------------------------------------------------


def _imports(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.execute(
        select(LeadSource, ImportJob.created_by_id)
        .outerjoin(ImportJob, ImportJob.id == LeadSource.import_id)
        .where(LeadSource.team_id == ask.lead.team_id, LeadSource.lead_id == ask.lead.id)
        .order_by(LeadSource.at.desc(), LeadSource.id.desc())
        .limit(ask.limit)
    )
    for source, by_id in rows:
        where = f"row {source.row_number} of {source.filename or 'a list'}"
        rule = RULES[source.rule].label if source.rule in RULES else source.rule
        if source.action == "merged":
            what = f"Imported again: {where} merged in" + (f" ({rule})" if rule else "")
        elif source.action == "review":
            what = f"Imported from {where}; may duplicate another lead ({rule})"
        else:
            what = f"Imported from {where}"
        yield _Raw(source.at, "imports", what, by_id, (1, source.id))


def _merges(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.scalars(
        select(MergeHistory)
        .where(
            MergeHistory.team_id == ask.lead.team_id,
            MergeHistory.survivor_id == ask.lead.id,
            MergeHistory.merged_code != "",
        )
        .order_by(MergeHistory.at.desc(), MergeHistory.id.desc())
        .limit(ask.limit)
    )
    for merge in rows:
        rule = RULES[merge.rule].label if merge.rule in RULES else merge.rule
        what = f"Merged with {merge.merged_code} ({rule}, confidence {merge.score})"
        details = merge.details or {}
        added = [*details.get("phones_added", []), *details.get("emails_added", [])]
        if added:
            what += f"; added {', '.join(phone_text(a) if a.startswith('+') else a for a in added)}"
        yield _Raw(merge.at, "edits", what, merge.actor_id, (2, merge.id))


def _trace_results(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.execute(
        select(SkipTraceResult, SkipTraceRun.started_by_id)
        .join(SkipTraceRun, SkipTraceRun.id == SkipTraceResult.run_id)
        .where(
            SkipTraceResult.team_id == ask.lead.team_id,
            SkipTraceResult.lead_id == ask.lead.id,
            SkipTraceResult.outcome != "pending",
        )
        .order_by(SkipTraceResult.created_at.desc(), SkipTraceResult.id.desc())
        .limit(ask.limit)
    )
    for result, by_id in rows:
        yield _Raw(result.created_at, "tracing", _trace_words(result), by_id, (3, result.id))


def _trace_words(result: SkipTraceResult) -> str:
    found = result.candidate or {}
    head = f"Traced with {result.provider_name}" + (" (sandbox)" if result.sandbox else "")
    if result.outcome in ("hit", "partial"):
        parts = []
        if found.get("owner_name"):
            parts.append(found["owner_name"])
        for key, noun in (("phones", "phone"), ("emails", "email")):
            count = len(found.get(key) or [])
            if count:
                parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
        what = f"{head}: found {', '.join(parts) or 'the owner'}"
        return what + (" · applied" if result.applied else "")
    if result.outcome == "miss":
        return f"{head}: no match"
    if result.outcome == "lost":
        return f"{head}: the call was lost"
    return f"{head}: error" + (f", {result.error}" if result.error else "")


def _line_checks(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.scalars(
        select(PhoneCheck)
        .where(PhoneCheck.team_id == ask.lead.team_id, PhoneCheck.e164.in_(ask.numbers()))
        .order_by(PhoneCheck.checked_at.desc(), PhoneCheck.id.desc())
        .limit(ask.limit)
    )
    for check in rows:
        kind = LINE_TYPE_LABELS.get(check.line_type, check.line_type) or "unknown line"
        if not check.valid:
            words = "not a valid number"
        else:
            words = f"{kind.lower()}, {'textable' if check.textable else 'not textable'}"
            words += f" ({check.carrier})" if check.carrier else ""
        what = f"Line check of {phone_text(check.e164)}: {words}"
        yield _Raw(check.checked_at, "tracing", what, None, (4, check.id))


def _texts(ask: _Ask) -> Iterator[_Raw]:
    at = func.coalesce(
        Message.sent_at, Message.approved_at, Message.created_at, type_=UTCDateTime()
    )
    rows = ask.session.execute(
        select(Message, Sender.address, Campaign.name)
        .outerjoin(Sender, Sender.id == Message.sender_id)
        .outerjoin(Campaign, Campaign.id == Message.campaign_id)
        .where(
            Message.team_id == ask.lead.team_id,
            Message.lead_id == ask.lead.id,
            Message.status.not_in(("draft", "skipped")),
        )
        .order_by(at.desc(), Message.id.desc())
        .limit(ask.limit)
    )
    for message, sender_address, campaign_name in rows:
        when = message.sent_at or message.approved_at or message.created_at
        what = _text_words(message, sender_address or "", campaign_name or "")
        yield _Raw(when, "texts", what, message.approved_by_id, (5, message.id))


def _text_words(message: Message, sender_address: str, campaign: str) -> str:
    origin = message.from_address or sender_address
    origin = phone_text(origin) if origin.startswith("+") else origin
    noun = {"reply": "Reply", "farewell": "Apology", "confirmation": "Confirmation"}.get(
        message.kind, "Text"
    )
    body = quoted(message.body)
    if message.status in ("approved", "sending"):
        head = f"{noun} queued to {phone_text(message.to_e164)}: {body}"
        return head + (f" · waiting: {message.hold_reason}" if message.hold_reason else "")
    if message.status == "blocked":
        return f"{noun} not sent to {phone_text(message.to_e164)}: {body} · blocked: " + (
            message.blocked_reason or "by the sending rules"
        )
    if message.status == "cancelled":
        return f"{noun} cancelled before it went: {body}"
    what = f"{noun} sent" + (f" from {origin}" if origin else "") + f": {body} · {message.status}"
    if message.status == "failed" and message.error_message:
        what += f" ({message.error_message})"
    if campaign:
        what += f" · campaign {campaign}"
    return what


def _replies(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.execute(
        select(InboundMessage, InboxItem.label)
        .outerjoin(InboxItem, InboxItem.inbound_id == InboundMessage.id)
        .where(
            InboundMessage.team_id == ask.lead.team_id,
            InboundMessage.lead_id == ask.lead.id,
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(ask.limit)
    )
    for inbound, label in rows:
        what = f"Reply from {phone_text(inbound.from_e164)}: {quoted(inbound.body)}"
        if label:
            what += f" · read as {LABEL_NAMES.get(label, label)}"
        yield _Raw(inbound.received_at, "replies", what, None, (6, inbound.id))


def _drafts(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.scalars(
        select(Draft)
        .join(InboxItem, InboxItem.id == Draft.item_id)
        .where(
            Draft.team_id == ask.lead.team_id,
            InboxItem.lead_id == ask.lead.id,
            Draft.state == "sent",
        )
        .order_by(Draft.decided_at.desc(), Draft.id.desc())
        .limit(ask.limit)
    )
    for draft in rows:
        if draft.source == "person":
            what = f"Reply written by hand and sent: {quoted(draft.sent_body)}"
        else:
            writer = draft.persona or ("the AI" if draft.source == "ai" else "a template")
            how = "as edited" if draft.edited else "as drafted"
            what = f"Draft by {writer} sent {how}: {quoted(draft.sent_body)}"
        yield _Raw(
            draft.decided_at or draft.created_at, "drafts", what, draft.decided_by_id, (7, draft.id)
        )


def _consent(ask: _Ask) -> Iterator[_Raw]:
    lead = ask.lead
    rows = ask.session.execute(
        select(ConsentEvent, Suppression.created_by_id)
        .outerjoin(
            Suppression,
            (Suppression.team_id == ConsentEvent.team_id) & (Suppression.e164 == ConsentEvent.e164),
        )
        .where(
            ConsentEvent.team_id == lead.team_id,
            or_(ConsentEvent.lead_id == lead.id, ConsentEvent.e164.in_(ask.numbers())),
        )
        .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        .limit(ask.limit)
    )
    for event, suppressed_by in rows:
        number = phone_text(event.e164)
        if event.kind == "do_not_contact":
            what = f"Do-not-contact {number}: {event.detail or 'no reason given'}"
            by = suppressed_by
        else:
            what = f"{CONSENT_WORDS.get(event.kind, event.kind)} from {number}"
            what += f" · {event.source}" if event.source else ""
            by = None
        yield _Raw(event.at, "consent", what, by, (8, event.id))


def _suppressions(ask: _Ask) -> Iterator[_Raw]:
    """Numbers put on the do-not-text list without a consent event of their own (an
    opt-out and the lead page's do-not-contact each write one, shown by `_consent`)."""
    rows = ask.session.scalars(
        select(Suppression)
        .where(
            Suppression.team_id == ask.lead.team_id,
            Suppression.e164.in_(ask.numbers()),
            Suppression.reason.not_like("opt%"),
            Suppression.source != DNC_SOURCE,
        )
        .order_by(Suppression.created_at.desc(), Suppression.id.desc())
        .limit(ask.limit)
    )
    for row in rows:
        reason = SUPPRESSION_WORDS.get(row.reason, row.reason.replace("_", " "))
        what = f"Suppressed {phone_text(row.e164)}: {reason}"
        what += f" · {row.source}" if row.source else ""
        yield _Raw(row.created_at, "consent", what, row.created_by_id, (9, row.id))


def _notes(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.scalars(
        select(Note)
        .where(Note.team_id == ask.lead.team_id, Note.lead_id == ask.lead.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(ask.limit)
    )
    for note in rows:
        yield _Raw(note.created_at, "notes", f"Note: {note.body}", note.author_id, (10, note.id))


def _audit(ask: _Ask) -> Iterator[_Raw]:
    rows = ask.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.team_id == ask.lead.team_id,
            AuditEvent.entity_type == Lead.__tablename__,
            AuditEvent.entity_id == ask.lead.id,
            # merge_history is the home of merges (with what each added).
            AuditEvent.action != "lead.merged",
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(ask.limit)
    )
    for event in rows:
        assignee = (event.after or {}).get("assignee_id")
        yield _Raw(
            event.at,
            "edits",
            _audit_words(event),
            event.actor_id,
            (11, event.id),
            (assignee,) if isinstance(assignee, int) else (),
        )


def _audit_words(event: AuditEvent) -> str | Callable[[dict[int, str]], str]:
    before, after = event.before or {}, event.after or {}
    action = event.action
    if action == "lead.edited":
        changes = [
            f"{FIELD_NAMES.get(key, key)}: {before.get(key) or '—'} → {after.get(key) or '—'}"
            for key in after
        ]
        return "Edited " + "; ".join(changes)
    if action == "lead.tagged":
        return f"Tagged {after.get('tag', '')}"
    if action == "lead.untagged":
        return f"Untagged {before.get('tag', '')}"
    if action == "lead.status":
        what = f"Status: {_status(before.get('status', ''))} → {_status(after.get('status', ''))}"
        return what + (f" ({after['reason']})" if after.get("reason") else "")
    if action == "lead.assigned":
        assignee = after.get("assignee_id")
        if assignee is None:
            return "Unassigned"
        return lambda names: f"Assigned to {names.get(assignee, 'a former teammate')}"
    if action == "lead.campaign_added":
        return f"Added to campaign {after.get('campaign', '')}"
    if action == "lead.email_from_reply":
        return f"Email {after.get('email', '')} saved from the owner's reply"
    if action == "lead.phone_from_reply":
        return f"Phone {phone_text(after.get('phone', ''))} saved from the owner's reply"
    return action.replace("lead.", "").replace("_", " ").capitalize()


def _tasks(ask: _Ask) -> Iterator[_Raw]:
    latest = func.coalesce(Task.done_at, Task.created_at, type_=UTCDateTime())
    rows = ask.session.scalars(
        select(Task)
        .where(Task.team_id == ask.lead.team_id, Task.lead_id == ask.lead.id)
        .order_by(latest.desc(), Task.id.desc())
        .limit(ask.limit)
    )
    for task in rows:
        due = format_when(task.due_at, task.zone or ask.zone)
        if task.kind == "callback":
            booked = f"Callback booked for {due}"
            done = "Callback done"
        else:
            booked = f"Task “{task.title}” due {due}"
            done = f"Task done: {task.title}"
        if task.note:
            booked += f" · {task.note}"
        yield _Raw(task.created_at, "tasks", booked, task.created_by_id, (12, task.id * 2))
        if task.state == "done" and task.done_at is not None:
            yield _Raw(task.done_at, "tasks", done, task.done_by_id, (12, task.id * 2 + 1))


def _deals(ask: _Ask) -> Iterator[_Raw]:
    entered, left = aliased(PipelineStage), aliased(PipelineStage)
    rows = ask.session.execute(
        select(
            DealStageHistory,
            Deal.value,
            Deal.stage_id,
            LostReason.name,
            entered.outcome,
            left.outcome,
        )
        .join(Deal, Deal.id == DealStageHistory.deal_id)
        .outerjoin(LostReason, LostReason.id == Deal.lost_reason_id)
        .outerjoin(entered, entered.id == DealStageHistory.to_stage_id)
        .outerjoin(left, left.id == DealStageHistory.from_stage_id)
        .where(Deal.team_id == ask.lead.team_id, Deal.lead_id == ask.lead.id)
        .order_by(DealStageHistory.at.desc(), DealStageHistory.id.desc())
        .limit(ask.limit)
    )
    seen: set[int] = set()
    for move, value, stage_id, reason, outcome, left_outcome in rows:
        # Newest first: a deal's first row here is its latest move, the one whose
        # outcome (value, lost reason) the deal still holds.
        latest = move.deal_id not in seen and move.to_stage_id == stage_id
        seen.add(move.deal_id)
        what = _move_words(move, outcome, left_outcome, value, reason, latest)
        what += f" · {move.note}" if move.note else ""
        yield _Raw(move.at, "deals", what, move.by_id, (13, move.id))


def _move_words(
    move: DealStageHistory,
    outcome: str | None,
    left_outcome: str | None,
    value,
    reason: str | None,
    latest: bool,
) -> str:
    """A stage move in words: opened, won (at its value), lost (for its reason),
    reopened or moved."""
    if not move.from_stage:
        opened = f"Deal opened in {move.to_stage}"
        return opened + (f", valued ${value:,.0f}" if value is not None else "")
    if outcome == "won":
        return "Deal won" + (f" at ${value:,.0f}" if latest and value is not None else "")
    if outcome == "lost":
        return "Deal lost" + (f": {reason}" if latest and reason else "")
    if outcome == "open" and left_outcome in ("won", "lost"):
        return f"Deal reopened in {move.to_stage}"
    return f"Deal moved {move.from_stage} → {move.to_stage}"


# Each source, and the kinds it gives.
SOURCES: tuple[tuple[Callable[[_Ask], Iterable[_Raw]], str], ...] = (
    (_imports, "imports"),
    (_merges, "edits"),
    (_trace_results, "tracing"),
    (_line_checks, "tracing"),
    (_texts, "texts"),
    (_replies, "replies"),
    (_drafts, "drafts"),
    (_consent, "consent"),
    (_suppressions, "consent"),
    (_notes, "notes"),
    (_audit, "edits"),
    (_tasks, "tasks"),
    (_deals, "deals"),
)


# -- reading it ---------------------------------------------------------------------------


def clean_kinds(values: Iterable[str] | None) -> tuple[str, ...]:
    """The known kinds among `values`, in KINDS order; empty means every kind."""
    wanted = set(values or ())
    return tuple(kind for kind in KINDS if kind in wanted)


def _events(
    session: Session, lead: Lead, kinds: tuple[str, ...], limit: int, zone: str
) -> list[Event]:
    """The newest `limit` events of the lead among `kinds` (all when empty), newest first."""
    ask = _Ask(session, lead, limit, zone)
    raws: list[_Raw] = []
    for source, kind in SOURCES:
        if not kinds or kind in kinds:
            raws += source(ask)
    newest = heapq.nlargest(limit, raws, key=lambda r: (r.at, r.order))
    names = _names(session, lead.team_id, newest)
    return [
        Event(
            at=raw.at,
            kind=raw.kind,
            who=names.get(raw.who_id, "") if raw.who_id is not None else "",
            what=raw.what(names) if callable(raw.what) else raw.what,
            order=raw.order,
        )
        for raw in newest
    ]


def _names(session: Session, team_id: int, raws: list[_Raw]) -> dict[int, str]:
    """The names of the people the events mention (actors, assignees), in one query."""
    ids = {raw.who_id for raw in raws if raw.who_id is not None}
    ids |= {user_id for raw in raws for user_id in raw.mentions}
    if not ids:
        return {}
    return {
        user_id: name or email
        for user_id, name, email in session.execute(
            select(User.id, User.name, User.email).where(User.team_id == team_id, User.id.in_(ids))
        )
    }


def for_lead(
    session: Session,
    lead: Lead,
    *,
    kinds: Iterable[str] | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    zone: str = "UTC",
) -> TimelinePage:
    """Page `page` of the lead's timeline, newest first, narrowed to `kinds`.

    `zone` is the reader's, for times written inside the words (a task's due time is
    written in the zone it was booked in).
    """
    chosen = clean_kinds(kinds)
    page = max(1, page)
    offset = (page - 1) * per_page
    events = _events(session, lead, chosen, offset + per_page + 1, zone)
    return TimelinePage(
        events=events[offset : offset + per_page],
        page=page,
        per_page=per_page,
        has_more=len(events) > offset + per_page,
        kinds=chosen,
    )


def export_rows(
    session: Session, lead: Lead, *, kinds: Iterable[str] | None = None, zone: str = "UTC"
) -> list[list[str]]:
    """The lead's timeline as CSV rows in CSV_COLUMNS order (ISO UTC times), newest first."""
    return [
        [event.at.isoformat(timespec="seconds"), event.kind, event.who, event.what]
        for event in _events(session, lead, clean_kinds(kinds), EXPORT_LIMIT, zone)
    ]
