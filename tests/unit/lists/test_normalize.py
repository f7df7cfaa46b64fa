"""Normalizing list values: one table per field of an imported business list."""

from __future__ import annotations

import pytest

from console.services.csvfiles import csv_lines, safe_cell
from console.services.lists import addresses, business_fields, emails, names, phone_numbers
from console.services.lists.addresses import STATE_CODES, ZipCode, address, state_code, zip_code
from console.services.lists.business_fields import (
    business_display_name,
    employee_range,
    industry_label,
    naics_code,
    name_tokens,
    normalize_website,
    normalized_business_name,
    parse_range,
    revenue_range,
    sic_code,
)
from console.services.lists.emails import normalize_email
from console.services.lists.names import PersonName, person_name, split_name
from console.services.lists.normalize import clean_text, name_case
from console.services.lists.phone_numbers import PhoneResult, parse_phone, phone_kind
from console.services.phones import display, to_e164

# ------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  John   Smith  ", "John Smith"),
        ("John\u00a0Smith", "John Smith"),
        ("Jo\u200bhn\x00", "John"),
        ("a\tb\r\nc", "a b c"),
        ("N/A", ""),
        ("#N/A", ""),
        ("NULL", ""),
        ("none", ""),
        ("-", ""),
        (None, ""),
        ("Nancy", "Nancy"),
    ],
)
def test_clean_text_trims_and_blanks_placeholders(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MCKINNEY", "McKinney"),
        ("McKinney", "McKinney"),
        ("san antonio", "San Antonio"),
        ("WINSTON-SALEM", "Winston-Salem"),
        ("ST. LOUIS", "St. Louis"),
        ("MACON", "Macon"),
        ("O'FALLON", "O'Fallon"),
        ("ISLE OF PALMS", "Isle of Palms"),
        ("DE SOTO", "De Soto"),
        ("  El   Paso ", "El Paso"),
        ("OWNER/OPERATOR", "Owner/Operator"),
        ("PRESIDENT & CEO", "President & CEO"),
    ],
)
def test_name_case_recases_only_shouty_text(raw, expected):
    assert name_case(raw) == expected


# ------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John A. Smith", ("John", "A.", "Smith", "", "")),
        ("Smith, John", ("John", "", "Smith", "", "")),
        ("SMITH, JOHN A", ("John", "A.", "Smith", "", "")),
        ("Dr. Jane Doe Jr.", ("Jane", "", "Doe", "Dr.", "Jr.")),
        ("Mr. and Mrs. John Smith", ("John", "", "Smith", "Mr.", "")),
        ("John and Jane Smith", ("John", "", "Smith", "", "")),
        ("John Smith III", ("John", "", "Smith", "", "III")),
        ("John Smith IV", ("John", "", "Smith", "", "IV")),
        ("maria de la cruz", ("Maria", "", "de la Cruz", "", "")),
        ("PATRICK O'BRIEN", ("Patrick", "", "O'Brien", "", "")),
        ("mcdonald", ("McDonald", "", "", "", "")),
        ("Jean-Luc Picard", ("Jean-Luc", "", "Picard", "", "")),
        ("Van Der Berg, Hans", ("Hans", "", "Van Der Berg", "", "")),
        ("VAN DER BERG, HANS", ("Hans", "", "van der Berg", "", "")),
        ("Ludwig van Beethoven", ("Ludwig", "", "van Beethoven", "", "")),
        ("Mrs Jane Smith", ("Jane", "", "Smith", "Mrs.", "")),
        ("Mr. Smith", ("", "", "Smith", "Mr.", "")),
        ("Rev Martin King Sr", ("Martin", "", "King", "Rev.", "Sr.")),
        ("Prof. Ada Lovelace", ("Ada", "", "Lovelace", "Prof.", "")),
        ("Smith, Dr. John", ("John", "", "Smith", "Dr.", "")),
        ("John Smith, Jr., CPA", ("John", "", "Smith", "", "Jr., CPA")),
        ("Smith Jr., John", ("John", "", "Smith", "", "Jr.")),
        ("Jane Doe, MD", ("Jane", "", "Doe", "", "MD")),
        ("JANE DOE PHD", ("Jane", "", "Doe", "", "PhD")),
        ("Mary Ann Smith Esq", ("Mary", "Ann", "Smith", "", "Esq.")),
        ("JOHN (JACK) SMITH", ("John", "", "Smith", "", "")),
        ('Robert "Bob" Jones', ("Robert", "", "Jones", "", "")),
        ("josé garcía", ("José", "", "García", "", "")),
        ("MARY-KATE SMITH-JONES", ("Mary-Kate", "", "Smith-Jones", "", "")),
        ("DONALD MACDONALD", ("Donald", "", "MacDonald", "", "")),
        ("JAMES MACK", ("James", "", "Mack", "", "")),
        ("MACY GRAY", ("Macy", "", "Gray", "", "")),
        ("THANH LE", ("Thanh", "", "Le", "", "")),
        ("  john   q   public ", ("John", "Q.", "Public", "", "")),
        ("Cher", ("Cher", "", "", "", "")),
        ("N/A", ("", "", "", "", "")),
    ],
)
def test_person_name_parses_list_spellings(raw, expected):
    assert person_name(raw) == PersonName(*expected)


