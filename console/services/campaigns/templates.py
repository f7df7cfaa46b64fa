"""The team's SMS template library: seeding, listing, checking, saving, previewing, A/B stats.

The library pages, the demo seeding and the campaign builder share these functions; a
template's body is variant A and `variants` hold B, C and D. Nothing here imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import Lead, Message, MessageTemplate, Sender, Team, User
from console.models.campaigns import PERSONAS, TEMPLATE_CATEGORIES
from console.services import audit
from console.services.campaigns import segments, tokens
from console.services.campaigns.template_library import SEED_TEMPLATES, VERTICALS
from console.services.sending.delivery import FILTERED_CODE
from console.services.sending.policy import SendingSettings
from console.services.tenancy import scoped

TOUCHES: dict[str, str] = {
    "first": "First touch",
    "follow_up": "Follow-up",
}
VARIANT_LETTERS = "ABCD"
MAX_VARIANTS = len(VARIANT_LETTERS)
NAME_LENGTH = 120

# Long but realistic values: a body measured with them never undercounts the segments
# a real lead's text takes. The team's own name stands in for {senderName} when known.
SAMPLE_VALUES: dict[str, str] = {
    "firstName": "Christopher",
    "lastName": "Montgomery-Smith",
    "fullName": "Christopher Montgomery-Smith",
    "companyName": "Northside Commercial Refrigeration",
    "industry": "commercial HVAC contractors",
    "city": "Rancho Santa Margarita",
    "state": "CA",
    "senderName": "Harbor Business Partners Group",
}

OPT_OUT_PROBLEM = (
    f"A first touch must carry opt-out wording such as '{tokens.OPT_OUT_DEFAULT}' "
    "(or the team's own); this template may not be used for a first touch."
)
EMPTY_PROBLEM = "The text is empty."
_KNOWN_TOKENS = ", ".join(f"{{{name}}}" for name in tokens.TOKENS)
_EMPTY_BRACES = re.compile(r"\{\s*\}")


# ------------------------------------------------------------------------------ checks


@dataclass(frozen=True)
class Check:
    """What is wrong with one body, how it travels as SMS, and whether it may open."""

    problems: tuple[str, ...]
    # The body with SAMPLE_VALUES filled in: the most segments a lead's text will take.
    measure: segments.Measure
    usable_first_touch: bool
    # Characters forcing UCS-2 that `segments.plain` would replace.
    replaceable: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether the body may be saved."""
        return not self.problems


def clean_body(text: str) -> str:
    """A body as it is stored: browser line endings (CRLF) made LF, outer spaces gone."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def sender_name(team: Team) -> str:
    """The team's name, for the texts no person signs: opt-out, opt-in and help replies."""
    return (team.settings or {}).get("display_name") or team.name


def signing_name(sender: Sender | None = None, user: User | None = None) -> str:
    """The person a campaign text or an inbox reply is signed by ({senderName}).

    The sender's configured signing name, else the name of the user who sends (drafts
    the batch, or answers the reply); "" when neither, so the template's fallback is used.
    """
    if sender is not None and (sender.sender_name or "").strip():
        return " ".join(sender.sender_name.split())
    return " ".join((user.name or "").split()) if user is not None else ""


def check(body: str, touch: str, team_wording: str = "", sender: str = "") -> Check:
    """Check one body for the touch it is written for; `sender` fills {senderName}.

    Problems, in words: empty text, unknown tokens, unbalanced braces, over 1,600
    characters with long values filled in, and a first touch without opt-out wording.
    """
    body = clean_body(body)
    values = {**SAMPLE_VALUES, "senderName": sender or SAMPLE_VALUES["senderName"]}
    measure = segments.measure(tokens.render(body, values).text)
    if not body:
        return Check((EMPTY_PROBLEM,), measure, False, ())
    problems = [
        f"Unknown token {{{name}}}: use one of {_KNOWN_TOKENS}."
        for name in tokens.unknown_tokens(body)
    ]
    problems += _brace_problems(body)
    if measure.too_long:
        problems.append(
            f"Over the {segments.MAX_BODY:,}-character limit: {measure.characters:,} "
            "characters with long names filled in."
        )
    opt_out = tokens.has_opt_out(body, team_wording)
    if touch == "first" and not opt_out:
        problems.append(OPT_OUT_PROBLEM)
    return Check(tuple(problems), measure, opt_out and not problems, segments.replaceable(body))


