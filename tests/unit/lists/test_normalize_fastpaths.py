"""The normalizers' fast paths give exactly the answers of the library-backed slow paths."""

from __future__ import annotations

import random
import re._constants as sre
import re._parser as sre_parse

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata

from console.services.lists import addresses, emails, phone_numbers
from console.services.lists.addresses import address
from console.services.lists.normalize import clean_text
from console.services.lists.phone_numbers import parse_phone, phone_kind

# ----------------------------------------------------------------------- phones

# Valid and invalid area codes: N11 service codes, unassigned, toll-free, premium,
# Canada, the Caribbean (including the prefixes decided by their 7th digit).
AREA_CODES = [
    "512", "737", "212", "646", "907", "808", "123", "311", "555", "370", "800",
    "888", "900", "204", "416", "787", "246", "876", "268", "999", "200", "299",
]  # fmt: skip
SHAPES = [
    "{a}{x}{l}",
    "1{a}{x}{l}",
    "({a}) {x}-{l}",
    "{a}-{x}-{l}",
    "{a}.{x}.{l}",
    "+1 {a} {x} {l}",
    "+1{a}{x}{l}",
    "1-{a}-{x}-{l}",
    "1 ({a}) {x} {l}",
    " {a} {x}  {l} ",
]


def generated_phones(count: int = 400, seed: int = 1761) -> list[str]:
    """Phone cells in list shapes over valid and invalid NANP prefixes."""
    rng = random.Random(seed)
    cells = []
    for _ in range(count):
        area = rng.choice(AREA_CODES)
        exchange = rng.choice(
            ["555", "521", "522", "606", "011", "100", f"{rng.randint(200, 999)}"]
        )
        line = rng.choice(["0100", "0142", "0199", f"{rng.randint(0, 9999):04d}"])
        cells.append(rng.choice(SHAPES).format(a=area, x=exchange, l=line))
    return cells


def slow_phone(raw: str) -> phone_numbers.PhoneResult:
    """The reference answer: the same cleaning, then phonenumbers.parse."""
    text, extension = phone_numbers._phone_text(clean_text(raw))
    return phone_numbers._parse_phone_slow(text, extension, "US")


def test_fast_phone_path_equals_phonenumbers():
    cells = generated_phones()
    assert [parse_phone(cell) for cell in cells] == [slow_phone(cell) for cell in cells]
    fast = [cell for cell in cells if phone_numbers._nanp_national(cell) is not None]
    assert len(fast) > 0.8 * len(cells)
    assert any(parse_phone(cell).valid for cell in fast)
    assert any(not parse_phone(cell).valid for cell in fast)


@pytest.mark.parametrize(
    "cell",
    ["(512) 555-0100", "212-555-0199", "800-555-0142", "123-555-0142", "246-521-0142",
     "246-521-1142", "876-606-0142", "876-606-1142", "311-555-0142", "1-900-555-0142"],
)  # fmt: skip
def test_fast_phone_path_equals_phonenumbers_on_edge_prefixes(cell):
    assert parse_phone(cell) == slow_phone(cell)


def test_fast_phone_kind_equals_phonenumbers():
    numbers = {parse_phone(cell).e164 for cell in generated_phones()} - {""}
    numbers |= {"+12465210142", "+12465211142", "+18005550142"}
    for e164 in numbers:
        number = phonenumbers.parse(e164, None)
        expected = phone_numbers._KINDS.get(phonenumbers.number_type(number), "unknown")
        assert phone_kind(e164) == expected, e164


def _digit_paths(tree) -> list[tuple[frozenset[str], ...]]:
    """Every digit sequence shape a parsed pattern accepts, one set of digits per position."""
    paths: list[tuple[frozenset[str], ...]] = [()]
    for op, arg in tree:
        if op == sre.LITERAL:
            options = [(frozenset(chr(arg)),)]
        elif op == sre.IN:
            options = [(frozenset(_class_digits(arg)),)]
        elif op == sre.SUBPATTERN:
            options = _digit_paths(arg[-1])
        elif op == sre.BRANCH:
            options = [p for branch in arg[1] for p in _digit_paths(branch)]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = arg
            once = _digit_paths(body)
            options = []
            for times in range(low, high + 1):
                runs: list[tuple[frozenset[str], ...]] = [()]
                for _ in range(times):
                    runs = [r + o for r in runs for o in once]
                options += runs
        else:
            raise AssertionError(f"unexpected regex construct {op}")
        paths = [p + o for p in paths for o in options]
    return paths


