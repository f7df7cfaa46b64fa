"""The skip-trace waterfall: find owners' mobiles through the team's providers, in order,
without paying twice and without passing the budget.

For each lead without a verified owner mobile, providers are tried in the team's
order; the first valid result (a full name of two or more words, a phone, confidence
at or above the team's threshold) is accepted, else the best result found is kept.
Every call is written as `pending` and committed before it is made, then completed
with what it found and cost, so a pass that dies is resumed without calling anyone
twice. A result from the freshness window is reused instead of paid for again.
Calls run concurrently within each provider's rate and concurrency limits; only this
thread touches the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, scoped_session, selectinload

from console.models import (
    Business,
    Lead,
    Owner,
    Phone,
    SkipTraceProvider,
    SkipTraceResult,
    SkipTraceRun,
    Team,
)
from console.models.base import utcnow
from console.providers.skiptrace import Candidate, LookupResult, ProviderError, TraceQuery
from console.services.sending.ratelimit import TokenBucket
from console.services.tenancy import of_team
from console.services.tracing import apply, linetype, provider_settings, result_files, scoring

CHUNK = 100
RETRY_BACKOFF = (0.5, 1.5)
# A provider that refuses this many calls in a row (bad key...) is left out of the pass.
REFUSALS_BEFORE_SKIP = 5
PAID_OUTCOMES = ("hit", "partial", "miss", "lost")


def query_for(lead: Lead) -> TraceQuery:
    """What providers are told about a lead."""
    business, owner = lead.business, lead.owner
    office = next((p.e164 for p in (business.phones if business else []) if p.e164), "")
    return TraceQuery(
        lead_id=lead.id,
        lead_code=lead.code,
        business_name=business.name if business else "",
        owner_name=owner.full_name if owner else "",
        first_name=owner.first_name if owner else "",
        last_name=owner.last_name if owner else "",
        street=business.street if business else "",
        city=business.city if business else "",
        state=business.state if business else "",
        zip=business.zip if business else "",
        phone=office,
    )


def is_valid(candidate: Candidate, threshold: int) -> bool:
    """The seed's acceptance rule: full name, a phone, confidence at the threshold."""
    return (
        candidate.name_words >= 2
        and bool(candidate.phones)
        and (candidate.confidence or 0) >= threshold
    )


def quality(candidate: Candidate) -> tuple:
    """How good a result is, for keeping the best when none is valid."""
    return (
        candidate.name_words >= 2,
        candidate.has_mobile,
        len(candidate.phones),
        candidate.confidence or 0,
        bool(candidate.emails),
    )


def has_verified_owner_mobile(lead: Lead) -> bool:
    """Whether a check already found a textable mobile on the lead's owner."""
    return bool(lead.owner) and any(p.verified_mobile for p in lead.owner.phones)


# ------------------------------------------------------------------ choosing and estimating


@dataclass
class ProviderEstimate:
    """What one provider may be asked and cost in a pass."""

    provider: SkipTraceProvider
    calls_expected: int
    cost_expected: Decimal
    cost_most: Decimal
    hit_rate: float
    hit_rate_known: bool


@dataclass
class Plan:
    """The leads a pass would trace, those it would skip, and what it may cost."""

    selected: int
    to_trace: list[int]
    verified: int
    fresh: int
    providers: list[ProviderEstimate]

    @property
    def cost_expected(self) -> Decimal:
        """The expected spend, from each provider's past hit rate."""
        return sum((p.cost_expected for p in self.providers), Decimal(0))

    @property
    def cost_most(self) -> Decimal:
        """The spend if every lead reached every provider and every call hit."""
        return sum((p.cost_most for p in self.providers), Decimal(0))


