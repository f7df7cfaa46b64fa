"""Opt-out, opt-in and help language: Twilio's keywords, revocation in other words, look-alikes."""

from __future__ import annotations

import re
import time
from dataclasses import FrozenInstanceError

import pytest

from console.services.replies import optout
from console.services.replies.optout import (
    HELP_KEYWORDS,
    LOOK_ALIKES,
    OPT_IN_KEYWORDS,
    OPT_IN_PHRASES,
    OPT_OUT_KEYWORDS,
    REVOCATION_PHRASES,
    Intent,
    fold,
    is_reaction,
    read,
)

# Revocation in words owners really use; each one must opt the number out.
REVOCATIONS = [
    "STOP maybe",
    "Stop. lol",
    "stop texting me",
    "STOP!!!",
    "pls stop",
    "stop please",
    "Stop. Wrong number",
    "wrong number stop",
    "stop msg",
    "stop contacting me",
    "STOP STOP STOP",
    "stop it",
    "Stoppp",
    "I said stop",
    "just stop",
    "can you stop",
    "why won't you people stop texting me",
    "You guys can't stop texting me huh",
    "make it stop",
    "Stop I'm not interested",
    "stop with the texts",
    "stop sending these",
    "stop bugging me",
    "Not interested. Stop",
    "not interested stop",
    "How did you get my number... stop",
    "lol stop",
    "Unsubscribe me please",
    "how do I unsubscribe from this",
    "UN-SUBSCRIBE",
    "opt me out",
    "OPT OUT",
    "opt-out",
    "STOP ALL",
    "remove me",
    "remove me from your list",
    "please remove my number",
    "Remove",
    "take me off your list",
    "take me off of your mailing list",
    "take this number off your list",
    "get me off your list",
    "I asked to be removed last week",
    "why am I still getting these",
    "delete my number",
    "lose my number",
    "lose this number",
    "don't text me",
    "Do not text me again",
    "dont message me",
    "don't contact me",
    "don't call me",
    "Never text me again",
    "please don't reach out again",
    # We only text: asking for a call does not undo "don't text" (see the module docstring).
    "give me a call, don't text",
    "don't text me, call me at 512-555-0100",
    "no more texts",
    "No more messages please",
    "no more of these please",
    "no more",
    "I don't want your texts",
    "I do not want any more texts",
    "don't want to hear from you",
    "leave me alone",
    "leave me the hell alone",
    "quit texting me",
    "quit messaging this number",
    "do not contact",
    "put me on your do not call list",
    "this number is on the do not call registry. stop",
    "DNC",
    "cease and desist",
    "Cease all communication",
    "Please discontinue these messages",
    "I revoke my consent",
    "I never signed up for this",
    "Cancel these texts",
    "enough already",
    "enough with the texts",
    "put an end to this",
    "This is harassment",
    "go away",
    "piss off",
    "f off",
    "f*** off",
    "fuck off",
    "go f yourself",
    "get lost",
    "knock it off",
    "reported as spam",
    "I'll report you",
    "Reporting this number to the FTC",
    "marked as spam",
    "Spam.",
    "Blocked",
    "blocking you now",
    "how did you get my number? stop",
    "Not interested, remove me",
    "Not selling - stop",
    "nope. unsubscribe",
    "End. Not interested.",
    "Quit.\nNot selling",
    "who is this?? STOP",
    "🛑 STOP 🛑",
    "no mas",
    "No más",
    "No me envíes más mensajes",
    "no me vuelvas a escribir",
    "Ya no me manden mensajes",
    "Alto",
    "Basta!",
    "Deja de mandarme mensajes",
    "déjame en paz",
    "quítame de la lista",
    "borra mi numero",
    "Text me again and I'll report you",
]

