"""Business fields in purchased lists: names (`normalized_business_name`, the one key
for "the same business"), employee and revenue ranges, SIC and NAICS industry codes,
and websites.
"""

from __future__ import annotations

import math
import re

from console.services.lists.normalize import (
    NON_ALNUM,
    case_word,
    clean_text,
    fold,
    is_shouty,
    name_case,
)

# --------------------------------------------------------------------- businesses

_NON_DIGIT = re.compile(r"\D")
_DBA = re.compile(
    r"\b(?:d\s*/\s*b\s*/\s*a|d\.?\s?b\.?\s?a|doing business as|a\.?k\.?a|t/a|trading as)\b\.?"
)
_ABBREVIATION_DOT = re.compile(r"(?<=[a-z0-9]{2})\.(?=[a-z0-9]{2})")
_DROPPED_MARKS = re.compile(r"[.'’`]")
_LEGAL_SUFFIXES = frozenset(
    {("llc",), ("l", "l", "c"), ("lc",), ("inc",), ("incorporated",), ("corp",),
     ("corporation",), ("co",), ("company",), ("ltd",), ("limited",), ("pllc",),
     ("p", "l", "l", "c"), ("llp",), ("l", "l", "p"), ("lllp",), ("lp",), ("l", "p"),
     ("pc",), ("p", "c"), ("pa",), ("p", "a"), ("plc",), ("psc",), ("chtd",),
     ("chartered",), ("limited", "liability", "company"), ("professional", "corporation"),
     ("professional", "association"), ("limited", "partnership"),
     ("limited", "liability", "partnership"), ("and",), ("the",)}
)  # fmt: skip
_BUSINESS_ACRONYMS = frozenset(
    {"ABC", "AC", "AI", "ATM", "AV", "BBQ", "CPA", "DBA", "DDS", "DMD", "DVM", "HVAC", "IBM",
     "IT", "LLC", "LLP", "LP", "MD", "PA", "PC", "PLLC", "RV", "TV", "UPS", "USA", "US",
     "II", "III", "IV"}
)  # fmt: skip
# Words without vowels that are not acronyms.
_VOWELLESS_WORDS = frozenset(
    {"st", "dr", "mr", "mrs", "ms", "jr", "sr", "ft", "mt", "pl", "rd", "ln", "ct", "n", "s", "w"}
)
_GENERIC_NAME_WORDS = frozenset(
    {"and", "the", "of", "for", "inc", "llc", "co", "corp", "ltd", "llp", "pllc", "company",
     "companies", "group", "groups", "services", "service", "svc", "svcs", "enterprises",
     "enterprise", "solutions", "solution", "associates", "assoc", "center", "centers",
     "centre", "shop", "shops", "store", "stores", "american", "america", "national",
     "united", "professional", "professionals", "pro", "pros", "international", "intl",
     "global", "systems", "industries", "holdings", "holding", "partners", "management",
     "agency", "usa", "new", "best", "quality", "general", "all", "plus", "works"}
)  # fmt: skip


def _before_dba(text: str) -> str:
    """The legal name of `Acme LLC dba Acme Plumbing` (the part before `dba`)."""
    match = _DBA.search(text)
    if not match:
        return text
    before = text[: match.start()].strip(" ,;-")
    return before or text[match.end() :]


def _strip_legal_suffixes(tokens: list[str]) -> list[str]:
    """`tokens` without trailing legal forms (LLC, Inc, L L C, & Co), keeping one token."""
    changed = True
    while changed:
        changed = False
        for size in (3, 2, 1):
            if len(tokens) > size and tuple(tokens[-size:]) in _LEGAL_SUFFIXES:
                del tokens[-size:]
                changed = True
                break
    return tokens


def normalized_business_name(name: str) -> str:
    """A business name for matching: `The Smith & Sons Co., L.L.C.` → `smith and sons`.

    Lower case, accents folded, `&` → `and`, punctuation dropped, a leading `The` and
    trailing legal forms removed. For `Acme LLC dba Acme Plumbing` the legal name
    before `dba` is kept (`acme`): it is the stable identity across lists, while trade
    names vary by location and listing.
    """
    text = _before_dba(fold(clean_text(name)))
    text = _ABBREVIATION_DOT.sub(" ", text.replace("&", " and "))
    tokens = NON_ALNUM.sub(" ", _DROPPED_MARKS.sub("", text)).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join(_strip_legal_suffixes(tokens))


