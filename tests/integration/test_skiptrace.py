"""The skip-trace waterfall against local vendor APIs: order, acceptance, the best-of
fallback, budgets, retries, refusals, no double charge, resuming, exact cost, skips,
cancelling, what is written onto a lead, and concurrency; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import select

from console.extensions import db
from console.models import Lead, SkipTraceProvider, SkipTraceResult, SkipTraceRun, Team
from console.providers.lookup import OfflineLookup
from console.providers.skiptrace.http import DEFAULT_BODY, EndpointRules
from console.services.tracing import provider_settings, waterfall
from tests.conftest import make_lead
from tests.fakeservers import VendorServer

WIRELESS = "Wireless"


def answer(name: str, confidence: float, *numbers: str, kind: str = WIRELESS) -> dict:
    """A vendor payload with one candidate."""
    return {
        "results": [
            {
                "name": name,
                "title": "Owner",
                "confidence": confidence,
                "phones": [{"number": number, "type": kind} for number in numbers],
            }
        ]
    }


# The vendors here listen on loopback, which a console refuses unless told.
LOCAL_VENDOR = EndpointRules(allow_http=True, allow_private=True)


@pytest.fixture
def vendor() -> Iterator[Callable[..., VendorServer]]:
    """Start vendor APIs for a test: `vendor(hit_rate=1.0)`; all stopped after it."""
    started: list[VendorServer] = []

    def start(**kwargs) -> VendorServer:
        server = VendorServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def http_provider(
    team: Team,
    name: str,
    server: VendorServer,
    *,
    per_search: str = "0.10",
    per_hit: str = "0.05",
    secret: str = "test-key",
    concurrency: str = "8",
) -> SkipTraceProvider:
    """A committed HTTP provider of `team` calling `server`, last in the team's order."""
    provider = provider_settings.add_provider(db.session, team.id, "http", name)
    provider_settings.update_provider(
        provider,
        {
            "endpoint": server.url + "/search",
            "method": "POST",
            "auth_header": "Authorization",
            "auth_prefix": "Bearer ",
            "secret": secret,
            "body_template": DEFAULT_BODY,
            "results_path": "results",
            "owner_name_path": "name",
            "title_path": "title",
            "phones_path": "phones",
            "phone_number_key": "number",
            "phone_type_key": "type",
            "emails_path": "emails",
            "addresses_path": "addresses",
            "confidence_path": "confidence",
            "timeout_seconds": "0.5",
            "cost_per_search": per_search,
            "cost_per_hit": per_hit,
            "rate_per_second": "200",
            "max_concurrency": concurrency,
            "enabled": "y",
        },
        current_app.config["SECRETS_KEY"],
        LOCAL_VENDOR,
    )
    db.session.commit()
    return provider


def pass_options(**changes) -> waterfall.PassOptions:
    """Options for a pass in tests: the offline line checker and retries that do not wait."""
    return waterfall.PassOptions(
        secrets_key=current_app.config["SECRETS_KEY"],
        checker=OfflineLookup(),
        sleep=lambda seconds: None,
        endpoint_rules=LOCAL_VENDOR,
        **changes,
    )


def new_run(team: Team, leads: list[Lead], budget: str | None = None) -> SkipTraceRun:
    """A committed, queued pass of `team` over `leads`."""
    run = waterfall.create_run(
        db.session,
        team,
        [lead.id for lead in leads],
        filters={},
        budget=Decimal(budget) if budget is not None else None,
        started_by_id=None,
    )
    db.session.commit()
    return run


def trace(team: Team, leads: list[Lead], budget: str | None = None, **changes) -> SkipTraceRun:
    """Run a whole pass of `team` over `leads`; the finished run, read back from the database."""
    run = new_run(team, leads, budget)
    waterfall.run_pass(db.session, run.id, pass_options(**changes))
    db.session.expire_all()
    return db.session.get(SkipTraceRun, run.id)


