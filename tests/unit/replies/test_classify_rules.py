"""The rules classifier: labels on the labeled replies, precedence, confidence, extracted fields."""

from __future__ import annotations

import pytest

from console.services.replies.classify import (
    LABEL_NAMES,
    LABELS,
    PRECEDENCE,
    RULES,
    Classification,
    by_rules,
)
from console.services.replies.extraction import extract
from console.services.replies.optout import read
from tests.classify_eval import accuracy, accuracy_by_label, format_table, load_labeled, predict

# Measured at 99.5% on 424 replies. The rules were written with the first 284 in view;
# on the 140 written afterwards they scored 79% before being corrected, so this floor
# guards against regressions; it is not a measure of skill on unseen replies.
ACCURACY_FLOOR = 0.96
RECALL_FLOOR = 0.85

ROWS = load_labeled()


@pytest.fixture(scope="module")
def pairs() -> list[tuple[str, str]]:
    """(expected, predicted) for every labeled reply, by the rules."""
    return predict(ROWS)


# --------------------------------------------------------------------------- the labeled set


def test_the_labeled_set_is_large_and_covers_every_label():
    assert len(ROWS) >= 220
    assert {row["label"] for row in ROWS} == set(LABELS)
    counts = {label: sum(row["label"] == label for row in ROWS) for label in LABELS}
    assert min(counts.values()) >= 15, counts
    assert counts["STOP"] >= 35
    assert len({row["text"] for row in ROWS}) == len(ROWS)


def test_most_stop_replies_are_free_text_not_keywords():
    stops = [row["text"] for row in ROWS if row["label"] == "STOP"]
    exact = [text for text in stops if read(text).exact]
    assert len(exact) * 4 < len(stops)


def test_stop_recall_is_complete(pairs):
    missed = [
        row["text"]
        for row, (expected, got) in zip(ROWS, pairs, strict=True)
        if expected == "STOP" and got != "STOP"
    ]
    assert missed == []


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["text"][:40])
def test_opt_out_is_set_exactly_for_labeled_stops(row):
    result = by_rules(row["text"])
    assert result.opt_out is (row["label"] == "STOP")
    assert result.opt_out is (result.label == "STOP")


def test_overall_accuracy_stays_above_the_floor(pairs):
    assert accuracy(pairs) >= ACCURACY_FLOOR, format_table(pairs)


def test_every_label_keeps_its_recall(pairs):
    scores = accuracy_by_label(pairs)
    weak = {label: score.recall for label, score in scores.items() if score.recall < RECALL_FLOOR}
    assert weak == {}, format_table(pairs)


def test_accuracy_by_label_counts_precision_and_recall():
    scores = accuracy_by_label(
        [("STOP", "STOP"), ("STOP", "NEGATIVE"), ("NEGATIVE", "NEGATIVE"), ("LATER", "NEGATIVE")]
    )
    assert list(scores) == list(LABELS)
    stop, negative, later = scores["STOP"], scores["NEGATIVE"], scores["LATER"]
    assert (stop.support, stop.predicted, stop.correct) == (2, 1, 1)
    assert stop.precision == 1.0 and stop.recall == 0.5
    assert negative.precision == pytest.approx(1 / 3) and negative.recall == 1.0
    assert later.recall == 0.0
    assert scores["UNCLEAR"].precision == 1.0 and scores["UNCLEAR"].support == 0


# --------------------------------------------------------------------------- labels


def test_labels_names_and_precedence_agree():
    assert set(LABEL_NAMES) == set(LABELS)
    assert sorted(PRECEDENCE) == sorted(LABELS)
    assert PRECEDENCE[0] == "STOP" and PRECEDENCE[-1] == "UNCLEAR"
    assert LABEL_NAMES["POSITIVE"] == "Interested"
    assert LABEL_NAMES["CALLBACK_REQUEST"] == "Callback request"
    assert {rule.label for rule in RULES} <= set(LABELS) - {"STOP", "UNCLEAR"}


def test_rule_names_are_unique_per_label():
    keys = [(rule.label, rule.name) for rule in RULES]
    assert len(set(keys)) == len(keys)
    assert all(0 < rule.confidence <= 100 for rule in RULES)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Not interested, remove me", "STOP"),
        ("Wrong number, not interested", "WRONG_NUMBER"),
        ("Not interested but email me at joe@joesgarage.com if things change", "EMAIL_CAPTURE"),
        ("I'm the manager, owner's email is ann@annsbakery.com", "EMAIL_CAPTURE"),
        ("I'm just the manager, the owner's cell is 512-555-0190", "NOT_OWNER"),
        ("Call me tomorrow, want to hear your number", "CALLBACK_REQUEST"),
        ("Maybe next year, but what would you pay?", "PRICE_INQUIRY"),
        ("Not interested right now, maybe next year", "LATER"),
        ("Not now, not ever", "NEGATIVE"),
        ("My son is taking over next year so no", "NEGATIVE"),
        ("Maybe. Who are you with?", "POSITIVE"),
        ("who is this?", "QUESTION"),
        ("depends on the number", "PRICE_INQUIRY"),
    ],
)
def test_precedence_when_several_labels_apply(text, label):
    assert by_rules(text).label == label


def test_an_exact_stop_is_certain_and_a_phrase_nearly():
    assert (by_rules("STOP").label, by_rules("STOP").confidence) == ("STOP", 100)
    phrase = by_rules("please take me off your list")
    assert (phrase.label, phrase.confidence, phrase.opt_out) == ("STOP", 95, True)
    assert "take me off your list" in phrase.note


