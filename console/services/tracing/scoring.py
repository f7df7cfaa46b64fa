"""LUCI lead scoring: a quality score, a priority, a queue, a next step and a persona.

The formulas are the seed's (LuciAI calculateQualityScore, calculatePriorityLevel,
determineQueue, LeadQueueManager.selectOptimalAgent); the numbers are a team's weights,
which a manager may edit and which are saved in `team.settings["scoring"]`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, joinedload, object_session

from console.models import Business, Lead, Owner, Team
from console.models.base import utcnow
from console.services.tenancy import scoped

SETTINGS_KEY = "scoring"
CHUNK = 500
MAX_WEIGHT = 100

# ------------------------------------------------------------------------ industries

INDUSTRY_GROUPS = ("technology", "healthcare", "finance", "manufacturing", "real_estate", "retail")

# Code prefixes; the longest matching prefix wins, so 357x computers are technology
# although SIC 20-39 is manufacturing.
SIC_GROUPS: dict[str, str] = {
    **dict.fromkeys(map(str, range(20, 40)), "manufacturing"),
    **dict.fromkeys(map(str, range(52, 60)), "retail"),
    **dict.fromkeys(("60", "61", "62", "63", "64", "67"), "finance"),
    **dict.fromkeys(("357", "366", "367", "737", "48"), "technology"),
    "65": "real_estate",
    "80": "healthcare",
}
NAICS_GROUPS: dict[str, str] = {
    **dict.fromkeys(("31", "32", "33"), "manufacturing"),
    **dict.fromkeys(("44", "45"), "retail"),
    **dict.fromkeys(("51", "5415"), "technology"),
    "52": "finance",
    "53": "real_estate",
    "62": "healthcare",
}
# Checked in this order, so "Real Estate Investment" is real estate, not finance.
INDUSTRY_KEYWORDS: dict[str, tuple[str, ...]] = {
    group: tuple(words.split("|"))
    for group, words in {
        "real_estate": "real estate|realtor|property management",
        "healthcare": "health|medical|dental|dentist|physician|clinic|hospital|chiropract"
        "|veterinar",
        "technology": "software|computer|technology|it services|data",
        "finance": "financ|bank|insurance|accounting|investment|credit",
        "manufacturing": "manufactur|fabricat|machin",
        "retail": "retail|store|shop",
    }.items()
}


def _by_prefix(code: str, table: Mapping[str, str]) -> str:
    """The group of the longest prefix of `code` found in `table`, or ""."""
    for length in range(len(code), 1, -1):
        if code[:length] in table:
            return table[code[:length]]
    return ""


def industry_group(label: str, sic: str = "", naics: str = "") -> str:
    """The group a business is in ("" for none): by SIC, else NAICS, else its label's words.

    A code, when present, decides alone: it is more reliable than the words of a label.
    """
    sic, naics = re.sub(r"\D", "", sic or ""), re.sub(r"\D", "", naics or "")
    if len(sic) >= 2:
        return _by_prefix(sic, SIC_GROUPS)
    if len(naics) >= 2:
        return _by_prefix(naics, NAICS_GROUPS)
    text = (label or "").lower()
    return next((g for g, words in INDUSTRY_KEYWORDS.items() if any(w in text for w in words)), "")


# ------------------------------------------------------------------- size bands

# (band, first revenue above the band, words); bands go by revenue_low, the cautious end.
REVENUE_BANDS: tuple[tuple[str, int | None, str], ...] = (
    ("under_1m", 1_000_000, "under $1M"),
    ("1m_5m", 5_000_000, "$1-5M"),
    ("5m_10m", 10_000_000, "$5-10M"),
    ("10m_50m", 50_000_000, "$10-50M"),
    ("over_50m", None, "$50M+"),
)
# (least employees, weight, words), largest first.
EMPLOYEE_TIERS: tuple[tuple[int, str, str], ...] = (
    (50, "employees_50", "50+ employees"),
    (20, "employees_20", "20-49 employees"),
    (10, "employees_10", "10-19 employees"),
)
REVENUE_WORDS = {band: words for band, _, words in REVENUE_BANDS}
BIG_COMPANY = 100  # the priority boost is for more than this many employees


def revenue_band(revenue_low: int | None) -> str:
    """The seed's revenue band (`under_1m` ... `over_50m`), or `unknown`."""
    if revenue_low is None:
        return "unknown"
    return next(band for band, above, _ in REVENUE_BANDS if above is None or revenue_low < above)


# ----------------------------------------------------------------------- weights