def _class_digits(items) -> set[str]:
    """The digits a character class like `[02-9]` or `\\d` accepts."""
    digits: set[str] = set()
    for op, arg in items:
        if op == sre.LITERAL:
            digits.add(chr(arg))
        elif op == sre.RANGE:
            digits |= {chr(c) for c in range(arg[0], arg[1] + 1)}
        elif op == sre.CATEGORY and arg == sre.CATEGORY_DIGIT:
            digits |= set("0123456789")
        else:
            raise AssertionError(f"unexpected class item {op}")
    return digits


def test_nanp_validity_is_decided_by_the_cache_key_digits():
    """Why caching by NPA-NXX is exact: no NANP pattern looks past the 6th digit, except
    for the prefixes listed in `_SEVEN_DIGIT_PREFIXES`, which look at the 7th only.

    Also why asking "valid for the US?" first is exact: the US is the first +1 region
    and claims numbers by pattern, not by leading digits.
    """
    any_digit = frozenset("0123456789")
    assert phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1][0] == "US"
    assert not PhoneMetadata.metadata_for_region("US").leading_digits
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        descs = [getattr(metadata, name) for name in (
            "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
            "personal_number", "voip", "pager", "uan", "voicemail")]  # fmt: skip
        patterns = [d.national_number_pattern for d in descs if d and d.national_number_pattern]
        if metadata.leading_digits:
            leading = _digit_paths(sre_parse.parse(metadata.leading_digits))
            assert max(len(p) for p in leading) <= 6, region
        for pattern in patterns:
            for path in _digit_paths(sre_parse.parse(pattern)):
                if len(path) != 10:
                    continue
                looked_at = [i for i, digits in enumerate(path) if digits != any_digit]
                if looked_at and looked_at[-1] >= 6:
                    prefix = "".join(min(d) for d in path[:6])
                    assert all(len(d) == 1 for d in path[:6]), (region, pattern)
                    assert prefix in phone_numbers._SEVEN_DIGIT_PREFIXES, (region, prefix)
                    assert looked_at[-1] == 6, (region, pattern)


# -------------------------------------------------------------------- addresses

NUMBERS = ["1", "12", "123", "4500", "10234", "8074", "77", "901", "2200"]
PREDIRECTIONALS = ["", "", "", "N", "S", "E", "W", "NE", "SW", "North", "South", "N.", "West"]
NAMES = ["Main", "Oak", "Lamar", "5th", "21st", "Lake Shore", "Park Place", "Spring Valley",
         "Martin Luther King Jr", "Old Mill", "Elm", "Cedar Hill", "Mill Creek", "Forest Ridge",
         "Pine", "Washington", "Lakeview", "Congress", "Broad", "Sunset", "Pecan Grove",
         "River Oaks", "Shady Brook", "Indian Trail", "Hidden Valley", "Green Meadow", "Cherry",
         "3rd", "Second", "Fairview", "Quail Run", "Live Oak", "Rio Grande", "Riverside",
         "Highland", "Canyon Creek", "Country Club", "Ranch", "Summit", "Commerce",
         "Market"]  # fmt: skip
SUFFIXES = ["St", "Street", "Ave", "Avenue", "Blvd", "Boulevard", "Rd", "Road", "Dr", "Drive",
            "Ln", "Lane", "Ct", "Court", "Cir", "Circle", "Hwy", "Pkwy", "Parkway", "Pl", "Place",
            "Way", "Trl", "Ter", "Loop", "Sq", "Plz", "Xing", "Expy", "Fwy", "St.", "Ave.",
            "Blvd."]  # fmt: skip
POSTDIRECTIONALS = ["N", "S", "W", "NW", "SE", "North", "Northwest"]
UNITS = ["Ste 200", "Suite 12", "Apt 3B", "Apt. 4", "#4", "# 12", "Unit A", "Fl 2", "Floor 3",
         "Bldg C", "Ste #200", "Suite 1A", "Apt #7", ", Suite 300", "STE 5",
         "Unit 101"]  # fmt: skip
