"""Claude in the replies path, through the official `anthropic` SDK against a local
Messages API (`tests.fakeservers.AnthropicServer`): reading a reply, drafting an answer
in a persona's voice, and the inbox job that does both.

Every way Claude can fail (too slow, 429, 500, 529, a body cut in half, a proxy's HTML
page, an answer that is not the JSON asked for) leaves the rules' reading and the
persona's template in place, each saying why. An opt-out the rules found is final and
Claude is never asked about it; an opt-out only Claude sees is flagged for a person,
never acted on. Drafts that break a guardrail (a link, a figure, more than two
segments) give way to the template. The persona's system prompt is the same bytes for
every draft, so the second draft reads it from the prompt cache. The `classify`
command prints one JSON object a line, with Claude or with the rules only.

Reading and parsing need no database; the inbox job runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.models import (
    ConsentEvent,
    Draft,
    InboxItem,
    Lead,
    Message,
    Sender,
    Suppression,
)
from console.models.base import utcnow
from console.providers.claude import Claude
from console.services.replies import classify, drafting, inbound, inbox, personas, reading
from console.services.sending.policy import ReplySettings
from tests.conftest import TeamUsers, make_lead
from tests.fakeservers import (
    BROKEN_JSON_TEXT,
    AnthropicServer,
    content_text,
    last_user_text,
)
from tests.sending_helpers import backend_app, drop_schema, empty_tables

KEY = "sk-ant-replies-0123456789"
CLASSIFY_MODEL = "claude-haiku-5-5"
DRAFT_MODEL = "claude-sonnet-5-5"
# The client's deadline here; the fake's "slow" answers take three times as long.
TIMEOUT = 0.5
LINE = "+15125550100"
OWNER = "+15125550187"
OPENER = "Hi Dana, Harbor Partners here. Thinking of selling Lake Plumbing? Reply STOP to opt out"
AI_DRAFT = "Great to hear, Dana. Would a 15-minute call with our team on Tuesday or Thursday work?"


# -- the fake Claude's script ---------------------------------------------------------------


def is_reading(request: dict) -> bool:
    """The request asks Claude to classify a reply (reading.SYSTEM is its system prompt)."""
    return content_text(request.get("system")) == reading.SYSTEM


def is_drafting(request: dict) -> bool:
    """The request asks Claude for a draft (the persona guardrails open its system prompt)."""
    return content_text(request.get("system")).startswith(personas.GUARDRAILS)


def answer(label: str, confidence: int = 90, opt_out: bool = False, **extracted: str) -> str:
    """A classification as Claude is asked to write it."""
    return json.dumps(
        {"label": label, "confidence": confidence, "opt_out": opt_out, "extracted": extracted}
    )


class Script:
    """What the fake Claude answers: `reading` (a JSON text, or a function of the owner's
    reply giving one) to classification requests, `draft` to drafting requests."""

    def __init__(self) -> None:
        self.reading: str | Callable[[str], str] = answer("POSITIVE", 91)
        self.draft = AI_DRAFT

    def __call__(self, request: dict) -> str:
        """The answer to one Messages request."""
        if is_reading(request):
            if callable(self.reading):
                return self.reading(last_user_text(request).rsplit("Their reply:\n", 1)[-1])
            return self.reading
        if is_drafting(request):
            return self.draft
        raise AssertionError("a request that is neither a reading nor a draft")


def requests_of(fake: AnthropicServer, kind: Callable[[dict], bool]) -> list[dict]:
    """The JSON bodies of the requests of one kind (is_reading or is_drafting)."""
    with fake.lock:
        return [r["json"] for r in fake.requests if r["json"] and kind(r["json"])]


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[AnthropicServer]:
    """One local Messages API for the module (every prefix long enough to cache)."""
    with AnthropicServer(api_key=KEY, min_cache_tokens=0) as server:
        yield server


@pytest.fixture
def fake(anthropic_server) -> AnthropicServer:
    """The module's Messages API with a fresh script, no delay and an empty cache."""
    anthropic_server.reset()
    anthropic_server.delay = 0.0
    anthropic_server.responder = Script()
    return anthropic_server


@pytest.fixture
def script(fake) -> Script:
    """The script the fake answers from, for the test to change."""
    return fake.responder


@pytest.fixture(scope="module")
def claude(anthropic_server) -> Claude:
    """The console's Claude client (official SDK, no retries) pointed at the fake."""
    return Claude(KEY, anthropic_server.url, timeout=TIMEOUT)