def _weight(default: Any, label: str) -> Any:
    """A field of Weights: its default and its label on the settings form."""
    return field(default=default, metadata={"label": label})


@dataclass(frozen=True)
class Weights:
    """A team's scoring numbers; the defaults are the seed's."""

    base: int = _weight(50, "Base score")
    industry_points: int = _weight(20, "High-value industry")
    high_value_industries: tuple[str, ...] = _weight(
        ("technology", "healthcare", "finance", "manufacturing"), "High-value industries"
    )
    revenue_under_1m: int = _weight(0, "Revenue under $1M")
    revenue_1m_5m: int = _weight(10, "Revenue $1-5M")
    revenue_5m_10m: int = _weight(20, "Revenue $5-10M")
    revenue_10m_50m: int = _weight(30, "Revenue $10-50M")
    revenue_over_50m: int = _weight(40, "Revenue $50M+")
    employees_50: int = _weight(15, "50+ employees")
    employees_20: int = _weight(10, "20-49 employees")
    employees_10: int = _weight(5, "10-19 employees")
    contact_office_phone: int = _weight(5, "Office phone")
    contact_mobile: int = _weight(10, "Mobile")
    contact_email: int = _weight(5, "Email")
    contact_owner_name: int = _weight(10, "Owner name")
    contact_cap: int = _weight(20, "Contact details cap")
    boost_real_estate: int = _weight(10, "Priority boost: real estate")
    boost_employees_100: int = _weight(15, "Priority boost: over 100 employees")
    boost_revenue_over_50m: int = _weight(20, "Priority boost: revenue $50M+")
    queue_high_priority: int = _weight(80, "High-priority queue from priority")
    queue_standard: int = _weight(60, "Standard queue from priority")
    queue_min_quality: int = _weight(60, "Queue only from quality")
    queue_min_priority: int = _weight(40, "Queue only from priority")
    action_immediate: int = _weight(80, "Immediate outreach from priority")


DEFAULT_WEIGHTS = Weights()
WEIGHT_LABELS: dict[str, str] = {f.name: f.metadata["label"] for f in fields(Weights)}
NUMBER_FIELDS = tuple(name for name in WEIGHT_LABELS if name != "high_value_industries")


def load_weights(settings: Mapping[str, Any] | None) -> Weights:
    """A team's weights from what it saved (`team.settings["scoring"]`), junk ignored."""
    saved = settings if isinstance(settings, Mapping) else {}
    values: dict[str, Any] = {}
    for name in NUMBER_FIELDS:
        value = saved.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            values[name] = min(MAX_WEIGHT, max(0, round(value)))
    groups = saved.get("high_value_industries")
    if isinstance(groups, list | tuple):
        values["high_value_industries"] = tuple(g for g in INDUSTRY_GROUPS if g in groups)
    return replace(DEFAULT_WEIGHTS, **values)


def weights_to_settings(weights: Weights) -> dict[str, Any]:
    """The weights as the JSON dict saved at `team.settings["scoring"]`."""
    settings = asdict(weights)
    settings["high_value_industries"] = list(weights.high_value_industries)
    return settings


def team_weights(session: Session, team_id: int) -> Weights:
    """The weights team `team_id` saved, over the defaults."""
    team = session.get(Team, team_id)
    return load_weights((team.settings or {}).get(SETTINGS_KEY) if team else None)


def weights_from_form(
    form: Mapping[str, str], current: Weights = DEFAULT_WEIGHTS
) -> tuple[Weights, list[str]]:
    """Weights typed in the settings form, and what is wrong; absent fields keep `current`."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name in (n for n in NUMBER_FIELDS if n in form):
        number, error = _form_number(form[name])
        if error:
            errors.append(f"{WEIGHT_LABELS[name]}: {error}.")
        else:
            values[name] = number
    if "high_value_industries" in form:
        values["high_value_industries"], unknown = _form_groups(form["high_value_industries"])
        errors += [
            f"Unknown industry group “{g}”: choose from {', '.join(INDUSTRY_GROUPS)}."
            for g in unknown
        ]
    weights = replace(current, **values)
    if weights.queue_standard > weights.queue_high_priority:
        errors.append("The standard queue cannot start above the high-priority queue.")
    return weights, errors


def _form_groups(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Industry groups typed as `technology, real estate`, and the names not known."""
    names = [re.sub(r"[\s-]+", "_", n.strip()) for n in (text or "").lower().split(",")]
    groups = tuple(g for g in INDUSTRY_GROUPS if g in names)
    return groups, [n for n in names if n and n not in INDUSTRY_GROUPS]