def test_person_name_full_puts_the_suffix_last():
    assert person_name("Dr. Jane Doe Jr.").full == "Jane Doe Jr."
    assert person_name("SMITH, JOHN A").full == "John A. Smith"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("John Smith", "Smith John"),
        ("John Smith", "SMITH, JOHN A"),
        ("José García", "GARCIA, JOSE"),
        ("Patrick O'Brien", "OBrien Patrick"),
    ],
)
def test_person_match_key_ignores_order_case_and_accents(one, other):
    assert person_name(one).match_key == person_name(other).match_key != ""


def test_person_match_key_is_empty_without_a_name():
    assert person_name("").match_key == ""
    assert person_name("John Smith").match_key == "john smith"


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


# ----------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "e164", "extension"),
    [
        ("(512) 555-0142", "+15125550142", ""),
        ("512.555.0142", "+15125550142", ""),
        ("+1 512 555 0142", "+15125550142", ""),
        ("1-512-555-0142", "+15125550142", ""),
        ("5125550142", "+15125550142", ""),
        ("512-555-0142 x204", "+15125550142", "204"),
        ("512-555-0142 ext. 12", "+15125550142", "12"),
        ("(512) 555-0142, Ext 3", "+15125550142", "3"),
        ("5125550142.0", "+15125550142", ""),
        ("5125550142.00", "+15125550142", ""),
        ("5.125550142E9", "+15125550142", ""),
        ("1-800-FLOWERS", "+18003569377", ""),
        ("Tel: 512-555-0142", "+15125550142", ""),
        ("512-555-0142 (cell)", "+15125550142", ""),
        ("800-555-0100", "+18005550100", ""),
        ("+44 20 7946 0958", "+442079460958", ""),
    ],
)
def test_parse_phone_gives_e164(raw, e164, extension):
    assert parse_phone(raw) == PhoneResult(e164, extension, True, "")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("123-555-0142", "not a valid US number"),
        ("311-555-0142", "not a valid US number"),
        ("555-0142", "missing area code"),
        ("12", "too short"),
        ("512 555 01423", "too long"),
        ("call me", "not a phone number"),
        ("+44 20 7946 095", "not a valid number"),
    ],
)
def test_parse_phone_rejects_invalid_numbers_with_a_reason(raw, reason):
    assert parse_phone(raw) == PhoneResult("", "", False, reason)


@pytest.mark.parametrize("raw", ["", "   ", "N/A", None])
def test_parse_phone_of_a_blank_cell_is_none(raw):
    assert parse_phone(raw) is None


@pytest.mark.parametrize(
    ("e164", "kind"),
    [
        ("+15125550142", "unknown"),
        ("+18005550142", "toll_free"),
        ("+442079460958", "landline"),
        ("+447911123456", "mobile"),
        ("+445612345678", "voip"),
        ("+11235550142", "unknown"),
        ("not a number", "unknown"),
    ],
)
def test_phone_kind(e164, kind):
    assert phone_kind(e164) == kind