@pytest.fixture
def models(claude) -> inbox.Models:
    """What the inbox job uses: the client and the two model names."""
    return inbox.Models(claude=claude, classify=CLASSIFY_MODEL, draft=DRAFT_MODEL)


# -- a database for the inbox job ---------------------------------------------------------


# The inbox job's tests run on SQLite; those marked with this also run on PostgreSQL.
BOTH_DATABASES = pytest.mark.parametrize(
    "backend",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
    scope="module",
)


@pytest.fixture(scope="module")
def backend(request, tmp_path_factory) -> Iterator[Flask]:
    """A console for the module, its schema made once: SQLite unless parametrized."""
    kind = getattr(request, "param", "sqlite")
    app = backend_app(request, kind, tmp_path_factory.mktemp(kind))
    yield app
    drop_schema(app)


@pytest.fixture
def app(backend) -> Iterator[Flask]:
    """The module's console in an app context, emptied after each test."""
    with backend.app_context():
        yield backend
        empty_tables()


@pytest.fixture
def line(crew: TeamUsers) -> Sender:
    """The number the team texts from."""
    sender = Sender(team_id=crew.team.id, label="Austin line", kind="number", address=LINE)
    db.session.add(sender)
    db.session.commit()
    return sender


def texted(crew: TeamUsers, sender: Sender, number: str = OWNER, business: str = "") -> Lead:
    """A lead whose owner got our opener from `sender` ten minutes ago."""
    lead = make_lead(crew.team, business or "Lake Plumbing LLC", "Dana Owner", mobile=number)
    db.session.add(
        Message(
            team_id=crew.team.id,
            kind="campaign",
            lead_id=lead.id,
            sender_id=sender.id,
            to_e164=number,
            body=OPENER,
            rendered_body=OPENER,
            status="sent",
            provider_sid="SM" + uuid.uuid4().hex,
            from_address=sender.address,
            sent_at=utcnow() - timedelta(minutes=10),
        )
    )
    db.session.commit()
    return lead


def reply_from(number: str, body: str) -> inbound.Reception:
    """An owner's text arriving, as the webhook receives it."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": number, "To": LINE, "Body": body}
    return inbound.receive(db.session, form)


def read_item(item_id: int, models: inbox.Models) -> tuple[InboxItem, Draft | None]:
    """Run the inbox job on an item; the item and its proposed draft, fresh."""
    inbox.process_item(db.session, item_id, models)
    db.session.expire_all()
    item = db.session.get(InboxItem, item_id)
    return item, inbox.current_draft(db.session, item)


def template_for(item: InboxItem) -> str:
    """The persona's fallback reply for the item, filled in for its lead."""
    lead = db.session.get(Lead, item.lead_id)
    answerer = drafting.answerer(db.session, item, lead)
    values = drafting.prepare(db.session, item.conversation, lead, answerer).values
    return personas.fallback_reply(item.persona, item.label, values)


def count(model, *conditions) -> int:
    """Rows of a table (those meeting `conditions`)."""
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


# -- the happy path -----------------------------------------------------------------------


@BOTH_DATABASES
def test_reply_read_and_drafted_by_claude_keeps_model_tokens_and_latency(
    app, crew, line, fake, script, models
):
    lead = texted(crew, line)
    text = "Sure, I'd talk. Thinking of retiring when my lease runs out."
    script.reading = answer("POSITIVE", 91, timeline="when my lease runs out")
    fake.delay = 0.05
    reception = reply_from(OWNER, text)

    item, draft = read_item(reception.item_id, models)

    assert (item.state, item.label, item.confidence) == ("open", "POSITIVE", 91)
    assert item.classified_by == "ai"
    assert item.classify_note == f"Read by {CLASSIFY_MODEL}."
    assert item.extracted == {"timeline": "when my lease runs out"}
    assert not item.opt_out_suspected
    assert (item.stage, item.persona) == ("book", "SABRINA")
    assert draft is not None
    assert (draft.source, draft.body, draft.fallback_reason) == ("ai", AI_DRAFT, "")
    assert (draft.model, draft.persona, draft.label) == (DRAFT_MODEL, "SABRINA", "POSITIVE")
    assert draft.input_tokens > 0 and draft.output_tokens > 0
    assert draft.latency_ms >= 50  # the fake took 50 ms to write
    assert fake.calls == 2

    # What Claude was asked: the reading with our last text, then the persona's draft
    # with the lead's facts and the conversation, under the persona's cached prompt.
    (asked_to_read,) = requests_of(fake, is_reading)
    assert asked_to_read["model"] == CLASSIFY_MODEL
    assert f"Our last text to them:\n{OPENER}" in last_user_text(asked_to_read)
    assert last_user_text(asked_to_read).endswith(f"Their reply:\n{text}")
    (asked_to_draft,) = requests_of(fake, is_drafting)
    assert asked_to_draft["model"] == DRAFT_MODEL
    assert asked_to_draft["system"] == personas.system_blocks(
        "SABRINA", team_name=crew.team.name, allow_links=False
    )
    prompt = last_user_text(asked_to_draft)
    assert f"Business: {lead.business.name}" in prompt
    assert f"Owner: {text}" in prompt


