"""The board of a pipeline and the list of the same deals: the filters both share (kept
in the URL), one column a stage with its totals, the cards each column shows, the
list's sorts and pages, and what a move needs from a form.

A board costs a fixed handful of queries whatever the number of deals: the stages, one
grouped aggregate for every column's count and totals, one query for the first cards of
every column, one that loads those cards with their lead, one a kind of phone (for the
owner's clock) and one for the next steps.

Cards are ordered oldest in their stage first: the deal that has sat longest is the one
a broker must push next (and the one about to go stale), and this is the order of the
`ix_deals_board` index, so a column's first cards are read straight off it. A column's
next cards are asked for after the last one shown (its stage time and id), not by an
offset, so a card moved in or out of a column meanwhile never makes one skipped or
shown twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import Session, joinedload

from console.models import (
    Business,
    Deal,
    Lead,
    Owner,
    Pipeline,
    PipelineStage,
    Task,
    User,
)
from console.models.campaigns import PERSONAS
from console.services.deals import deals as deal_service
from console.services.deals import moves, pipelines
from console.services.deals.deals import DealProblem
from console.services.numbers import whole_number
from console.services.paging import Paged
from console.services.timezones import owner_clock

COLUMN_SIZE = 50
LIST_PAGE_SIZE = 50
ASSIGNEE_CHOICES = ("me", "none")


@dataclass
class BoardFilters:
    """What the board, the list and the CSV are narrowed to, as typed in the filter bar.

    Bad values (a word where an id goes, a negative amount) are dropped, never an error.
    """

    pipeline_id: int | None = None
    assignee: str = ""  # a user id, "me", "none" or "" (anyone)
    campaign_id: int | None = None
    persona: str = ""
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    stale: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping) -> BoardFilters:
        """Filters from query-string arguments, leaving out what cannot be one."""
        assignee = (args.get("assignee") or "").strip()
        if assignee not in ASSIGNEE_CHOICES and whole_number(assignee) is None:
            assignee = ""
        persona = (args.get("persona") or "").strip().upper()
        return cls(
            pipeline_id=whole_number(args.get("pipeline")),
            assignee=assignee,
            campaign_id=whole_number(args.get("campaign")),
            persona=persona if persona in PERSONAS else "",
            value_min=_amount(args.get("value_min")),
            value_max=_amount(args.get("value_max")),
            stale=(args.get("stale") or "") in ("1", "yes", "on", "true"),
            q=(args.get("q") or "").strip()[:100],
        )

    def as_args(self) -> dict[str, str]:
        """The filters set, as query arguments for links that keep them."""
        values = {
            "pipeline": self.pipeline_id,
            "assignee": self.assignee,
            "campaign": self.campaign_id,
            "persona": self.persona,
            "value_min": _plain(self.value_min),
            "value_max": _plain(self.value_max),
            "stale": "1" if self.stale else "",
            "q": self.q,
        }
        return {key: str(value) for key, value in values.items() if value not in ("", None)}

    def args_with(self, **changes) -> dict[str, str]:
        """The query arguments with `changes` made (None drops one)."""
        args = self.as_args() | {key: str(value) for key, value in changes.items()}
        return {key: value for key, value in args.items() if value != "None"}

    @property
    def narrowed(self) -> bool:
        """Whether any filter other than the pipeline is set."""
        return any(key != "pipeline" for key in self.as_args())


def _amount(text) -> Decimal | None:
    """A dollar amount typed in a filter box; None when blank or not an amount."""
    try:
        return deal_service.deal_value(text)
    except DealProblem:
        return None


def _plain(amount: Decimal | None) -> str:
    """An amount as a filter box shows it back: "250000", "99.50"."""
    if amount is None:
        return ""
    return f"{amount:f}".rstrip("0").rstrip(".") if "." in f"{amount:f}" else f"{amount:f}"


def board_pipeline(session: Session, team_id: int, filters: BoardFilters) -> Pipeline:
    """The pipeline the filters pick, else the team's first."""
    return _picked(pipelines.ensure_pipelines(session, team_id), filters)


def _picked(found: list[Pipeline], filters: BoardFilters) -> Pipeline:
    """The pipeline of `found` (a team's) the filters pick, else the first."""
    return next((p for p in found if p.id == filters.pipeline_id), found[0])