def _form_number(text: str) -> tuple[int, str]:
    """A weight typed in a box, and "" or what is wrong with it."""
    text = (text or "").strip()
    if not re.fullmatch(r"-?\d+", text):
        return 0, "enter a whole number"
    number = int(text)
    if number < 0:
        return number, "cannot be negative"
    if number > MAX_WEIGHT:
        return number, f"at most {MAX_WEIGHT}"
    return number, ""


# ------------------------------------------------------------------------ labels

QUEUES: dict[str, str] = {
    "high_priority": "High priority (80+)",
    "standard": "Standard (60-79)",
    "follow_up": "Follow-up (below 60)",
    "not_queued": "Not queued (quality under 60 or priority under 40)",
}
ACTIONS: dict[str, str] = {
    "skip_trace_required": "Skip trace: find the owner and a mobile",
    "phone_validation_required": "Validate the mobile before texting",
    "immediate_outreach": "Reach out now",
    "standard_outreach": "Reach out in the normal run",
    "await_reply": "Texted: wait for a reply",
    "answer_reply": "Answer the owner's reply",
    "work_the_deal": "Work the deal",
    "no_outreach_not_interested": "No outreach: the owner is not interested",
    "no_outreach_do_not_contact": "No outreach: do not contact",
}
# Statuses past the first text decide the next step, whatever the contact facts say.
STATUS_ACTIONS: dict[str, str] = {
    "contacted": "await_reply",
    "replied": "answer_reply",
    "interested": "answer_reply",
    "deal": "work_the_deal",
    "not_interested": "no_outreach_not_interested",
    "do_not_contact": "no_outreach_do_not_contact",
}
PERSONAS: dict[str, str] = {
    "GIANNA": "First touches and nurture: warm, professional openers.",
    "CATHY": "Follow-up nudges: gentle and persistent with owners who went quiet.",
    "SABRINA": "Closing and booking: confident, puts the call on the calendar.",
    "NEVA": "Research and support: looks into the owner before anyone writes.",
}
# selectOptimalAgent's capabilities, in its order (ties go to the earlier persona);
# None stands for the seed's 'all'.
PERSONA_RULES: tuple[tuple[str, frozenset[str] | None, int, int], ...] = (
    ("GIANNA", frozenset({"real_estate", "retail"}), 40, 70),
    ("CATHY", frozenset({"technology", "manufacturing"}), 50, 80),
    ("SABRINA", frozenset({"finance", "healthcare"}), 70, 100),
    ("NEVA", None, 30, 60),
)
PERSONA_INDUSTRY_POINTS = 30
PERSONA_RANGE_POINTS = 40
SABRINA_HOT_POINTS, SABRINA_HOT_FROM = 20, 80
NEVA_NO_OWNER_POINTS = 15


# ----------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class LeadFacts:
    """What scoring looks at about a lead, read from its business, owner and contacts."""

    industry: str = ""  # one of INDUSTRY_GROUPS, or ""
    revenue_low: int | None = None
    employees: int | None = None
    office_phone: bool = False
    mobile: bool = False
    verified_mobile: bool = False
    email: bool = False
    owner_known: bool = False
    status: str = ""  # the lead's status; see STATUS_ACTIONS


@dataclass(frozen=True)
class Score:
    """A lead's scores and what follows from them, with the reasons in plain words."""

    quality: int
    priority: int
    breakdown: list[dict[str, Any]]
    queue: str
    recommended_action: str
    persona: str


def facts_for(lead: Lead) -> LeadFacts:
    """The facts scoring needs, read from a lead with its business, owner and contacts."""
    business, owner, phones = lead.business, lead.owner, lead.phones
    verified = any(p.verified_mobile for p in phones)
    return LeadFacts(
        industry=_industry_of(business),
        revenue_low=business.revenue_low if business else None,
        employees=_employees_of(business),
        office_phone=bool(business) and any(p.kind != "mobile" for p in business.phones),
        mobile=verified or any(p.kind == "mobile" for p in phones),
        verified_mobile=verified,
        email=bool(lead.emails),
        owner_known=bool(owner and (owner.full_name or "").strip()),
        status=lead.status or "",
    )


def _industry_of(business: Business | None) -> str:
    """The industry group of a lead's business, or ""."""
    if business is None:
        return ""
    return industry_group(business.industry, business.sic_code, business.naics_code)


def _employees_of(business: Business | None) -> int | None:
    """The business's head count: the low end of its range, else the high end."""
    if business is None or business.employees_low is None:
        return business.employees_high if business else None
    return business.employees_low


def _item(points: int, why: str, part: str = "quality") -> dict[str, Any]:
    """One line of a breakdown."""
    return {"points": points, "why": why, "part": part}