def test_phones_to_e164_and_back():
    assert to_e164("(512) 555-0142") == "+15125550142"
    assert to_e164("+1 512 555 0142") == "+15125550142"
    assert to_e164("512-555-0142 x204") == "+15125550142"
    assert to_e164("123-555-0142") is None
    assert to_e164("12") is None
    assert to_e164("") is None
    assert display("+15125550142") == "(512) 555-0142"


# ----------------------------------------------------------------------- emails


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Smith@Gmail.COM ", "john.smith@gmail.com"),
        ("mailto:jo@acme.com", "jo@acme.com"),
        ("Jo Smith <jo@acme.com>", "jo@acme.com"),
        ("jo@acme.com; al@acme.com", "jo@acme.com"),
        ("Email: JO@ACME.COM", "jo@acme.com"),
        ("jo+leads@acme.co.uk", "jo+leads@acme.co.uk"),
        ("amanda@hillcrestroofing.example", "amanda@hillcrestroofing.example"),
        ("jo@acme.com.", "jo@acme.com"),
        ("jo@acme.test", None),
        ("jo@acme", None),
        ("jo..smith@acme.com", None),
        ("jo@@acme.com", None),
        ("not an email", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


# --------------------------------------------------------------- states and ZIPs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TX", "TX"),
        ("texas", "TX"),
        (" Tex. ", "TX"),
        ("N.Y.", "NY"),
        ("New York", "NY"),
        ("District of Columbia", "DC"),
        ("Puerto Rico", "PR"),
        ("W. Va.", "WV"),
        ("XX", ""),
        ("", ""),
    ],
)
def test_state_code(raw, expected):
    assert state_code(raw) == expected


def test_state_codes_cover_states_dc_and_territories():
    assert len(set(STATE_CODES.values())) == 56
    assert {"DC", "PR", "VI", "GU", "AS", "MP"} <= set(STATE_CODES.values())


def test_state_codes_ignore_case():
    assert STATE_CODES["TX"] == STATE_CODES["Texas"] == STATE_CODES["tx"] == "TX"
    assert "New York" in STATE_CODES and "Atlantis" not in STATE_CODES
    assert STATE_CODES.get("GUAM") == "GU" and STATE_CODES.get("XX") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("78701", "78701"),
        ("78701-1234", "78701-1234"),
        ("787011234", "78701-1234"),
        ("78701 1234", "78701-1234"),
        ("2134", "02134"),
        ("501", "00501"),
        ("78701.0", "78701"),
        ("78701-0000", "78701"),
        ("ABCDE", None),
        ("123456", None),
        ("00000", None),
        ("", None),
    ],
)
def test_zip_code(raw, expected):
    found = zip_code(raw)
    assert (str(found) if found else None) == expected


def test_zip_code_keeps_the_plus_four_apart():
    assert zip_code("78701-1234") == ZipCode("78701", "1234")


