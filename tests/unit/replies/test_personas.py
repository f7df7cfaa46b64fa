"""Personas: stages, voices, cached system blocks, fallback replies and confirmations."""

from __future__ import annotations

import re

import pytest

from console.models.campaigns import PERSONAS
from console.services.campaigns.segments import measure
from console.services.campaigns.tokens import TOKENS, render, unknown_tokens
from console.services.replies.classify import LABELS
from console.services.replies.personas import (
    FALLBACKS,
    GUARDRAILS,
    HELP_TEXT,
    NO_REPLY_LABELS,
    OPT_IN_CONFIRMATION,
    OPT_OUT_CONFIRMATION,
    STAGES,
    VOICES,
    Voice,
    fallback_body,
    fallback_reply,
    persona_for,
    stage_for,
    system_blocks,
)

REPLY_LABELS = tuple(label for label in LABELS if label != "STOP")
DRAFTING_PERSONAS = sorted({persona_for(stage) for stage in STAGES})

TYPICAL = {
    "firstName": "Dana",
    "lastName": "Whitfield",
    "fullName": "Dana Whitfield",
    "companyName": "Acme Plumbing",
    "industry": "plumbing",
    "city": "Columbus",
    "state": "OH",
    "senderName": "Jordan at Harbor Advisors",
}
LONG = {
    "firstName": "Christopher",
    "lastName": "Vanderbilt-Okonkwo",
    "fullName": "Christopher Vanderbilt-Okonkwo",
    "companyName": "Northeast Commercial Mechanical Services",
    "industry": "construction - special trade contractors",
    "city": "Rancho Cucamonga",
    "state": "California",
    "senderName": "Summit Ridge Capital Partners Acquisitions",
}
EMPTY = {name: "" for name in TOKENS}

LINKS = re.compile(r"https?:|www\.|\.(?:com|net|org|io|co)\b|bit\.ly", re.IGNORECASE)
PROMISES = re.compile(
    r"\$|%|\d+x\b|\bmultiple\b|valuation|appraisal|top dollar|guarantee|cash offer|\bfree\b",
    re.IGNORECASE,
)
SMART = re.compile("[\u2018\u2019\u201c\u201d\u2013\u2014\u2026]")
PAIRS = [
    pytest.param(persona, label, id=f"{persona}-{label}")
    for persona in DRAFTING_PERSONAS
    for label in REPLY_LABELS
]


# ----------------------------------------------------------------------- stages


@pytest.mark.parametrize(
    ("label", "touches_sent", "had_reply_before", "stage"),
    [
        ("LATER", 1, False, "nurture"),
        ("LATER", 3, True, "nurture"),
        ("POSITIVE", 1, False, "book"),
        ("CALLBACK_REQUEST", 2, False, "book"),
        ("PRICE_INQUIRY", 1, True, "book"),
        ("EMAIL_CAPTURE", 4, True, "book"),
        ("WRONG_NUMBER", 1, False, "support"),
        ("NOT_OWNER", 2, False, "support"),
        # The first reply stays with the voice of the text it answers.
        ("QUESTION", 1, False, "initial"),
        ("UNCLEAR", 1, False, "initial"),
        ("NEGATIVE", 1, False, "initial"),
        ("QUESTION", 0, False, "initial"),
        ("QUESTION", 2, False, "nudge"),
        ("UNCLEAR", 3, False, "nudge"),
        ("NEGATIVE", 2, False, "nudge"),
        # Once the owner has replied before, the conversation is NEVA's.
        ("QUESTION", 1, True, "support"),
        ("UNCLEAR", 2, True, "support"),
        ("NEGATIVE", 1, True, "support"),
        ("question", 1, False, "initial"),
    ],
)
def test_stage_for(label, touches_sent, had_reply_before, stage):
    assert stage_for(label, touches_sent, had_reply_before) == stage
    assert stage in STAGES


@pytest.mark.parametrize(
    ("stage", "persona"),
    [
        ("initial", "GIANNA"),
        ("nurture", "GIANNA"),
        ("nudge", "CATHY"),
        ("book", "SABRINA"),
        ("support", "NEVA"),
    ],
)
def test_persona_for(stage, persona):
    assert persona_for(stage) == persona


def test_persona_for_unknown_stage_is_an_error():
    with pytest.raises(ValueError, match="closing"):
        persona_for("closing")


def test_every_stage_and_persona_is_known():
    assert set(STAGES) == {"initial", "nudge", "nurture", "book", "support"}
    assert all(len(stage) <= 10 for stage in STAGES)  # conversations.stage is String(10)
    assert set(DRAFTING_PERSONAS) == set(PERSONAS) == set(VOICES) == set(FALLBACKS)


# ----------------------------------------------------------------------- voices


def test_voices_are_distinct_and_named():
    for persona, voice in VOICES.items():
        assert isinstance(voice, Voice)
        assert voice.persona == persona
        assert voice.role and "\n" not in voice.role
        assert voice.prompt.startswith(f"You are {persona}: {voice.role}.")
    prompts = [voice.prompt for voice in VOICES.values()]
    assert len(set(prompts)) == len(prompts)
    assert "15-minute call" in VOICES["SABRINA"].prompt
    assert "public business listings" in VOICES["NEVA"].prompt


