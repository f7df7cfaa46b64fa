"""Normalizing list values."""

from __future__ import annotations

import pytest

from console.services.csvfiles import csv_lines, safe_cell
from console.services.normalize import normalized_business_name, parse_range, split_name
from console.services.phones import display, to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John A. Smith", ("John", "Smith")),
        ("Smith, John", ("John", "Smith")),
        ("Dr. Jane Doe Jr.", ("Jane", "Doe")),
        ("Maria de la Cruz", ("Maria", "de la Cruz")),
        ("Patrick O'Brien III", ("Patrick", "O'Brien")),
        ("Cher", ("Cher", "")),
        ("", ("", "")),
    ],
)
def test_split_name(raw, expected):
    assert split_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Harborview Plumbing & Heating LLC", "harborview plumbing and heating"),
        ("Desert Sun HVAC, Inc.", "desert sun hvac"),
        ("Main Street Dental Group PLLC", "main street dental group"),
        ("Acme Co", "acme"),
    ],
)
def test_normalized_business_name_drops_legal_suffixes(raw, expected):
    assert normalized_business_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5 to 9", (5, 9)),
        ("12", (12, 12)),
        ("$1 to 2.5 Million", (1_000_000, 2_500_000)),
        ("$500,000 to $1 Million", (500_000, 1_000_000)),
        ("Less Than $500,000", (0, 500_000)),
        ("", (None, None)),
        ("unknown", (None, None)),
    ],
)
def test_parse_range(raw, expected):
    assert parse_range(raw) == expected


def test_phones_to_e164_and_back():
    assert to_e164("(512) 555-0142") == "+15125550142"
    assert to_e164("+1 512 555 0142") == "+15125550142"
    assert to_e164("12") is None
    assert to_e164("") is None
    assert display("+15125550142") == "(512) 555-0142"


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"])
def test_csv_cells_that_look_like_formulas_are_escaped(value):
    assert safe_cell(value) == "'" + value
    assert "".join(csv_lines(["a"], [[value]])).splitlines()[1].lstrip('"').startswith("'")


def test_plain_csv_cells_are_untouched():
    assert safe_cell("Smith & Sons") == "Smith & Sons"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"