def _brace_problems(body: str) -> list[str]:
    """A brace left over once tokens are read (`{` or `}` alone), in words."""
    stray = ""
    for literal, _, _ in tokens.parse(body):
        while _EMPTY_BRACES.search(literal):  # `{}` and `{ }` are literal text on purpose
            literal = _EMPTY_BRACES.sub("", literal)
        stray += re.sub(r"[^{}]", "", literal)
    how = "A token sits on one line in one pair of braces: {firstName} or {firstName|there}."
    if "{" in stray and "}" in stray:
        return [f"Unbalanced braces: a '{{' and a '}}' do not make a token. {how}"]
    if "{" in stray:
        return [f"Unbalanced braces: a '{{' has no closing '}}'. {how}"]
    if "}" in stray:
        return [f"Unbalanced braces: a '}}' has no opening '{{'. {how}"]
    return []


def marked(text: str) -> list[tuple[str, bool]]:
    """`text` in runs of (text, forces UCS-2), for highlighting what breaks GSM-7."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        odd = char not in segments.GSM7_BASIC and char not in segments.GSM7_EXTENDED
        if runs and runs[-1][1] == odd:
            runs[-1] = (runs[-1][0] + char, odd)
        else:
            runs.append((char, odd))
    return runs


# ------------------------------------------------------------------------------ library


def seed_library(session: Session, team: Team) -> int:
    """Copy SEED_TEMPLATES the team has no template of the same name for; how many."""
    existing = set(
        session.scalars(select(MessageTemplate.name).where(MessageTemplate.team_id == team.id))
    )
    created = 0
    for seed in SEED_TEMPLATES:
        if seed.name in existing:
            continue
        session.add(
            MessageTemplate(
                team_id=team.id,
                name=seed.name,
                persona=seed.persona,
                category=seed.category,
                vertical=seed.vertical,
                touch=seed.touch,
                body=seed.body,
                variants=list(seed.variants),
            )
        )
        created += 1
    session.flush()
    return created


def seed_if_empty(session: Session, team: Team) -> int:
    """Seed the library of a team that has no templates at all (a first visit); how many."""
    has_any = session.scalar(
        select(MessageTemplate.id).where(MessageTemplate.team_id == team.id).limit(1)
    )
    if has_any is not None:
        return 0
    try:
        with session.begin_nested():
            return seed_library(session, team)
    except IntegrityError:  # another request seeded it a moment ago
        return 0


def _order(template: MessageTemplate) -> tuple:
    """Persona, then category (in their declared order), then name."""
    personas, categories = list(PERSONAS), list(TEMPLATE_CATEGORIES)
    return (
        personas.index(template.persona) if template.persona in PERSONAS else len(personas),
        categories.index(template.category)
        if template.category in TEMPLATE_CATEGORIES
        else len(categories),
        template.name.casefold(),
    )


def team_templates(
    session: Session,
    team_id: int,
    persona: str = "",
    category: str = "",
    q: str = "",
    include_archived: bool = False,
) -> list[MessageTemplate]:
    """The team's templates, filtered, by persona, category and name.

    `q` matches the name, vertical or any variant's text, ignoring case.
    """
    query = scoped(MessageTemplate, team_id)
    if persona:
        query = query.where(MessageTemplate.persona == persona)
    if category:
        query = query.where(MessageTemplate.category == category)
    if not include_archived:
        query = query.where(MessageTemplate.archived.is_(False))
    found = list(session.scalars(query))
    # Searched here, not in SQL: variants are JSON, stored with non-ASCII escaped.
    needle = q.strip().casefold()
    if needle:
        found = [t for t in found if needle in _searchable(t)]
    return sorted(found, key=_order)


def _searchable(template: MessageTemplate) -> str:
    return "\n".join([template.name, template.vertical, *template.bodies.values()]).casefold()


@dataclass(frozen=True)
class Summary:
    """A template with the check of each of its variants, as the library lists it."""

    template: MessageTemplate
    checks: dict[str, Check]

    @property
    def segments(self) -> int:
        """The most segments any variant takes with long values filled in."""
        return max(c.measure.segments for c in self.checks.values())

    @property
    def encoding(self) -> str:
        """UCS-2 if any variant needs it, else GSM-7."""
        return (
            "UCS-2" if any(c.measure.encoding == "UCS-2" for c in self.checks.values()) else "GSM-7"
        )

    @property
    def usable_first_touch(self) -> bool:
        """Whether every variant may be sent as a first touch."""
        return all(c.usable_first_touch for c in self.checks.values())

    @property
    def problems(self) -> int:
        """How many problems the variants have, together."""
        return sum(len(c.problems) for c in self.checks.values())


def check_template(team: Team, template: MessageTemplate) -> dict[str, Check]:
    """The check of every variant of `template`, by letter."""
    wording, sender = SendingSettings.of(team).opt_out_wording, sender_name(team)
    return {
        letter: check(body, template.touch, wording, sender)
        for letter, body in template.bodies.items()
    }


def summarize(team: Team, found: Iterable[MessageTemplate]) -> list[Summary]:
    """Each template with its variants' checks."""
    return [Summary(t, check_template(team, t)) for t in found]


