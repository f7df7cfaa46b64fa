"""SMS segment math: GSM-7 and UCS-2 units, segment splitting, plain replacements."""

from __future__ import annotations

import random

import pytest

from console.services.campaigns.segments import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    MAX_BODY,
    REPLACEMENTS,
    measure,
    plain,
    replaceable,
)

EXTENDED_CHARS = sorted(GSM7_EXTENDED)
CYRILLIC = "ж"  # one UTF-16 unit, outside GSM-7
EMOJI = "😀"  # a surrogate pair


def reference_segments(text: str) -> tuple[str, int, int, int]:
    """(encoding, units, segments, remaining) the slow, obvious way: character by character."""
    gsm = all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)
    if gsm:
        widths = [2 if c in GSM7_EXTENDED else 1 for c in text]
        single, multi = 160, 153
    else:
        widths = [len(c.encode("utf-16-le")) // 2 for c in text]
        single, multi = 70, 67
    units = sum(widths)
    if units == 0:
        return ("GSM-7", 0, 0, 160)
    if units <= single:
        return ("GSM-7" if gsm else "UCS-2", units, 1, single - units)
    segments, used = 1, 0
    for width in widths:
        if used + width > multi:
            segments, used = segments + 1, 0
        used += width
    return ("GSM-7" if gsm else "UCS-2", units, segments, multi - used)


# ------------------------------------------------------------------------ the sets


def test_gsm7_basic_set_has_the_127_characters_of_the_reference():
    assert len(GSM7_BASIC) == 127  # 128 code points less ESC
    assert {"\n", "\r", " ", "@", "£", "$", "¥", "è", "Ç", "Δ", "_", "¤", "¡", "¿", "à"} <= (
        GSM7_BASIC
    )


def test_gsm7_extension_set_is_the_ten_escaped_characters():
    assert set("^{}\\[]~|€\f") == GSM7_EXTENDED
    assert not GSM7_BASIC & GSM7_EXTENDED


@pytest.mark.parametrize("char", ["`", "\t", "ç", "á", "’", "—", "\u00a0", "\x1b", "\x7f"])
def test_characters_outside_gsm7(char):
    assert char not in GSM7_BASIC
    assert char not in GSM7_EXTENDED
    assert measure(f"Hello {char}").encoding == "UCS-2"


# ---------------------------------------------------------------------------- GSM-7


@pytest.mark.parametrize("char", sorted(GSM7_BASIC))
def test_every_basic_character_is_one_septet(char):
    result = measure(char * 160)
    assert (result.encoding, result.units, result.segments) == ("GSM-7", 160, 1)


@pytest.mark.parametrize("char", EXTENDED_CHARS)
def test_every_extension_character_counts_two_septets(char):
    result = measure(f"a{char}b")
    assert (result.encoding, result.characters, result.units) == ("GSM-7", 3, 4)
    assert result.offending == ()


@pytest.mark.parametrize("char", EXTENDED_CHARS)
def test_extension_character_tips_a_full_message_into_two_segments(char):
    assert measure("a" * 158 + char).segments == 1  # 160 septets
    assert measure("a" * 159 + char).segments == 2  # 161 septets


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [
        (1, 1, 160, 159),
        (159, 1, 160, 1),
        (160, 1, 160, 0),
        (161, 2, 153, 145),
        (306, 2, 153, 0),
        (307, 3, 153, 152),
        (459, 3, 153, 0),
        (460, 4, 153, 152),
    ],
)
def test_gsm7_segment_boundaries(length, segments, per_segment, remaining):
    result = measure("a" * length)
    assert result.encoding == "GSM-7"
    assert (result.units, result.segments) == (length, segments)
    assert (result.per_segment, result.remaining) == (per_segment, remaining)


@pytest.mark.parametrize(
    ("text", "units", "segments", "remaining"),
    [
        # The escape and its character cannot straddle two segments: "€" moves whole.
        ("a" * 152 + "€" + "a" * 152, 306, 3, 152),
        ("a" * 152 + "€" + "a" * 8, 162, 2, 143),
        # "€" ends exactly on the boundary: 151 + 2 = 153 fills the first segment.
        ("a" * 151 + "€" + "a" * 153, 306, 2, 0),
        ("a" * 151 + "€" + "a" * 154, 307, 3, 152),
        ("€" * 80, 160, 1, 0),
        ("€" * 81, 162, 2, 143),  # 76 fit in 153 (152 septets), 5 in the next
        ("{" * 153, 306, 3, 151),  # 76, 76, 1
    ],
    ids=[
        "at-153",
        "at-153-short",
        "ends-on-153",
        "ends-on-153-plus",
        "80-euros",
        "81-euros",
        "braces",
    ],
)
def test_extension_character_at_a_segment_boundary_is_not_split(text, units, segments, remaining):
    result = measure(text)
    assert (result.encoding, result.units) == ("GSM-7", units)
    assert (result.segments, result.remaining) == (segments, remaining)