def _is_acronym(core: str) -> bool:
    """Whether a lower-case word stays upper case in a business name: `hvac`, `bbq`, `a&b`."""
    if core.upper() in _BUSINESS_ACRONYMS:
        return True
    if "&" in core:
        return len(core) <= 5
    vowelless = not any(c in "aeiouy" for c in core)
    return core.isalpha() and len(core) <= 4 and vowelless and core not in _VOWELLESS_WORDS


def business_display_name(name: str) -> str:
    """A business name for people: shouty names in Title Case with acronyms kept (`ABC HVAC`)."""
    text = clean_text(name)
    if not is_shouty(text):
        return text
    words = text.split()
    last = len(words) - 1
    out = []
    for i, word in enumerate(words):
        if _is_acronym(word.strip(".,;:()'\"").lower()):
            out.append(word.upper())
        else:
            out.append(case_word(word, i > 0, i < last))
    return " ".join(out)


def name_tokens(normalized: str) -> list[str]:
    """Up to three distinctive words of a normalized business name, longest first.

    For blocking fuzzy matches: words of 3+ letters that are not generic (`services`,
    `group`, `american`); when none survive, the single longest word.
    """
    words = normalized.split()
    distinctive = [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in _GENERIC_NAME_WORDS]
    if not distinctive:
        return [max(words, key=len)] if words else []
    return sorted(distinctive, key=len, reverse=True)[:3]


# ------------------------------------------------------------------------- ranges

_MULTIPLIERS = {
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "mil": 1_000_000,
    "mm": 1_000_000,
    "m": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "b": 1_000_000_000,
}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|mil|mm|bn|k|m|b)?\b")
_AT_MOST = ("less than", "under", "<", "up to", "below", "fewer than")
_AT_LEAST = ("over", "more than", ">", "greater than", "at least", "above")
_EMPLOYEE_CODES = {
    "A": (1, 4), "B": (5, 9), "C": (10, 19), "D": (20, 49), "E": (50, 99), "F": (100, 249),
    "G": (250, 499), "H": (500, 999), "I": (1_000, 4_999), "J": (5_000, 9_999),
    "K": (10_000, None),
}  # fmt: skip
_REVENUE_CODES = {
    "A": (0, 500_000), "B": (500_000, 1_000_000), "C": (1_000_000, 2_500_000),
    "D": (2_500_000, 5_000_000), "E": (5_000_000, 10_000_000), "F": (10_000_000, 20_000_000),
    "G": (20_000_000, 50_000_000), "H": (50_000_000, 100_000_000),
    "I": (100_000_000, 500_000_000), "J": (500_000_000, 1_000_000_000),
    "K": (1_000_000_000, None),
}  # fmt: skip


def _amounts(cleaned: str) -> list[int]:
    """The numbers in a range, each scaled by its unit or by the unit written next to it.

    `1 to 2.5 million` scales both; a number of 1,000 or more is never scaled by a
    borrowed unit (`500,000 to 1 million`).
    """
    found = [(float(n), _MULTIPLIERS[u] if u else None) for n, u in _AMOUNT.findall(cleaned)]
    units = [u for _, u in found if u]
    values = []
    for i, (value, unit) in enumerate(found):
        if unit is None and value < 1000:
            later = [u for _, u in found[i + 1 :] if u]
            unit = later[0] if later else (units[-1] if units else 1)
        scaled = value * (unit or 1)
        if math.isfinite(scaled):  # a 400-digit "number" is no amount at all
            values.append(round(scaled))
    return values