# Lines outside the fast path's grammar, which usaddress must read on its own.
OTHER_LINES = [
    "P.O. Box 12", "PO BOX 12", "Post Office Box 55", "RR 2 Box 15", "100 Broadway",
    "12345 US Highway 290 W", "1200 FM 1960 Rd W", "500 County Road 12", "123 1/2 Main St",
    "123A Main St", "Suite 200, 123 Main St", "123 Main St Bldg 2 Ste 300", "One Main St",
    "123 El Camino Real", "1211 Avenue of the Americas", "45 Avenue B", "3 St. Johns Ave",
    "123 Main St, Austin, TX 78701", "PO Box 55 Austin TX 78701", "123 Main St Rear",
    "123 North St", "123 E North Ave", "Main St & 5th Ave",
]  # fmt: skip


def generated_streets(count: int = 200, seed: int = 78701) -> list[str]:
    """Street lines in the shapes lists use, in all three casings."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        parts = (rng.choice(part) for part in (NUMBERS, PREDIRECTIONALS, NAMES, SUFFIXES))
        line = " ".join(p for p in parts if p)
        tail = rng.random()
        if tail < 0.15:
            line += " " + rng.choice(POSTDIRECTIONALS)
        elif tail < 0.6:
            unit = rng.choice(UNITS)
            line += unit if unit.startswith(",") else " " + unit
        case = rng.random()
        lines.append(line.upper() if case < 0.2 else line.lower() if case < 0.3 else line)
    return lines


def test_fast_street_path_equals_usaddress():
    lines = generated_streets() + OTHER_LINES
    fast = {line: addresses._parse_street_fast(line) for line in lines}
    covered = [line for line, parsed in fast.items() if parsed is not None]
    assert len(covered) > 0.6 * len(lines)
    for line in covered:
        assert fast[line] == addresses._parse_street_slow(line), line


@pytest.mark.parametrize(
    ("line", "street", "unit"),
    [
        # usaddress reads a trailing E as a unit number, or a unit word as part of the name;
        # the fast path reads them the way USPS does.
        ("12 Oak Hwy E", "12 Oak Hwy E", ""),
        ("12 West Elm Boulevard E", "12 W Elm Blvd E", ""),
        ("123 Pine St North Bldg C", "123 Pine St N", "Bldg C"),
        ("10234 N River Oaks Way Rm 101", "10234 N River Oaks Way", "Rm 101"),
        ("12 E 3rd Road", "12 E 3rd Rd", ""),
        ("10234 NE Town Center Place", "10234 NE Town Center Pl", ""),
    ],
)
def test_fast_street_path_reads_lines_usaddress_misreads(line, street, unit):
    found = address(line)
    assert (found.street, found.unit) == (street, unit)


# ----------------------------------------------------------------------- emails

EMAILS = [
    "jo@acme.com", "jo.smith@acme.com", "jo+leads@acme.co.uk", "jo_smith@mail.acme.com",
    "j%o@acme.com", "-jo@acme.com", "jo@a-b.com", "jo@a--b.com", "jo@acme.test",
    "jo@acme.local", "jo@acme", "jo@acme.c", "jo@acme.123", "jo@-acme.com", "jo@acme-.com",
    "jo..smith@acme.com", ".jo@acme.com", "jo.@acme.com", "jo@xn--caf-dma.com",
    f"{'j' * 64}@acme.com", f"{'j' * 65}@acme.com", f"jo@{'a' * 63}.com", f"jo@{'a' * 64}.com",
    f"jo@{'a' * 60}.{'b' * 60}.{'c' * 60}.{'d' * 60}.com", "jo@acme.museum", "jo@acme.photography",
]  # fmt: skip


@pytest.mark.parametrize("email", EMAILS)
def test_fast_email_path_only_accepts_what_email_validator_accepts(email):
    if emails._email_is_simple(email):
        assert emails._validated_email(email) == email
    assert emails.normalize_email(email) == emails._validated_email(email)
