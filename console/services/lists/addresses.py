"""States, ZIP codes and street addresses in purchased lists, to USPS Publication 28
(`address`).

Street lines are parsed once per imported row, so the common shapes have a fast
tagger, tested to give exactly the answer of usaddress, the slow path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import usaddress

from console.services.lists.normalize import (
    ORDINAL,
    case_word,
    clean_text,
    fold,
    is_shouty,
    name_case,
    word_key,
)

_STATES = (
    ("AL", "Alabama", "ala"), ("AK", "Alaska", ""), ("AZ", "Arizona", "ariz"),
    ("AR", "Arkansas", "ark"), ("CA", "California", "calif cal"), ("CO", "Colorado", "colo"),
    ("CT", "Connecticut", "conn"), ("DE", "Delaware", "del"), ("FL", "Florida", "fla"),
    ("GA", "Georgia", ""), ("HI", "Hawaii", ""), ("ID", "Idaho", ""),
    ("IL", "Illinois", "ill"), ("IN", "Indiana", "ind"), ("IA", "Iowa", ""),
    ("KS", "Kansas", "kan kans"), ("KY", "Kentucky", ""), ("LA", "Louisiana", ""),
    ("ME", "Maine", ""), ("MD", "Maryland", ""), ("MA", "Massachusetts", "mass"),
    ("MI", "Michigan", "mich"), ("MN", "Minnesota", "minn"), ("MS", "Mississippi", "miss"),
    ("MO", "Missouri", ""), ("MT", "Montana", "mont"), ("NE", "Nebraska", "neb nebr"),
    ("NV", "Nevada", "nev"), ("NH", "New Hampshire", ""), ("NJ", "New Jersey", ""),
    ("NM", "New Mexico", ""), ("NY", "New York", ""), ("NC", "North Carolina", ""),
    ("ND", "North Dakota", ""), ("OH", "Ohio", ""), ("OK", "Oklahoma", "okla"),
    ("OR", "Oregon", "ore oreg"), ("PA", "Pennsylvania", "penn penna"),
    ("RI", "Rhode Island", ""), ("SC", "South Carolina", ""), ("SD", "South Dakota", ""),
    ("TN", "Tennessee", "tenn"), ("TX", "Texas", "tex"), ("UT", "Utah", ""),
    ("VT", "Vermont", ""), ("VA", "Virginia", ""), ("WA", "Washington", "wash"),
    ("WV", "West Virginia", "wva"), ("WI", "Wisconsin", "wis wisc"), ("WY", "Wyoming", "wyo"),
    ("DC", "District of Columbia", "washington dc"), ("PR", "Puerto Rico", ""),
    ("VI", "Virgin Islands", "us virgin islands"), ("GU", "Guam", ""),
    ("AS", "American Samoa", ""), ("MP", "Northern Mariana Islands", ""),
)  # fmt: skip


class _CaseInsensitiveCodes(dict[str, str]):
    """A dict whose string keys are looked up without regard to case."""

    def __missing__(self, key: str) -> str:
        """The value under the lower-case form of `key`."""
        lower = key.lower()
        if lower == key:
            raise KeyError(key)
        return self[lower]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value under `key` in any case, or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        """Whether `key`, in any case, is a key."""
        return super().__contains__(key.lower() if isinstance(key, str) else key)


#: Two-letter USPS codes by code, name or common abbreviation in any case
#: (`TX`, `texas`, `Tex`); `state_code` also ignores dots and spacing.
STATE_CODES: dict[str, str] = _CaseInsensitiveCodes(
    (key, code)
    for code, name, aliases in _STATES
    for key in (code.lower(), name.lower(), *aliases.split())
)


def state_code(raw: str) -> str:
    """The two-letter code for `TX`, `Texas`, `tex.` or `N.Y.`; "" when unknown."""
    text = clean_text(raw).lower().replace(".", " ")
    return STATE_CODES.get(" ".join(text.split())) or STATE_CODES.get(text.replace(" ", ""), "")


@dataclass(frozen=True)
class ZipCode:
    """A US ZIP code: five digits and the optional plus-four."""

    zip5: str
    zip4: str

    def __str__(self) -> str:
        """`78701` or `78701-1234`."""
        return f"{self.zip5}-{self.zip4}" if self.zip4 else self.zip5


_ZIP = re.compile(r"(\d{5})(?:[\s-]?(\d{4}))?")


def zip_code(raw: str) -> ZipCode | None:
    """A ZIP from `78701`, `78701-1234`, `787011234`, `78701.0` or `2134` (→ 02134); else None.

    Three- and four-digit values are ZIPs whose leading zeros a spreadsheet dropped.
    """
    text = clean_text(raw).rstrip("-")
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and 3 <= len(text) <= 4:
        text = text.zfill(5)
    match = _ZIP.fullmatch(text)
    if not match or match.group(1) == "00000":
        return None
    zip4 = match.group(2) or ""
    return ZipCode(match.group(1), "" if zip4 == "0000" else zip4)


# ---------------------------------------------------------------------- addresses

# USPS Publication 28, appendix C1: street suffixes and the spellings seen in lists.
_SUFFIX_SPELLINGS = {
    "Aly": "alley allee ally", "Anx": "annex anex annx", "Arc": "arcade",
    "Ave": "avenue av aven avenu avn avnue ave", "Byu": "bayou bayoo", "Bch": "beach",
    "Bnd": "bend", "Blf": "bluff bluf", "Blvd": "boulevard boul boulv blv blvd",
    "Br": "branch brnch", "Brg": "bridge brdge", "Brk": "brook",
    "Byp": "bypass bypa bypas byps", "Cyn": "canyon canyn cnyn", "Cpe": "cape",
    "Cswy": "causeway causwa", "Ctr": "center centre cent centr cnter cntr cen ctr",
    "Cir": "circle circ circl crcl crcle cir", "Clf": "cliff", "Clb": "club",
    "Cmn": "common", "Cor": "corner", "Crse": "course", "Ct": "court crt ct",
    "Cts": "courts", "Cv": "cove", "Crk": "creek", "Cres": "crescent crsent crsnt",
    "Xing": "crossing crssng xing", "Curv": "curve", "Dl": "dale", "Dm": "dam",
    "Dr": "drive driv drv dr", "Est": "estate", "Ests": "estates",
    "Expy": "expressway expr expw expy", "Ext": "extension extn extnsn", "Fls": "falls",
    "Fry": "ferry", "Fld": "field", "Flds": "fields", "Flt": "flat", "Frst": "forest",
    "Frk": "fork", "Ft": "fort frt", "Fwy": "freeway freewy frway frwy fwy",
    "Gdn": "garden gardn grden grdn", "Gdns": "gardens", "Gtwy": "gateway gatewy gatway",
    "Gln": "glen", "Grn": "green", "Grv": "grove grov", "Hbr": "harbor", "Hvn": "haven",
    "Hts": "heights hgts", "Hwy": "highway highwy hiway hiwy hway hwy", "Hl": "hill",
    "Hls": "hills", "Holw": "hollow", "Inlt": "inlet", "Is": "island", "Jct": "junction",
    "Knl": "knoll", "Lk": "lake", "Lks": "lakes", "Lndg": "landing",
    "Ln": "lane ln", "Ldg": "lodge", "Loop": "loop loops", "Mall": "mall", "Mnr": "manor",
    "Mdw": "meadow", "Mdws": "meadows", "Ml": "mill", "Mtn": "mountain", "Oval": "oval",
    "Park": "park parks", "Pkwy": "parkway parkwy pkway pky pkwy parkways",
    "Pass": "pass", "Path": "path", "Pike": "pike", "Pne": "pine", "Pl": "place pl",
    "Pln": "plain", "Plz": "plaza plza plz", "Pt": "point", "Prt": "port", "Pr": "prairie",
    "Rnch": "ranch", "Rdg": "ridge", "Riv": "river", "Rd": "road rd", "Rte": "route",
    "Row": "row", "Run": "run", "Shr": "shore", "Spg": "spring", "Spgs": "springs",
    "Spur": "spur", "Sq": "square sqr squ sq", "Sta": "station",
    "St": "street str strt stret st", "Smt": "summit", "Ter": "terrace terr ter",
    "Trce": "trace", "Trl": "trail trails trl", "Tpke": "turnpike trnpk turnpk",
    "Vly": "valley", "Via": "viaduct", "Vw": "view", "Vlg": "village", "Vis": "vista",
    "Walk": "walk", "Way": "way wy", "Wls": "wells",
}  # fmt: skip
_STREET_SUFFIXES = {
    spelling: abbreviation
    for abbreviation, spellings in _SUFFIX_SPELLINGS.items()
    for spelling in (abbreviation.lower(), *spellings.split())
}
_DIRECTIONALS = {
    "n": "N", "north": "N", "s": "S", "south": "S", "e": "E", "east": "E", "w": "W",
    "west": "W", "ne": "NE", "northeast": "NE", "north east": "NE", "n e": "NE",
    "nw": "NW", "northwest": "NW", "north west": "NW", "n w": "NW", "se": "SE",
    "southeast": "SE", "south east": "SE", "s e": "SE", "sw": "SW", "southwest": "SW",
    "south west": "SW", "s w": "SW",
}  # fmt: skip
# USPS Publication 28, appendix C2: secondary unit designators.
_UNIT_DESIGNATORS = {
    "apartment": "Apt", "apt": "Apt", "basement": "Bsmt", "bsmt": "Bsmt", "building": "Bldg",
    "bldg": "Bldg", "bld": "Bldg", "department": "Dept", "dept": "Dept", "floor": "Fl",
    "fl": "Fl", "flr": "Fl", "front": "Frnt", "frnt": "Frnt", "hangar": "Hngr", "lobby": "Lbby",
    "lot": "Lot", "lower": "Lowr", "office": "Ofc", "ofc": "Ofc", "penthouse": "Ph", "ph": "Ph",
    "pier": "Pier", "rear": "Rear", "room": "Rm", "rm": "Rm", "side": "Side", "slip": "Slip",
    "space": "Spc", "spc": "Spc", "suite": "Ste", "ste": "Ste", "trailer": "Trlr",
    "trlr": "Trlr", "unit": "Unit", "upper": "Uppr", "uppr": "Uppr",
}  # fmt: skip
_BOX_GROUPS = {
    "rr": "RR", "rural route": "RR", "route": "RR", "hc": "HC", "highway contract": "HC",
}  # fmt: skip
_STREET_ACRONYMS = frozenset(
    {"US", "FM", "RM", "CR", "SR", "SH", "IH", "RR", "HC", "MLK", "NASA", "NE", "NW", "SE", "SW"}
)
_PO_BOX = re.compile(
    r"(?:p\.?\s*o\.?\s*box|p\.?\s*o\.?\s*b\.?|post\s+office\s+box|box)\s*#?\s*([a-z0-9-]+)",
    re.IGNORECASE,
)
# The fast tagger's vocabulary: what it may call a unit, a suffix, a word of a name.
_FAST_UNITS = frozenset(
    {"apt", "apartment", "bldg", "building", "fl", "floor", "rm", "room", "ste", "suite", "unit"}
)
_FAST_SUFFIXES = frozenset(
    {"ave", "avenue", "av", "blvd", "boulevard", "cir", "circle", "ct", "court", "dr", "drive",
     "expy", "expressway", "fwy", "freeway", "hwy", "highway", "ln", "lane", "pkwy", "parkway",
     "pl", "place", "plz", "plaza", "rd", "road", "sq", "square", "st", "street", "ter",
     "terrace", "trl", "way", "loop", "xing", "crossing"}
)  # fmt: skip
# Suffix words that are common inside street names (Lake Shore Dr, Park Place Dr).
_NAME_SUFFIX_WORDS = frozenset(
    {"lake", "park", "place", "center", "plaza", "square", "spring", "valley", "hill", "creek",
     "point", "forest", "mill", "ridge", "oak", "pine", "glen", "grove", "meadow", "brook",
     "view", "river", "village", "cove", "green", "summit", "shore", "bend", "station",
     "heights"}
)  # fmt: skip
# Words the fast tagger leaves to usaddress: pre-types, particles, box and route words.
_FAST_NAME_WORDS_REFUSED = frozenset(
    {"and", "of", "the", "box", "po", "county", "state", "us", "fm", "route", "camino",
     "calle", "avenida", "el", "la", "old", "mount", "mt", "saint", "st", "ft", "fort", "i"}
)  # fmt: skip
_FAST_NAME_STOP = (
    (frozenset(_STREET_SUFFIXES) - _NAME_SUFFIX_WORDS)
    | frozenset(_DIRECTIONALS)
    | frozenset(_UNIT_DESIGNATORS)
    | _FAST_NAME_WORDS_REFUSED
)
_NAME_WORD = re.compile(r"[A-Za-z]+|\d+(?:st|nd|rd|th|ST|ND|RD|TH)")
_UNIT_ID = re.compile(r"#?(?:\d{1,6}[A-Za-z]?|[A-Za-z]\d{0,4})")
_STREET_ORDER = {
    label: i
    for i, label in enumerate(
        ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix", "StreetNamePreModifier",
         "StreetNamePreDirectional", "StreetNamePreType", "StreetName", "StreetNamePostType",
         "StreetNamePostDirectional")
    )
}  # fmt: skip
_UNIT_LABELS = frozenset(
    {"SubaddressType", "SubaddressIdentifier", "OccupancyType", "OccupancyIdentifier"}
)
_NUMBER_LABELS = ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")
_KEY_DROP = re.compile(r"[.,'’]")


@dataclass(frozen=True)
class Address:
    """A standardized US address; `street_key` matches streets whatever their unit."""

    street: str
    unit: str
    city: str
    state: str
    zip: str
    street_key: str


class _StreetLine(NamedTuple):
    """A parsed street line, with any city, state and ZIP that were written on it."""

    street: str
    unit: str
    street_key: str
    city: str = ""
    state: str = ""
    zip: str = ""


def _street_key(street: str) -> str:
    """The lower-case, accent- and punctuation-free form of a delivery line."""
    return " ".join(_KEY_DROP.sub("", fold(street)).split())


def _case_street_words(text: str, shouty: bool) -> str:
    """Street-name words in Title Case with ordinals lower (`5th`) and acronyms upper (`FM`)."""
    words = text.split()
    last = len(words) - 1
    out = []
    for i, word in enumerate(words):
        lower = word.islower()
        if not (lower or word.isupper()):  # mixed case or digits: as typed
            out.append(word)
        elif word[0].isdigit():
            out.append(word.lower() if ORDINAL.fullmatch(word.lower()) else word.upper())
        elif word.upper() in _STREET_ACRONYMS:
            out.append(word.upper())
        elif shouty or lower:
            out.append(case_word(word, i > 0, i < last))
        else:
            out.append(word)
    return " ".join(out)


def _standard_word(table: dict[str, str], value: str, shouty: bool) -> str:
    """`value` abbreviated by a USPS table, or cased as typed when the table lacks it."""
    if not value:
        return ""
    found = table.get(value.lower())
    if found:
        return found
    key = " ".join(value.lower().replace(".", " ").split())
    return table.get(key) or table.get(key.replace(" ", "")) or _case_street_words(value, shouty)


def _standard_unit(kind: str, ident: str, shouty: bool) -> str:
    """`Ste 200`, `Apt 3B`, `# 4` or `Rear` from a designator and an identifier."""
    ident = "".join(ident.replace("#", " ").strip(" .,-").split()).upper()
    if kind and kind.strip() != "#":
        return f"{_standard_word(_UNIT_DESIGNATORS, kind, shouty)} {ident}".strip()
    if ident.lower() in _UNIT_DESIGNATORS:
        return _UNIT_DESIGNATORS[ident.lower()]
    return f"# {ident}" if ident else ""


def _units(tags: dict[str, str], shouty: bool) -> str:
    """The secondary units of a tagged line (`Bldg 2 Ste 300`), in the order written."""
    if _UNIT_LABELS.isdisjoint(tags):
        return ""
    pairs: list[list[str]] = []  # [family, designator, identifier]
    for label, value in tags.items():
        family = label[:3]
        if label in ("SubaddressType", "OccupancyType"):
            pairs.append([family, value, ""])
        elif label in ("SubaddressIdentifier", "OccupancyIdentifier"):
            if pairs and pairs[-1][0] == family and not pairs[-1][2]:
                pairs[-1][2] = value
            else:
                pairs.append([family, "", value])
    units = (_standard_unit(kind, ident, shouty) for _, kind, ident in pairs)
    return " ".join(u for u in units if u)


def _box_line(tags: dict[str, str]) -> str:
    """`PO Box 12` or `RR 2 Box 15` from a tagged box address."""
    box = "".join(tags.get("USPSBoxID", "").replace("#", " ").split()).upper()
    group = tags.get("USPSBoxGroupType", "")
    if group:
        group_id = tags.get("USPSBoxGroupID", "").replace("#", "").strip().upper()
        kind = _BOX_GROUPS.get(" ".join(group.lower().replace(".", " ").split()), group.upper())
        return " ".join(p for p in (kind, group_id, "Box", box) if p)
    return f"PO Box {box}".strip()


def _street_name(tags: dict[str, str], shouty: bool) -> str:
    """The name part of a street, highway types abbreviated before numbers (`US Hwy 290`)."""
    name = tags.get("StreetName", "")
    post = tags.get("StreetNamePostType", "")
    if " " in post:  # usaddress sometimes tags "Ridge Parkway" as the type
        name = f"{name} {post.rpartition(' ')[0]}"
    pretype = tags.get("StreetNamePreType", "")
    if pretype and name[:1].isdigit():
        *head, tail = pretype.split()
        pretype = " ".join([*head, _STREET_SUFFIXES.get(tail.lower().rstrip("."), tail)])
    premodifier = tags.get("StreetNamePreModifier", "")
    if pretype or premodifier:
        name = " ".join(w for w in (premodifier, pretype, name) if w)
    return _case_street_name(name, shouty)


@lru_cache(maxsize=16384)
def _case_street_name(name: str, shouty: bool) -> str:
    """`_case_street_words`, cached: lists repeat their street names."""
    return _case_street_words(name, shouty)


def _delivery_line(tags: dict[str, str], shouty: bool) -> str:
    """`4500 N Lamar Blvd` from a tagged street address."""
    number = tags.get("AddressNumber", "")
    if "AddressNumberPrefix" in tags or "AddressNumberSuffix" in tags:
        number = " ".join(tags.get(k, "") for k in _NUMBER_LABELS).strip()
    if not number.isdigit():
        if any(c.isdigit() for c in number):  # "123a", "N123 W456"
            number = number.upper()
        else:  # "One Main St"
            number = _case_street_words(number, shouty)
    suffix = tags.get("StreetNamePostType", "").rpartition(" ")[2]  # see _street_name
    parts = (
        number,
        _standard_word(_DIRECTIONALS, tags.get("StreetNamePreDirectional", ""), shouty),
        _street_name(tags, shouty),
        _standard_word(_STREET_SUFFIXES, suffix, shouty),
        _standard_word(_DIRECTIONALS, tags.get("StreetNamePostDirectional", ""), shouty),
    )
    return " ".join(p for p in parts if p)


def _line_from_tags(tags: dict[str, str], shouty: bool) -> _StreetLine | None:
    """A standardized street line from usaddress-style tags; None when it is no address."""
    if "USPSBoxID" in tags:
        street = _box_line(tags)
    elif "StreetName" in tags:
        street = _delivery_line(tags, shouty)
    else:
        return None
    unit = _units(tags, shouty)
    city = tags.get("PlaceName", "")
    designator = _UNIT_DESIGNATORS.get(city.lower().rstrip("."))
    if designator:  # usaddress reads "123 Main St Bsmt" as a place named Bsmt
        unit, city = f"{unit} {designator}".strip(), ""
    return _StreetLine(
        street, unit, _street_key(street), city, tags.get("StateName", ""), tags.get("ZipCode", "")
    )


def _fast_unit(tokens: list[str]) -> tuple[dict[str, str], int]:
    """Tags for a trailing `Ste 200` / `# 4` / `#4`, and how many tokens it took."""
    last = tokens[-1]
    if len(tokens) >= 4 and _UNIT_ID.fullmatch(last):
        kind = tokens[-2].lower().rstrip(".")
        if kind in _FAST_UNITS:
            return {"OccupancyType": tokens[-2], "OccupancyIdentifier": last}, 2
        if kind == "#" and not last.startswith("#"):
            return {"OccupancyIdentifier": "# " + last}, 2
    if len(tokens) >= 3 and last.startswith("#") and _UNIT_ID.fullmatch(last):
        return {"OccupancyIdentifier": "# " + last[1:]}, 1
    return {}, 0


def _fast_tags(line: str) -> dict[str, str] | None:
    """usaddress-style tags for the common simple line shapes, without usaddress.

    Handles `NUMBER [PREDIR] NAME KNOWN-SUFFIX [POSTDIR] [UNIT ID]` and PO boxes; returns
    None for anything else so that usaddress decides.
    """
    if not line[:1].isdigit():
        box = _PO_BOX.fullmatch(line)
        return {"USPSBoxType": "PO Box", "USPSBoxID": box.group(1)} if box else None
    tokens = line.replace(",", " ").split()
    if len(tokens) < 3 or not (tokens[0].isascii() and tokens[0].isdigit()):
        return None
    unit, end = _fast_unit(tokens)
    end = len(tokens) - end
    postdir = ""
    if word_key(tokens[end - 1]) in _DIRECTIONALS:
        end -= 1
        postdir = tokens[end]
    if end < 3 or word_key(tokens[end - 1]) not in _FAST_SUFFIXES:
        return None
    start = 2 if word_key(tokens[1]) in _DIRECTIONALS else 1
    name = tokens[start : end - 1]
    if not name or not all(
        _NAME_WORD.fullmatch(w) and w.lower() not in _FAST_NAME_STOP for w in name
    ):
        return None
    tags = {"AddressNumber": tokens[0]}
    if start == 2:
        tags["StreetNamePreDirectional"] = tokens[1]
    tags["StreetName"] = " ".join(name)
    tags["StreetNamePostType"] = tokens[end - 1]
    if postdir:
        tags["StreetNamePostDirectional"] = postdir
    return tags | unit


def _usaddress_tags(line: str) -> dict[str, str] | None:
    """usaddress tags of a line; the first run of each label when labels repeat."""
    try:
        tags, kind = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        return _first_runs(usaddress.parse(line))
    if kind in ("Ambiguous", "Intersection"):
        return None
    return _repair_tags(dict(tags))


def _repair_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags with a street name for lines usaddress reads as a type or a building name.

    usaddress tags `12 E 3rd Road` as a pre-type and `10 Town Center Place` as a
    building; both end in a street suffix, so they are streets.
    """
    if "StreetName" in tags or "AddressNumber" not in tags:
        return tags
    for label in ("StreetNamePreType", "BuildingName"):
        *name, suffix = tags.get(label, "").split() or [""]
        if name and suffix.lower().rstrip(".") in _STREET_SUFFIXES:
            repaired = {k: v for k, v in tags.items() if k != label}
            return repaired | {"StreetName": " ".join(name), "StreetNamePostType": suffix}
    return tags