# -- every failure falls back, in words -----------------------------------------------------

# What goes wrong, how the fake is told, and the words the item and the draft must carry.
FAILURES = {
    "timeout": (lambda fake: setattr(fake, "delay", TIMEOUT * 3), "longer than 0.5 s"),
    "429": (lambda fake: fake.fail_next(429, 2), "rate limited right now (429)"),
    "500": (lambda fake: fake.fail_next(500, 2), "answered with an error (500)"),
    "529": (lambda fake: fake.fail_next(529, 2), "answered with an error (529)"),
    "malformed body": (lambda fake: fake.garbage_next(2, "http"), "could not be read"),
    "html page": (lambda fake: fake.garbage_next(2, "html"), "could not be read"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_claude_failure_leaves_the_rules_reading_and_the_template(
    app, crew, line, fake, models, failure
):
    texted(crew, line)
    text = "Sure, what would you pay for it?"
    rules = classify.by_rules(text)
    break_it, why = FAILURES[failure]
    break_it(fake)
    reception = reply_from(OWNER, text)

    item, draft = read_item(reception.item_id, models)

    assert fake.calls == 2  # one try each: no SDK retries behind the deadline
    assert item.state == "open"
    assert item.classified_by == "rules"
    assert (item.label, item.confidence) == (rules.label, rules.confidence)
    assert why in item.classify_note and "the rules' reading stands" in item.classify_note
    assert draft is not None and draft.source == "template"
    assert draft.body == template_for(item)
    assert why in draft.fallback_reason and "persona's template" in draft.fallback_reason
    assert draft.model == "" and draft.input_tokens == 0


def test_truncated_json_from_claude_leaves_the_rules_reading(app, crew, line, fake, models):
    texted(crew, line)
    text = "Sure, what would you pay for it?"
    fake.garbage_next(2, "text")  # a Message whose text is the start of a JSON object
    reception = reply_from(OWNER, text)

    item, _draft = read_item(reception.item_id, models)

    assert item.classified_by == "rules"
    assert item.label == classify.by_rules(text).label
    assert item.classify_note == "Claude's answer was not valid JSON; the rules' reading stands."


def test_truncated_json_draft_gives_way_to_the_template(app, crew, line, fake, models):
    texted(crew, line)
    fake.garbage_next(2, "text")
    reception = reply_from(OWNER, "Sure, what would you pay for it?")

    item, draft = read_item(reception.item_id, models)

    assert draft is not None
    assert (draft.source, draft.body) == ("template", template_for(item))
    assert draft.fallback_reason.startswith("Claude's draft ")


def test_draft_prompt_carries_the_campaign_text_the_owner_answered(app, crew, line, fake, models):
    texted(crew, line)
    text = "Sure, I'd talk."
    reception = reply_from(OWNER, text)

    read_item(reception.item_id, models)

    (asked_to_draft,) = requests_of(fake, is_drafting)
    assert f"Us: {OPENER}\nOwner: {text}" in last_user_text(asked_to_draft)


def test_reading_timeout_says_so_without_a_database(fake, claude):
    fake.delay = TIMEOUT * 3
    text = "Who is this?"

    result = reading.read_reply(text, claude=claude, model=CLASSIFY_MODEL)

    assert result.classification.source == "rules"
    assert result.classification.label == classify.by_rules(text).label == "QUESTION"
    assert result.answer is None
    assert result.note == "Claude took longer than 0.5 s; the rules' reading stands."


# -- opt-outs: the rules decide, Claude only raises a flag ---------------------------------


@pytest.mark.parametrize(
    "text", ["STOP", "Please stop texting me", "take me off your list", "no mas", "Unsubscribe."]
)
def test_rules_opt_out_is_final_and_claude_is_never_asked(fake, claude, script, text):
    script.reading = answer("POSITIVE", 99)  # what Claude would say, were it asked

    result = reading.read_reply(text, claude=claude, model=CLASSIFY_MODEL)

    assert fake.calls == 0
    assert (result.classification.label, result.classification.opt_out) == ("STOP", True)
    assert result.classification.source == "rules"
    assert result.note == "Opt-out words found by the rules."


@BOTH_DATABASES
def test_stop_in_the_inbox_is_never_sent_to_claude(app, crew, line, fake, models):
    lead = texted(crew, line)

    reception = reply_from(OWNER, "STOP")
    outcome = inbox.process_item(db.session, reception.item_id, models)

    assert reception.handled == "suppressed" and not reception.needs_job
    assert outcome == "nothing to read"
    assert fake.calls == 0
    item = db.session.get(InboxItem, reception.item_id)
    assert (item.state, item.label, item.opt_out, item.classified_by) == (
        "done",
        "STOP",
        True,
        "rules",
    )
    assert count(Draft) == 0
    assert db.session.get(Lead, lead.id).status == "do_not_contact"


@BOTH_DATABASES
@pytest.mark.parametrize(
    "claude_says",
    [
        answer("STOP", 88, opt_out=True),
        answer("STOP", 70),
        answer("NEGATIVE", 75, opt_out=True),
    ],
    ids=["stop-and-opt-out", "stop-label", "opt-out-flag"],
)
def test_opt_out_only_claude_sees_is_flagged_for_a_person_not_suppressed(
    app, crew, line, fake, script, models, claude_says
):
    lead = texted(crew, line)
    text = "I would appreciate it if this was the last I hear from your firm."
    assert not classify.by_rules(text).opt_out  # the rules miss it
    script.reading = claude_says
    reception = reply_from(OWNER, text)

    item, _draft = read_item(reception.item_id, models)

    assert item.opt_out_suspected
    assert not item.opt_out and item.label != "STOP"
    assert item.classified_by == "ai"
    assert "possible opt-out: confirm or dismiss" in item.classify_note
    assert (item.state, item.route, item.bucket) == ("open", "review", "urgent")
    assert item.priority >= 150
    # Nothing is suppressed, recorded or confirmed until a person says so.
    assert count(Suppression) == 0
    assert count(ConsentEvent) == 0
    assert count(Message, Message.kind == "confirmation") == 0
    assert db.session.get(Lead, lead.id).status == "replied"


# -- what Claude's JSON may and may not look like ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"label": "MAYBE", "confidence": 60, "opt_out": false, "extracted": {}}',
        '{"label": "positive", "confidence": 60, "opt_out": false}',
        '{"label": "POSITIVE", "confidence": "high", "opt_out": false}',
        '{"label": "POSITIVE", "confidence": 80, "opt_out": "yes"}',
        '{"label": "POSITIVE", "confidence": 80, "opt_out": 1}',
        '{"label": "POSITIVE", "confidence": 80, "opt_out": false, "extracted": ["a@b.co"]}',
        '["POSITIVE", 80, false]',
        "POSITIVE",
        "",
        BROKEN_JSON_TEXT,
    ],
    ids=[
        "unknown-label",
        "lower-case-label",
        "confidence-in-words",
        "opt-out-yes",
        "opt-out-number",
        "extracted-list",
        "a-list",
        "a-bare-word",
        "nothing",
        "cut-off",
    ],
)
def test_invalid_answers_are_refused(text):
    assert reading.parse_answer(text) is None


