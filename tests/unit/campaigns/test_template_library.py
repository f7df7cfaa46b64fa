"""The seed template library: known tokens, plain GSM-7, one segment, opt-out on first touch."""

from __future__ import annotations

import re

import pytest

from console.services.campaigns.segments import measure
from console.services.campaigns.template_library import (
    CATEGORIES,
    OPT_OUT,
    PERSONAS,
    SEED_TEMPLATES,
    SOURCE_NOTE,
    TOUCHES,
    VERTICALS,
    SeedTemplate,
    by_vertical,
)
from console.services.campaigns.tokens import has_opt_out, render, unknown_tokens
from console.services.tracing import scoring

# What a typical team and lead look like: every text must fit one segment with these.
TYPICAL = {
    "firstName": "Michael",
    "lastName": "Thompson",
    "fullName": "Michael Thompson",
    "companyName": "Thompson Plumbing Co",
    "industry": "plumbing",
    "city": "Columbus",
    "state": "OH",
    "senderName": "Harbor Business Advisors",
}
# Long but plausible values: still GSM-7 and never more than two segments.
LONG = {
    "firstName": "Christopher",
    "lastName": "Vanderbilt-Okonkwo",
    "fullName": "Christopher Vanderbilt-Okonkwo",
    "companyName": "Northeast Commercial Mechanical Services LLC",
    "industry": "construction - special trade contractors",
    "city": "Rancho Cucamonga",
    "state": "California",
    "senderName": "Summit Ridge Capital Partners Acquisitions",
}
# A lead with nothing known but the team's name: every token falls back.
BARE = {"senderName": "Harbor Business Advisors"}

TEXTS = [
    pytest.param(t, i, text, id=f"{t.name} [{'ABCDEFG'[i]}]")
    for t in SEED_TEMPLATES
    for i, text in enumerate(t.texts)
]
PROMISES = re.compile(
    r"\$|%|\bfree\b|guarantee|top dollar|valuation|appraisal|multiple|ebitda|worth more"
    r"|cash offer|\d+x\b",
    re.IGNORECASE,
)
LINKS = re.compile(r"https?:|www\.|\.com\b|\.io\b|bit\.ly", re.IGNORECASE)
PLAIN_CHARS = re.compile(r"[A-Za-z0-9 .,?!'\"():;&/@-]*")


def _rendered(text: str, values: dict[str, str]) -> str:
    return render(text, values).text


def test_vocabularies():
    assert set(PERSONAS) == set(scoring.PERSONAS)
    assert set(TOUCHES) == {"first", "follow_up"}
    assert set(CATEGORIES) == {"opener", "follow_up", "nudge", "booking", "nurture"}
    assert set(VERTICALS) == {
        "business_broker",
        "real_estate",
        "private_equity",
        "ma_advisor",
        "general",
    }
    assert all(label.strip() for label in (*CATEGORIES.values(), *VERTICALS.values()))


def test_every_template_uses_the_vocabularies():
    for t in SEED_TEMPLATES:
        assert isinstance(t, SeedTemplate)
        assert t.persona in PERSONAS, t.name
        assert t.category in CATEGORIES, t.name
        assert t.vertical in VERTICALS, t.name
        assert t.touch in TOUCHES, t.name
        assert t.name.strip() == t.name and t.name, t.name


def test_names_unique_and_variants_distinct():
    names = [t.name for t in SEED_TEMPLATES]
    assert len(names) == len(set(names))
    for t in SEED_TEMPLATES:
        assert len(set(t.texts)) == len(t.texts), t.name
    bodies = [text for t in SEED_TEMPLATES for text in t.texts]
    assert len(bodies) == len(set(bodies))


def test_openers_per_vertical():
    for vertical in VERTICALS:
        openers = [t for t in by_vertical(vertical) if t.category == "opener"]
        assert len(openers) >= (2 if vertical == "general" else 4), vertical
    for t in SEED_TEMPLATES:
        if t.category == "opener":
            assert t.persona == "GIANNA" and t.touch == "first", t.name
            assert 1 <= len(t.variants) <= 2, t.name


def test_the_other_stages_are_covered():
    def count(persona: str, category: str) -> int:
        return sum(t.persona == persona and t.category == category for t in SEED_TEMPLATES)

    assert 2 <= count("CATHY", "follow_up") <= 3
    assert count("CATHY", "nudge") >= 2
    assert 2 <= count("SABRINA", "booking") <= 3
    assert count("GIANNA", "nurture") == 2
    assert count("NEVA", "follow_up") >= 1
    assert all(t.touch == "follow_up" for t in SEED_TEMPLATES if t.category != "opener")


@pytest.mark.parametrize(("template", "index", "text"), TEXTS)
def test_known_tokens_and_plain_words(template, index, text):
    assert unknown_tokens(text) == []
    words = re.sub(r"\{[^{}]*\}", "", text)
    assert PLAIN_CHARS.fullmatch(words), f"odd character in {words!r}"
    assert "  " not in text and text == text.strip()
    assert not LINKS.search(text)
    assert not PROMISES.search(text), f"reads as a price or value promise: {text!r}"
    closing = template.persona == "NEVA" or "last note" in template.name.lower()
    assert closing or "?" in text, "asks a question that is easy to answer"
    assert text.count("?") <= 2


@pytest.mark.parametrize(("template", "index", "text"), TEXTS)
def test_renders_as_one_plain_segment(template, index, text):
    typical = _rendered(text, TYPICAL)
    m = measure(typical)
    assert m.encoding == "GSM-7" and m.units == m.characters, typical
    assert m.segments == 1, f"{m.units} characters with typical values: {typical!r}"
    for values in (LONG, BARE):
        rendered = _rendered(text, values)
        m = measure(rendered)
        assert m.encoding == "GSM-7" and m.units == m.characters, rendered
        assert m.segments <= 2, rendered
        assert "{" not in rendered and "}" not in rendered and "|" not in rendered
        assert "  " not in rendered and " ," not in rendered and " ." not in rendered
    bare = _rendered(text, BARE)
    assert ", there" not in bare and ",." not in bare, f"reads oddly with no name: {bare!r}"


@pytest.mark.parametrize(("template", "index", "text"), TEXTS)
def test_first_touch_says_who_and_how_to_stop(template, index, text):
    if template.touch != "first":
        return
    assert "{senderName}" in text
    assert text.endswith(OPT_OUT)
    assert has_opt_out(text)
    assert has_opt_out(_rendered(text, TYPICAL))
    assert TYPICAL["senderName"] in _rendered(text, TYPICAL)


def test_source_note_names_the_seed_files():
    assert "NextierTech11105/OutreachGlobal-" in SOURCE_NOTE
    assert "nextier-openers.ts" in SOURCE_NOTE and "template-cartridges.ts" in SOURCE_NOTE
    assert "\n" not in SOURCE_NOTE