def plan_pass(
    session: Session,
    team: Team,
    lead_ids: list[int],
    now: datetime | None = None,
    limit: int | None = None,
) -> Plan:
    """Which of `lead_ids` a pass would trace (at most `limit`, in the order given), and
    the cost estimate per provider. Reads two columns a lead, so it stays quick at 50,000."""
    now = now or utcnow()
    settings = provider_settings.TraceSettings.of(team)
    fresh_after = now - timedelta(days=settings.freshness_days)
    states = _trace_states(session, team.id, lead_ids)
    verified = sum(1 for state in states.values() if state[0])
    fresh = sum(
        1 for v, traced in states.values() if not v and traced is not None and traced >= fresh_after
    )
    to_trace = [
        lead_id
        for lead_id in dict.fromkeys(lead_ids)
        if lead_id in states
        and not states[lead_id][0]
        and not (states[lead_id][1] is not None and states[lead_id][1] >= fresh_after)
    ][:limit]
    remaining = len(to_trace)
    estimates = []
    for provider in provider_settings.team_providers(session, team.id, enabled_only=True):
        rate, known = _hit_rate(session, provider)
        hits = round(remaining * rate)
        estimates.append(
            ProviderEstimate(
                provider,
                remaining,
                remaining * provider.cost_per_search + hits * provider.cost_per_hit,
                len(to_trace) * (provider.cost_per_search + provider.cost_per_hit),
                rate,
                known,
            )
        )
        remaining -= hits
    return Plan(len(states), to_trace, verified, fresh, estimates)


def _trace_states(session: Session, team_id: int, lead_ids: list[int]) -> dict:
    """lead id -> (has a verified owner mobile, last traced at), for the team's leads."""
    verified = (
        exists().where(Phone.owner_id == Lead.owner_id, Phone.verified_mobile).label("verified")
    )
    states = {}
    for start in range(0, len(lead_ids), 5000):
        rows = session.execute(
            select(Lead.id, verified, Lead.traced_at).where(
                of_team(Lead, team_id), Lead.id.in_(lead_ids[start : start + 5000])
            )
        )
        states.update({lead_id: (bool(v), traced) for lead_id, v, traced in rows})
    return states


def _hit_rate(session: Session, provider: SkipTraceProvider) -> tuple[float, bool]:
    """The provider's share of answered calls that found someone (0.6 until it has 20)."""
    outcomes = list(
        session.scalars(
            select(SkipTraceResult.found)
            .where(
                SkipTraceResult.provider_id == provider.id,
                SkipTraceResult.outcome.in_(("hit", "partial", "miss")),
            )
            .order_by(SkipTraceResult.id.desc())
            .limit(1000)
        )
    )
    if len(outcomes) < 20:
        return 0.6, False
    return sum(outcomes) / len(outcomes), True


def create_run(
    session: Session,
    team: Team,
    lead_ids: list[int],
    *,
    filters: dict,
    budget: Decimal | None,
    started_by_id: int | None,
    providers: list[SkipTraceProvider] | None = None,
) -> SkipTraceRun:
    """A queued pass over `lead_ids` with `providers`, else the team's enabled ones in order."""
    if providers is None:
        providers = provider_settings.team_providers(session, team.id, enabled_only=True)
    if not providers:
        raise provider_settings.ProviderProblem("Turn on at least one skip-trace provider first.")
    if not lead_ids:
        raise provider_settings.ProviderProblem("No lead needs tracing among the chosen ones.")
    if budget is not None and budget <= 0:
        raise provider_settings.ProviderProblem("A budget is more than $0.", "budget")
    run = SkipTraceRun(
        team_id=team.id,
        filters=filters,
        lead_ids=list(dict.fromkeys(lead_ids)),  # in the order given: best first
        provider_ids=[p.id for p in providers],
        budget=budget,
        started_by_id=started_by_id,
        counts={"leads_total": len(set(lead_ids))},
    )
    session.add(run)
    session.flush()
    return run


# ------------------------------------------------------------------------------ the pass


@dataclass
class _Stage:
    """One provider during a pass: its live source, limits and tallies."""

    provider: SkipTraceProvider
    source: object
    bucket: TokenBucket
    refusals: int = 0
    skipped: bool = False
    # Worker threads count refusals as they come, so no call starts after the fifth.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, error: ProviderError | None) -> None:
        """Count a refusal in a row (or reset on an answer); leave the provider out at five."""
        with self.lock:
            if error is None or error.retryable:
                self.refusals = 0
            else:
                self.refusals += 1
                self.skipped = self.skipped or self.refusals >= REFUSALS_BEFORE_SKIP


@dataclass
class _Call:
    lead: Lead
    row: SkipTraceResult
    query: TraceQuery


@dataclass
class _Answer:
    result: LookupResult | None
    error: ProviderError | None
    attempts: int
    elapsed_ms: int


