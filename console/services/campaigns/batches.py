"""Batches: up to 2,000 drafted texts rendered from a campaign's template, reviewed by a
person (edit, swap variant, skip, restore), approved, then watched while they send."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, joinedload, selectinload

from console.models import (
    Batch,
    Campaign,
    Enrollment,
    Lead,
    Message,
    MessageTemplate,
    Role,
    Sender,
    Team,
    User,
)
from console.models.base import utcnow
from console.services.campaigns import campaigns as campaign_rules
from console.services.campaigns import segments, templates, tokens
from console.services.paging import Paged
from console.services.sending import sequences
from console.services.sending.compliance import Gate, Recipient
from console.services.sending.policy import SendingSettings, conversation_senders
from console.services.tenancy import scoped

PAGE_SIZE = 50
# Message filters on the queue page.
FILTERS: dict[str, str] = {
    "": "All",
    "flagged": "Flagged",
    "edited": "Edited",
    "skipped": "Skipped",
    "held": "Held",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Failed",
    "blocked": "Blocked",
}
# Flag levels: "block" means the gate will refuse it, "hold" that it would wait now.
FLAG_LEVELS = ("block", "hold", "note")
FLAG_TEXT: dict[str, str] = {
    "line_unchecked": "Line type not checked",
    "voip": "VoIP number: may not be the owner's phone",
    "ucs2": "Unicode (UCS-2): fewer characters a segment",
    "long": "Three or more segments",
}
DRAFTABLE = ("draft", "skipped")


class NotAllowed(Exception):
    """The user may not do this to this batch (a manager must approve, it is sending...)."""


@dataclass
class Draft:
    """One text as rendered for review."""

    body: str
    spans: list
    segments: int
    encoding: str
    flags: list


def split_variants(split: dict, letters: list[str], count: int) -> list[str]:
    """Deal variants out by weight, evenly spread (smooth weighted round robin)."""
    weights = {k: float(v) for k, v in (split or {}).items() if k in letters and float(v) > 0}
    if not weights:
        return ["A"] * count
    total = sum(weights.values())
    current = dict.fromkeys(weights, 0.0)
    out = []
    for _ in range(count):
        for k in current:
            current[k] += weights[k]
        pick = max(current, key=lambda k: current[k])
        current[pick] -= total
        out.append(pick)
    return out


def draft_text(
    body: str,
    lead: Lead | None,
    sender_name: str,
    price: Decimal,
) -> tuple[Draft, Decimal]:
    """Render `body` for a lead and measure it; content flags only."""
    rendered = tokens.render(body, tokens.lead_values(lead, sender_name) if lead else {})
    measure = segments.measure(rendered.text)
    flags = [
        ["fallback", f"Fallback used for {tokens.TOKENS.get(name, name).lower()}", "note"]
        for name in rendered.fallbacks_used
    ]
    flags += [
        ["missing", f"No {tokens.TOKENS.get(name, name).lower()}: left blank", "note"]
        for name in rendered.missing
    ]
    flags += content_flags(measure)
    draft = Draft(rendered.text, rendered.spans, measure.segments, measure.encoding, flags)
    return draft, price * measure.segments


def content_flags(measure: segments.Measure) -> list[list]:
    """Flags about the text itself: encoding and length."""
    flags = []
    if measure.encoding != "GSM-7":
        flags.append(["ucs2", FLAG_TEXT["ucs2"], "note"])
    if measure.segments >= 3:
        flags.append(["long", f"{measure.segments} segments", "note"])
    return flags


def compliance_flags(gate: Gate, recipient: Recipient, line_type: str, when: datetime) -> list:
    """Flags from the gate as things stand now (they are checked again when sending)."""
    flags = []
    decision = gate.decide(recipient, None, when)
    if not decision.allowed:
        level = "block" if decision.blocked else "hold"
        flags.append([decision.code, decision.reason, level])
    if not line_type:
        flags.append(["line_unchecked", FLAG_TEXT["line_unchecked"], "note"])
    elif line_type in ("fixedVoip", "nonFixedVoip", "voip"):
        flags.append(["voip", FLAG_TEXT["voip"], "note"])
    return flags


def create_batch(session: Session, campaign: Campaign, user: User | None, touch: int = 0) -> Batch:
    """A new, empty batch waiting for its generation job; the caller commits."""
    batch = Batch(
        team_id=campaign.team_id,
        campaign_id=campaign.id,
        touch=touch,
        status="generating",
        created_by_id=user.id if user else None,
    )
    session.add(batch)
    session.flush()
    return batch


def generate(
    session: Session,
    batch_id: int,
    on_progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> Batch:
    """Render every text of a batch: the campaign's next leads for a first touch, the
    due enrollments for a follow-up. Ends in review (or approved, for a follow-up of a
    team that auto-approves)."""
    now = now or utcnow()
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status != "generating":
        raise ValueError(f"Batch {batch_id} is not waiting to be generated.")
    campaign = batch.campaign
    team = session.get(Team, batch.team_id)
    settings = SendingSettings.of(team)
    if batch.touch == 0:
        rows = _first_touch_rows(session, batch, campaign, now)
    else:
        rows = _follow_up_rows(session, batch, campaign, now)
    template = _touch_template(session, campaign, batch.touch)
    if template is None:
        raise ValueError("The campaign has no template for this touch.")
    bodies = template.bodies
    leads = _load_leads(session, [r["lead_id"] for r in rows])
    gate = Gate(session, batch.team_id, settings)
    gate.prefetch([r["e164"] for r in rows])
    signers = _signers(session, batch)
    messages = []
    for done, row in enumerate(rows, start=1):
        lead = leads.get(row["lead_id"])
        variant = row["variant"] if row["variant"] in bodies else "A"
        draft, cost = draft_text(bodies[variant], lead, signers(row["sender_id"]), settings.price)
        recipient = Recipient(
            row["e164"],
            lead.business.state if lead and lead.business else "",
            lead.business.zip if lead and lead.business else "",
            lead.status if lead else "",
        )
        flags = compliance_flags(gate, recipient, row["line_type"], now) + draft.flags
        messages.append(
            {
                "team_id": batch.team_id,
                "batch_id": batch.id,
                "campaign_id": campaign.id,
                "enrollment_id": row["enrollment_id"],
                "lead_id": row["lead_id"],
                "template_id": template.id,
                "sender_id": row["sender_id"],
                "touch": batch.touch,
                "variant": variant,
                "to_e164": row["e164"],
                "to_state": recipient.state,
                "to_zip": recipient.zip_code,
                "body": draft.body,
                "rendered_body": draft.body,
                "token_spans": draft.spans,
                "segments": draft.segments,
                "encoding": draft.encoding,
                "cost_estimate": cost,
                "flags": flags,
                "status": "draft",
                "created_at": now,
            }
        )
        if on_progress and (done % 200 == 0 or done == len(rows)):
            on_progress(done, len(rows))
    if messages:
        session.execute(insert(Message), messages)
    batch.size = len(messages)
    batch.status = "in_review"
    if campaign.status == "draft":
        campaign.status = "active"
    session.flush()
    if batch.touch and settings.auto_approve_followups and messages:
        approve(session, batch, None, auto=True, now=now)
    session.commit()
    return batch


def _signers(session: Session, batch: Batch) -> Callable[[int | None], str]:
    """{senderName} for a batch's texts by sender id: the sender's signing name, else the
    name of the user who drafted the batch (who reviews and approves it)."""
    user = session.get(User, batch.created_by_id) if batch.created_by_id else None
    senders = {
        s.id: s for s in session.scalars(select(Sender).where(Sender.team_id == batch.team_id))
    }
    names: dict[int | None, str] = {}

    def signer(sender_id: int | None) -> str:
        if sender_id not in names:
            names[sender_id] = templates.signing_name(senders.get(sender_id), user)
        return names[sender_id]

    return signer


def draft(
    session: Session, batch_id: int, on_progress: Callable[[int, int], None] | None = None
) -> Batch:
    """`generate`, or, when drafting fails, the batch cancelled and the error raised on
    (the job and `flask campaign draft` both draft this way)."""
    try:
        return generate(session, batch_id, on_progress=on_progress)
    except Exception:
        session.rollback()
        mark_generation_failed(session, batch_id)
        raise


def mark_generation_failed(session: Session, batch_id: int) -> None:
    """A batch whose drafting failed ends cancelled (its leads are free for the next)."""
    batch = session.get(Batch, batch_id)
    if batch is not None and batch.status == "generating":
        batch.status = "cancelled"
        batch.finished_at = utcnow()
        _log(batch, "drafting failed", None, utcnow())
        session.commit()


def _touch_template(session: Session, campaign: Campaign, touch: int) -> MessageTemplate | None:
    if touch == 0:
        return campaign.template
    plan = sequences.touch_plan(campaign, touch)
    if plan is None:
        return None
    return session.get(MessageTemplate, int(plan.get("template_id") or 0))


def _load_leads(session: Session, lead_ids: list[int]) -> dict[int, Lead]:
    leads: dict[int, Lead] = {}
    for start in range(0, len(lead_ids), 500):
        chunk = lead_ids[start : start + 500]
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(chunk))
            .options(joinedload(Lead.owner), joinedload(Lead.business))
        ):
            leads[lead.id] = lead
    return leads


def _first_touch_rows(session: Session, batch: Batch, campaign: Campaign, now) -> list[dict]:
    """Pick the campaign's next leads and enroll them, keeping one sender per number."""
    criteria = campaign_rules.Criteria.from_dict(campaign.criteria)
    found = campaign_rules.audience(
        session,
        batch.team_id,
        criteria,
        recent_days=campaign.recent_contact_days,
        campaign_id=campaign.id,
        now=now,
    )
    size = max(1, min(campaign.batch_size or campaign_rules.MAX_BATCH, campaign_rules.MAX_BATCH))
    chosen = found.eligible[:size]
    batch.excluded = {k: v for k, v in found.excluded.items() if v}
    batch.excluded["eligible"] = len(found.eligible)
    batch.excluded["matched"] = found.matched
    known = conversation_senders(session, batch.team_id, [c.e164 for c in chosen])
    usable = {s.id for s in session.scalars(select(Sender).where(Sender.team_id == batch.team_id))}
    variants = split_variants(
        campaign.split, list(campaign.template.bodies) if campaign.template else ["A"], len(chosen)
    )
    rows = [
        {
            "team_id": batch.team_id,
            "campaign_id": campaign.id,
            "lead_id": c.lead_id,
            "e164": c.e164,
            "sender_id": known.get(c.e164) if known.get(c.e164) in usable else campaign.sender_id,
            "variant": variants[i],
            "status": "active",
            "created_at": now,
        }
        for i, c in enumerate(chosen)
    ]
    if not rows:
        return []
    ids = {
        lead_id: enrollment_id
        for enrollment_id, lead_id in session.execute(
            insert(Enrollment).returning(Enrollment.id, Enrollment.lead_id), rows
        )
    }
    line_types = {c.lead_id: c.line_type for c in chosen}
    return [
        {
            "enrollment_id": ids[r["lead_id"]],
            "lead_id": r["lead_id"],
            "e164": r["e164"],
            "sender_id": r["sender_id"],
            "variant": r["variant"],
            "line_type": line_types[r["lead_id"]],
        }
        for r in rows
    ]