def results(run: SkipTraceRun) -> list[SkipTraceResult]:
    """Every call a pass made, in the order it claimed them."""
    return list(
        db.session.scalars(
            select(SkipTraceResult)
            .where(SkipTraceResult.run_id == run.id)
            .order_by(SkipTraceResult.id)
        )
    )


def result_of(run: SkipTraceRun, lead: Lead, provider: SkipTraceProvider) -> SkipTraceResult:
    """The one call a pass made to `provider` about `lead`."""
    (row,) = [r for r in results(run) if r.lead_id == lead.id and r.provider_id == provider.id]
    return row


def leads_of(team: Team, *names: str) -> list[Lead]:
    """Committed leads of `team`, one per business name."""
    return [make_lead(team, name) for name in names]


def reload(lead: Lead) -> Lead:
    """The lead as the database has it now."""
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


# ------------------------------------------------------------------------------ the order


def test_second_provider_is_asked_only_about_leads_the_first_missed(crew, vendor):
    first, second = vendor(hit_rate=0.5), vendor(hit_rate=1.0)
    http_provider(crew.team, "First", first)
    http_provider(crew.team, "Second", second)
    names = [f"Waterfall Co {n:02d}" for n in range(16)]
    missed = {name for name in names if not first.hits(name)}
    assert missed and len(missed) < len(names)  # the fake's hit rate splits them

    run = trace(crew.team, leads_of(crew.team, *names))

    assert dict(first.calls_by_name) == {name: 1 for name in names}
    assert dict(second.calls_by_name) == {name: 1 for name in missed}
    assert run.status == "done"
    assert run.counts["hits"] == len(names)


def test_moving_a_provider_up_makes_it_asked_first(crew, vendor):
    first, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    http_provider(crew.team, "First", first)
    promoted = http_provider(crew.team, "Second", second)
    provider_settings.move_provider(db.session, promoted, -1)
    db.session.commit()

    trace(crew.team, leads_of(crew.team, "Order Co A", "Order Co B"))

    assert first.requests == []
    assert dict(second.calls_by_name) == {"Order Co A": 1, "Order Co B": 1}


# ------------------------------------------------------------------------- acceptance


def test_one_word_name_or_low_confidence_passes_the_lead_to_the_next_provider(crew, vendor):
    provider_settings.save_trace_settings(crew.team, 70, 90)
    db.session.commit()
    first = vendor(
        hit_rate=0.0,
        answers={
            "One Word Co": answer("Madonna", 0.95, "(512) 555-0111"),
            "Unsure Co": answer("Pat Lowry", 0.69, "(512) 555-0112"),
            "Just Sure Co": answer("Dana Ruiz", 0.70, "(512) 555-0113"),
        },
    )
    second = vendor(
        hit_rate=0.0,
        answers={
            "One Word Co": answer("Maria Lopez", 0.90, "(512) 555-0121"),
            "Unsure Co": answer("Sam Ortiz", 0.80, "(512) 555-0122"),
        },
    )
    p1 = http_provider(crew.team, "First", first)
    p2 = http_provider(crew.team, "Second", second)
    one_word, unsure, just_sure = leads_of(crew.team, "One Word Co", "Unsure Co", "Just Sure Co")

    run = trace(crew.team, [one_word, unsure, just_sure])

    # Confidence at the threshold is accepted: the third lead never reaches the second.
    assert "Just Sure Co" not in second.calls_by_name
    assert result_of(run, just_sure, p1).outcome == "hit"
    for lead, owner, number in ((one_word, "Maria Lopez", "+15125550121"),
                                (unsure, "Sam Ortiz", "+15125550122")):  # fmt: skip
        refused, accepted = result_of(run, lead, p1), result_of(run, lead, p2)
        assert (refused.outcome, refused.applied) == ("partial", False)
        assert (accepted.outcome, accepted.applied) == ("hit", True)
        lead = reload(lead)
        assert lead.owner.full_name == owner
        assert lead.trace_status == "found"
        assert [(p.e164, p.source, p.kind) for p in lead.phones] == [
            (number, "skiptrace:Second", "mobile")
        ]