@dataclass
class PassOptions:
    """What a pass needs from its caller: keys, the line checker, and test seams."""

    secrets_key: str
    checker: object
    http_client: object | None = None
    endpoint_rules: provider_settings.EndpointRules = field(
        default_factory=provider_settings.EndpointRules
    )
    sleep: Callable[[float], None] = time.sleep
    on_progress: Callable[[SkipTraceRun], None] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)


def pass_options(config, **seams) -> PassOptions:
    """The options of a pass run by this console: its secrets key and line checker."""
    return PassOptions(
        secrets_key=config["SECRETS_KEY"],
        checker=linetype.make_checker(config),
        endpoint_rules=provider_settings.endpoint_rules(config),
        **seams,
    )


class PassCancelled(Exception):
    """The person who started the pass stopped it."""


def run_pass(session: Session, run_id: int, options: PassOptions) -> SkipTraceRun:
    """Trace the run's leads to the end, the budget, or a cancel; resumable.

    The pass commits often (claims before calls, answers after them) and is the only
    writer of what it loaded, so its session keeps objects loaded across commits rather
    than reading every lead, phone and result back one by one after each.
    """
    own = session() if isinstance(session, scoped_session) else session
    keep, own.expire_on_commit = own.expire_on_commit, False
    try:
        return _run_pass(own, run_id, options)
    finally:
        own.expire_on_commit = keep


def _run_pass(session: Session, run_id: int, options: PassOptions) -> SkipTraceRun:
    run = session.get(SkipTraceRun, run_id)
    team = session.get(Team, run.team_id)
    settings = provider_settings.TraceSettings.of(team)
    run.status, run.started_at = "running", run.started_at or utcnow()
    _settle_lost_calls(session, run)
    session.commit()
    providers = [session.get(SkipTraceProvider, pid) for pid in run.provider_ids]
    providers = [p for p in providers if p is not None and p.team_id == team.id]
    counts = _fresh_counts(run)
    # One stage a provider for the whole pass, so a provider that keeps refusing stays out.
    stages = [
        _Stage(p, _source(session, p, [], options), TokenBucket(p.rate_per_second))
        for p in providers
    ]
    ids = run.lead_ids
    done = counts["leads_done"]
    for start in range(done, len(ids), CHUNK):
        if options.should_stop():
            raise PassCancelled("Stopped by request.")
        chunk = ids[start : start + CHUNK]
        for stage in stages:
            if stage.provider.kind == "file":  # its answers are the rows matched to these leads
                stage.source = _source(session, stage.provider, chunk, options)
        stopped = _trace_chunk(session, run, team, settings, stages, chunk, counts, options)
        run.counts = dict(counts)
        session.commit()
        if options.on_progress:
            options.on_progress(run)
        if stopped:
            run.status, run.stop_reason = "stopped", stopped
            break
    else:
        run.status = "done"
    run.finished_at = utcnow()
    run.counts = dict(counts)
    session.commit()
    return run


def _fresh_counts(run: SkipTraceRun) -> dict:
    keys = (
        "leads_done", "traced", "hits", "partial", "not_found", "skipped_verified",
        "skipped_fresh", "reused", "calls", "errors", "mobiles_found", "verified_mobiles",
        "phones_checked", "lookup_cost_micros",
    )  # fmt: skip
    counts = {key: 0 for key in keys}
    counts.update(run.counts or {})
    counts["leads_total"] = len(run.lead_ids)
    return counts


def _settle_lost_calls(session: Session, run: SkipTraceRun) -> None:
    """Calls left `pending` by a pass that died may have been paid: never make them again."""
    lost = session.scalars(
        select(SkipTraceResult).where(
            SkipTraceResult.run_id == run.id, SkipTraceResult.outcome == "pending"
        )
    ).all()
    for row in lost:
        provider = session.get(SkipTraceProvider, row.provider_id) if row.provider_id else None
        row.outcome = "lost"
        row.error = "The pass stopped during this call; it is not made again."
        row.cost = provider.cost_per_search if provider else Decimal(0)
        run.spent += row.cost


def _source(session, provider: SkipTraceProvider, chunk: list[int], options):
    answers = (
        result_files.provider_answers(session, provider, chunk) if provider.kind == "file" else None
    )
    return provider_settings.build_source(
        provider,
        options.secrets_key,
        answers=answers,
        http_client=options.http_client,
        rules=options.endpoint_rules,
    )


