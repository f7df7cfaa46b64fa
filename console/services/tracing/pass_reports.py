"""What skip-trace passes did and cost: per-provider tallies, rates, and the leads found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from console.models import Lead, SkipTraceResult, SkipTraceRun
from console.services.tenancy import of_team, scoped

# A call whose hit was written onto the lead (the provider the lead's facts came from).
ACCEPTED = SkipTraceResult.applied.is_(True) & (SkipTraceResult.outcome == "hit")


@dataclass
class ProviderTally:
    """One provider's share of a pass."""

    name: str
    calls: int = 0
    found: int = 0
    accepted: int = 0
    errors: int = 0
    cost: Decimal = Decimal(0)

    @property
    def hit_rate(self) -> float | None:
        """Share of answered calls that found someone."""
        answered = self.calls - self.errors
        return self.found / answered if answered else None


@dataclass
class PassSummary:
    """A pass in figures: hits by provider, rates, mobiles and what each cost."""

    providers: list[ProviderTally] = field(default_factory=list)
    traced: int = 0
    hits: int = 0
    partial: int = 0
    mobiles_found: int = 0
    verified_mobiles: int = 0
    trace_cost: Decimal = Decimal(0)
    lookup_cost: Decimal = Decimal(0)

    @property
    def calls(self) -> int:
        """Provider calls made."""
        return sum(p.calls for p in self.providers)

    @property
    def hit_rate(self) -> float | None:
        """Share of traced leads with an accepted result."""
        return self.hits / self.traced if self.traced else None

    @property
    def cost(self) -> Decimal:
        """Everything the pass cost: traces and line-type checks."""
        return self.trace_cost + self.lookup_cost

    @property
    def cost_per_hit(self) -> Decimal | None:
        """Cost over accepted results."""
        return (self.cost / self.hits).quantize(Decimal("0.0001")) if self.hits else None

    @property
    def cost_per_verified_mobile(self) -> Decimal | None:
        """Cost over mobiles a line-type check confirmed."""
        if not self.verified_mobiles:
            return None
        return (self.cost / self.verified_mobiles).quantize(Decimal("0.0001"))


def summarize(session: Session, run: SkipTraceRun) -> PassSummary:
    """The figures of one pass, from its result rows and counters."""
    counts = run.counts or {}
    summary = PassSummary(
        traced=counts.get("traced", 0),
        hits=counts.get("hits", 0),
        partial=counts.get("partial", 0),
        mobiles_found=counts.get("mobiles_found", 0),
        verified_mobiles=counts.get("verified_mobiles", 0),
        lookup_cost=Decimal(counts.get("lookup_cost_micros", 0)) / 1_000_000,
    )
    summary.providers = provider_tallies(session, SkipTraceResult.run_id == run.id)
    summary.trace_cost = sum((p.cost for p in summary.providers), Decimal(0))
    return summary


def provider_tallies(session: Session, *conditions) -> list[ProviderTally]:
    """Each provider's calls, finds, accepted hits, errors and cost over the result rows
    matching `conditions` (one pass's, or a team's over a range), first called first."""
    rows = session.execute(
        select(
            SkipTraceResult.provider_name,
            func.count(),
            func.sum(case((SkipTraceResult.found.is_(True), 1), else_=0)),
            func.sum(case((ACCEPTED, 1), else_=0)),
            func.sum(case((SkipTraceResult.outcome == "error", 1), else_=0)),
            func.sum(SkipTraceResult.cost),
        )
        .where(*conditions)
        .group_by(SkipTraceResult.provider_name)
        .order_by(func.min(SkipTraceResult.id))
    ).all()
    return [
        ProviderTally(name, calls, found or 0, accepted or 0, errors or 0, cost or Decimal(0))
        for name, calls, found, accepted, errors, cost in rows
    ]