def test_best_result_is_kept_when_no_provider_gives_a_valid_one(crew, vendor):
    first = vendor(
        hit_rate=0.0,
        answers={
            # A surname only, sure of itself; the second's full name is worth more.
            "Half Known Co": answer("Lopez", 0.95, "(512) 555-0131"),
            "Early Best Co": answer("Grace Okafor", 0.40, "(512) 555-0132"),
        },
    )
    second = vendor(
        hit_rate=0.0,
        answers={
            "Half Known Co": answer("Maria Lopez", 0.40, "(512) 555-0141"),
            "Early Best Co": answer("Okafor", 0.99, "(512) 555-0142"),
        },
    )
    p1 = http_provider(crew.team, "First", first)
    p2 = http_provider(crew.team, "Second", second)
    half, early, nobody = leads_of(crew.team, "Half Known Co", "Early Best Co", "Nobody Co")

    run = trace(crew.team, [half, early, nobody])

    assert result_of(run, half, p2).applied and not result_of(run, half, p1).applied
    assert result_of(run, early, p1).applied and not result_of(run, early, p2).applied
    assert reload(half).owner.full_name == "Maria Lopez"
    assert reload(early).owner.full_name == "Grace Okafor"
    assert {reload(half).trace_status, reload(early).trace_status} == {"partial"}
    nobody = reload(nobody)
    assert nobody.trace_status == "not_found"
    assert nobody.traced_at is not None
    assert nobody.owner is None
    assert not any(row.applied for row in results(run) if row.lead_id == nobody.id)
    assert (run.counts["partial"], run.counts["not_found"], run.counts["hits"]) == (2, 1, 0)


# ------------------------------------------------------------------------------ money


def test_budget_stops_before_the_call_that_would_pass_it(crew, vendor):
    server = vendor(hit_rate=0.5)
    http_provider(crew.team, "First", server, per_search="0.10", per_hit="0.05")
    leads = leads_of(crew.team, *(f"Budget Co {n:02d}" for n in range(20)))

    run = trace(crew.team, leads, budget="1.00")

    rows = results(run)
    assert run.status == "stopped"
    assert "Budget reached" in run.stop_reason
    assert run.spent <= Decimal("1.00")
    # It stops only when one more call could pass the budget.
    assert Decimal("1.00") - run.spent < Decimal("0.15")
    assert run.spent == sum((row.cost for row in rows), Decimal(0))
    assert len(server.requests) == len(rows) == run.counts["calls"] < len(leads)
    # The only provider was asked about the called leads: they are traced; the rest wait.
    by_id = {lead.id: lead for lead in leads}
    status = {row.lead_id: reload(by_id[row.lead_id]).trace_status for row in rows}
    assert status == {r.lead_id: "found" if r.found else "not_found" for r in rows}
    uncalled = [lead for lead in leads if lead.id not in status]
    assert uncalled and all(reload(lead).traced_at is None for lead in uncalled)


def test_cost_is_exact_to_the_fraction_of_a_cent(crew, vendor):
    server = vendor(hit_rate=0.6)
    http_provider(crew.team, "First", server, per_search="0.0725", per_hit="0.1150")
    leads = leads_of(crew.team, *(f"Exact Co {n:02d}" for n in range(23)))

    run = trace(crew.team, leads)

    rows = results(run)
    found = sum(row.found for row in rows)
    assert len(rows) == 23 and 0 < found < 23
    expected = Decimal("0.0725") * 23 + Decimal("0.1150") * found
    assert run.spent == sum((row.cost for row in rows), Decimal(0)) == expected
    assert {row.cost for row in rows} == {Decimal("0.0725"), Decimal("0.1875")}
    assert f"${expected:,.2f} spent." in waterfall.outcome_sentence(run)
    (estimate,) = waterfall.plan_pass(db.session, crew.team, [lead.id for lead in leads]).providers
    assert (estimate.hit_rate, estimate.hit_rate_known) == (found / 23, True)