# Replies that look like revocation and are not; none may opt the number out.
LOOK_ALIKE_REPLIES = [
    "stop by anytime",
    "Stop by the shop tomorrow",
    "I'll stop by Friday",
    "stop in Tuesday",
    "don't stop",
    "please don't stop texting me",
    "please don't stop reaching out",
    "I don't want you to stop",
    "I can't stop thinking about retiring",
    "can't stop won't stop",
    "we never stop working",
    "non-stop busy here",
    "nonstop",
    "we're by the bus stop",
    "we're a one-stop shop",
    "That's the last stop on my route",
    "stop sign business",
    "We make stop signs",
    "I have a stop-loss on it",
    "full stop, not selling",
    "end of the month works",
    "the end",
    "in the end it depends on price",
    "I'd like to end up selling",
    "year-end is busy",
    "weekend works",
    "I can cancel my 3pm",
    "quit my job last year",
    "remove the old sign first",
    "Remove the trucks from the valuation",
    "take me off the hook, I'll call you",
    "Don't remove me from the list",
    "don't take me off your list",
    "Why don't you text me next week",
    "I don't text much, call me",
    "don't call, just text",
    "Text only please, don't call",
    "Call me, I prefer calls to texts",
    "yes",
    "start",
    "info on price?",
    "help me understand the valuation",
    "Not interested",
    "No thanks",
    "Never selling",
    "Wrong number",
    "How did you get my number?",
    "Who is this?",
    "No me interesa",
    "the price is too alto",
    "para mi esposa",
    "I was just about to text you",
    "Liked “Hi Dana, would you ever consider selling Acme Plumbing? Reply STOP to opt out”",
    "Questioned “Hi Bob, thinking of selling? Reply STOP to opt out”",
]


def read_without_gates(text: str) -> str:
    """What `read` decides with every pattern run on every reply (no needle gates)."""
    if optout._exact_keyword(text) in OPT_OUT_KEYWORDS:
        return optout.OPT_OUT
    folded = fold(text)
    if is_reaction(text):
        return ""
    for phrase in LOOK_ALIKES:
        folded = re.sub(phrase.pattern, " ~ ", folded)
    if any(re.search(phrase.pattern, folded) for phrase in REVOCATION_PHRASES):
        return optout.OPT_OUT
    return ""


# --------------------------------------------------------------------------- keywords


def test_keywords_are_twilios():
    assert set(OPT_OUT_KEYWORDS) == {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    }
    assert set(OPT_IN_KEYWORDS) == {"START", "UNSTOP", "YES"}
    assert set(HELP_KEYWORDS) == {"HELP", "INFO"}


@pytest.mark.parametrize("keyword", OPT_OUT_KEYWORDS)
@pytest.mark.parametrize(
    "shape",
    [
        "{}",
        "{lower}",
        "{title}",
        "  {}  ",
        "\n{}\n",
        "{}.",
        "{}!",
        "{lower}!!!",
        "{}?",
        '"{}"',
        "“{lower}”",
    ],
)
def test_an_opt_out_keyword_alone_is_exact(keyword, shape):
    text = shape.format(keyword, lower=keyword.lower(), title=keyword.title())
    assert read(text) == Intent("opt_out", True, keyword)


@pytest.mark.parametrize(
    "text",
    ["STOP ALL", "OPT OUT", "OPT-OUT", "UN-SUBSCRIBE", "stop please", "STOP 🛑", "stop stop"],
)
def test_opt_outs_twilio_does_not_act_on_are_not_exact(text):
    intent = read(text)
    assert intent.kind == "opt_out"
    assert intent.exact is False
    assert intent.matched


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("START", "START"),
        ("unstop", "UNSTOP"),
        ("Yes.", "YES"),
        (" start ", "START"),
        ("yes!", "YES"),
    ],
)
def test_an_opt_in_keyword_alone_is_exact(text, keyword):
    assert read(text) == Intent("opt_in", True, keyword)


@pytest.mark.parametrize(
    ("text", "keyword"), [("HELP", "HELP"), ("help", "HELP"), ("Info?", "INFO"), ("info.", "INFO")]
)
def test_help_is_exact_only(text, keyword):
    assert read(text) == Intent("help", True, keyword)


@pytest.mark.parametrize(
    "text", ["help me understand the valuation", "what is this?", "info on price?", "need help"]
)
def test_help_words_in_a_sentence_are_not_help(text):
    assert read(text).kind == ""


# --------------------------------------------------------------------------- free text


def test_the_tables_are_large_enough():
    assert len(REVOCATIONS) >= 70
    assert len(LOOK_ALIKE_REPLIES) >= 35
    assert len(set(REVOCATIONS)) == len(REVOCATIONS)
    assert len(set(LOOK_ALIKE_REPLIES)) == len(LOOK_ALIKE_REPLIES)


@pytest.mark.parametrize("text", REVOCATIONS)
def test_revocation_in_other_words_opts_out(text):
    intent = read(text)
    assert intent.kind == "opt_out", intent
    assert intent.matched


