"""The deal as a record people work on its page: its details edited (value, expected
close, assignee, title, pipeline), each change audited with what it was and became; the
time it spent in each stage; the conversation with its owner, and a reply to it; notes.

Who may edit is who may move it (`moves.can_move`): managers and admins any deal,
operators and reviewers the deals assigned to them. Any teammate may reply and write
notes, as on the inbox and the lead page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import (
    Conversation,
    Deal,
    DealStageHistory,
    InboxItem,
    Message,
    Note,
    PipelineStage,
    User,
)
from console.models.base import utcnow
from console.services import audit
from console.services.deals import notes
from console.services.deals.deals import DealProblem, deal_value, with_cards
from console.services.deals.moves import can_move
from console.services.replies import drafting, inbox
from console.services.tenancy import get_scoped

TITLE_MAX = 255
THREAD_LIMIT = 100
# The fields the details form edits, as the audit trail and the flash name them.
DETAILS: dict[str, str] = {
    "title": "title",
    "value": "value",
    "expected_close": "expected close date",
    "assignee": "assignee",
}


class EditRefused(DealProblem):
    """The user may not edit this deal; the message says who may."""


def load_deal(session: Session, team_id: int, deal_id: int) -> Deal | None:
    """The team's deal with what its page shows; None when it is another team's or gone."""
    return session.scalars(
        with_cards(select(Deal).where(Deal.id == deal_id, Deal.team_id == team_id))
    ).first()


def can_edit(user: User, deal: Deal) -> bool:
    """Whether `user` may edit the deal: the same people who may move it."""
    return can_move(user, deal)


def _check_editor(user: User, deal: Deal) -> None:
    if not can_edit(user, deal):
        raise EditRefused("Only the deal's assignee, a manager or an admin edits this deal.")


# ----------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class DetailsForm:
    """What the details form posts, as typed."""

    title: str
    value: str
    expected_close: str
    assignee_id: int | None


def expected_close_date(text: str) -> date | None:
    """A date typed as the browser's date input sends it (2026-03-31); None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DealProblem("Type the expected close date as a date, such as 2026-03-31.") from exc


def _assignee(session: Session, team_id: int, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = get_scoped(session, User, team_id, user_id)
    if user is None:
        raise DealProblem("Give the deal to someone on your team.")
    return user


def _shown(key: str, deal: Deal) -> str:
    """A detail of the deal as the audit trail keeps it."""
    if key == "value":
        return "" if deal.value is None else f"{deal.value:.2f}"
    if key == "expected_close":
        return deal.expected_close.isoformat() if deal.expected_close else ""
    if key == "assignee":
        person = deal.assignee
        return (person.name or person.email) if person is not None else ""
    return deal.title


def edit_details(
    session: Session, deal: Deal, user: User, form: DetailsForm, now: datetime | None = None
) -> list[str]:
    """Apply the details form to the deal; the keys of DETAILS that changed, audited as
    "deal.edited" with their before and after. DealProblem (nothing changed) when a value
    cannot be taken, EditRefused when `user` may not edit it. Does not commit."""
    _check_editor(user, deal)
    title = " ".join((form.title or "").split())[:TITLE_MAX]
    if not title:
        raise DealProblem("Give the deal a title.")
    wanted = {
        "title": title,
        "value": deal_value(form.value),
        "expected_close": expected_close_date(form.expected_close),
        "assignee": _assignee(session, deal.team_id, form.assignee_id),
    }
    current = {
        "title": deal.title,
        "value": deal.value,
        "expected_close": deal.expected_close,
        "assignee": deal.assignee,
    }
    changed = [key for key in DETAILS if wanted[key] != current[key]]
    if not changed:
        return []
    before = {key: _shown(key, deal) for key in changed}
    deal.title, deal.value = wanted["title"], wanted["value"]
    deal.expected_close = wanted["expected_close"]
    deal.assignee = wanted["assignee"]
    deal.last_touch_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        team_id=deal.team_id,
        actor_id=user.id,
        action="deal.edited",
        entity=deal,
        before=before,
        after={key: _shown(key, deal) for key in changed},
    )
    return changed


