"""LUCI lead scoring: quality, priority, queue, next step, persona, and a team's weights."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from console.extensions import db
from console.models import Business, Email, Lead, Owner, Phone, Team
from console.models.leads import LEAD_STATUSES
from console.services.tracing.scoring import (
    ACTIONS,
    DEFAULT_WEIGHTS,
    INDUSTRY_GROUPS,
    NUMBER_FIELDS,
    PERSONAS,
    QUEUES,
    SETTINGS_KEY,
    STATUS_ACTIONS,
    WEIGHT_LABELS,
    LeadFacts,
    Weights,
    explain,
    facts_for,
    industry_group,
    load_weights,
    persona_for,
    rescore_leads,
    revenue_band,
    score_facts,
    weights_from_form,
    weights_to_settings,
)
from tests.conftest import make_lead

# A lead that can be texted: owner known, verified mobile (quality 50 + 20 contact).
REACHABLE = {"owner_known": True, "mobile": True, "verified_mobile": True}


def facts(**values) -> LeadFacts:
    """LeadFacts with only the given facts set."""
    return LeadFacts(**values)


def weights(**values) -> Weights:
    """The default weights with some numbers changed."""
    return replace(DEFAULT_WEIGHTS, **values)


def item(points: int, why: str, part: str = "quality") -> dict:
    """One breakdown line, as score_facts writes it."""
    return {"points": points, "why": why, "part": part}


# ----------------------------------------------------------------------- quality


@pytest.mark.parametrize(
    ("given", "quality", "line"),
    [
        ({}, 50, item(50, "base score")),
        ({"industry": "healthcare"}, 70, item(20, "high-value industry: healthcare")),
        ({"industry": "technology"}, 70, item(20, "high-value industry: technology")),
        ({"industry": "finance"}, 70, item(20, "high-value industry: finance")),
        ({"industry": "manufacturing"}, 70, item(20, "high-value industry: manufacturing")),
        ({"revenue_low": 2_000_000}, 60, item(10, "revenue $1-5M")),
        ({"revenue_low": 7_500_000}, 70, item(20, "revenue $5-10M")),
        ({"revenue_low": 20_000_000}, 80, item(30, "revenue $10-50M")),
        ({"revenue_low": 80_000_000}, 90, item(40, "revenue $50M+")),
        ({"employees": 12}, 55, item(5, "10-19 employees")),
        ({"employees": 30}, 60, item(10, "20-49 employees")),
        ({"employees": 75}, 65, item(15, "50+ employees")),
        ({"office_phone": True}, 55, item(5, "office phone on file")),
        ({"mobile": True}, 60, item(10, "mobile on file, not yet verified")),
        ({"mobile": True, "verified_mobile": True}, 60, item(10, "mobile verified")),
        ({"email": True}, 55, item(5, "email on file")),
        ({"owner_known": True}, 60, item(10, "owner name known")),
    ],
)
def test_each_quality_term_scores_alone_with_its_words(given, quality, line):
    score = score_facts(facts(**given))
    assert score.quality == quality
    assert line in score.breakdown


@pytest.mark.parametrize("industry", ["retail", "real_estate", ""])
def test_other_industries_earn_no_quality_points(industry):
    assert score_facts(facts(industry=industry)).quality == 50


@pytest.mark.parametrize(
    ("given", "quality"),
    [
        ({"industry": "finance", "revenue_low": 1_000_000}, 80),
        ({"revenue_low": 5_000_000, "employees": 20, "email": True}, 85),
        ({"industry": "technology", "employees": 10, "owner_known": True}, 85),
        ({"office_phone": True, "email": True}, 60),
        ({"mobile": True, "owner_known": True}, 70),
    ],
)
def test_quality_terms_add_up(given, quality):
    assert score_facts(facts(**given)).quality == quality


def test_quality_is_capped_at_100_and_says_so():
    everything = facts(
        industry="healthcare",
        revenue_low=60_000_000,
        employees=500,
        office_phone=True,
        email=True,
        **REACHABLE,
    )
    score = score_facts(everything)
    assert score.quality == 100
    assert item(-45, "quality capped at 100") in score.breakdown  # 50+20+40+15+20 = 145


@pytest.mark.parametrize(
    ("given", "quality", "capped"),
    [
        ({"mobile": True, "owner_known": True}, 70, False),  # exactly 20: no cap line
        ({"office_phone": True, "mobile": True, "email": True}, 70, False),
        ({"office_phone": True, "mobile": True, "email": True, "owner_known": True}, 70, True),
        ({"mobile": True, "email": True, "owner_known": True}, 70, True),
    ],
)
def test_contact_details_are_capped_at_20(given, quality, capped):
    score = score_facts(facts(**given))
    assert score.quality == quality
    cap_lines = [i for i in score.breakdown if i["why"] == "contact details capped at 20"]
    assert bool(cap_lines) is capped


def test_cap_line_takes_the_contact_total_down_to_the_cap():
    score = score_facts(facts(office_phone=True, mobile=True, email=True, owner_known=True))
    assert item(-10, "contact details capped at 20") in score.breakdown


@pytest.mark.parametrize(
    ("revenue_low", "band", "points"),
    [
        (None, "unknown", 0),
        (0, "under_1m", 0),
        (999_999, "under_1m", 0),
        (1_000_000, "1m_5m", 10),
        (4_999_999, "1m_5m", 10),
        (5_000_000, "5m_10m", 20),
        (9_999_999, "5m_10m", 20),
        (10_000_000, "10m_50m", 30),
        (49_999_999, "10m_50m", 30),
        (50_000_000, "over_50m", 40),
    ],
)
def test_revenue_bands_and_their_boundaries(revenue_low, band, points):
    assert revenue_band(revenue_low) == band
    assert score_facts(facts(revenue_low=revenue_low)).quality == 50 + points


@pytest.mark.parametrize(
    ("employees", "points"),
    [(None, 0), (0, 0), (9, 0), (10, 5), (19, 5), (20, 10), (49, 10), (50, 15), (5000, 15)],
)
def test_employee_boundaries(employees, points):
    assert score_facts(facts(employees=employees)).quality == 50 + points


def test_unknown_revenue_and_no_points_leave_no_breakdown_lines():
    assert score_facts(facts()).breakdown == [item(50, "base score")]


# ---------------------------------------------------------------------- priority


@pytest.mark.parametrize(
    ("given", "quality", "priority", "lines"),
    [
        ({"industry": "real_estate"}, 50, 60, [(10, "real estate industry")]),
        ({"employees": 100}, 65, 65, []),
        ({"employees": 101}, 65, 80, [(15, "more than 100 employees")]),
        ({"revenue_low": 49_999_999}, 80, 80, []),
        (
            {"revenue_low": 50_000_000},
            90,
            100,
            [(20, "revenue $50M+"), (-10, "priority capped at 100")],
        ),
        ({"industry": "retail"}, 50, 50, []),
    ],
)
def test_priority_boosts(given, quality, priority, lines):
    score = score_facts(facts(**given))
    assert (score.quality, score.priority) == (quality, priority)
    priority_lines = [i for i in score.breakdown if i["part"] == "priority"]
    assert priority_lines == [item(points, why, "priority") for points, why in lines]


def test_priority_is_capped_at_100_and_says_so():
    score = score_facts(facts(industry="real_estate", employees=101, revenue_low=50_000_000))
    # quality 50 + 15 + 40 = 105 -> 100; priority 100 + 10 + 15 + 20 = 145 -> 100
    assert (score.quality, score.priority) == (100, 100)
    assert item(-45, "priority capped at 100", "priority") in score.breakdown


def test_priority_never_falls_below_1():
    score = score_facts(facts(), weights(base=0))
    assert (score.quality, score.priority) == (0, 1)
    assert item(1, "priority raised to 1", "priority") in score.breakdown


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"industry": "real_estate", "employees": 150, "mobile": True},
        {"industry": "finance", "revenue_low": 70_000_000, "employees": 200, **REACHABLE},
        {"office_phone": True, "mobile": True, "email": True, "owner_known": True},
    ],
)
def test_breakdown_adds_up_to_the_scores(given):
    score = score_facts(facts(**given))
    quality_points = sum(i["points"] for i in score.breakdown if i["part"] == "quality")
    priority_points = sum(i["points"] for i in score.breakdown if i["part"] == "priority")
    assert quality_points == score.quality
    assert score.quality + priority_points == score.priority


# ------------------------------------------------------------------------- queue


@pytest.mark.parametrize(
    ("changes", "queue"),
    [
        ({"base": 80}, "high_priority"),
        ({"base": 79}, "standard"),
        ({"base": 60}, "standard"),
        ({"base": 59}, "not_queued"),  # priority 59 but quality 59: below the gate
        ({"base": 59, "queue_min_quality": 50}, "follow_up"),
        ({"base": 40, "queue_min_quality": 0}, "follow_up"),
        ({"base": 39, "queue_min_quality": 0}, "not_queued"),  # priority gate
        ({"base": 70, "queue_high_priority": 70}, "high_priority"),
    ],
)
def test_queue_thresholds(changes, queue):
    assert score_facts(facts(), weights(**changes)).queue == queue


def test_priority_boost_can_lift_a_lead_into_the_high_priority_queue():
    score = score_facts(facts(industry="real_estate", revenue_low=10_000_000))
    assert (score.quality, score.priority, score.queue) == (80, 90, "high_priority")


def test_quality_gate_holds_back_a_lead_whose_boosts_alone_are_high():
    score = score_facts(facts(industry="real_estate", employees=150), weights(base=40))
    assert (score.quality, score.priority, score.queue) == (55, 80, "not_queued")


# ------------------------------------------------------------------------ action


@pytest.mark.parametrize(
    ("given", "base", "action"),
    [
        ({"mobile": True, "verified_mobile": True}, 50, "skip_trace_required"),
        ({"owner_known": True}, 50, "skip_trace_required"),
        ({"owner_known": True, "office_phone": True}, 80, "skip_trace_required"),
        ({"owner_known": True, "mobile": True}, 80, "phone_validation_required"),
        (REACHABLE, 60, "immediate_outreach"),  # 60 + 20 contact = 80
        (REACHABLE, 59, "standard_outreach"),  # 79
        (REACHABLE, 50, "standard_outreach"),
    ],
)
def test_recommended_action(given, base, action):
    assert score_facts(facts(**given), weights(base=base)).recommended_action == action


def test_immediate_outreach_threshold_is_a_weight():
    reachable = facts(**REACHABLE)
    assert score_facts(reachable).recommended_action == "standard_outreach"
    assert score_facts(reachable, weights(action_immediate=70)).recommended_action == (
        "immediate_outreach"
    )


# ----------------------------------------------------------------------- persona


@pytest.mark.parametrize(
    ("industry", "priority", "owner_known", "persona"),
    [
        ("finance", 75, True, "SABRINA"),  # the seed's example: 0 / 40 / 70 / 30
        ("", 55, True, "NEVA"),  # the seed's example: 40 / 40 / 0 / 70
        ("real_estate", 60, True, "GIANNA"),  # 70 ties NEVA's 70: the earlier wins
        ("retail", 20, True, "GIANNA"),  # 30 ties NEVA's 30
        ("", 75, True, "CATHY"),  # CATHY and SABRINA tie at 40
        ("technology", 65, True, "CATHY"),
        ("manufacturing", 80, True, "CATHY"),  # 70 beats SABRINA's 40 + 20
        ("technology", 55, False, "NEVA"),  # 30 + 40 + 15 beats CATHY's 70
        ("technology", 55, True, "CATHY"),
        ("healthcare", 90, True, "SABRINA"),
        ("", 90, True, "SABRINA"),  # 40 + 20 beats NEVA's 30
        ("", 100, False, "SABRINA"),  # 60 beats NEVA's 45
        ("real_estate", 71, True, "CATHY"),  # past GIANNA's range: 30 vs CATHY's 40
        ("real_estate", 85, True, "SABRINA"),  # 40 + 20 vs GIANNA's and NEVA's 30
        ("", 25, False, "NEVA"),
        ("", 30, True, "NEVA"),
    ],
)
def test_persona_selection(industry, priority, owner_known, persona):
    assert persona_for(industry, priority, owner_known) == persona


def test_score_picks_the_persona_from_the_final_priority():
    score = score_facts(facts(industry="healthcare", revenue_low=20_000_000, **REACHABLE))
    assert (score.priority, score.persona) == (100, "SABRINA")


def test_every_persona_and_queue_and_action_has_a_label():
    assert list(PERSONAS) == ["GIANNA", "CATHY", "SABRINA", "NEVA"]
    assert set(QUEUES) == {"high_priority", "standard", "follow_up", "not_queued"}
    assert set(ACTIONS) == {
        "skip_trace_required",
        "phone_validation_required",
        "immediate_outreach",
        "standard_outreach",
        *STATUS_ACTIONS.values(),
    }
    assert set(STATUS_ACTIONS) <= set(LEAD_STATUSES)


# --------------------------------------------------------------------- industries


@pytest.mark.parametrize(
    ("label", "sic", "naics", "group"),
    [
        ("", "7372", "", "technology"),
        ("", "3571", "", "technology"),  # computers, inside manufacturing's 20-39
        ("", "3674", "", "technology"),
        ("", "4813", "", "technology"),  # telecom
        ("", "3599", "", "manufacturing"),
        ("", "2011", "", "manufacturing"),
        ("", "6022", "", "finance"),
        ("", "6411", "", "finance"),
        ("", "6799", "", "finance"),
        ("", "6531", "", "real_estate"),
        ("", "8021", "", "healthcare"),
        ("", "5812", "", "retail"),
        ("", "1711", "", ""),
        ("Software Publishers", "1711", "", ""),  # a code decides alone
        ("", "", "541511", "technology"),
        ("", "", "517311", "technology"),
        ("", "", "332710", "manufacturing"),
        ("", "", "522110", "finance"),
        ("", "", "531210", "real_estate"),
        ("", "", "621210", "healthcare"),
        ("", "", "445110", "retail"),
        ("", "", "541110", ""),
        ("Offices of Dentists", "", "", "healthcare"),
        ("Real Estate Agents & Managers", "", "", "real_estate"),
        ("Real Estate Investment Trusts", "", "", "real_estate"),
        ("Plumbing, Heating and Air-Conditioning", "", "", ""),
        ("Computer Programming Services", "", "", "technology"),
        ("Insurance Agents, Brokers and Service", "", "", "finance"),
        ("Metal Fabrication", "", "", "manufacturing"),
        ("Veterinarians", "", "", "healthcare"),
        ("Chiropractors", "", "", "healthcare"),
        ("Gift Shops", "", "", "retail"),
        ("Property Management", "", "", "real_estate"),
        ("", "", "", ""),
    ],
)
def test_industry_group_by_sic_naics_or_label(label, sic, naics, group):
    assert industry_group(label, sic, naics) == group


# ----------------------------------------------------------------------- weights


def test_custom_weights_change_the_score():
    lead = facts(industry="retail", revenue_low=2_000_000, **REACHABLE)
    assert score_facts(lead).quality == 80
    custom = weights(high_value_industries=("retail",), industry_points=15, revenue_1m_5m=0)
    score = score_facts(lead, custom)
    assert score.quality == 85
    assert item(15, "high-value industry: retail") in score.breakdown
    assert score_facts(facts(industry="healthcare"), custom).quality == 50


def test_custom_contact_cap_is_named_in_the_breakdown():
    score = score_facts(facts(**REACHABLE, email=True), weights(contact_cap=10))
    assert score.quality == 60
    assert item(-15, "contact details capped at 10") in score.breakdown


def test_default_weights_are_the_seeds_and_round_trip_through_json():
    settings = weights_to_settings(DEFAULT_WEIGHTS)
    assert json.loads(json.dumps(settings)) == settings
    assert load_weights(settings) == DEFAULT_WEIGHTS
    assert settings["high_value_industries"] == [
        "technology",
        "healthcare",
        "finance",
        "manufacturing",
    ]
    assert settings["base"] == 50 and settings["contact_cap"] == 20
    assert set(WEIGHT_LABELS) == set(settings)


@pytest.mark.parametrize("saved", [None, {}, "junk", [1, 2]])
def test_load_weights_falls_back_to_the_defaults(saved):
    assert load_weights(saved) == DEFAULT_WEIGHTS


def test_load_weights_ignores_junk_and_clamps_numbers():
    saved = {
        "base": "sixty",
        "industry_points": 500,
        "contact_cap": -4,
        "employees_50": True,
        "revenue_1m_5m": 12.6,
        "revenue_5m_10m": float("nan"),
        "queue_standard": 55,
        "high_value_industries": ["retail", 7, "bogus", "finance"],
        "no_such_weight": 3,
    }
    loaded = load_weights(saved)
    assert loaded == weights(
        industry_points=100,
        contact_cap=0,
        revenue_1m_5m=13,
        queue_standard=55,
        high_value_industries=("finance", "retail"),
    )


def test_load_weights_keeps_a_chosen_empty_industry_list():
    assert load_weights({"high_value_industries": []}).high_value_industries == ()


def test_weights_from_form_reads_every_field():
    form = {name: "7" for name in NUMBER_FIELDS}
    form["high_value_industries"] = "Retail, real estate"
    parsed, errors = weights_from_form(form)
    assert errors == []
    assert parsed.base == 7 and parsed.action_immediate == 7
    assert parsed.high_value_industries == ("real_estate", "retail")


def test_weights_from_form_keeps_current_values_for_absent_fields():
    current = weights(base=40)
    parsed, errors = weights_from_form({"contact_cap": " 25 ", "csrf_token": "x"}, current)
    assert errors == []
    assert parsed == weights(base=40, contact_cap=25)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"base": "-5"}, "Base score: cannot be negative."),
        ({"base": "abc"}, "Base score: enter a whole number."),
        ({"base": ""}, "Base score: enter a whole number."),
        ({"revenue_1m_5m": "2.5"}, "Revenue $1-5M: enter a whole number."),
        ({"contact_cap": "101"}, "Contact details cap: at most 100."),
        (
            {"high_value_industries": "technology, crypto"},
            "Unknown industry group “crypto”: choose from " + ", ".join(INDUSTRY_GROUPS) + ".",
        ),
        (
            {"queue_standard": "90"},
            "The standard queue cannot start above the high-priority queue.",
        ),
    ],
)
def test_weights_from_form_errors(form, error):
    _, errors = weights_from_form(form)
    assert errors == [error]


# -------------------------------------------------------------------- lead facts


def test_facts_for_reads_the_business_owner_and_contacts():
    business = Business(
        name="Bright Smiles",
        industry="Offices of Dentists",
        sic_code="",
        naics_code="",
        revenue_low=1_000_000,
        revenue_high=2_500_000,
        employees_low=None,
        employees_high=19,
        phones=[Phone(e164="+15125550100", kind="office")],
        emails=[Email(address="hi@brightsmiles.example")],
    )
    owner = Owner(
        full_name="Dana Reyes",
        phones=[Phone(e164="+15125550101", kind="mobile", line_type="mobile", textable=True)],
    )
    assert facts_for(Lead(business=business, owner=owner)) == LeadFacts(
        industry="healthcare",
        revenue_low=1_000_000,
        employees=19,
        office_phone=True,
        mobile=True,
        verified_mobile=True,
        email=True,
        owner_known=True,
    )


@pytest.mark.parametrize(
    ("phone", "mobile", "verified"),
    [
        ({"kind": "mobile"}, True, False),
        ({"kind": "mobile", "line_type": "mobile", "textable": False}, True, False),
        ({"kind": "mobile", "line_type": "landline", "textable": True}, True, False),
        ({"kind": "other", "line_type": "mobile", "textable": True}, True, True),
        ({"kind": "other"}, False, False),
    ],
)
def test_facts_for_tells_mobiles_from_verified_mobiles(phone, mobile, verified):
    owner = Owner(full_name="Dana Reyes", phones=[Phone(e164="+15125550101", **phone)])
    found = facts_for(Lead(owner=owner))
    assert (found.mobile, found.verified_mobile, found.office_phone) == (mobile, verified, False)


def test_facts_for_a_lead_with_nothing_known():
    assert facts_for(Lead(owner=Owner(full_name="  "))) == LeadFacts()


# ---------------------------------------------------------------------- rescoring


def test_rescore_leads_stores_scores_for_one_team_only(app, crew, outsider):
    ours = make_lead(crew.team, "Bright Smiles", owner_name="Dana Reyes", mobile="+15125550101")
    ours.business.industry = "Offices of Dentists"
    ours.business.revenue_low = 6_000_000
    bare = make_lead(crew.team, "Corner Plumbing")
    theirs = make_lead(outsider.team, "Rival Dental", owner_name="Sam Lee")
    db.session.commit()
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

    assert rescore_leads(db.session, crew.team.id, now=when) == 2
    db.session.commit()
    db.session.expire_all()
    ours, bare, theirs = (db.session.get(Lead, lead.id) for lead in (ours, bare, theirs))
    # 50 + 20 healthcare + 20 revenue + 10 mobile + 10 owner = 110 -> 100
    assert (ours.quality_score, ours.priority, ours.queue) == (100, 100, "high_priority")
    assert ours.recommended_action == "phone_validation_required"
    assert ours.persona == "SABRINA"
    assert item(20, "revenue $5-10M") in ours.score_breakdown
    assert explain(ours) == ours.score_breakdown
    assert ours.scored_at == when
    assert (bare.quality_score, bare.queue, bare.recommended_action) == (
        50,
        "not_queued",
        "skip_trace_required",
    )
    assert theirs.quality_score is None and theirs.scored_at is None

    assert rescore_leads(db.session, crew.team.id, now=datetime.now(UTC)) == 0
    assert db.session.get(Lead, ours.id).scored_at == when


def test_rescore_leads_uses_the_teams_saved_weights_and_chosen_leads(app, crew):
    first = make_lead(crew.team, "Acme Retail")
    second = make_lead(crew.team, "Beta Retail")
    assert rescore_leads(db.session, crew.team.id) == 2
    team = db.session.get(Team, crew.team.id)
    team.settings = {SETTINGS_KEY: weights_to_settings(weights(base=65))}
    db.session.commit()

    assert rescore_leads(db.session, crew.team.id, [first.id]) == 1
    db.session.commit()
    assert db.session.get(Lead, first.id).quality_score == 65
    assert db.session.get(Lead, second.id).quality_score == 50


def test_explain_works_out_a_breakdown_for_an_unscored_lead():
    lead = Lead(owner=Owner(full_name="Dana Reyes"), score_breakdown=[])
    assert explain(lead) == [item(50, "base score"), item(10, "owner name known")]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("new", "skip_trace_required"),
        ("contacted", "await_reply"),
        ("interested", "answer_reply"),
        ("deal", "work_the_deal"),
        ("do_not_contact", "no_outreach_do_not_contact"),
        ("not_interested", "no_outreach_not_interested"),
    ],
)
def test_the_next_step_follows_the_status_before_the_contacts(status, action):
    assert score_facts(LeadFacts(status=status)).recommended_action == action