@pytest.mark.parametrize("text", ["", "?", "ok", "k", "👍", "😂😂", "Got it", "..."])
def test_vague_replies_are_unclear_with_low_confidence(text):
    result = by_rules(text)
    assert (result.label, result.opt_out) == ("UNCLEAR", False)
    assert result.confidence <= 40


def test_a_reaction_to_our_text_is_unclear_not_an_opt_out():
    result = by_rules("Liked “Hi Dana, would you ever consider selling? Reply STOP to opt out”")
    assert (result.label, result.opt_out) == ("UNCLEAR", False)
    assert "reaction" in result.note


def test_strong_rules_are_confident_and_weak_ones_are_not():
    assert by_rules("Not interested").confidence >= 90
    assert by_rules("Wrong number").confidence >= 90
    weak = by_rules("after tax season")
    assert weak.label == "LATER"
    assert 60 <= weak.confidence <= 75
    assert weak.note.startswith("weak rule only")


def test_a_torn_reply_says_so_and_is_less_sure():
    torn = by_rules("Maybe. Who are you with?")
    clear = by_rules("Maybe")
    assert torn.label == clear.label == "POSITIVE"
    assert torn.confidence < clear.confidence
    assert "Question" in torn.note


def test_as_json_has_the_documented_keys():
    result = by_rules("Call me at 512-555-0147 tomorrow after 3pm")
    assert result.as_json() == {
        "label": "CALLBACK_REQUEST",
        "confidence": result.confidence,
        "opt_out": False,
        "extracted": {"phone": "+15125550147", "callback_time": "tomorrow after 3pm"},
        "source": "rules",
        "note": result.note,
    }
    assert isinstance(result, Classification)


# --------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("Send me info at Dana.K@AcmePlumbing.com.", "dana.k@acmeplumbing.com"),
        ("email me: bob@rivera-hvac.com", "bob@rivera-hvac.com"),
        ("DWILLIAMS@HOTMAIL.COM", "dwilliams@hotmail.com"),
        (
            "reach me at tom.o'neil+deals@mail.example.co.uk thanks",
            "tom.o'neil+deals@mail.example.co.uk",
        ),
    ],
)
def test_extracts_an_email(text, email):
    assert extract(text)["email"] == email
    assert by_rules(text).label == "EMAIL_CAPTURE"


@pytest.mark.parametrize(
    "text",
    [
        "call me at (512) 555-0147",
        "my cell 512.555.0147",
        "512-555-0147",
        "+1 512 555 0147 after 6",
        "5125550147",
        "1-512-555-0147",
        "call 512 555 0147",
    ],
)
def test_extracts_a_us_phone_in_e164(text):
    assert extract(text)["phone"] == "+15125550147"


def test_no_phone_in_figures_or_years():
    assert "phone" not in extract("I'd take 1,200,000 and we closed in 2019, 6 trucks")


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("I'd take 1.2M", "$1,200,000"),
        ("need $850k to walk away", "$850,000"),
        ("If you can do 1.2 mil cash", "$1,200,000"),
        ("$900K", "$900,000"),
        ("$1,200,000 firm", "$1,200,000"),
        ("2.5mm", "$2,500,000"),
        ("Not for less than 4 million", "$4,000,000"),
        ("two million and it's yours", "$2,000,000"),
        ("half a million", "$500,000"),
        ("three and a half million", "$3,500,000"),
    ],
)
def test_extracts_an_asking_price(text, price):
    assert extract(text)["asking_price"] == price
    assert by_rules(text).label == "PRICE_INQUIRY"


@pytest.mark.parametrize(
    "text",
    [
        "We did 3.1M in revenue",
        "there is a $50 fee",
        "in 6 months",
        "I have 12 trucks",
        "5pm works",
    ],
)
def test_no_asking_price_in_other_figures(text):
    assert "asking_price" not in extract(text)


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("can you call tomorrow after 3pm", "tomorrow after 3pm"),
        ("Can you call tomorrow at 3?", "tomorrow at 3"),
        ("I'm free Thursday after 2, call me", "Thursday after 2"),
        ("call me in an hour", "in an hour"),
        ("Best time to reach me by phone is weekdays before 10am", "weekdays before 10am"),
        ("Give me a call this afternoon", "this afternoon"),
        ("call me at 512-555-0147 tomorrow at 10:30am", "tomorrow at 10:30am"),
        ("Call me Monday morning", "Monday morning"),
    ],
)
def test_extracts_a_callback_time_as_written(text, when):
    assert extract(text)["callback_time"] == when
    assert by_rules(text).label == "CALLBACK_REQUEST"


def test_a_time_without_a_call_is_not_a_callback_time():
    assert "callback_time" not in extract("busy till 5pm, not selling")


@pytest.mark.parametrize(
    ("text", "timeline"),
    [
        ("maybe next year", "next year"),
        ("check back in 6 months", "in 6 months"),
        ("after tax season", "after tax season"),
        ("Ask me again in the spring", "in the spring"),
        ("I'm retiring in 3-5 years", "in 3-5 years"),
        ("maybe when I turn 65", "when I turn 65"),
        ("Circle back in Q3", "in Q3"),
        ("Give me a couple months", "a couple months"),
    ],
)
def test_extracts_a_timeline_as_written(text, timeline):
    assert extract(text)["timeline"] == timeline
    assert by_rules(text).label == "LATER"


def test_a_past_date_is_not_a_timeline():
    assert "timeline" not in extract("I sold it in 2021")
    assert by_rules("I sold it in 2021").label == "NOT_OWNER"


def test_only_found_fields_are_extracted():
    assert extract("Call me") == {}
    assert by_rules("Call me").extracted == {}