def test_second_pass_over_fresh_leads_calls_nobody_and_costs_nothing(crew, vendor):
    server = vendor(hit_rate=0.5)
    http_provider(crew.team, "First", server)
    leads = leads_of(crew.team, *(f"Again Co {n}" for n in range(6)))
    first_run = trace(crew.team, leads)
    assert len(server.requests) == 6 and first_run.spent > 0
    server.reset()

    plan = waterfall.plan_pass(db.session, crew.team, [lead.id for lead in leads])
    second_run = trace(crew.team, leads)

    assert (plan.fresh, plan.to_trace) == (6, [])
    assert server.requests == []
    assert second_run.spent == Decimal(0)
    assert second_run.counts["skipped_fresh"] == 6
    assert results(second_run) == []


def test_with_no_freshness_window_a_rerun_calls_and_pays_again(crew, vendor):
    server = vendor(hit_rate=0.5)
    http_provider(crew.team, "First", server)
    leads = leads_of(crew.team, *(f"Zero Days Co {n}" for n in range(6)))
    first_run = trace(crew.team, leads)
    provider_settings.save_trace_settings(crew.team, 60, 0)
    db.session.commit()
    server.reset()

    second_run = trace(crew.team, leads)

    assert dict(server.calls_by_name) == {lead.business.name: 1 for lead in leads}
    assert second_run.spent == first_run.spent > 0
    assert second_run.counts["reused"] == 0


def test_rerun_after_budget_stop_reuses_paid_results_instead_of_calling_again(crew, vendor):
    first, second = vendor(hit_rate=0.0), vendor(hit_rate=1.0)
    http_provider(crew.team, "First", first, per_search="0.10", per_hit="0")
    http_provider(crew.team, "Second", second, per_search="0.50", per_hit="0.50")
    leads = leads_of(crew.team, "Reuse Co A", "Reuse Co B")

    stopped = trace(crew.team, leads, budget="0.50")
    assert stopped.status == "stopped" and stopped.spent == Decimal("0.20")
    assert second.requests == []
    assert all(reload(lead).traced_at is None for lead in leads)

    finished = trace(crew.team, leads)

    assert dict(first.calls_by_name) == {"Reuse Co A": 1, "Reuse Co B": 1}
    assert dict(second.calls_by_name) == {"Reuse Co A": 1, "Reuse Co B": 1}
    assert finished.counts["reused"] == 2
    assert finished.spent == Decimal("2.00")
    assert {reload(lead).trace_status for lead in leads} == {"found"}


def _crash_mid_call(team: Team, lead: Lead, provider: SkipTraceProvider) -> SkipTraceRun:
    """A run whose process died while calling `provider` about `lead`."""
    run = new_run(team, [lead])
    run.status = "running"
    db.session.add(
        SkipTraceResult(
            team_id=team.id,
            run_id=run.id,
            lead_id=lead.id,
            provider_id=provider.id,
            provider_name=provider.name,
            outcome="pending",
        )
    )
    db.session.commit()
    return run


def test_resumed_pass_settles_the_lost_call_and_never_makes_it_again(crew, vendor):
    first, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    p1 = http_provider(crew.team, "First", first, per_search="0.10", per_hit="0.05")
    http_provider(crew.team, "Second", second, per_search="0.20", per_hit="0.30")
    (lead,) = leads_of(crew.team, "Crashed Co")
    run = _crash_mid_call(crew.team, lead, p1)

    waterfall.run_pass(db.session, run.id, pass_options())
    db.session.expire_all()
    run = db.session.get(SkipTraceRun, run.id)

    lost = result_of(run, lead, p1)
    assert (lost.outcome, lost.cost) == ("lost", Decimal("0.10"))
    assert "not made again" in lost.error
    assert first.requests == []
    assert dict(second.calls_by_name) == {"Crashed Co": 1}
    assert run.spent == Decimal("0.10") + Decimal("0.50")
    assert run.spent == sum((row.cost for row in results(run)), Decimal(0))
    assert reload(lead).trace_status == "found"