def _capped(items: list[dict[str, Any]], cap: int, why: str, part: str) -> list[dict[str, Any]]:
    """`items` with a negative line taking their total down to `cap` when it is above."""
    total = sum(i["points"] for i in items)
    return items + [_item(cap - total, why, part)] if total > cap else items


def _contact_items(facts: LeadFacts, w: Weights) -> list[dict[str, Any]]:
    """Points for the ways to reach the owner, capped together."""
    mobile = "mobile verified" if facts.verified_mobile else "mobile on file, not yet verified"
    found = (
        (facts.office_phone, w.contact_office_phone, "office phone on file"),
        (facts.mobile, w.contact_mobile, mobile),
        (facts.email, w.contact_email, "email on file"),
        (facts.owner_known, w.contact_owner_name, "owner name known"),
    )
    items = [_item(points, why) for has, points, why in found if has]
    return _capped(items, w.contact_cap, f"contact details capped at {w.contact_cap}", "quality")


def _quality_items(facts: LeadFacts, w: Weights) -> list[dict[str, Any]]:
    """calculateQualityScore, line by line."""
    items = [_item(w.base, "base score")]
    if facts.industry and facts.industry in w.high_value_industries:
        name = facts.industry.replace("_", " ")
        items.append(_item(w.industry_points, f"high-value industry: {name}"))
    band = revenue_band(facts.revenue_low)
    if band != "unknown":
        items.append(_item(getattr(w, f"revenue_{band}"), f"revenue {REVENUE_WORDS[band]}"))
    for least, weight, words in EMPLOYEE_TIERS:
        if facts.employees and facts.employees >= least:
            items.append(_item(getattr(w, weight), words))
            break
    items += _contact_items(facts, w)
    return _capped(items, 100, "quality capped at 100", "quality")


def _priority_items(facts: LeadFacts, quality: int, w: Weights) -> list[dict[str, Any]]:
    """calculatePriorityLevel's boosts over the quality score, kept within 1-100."""
    boosts = (
        (facts.industry == "real_estate", w.boost_real_estate, "real estate industry"),
        ((facts.employees or 0) > BIG_COMPANY, w.boost_employees_100, "more than 100 employees"),
        (revenue_band(facts.revenue_low) == "over_50m", w.boost_revenue_over_50m, "revenue $50M+"),
    )
    items = [_item(points, why, "priority") for hit, points, why in boosts if hit]
    raw = quality + sum(i["points"] for i in items)
    if raw > 100:
        items.append(_item(100 - raw, "priority capped at 100", "priority"))
    elif raw < 1:
        items.append(_item(1 - raw, "priority raised to 1", "priority"))
    return items


def queue_for(quality: int, priority: int, w: Weights = DEFAULT_WEIGHTS) -> str:
    """determineQueue, behind the seed's gate on quality and priority."""
    if quality < w.queue_min_quality or priority < w.queue_min_priority:
        return "not_queued"
    if priority >= w.queue_high_priority:
        return "high_priority"
    return "standard" if priority >= w.queue_standard else "follow_up"


def action_for(facts: LeadFacts, priority: int, w: Weights = DEFAULT_WEIGHTS) -> str:
    """The next step for a lead: what its status calls for, else what its contacts allow."""
    if facts.status in STATUS_ACTIONS:
        return STATUS_ACTIONS[facts.status]
    # Departs from the seed's recommendAction, which sent a lead with no mobile to phone
    # validation: with no number there is nothing to validate, and only a skip trace
    # finds one; validation is for a mobile no line-type check has confirmed yet.
    if not facts.owner_known or not facts.mobile:
        return "skip_trace_required"
    if not facts.verified_mobile:
        return "phone_validation_required"
    return "immediate_outreach" if priority >= w.action_immediate else "standard_outreach"


def step_after_status_change(lead: Lead, status: str) -> str | None:
    """The next step once `lead` takes `status`, or None when it stays as it is.

    Called as the status is set (`Lead`'s validator), so a do-not-contact lead or a
    lead with a deal never keeps a stale "Skip trace"; a lead back at a working status
    gets the step its contacts allow, with its team's weights.
    """
    if status in STATUS_ACTIONS:
        return STATUS_ACTIONS[status]
    if lead.recommended_action not in STATUS_ACTIONS.values():
        return None  # the step already follows the contacts (or the lead is not scored)
    session = object_session(lead)
    weights = team_weights(session, lead.team_id) if session is not None else DEFAULT_WEIGHTS
    facts = replace(facts_for(lead), status=status)
    return action_for(facts, lead.priority or 0, weights)