@pytest.mark.parametrize("text", LOOK_ALIKE_REPLIES)
def test_a_look_alike_does_not_opt_out(text):
    assert read(text).kind != "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "Stop by anytime. Actually no, stop texting me",
        "don't stop... kidding. STOP",
        "we're a one-stop shop. remove me",
        "end of the month works. no wait, leave me alone",
    ],
)
def test_a_look_alike_never_hides_a_revocation_beside_it(text):
    assert read(text).kind == "opt_out"


def test_phrase_matches_name_the_table_entry():
    assert read("take me off your list").matched == "take me off your list"
    assert read("please leave me alone").matched == "leave me alone"
    assert read("no mas").matched == "no mas (Spanish)"
    names = {phrase.name for phrase in REVOCATION_PHRASES}
    assert all(read(text).matched in names | set(OPT_OUT_KEYWORDS) for text in REVOCATIONS)


@pytest.mark.parametrize(
    "text",
    [
        "please start texting me again",
        "you can text me again",
        "ok to text me again",
        "opt me back in",
        "Resubscribe me please",
        "put me back on the list",
    ],
)
def test_opt_in_in_other_words(text):
    assert read(text) == Intent("opt_in", False, read(text).matched)
    assert read(text).matched in {phrase.name for phrase in OPT_IN_PHRASES}


@pytest.mark.parametrize(
    "text",
    ["don't start texting me", "yes stop", "opt me back in. no wait, stop", "START? no. stop"],
)
def test_opt_out_beats_opt_in(text):
    assert read(text).kind == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "Liked “Hi Dana, would you ever consider selling Acme Plumbing? Reply STOP to opt out”",
        'Loved "Hi Tom, is Acme Roofing something you\'d sell? Reply STOP to opt out"',
        "Emphasized “Reply STOP to opt out”",
        "Reacted 👍 to “Hi Sam, ever thought about selling? Reply STOP to opt out”",
    ],
)
def test_a_reaction_quoting_our_text_is_not_a_reply(text):
    assert is_reaction(text)
    assert read(text) == Intent("", False, "")


def test_a_reaction_prefix_with_words_of_its_own_is_read():
    assert not is_reaction("Liked your text but stop messaging me")
    assert read("Liked your text but stop messaging me").kind == "opt_out"


@pytest.mark.parametrize("text", ["", "   ", "?", "👍", "ok", "k", "Hmm"])
def test_nothing_in_an_empty_or_vague_reply(text):
    assert read(text) == Intent("", False, "")


def test_fold_drops_accents_case_and_curly_quotes():
    assert fold("Déjame EN PAZ") == "dejame en paz"
    assert fold("Don’t TEXT me") == "don't text me"
    assert fold("plain") == "plain"


def test_intent_is_immutable():
    with pytest.raises(FrozenInstanceError):
        read("STOP").kind = "opt_in"  # type: ignore[misc]


# --------------------------------------------------------------------------- the tables


@pytest.mark.parametrize("table", [LOOK_ALIKES, REVOCATION_PHRASES, OPT_IN_PHRASES])
def test_each_table_entry_is_named_gated_and_compiles(table):
    names = [phrase.name for phrase in table]
    assert len(set(names)) == len(names)
    for phrase in table:
        assert phrase.name.strip()
        assert phrase.needles
        for needle in phrase.needles:
            assert needle == needle.lower() and needle.strip() == needle and " " not in needle
        assert re.compile(phrase.pattern).groups == 0, phrase.name


def test_needle_gates_never_change_a_decision():
    replies = REVOCATIONS + LOOK_ALIKE_REPLIES
    for text in replies:
        gated = read(text).kind == "opt_out"
        assert gated == (read_without_gates(text) == "opt_out"), text


def test_ten_thousand_reads_finish_quickly_enough_to_run_in_the_webhook():
    replies = REVOCATIONS + LOOK_ALIKE_REPLIES
    started = time.perf_counter()
    for i in range(10_000):
        read(replies[i % len(replies)])
    elapsed = time.perf_counter() - started
    # Not a timing assertion: the figure is printed for the record (pytest -s).
    print(f"optout.read: {elapsed / 10_000 * 1e6:.1f} µs per reply over 10,000 reads")
    assert elapsed < 60