def parse_range(text: str) -> tuple[int | None, int | None]:
    """Low and high numbers from `5 to 9`, `$1 to 2.5 Million`, `Less Than $500,000`, `12`."""
    cleaned = clean_text(text).lower().replace(",", "").replace("$", "")
    values = _amounts(cleaned)
    if not values:
        return None, None
    if cleaned.startswith(_AT_MOST):
        return 0, values[0]
    if cleaned.startswith(_AT_LEAST) or cleaned.endswith(("+", "plus", "or more")):
        return values[0], None
    if len(values) == 1:
        return values[0], values[0]
    return values[0], values[1]


_Range = tuple[int | None, int | None]


def _coded_range(raw: str, codes: dict[str, _Range]) -> _Range:
    """A range from a one-letter list code, else from the text."""
    text = clean_text(raw)
    if len(text) == 1 and text.upper() in codes:
        return codes[text.upper()]
    return parse_range(text)


def employee_range(raw: str) -> tuple[int | None, int | None]:
    """Employees low/high from `5 to 9`, `1,200`, `1000+` or a letter code (`C` = 10-19)."""
    return _coded_range(raw, _EMPLOYEE_CODES)


def revenue_range(raw: str) -> tuple[int | None, int | None]:
    """Revenue low/high in dollars from `$1-2.5 Million`, `500K`, `Over $1 Billion`, `C`."""
    return _coded_range(raw, _REVENUE_CODES)


# ----------------------------------------------------------------------- industry

_SIC_MAJOR_GROUPS = {
    "01": "Agricultural Production - Crops",
    "02": "Agricultural Production - Livestock",
    "07": "Agricultural Services",
    "08": "Forestry",
    "09": "Fishing, Hunting and Trapping",
    "10": "Metal Mining",
    "12": "Coal Mining",
    "13": "Oil and Gas Extraction",
    "14": "Mining and Quarrying of Nonmetallic Minerals",
    "15": "Construction - General Contractors and Operative Builders",
    "16": "Construction - Heavy Construction Except Building",
    "17": "Construction - Special Trade Contractors",
    "20": "Food and Kindred Products",
    "21": "Tobacco Products",
    "22": "Textile Mill Products",
    "23": "Apparel and Other Textile Products",
    "24": "Lumber and Wood Products",
    "25": "Furniture and Fixtures",
    "26": "Paper and Allied Products",
    "27": "Printing and Publishing",
    "28": "Chemicals and Allied Products",
    "29": "Petroleum Refining",
    "30": "Rubber and Plastics Products",
    "31": "Leather and Leather Products",
    "32": "Stone, Clay, Glass and Concrete Products",
    "33": "Primary Metal Industries",
    "34": "Fabricated Metal Products",
    "35": "Industrial Machinery and Computer Equipment",
    "36": "Electronic and Electrical Equipment",
    "37": "Transportation Equipment",
    "38": "Instruments and Related Products",
    "39": "Miscellaneous Manufacturing",
    "40": "Railroad Transportation",
    "41": "Local and Interurban Passenger Transit",
    "42": "Trucking and Warehousing",
    "43": "United States Postal Service",
    "44": "Water Transportation",
    "45": "Transportation by Air",
    "46": "Pipelines, Except Natural Gas",
    "47": "Transportation Services",
    "48": "Communications",
    "49": "Electric, Gas and Sanitary Services",
    "50": "Wholesale Trade - Durable Goods",
    "51": "Wholesale Trade - Nondurable Goods",
    "52": "Building Materials and Garden Supplies",
    "53": "General Merchandise Stores",
    "54": "Food Stores",
    "55": "Automotive Dealers and Service Stations",
    "56": "Apparel and Accessory Stores",
    "57": "Furniture and Home Furnishings Stores",
    "58": "Eating and Drinking Places",
    "59": "Miscellaneous Retail",
    "60": "Depository Institutions",
    "61": "Nondepository Credit Institutions",
    "62": "Security and Commodity Brokers",
    "63": "Insurance Carriers",
    "64": "Insurance Agents and Brokers",
    "65": "Real Estate",
    "67": "Holding and Other Investment Offices",
    "70": "Hotels and Other Lodging Places",
    "72": "Personal Services",
    "73": "Business Services",
    "75": "Automotive Repair, Services and Parking",
    "76": "Miscellaneous Repair Services",
    "78": "Motion Pictures",
    "79": "Amusement and Recreation Services",
    "80": "Health Services",
    "81": "Legal Services",
    "82": "Educational Services",
    "83": "Social Services",
    "84": "Museums, Galleries and Gardens",
    "86": "Membership Organizations",
    "87": "Engineering, Accounting, Research and Management Services",
    "88": "Private Households",
    "89": "Miscellaneous Services",
    "91": "Executive, Legislative and General Government",
    "92": "Justice, Public Order and Safety",
    "93": "Public Finance, Taxation and Monetary Policy",
    "94": "Administration of Human Resource Programs",
    "95": "Environmental Quality and Housing Programs",
    "96": "Administration of Economic Programs",
    "97": "National Security and International Affairs",
    "99": "Nonclassifiable Establishments",
}
_NAICS_SECTORS = {
    "11": "Agriculture, Forestry, Fishing and Hunting",
    "21": "Mining, Quarrying, and Oil and Gas Extraction",
    "22": "Utilities",
    "23": "Construction",
    **dict.fromkeys(("31", "32", "33"), "Manufacturing"),
    "42": "Wholesale Trade",
    **dict.fromkeys(("44", "45"), "Retail Trade"),
    **dict.fromkeys(("48", "49"), "Transportation and Warehousing"),
    "51": "Information",
    "52": "Finance and Insurance",
    "53": "Real Estate and Rental and Leasing",
    "54": "Professional, Scientific, and Technical Services",
    "55": "Management of Companies and Enterprises",
    "56": "Administrative and Support and Waste Management Services",
    "61": "Educational Services",
    "62": "Health Care and Social Assistance",
    "71": "Arts, Entertainment, and Recreation",
    "72": "Accommodation and Food Services",
    "81": "Other Services (except Public Administration)",
    "92": "Public Administration",
    "99": "Unclassified Establishments",
}