# -------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            ("4500 North Lamar Boulevard, Suite 12", "AUSTIN", "Texas", "78701"),
            ("4500 N Lamar Blvd", "Ste 12", "Austin", "TX", "78701", "4500 n lamar blvd"),
        ),
        (("123 Main St Ste 200",), ("123 Main St", "Ste 200", "", "", "", "123 main st")),
        (("123 MAIN STREET APT 3B",), ("123 Main St", "Apt 3B", "", "", "", "123 main st")),
        (("123 main street apt 4",), ("123 Main St", "Apt 4", "", "", "", "123 main st")),
        (("123 W 5TH AVE #4",), ("123 W 5th Ave", "# 4", "", "", "", "123 w 5th ave")),
        (("123 Main St Apt #4",), ("123 Main St", "Apt 4", "", "", "", "123 main st")),
        (("123 N. Main St.",), ("123 N Main St", "", "", "", "", "123 n main st")),
        (("123 Main Street Northwest",), ("123 Main St NW", "", "", "", "", "123 main st nw")),
        (("P.O. Box 12",), ("PO Box 12", "", "", "", "", "po box 12")),
        (("POB 55",), ("PO Box 55", "", "", "", "", "po box 55")),
        (("RR 2 Box 15",), ("RR 2 Box 15", "", "", "", "", "rr 2 box 15")),
        (
            ("123 Main St, Austin, TX 78701-1234",),
            ("123 Main St", "", "Austin", "TX", "78701-1234", "123 main st"),
        ),
        (
            ("123 Main St, Austin, TX 78701", "Round Rock"),
            ("123 Main St", "", "Round Rock", "TX", "78701", "123 main st"),
        ),
        (("12345 US Highway 290 W",), ("12345 US Hwy 290 W", "", "", "", "", "12345 us hwy 290 w")),
        (("1200 FM 1960 Rd W",), ("1200 FM 1960 Rd W", "", "", "", "", "1200 fm 1960 rd w")),
        (("500 County Road 12",), ("500 County Rd 12", "", "", "", "", "500 county rd 12")),
        (("Suite 200, 123 Main St",), ("123 Main St", "Ste 200", "", "", "", "123 main st")),
        (("123 Main St Bldg 2 Ste 300",), ("123 Main St", "Bldg 2 Ste 300", "", "", "",
          "123 main st")),
        (("123 Main St Rear",), ("123 Main St", "Rear", "", "", "", "123 main st")),
        (("55 Broad St Fl 3",), ("55 Broad St", "Fl 3", "", "", "", "55 broad st")),
        (("100 Broadway",), ("100 Broadway", "", "", "", "", "100 broadway")),
        (("1 Infinite Loop",), ("1 Infinite Loop", "", "", "", "", "1 infinite loop")),
        (
            ("123 MARTIN LUTHER KING JR BLVD",),
            ("123 Martin Luther King Jr Blvd", "", "", "", "", "123 martin luther king jr blvd"),
        ),
        (("Main St & 5th Ave",), ("Main St & 5th Ave", "", "", "", "", "main st & 5th ave")),
        (
            ("8074 W Lakeview Dr", "austin", "tx", "78701.0"),
            ("8074 W Lakeview Dr", "", "Austin", "TX", "78701", "8074 w lakeview dr"),
        ),
        (
            ("1600 Pennsylvania Ave NW", "Washington", "D.C.", "20500"),
            ("1600 Pennsylvania Ave NW", "", "Washington", "DC", "20500",
             "1600 pennsylvania ave nw"),
        ),
        (
            ("10 Spring Valley Rd", "Dallas", "XX", "7520"),
            ("10 Spring Valley Rd", "", "Dallas", "", "07520", "10 spring valley rd"),
        ),
        (("", "HOUSTON", "TX", "77002"), ("", "", "Houston", "TX", "77002", "")),
    ],
)  # fmt: skip
def test_address_standardizes_to_usps_forms(given, expected):
    found = address(*given)
    assert (found.street, found.unit, found.city) == expected[:3]
    assert (found.state, found.zip, found.street_key) == expected[3:]


def test_street_key_matches_a_street_whatever_its_unit_and_spelling():
    keys = {
        address(line).street_key
        for line in ("123 Main St Ste 200", "123 Main Street", "123 MAIN ST. #4", "123 main st #7")
    }
    assert keys == {"123 main st"}