def test_euro_sign_is_gsm7_with_two_septets():
    result = measure("Only 5€ a month")
    assert (result.encoding, result.characters, result.units) == ("GSM-7", 15, 16)


def test_backtick_is_not_gsm7():
    result = measure("Don`t worry")
    assert result.encoding == "UCS-2"
    assert result.offending == ("`",)
    assert replaceable("Don`t worry") == ("`",)
    assert measure(plain("Don`t worry")).encoding == "GSM-7"


def test_form_feed_is_an_extension_character():
    assert measure("a\fb").units == 4
    assert measure("a\nb\rc").units == 5


# ---------------------------------------------------------------------------- UCS-2


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [
        (1, 1, 70, 69),
        (70, 1, 70, 0),
        (71, 2, 67, 63),
        (134, 2, 67, 0),
        (135, 3, 67, 66),
        (201, 3, 67, 0),
    ],
)
def test_ucs2_segment_boundaries(length, segments, per_segment, remaining):
    result = measure(CYRILLIC * length)
    assert result.encoding == "UCS-2"
    assert (result.units, result.segments) == (length, segments)
    assert (result.per_segment, result.remaining) == (per_segment, remaining)


def test_one_curly_quote_makes_the_whole_message_ucs2():
    text = "a" * 69 + "’"
    assert measure("a" * 160).segments == 1
    result = measure(text)
    assert (result.encoding, result.units, result.segments) == ("UCS-2", 70, 1)
    assert measure(text + "a").segments == 2


@pytest.mark.parametrize(
    ("emoji", "characters", "units"),
    [
        ("😀", 1, 2),
        ("❤", 1, 1),  # in the BMP
        ("❤️", 2, 2),  # with variation selector 16
        ("👍🏽", 2, 4),  # skin tone modifier
        ("🇺🇸", 2, 4),  # flag: two regional indicators
        ("👨‍👩‍👧‍👦", 7, 11),  # ZWJ family: four people, three joiners
        ("🏳️‍🌈", 4, 6),
    ],
)
def test_emoji_count_utf16_units(emoji, characters, units):
    result = measure(emoji)
    assert result.encoding == "UCS-2"
    assert (result.characters, result.units, result.segments) == (characters, units, 1)
    assert result.offending == (emoji,)  # shown as one character, as a reader sees it


@pytest.mark.parametrize(
    ("text", "units", "segments", "remaining"),
    [
        (EMOJI * 35, 70, 1, 0),
        # 33 pairs fill 66 units; the 34th cannot take the last unit of the first segment.
        (EMOJI * 36, 72, 2, 61),
        (CYRILLIC * 66 + EMOJI + CYRILLIC * 66, 134, 3, 66),
        (CYRILLIC * 65 + EMOJI + CYRILLIC * 67, 134, 2, 0),
        (CYRILLIC * 66 + "🇺🇸" + CYRILLIC * 10, 80, 2, 53),
        ("👨‍👩‍👧‍👦" * 7, 77, 2, 56),  # six families fill 66 units; the 7th opens with a pair
    ],
    ids=["35-emoji", "36-emoji", "emoji-at-67", "emoji-at-66", "flag-at-67", "families"],
)
def test_surrogate_pairs_are_not_split_across_segments(text, units, segments, remaining):
    result = measure(text)
    assert (result.encoding, result.units) == ("UCS-2", units)
    assert (result.segments, result.remaining) == (segments, remaining)


# ------------------------------------------------------------------- edges and limits


def test_empty_text_has_no_segments():
    result = measure("")
    assert (result.encoding, result.characters, result.units) == ("GSM-7", 0, 0)
    assert (result.segments, result.per_segment, result.remaining) == (0, 160, 160)
    assert result.offending == ()
    assert not result.too_long


@pytest.mark.parametrize(
    ("text", "too_long"),
    [
        ("a" * MAX_BODY, False),
        ("a" * (MAX_BODY + 1), True),
        (EMOJI * MAX_BODY, False),  # the limit is in characters, not units
        ("€" * (MAX_BODY + 1), True),
    ],
)
def test_body_limit_is_1600_characters(text, too_long):
    assert measure(text).too_long is too_long