def _code_digits(raw: str) -> str:
    """The digits of a code cell, without a spreadsheet's `.0` or separators."""
    text = clean_text(raw)
    if text.endswith(".0"):
        text = text[:-2]
    return _NON_DIGIT.sub("", text)


def sic_code(raw: str) -> str:
    """An SIC code of 2-8 digits (`1761.0` → `1761`, `0782` kept); "" when not one.

    Odd lengths get back the leading zero a spreadsheet dropped (`782` → `0782`).
    """
    digits = _code_digits(raw)
    if len(digits) in (3, 5, 7):
        digits = "0" + digits
    return digits if 2 <= len(digits) <= 8 and digits[:2] in _SIC_MAJOR_GROUPS else ""


def naics_code(raw: str) -> str:
    """A NAICS code of 2-6 digits in a known sector (`238160`); "" when not one."""
    digits = _code_digits(raw)
    return digits if 2 <= len(digits) <= 6 and digits[:2] in _NAICS_SECTORS else ""


def industry_label(sic: str, naics: str, description: str = "") -> str:
    """A readable industry: the list's description, else the SIC major group or NAICS sector."""
    text = clean_text(description)
    if text:
        return name_case(text)
    sic = sic_code(sic)
    if sic:
        return _SIC_MAJOR_GROUPS[sic[:2]]
    naics = naics_code(naics)
    return _NAICS_SECTORS[naics[:2]] if naics else ""


# ----------------------------------------------------------------------- websites

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_WWW = re.compile(r"^www\d?\.")
_HOST_END = re.compile(r"[/?#\s\\]")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})")


def normalize_website(raw: str) -> str:
    """The lower-case host of a website cell, without scheme, `www.`, port or path.

    `http://www.HillcrestRoofing.example/` → `hillcrestroofing.example`; "" when the
    cell is not a plausible domain (an email address, a bare word).
    """
    text = clean_text(raw).lower()
    if "@" in text and "://" not in text:
        return ""
    host = _HOST_END.split(_SCHEME.sub("", text), maxsplit=1)[0]
    host = host.rpartition("@")[2].partition(":")[0].rstrip(".")
    host = _WWW.sub("", host)
    return host if _DOMAIN.fullmatch(host) and "_" not in host else ""