def _conditions(team_id: int, pipeline_id: int, filters: BoardFilters, user_id: int) -> list:
    """The WHERE clauses of the filtered deals of one pipeline (stages aside)."""
    where = [Deal.team_id == team_id, Deal.pipeline_id == pipeline_id]
    if filters.assignee == "me":
        where.append(Deal.assignee_id == user_id)
    elif filters.assignee == "none":
        where.append(Deal.assignee_id.is_(None))
    elif filters.assignee:
        where.append(Deal.assignee_id == int(filters.assignee))
    if filters.campaign_id is not None:
        where.append(Deal.source_campaign_id == filters.campaign_id)
    if filters.persona:
        where.append(Deal.first_touch_persona == filters.persona)
    if filters.value_min is not None:
        where.append(Deal.value >= filters.value_min)
    if filters.value_max is not None:
        where.append(Deal.value <= filters.value_max)
    if filters.stale:
        where.append(Deal.stale_at.is_not(None))
    if filters.q:
        where.append(_search(team_id, filters.q))
    return where


def _search(team_id: int, q: str):
    """A deal whose title, business, owner or lead code holds `q` (any case)."""
    like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    lead = (
        select(Lead.id)
        .outerjoin(Business, Business.id == Lead.business_id)
        .outerjoin(Owner, Owner.id == Lead.owner_id)
        .where(
            Lead.team_id == team_id,
            or_(
                func.lower(Lead.code).like(like, escape="\\"),
                func.lower(Business.name).like(like, escape="\\"),
                func.lower(Owner.full_name).like(like, escape="\\"),
            ),
        )
    )
    return or_(func.lower(Deal.title).like(like, escape="\\"), Deal.lead_id.in_(lead))


# ---------------------------------------------------------------- cards


@dataclass
class Card:
    """A deal as a card or list row shows it."""

    deal: Deal
    weighted: Decimal | None
    owner_time: str
    days: int
    past_stale: bool  # in its stage longer than the stage's stale days
    next_step: Task | None
    overdue: bool
    movable: bool  # the viewer may move it
    touched: str  # the last touch, "today" or "3 d ago"

    @property
    def business(self) -> str:
        """The business's name, blank when the deal has no lead."""
        lead = self.deal.lead
        return lead.business.name if lead is not None and lead.business is not None else ""

    @property
    def owner(self) -> str:
        """The owner's name, blank when unknown."""
        lead = self.deal.lead
        return lead.owner.full_name if lead is not None and lead.owner is not None else ""


def _card_deals(session: Session, ids: list[int]) -> dict[int, Deal]:
    """The deals `ids` with everything their cards read, by id (three queries)."""
    if not ids:
        return {}
    lead = joinedload(Deal.lead)
    query = deal_service.with_cards(select(Deal).where(Deal.id.in_(ids))).options(
        # A card reads none of the lead's and owner's JSON (tags, provenance, score
        # breakdown, other names, addresses): not decoding them for 400 cards saves a
        # tenth of the board's time.
        *(lead.defer(column) for column in (Lead.tags, Lead.custom_fields, Lead.provenance)),
        lead.defer(Lead.score_breakdown),
        *(
            lead.joinedload(Lead.owner).defer(column)
            for column in (Owner.alt_names, Owner.addresses)
        ),
        lead.joinedload(Lead.owner).selectinload(Owner.phones),
        lead.joinedload(Lead.business).selectinload(Business.phones),
    )
    return {deal.id: deal for deal in session.scalars(query).unique()}


def next_steps(session: Session, found: Iterable[Deal]) -> dict[int, Task]:
    """Each deal's next step: the earliest open task of the deal or of its lead (one
    query for all of them)."""
    found = list(found)
    deal_ids = [deal.id for deal in found]
    lead_ids = [deal.lead_id for deal in found if deal.lead_id is not None]
    if not found:
        return {}
    team_id = found[0].team_id
    tasks = session.scalars(
        select(Task)
        .where(
            Task.team_id == team_id,
            Task.state == "open",
            or_(Task.deal_id.in_(deal_ids), Task.lead_id.in_(lead_ids or [-1])),
        )
        .order_by(Task.due_at, Task.id)
    )
    by_deal: dict[int, Task] = {}
    by_lead: dict[int, Task] = {}
    for task in tasks:
        if task.deal_id is not None:
            by_deal.setdefault(task.deal_id, task)
        if task.lead_id is not None:
            by_lead.setdefault(task.lead_id, task)
    steps: dict[int, Task] = {}
    for deal in found:
        options = [t for t in (by_deal.get(deal.id), by_lead.get(deal.lead_id or 0)) if t]
        if options:
            steps[deal.id] = min(options, key=lambda t: (t.due_at, t.id))
    return steps