def test_1600_gsm7_characters_take_eleven_segments():
    result = measure("a" * 1600)
    assert (result.segments, result.remaining) == (11, 1530 + 153 - 1600)


@pytest.mark.parametrize("seed", range(40))
def test_measure_matches_the_character_by_character_count(seed):
    rng = random.Random(seed)
    pools = ["ab c", "ab c€{", "ab c’", "ab c😀", "ab€😀ж", "ab c👍🏽🇺🇸"]
    pool = rng.choice(pools)
    text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 700)))
    result = measure(text)
    assert (result.encoding, result.units, result.segments, result.remaining) == (
        reference_segments(text)
    )


# ------------------------------------------------------------------------ offending


def test_offending_characters_are_distinct_in_order_of_first_appearance():
    result = measure("It’s—really—“great” 😀 ’")
    assert result.offending == ("’", "—", "“", "”", "😀")


def test_gsm_text_has_no_offending_characters():
    assert measure("Hi {John} ~ 5€").offending == ()


# --------------------------------------------------------------------------- summary


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("a" * 142, "142 characters · GSM-7 · 1 segment"),
        ("a", "1 character · GSM-7 · 1 segment"),
        ("", "0 characters · GSM-7 · 0 segments"),
        ("a" * 161, "161 characters · GSM-7 · 2 segments"),
        ("a" * 73 + "’—", "75 characters · UCS-2 (because of ’ and —) · 2 segments"),
        ("It’s", "4 characters · UCS-2 (because of ’) · 1 segment"),
        ("‘a’ “b” —", "9 characters · UCS-2 (because of ‘, ’, “ and 2 more) · 1 segment"),
        ("a’b—c…", "6 characters · UCS-2 (because of ’, — and …) · 1 segment"),
        ("Hi\u00a0there", "8 characters · UCS-2 (because of no-break space) · 1 segment"),
        ("Hi 👍🏽", "5 characters · UCS-2 (because of 👍🏽) · 1 segment"),
        (
            "a" * 1601,
            "1,601 characters · GSM-7 · 11 segments · over the 1,600-character limit",
        ),
    ],
    ids=[
        "gsm7",
        "one-character",
        "empty",
        "two-segments",
        "two-offending",
        "one-offending",
        "more-than-three",
        "three-offending",
        "invisible-by-name",
        "emoji-as-one",
        "too-long",
    ],
)
def test_summary(text, summary):
    assert measure(text).summary == summary


# ---------------------------------------------------------------------- replacements


@pytest.mark.parametrize(("char", "replacement"), sorted(REPLACEMENTS.items()))
def test_each_replacement_turns_a_ucs2_character_into_plain_gsm7(char, replacement):
    assert measure(char).encoding == "UCS-2"
    assert measure(replacement).encoding == "GSM-7"
    assert all(c in GSM7_BASIC for c in replacement)  # no 2-septet extensions either


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It’s “great” — really", 'It\'s "great" - really'),
        ("‘Quoted’", "'Quoted'"),
        ("9–5, Mon–Fri", "9-5, Mon-Fri"),
        ("Wait…", "Wait..."),
        ("a\u00a0b\u2009c\u202fd", "a b c d"),
        ("−5", "-5"),
        ("5′ 10″", "5' 10\""),
        ("• one\n• two", "- one\n- two"),
        ("zero\u200bwidth", "zerowidth"),
        ("Plain already", "Plain already"),
    ],
)
def test_plain_replaces_smart_punctuation(text, expected):
    assert plain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi John, it’s Sam — quick question about “Acme HVAC”… Reply STOP to opt out",
        "Don`t miss it – 9–5\u00a0Mon–Fri",
    ],
)
def test_plain_makes_a_message_gsm7_again(text):
    assert measure(text).encoding == "UCS-2"
    assert replaceable(text) == measure(text).offending
    fixed = measure(plain(text))
    assert fixed.encoding == "GSM-7"
    assert fixed.offending == ()


def test_plain_saves_segments():
    text = "It’s " + "a" * 100
    assert measure(text).segments == 2
    assert measure(plain(text)).segments == 1


@pytest.mark.parametrize("text", ["I ❤ it 👍🏽", "👨‍👩‍👧‍👦", "ж", "ç"])
def test_plain_leaves_characters_without_a_safe_equivalent(text):
    assert plain(text) == text
    assert replaceable(text) == ()


def test_replaceable_lists_only_what_plain_would_fix():
    assert replaceable("It’s 😀 — ok’") == ("’", "—")
    assert replaceable("All plain") == ()