@pytest.mark.parametrize("persona", sorted(VOICES))
def test_voice_prompts_show_plain_short_examples(persona):
    voice = VOICES[persona]
    assert measure(voice.prompt).encoding == "GSM-7" and not SMART.search(voice.prompt)
    assert 2 <= len(voice.examples) <= 3
    for owner, reply in voice.examples:
        assert f"Owner: {owner}\nYou: {reply}\n" in voice.prompt
        assert measure(reply).segments == 1, reply
        assert reply.count("?") <= 1 and not PROMISES.search(reply), reply
        assert not LINKS.search(reply) and "{" not in reply, reply
    assert voice.prompt.endswith(f"You: {voice.examples[-1][1]}\n")


def test_guardrails_state_the_rules():
    text = GUARDRAILS.lower()
    for rule in (
        "160 characters",
        "306 characters",
        "gsm-7",
        "no emoji",
        "curly quotes",
        "em or en dashes",
        "at most one question",
        "no signature",
        "valuation",
        "never argue",
        "assistant helping the",
        "never claim to be human",
        "do not mention ai",
        "no links",
        "never invent",
        "reply stop",
    ):
        assert rule in text, rule
    assert measure(GUARDRAILS).encoding == "GSM-7" and not SMART.search(GUARDRAILS)


# ---------------------------------------------------------------- system blocks


@pytest.mark.parametrize("persona", sorted(VOICES))
def test_cached_block_is_identical_across_calls(persona):
    first = system_blocks(persona, team_name="Harbor Advisors", allow_links=False)
    second = system_blocks(persona, team_name="Harbor Advisors", allow_links=False)
    assert first == second
    assert [block["type"] for block in first] == ["text", "text"]
    assert [("cache_control" in block) for block in first] == [False, True]
    assert first[1]["cache_control"] == {"type": "ephemeral"}
    assert first[1]["text"] == VOICES[persona].prompt
    assert first[0]["text"].startswith(GUARDRAILS)
    assert "Harbor Advisors" in first[0]["text"]
    # Another team changes the facts, never the cached voice.
    other = system_blocks(persona, team_name="Summit Ridge Capital", allow_links=True, link="x.io")
    assert other[1] == first[1]
    assert other[0] != first[0]


def test_system_blocks_hold_no_lead_facts():
    blocks = system_blocks("GIANNA", team_name="Harbor Advisors", allow_links=False)
    text = "".join(block["text"] for block in blocks)
    assert "{" not in text and "}" not in text
    for value in ("Dana", "Acme Plumbing", "Columbus"):
        assert value not in text


def test_link_sentence_follows_allow_links():
    link = "https://harbor.example/call"
    allowed = system_blocks("SABRINA", team_name="Harbor", allow_links=True, link=link)
    assert link in allowed[0]["text"] and "No other links." in allowed[0]["text"]
    assert link not in allowed[1]["text"]
    for kwargs in ({"allow_links": False, "link": link}, {"allow_links": True, "link": " "}):
        refused = system_blocks("SABRINA", team_name="Harbor", **kwargs)
        assert link not in refused[0]["text"]
        assert "Links: none are allowed" in refused[0]["text"]


def test_system_blocks_unknown_persona_is_an_error():
    with pytest.raises(ValueError, match="LUCI"):
        system_blocks("LUCI", team_name="Harbor", allow_links=False)


def test_blank_team_name_still_reads():
    blocks = system_blocks("NEVA", team_name="  ", allow_links=False)
    assert "You write for the team." in blocks[0]["text"]


# -------------------------------------------------------------------- fallbacks


def test_every_drafting_persona_has_every_reply_label_but_stop():
    for persona in DRAFTING_PERSONAS:
        assert set(FALLBACKS[persona]) == set(REPLY_LABELS), persona
    assert {"STOP"} == NO_REPLY_LABELS


@pytest.mark.parametrize("persona", DRAFTING_PERSONAS)
def test_no_reply_is_drafted_to_stop(persona):
    with pytest.raises(ValueError, match="STOP"):
        fallback_body(persona, "STOP")
    with pytest.raises(ValueError):
        fallback_reply(persona, "stop", TYPICAL)


@pytest.mark.parametrize(("persona", "label"), PAIRS)
def test_fallback_is_plain_and_uses_known_tokens(persona, label):
    body = fallback_body(persona, label)
    assert body == FALLBACKS[persona][label]
    assert unknown_tokens(body) == []
    assert body == body.strip() and "  " not in body
    assert not LINKS.search(body)
    assert not PROMISES.search(body), body
    assert body.count("?") <= 1
    assert "STOP" not in body and "opt out" not in body.lower()
    assert not body.rstrip(".!?").endswith(("Jordan", "{senderName}"))  # no signature