# ------------------------------------------------------------------- businesses


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Harborview Plumbing & Heating LLC", "harborview plumbing and heating"),
        ("Desert Sun HVAC, Inc.", "desert sun hvac"),
        ("Main Street Dental Group PLLC", "main street dental group"),
        ("Acme Co", "acme"),
        ("The Smith & Sons Co., L.L.C.", "smith and sons"),
        ("Smith & Co", "smith"),
        ("Joe's Pizza, Inc", "joes pizza"),
        ("Café Olé Corp.", "cafe ole"),
        ("ACME, THE", "acme"),
        ("Acme Holdings, L.P.", "acme holdings"),
        ("Law Office of Jane Doe, P.C.", "law office of jane doe"),
        ("Acme Limited Liability Company", "acme"),
        ("Acme LLC dba Acme Plumbing", "acme"),
        ("D/B/A Best Tacos", "best tacos"),
        ("The Company", "company"),
    ],
)
def test_normalized_business_name_drops_legal_suffixes(raw, expected):
    assert normalized_business_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ABC HVAC SERVICES LLC", "ABC HVAC Services LLC"),
        ("JOE'S BBQ", "Joe's BBQ"),
        ("hillcrest roofing llc", "Hillcrest Roofing LLC"),
        ("DE LA ROSA PLUMBING", "De la Rosa Plumbing"),
        ("BANK OF AMERICA", "Bank of America"),
        ("A&B AUTO REPAIR INC.", "A&B Auto Repair Inc."),
        ("MCM ELECTRIC", "MCM Electric"),
        ("DR SMITH DENTAL", "Dr Smith Dental"),
        ("  Keystone   Homes Inc ", "Keystone Homes Inc"),
    ],
)
def test_business_display_name(raw, expected):
    assert business_display_name(raw) == expected


@pytest.mark.parametrize(
    ("normalized", "expected"),
    [
        ("harborview plumbing and heating", ["harborview", "plumbing", "heating"]),
        ("american national services group", ["american"]),
        ("abc plumbing services", ["plumbing", "abc"]),
        ("jo s bakery of texas", ["bakery", "texas"]),
        ("", []),
    ],
)
def test_name_tokens_keep_the_distinctive_words(normalized, expected):
    assert name_tokens(normalized) == expected


# ----------------------------------------------------------------------- ranges


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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", (12, 12)),
        ("1,200", (1_200, 1_200)),
        ("5-9", (5, 9)),
        ("10 - 19", (10, 19)),
        ("1,000-4,999", (1_000, 4_999)),
        ("1000+", (1_000, None)),
        ("C", (10, 19)),
        ("k", (10_000, None)),
        ("N/A", (None, None)),
    ],
)
def test_employee_range(raw, expected):
    assert employee_range(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Less than $500,000", (0, 500_000)),
        ("$1-2.5 Million", (1_000_000, 2_500_000)),
        ("$2.5M", (2_500_000, 2_500_000)),
        ("500K", (500_000, 500_000)),
        ("$500K to $1M", (500_000, 1_000_000)),
        ("Over $1 Billion", (1_000_000_000, None)),
        ("$10 to 20 Million", (10_000_000, 20_000_000)),
        ("2500", (2_500, 2_500)),
        ("A", (0, 500_000)),
        ("D", (2_500_000, 5_000_000)),
        ("K", (1_000_000_000, None)),
    ],
)
def test_revenue_range(raw, expected):
    assert revenue_range(raw) == expected


# --------------------------------------------------------------------- industry


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1761", "1761"),
        ("1761.0", "1761"),
        ("0782", "0782"),
        ("782", "0782"),
        ("1761-01", "176101"),
        ("17610100", "17610100"),
        ("123456789", ""),
        ("0000", ""),
        ("roofing", ""),
    ],
)
def test_sic_code(raw, expected):
    assert sic_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("238160", "238160"),
        ("238160.0", "238160"),
        ("44", "44"),
        ("1234567", ""),
        ("101010", ""),
        ("", ""),
    ],
)
def test_naics_code(raw, expected):
    assert naics_code(raw) == expected


ROOFING = "Roofing, Siding and Sheet Metal Work"


@pytest.mark.parametrize(
    ("sic", "naics", "description", "expected"),
    [
        ("1761", "", "Roofing, Siding and Sheet Metal Work", ROOFING),
        ("1761", "", "ROOFING, SIDING AND SHEET METAL WORK", ROOFING),
        ("1761", "", "", "Construction - Special Trade Contractors"),
        ("8021.0", "", "", "Health Services"),
        ("", "445110", "", "Retail Trade"),
        ("", "311812", "", "Manufacturing"),
        ("", "484110", "", "Transportation and Warehousing"),
        ("", "", "", ""),
    ],
)
def test_industry_label(sic, naics, description, expected):
    assert industry_label(sic, naics, description) == expected