def test_answers_are_cleaned_within_bounds():
    wrapped = (
        "Here is my reading:\n```json\n"
        '{"label": "LATER", "confidence": "72", "opt_out": false, "extracted": '
        '{"timeline": "next spring", "email": "not an email", "phone": "(512) 555-0187", '
        '"favorite_color": "blue", "asking_price": {"amount": 1}}}\n```\nHope that helps!'
    )
    assert reading.parse_answer(wrapped) == {
        "label": "LATER",
        "confidence": 72,
        "opt_out": False,
        "extracted": {"timeline": "next spring", "phone": "+15125550187"},
    }
    high = reading.parse_answer('{"label": "POSITIVE", "confidence": 140, "opt_out": false}')
    low = reading.parse_answer('{"label": "NEGATIVE", "confidence": -5, "opt_out": false}')
    assert (high["confidence"], low["confidence"]) == (100, 0)
    assert high["extracted"] == {}


@pytest.mark.parametrize(
    ("claude_says", "source", "label"),
    [
        (answer("MAYBE", 60), "rules", "QUESTION"),
        ('{"label": "LATER", "confidence": "high", "opt_out": false}', "rules", "QUESTION"),
        ('{"label": "LATER", "confidence": 70, "opt_out": "yes"}', "rules", "QUESTION"),
        ('{"label": "LATER", "confidence": 70, "opt_out": false, "extracted": ["x@y.co"]}',
         "rules", "QUESTION"),
        ("Sure! " + answer("LATER", 70) + " Let me know if you need more.", "ai", "LATER"),
    ],
    ids=["unknown-label", "confidence-high", "opt-out-yes", "extracted-list", "prose-around"],
)  # fmt: skip
def test_claude_answer_shapes_decide_whose_reading_stands(
    fake, claude, script, claude_says, source, label
):
    text = "Who is this?"
    script.reading = claude_says

    result = reading.read_reply(text, claude=claude, model=CLASSIFY_MODEL)

    assert (result.classification.source, result.classification.label) == (source, label)
    assert result.answer is not None and result.answer.output_tokens > 0
    if source == "rules":
        assert result.note == "Claude's answer was not valid JSON; the rules' reading stands."
        assert result.classification == classify.by_rules(text)
    else:
        assert result.note == f"Read by {CLASSIFY_MODEL}."