def test_resumed_pass_never_repeats_a_lost_call_even_with_no_freshness_window(crew, vendor):
    provider_settings.save_trace_settings(crew.team, 60, 0)
    first, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    p1 = http_provider(crew.team, "First", first)
    http_provider(crew.team, "Second", second)
    (lead,) = leads_of(crew.team, "Crashed Fresh Co")
    run = _crash_mid_call(crew.team, lead, p1)

    waterfall.run_pass(db.session, run.id, pass_options())

    assert first.requests == []


# ------------------------------------------------------------------- failing providers


def test_timeouts_and_server_errors_are_retried_twice_then_fall_through(crew, vendor):
    first = vendor(
        hit_rate=1.0,
        timeout_sleep=1.0,
        fail_names={
            "Slow Co": "timeout",
            "Broken Co": "500",
            "Busy Co": "429",
            "Flaky Co": "flaky",
        },
    )
    second = vendor(hit_rate=1.0)
    p1 = http_provider(crew.team, "First", first)
    p2 = http_provider(crew.team, "Second", second)
    slow, broken, busy, flaky = leads_of(crew.team, "Slow Co", "Broken Co", "Busy Co", "Flaky Co")

    run = trace(crew.team, [slow, broken, busy, flaky])

    for lead in (slow, broken, busy):
        failed = result_of(run, lead, p1)
        assert (failed.outcome, failed.attempts, failed.cost) == ("error", 3, Decimal(0))
        assert first.calls_by_name[lead.business.name] == 3
        assert result_of(run, lead, p2).applied
        assert reload(lead).owner.full_name == second.result_for(lead.business.name)["name"]
    assert "0.5 s" in result_of(run, slow, p1).error
    assert "500" in result_of(run, broken, p1).error
    recovered = result_of(run, flaky, p1)
    assert (recovered.outcome, recovered.attempts, recovered.applied) == ("hit", 2, True)
    assert "Flaky Co" not in second.calls_by_name
    assert run.counts["errors"] == 3
    assert run.spent == sum((row.cost for row in results(run)), Decimal(0))


def test_vendor_not_found_is_a_paid_miss_and_an_unreadable_answer_an_unpaid_error(crew, vendor):
    server = vendor(hit_rate=1.0, fail_names={"Gone Co": "404", "Garbled Co": "garbage"})
    provider = http_provider(crew.team, "First", server, per_search="0.10", per_hit="0.05")
    gone, garbled = leads_of(crew.team, "Gone Co", "Garbled Co")

    run = trace(crew.team, [gone, garbled])

    miss, error = result_of(run, gone, provider), result_of(run, garbled, provider)
    assert (miss.outcome, miss.attempts, miss.cost) == ("miss", 1, Decimal("0.10"))
    assert (error.outcome, error.attempts, error.cost) == ("error", 1, Decimal(0))
    assert "not JSON" in error.error
    assert run.spent == Decimal("0.10")
    assert reload(gone).trace_status == reload(garbled).trace_status == "not_found"


def test_refused_call_is_not_retried(crew, vendor):
    refusing, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    p1 = http_provider(crew.team, "Wrong Key", refusing, secret="wrong-key")
    http_provider(crew.team, "Second", second)
    leads = leads_of(crew.team, "Refused Co A", "Refused Co B")

    run = trace(crew.team, leads)

    for lead in leads:
        refused = result_of(run, lead, p1)
        assert (refused.outcome, refused.attempts, refused.cost) == ("error", 1, Decimal(0))
        assert "401" in refused.error
        assert reload(lead).trace_status == "found"
    assert dict(refusing.calls_by_name) == {"Refused Co A": 1, "Refused Co B": 1}


def test_provider_refusing_five_calls_in_a_row_is_skipped_for_the_rest_of_the_pass(
    crew, vendor, monkeypatch
):
    # Chunks of five: the first chunk's refusals keep the provider out of the later ones.
    monkeypatch.setattr(waterfall, "CHUNK", 5)
    refusing, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    http_provider(crew.team, "Wrong Key", refusing, secret="wrong-key", concurrency="1")
    http_provider(crew.team, "Second", second)
    leads = leads_of(crew.team, *(f"Refused Co {n:02d}" for n in range(15)))

    trace(crew.team, leads)

    assert len(second.requests) == 15
    assert len(refusing.requests) == waterfall.REFUSALS_BEFORE_SKIP


