"""The reply reader on hostile text: every entry point stays fast on a megabyte.

A reply once held a worker for minutes (an email pattern that scanned to the end again
from every character). The reader reads a bounded prefix, and its patterns are linear,
so these run far below what quadratic scanning would take. The bound is generous for
a loaded machine; quadratic scanning of a megabyte takes hours, not seconds.
"""

from __future__ import annotations

import time

import pytest

from console.services.replies import classify, extraction, optout, reading

MEGABYTE = 1_000_000
SECONDS = 2.0
UNITS = (
    "a", "@", "a.", "a@", "a@a.", "x.y@", "1", " ", "1 ", "1,", "1.", "$1", "1:", "1-", "-",
    "'", "_", "{", "{a", "}", "\n", "at 1 ", "call ", "stop ", "stop by ", "no ", "in ",
    "liked \"", "mon", "tomorrow ", "é ", "1 2 ", "www.",
)  # fmt: skip
READERS = {
    "by_rules": classify.by_rules,
    "extract": extraction.extract,
    "read_reply": lambda text: reading.read_reply(text, claude=None, model="rules"),
    "parse_answer": reading.parse_answer,
    "optout.read": optout.read,
    "is_reaction": optout.is_reaction,
}


def _elapsed(function, text: str) -> float:
    started = time.perf_counter()
    function(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("reader", READERS)
def test_every_reader_entry_point_reads_a_hostile_megabyte_quickly(reader, unit):
    text = unit * (MEGABYTE // len(unit))
    assert _elapsed(READERS[reader], text) < SECONDS


@pytest.mark.parametrize("unit", ["a", "a.", "_", "-", "'", "x.y", "a@", "@", "1"])
def test_the_email_pattern_reads_a_megabyte_once_not_from_every_character(unit):
    text = unit * (MEGABYTE // len(unit))
    assert _elapsed(extraction._EMAIL_RE.search, text) < SECONDS


def test_the_email_pattern_still_finds_addresses():
    found = extraction.extract("Sure, write to Pat.Lee+deals@Hill-Country.co.uk thanks")
    assert found["email"] == "pat.lee+deals@hill-country.co.uk"
    assert extraction.extract("a@b@c.com")["email"] == "b@c.com"


def test_claudes_answer_is_read_between_its_first_and_last_brace():
    answer = 'Sure: {"label": "LATER", "confidence": 70, "extracted": {}} hope that helps'
    assert reading.parse_answer(answer)["label"] == "LATER"
    assert reading.parse_answer("{" * MEGABYTE) is None


def test_the_reader_reads_only_a_bounded_prefix():
    late_email = "x" * optout.READ_LIMIT + " pat@example.com"
    assert "email" not in extraction.extract(late_email)
    assert classify.by_rules(late_email).label != "EMAIL_CAPTURE"