def grouped(summaries: Sequence[Summary]) -> list[tuple[str, list[tuple[str, list[Summary]]]]]:
    """Summaries by persona, then category, in order: [(persona, [(category, [...])])]."""
    groups: list[tuple[str, list[tuple[str, list[Summary]]]]] = []
    for summary in summaries:
        persona, category = summary.template.persona, summary.template.category
        if not groups or groups[-1][0] != persona:
            groups.append((persona, []))
        categories = groups[-1][1]
        if not categories or categories[-1][0] != category:
            categories.append((category, []))
        categories[-1][1].append(summary)
    return groups


EXPORT_COLUMNS: tuple[str, ...] = (
    "name",
    "persona",
    "category",
    "vertical",
    "touch",
    "variants",
    "segments",
    "encoding",
    "usable_first_touch",
    "problems",
    "archived",
    *(f"variant_{letter.lower()}" for letter in VARIANT_LETTERS),
    "updated_at",
)


def export_row(summary: Summary) -> list:
    """One template as a CSV row of EXPORT_COLUMNS."""
    t = summary.template
    bodies = [t.bodies.get(letter, "") for letter in VARIANT_LETTERS]
    return [
        t.name,
        t.persona,
        t.category,
        t.vertical,
        t.touch,
        len(t.bodies),
        summary.segments,
        summary.encoding,
        "yes" if summary.usable_first_touch else "no",
        summary.problems,
        "yes" if t.archived else "no",
        *bodies,
        t.updated_at.isoformat(timespec="seconds") if t.updated_at else "",
    ]


# ------------------------------------------------------------------------------ saving


class TemplateInvalid(ValueError):
    """A template that may not be saved; `errors` by field name or variant letter."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(m for messages in errors.values() for m in messages))


def _snapshot(template: MessageTemplate) -> dict:
    """The fields an audit event records."""
    return {
        "name": template.name,
        "persona": template.persona,
        "category": template.category,
        "vertical": template.vertical,
        "touch": template.touch,
        "body": template.body,
        "variants": list(template.variants or []),
        "archived": template.archived,
    }


@dataclass(frozen=True)
class TemplateValues:
    """A template's fields as an editor sends them, cleaned."""

    name: str
    persona: str
    category: str
    vertical: str
    touch: str
    bodies: tuple[str, ...]  # A, then the non-blank variants in order

    @classmethod
    def of(cls, values: Mapping) -> TemplateValues:
        """Cleaned values from a mapping with name, persona, ..., body and variants."""
        variants = [clean_body(v) for v in values.get("variants") or ()]
        return cls(
            name=" ".join(str(values.get("name") or "").split()),
            persona=str(values.get("persona") or ""),
            category=str(values.get("category") or ""),
            vertical=str(values.get("vertical") or "general"),
            touch=str(values.get("touch") or ""),
            bodies=(clean_body(values.get("body") or ""), *(v for v in variants if v)),
        )


def _name_taken(session: Session, team_id: int, name: str, template_id: int | None) -> bool:
    query = select(MessageTemplate.id).where(
        MessageTemplate.team_id == team_id,
        func.lower(MessageTemplate.name) == name.lower(),
    )
    if template_id is not None:
        query = query.where(MessageTemplate.id != template_id)
    return session.scalar(query.limit(1)) is not None


def validate(
    session: Session, team: Team, values: TemplateValues, template: MessageTemplate | None = None
) -> dict[str, list[str]]:
    """Everything wrong with `values`, by field name or variant letter; empty when none."""
    errors: dict[str, list[str]] = {}
    if not values.name:
        errors["name"] = ["Give the template a name."]
    elif len(values.name) > NAME_LENGTH:
        errors["name"] = [f"Keep the name to {NAME_LENGTH} characters."]
    elif _name_taken(session, team.id, values.name, template.id if template else None):
        errors["name"] = [f"Another template is already called '{values.name}'."]
    for field, allowed in (
        ("persona", PERSONAS),
        ("category", TEMPLATE_CATEGORIES),
        ("vertical", VERTICALS),
        ("touch", TOUCHES),
    ):
        if getattr(values, field) not in allowed:
            errors[field] = [f"Choose one of: {', '.join(allowed.values())}."]
    if len(values.bodies) > MAX_VARIANTS:
        errors["variants"] = [f"At most {MAX_VARIANTS} variants (A to {VARIANT_LETTERS[-1]})."]
    wording, sender = SendingSettings.of(team).opt_out_wording, sender_name(team)
    for letter, body in zip(VARIANT_LETTERS, values.bodies, strict=False):
        problems = check(body, values.touch, wording, sender).problems
        if problems:
            errors[letter] = list(problems)
    return errors