def test_every_sic_major_group_and_naics_sector_has_a_label():
    assert len(business_fields._SIC_MAJOR_GROUPS) == 83
    sectors = "11 21 22 23 31 32 33 42 44 45 48 49 51 52 53 54 55 56 61 62 71 72 81 92"
    assert set(sectors.split()) <= set(business_fields._NAICS_SECTORS)


# --------------------------------------------------------------------- websites


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://www.HillcrestRoofing.example/", "hillcrestroofing.example"),
        ("www.hillcrestroofing.example", "hillcrestroofing.example"),
        ("https://acme.com/about?x=1", "acme.com"),
        ("HTTP://WWW2.ACME.CO.UK:8080/x", "acme.co.uk"),
        ("acme.com.", "acme.com"),
        ("info@acme.com", ""),
        ("acme", ""),
        ("N/A", ""),
    ],
)
def test_normalize_website(raw, expected):
    assert normalize_website(raw) == expected


# ----------------------------------------------------- cost, counted not timed


def test_phone_validity_is_looked_up_once_per_exchange():
    phone_numbers._nanp_valid.cache_clear()
    for line in range(200):
        assert parse_phone(f"(737) 555-{line:04d}").valid
    assert phone_numbers._nanp_valid.cache_info().misses == 1


def test_common_street_lines_do_not_need_usaddress(monkeypatch):
    def refuse(line):
        raise AssertionError(f"usaddress called for {line!r}")

    monkeypatch.setattr(addresses.usaddress, "tag", refuse)
    addresses._parse_street.cache_clear()
    for line in (
        "9094 E 5th Ave",
        "4500 North Lamar Boulevard, Suite 12",
        "270 N MARKET ST STE 4",
        "12 Spring Valley Rd #3",
        "PO Box 1234",
    ):
        assert address(line).street


def test_plain_emails_do_not_need_email_validator(monkeypatch):
    def refuse(text, **options):
        raise AssertionError(f"email_validator called for {text!r}")

    monkeypatch.setattr(emails, "validate_email", refuse)
    emails._validated_email.cache_clear()
    assert normalize_email("Amanda.Williams@HillcrestRoofing.com") == (
        "amanda.williams@hillcrestroofing.com"
    )


# -------------------------------------------------------------------- CSV cells


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"])
def test_csv_cells_that_look_like_formulas_are_escaped(value):
    assert safe_cell(value) == "'" + value
    assert "".join(csv_lines(["a"], [[value]])).splitlines()[1].lstrip('"').startswith("'")


def test_plain_csv_cells_are_untouched():
    assert safe_cell("Smith & Sons") == "Smith & Sons"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"


HOSTILE = ["(", "a ", "a.", "1", "@", " &", '"', "x-", "1 ", "(1", "a@", "-"]


@pytest.mark.parametrize(
    "parse",
    [
        addresses.address,
        business_fields.business_display_name,
        business_fields.normalized_business_name,
        names.person_name,
        names.split_name,
        phone_numbers.parse_phone,
        emails.normalize_email,
        business_fields.normalize_website,
        business_fields.parse_range,
        business_fields.employee_range,
        business_fields.revenue_range,
        addresses.zip_code,
        addresses.state_code,
        business_fields.sic_code,
        business_fields.naics_code,
    ],
    ids=lambda parse: parse.__name__,
)
def test_every_normalizer_reads_the_longest_cell_an_import_passes_quickly(parse):
    """Imports reject longer values (ingest.MAX_FIELD_VALUE); up to it, no text is slow."""
    import time

    from console.services.lists.ingest import MAX_FIELD_VALUE

    for unit in HOSTILE:
        text = (unit * MAX_FIELD_VALUE)[:MAX_FIELD_VALUE]
        started = time.perf_counter()
        parse(text)
        assert time.perf_counter() - started < 1.0, unit


def test_an_address_line_longer_than_any_street_is_kept_unparsed_at_once():
    """usaddress's tokenizer is quadratic on runs of "("; such a line never reaches it."""
    import time

    started = time.perf_counter()
    parsed = addresses.address("(" * 100_000)
    assert time.perf_counter() - started < 2.0
    assert parsed.street == "(" * 100_000