def test_provider_refusing_five_calls_in_a_row_gets_no_sixth_call_in_the_same_chunk(crew, vendor):
    refusing, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    http_provider(crew.team, "Wrong Key", refusing, secret="wrong-key", concurrency="1")
    http_provider(crew.team, "Second", second)
    leads = leads_of(crew.team, *(f"Refused Again Co {n:02d}" for n in range(12)))

    trace(crew.team, leads)

    assert len(second.requests) == 12
    assert len(refusing.requests) == waterfall.REFUSALS_BEFORE_SKIP


# --------------------------------------------------------------------- skips and plans


def test_leads_with_a_verified_owner_mobile_are_skipped_and_cost_nothing(crew, vendor):
    first, second = vendor(hit_rate=1.0), vendor(hit_rate=1.0)
    p1 = http_provider(crew.team, "First", first, per_search="0.10", per_hit="0.05")
    p2 = http_provider(crew.team, "Second", second, per_search="0.20", per_hit="0.30")
    verified = make_lead(crew.team, "Verified Co", "Ann Lee", mobile="+15125550150")
    verified.owner.phones[0].line_type, verified.owner.phones[0].textable = "mobile", True
    unchecked = make_lead(crew.team, "Unchecked Co", "Bo Diaz", mobile="+15125550151")
    others = leads_of(crew.team, "Plain Co A", "Plain Co B", "Plain Co C")
    db.session.commit()
    leads = [verified, unchecked, *others]

    plan = waterfall.plan_pass(db.session, crew.team, [lead.id for lead in leads])

    assert plan.selected == 5 and plan.verified == 1 and plan.fresh == 0
    assert sorted(plan.to_trace) == sorted(lead.id for lead in leads[1:])
    first_estimate, second_estimate = plan.providers
    assert first_estimate.provider.id == p1.id and second_estimate.provider.id == p2.id
    # No history yet: 60% of the 4 leads are expected to hit at the first provider.
    assert (first_estimate.calls_expected, first_estimate.hit_rate_known) == (4, False)
    assert first_estimate.cost_expected == Decimal("0.40") + 2 * Decimal("0.05")
    assert first_estimate.cost_most == 4 * Decimal("0.15")
    assert second_estimate.calls_expected == 2
    assert second_estimate.cost_expected == 2 * Decimal("0.20") + Decimal("0.30")
    assert plan.cost_most == Decimal("0.60") + Decimal("2.00")

    run = trace(crew.team, leads)

    assert run.counts["skipped_verified"] == 1
    assert "Verified Co" not in first.calls_by_name
    assert verified.id not in {row.lead_id for row in results(run)}
    assert run.spent == 4 * Decimal("0.15")
    assert reload(verified).traced_at is None
    assert reload(unchecked).trace_status == "found"


def test_cancelled_pass_stops_before_its_first_chunk(crew, vendor):
    server = vendor(hit_rate=1.0)
    http_provider(crew.team, "First", server)
    run = new_run(crew.team, leads_of(crew.team, "Cancel Co A", "Cancel Co B"))

    assert waterfall.cancel_pass(db.session, run) is True
    db.session.commit()
    with pytest.raises(waterfall.PassCancelled):
        waterfall.run_pass(
            db.session,
            run.id,
            pass_options(should_stop=lambda: waterfall.cancel_requested(db.session, run.id)),
        )
    waterfall.mark_finished(db.session, run.id, "cancelled", "Stopped by request.")

    run = db.session.get(SkipTraceRun, run.id)
    assert server.requests == []
    assert results(run) == []
    assert (run.status, run.stop_reason, run.spent) == (
        "cancelled",
        "Stopped by request.",
        Decimal(0),
    )
    assert waterfall.cancel_pass(db.session, run) is False