def save_template(
    session: Session,
    team: Team,
    values: Mapping | TemplateValues,
    user: User | None,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Create (or update `template`) from an editor's values; raises TemplateInvalid.

    Blank variants are dropped and the rest close up (B, C, D in the order given).
    """
    if not isinstance(values, TemplateValues):
        values = TemplateValues.of(values)
    errors = validate(session, team, values, template)
    if errors:
        raise TemplateInvalid(errors)
    before = _snapshot(template) if template is not None else None
    if template is None:
        template = MessageTemplate(team_id=team.id, created_by_id=user.id if user else None)
        session.add(template)
    template.name, template.persona = values.name, values.persona
    template.category, template.vertical = values.category, values.vertical
    template.touch = values.touch
    template.body, template.variants = values.bodies[0], list(values.bodies[1:])
    session.flush()
    _audit(session, template, user, "template.updated" if before else "template.created", before)
    return template


def _audit(
    session: Session,
    template: MessageTemplate,
    user: User | None,
    action: str,
    before: dict | None = None,
) -> None:
    audit.record(
        session,
        team_id=template.team_id,
        actor_id=user.id if user else None,
        action=action,
        entity=template,
        before=before,
        after=_snapshot(template),
    )


def archive(session: Session, template: MessageTemplate, user: User | None) -> None:
    """Hide a template from the library and the campaign builder; texts keep their link."""
    if not template.archived:
        template.archived = True
        _audit(session, template, user, "template.archived")


def restore(session: Session, template: MessageTemplate, user: User | None) -> None:
    """Bring an archived template back."""
    if template.archived:
        template.archived = False
        _audit(session, template, user, "template.restored")


def duplicate(session: Session, template: MessageTemplate, user: User | None) -> MessageTemplate:
    """A copy of `template` named "<name> (copy)" (or "(copy 2)"...), not archived."""
    copy = MessageTemplate(
        team_id=template.team_id,
        name=_copy_name(session, template),
        persona=template.persona,
        category=template.category,
        vertical=template.vertical,
        touch=template.touch,
        body=template.body,
        variants=list(template.variants or []),
        created_by_id=user.id if user else None,
    )
    session.add(copy)
    session.flush()
    _audit(session, copy, user, "template.duplicated", {"from_template_id": template.id})
    return copy


def _copy_name(session: Session, template: MessageTemplate) -> str:
    """The first free "<name> (copy N)" that fits the name column."""
    n = 1
    while True:
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        name = template.name[: NAME_LENGTH - len(suffix)] + suffix
        if not _name_taken(session, template.team_id, name, None):
            return name
        n += 1


# ------------------------------------------------------------------------------ preview


def best_lead(session: Session, team_id: int) -> Lead | None:
    """The team's highest-priority lead with an owner: the default preview lead."""
    return session.scalars(
        scoped(Lead, team_id)
        .where(Lead.owner_id.is_not(None))
        .order_by(Lead.priority.desc().nulls_last(), Lead.id.desc())
        .limit(1)
    ).first()


def preview_lead(session: Session, team_id: int, code: str = "") -> tuple[Lead | None, str]:
    """The lead with `code` (any case), else the team's best lead; and a note if `code` missed."""
    code = code.strip().upper()
    if code:
        lead = session.scalars(scoped(Lead, team_id).where(Lead.code == code)).first()
        if lead is not None:
            return lead, ""
    fallback = best_lead(session, team_id)
    if not code:
        return fallback, ""
    shown = f"; showing {fallback.code}." if fallback is not None else "."
    return fallback, f"No lead {code} in your team{shown}"


def preview(
    session: Session,
    team: Team,
    body: str,
    lead: Lead | str | None = None,
    user: User | None = None,
) -> tuple[tokens.Rendered, segments.Measure]:
    """`body` rendered for a real lead of the team (a Lead, a lead code, or the best lead),
    signed by `user` (the person previewing, who would send it)."""
    if not isinstance(lead, Lead):
        lead, _ = preview_lead(session, team.id, lead or "")
    elif lead.team_id != team.id:
        raise ValueError("The lead belongs to another team.")
    sender = signing_name(None, user)
    values = tokens.lead_values(lead, sender) if lead else {"senderName": sender}
    rendered = tokens.render(clean_body(body), values)
    return rendered, segments.measure(rendered.text)


@dataclass(frozen=True)
class BodyReport:
    """What the editor shows under one body as it is typed."""

    text: str  # the body as it will be saved
    check: Check
    runs: list[tuple[str, bool]]  # the text in runs of (text, forces UCS-2)
    rendered: tokens.Rendered  # for the preview lead
    measure: segments.Measure  # of `rendered`
    # The preview lead's {industry} words ("" when its codes have none), None when unused.
    industry: str | None = None

    @property
    def left_blank(self) -> tuple[str, ...]:
        """Known tokens the preview lead has no value for and no fallback covers."""
        return tuple(name for name in self.rendered.missing if name in tokens.TOKENS)


def editor_report(
    session: Session,
    team: Team,
    body: str,
    touch: str,
    lead: Lead | str | None = None,
    user: User | None = None,
) -> BodyReport:
    """Check, UCS-2 highlights and a preview for a real lead, of one body being edited."""
    text = clean_body(body)
    result = check(text, touch, SendingSettings.of(team).opt_out_wording, sender_name(team))
    if not isinstance(lead, Lead):
        lead, _ = preview_lead(session, team.id, lead or "")
    rendered, measure = preview(session, team, text, lead, user)
    industry = None
    if any(part.token == "industry" for part in rendered.parts):
        industry = tokens.lead_values(lead)["industry"] if lead is not None else ""
    return BodyReport(text, result, marked(text), rendered, measure, industry)


# ------------------------------------------------------------------------------ A/B stats


@dataclass(frozen=True)
class VariantStats:
    """What became of one variant's texts (or of all of them, for the total)."""

    variant: str
    body: str  # "" for the total, or a variant no longer in the template
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    filtered: int = 0  # error 30007: the carrier filtered it as spam

    @property
    def delivery_rate(self) -> float | None:
        """Delivered as a share of sent; None before anything was sent."""
        return self.delivered / self.sent if self.sent else None

    @property
    def filtered_rate(self) -> float | None:
        """Filtered (30007) as a share of sent; None before anything was sent."""
        return self.filtered / self.sent if self.sent else None


@dataclass(frozen=True)
class TemplateStats:
    """A template's texts per variant, for comparing A with B, and their total."""

    variants: tuple[VariantStats, ...]
    total: VariantStats

    @property
    def any_sent(self) -> bool:
        """Whether any text of the template has gone out."""
        return self.total.sent > 0


STATS_COLUMNS = (
    "variant",
    "sent",
    "delivered",
    "delivery_rate",
    "failed",
    "filtered_30007",
    "filtered_rate",
    "body",
)


def template_stats(session: Session, template: MessageTemplate) -> TemplateStats:
    """Texts sent, delivered, failed and filtered (30007) per variant of `template`.

    Sent counts texts handed to Twilio (they have a send time); failed counts every text
    that ended failed, whether Twilio refused it or the carrier did.
    """
    rows = session.execute(
        select(
            Message.variant,
            func.count(Message.id).filter(Message.sent_at.is_not(None)),
            func.count(Message.id).filter(Message.status == "delivered"),
            func.count(Message.id).filter(Message.status == "failed"),
            func.count(Message.id).filter(Message.error_code == FILTERED_CODE),
        )
        .where(Message.team_id == template.team_id, Message.template_id == template.id)
        .group_by(Message.variant)
    ).all()
    counts = {variant: [int(n or 0) for n in numbers] for variant, *numbers in rows}
    bodies = template.bodies
    letters = sorted(set(bodies) | set(counts))
    variants = tuple(
        VariantStats(letter, bodies.get(letter, ""), *counts.get(letter, (0, 0, 0, 0)))
        for letter in letters
    )
    totals = [
        sum(getattr(v, f) for v in variants) for f in ("sent", "delivered", "failed", "filtered")
    ]
    return TemplateStats(variants, VariantStats("Total", "", *totals))


def stats_row(stats: VariantStats) -> list:
    """One variant's stats as a CSV row of STATS_COLUMNS."""

    def rate(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return [
        stats.variant,
        stats.sent,
        stats.delivered,
        rate(stats.delivery_rate),
        stats.failed,
        stats.filtered,
        rate(stats.filtered_rate),
        stats.body,
    ]