def found_leads(
    session: Session, run: SkipTraceRun, page: int = 1, per_page: int = 50
) -> tuple[list[SkipTraceResult], int]:
    """The results a pass applied to leads, with their leads, a page at a time."""
    query = select(SkipTraceResult).where(
        SkipTraceResult.run_id == run.id, SkipTraceResult.applied.is_(True)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.options(joinedload(SkipTraceResult.lead))
        .order_by(SkipTraceResult.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total


def team_runs(session: Session, team_id: int, status: str = "") -> list[SkipTraceRun]:
    """A team's passes, newest first."""
    return list(session.scalars(_team_runs_query(team_id, status)))


def _team_runs_query(team_id: int, status: str) -> Select:
    """The query behind `team_runs`."""
    query = scoped(SkipTraceRun, team_id).order_by(SkipTraceRun.id.desc()).limit(200)
    if status:
        query = query.where(SkipTraceRun.status == status)
    return query


def lead_results(session: Session, lead: Lead) -> list[SkipTraceResult]:
    """Every provider call made for a lead, newest first."""
    return list(
        session.scalars(
            select(SkipTraceResult)
            .where(of_team(SkipTraceResult, lead.team_id), SkipTraceResult.lead_id == lead.id)
            .order_by(SkipTraceResult.id.desc())
            .limit(50)
        )
    )


RUN_COLUMNS = (
    "id", "status", "leads", "traced", "hits", "partial", "mobiles_found", "calls",
    "spent", "budget", "stop_reason", "started_by", "created_at", "finished_at",
)  # fmt: skip


def run_rows(session: Session, team_id: int, status: str = "") -> Iterator[list]:
    """A team's passes as CSV rows in RUN_COLUMNS order, their starters loaded with them.

    A generator: the query runs when the rows are read, in the session open while a
    download streams (see `console.web.csv_download`).
    """
    query = _team_runs_query(team_id, status).options(selectinload(SkipTraceRun.started_by))
    for run in session.scalars(query):
        yield run_row(run)


def run_row(run: SkipTraceRun) -> list:
    """A pass as one CSV row in RUN_COLUMNS order."""
    counts = run.counts or {}
    return [
        run.id,
        run.status,
        len(run.lead_ids or []),
        counts.get("traced", 0),
        counts.get("hits", 0),
        counts.get("partial", 0),
        counts.get("mobiles_found", 0),
        counts.get("calls", 0),
        f"{run.spent:.4f}",
        "" if run.budget is None else f"{run.budget:.2f}",
        run.stop_reason,
        run.started_by.email if run.started_by else "",
        run.created_at.isoformat(timespec="seconds"),
        run.finished_at.isoformat(timespec="seconds") if run.finished_at else "",
    ]


RESULT_COLUMNS = (
    "lead_code", "provider", "outcome", "applied", "owner_name", "title", "phones",
    "emails", "confidence", "cost", "attempts", "error", "sandbox", "at",
)  # fmt: skip


def iter_result_rows(session: Session, run: SkipTraceRun) -> Iterator[list]:
    """Every call of a pass as CSV rows, for the download."""
    results = session.scalars(
        select(SkipTraceResult)
        .where(SkipTraceResult.run_id == run.id)
        .options(joinedload(SkipTraceResult.lead))
        .order_by(SkipTraceResult.id)
        .execution_options(yield_per=500)
    )
    for result in results:
        found = result.candidate or {}
        yield [
            result.lead.code if result.lead else "",
            result.provider_name,
            result.outcome,
            "yes" if result.applied else "",
            found.get("owner_name", ""),
            found.get("title", ""),
            " ".join(f"{p['number']} ({p['type'] or '?'})" for p in found.get("phones", [])),
            " ".join(found.get("emails", [])),
            "" if result.confidence is None else result.confidence,
            f"{result.cost:.4f}",
            result.attempts,
            result.error,
            "yes" if result.sandbox else "",
            result.created_at.isoformat(timespec="seconds"),
        ]


def as_dict(run: SkipTraceRun, summary: PassSummary) -> dict:
    """A pass's summary as JSON-ready values (the command line prints it)."""

    def money(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.4f}"

    counts = run.counts or {}
    return {
        "run": run.id,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "leads": len(run.lead_ids or []),
        "traced": summary.traced,
        "hits": summary.hits,
        "partial": summary.partial,
        "not_found": counts.get("not_found", 0),
        "skipped_verified": counts.get("skipped_verified", 0),
        "skipped_fresh": counts.get("skipped_fresh", 0),
        "hit_rate": None if summary.hit_rate is None else round(summary.hit_rate, 4),
        "mobiles_found": summary.mobiles_found,
        "verified_mobiles": summary.verified_mobiles,
        "calls": summary.calls,
        "cost": money(summary.cost),
        "trace_cost": money(summary.trace_cost),
        "lookup_cost": money(summary.lookup_cost),
        "budget": money(run.budget),
        "cost_per_hit": money(summary.cost_per_hit),
        "cost_per_verified_mobile": money(summary.cost_per_verified_mobile),
        "by_provider": [
            {
                "provider": p.name,
                "calls": p.calls,
                "found": p.found,
                "accepted": p.accepted,
                "errors": p.errors,
                "cost": money(p.cost),
            }
            for p in summary.providers
        ],
    }