def persona_for(industry: str, priority: int, owner_known: bool) -> str:
    """selectOptimalAgent: the persona whose industries and priority range fit best."""
    best, best_points = "", -1
    for name, industries, low, high in PERSONA_RULES:
        points = PERSONA_INDUSTRY_POINTS * (industries is None or industry in industries)
        points += PERSONA_RANGE_POINTS * (low <= priority <= high)
        points += SABRINA_HOT_POINTS * (name == "SABRINA" and priority >= SABRINA_HOT_FROM)
        points += NEVA_NO_OWNER_POINTS * (name == "NEVA" and not owner_known)
        if points > best_points:  # strict, as the seed's reduce: ties keep the earlier
            best, best_points = name, points
    return best


def score_facts(facts: LeadFacts, weights: Weights = DEFAULT_WEIGHTS) -> Score:
    """Quality, priority, queue, next step and persona for a lead's facts."""
    quality_items = _quality_items(facts, weights)
    quality = sum(i["points"] for i in quality_items)
    priority_items = _priority_items(facts, quality, weights)
    priority = quality + sum(i["points"] for i in priority_items)
    return Score(
        quality=quality,
        priority=priority,
        breakdown=[i for i in quality_items + priority_items if i["points"]],
        queue=queue_for(quality, priority, weights),
        recommended_action=action_for(facts, priority, weights),
        persona=persona_for(facts.industry, priority, facts.owner_known),
    )


def explain(lead: Lead, weights: Weights | None = None) -> list[dict[str, Any]]:
    """Why a lead scores what it does: the stored breakdown, or one worked out now."""
    if lead.score_breakdown or lead.scored_at is not None:
        return list(lead.score_breakdown or [])
    return score_facts(facts_for(lead), weights or DEFAULT_WEIGHTS).breakdown


# --------------------------------------------------------------------- rescoring


def score_changes(lead: Lead, score: Score, when: datetime) -> dict[str, Any] | None:
    """The columns to write for `score` on `lead` (with its id), or None when nothing differs."""
    values = {
        "quality_score": score.quality,
        "priority": score.priority,
        "score_breakdown": score.breakdown,
        "queue": score.queue,
        "recommended_action": score.recommended_action,
        "persona": score.persona,
    }
    changed = {k: v for k, v in values.items() if getattr(lead, k) != v}
    if not changed and lead.scored_at is not None:
        return None
    return {"id": lead.id, **changed, "scored_at": when}


def _lead_chunks(
    session: Session, team_id: int, lead_ids: Iterable[int] | None
) -> Iterator[list[Lead]]:
    """A team's leads (all, or those in `lead_ids`) with their contacts, CHUNK at a time."""
    query = (
        scoped(Lead, team_id)
        .options(
            joinedload(Lead.business).selectinload(Business.phones),
            joinedload(Lead.business).selectinload(Business.emails),
            joinedload(Lead.owner).selectinload(Owner.phones),
            joinedload(Lead.owner).selectinload(Owner.emails),
        )
        .order_by(Lead.id)
    )
    if lead_ids is not None:
        ids = sorted(set(lead_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = query.where(Lead.id.in_(ids[start : start + CHUNK]))
            yield list(session.scalars(chunk).unique())
        return
    last_id = 0
    while rows := list(session.scalars(query.where(Lead.id > last_id).limit(CHUNK)).unique()):
        yield rows
        last_id = rows[-1].id


def rescore_leads(
    session: Session,
    team_id: int,
    lead_ids: Iterable[int] | None = None,
    *,
    weights: Weights | None = None,
    now: datetime | None = None,
) -> int:
    """Score a team's leads (all when `lead_ids` is None) and store it; how many changed.

    Flushes each chunk and leaves the commit to the caller; running it twice changes
    nothing the second time.
    """
    weights = weights or team_weights(session, team_id)
    when = now or utcnow()
    changed = 0
    for leads in _lead_chunks(session, team_id, lead_ids):
        rows = [score_changes(lead, score_facts(facts_for(lead), weights), when) for lead in leads]
        rows = [row for row in rows if row is not None]
        if not rows:
            continue
        # One executemany UPDATE a column set, rather than the unit of work per object.
        for shape in {tuple(sorted(row)) for row in rows}:
            session.execute(update(Lead), [row for row in rows if tuple(sorted(row)) == shape])
        by_id = {lead.id: lead for lead in leads}
        for row in rows:
            session.expire(by_id[row["id"]], [name for name in row if name != "id"])
        changed += len(rows)
    return changed