def _trace_chunk(session, run, team, settings, stages, chunk, counts, options) -> str:
    """Run the waterfall over one chunk of leads; the stop reason when the budget ends it."""
    now = utcnow()
    fresh_after = now - timedelta(days=settings.freshness_days)
    leads = list(_iter_leads(session, team.id, chunk))
    prior = _prior_results(session, team.id, chunk, fresh_after, run.id)
    open_leads = []
    for lead in leads:
        if has_verified_owner_mobile(lead):
            counts["skipped_verified"] += 1
        elif lead.traced_at is not None and lead.traced_at >= fresh_after:
            counts["skipped_fresh"] += 1
        else:
            open_leads.append(lead)
    accepted: dict[int, SkipTraceResult] = {}
    stopped: SkipTraceProvider | None = None
    untraced: set[int] = set()  # leads the budget stopped before every provider was asked
    for index, stage in enumerate(stages):
        waiting = [lead for lead in open_leads if lead.id not in accepted]
        if not waiting or stage.skipped:
            continue
        to_call = []
        for lead in waiting:
            reused = prior.get((lead.id, stage.provider.id))
            if reused is None:
                to_call.append(lead)
                continue
            counts["reused"] += 1
            if reused.found and is_valid(Candidate.from_dict(reused.candidate), settings.threshold):
                accepted[lead.id] = reused
        not_called = _call_within_budget(
            session, run, stage, to_call, settings, accepted, counts, options
        )
        if not_called:
            stopped = stage.provider
            untraced = {lead.id for lead in not_called}
            if any(not later.skipped for later in stages[index + 1 :]):
                untraced |= {lead.id for lead in waiting if lead.id not in accepted}
            break
    _finish_leads(session, run, open_leads, accepted, counts, now, untraced)
    # Numbers are checked (a paid call with Twilio) only for leads this pass finished.
    _check_and_score(
        session, team, [lead for lead in leads if lead.id not in untraced], counts, options
    )
    counts["leads_done"] += len(chunk)
    return _budget_message(run, stopped) if stopped else ""


def _call_within_budget(session, run, stage, leads, settings, accepted, counts, options) -> list:
    """Call the provider for `leads` in rounds that fit the budget; the leads left uncalled
    when it ran out (none when all were called).

    Each round reserves the most every call may cost, so the budget holds even if all
    of them hit; what they really cost frees room for the next round.
    """
    most = stage.provider.cost_per_search + stage.provider.cost_per_hit
    while leads:
        room = None if run.budget is None else run.budget - run.spent
        fits = len(leads) if room is None else int(room // most) if most else len(leads)
        if fits <= 0:
            return leads
        calls = [_claim(session, run, stage, lead) for lead in leads[:fits]]
        session.commit()  # the claims are on disk before any call is made
        _make_calls(session, run, stage, calls, settings, accepted, counts, options)
        session.commit()
        leads = leads[fits:]
    return []


def _budget_message(run: SkipTraceRun, provider: SkipTraceProvider) -> str:
    most = provider.cost_per_search + provider.cost_per_hit
    return (
        f"Budget reached: ${run.spent:,.2f} of ${run.budget:,.2f} spent, and the next call "
        f"({provider.name}, up to ${most:,.4f}) would pass it."
    )


def _claim(session, run, stage: _Stage, lead: Lead) -> _Call:
    query = query_for(lead)
    row = SkipTraceResult(
        team_id=run.team_id,
        run_id=run.id,
        lead_id=lead.id,
        provider_id=stage.provider.id,
        provider_name=stage.provider.name,
        outcome="pending",
        request=query.fields(),
        sandbox=stage.provider.kind == "sandbox",
    )
    session.add(row)
    return _Call(lead, row, query)


def _make_calls(session, run, stage, calls, settings, accepted, counts, options) -> None:
    """Make the claimed calls concurrently and record each answer as it comes."""
    if not calls:
        return
    workers = min(stage.provider.max_concurrency, len(calls))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            (call, pool.submit(_call_with_retries, stage, call.query, options.sleep))
            for call in calls
        ]
        for call, future in futures:
            _record(run, stage, call, future.result(), settings, accepted, counts)