def cards_of(session: Session, ids: list[int], user: User, now: datetime) -> list[Card]:
    """The cards of the deals `ids`, in that order."""
    loaded = _card_deals(session, ids)
    found = [loaded[i] for i in ids if i in loaded]
    steps = next_steps(session, found)
    return [card_of(deal, steps.get(deal.id), user, now) for deal in found]


def card_of(deal: Deal, step: Task | None, user: User, now: datetime) -> Card:
    """One deal's card, read at `now` by `user`."""
    clock = owner_clock(deal.lead) if deal.lead is not None else None
    days = deal_service.days_in_stage(deal, now)
    stale_days = deal.stage.stale_days
    return Card(
        deal=deal,
        weighted=deal_service.weighted_value(deal),
        owner_time=clock.short_text(now) if clock is not None else "",
        days=days,
        past_stale=deal.stage.is_open and stale_days is not None and days > stale_days,
        next_step=step,
        overdue=step is not None and step.due_at < now,
        movable=moves.can_move(user, deal),
        touched=_ago(deal.last_touch_at, now),
    )


def _ago(moment: datetime | None, now: datetime) -> str:
    """ "today", "1 d ago", "16 d ago": a last touch in whole days, as a card has room for."""
    if moment is None:
        return "never"
    days = (now - moment).days
    return "today" if days < 1 else f"{days} d ago"


# ---------------------------------------------------------------- the board


@dataclass
class Column:
    """One stage of the board: its totals over every filtered deal in it, and the cards
    shown so far."""

    stage: PipelineStage
    count: int = 0
    total: Decimal = Decimal("0")
    cards: list[Card] = field(default_factory=list)
    has_more: bool = False

    @property
    def weighted(self) -> Decimal:
        """The column's value times its stage's chance of winning."""
        return (self.total * self.stage.probability / 100).quantize(Decimal("0.01"))

    @property
    def after(self) -> str:
        """Where the column's next cards start: after the last card shown."""
        if not self.cards:
            return ""
        last = self.cards[-1].deal
        return f"{last.stage_at.isoformat()}_{last.id}"


@dataclass
class Board:
    """A pipeline's board as the filters narrow it."""

    pipeline: Pipeline
    pipelines: list[Pipeline]
    columns: list[Column]
    filters: BoardFilters

    @property
    def count(self) -> int:
        """The filtered deals on the board, every column's."""
        return sum(column.count for column in self.columns)

    @property
    def open_total(self) -> Decimal:
        """The value of the deals still open."""
        return sum((c.total for c in self.columns if c.stage.is_open), Decimal("0"))

    @property
    def open_weighted(self) -> Decimal:
        """The weighted value of the deals still open: what the pipeline is worth."""
        return sum((c.weighted for c in self.columns if c.stage.is_open), Decimal("0"))


def column_totals(
    session: Session,
    team_id: int,
    pipeline_id: int,
    filters: BoardFilters,
    user_id: int,
    stage_ids: Iterable[int] | None = None,
) -> dict[int, tuple[int, Decimal]]:
    """Each stage's count and total value over ALL the filtered deals in it (one grouped
    query), for the stages `stage_ids` (all of them when None)."""
    where = _conditions(team_id, pipeline_id, filters, user_id)
    if stage_ids is not None:
        where.append(Deal.stage_id.in_(list(stage_ids)))
    rows = session.execute(
        select(Deal.stage_id, func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0))
        .where(*where)
        .group_by(Deal.stage_id)
    )
    return {stage_id: (count, Decimal(total or 0)) for stage_id, count, total in rows}


def _first_ids(
    session: Session, where: list, stage_ids: list[int], size: int
) -> dict[int, list[int]]:
    """The ids of the first `size` + 1 deals of each stage, oldest in it first, in one
    statement (one limited SELECT a stage, glued with UNION ALL)."""
    if not stage_ids:
        return {}
    parts = []
    for stage_id in stage_ids:
        part = (
            select(Deal.id, Deal.stage_id)
            .where(*where, Deal.stage_id == stage_id)
            .order_by(Deal.stage_at, Deal.id)
            .limit(size + 1)
            .subquery()
        )
        parts.append(select(part.c.id, part.c.stage_id))
    found: dict[int, list[int]] = {stage_id: [] for stage_id in stage_ids}
    for deal_id, stage_id in session.execute(union_all(*parts)):
        found[stage_id].append(deal_id)
    return found