def other_pipeline_stages(session: Session, deal: Deal) -> list[tuple[str, list[PipelineStage]]]:
    """The open stages of the team's other pipelines, a group a pipeline, for the select
    that moves the deal to another pipeline."""
    from console.services.deals.pipelines import open_stage_groups, pipelines_of

    names = {p.id: p.name for p in pipelines_of(session, deal.team_id)}
    return [
        (name, stages)
        for name, stages in open_stage_groups(session, deal.team_id)
        if name != names.get(deal.pipeline_id) and stages
    ]


def change_pipeline(
    session: Session, deal: Deal, user: User, stage: PipelineStage, now: datetime | None = None
) -> DealStageHistory:
    """Put the deal in `stage`, an open stage of another of the team's pipelines: its
    stage history gets the move with both stages' names (and pipelines'), audited as
    "deal.pipeline_changed". A closed deal is reopened through its stages, not here.
    Does not commit."""
    _check_editor(user, deal)
    if stage.team_id != deal.team_id or not stage.is_open:
        raise DealProblem("Pick an open stage of one of your pipelines.")
    if stage.pipeline_id == deal.pipeline_id:
        raise DealProblem("The deal is in that pipeline already; move it between its stages.")
    if not deal.stage.is_open:
        raise DealProblem("Reopen the deal before moving it to another pipeline.")
    now = now or utcnow()
    old_stage, old_pipeline = deal.stage, deal.pipeline
    move = DealStageHistory(
        team_id=deal.team_id,
        deal_id=deal.id,
        from_stage_id=old_stage.id,
        to_stage_id=stage.id,
        from_stage=old_stage.name,
        to_stage=stage.name,
        by_id=user.id,
        note=f"Pipeline {old_pipeline.name} → {stage.pipeline.name}"[:255],
        at=now,
    )
    session.add(move)
    deal.pipeline_id, deal.stage_id = stage.pipeline_id, stage.id
    deal.stage_at = deal.last_touch_at = now
    deal.stale_at = None
    session.flush()
    session.refresh(deal, ["pipeline", "stage"])
    audit.record(
        session,
        team_id=deal.team_id,
        actor_id=user.id,
        action="deal.pipeline_changed",
        entity=deal,
        before={"pipeline": old_pipeline.name, "stage": old_stage.name},
        after={"pipeline": deal.pipeline.name, "stage": stage.name},
    )
    return move


# --------------------------------------------------------------------- stage history


@dataclass(frozen=True)
class StageSpell:
    """One move of the deal and the time it then spent in the stage it entered: until
    the next move, or until now for the stage it is in."""

    move: DealStageHistory
    spent: timedelta
    current: bool

    @property
    def spent_words(self) -> str:
        return span_words(self.spent)