def _call_with_retries(stage: _Stage, query: TraceQuery, sleep) -> _Answer:
    """One lookup, tried again after a timeout, 429 or 5xx, with backoff."""
    started = time.monotonic()
    for attempt in range(len(RETRY_BACKOFF) + 1):
        with stage.lock:
            if stage.skipped:  # it refused the calls before this one: do not ask again
                refused = ProviderError(
                    f"Not called: {stage.provider.name} refused "
                    f"{REFUSALS_BEFORE_SKIP} calls in a row.",
                    retryable=False,
                )
                return _Answer(None, refused, 0, 0)
        stage.bucket.acquire()
        try:
            result = stage.source.lookup(query)
        except ProviderError as exc:
            if not exc.retryable or attempt == len(RETRY_BACKOFF):
                stage.note(exc)
                return _Answer(None, exc, attempt + 1, _ms(started))
            sleep(RETRY_BACKOFF[attempt])
        else:
            stage.note(None)
            return _Answer(result, None, attempt + 1, _ms(started))
    raise AssertionError("unreachable")


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(run, stage, call: _Call, answer: _Answer, settings, accepted, counts) -> None:
    row = call.row
    row.attempts, row.elapsed_ms = answer.attempts, answer.elapsed_ms
    counts["calls"] += answer.attempts > 0
    by = counts.setdefault("by_provider", {}).setdefault(
        str(stage.provider.id), {"name": stage.provider.name, "calls": 0, "hits": 0, "errors": 0}
    )
    by["calls"] += answer.attempts > 0
    if answer.error is not None:
        row.outcome, row.error = "error", str(answer.error)[:255]
        row.request = {**row.request, **answer.error.request}
        row.response = answer.error.response if isinstance(answer.error.response, dict) else {}
        if answer.attempts:
            counts["errors"] += 1
            by["errors"] += 1
        else:
            counts["not_called"] = counts.get("not_called", 0) + 1
        return
    result = answer.result
    best = max(result.candidates, key=quality) if result.candidates else None
    row.request = {**row.request, **result.request}
    row.response, row.cost, row.found = result.response, result.cost, result.found
    row.candidate = best.to_dict() if best else {}
    row.confidence = best.confidence if best else None
    valid = best is not None and is_valid(best, settings.threshold)
    row.outcome = "hit" if valid else ("partial" if result.found else "miss")
    run.spent += result.cost
    if valid:
        accepted[call.lead.id] = row
        by["hits"] += 1


def _prior_results(
    session, team_id: int, lead_ids: list[int], since: datetime, run_id: int
) -> dict:
    """Paid results of these leads, by (lead, provider): from the freshness window, and
    every one of this pass (a resumed pass never pays for the same call twice)."""
    rows = session.scalars(
        select(SkipTraceResult)
        .where(
            of_team(SkipTraceResult, team_id),
            SkipTraceResult.lead_id.in_(lead_ids),
            SkipTraceResult.outcome.in_(PAID_OUTCOMES),
            or_(SkipTraceResult.created_at >= since, SkipTraceResult.run_id == run_id),
        )
        .order_by(SkipTraceResult.id)
    )
    return {(row.lead_id, row.provider_id): row for row in rows}


def _finish_leads(session, run, leads, accepted, counts, now, untraced) -> None:
    """Write the accepted (or best) result onto each lead that went through the waterfall."""
    results = _run_results(session, run.id, [lead.id for lead in leads])
    for lead in leads:
        row = accepted.get(lead.id)
        if row is None and lead.id in untraced:
            continue  # the budget stopped before this lead met every provider
        status = "found"
        if row is None:
            found = [r for r in results.get(lead.id, []) if r.found and r.candidate]
            row = max(found, key=lambda r: quality(Candidate.from_dict(r.candidate)), default=None)
            status = "partial" if row is not None else "not_found"
        counts["traced"] += 1
        counts[{"found": "hits", "partial": "partial", "not_found": "not_found"}[status]] += 1
        if row is not None:
            applied = apply.apply_candidate(
                session, lead, Candidate.from_dict(row.candidate), row.provider_name, row.sandbox
            )
            counts["mobiles_found"] += applied.mobiles
            if row.run_id == run.id:
                row.applied = True
        lead.traced_at, lead.trace_status = now, status
    session.flush()


def _run_results(session, run_id: int, lead_ids: list[int]) -> dict[int, list]:
    rows = session.scalars(
        select(SkipTraceResult).where(
            SkipTraceResult.run_id == run_id, SkipTraceResult.lead_id.in_(lead_ids)
        )
    )
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.lead_id, []).append(row)
    return grouped