def _first_runs(parsed: list[tuple[str, str]]) -> dict[str, str] | None:
    """Tags from usaddress.parse tokens: the first run of each label, if in street order."""
    tags: dict[str, str] = {}
    closed: set[str] = set()
    previous = None
    for token, label in parsed:
        if previous is not None and label != previous:
            closed.add(previous)
        previous = label
        token = token.strip(" ,;")
        if label in closed or not token:
            continue
        tags[label] = f"{tags[label]} {token}" if label in tags else token
    order = [_STREET_ORDER[label] for label in tags if label in _STREET_ORDER]
    return tags if order == sorted(order) else None


def _raw_line(line: str, shouty: bool) -> _StreetLine:
    """A street line no parser understood, kept as typed (Title Case when shouty)."""
    street = name_case(line) if shouty else line
    return _StreetLine(street, "", _street_key(street))


def _parse_street_fast(line: str) -> _StreetLine | None:
    """The fast path: a standardized line when the simple tagger understands it."""
    tags = _fast_tags(line)
    return None if tags is None else _line_from_tags(tags, is_shouty(line))


# No street line is longer; past it usaddress is not asked (its tokenizer is quadratic on
# some text: 16,000 "(" took 13 s), and the line is kept as written.
MAX_STREET_LINE = 200