def _follow_up_rows(session: Session, batch: Batch, campaign: Campaign, now) -> list[dict]:
    """The campaign's enrollments whose touch number `batch.touch` is due."""
    due = sequences.due_enrollments(session, now).get((campaign.id, batch.touch), [])
    return [
        {
            "enrollment_id": e.id,
            "lead_id": e.lead_id,
            "e164": e.e164,
            "sender_id": e.sender_id,
            "variant": e.variant,
            "line_type": "mobile",
        }
        for e in due[: campaign_rules.MAX_BATCH]
    ]


# Review -------------------------------------------------------------------------------


@dataclass
class MessagePage(Paged):
    """One page of a batch's queue."""

    rows: list[Message]
    total: int
    page: int
    filter: str = ""
    per_page: int = PAGE_SIZE


def filtered_messages(batch: Batch, filter_name: str = "", now: datetime | None = None):
    """SELECT of a batch's messages narrowed by a queue filter."""
    query = scoped(Message, batch.team_id).where(Message.batch_id == batch.id)
    if filter_name == "flagged":
        query = query.where(func.json_array_length(Message.flags) > 0)
    elif filter_name == "edited":
        query = query.where(Message.edited.is_(True))
    elif filter_name == "held":
        query = query.where(Message.status == "approved", Message.hold_reason != "")
    elif filter_name in ("skipped", "sent", "delivered", "failed", "blocked"):
        query = query.where(Message.status == filter_name)
    return query