def _check_and_score(session, team, leads, counts, options) -> None:
    """Check the line type of the chunk's numbers, then score its leads again."""
    phones = [phone for lead in leads for phone in lead.phones]
    checked = linetype.check_phones(session, team.id, phones, options.checker, sleep=options.sleep)
    counts["phones_checked"] += checked.checked
    counts["lookup_cost_micros"] += int(checked.cost * 1_000_000)
    counts["verified_mobiles"] += sum(
        1
        for lead in leads
        if lead.trace_status in ("found", "partial")
        and any(p.verified_mobile and p.source.startswith("skiptrace") for p in lead.phones)
    )
    scoring.rescore_leads(session, team.id, [lead.id for lead in leads])


def _iter_leads(session: Session, team_id: int, lead_ids: list[int]):
    """The team's leads among `lead_ids` with business, owner and their phones loaded."""
    for start in range(0, len(lead_ids), 500):
        yield from session.scalars(
            select(Lead)
            .where(of_team(Lead, team_id), Lead.id.in_(lead_ids[start : start + 500]))
            .options(
                selectinload(Lead.business).selectinload(Business.phones),
                selectinload(Lead.business).selectinload(Business.emails),
                selectinload(Lead.owner).selectinload(Owner.phones),
                selectinload(Lead.owner).selectinload(Owner.emails),
            )
            .order_by(Lead.id)
        )


def cancel_pass(session: Session, run: SkipTraceRun) -> bool:
    """Ask a queued or running pass to stop after the chunk it is on."""
    if run.finished:
        return False
    session.execute(
        update(SkipTraceRun).where(SkipTraceRun.id == run.id).values(cancel_requested=True)
    )
    return True


def cancel_requested(session: Session, run_id: int) -> bool:
    """Whether someone asked the pass to stop (read fresh from the database)."""
    return bool(
        session.scalar(select(SkipTraceRun.cancel_requested).where(SkipTraceRun.id == run_id))
    )


def mark_finished(session: Session, run_id: int, status: str, reason: str) -> None:
    """Record a pass as failed or cancelled, keeping what it had done and spent."""
    session.rollback()
    run = session.get(SkipTraceRun, run_id)
    if run is None or run.status in ("done", "stopped"):
        return
    run.status, run.stop_reason = status, reason.split("\n", 1)[0][:255]
    run.finished_at = utcnow()
    session.commit()


def outcome_sentence(run: SkipTraceRun) -> str:
    """One line on what a pass did, for its job and the command line."""
    counts = run.counts or {}
    sentence = (
        f"{counts.get('traced', 0):,} leads traced: {counts.get('hits', 0):,} found, "
        f"{counts.get('partial', 0):,} partly, {counts.get('mobiles_found', 0):,} mobiles; "
        f"${run.spent:,.2f} spent."
    )
    return f"{sentence} {run.stop_reason}" if run.stop_reason else sentence


def trace_lead(session: Session, team: Team, lead: Lead, started_by_id: int | None) -> SkipTraceRun:
    """A queued one-lead pass (the lead page's "Trace now"), under the pass rules: a lead
    with a verified owner mobile or traced lately is not traced again (ProviderProblem
    says which)."""
    plan = plan_pass(session, team, [lead.id])
    if not plan.to_trace:
        if plan.verified:
            raise provider_settings.ProviderProblem(
                "This lead already has a verified mobile for its owner: no trace needed."
            )
        days = provider_settings.TraceSettings.of(team).freshness_days
        raise provider_settings.ProviderProblem(
            f"This lead was traced within the last {days} days (Settings > Skip trace)."
        )
    return create_run(
        session,
        team,
        plan.to_trace,
        filters={"q": lead.code},
        budget=None,
        started_by_id=started_by_id,
    )


def start_pass_for_team(
    session: Session, team: Team, *, limit: int | None = None, budget: Decimal | None = None
) -> SkipTraceRun:
    """A queued pass over the team's leads that need tracing, highest priority first."""
    ids = list(
        session.scalars(
            select(Lead.id)
            .where(of_team(Lead, team.id))
            .order_by(Lead.priority.desc().nulls_last(), Lead.id)
        )
    )
    plan = plan_pass(session, team, ids, limit=limit)
    return create_run(
        session,
        team,
        plan.to_trace,
        filters={"command": "skiptrace"},
        budget=budget,
        started_by_id=None,
    )