# -- guardrails on drafts ------------------------------------------------------------------

LONG_DRAFT = (
    "Thanks so much for getting back to me, Dana. I would love to hear more about how you "
    "built Lake Plumbing over the years and what the next chapter looks like for you. "
    "Our team works with owners at every stage, whether that is selling outright, bringing "
    "in a partner or simply planning ahead. Could we find 15 minutes this week for a call?"
)


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ("Book a time that suits you here: https://cal.example.com/harbor", "carried a link"),
        ("Happy to share more at harborpartners.com or on a quick call?", "carried a link"),
        ("Shops like yours often sell for $1.2M. Free for a call Tuesday?", "named a figure"),
        ("Owners like you usually see 4x, a multiple of earnings. Call Tuesday?", "named a figure"),
        (LONG_DRAFT, "ran to 3 segments"),
        ("", "was empty"),
    ],
    ids=["url", "bare-domain", "dollars", "multiple", "three-segments", "empty"],
)
def test_draft_breaking_a_guardrail_gives_way_to_the_template(
    app, crew, line, fake, script, models, draft, reason
):
    texted(crew, line)
    script.draft = draft
    reception = reply_from(OWNER, "Sure, I'd talk.")

    item, proposed = read_item(reception.item_id, models)

    assert item.classified_by == "ai"
    assert proposed is not None
    assert (proposed.source, proposed.body) == ("template", template_for(item))
    assert proposed.fallback_reason == f"Claude's draft {reason}: the persona's template."
    # The call still happened and is on record, for the AI quality figures.
    assert proposed.model == DRAFT_MODEL and proposed.output_tokens > 0


def test_link_is_kept_when_the_team_allows_links(app, crew, line, fake, script, models):
    link = "https://cal.example.com/harbor"
    settings = ReplySettings.of(crew.team)
    settings.allow_links, settings.link = True, link
    settings.save(crew.team)
    db.session.commit()
    texted(crew, line)
    script.draft = f"Great, thank you. Pick a time that suits you here: {link}"
    reception = reply_from(OWNER, "Sure, I'd talk.")

    _item, proposed = read_item(reception.item_id, models)

    assert (proposed.source, proposed.body) == ("ai", script.draft)
    (asked,) = requests_of(fake, is_drafting)
    assert link in content_text(asked["system"])


def test_guardrails_check_each_rule_in_words():
    assert drafting.guardrail_breach("Would a call Tuesday work?", allow_links=False) == ""
    assert drafting.guardrail_breach("See www.harbor.io", allow_links=False) == "carried a link"
    assert drafting.guardrail_breach("See www.harbor.io", allow_links=True) == ""
    assert drafting.guardrail_breach("We pay 900k", allow_links=True) == "named a figure"