def test_pass_needs_an_enabled_provider_and_a_budget_above_zero(crew, vendor):
    (lead,) = leads_of(crew.team, "Unready Co")
    with pytest.raises(provider_settings.ProviderProblem, match="at least one"):
        new_run(crew.team, [lead])
    http_provider(crew.team, "First", vendor())

    with pytest.raises(provider_settings.ProviderProblem, match="No lead"):
        new_run(crew.team, [])

    with pytest.raises(provider_settings.ProviderProblem) as problem:
        new_run(crew.team, [lead], budget="0")
    assert problem.value.field == "budget"


def test_marking_a_finished_pass_failed_keeps_what_it_did(crew, vendor):
    http_provider(crew.team, "First", vendor(hit_rate=1.0))
    run = trace(crew.team, leads_of(crew.team, "Finished Co"))

    waterfall.mark_finished(db.session, run.id, "failed", "Worker lost\ntraceback...")

    run = db.session.get(SkipTraceRun, run.id)
    assert (run.status, run.stop_reason) == ("done", "")
    assert run.spent == Decimal("0.15")


def test_pass_leaves_another_teams_leads_alone(crew, outsider, vendor):
    server = vendor(hit_rate=1.0)
    http_provider(crew.team, "First", server)
    (ours,) = leads_of(crew.team, "Our Co")
    (theirs,) = leads_of(outsider.team, "Their Co")

    run = trace(crew.team, [ours, theirs])

    assert dict(server.calls_by_name) == {"Our Co": 1}
    assert {row.lead_id for row in results(run)} == {ours.id}
    assert reload(theirs).traced_at is None


def test_sandbox_answers_are_labelled_as_sandbox(crew):
    provider = provider_settings.ensure_sandbox(db.session, crew.team)
    assert provider_settings.ensure_sandbox(db.session, crew.team) is None
    db.session.commit()
    leads = leads_of(crew.team, *(f"Sandbox Co {n}" for n in range(8)))

    run = trace(crew.team, leads)

    rows = results(run)
    assert len(rows) == 8 and all(row.sandbox for row in rows)
    assert run.spent == sum((provider.cost_per_search + provider.cost_per_hit * r.found)
                            for r in rows)  # fmt: skip
    sources = {p.source for lead in leads for p in reload(lead).phones}
    assert sources <= {"skiptrace:Sandbox (sandbox)"} and sources


# -------------------------------------------------------------------- onto the lead


def test_answer_never_overwrites_the_owner_or_duplicates_a_phone(crew, vendor):
    server = vendor(
        hit_rate=0.0,
        answers={"Smith Plumbing": answer("Maria Lopez", 0.90, "(512) 555-0142", "(512) 555-0177")},
    )
    http_provider(crew.team, "First", server)
    lead = make_lead(crew.team, "Smith Plumbing", "John Smith", mobile="+15125550142")

    trace(crew.team, [lead])
    provider_settings.save_trace_settings(crew.team, 60, 0)
    db.session.commit()
    trace(crew.team, [lead])  # the same answer, written a second time

    assert server.calls_by_name["Smith Plumbing"] == 2
    lead = reload(lead)
    assert lead.owner.full_name == "John Smith"
    assert lead.owner.alt_names == [
        {"name": "Maria Lopez", "title": "Owner", "source": "skiptrace:First"}
    ]
    assert sorted((p.e164, p.source) for p in lead.phones) == [
        ("+15125550142", ""),
        ("+15125550177", "skiptrace:First"),
    ]


# ------------------------------------------------------------------------ concurrency


def test_calls_run_concurrently_within_the_providers_limit(crew, vendor):
    server = vendor(hit_rate=1.0, latency=0.05)
    http_provider(crew.team, "First", server, concurrency="8")
    leads = leads_of(crew.team, *(f"Busy Street Co {n:02d}" for n in range(40)))

    run = trace(crew.team, leads)

    assert len(server.requests) == 40
    assert 1 < server.peak <= 8
    assert run.counts["hits"] == 40