def board(
    session: Session,
    team_id: int,
    filters: BoardFilters,
    user: User,
    now: datetime,
    size: int | None = None,
) -> Board:
    """The board of the pipeline the filters pick: every stage a column with its totals
    and its first `size` cards (COLUMN_SIZE)."""
    size = size or COLUMN_SIZE
    all_pipelines = pipelines.ensure_pipelines(session, team_id)
    pipeline = _picked(all_pipelines, filters)
    stages = pipelines.stages_of(session, pipeline.id)
    totals = column_totals(session, team_id, pipeline.id, filters, user.id)
    where = _conditions(team_id, pipeline.id, filters, user.id)
    first = _first_ids(session, where, [s.id for s in stages if s.id in totals], size)
    shown = [i for ids in first.values() for i in ids[:size]]
    cards = {card.deal.id: card for card in cards_of(session, shown, user, now)}
    columns = []
    for stage in stages:
        count, total = totals.get(stage.id, (0, Decimal("0")))
        ids = first.get(stage.id, [])
        columns.append(
            Column(
                stage=stage,
                count=count,
                total=total,
                cards=[cards[i] for i in ids[:size] if i in cards],
                has_more=len(ids) > size,
            )
        )
    return Board(pipeline=pipeline, pipelines=all_pipelines, columns=columns, filters=filters)


def _after(text: str) -> tuple[datetime, int] | None:
    """The (stage time, id) a column's next page starts after, from its link."""
    stamp, _, deal_id = (text or "").rpartition("_")
    number = whole_number(deal_id)
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (moment, number) if number is not None else None


def column_page(
    session: Session,
    team_id: int,
    stage: PipelineStage,
    filters: BoardFilters,
    user: User,
    now: datetime,
    after: str = "",
    size: int | None = None,
) -> Column:
    """The next `size` (COLUMN_SIZE) cards of one column, after the card `after` names
    (its first cards when blank); the column's totals are not counted again."""
    size = size or COLUMN_SIZE
    where = _conditions(team_id, stage.pipeline_id, filters, user.id)
    where.append(Deal.stage_id == stage.id)
    start = _after(after)
    if start is not None:
        at, deal_id = start
        where.append(or_(Deal.stage_at > at, and_(Deal.stage_at == at, Deal.id > deal_id)))
    ids = list(
        session.scalars(
            select(Deal.id).where(*where).order_by(Deal.stage_at, Deal.id).limit(size + 1)
        )
    )
    return Column(
        stage=stage, cards=cards_of(session, ids[:size], user, now), has_more=len(ids) > size
    )


def columns_now(
    session: Session,
    team_id: int,
    stages: Iterable[PipelineStage],
    filters: BoardFilters,
    user: User,
) -> list[Column]:
    """Fresh headers (count and totals, no cards) of some columns, after a move."""
    stages = [stage for stage in stages if stage is not None]
    if not stages:
        return []
    totals = column_totals(
        session, team_id, stages[0].pipeline_id, filters, user.id, [s.id for s in stages]
    )
    none = (0, Decimal("0"))
    return [
        Column(stage=s, count=totals.get(s.id, none)[0], total=totals.get(s.id, none)[1])
        for s in stages
    ]


# ---------------------------------------------------------------- the list


SORTS: dict[str, str] = {
    "business": "Business",
    "stage": "Stage",
    "value": "Value",
    "weighted": "Weighted",
    "days": "Days in stage",
    "expected_close": "Expected close",
    "assignee": "Assignee",
    "last_touch": "Last touch",
}
DEFAULT_SORT = "stage"


@dataclass
class DealPage(Paged):
    """One page of the list view."""

    rows: list[Card]
    total: int
    page: int
    per_page: int
    sort: str
    direction: str
    # Over every filtered deal, not only this page's: their value and weighted value.
    value_total: Decimal = Decimal("0")
    weighted_total: Decimal = Decimal("0")


def list_sort(args: Mapping) -> tuple[str, str]:
    """The list's sort key and direction from the query ("asc" or "desc")."""
    sort = args.get("sort") or DEFAULT_SORT
    direction = args.get("dir") or "asc"
    if sort not in SORTS:
        sort = DEFAULT_SORT
    return sort, direction if direction in ("asc", "desc") else "asc"