def message_page(session: Session, batch: Batch, filter_name: str, page: int) -> MessagePage:
    """A page of 50 of the batch's messages, with their leads."""
    filter_name = filter_name if filter_name in FILTERS else ""
    query = filtered_messages(batch, filter_name)
    total = session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = list(
        session.scalars(
            query.options(
                selectinload(Message.lead).options(
                    joinedload(Lead.business), joinedload(Lead.owner)
                ),
                selectinload(Message.template),
            )
            .order_by(Message.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return MessagePage(rows, total, page, filter_name)


def editable(message: Message) -> bool:
    """Whether a person may still change this message (it has not been approved)."""
    return message.status in DRAFTABLE and message.batch.status in ("in_review", "sending")


def edit_message(session: Session, message: Message, body: str, user: User) -> Message:
    """Replace a draft's text with a person's; the rendered text is kept beside it."""
    if not editable(message):
        raise NotAllowed("Only a draft that has not been approved can be edited.")
    body = body.strip()
    if not body:
        raise ValueError("The text can't be empty.")
    measure = segments.measure(body)
    if measure.too_long:
        raise ValueError(f"The text is {measure.characters:,} characters; 1,600 is the most.")
    settings = SendingSettings.of(session.get(Team, message.team_id))
    if message.touch == 0 and not tokens.has_opt_out(body, settings.opt_out_wording):
        wording = settings.opt_out_wording or tokens.OPT_OUT_DEFAULT
        raise ValueError(f"A first text must keep its opt-out wording (\u201c{wording}\u201d).")
    message.body = body
    message.edited = body != message.rendered_body
    message.edited_by_id = user.id
    message.token_spans = [] if message.edited else message.token_spans
    message.segments = measure.segments
    message.encoding = measure.encoding
    message.cost_estimate = settings.price * measure.segments
    kept = [f for f in message.flags or [] if f[0] not in ("ucs2", "long", "fallback", "missing")]
    message.flags = kept + content_flags(measure)
    return message


def swap_variant(session: Session, message: Message, letter: str) -> Message:
    """Render a draft again from another variant of its template."""
    if not editable(message):
        raise NotAllowed("Only a draft that has not been approved can change variant.")
    template = message.template
    bodies = template.bodies if template else {}
    if letter not in bodies:
        raise ValueError(f"The template has no variant {letter}.")
    settings = SendingSettings.of(session.get(Team, message.team_id))
    signer = _signers(session, message.batch)(message.sender_id)
    draft, cost = draft_text(bodies[letter], message.lead, signer, settings.price)
    compliance = [
        f for f in message.flags or [] if f[2] != "note" or f[0] in ("line_unchecked", "voip")
    ]
    message.variant = letter
    message.body = message.rendered_body = draft.body
    message.token_spans = draft.spans
    message.edited = False
    message.segments, message.encoding, message.cost_estimate = (
        draft.segments,
        draft.encoding,
        cost,
    )
    message.flags = compliance + draft.flags
    return message


def set_skipped(message: Message, skipped: bool) -> Message:
    """Skip a draft (it will not be sent) or restore it to the queue."""
    if message.status not in DRAFTABLE or message.batch.status not in ("in_review", "sending"):
        raise NotAllowed("Only drafts not yet approved can be skipped or restored.")
    message.status = "skipped" if skipped else "draft"
    return message


def needs_manager(session: Session, batch: Batch) -> bool:
    """Whether the batch is over the team's size for an operator's approval."""
    settings = SendingSettings.of(session.get(Team, batch.team_id))
    return batch.size > settings.manager_approval_over


def awaiting_manager(session: Session, team_id: int) -> list[Batch]:
    """The team's batches in review that are over its size for an operator: they wait
    for a manager's approval. Oldest first."""
    limit = SendingSettings.of(session.get(Team, team_id)).manager_approval_over
    return list(
        session.scalars(
            select(Batch)
            .where(Batch.team_id == team_id, Batch.status == "in_review", Batch.size > limit)
            .order_by(Batch.id)
        )
    )


def check_approver(
    session: Session, batch: Batch, user: User | None, *, auto: bool = False
) -> None:
    """Raise NotAllowed unless `user` (or the team's auto-approval) may approve the batch
    now: its state, its campaign's and, over the team's size, a manager's role."""
    if batch.status not in ("in_review", "sending", "paused", "approved"):
        raise NotAllowed("This batch can't be approved now.")
    if batch.campaign.status not in ("draft", "active"):
        raise NotAllowed(f"The campaign is {batch.campaign.status}; resume it to approve texts.")
    if not auto and (
        user is None or (needs_manager(session, batch) and not user.can(Role.MANAGER))
    ):
        limit = SendingSettings.of(session.get(Team, batch.team_id)).manager_approval_over
        raise NotAllowed(f"Batches over {limit:,} texts need a manager's approval.")


def approve(
    session: Session,
    batch: Batch,
    user: User | None,
    message_ids: list[int] | None = None,
    *,
    auto: bool = False,
    now: datetime | None = None,
) -> int:
    """Approve the batch's drafts (all, or those listed): they are scheduled to send.

    Approval records who and when on the batch and each message. Batches over the
    team's size need a manager unless the team's auto-approval did it. Returns how many.
    """
    now = now or utcnow()
    check_approver(session, batch, user, auto=auto)
    start = batch.campaign.start_at
    due = start if start and start > now else now
    query = (
        update(Message)
        .where(Message.batch_id == batch.id, Message.status == "draft")
        .values(
            status="approved",
            approved_by_id=user.id if user else None,
            approved_at=now,
            due_at=due,
        )
        .execution_options(synchronize_session=False)
    )
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    count = session.execute(query).rowcount or 0
    if count:
        if batch.approved_at is None:
            batch.approved_at = now
            batch.approved_by_id = user.id if user else None
        _log(batch, "approved (auto)" if auto else "approved", user, now, count)
        if batch.status == "in_review" and not drafts_waiting(session, batch):
            batch.status = "approved"
    session.flush()
    session.expire_all()
    return count


def drafts_waiting(session: Session, batch: Batch) -> int:
    """How many of the batch's texts wait for approval (drafts)."""
    return (
        session.scalar(
            select(func.count(Message.id)).where(
                Message.batch_id == batch.id, Message.status == "draft"
            )
        )
        or 0
    )


def _log(batch: Batch, action: str, user: User | None, now: datetime, count: int | None = None):
    entry = {"action": action, "by": user.email if user else "system", "at": now.isoformat()}
    if count is not None:
        entry["count"] = count
    batch.history = [*(batch.history or []), entry]


def pause(batch: Batch, user: User) -> None:
    """Stop sending until resumed; texts already with Twilio are not recalled."""
    if batch.status not in ("approved", "sending", "in_review"):
        raise NotAllowed("Only a batch that is sending or waiting to send can be paused.")
    batch.status = "paused"
    _log(batch, "paused", user, utcnow())


def resume(batch: Batch, user: User) -> None:
    """Let a paused batch send again."""
    if batch.status != "paused":
        raise NotAllowed("The batch is not paused.")
    batch.status = "sending"
    _log(batch, "resumed", user, utcnow())


def cancel(session: Session, batch: Batch, user: User) -> int:
    """Cancel every text of the batch that has not gone; returns how many."""
    if batch.status in ("done", "cancelled", "generating"):
        raise NotAllowed("This batch can't be cancelled now.")
    unsent = select(Message.enrollment_id).where(
        Message.batch_id == batch.id,
        Message.status.in_(("draft", "approved")),
        Message.enrollment_id.is_not(None),
    )
    enrollment_ids = list(session.scalars(unsent))
    count = (
        session.execute(
            update(Message)
            .where(Message.batch_id == batch.id, Message.status.in_(("draft", "approved")))
            .values(status="cancelled", blocked_reason="Batch cancelled")
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    _release_enrollments(session, batch, enrollment_ids)
    batch.status = "cancelled"
    batch.finished_at = utcnow()
    _log(batch, "cancelled", user, utcnow(), count)
    session.flush()
    session.expire_all()
    return count


def _release_enrollments(session: Session, batch: Batch, ids: list[int]) -> None:
    """Leads whose text a cancelled batch never sent: a first touch frees them for the
    next batch (or another campaign); a follow-up ends their sequence."""
    if not ids:
        return
    if batch.touch == 0:
        session.execute(
            delete(Enrollment)
            .where(Enrollment.id.in_(ids), Enrollment.touches_sent == 0)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(ids), Enrollment.status == "active")
            .values(
                status="stopped",
                stopped_reason="Follow-up batch cancelled",
                stopped_at=utcnow(),
                next_due_at=None,
            )
            .execution_options(synchronize_session=False)
        )


def settle(session: Session, batch: Batch) -> None:
    """Mark a batch done once nothing in it is waiting to go or going."""
    if batch.status not in ("approved", "sending"):
        return
    left = session.scalar(
        select(func.count(Message.id)).where(
            Message.batch_id == batch.id, Message.status.in_(("draft", "approved", "sending"))
        )
    )
    if not left:
        batch.status = "done"
        batch.finished_at = utcnow()


# Counters -----------------------------------------------------------------------------


@dataclass
class Counters:
    """A batch's messages by state, with the reasons for failures and blocks."""

    by_status: dict[str, int] = field(default_factory=dict)
    held: int = 0
    failed_reasons: list[tuple[str, int]] = field(default_factory=list)
    blocked_reasons: list[tuple[str, int]] = field(default_factory=list)
    flagged: int = 0
    edited: int = 0
    segments: int = 0
    cost_estimate: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        """Every message in the batch."""
        return sum(self.by_status.values())

    @property
    def to_send(self) -> int:
        """Messages that were approved (whatever became of them since)."""
        return self.total - self["draft"] - self["skipped"] - self["cancelled"]

    @property
    def finished(self) -> int:
        """Approved messages that reached an end: delivered, failed or blocked."""
        return self["delivered"] + self["failed"] + self["blocked"]

    @property
    def percent(self) -> int:
        """How far sending has come."""
        return int(100 * self.finished / self.to_send) if self.to_send else 0


def counters(session: Session, batch: Batch) -> Counters:
    """Count the batch's messages: one GROUP BY over its (at most 2,000) rows, and the
    reasons for failures and blocks only when there are some."""
    result = Counters()
    flagged = func.json_array_length(Message.flags) > 0
    held = (Message.status == "approved") & (Message.hold_reason != "")
    for status, count, segs, estimate, price, n_held, n_flagged, n_edited in session.execute(
        select(
            Message.status,
            func.count(Message.id),
            func.coalesce(func.sum(Message.segments), 0),
            func.coalesce(func.sum(Message.cost_estimate), 0),
            func.coalesce(func.sum(Message.price), 0),
            func.count(Message.id).filter(held),
            func.count(Message.id).filter(flagged),
            func.count(Message.id).filter(Message.edited.is_(True)),
        )
        .where(Message.batch_id == batch.id)
        .group_by(Message.status)
    ):
        result.by_status[status] = count
        if status not in ("skipped", "cancelled"):
            result.segments += int(segs)
            result.cost_estimate += Decimal(estimate or 0)
        result.cost += Decimal(price or 0)
        result.held += n_held
        result.flagged += n_flagged
        result.edited += n_edited
    if result["failed"]:
        reasons = Counter()
        for code, words, count in session.execute(
            select(Message.error_code, Message.error_message, func.count(Message.id))
            .where(Message.batch_id == batch.id, Message.status == "failed")
            .group_by(Message.error_code, Message.error_message)
        ):
            reasons[words or (f"Error {code}" if code else "Not delivered")] += count
        result.failed_reasons = reasons.most_common()
    if result["blocked"]:
        blocked = Counter()
        for words, count in session.execute(
            select(Message.blocked_reason, func.count(Message.id))
            .where(Message.batch_id == batch.id, Message.status == "blocked")
            .group_by(Message.blocked_reason)
        ):
            blocked[_reason_kind(words)] += count
        result.blocked_reasons = blocked.most_common()
    return result


@dataclass(frozen=True)
class SendingEstimate:
    """How long a batch's drafts take to send once approved, at their senders' rates."""

    texts: int  # drafts that can go as soon as they are approved
    held: int  # drafts that wait for their recipients' texting hours
    seconds: float  # for `texts`, at the slowest sender's pace
    mps: float
    sender_label: str

    def describe(self) -> str:
        """ "About 8 minutes at 4 texts a second from Austin line; 120 more wait ..." """
        wait = f"{self.held:,} more wait for their recipients' texting hours."
        if not self.texts:
            return f"All {self.held:,} wait for their recipients' texting hours."
        minutes = math.ceil(self.seconds / 60)
        if self.seconds < 60:
            took = "Under a minute"
        elif minutes < 90:
            took = f"About {minutes} minute{'' if minutes == 1 else 's'}"
        else:
            took = f"About {minutes // 60} h {minutes % 60:02d} min"
        rate = f"{self.mps:g} text{'' if self.mps == 1 else 's'} a second"
        said = f"{took} at {rate} from {self.sender_label}"
        return f"{said}; {wait}" if self.held else f"{said}."


def sending_estimate(session: Session, batch: Batch) -> SendingEstimate | None:
    """The time the batch's drafts take to send, from each sender's messages a second and
    the drafts quiet hours hold now (as flagged when drafted); None without drafts.

    Senders send side by side, so the one with the longest queue sets the time.
    """
    queued: Counter[int | None] = Counter()
    held = 0
    for sender_id, flags in session.execute(
        select(Message.sender_id, Message.flags).where(
            Message.batch_id == batch.id, Message.status == "draft"
        )
    ):
        levels = {flag[2] for flag in flags or [] if len(flag) > 2}
        if "block" in levels:
            continue
        if "hold" in levels:
            held += 1
        else:
            queued[sender_id or batch.campaign.sender_id] += 1
    if not queued and not held:
        return None
    senders = {s.id: s for s in session.scalars(select(Sender).where(Sender.id.in_(list(queued))))}
    slowest, seconds = batch.campaign.sender, 0.0
    for sender_id, count in queued.items():
        sender = senders.get(sender_id)
        if sender is not None and count / max(sender.mps, 0.1) >= seconds:
            slowest, seconds = sender, count / max(sender.mps, 0.1)
    return SendingEstimate(
        texts=sum(queued.values()),
        held=held,
        seconds=seconds,
        mps=slowest.mps if slowest else 0.0,
        sender_label=slowest.label if slowest else "its sender",
    )


def _reason_kind(text: str) -> str:
    """Group reasons that differ only in dates: "Opted out (STOP) on Nov 3" -> "Opted out"."""
    head = (text or "Blocked").split(" (")[0].split(":")[0].split(" on ")[0]
    return head.strip() or "Blocked"


FLAG_COUNTS_SQL = {
    "sqlite": "SELECT json_extract(f.value, '$[0]') AS code, count(*) FROM messages m, "
    "json_each(m.flags) f WHERE m.batch_id = :batch GROUP BY code ORDER BY 2 DESC, 1",
    "postgresql": "SELECT f.value->>0 AS code, count(*) FROM messages m, "
    "json_array_elements(m.flags) f WHERE m.batch_id = :batch GROUP BY code "
    "ORDER BY 2 DESC, 1",
}


def flag_counts(session: Session, batch: Batch) -> list[tuple[str, int]]:
    """How many drafts carry each kind of flag, for the queue's summary (counted by the
    database's JSON functions, not by decoding every row here)."""
    dialect = session.get_bind().dialect.name
    rows = session.execute(text(FLAG_COUNTS_SQL[dialect]), {"batch": batch.id})
    return [(code, int(count)) for code, count in rows]


def batches_of(session: Session, campaign: Campaign) -> list[Batch]:
    """A campaign's batches, newest first."""
    return list(
        session.scalars(
            select(Batch).where(Batch.campaign_id == campaign.id).order_by(Batch.id.desc())
        )
    )


def has_pending(session: Session, campaign_id: int) -> bool:
    """Whether a batch of the campaign is still being generated or reviewed."""
    return bool(
        session.scalar(
            select(func.count(Batch.id)).where(
                Batch.campaign_id == campaign_id,
                or_(Batch.status == "generating", Batch.status == "in_review"),
            )
        )
    )