def span_words(span: timedelta) -> str:
    """ "12 days", "1 day", "5 hours", "40 minutes": how long, in the largest whole unit."""
    seconds = max(0, int(span.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "under a minute"


def stage_spells(session: Session, deal: Deal, now: datetime) -> list[StageSpell]:
    """The deal's moves, newest first, each with the time spent in the stage it entered."""
    moves = list(
        session.scalars(
            select(DealStageHistory)
            .where(DealStageHistory.deal_id == deal.id, DealStageHistory.team_id == deal.team_id)
            .order_by(DealStageHistory.at, DealStageHistory.id)
        )
    )
    ends = [later.at for later in moves[1:]] + [now]
    spells = [
        StageSpell(move, end - move.at, current=index == len(moves) - 1)
        for index, (move, end) in enumerate(zip(moves, ends, strict=True))
    ]
    return spells[::-1]


def time_in_stages(spells: Iterable[StageSpell]) -> dict[str, timedelta]:
    """Total time the deal spent in each stage, by name (a stage entered twice adds up)."""
    totals: dict[str, timedelta] = {}
    for spell in spells:
        totals[spell.move.to_stage] = totals.get(spell.move.to_stage, timedelta()) + spell.spent
    return totals


# ---------------------------------------------------------------------- conversation


@dataclass(frozen=True)
class ThreadEntry:
    """One exchange with the owner on the deal's page: its channel ("text" now; emails
    and calls join as those channels arrive), which way it went, what was said, when."""

    channel: str
    direction: str  # "in" or "out"
    body: str
    at: datetime


def deal_conversation(session: Session, deal: Deal) -> Conversation | None:
    """The conversation the deal was made from, else the lead's latest one."""
    if deal.conversation_id is not None:
        found = get_scoped(session, Conversation, deal.team_id, deal.conversation_id)
        if found is not None:
            return found
    if deal.lead_id is None:
        return None
    return session.scalars(
        select(Conversation)
        .where(Conversation.team_id == deal.team_id, Conversation.lead_id == deal.lead_id)
        .order_by(Conversation.last_inbound_at.desc(), Conversation.id.desc())
        .limit(1)
    ).first()


def _texts(session: Session, conversation: Conversation) -> list[ThreadEntry]:
    return [
        ThreadEntry("text", turn.direction, turn.body, turn.at)
        for turn in drafting.history(session, conversation, limit=THREAD_LIMIT)
    ]


# Each channel's exchanges with the owner; emails and calls add theirs here.
CHANNELS: tuple[Callable[[Session, Conversation], list[ThreadEntry]], ...] = (_texts,)


def thread(session: Session, conversation: Conversation | None) -> list[ThreadEntry]:
    """The exchanges with the owner on every channel, oldest first (newest at the bottom,
    as in the inbox)."""
    if conversation is None:
        return []
    entries = [entry for channel in CHANNELS for entry in channel(session, conversation)]
    return sorted(entries, key=lambda entry: entry.at)[-THREAD_LIMIT:]


def reply_on_deal(
    session: Session,
    deal: Deal,
    user: User,
    body: str,
    *,
    now: datetime | None = None,
    transport: object | None = None,
) -> Message:
    """Text the deal's owner through the same gate and dispatcher queue as the inbox's
    replies (InboxProblem says why not). An open inbox item of the conversation is
    answered by it, as if sent from the inbox. Commits; the Message queued."""
    now = now or utcnow()
    conversation = deal_conversation(session, deal)
    if conversation is None:
        raise inbox.InboxProblem("No texts with this owner yet: there is no number to reply to.")
    item = session.scalars(
        select(InboxItem)
        .where(
            InboxItem.conversation_id == conversation.id,
            InboxItem.state.in_(inbox.WORKING_STATES),
        )
        .order_by(InboxItem.id.desc())
        .limit(1)
    ).first()
    deal.last_touch_at = now
    if item is not None:
        return inbox.send_reply(session, item, user, body, now=now, transport=transport)
    message = inbox.queue_reply(
        session, conversation, deal.lead, user, body, now=now, transport=transport
    )
    audit.record(
        session,
        team_id=deal.team_id,
        actor_id=user.id,
        action="deal.reply",
        entity=deal,
        after={"message_id": message.id, "body": message.body},
    )
    session.commit()
    return message


# ----------------------------------------------------------------------------- notes


def note_on_deal(
    session: Session, deal: Deal, user: User, body: str, now: datetime | None = None
) -> Note:
    """A note on the deal and its lead (it shows on both pages); NoteProblem when empty
    or too long. Does not commit."""
    if deal.lead is None:
        raise notes.NoteProblem("This deal's lead is gone; there is nowhere to keep a note.")
    note = notes.add_note(session, deal.lead, user, body, deal=deal)
    deal.last_touch_at = now or utcnow()
    return note