def _parse_street_slow(line: str) -> _StreetLine:
    """The reference path: usaddress tags, then the raw text when it finds no address."""
    shouty = is_shouty(line)
    tags = _usaddress_tags(line) if len(line) <= MAX_STREET_LINE else None
    parsed = None if tags is None else _line_from_tags(tags, shouty)
    return parsed or _raw_line(line, shouty)


@lru_cache(maxsize=65536)
def _parse_street(line: str) -> _StreetLine:
    """A cleaned street line, standardized; cached because lists repeat lines."""
    return _parse_street_fast(line) or _parse_street_slow(line)


def address(street: str, city: str = "", state: str = "", zip: str = "") -> Address:
    """A standardized address (USPS abbreviations, unit apart, `street_key` for matching).

    `4500 North Lamar Boulevard, Suite 12` → street `4500 N Lamar Blvd`, unit `Ste 12`,
    key `4500 n lamar blvd`. City, state and ZIP written on the street line fill in
    the ones not given.
    """
    line = clean_text(street)
    parsed = _parse_street(line) if line else _NO_STREET
    city = clean_text(city) or parsed.city.strip(" ,")
    state = clean_text(state) or parsed.state
    zip = clean_text(zip) or parsed.zip
    return Address(
        street=parsed.street,
        unit=parsed.unit,
        city=_city(city) if city else "",
        state=state_code(state) if state else "",
        zip=_zip_text(zip) if zip else "",
        street_key=parsed.street_key,
    )


_NO_STREET = _StreetLine("", "", "")


@lru_cache(maxsize=8192)
def _city(text: str) -> str:
    """A city in display case; cached because lists repeat their cities."""
    return name_case(text)


@lru_cache(maxsize=8192)
def _zip_text(text: str) -> str:
    """A ZIP as text (`78701-1234`), "" when invalid; cached because lists repeat ZIPs."""
    found = zip_code(text)
    return str(found) if found else ""