def _ordered_ids(
    team_id: int, pipeline_id: int, filters: BoardFilters, user_id: int, sort: str, direction: str
):
    """The SELECT of the filtered deals' ids in the list's order (blanks last)."""
    query = (
        select(Deal.id)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(*_conditions(team_id, pipeline_id, filters, user_id))
    )
    descending = direction == "desc"
    if sort == "business":
        query = query.outerjoin(Lead, Lead.id == Deal.lead_id).outerjoin(
            Business, Business.id == Lead.business_id
        )
        column = func.lower(func.coalesce(Business.name, Deal.title))
    elif sort == "assignee":
        query = query.outerjoin(User, User.id == Deal.assignee_id)
        column = func.lower(func.coalesce(User.name, User.email))
    elif sort == "days":
        # More days in the stage is an earlier stage time.
        column, descending = Deal.stage_at, not descending
    else:
        column = {
            "stage": PipelineStage.position,
            "value": Deal.value,
            "weighted": Deal.value * PipelineStage.probability,
            "expected_close": Deal.expected_close,
            "last_touch": Deal.last_touch_at,
        }[sort]
    key = column.desc() if descending else column.asc()
    return query.order_by(key.nulls_last(), Deal.stage_at, Deal.id)


def deal_list(
    session: Session,
    team_id: int,
    filters: BoardFilters,
    user: User,
    now: datetime,
    *,
    sort: str = DEFAULT_SORT,
    direction: str = "asc",
    page: int = 1,
    per_page: int | None = None,
) -> DealPage:
    """A page of the filtered deals of the board's pipeline, sorted as asked
    (LIST_PAGE_SIZE a page unless told)."""
    per_page = per_page or LIST_PAGE_SIZE
    pipeline = board_pipeline(session, team_id, filters)
    by_stage = column_totals(session, team_id, pipeline.id, filters, user.id)
    chances = {stage.id: stage.probability for stage in pipeline.stages}
    total = sum(count for count, _value in by_stage.values())
    value_total = sum((value for _count, value in by_stage.values()), Decimal("0"))
    weighted_total = sum(
        (value * chances.get(stage_id, 0) / 100 for stage_id, (_c, value) in by_stage.items()),
        Decimal("0"),
    ).quantize(Decimal("0.01"))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    ids = list(
        session.scalars(
            _ordered_ids(team_id, pipeline.id, filters, user.id, sort, direction)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return DealPage(
        rows=cards_of(session, ids, user, now),
        total=total,
        page=page,
        per_page=per_page,
        sort=sort,
        direction=direction,
        value_total=value_total,
        weighted_total=weighted_total,
    )


def export_deals(session: Session, team_id: int, filters: BoardFilters, user_id: int):
    """Every filtered deal of the board's pipeline with what its export line shows,
    oldest first."""
    pipeline = board_pipeline(session, team_id, filters)
    yield from session.scalars(
        deal_service.with_cards(
            select(Deal)
            .where(*_conditions(team_id, pipeline.id, filters, user_id))
            .order_by(Deal.id)
        )
    ).unique()


# ---------------------------------------------------------------- moves


def move_fields(form: Mapping) -> moves.MoveFields:
    """What a move's form typed for the stage; DealProblem when a field cannot be read."""
    fields = moves.MoveFields(
        value=deal_service.deal_value(form.get("value")),
        expected_close=_date(form.get("expected_close"), "expected close date"),
        lost_reason_id=whole_number(form.get("lost_reason_id")),
        lost_note=(form.get("lost_note") or "").strip()[:255],
        closed_on=_date(form.get("closed_on"), "close date"),
        note=(form.get("note") or "").strip()[:255],
    )
    fields.given = {key for key in ("value", "expected_close", "lost_reason_id") if form.get(key)}
    return fields


def _date(text, what: str) -> date | None:
    """A date typed as YYYY-MM-DD (a date input's value); None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DealProblem(f"Type the {what} as a date, such as 2026-03-31.") from exc


def asked_fields(stage: PipelineStage, missing: list[str]) -> list[str]:
    """The fields a move's dialog asks for: the missing ones, a note with a lost
    reason, and the close date of a won or lost stage."""
    asked = list(missing)
    if "lost_reason" in asked:
        asked.append("lost_note")
    if not stage.is_open:
        asked.append("closed_on")
    return asked