# -- prompt caching ------------------------------------------------------------------------


@BOTH_DATABASES
def test_second_draft_of_a_persona_reads_its_prompt_from_the_cache(app, crew, line, fake, models):
    first_lead = texted(crew, line, "+15125550187", "Lake Plumbing LLC")
    second_lead = texted(crew, line, "+15125550188", "Hill Country HVAC LLC")
    first = reply_from("+15125550187", "Sure, I'd talk.")
    second = reply_from("+15125550188", "Yes, I'm open to it.")

    _item, first_draft = read_item(first.item_id, models)
    _item, second_draft = read_item(second.item_id, models)

    asked = requests_of(fake, is_drafting)
    assert len(asked) == 2
    # Byte for byte the same system blocks; only the user message (the lead) differs.
    first_system, second_system = (json.dumps(r["system"]).encode() for r in asked)
    assert first_system == second_system
    assert asked[0]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first_lead.business.name in last_user_text(asked[0])
    assert second_lead.business.name in last_user_text(asked[1])
    assert first_draft.persona == second_draft.persona == "SABRINA"
    assert first_draft.source == second_draft.source == "ai"
    assert first_draft.cache_write_tokens > 0 and first_draft.cache_read_tokens == 0
    assert second_draft.cache_read_tokens == first_draft.cache_write_tokens
    assert second_draft.cache_write_tokens == 0


# -- the classify command ------------------------------------------------------------------

LINES = ["STOP", "Sure, call me tomorrow after 3pm at 512-555-0187", "", "Who is this?"]


def classify_app(**config) -> Flask:
    """A console for the CLI (no database needed), with `config` on top of the tests'."""
    return create_app(TestConfig(**config))


def run_classify(app: Flask, *args: str) -> list[dict]:
    """`flask --app app classify` with LINES on stdin; one dict per printed line."""
    result = app.test_cli_runner().invoke(args=["classify", *args], input="\n".join(LINES) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(printed) for printed in result.output.splitlines()]


def test_classify_command_asks_claude_when_a_key_is_configured(fake, script):
    script.reading = lambda reply: (
        answer("CALLBACK_REQUEST", 93, callback_time="tomorrow after 3pm")
        if "call me" in reply
        else answer("QUESTION", 88)
    )
    app = classify_app(
        ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=fake.url, ANTHROPIC_TIMEOUT=TIMEOUT
    )

    printed = run_classify(app)

    assert fake.calls == 2  # the STOP and the blank line never reach Claude
    assert [p["text"] for p in printed] == [LINES[0], LINES[1], LINES[3]]
    stop, callback, question = printed
    assert {k: stop[k] for k in ("label", "confidence", "opt_out", "source")} == {
        "label": "STOP",
        "confidence": 100,
        "opt_out": True,
        "source": "rules",
    }
    assert stop["extracted"] == {}
    assert (callback["label"], callback["confidence"], callback["source"]) == (
        "CALLBACK_REQUEST",
        93,
        "ai",
    )
    assert callback["opt_out"] is False
    assert callback["extracted"]["phone"] == "+15125550187"
    assert callback["extracted"]["callback_time"] == "tomorrow after 3pm"
    assert (question["label"], question["confidence"], question["source"]) == (
        "QUESTION",
        88,
        "ai",
    )
    assert {r["model"] for r in requests_of(fake, is_reading)} == {CLASSIFY_MODEL}


def test_classify_command_rules_only_never_calls_claude(fake):
    app = classify_app(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=fake.url)

    printed = run_classify(app, "--rules-only")

    assert fake.calls == 0
    for line_printed, text in zip(printed, [LINES[0], LINES[1], LINES[3]], strict=True):
        rules = classify.by_rules(text)
        assert line_printed["source"] == "rules"
        assert (line_printed["label"], line_printed["confidence"]) == (
            rules.label,
            rules.confidence,
        )
        assert line_printed["opt_out"] is rules.opt_out
        assert line_printed["extracted"] == rules.extracted
    assert [p["label"] for p in printed] == ["STOP", "CALLBACK_REQUEST", "QUESTION"]


def test_classify_command_without_a_key_uses_the_rules_and_says_so(fake):
    printed = run_classify(classify_app())

    assert fake.calls == 0
    assert {p["source"] for p in printed} == {"rules"}
    assert printed[1]["note"] == "Read by the rules (no Anthropic key configured)."