@pytest.mark.parametrize(("persona", "label"), PAIRS)
def test_fallback_renders_in_one_gsm7_segment(persona, label):
    typical = fallback_reply(persona, label, TYPICAL)
    m = measure(typical)
    assert m.encoding == "GSM-7" and m.units == m.characters, typical
    assert m.segments == 1, f"{m.units} characters: {typical!r}"
    for values in (EMPTY, {}, LONG):
        rendered = fallback_reply(persona, label, values)
        m = measure(rendered)
        assert m.encoding == "GSM-7" and m.segments == 1, rendered
        assert "{" not in rendered and "}" not in rendered and "|" not in rendered
        assert "  " not in rendered and " ," not in rendered and " ." not in rendered


@pytest.mark.parametrize(("persona", "label"), PAIRS)
def test_empty_values_take_the_fallback_words(persona, label):
    body = fallback_body(persona, label)
    rendered = render(body, EMPTY)
    assert rendered.missing == ()
    used = {part.token for part in rendered.parts if part.token}
    assert set(rendered.fallbacks_used) == used
    typical = fallback_reply(persona, label, TYPICAL)
    if "{firstName" in body:
        assert "Dana" in typical
    if "{companyName" in body:
        assert "Acme Plumbing" in typical


@pytest.mark.parametrize("persona", DRAFTING_PERSONAS)
def test_replies_to_someone_else_never_use_the_owner_name(persona):
    for label in ("WRONG_NUMBER", "NOT_OWNER"):
        assert "{firstName" not in FALLBACKS[persona][label]
        assert "Dana" not in fallback_reply(persona, label, TYPICAL)


@pytest.mark.parametrize("persona", DRAFTING_PERSONAS)
def test_label_specific_wording(persona):
    def reply(label: str) -> str:
        return fallback_reply(persona, label, TYPICAL).lower()

    assert "?" not in reply("NEGATIVE") and "thanks" in reply("NEGATIVE")
    assert "sorry" in reply("WRONG_NUMBER") or "apologies" in reply("WRONG_NUMBER")
    assert "remove" in reply("WRONG_NUMBER")
    assert "email" in reply("EMAIL_CAPTURE") or "note there" in reply("EMAIL_CAPTURE")
    assert "call" in reply("EMAIL_CAPTURE") and "?" in reply("EMAIL_CAPTURE")
    assert "check back then" in reply("LATER")
    assert "call" in reply("PRICE_INQUIRY") and not re.search(r"\d{3}", reply("PRICE_INQUIRY"))


def test_voices_differ_in_their_fallbacks():
    for label in REPLY_LABELS:
        bodies = [FALLBACKS[persona][label] for persona in DRAFTING_PERSONAS]
        assert len(set(bodies)) == len(bodies), label
    assert "15-minute" in FALLBACKS["SABRINA"]["POSITIVE"]
    assert "public business listings" in FALLBACKS["NEVA"]["WRONG_NUMBER"]
    assert len(FALLBACKS["CATHY"]["LATER"]) < len(FALLBACKS["GIANNA"]["LATER"])


def test_unknown_label_and_persona_fall_back():
    assert fallback_body("NEVA", "SOMETHING_NEW") == FALLBACKS["NEVA"]["UNCLEAR"]
    assert fallback_body("LUCI", "LATER") == FALLBACKS["GIANNA"]["LATER"]
    assert fallback_body("LUCI", "SOMETHING_NEW") == FALLBACKS["GIANNA"]["UNCLEAR"]
    assert fallback_body("CATHY", " later ") == FALLBACKS["CATHY"]["LATER"]


def test_fallback_reply_renders_typical_values():
    assert fallback_reply("CATHY", "LATER", TYPICAL) == "No problem, Dana. I'll check back then."
    assert fallback_reply("CATHY", "LATER", {}) == "No problem, thanks. I'll check back then."
    neva = fallback_reply("NEVA", "QUESTION", TYPICAL)
    assert neva.startswith("Happy to help. This is Jordan at Harbor Advisors, and")


# ------------------------------------------------------------------ confirmations

CONFIRMATIONS = [OPT_OUT_CONFIRMATION, OPT_IN_CONFIRMATION, HELP_TEXT]


@pytest.mark.parametrize("text", CONFIRMATIONS, ids=["opt_out", "opt_in", "help"])
def test_confirmations_fit_one_plain_segment(text):
    assert unknown_tokens(text) == []
    for values in (TYPICAL, LONG, EMPTY):
        rendered = render(text, values)
        assert rendered.missing == ()
        m = measure(rendered.text)
        assert m.encoding == "GSM-7" and m.segments == 1, rendered.text
        assert not LINKS.search(rendered.text)
    assert TYPICAL["senderName"] in render(text, TYPICAL).text


@pytest.mark.parametrize("text", [OPT_OUT_CONFIRMATION, OPT_IN_CONFIRMATION])
def test_confirmations_carry_no_marketing(text):
    for word in ("offer", "sell", "valuation", "call", "buyer", "?"):
        assert word not in text.lower(), word


def test_opt_out_confirmation_says_how_to_come_back():
    assert "START" in OPT_OUT_CONFIRMATION and "opted out" in OPT_OUT_CONFIRMATION
    assert "Reply STOP to opt out" in OPT_IN_CONFIRMATION
    assert "Reply STOP to opt out" in HELP_TEXT and HELP_TEXT.startswith("{senderName|")
