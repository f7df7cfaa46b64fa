"""A realistic purchased business list with known duplicates, for the ingest benchmark.

`write_list(path, rows)` writes a USBizData-style CSV (the vendor's column names plus a
`Truth` column) and returns figures about it. It is deterministic: the same `rows`,
`seed` and `dup_rate` give the same file, byte for byte.

What is in it:

- places: US cities with their states and real telephone prefixes, taken from the
  geocoding data the `phonenumbers` package ships (NPA-NXX -> "Austin, TX"), so a
  business's phone is in an area code of its own city; every number passes
  `phonenumbers.is_valid_number`. Cities are weighted by how many prefixes they have (a
  fair proxy for size). The city pool and the ZIP pool grow with `rows`, so a ZIP holds
  some tens of businesses whether the file has 10,000 rows or 200,000. ZIPs lie in their
  state's real 3-digit ZIP ranges, several per city; counties come from a pool of
  common county names, one per city.
- businesses: names built from place words, owners' surnames, streets, cities, initials
  and adjectives with a trade (`Hillcrest Roofing LLC`, `Garcia & Sons Plumbing`, `Main
  Street Dental PLLC`, `A1 Auto Body`), legal suffixes varied; street addresses with
  directionals, varied suffixes and some suites; SIC codes with their industry text,
  employees and sales volume as ranges (`5 to 9`, `$1 to 2.5 Million`) or letter codes.
- owners: first and last names from large pools (O'Brien, McDonald, de la Cruz,
  Nguyen, Smith-Jones), a few middle initials, honorifics and suffixes; titles.
- contacts: ~97% with an office phone, ~35% with a mobile, ~40% with an email, ~60%
  with a website; ~4% without an owner's name. Phones, emails, websites, (business
  name, ZIP) and (owner, street, ZIP) are unique among distinct businesses, so the only
  true duplicates are the ones made on purpose, with one exception on purpose too:
- second businesses: about 1% of the businesses belong to the owner of an earlier one
  (same person and ZIP, another trade and name, its own office phone), sharing the
  owner's mobile, half of them the street address (another suite) and half of those
  with a personal email that email. They are different businesses: merging them is a
  false merge.
- duplicates: about `dup_rate` of the rows copy an earlier original (same `Truth`) with
  one or two perturbations: a typo in the business name, a different legal suffix,
  the owner's name reordered or shouted, a suite added or changed, the street suffix
  or directional spelled out, the phone reformatted, the email's case changed, or the
  office phone missing. A copy always keeps a strong identifier (the phone, the email,
  or the exact normalized name in the same ZIP), and comes at a random later position.
- junk: about 1% of rows that a list import must reject (no usable name, or only an
  owner without a valid phone). Their `Truth` is empty.

Run `python -m tests.bench.listgen OUT.csv --rows N` to write one by hand.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import random
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import phonenumbers

HEADER = (
    "Company Name",
    "Contact Name",
    "Title",
    "Address",
    "City",
    "State",
    "Zip",
    "County",
    "Phone",
    "Mobile",
    "Email",
    "Web Address",
    "SIC Code",
    "Industry",
    "Employees",
    "Sales Volume",
    "Truth",
)
JUNK_RATE = 0.01
# Originals that are an earlier owner's second business (one person, two firms), and
# originals without an owner's name.
SECOND_BUSINESS_RATE = 0.01
NO_CONTACT_RATE = 0.04
# Businesses per ZIP the pool of ZIPs is sized for, and per city for the pool of cities.
BUSINESSES_PER_ZIP = 25
BUSINESSES_PER_CITY = 40
MIN_CITIES = 2000

# --------------------------------------------------------------------------- places

# The 3-digit ZIP prefixes each state uses (USPS), as inclusive ranges.
ZIP3_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "MA": ((10, 27),), "RI": ((28, 29),), "NH": ((30, 38),), "ME": ((39, 49),),
    "VT": ((50, 59),), "CT": ((60, 69),), "NJ": ((70, 89),), "NY": ((100, 149),),
    "PA": ((150, 196),), "DE": ((197, 199),), "DC": ((200, 205),), "MD": ((206, 219),),
    "VA": ((220, 246),), "WV": ((247, 268),), "NC": ((270, 289),), "SC": ((290, 299),),
    "GA": ((300, 319), (398, 399)), "FL": ((320, 349),), "AL": ((350, 369),),
    "TN": ((370, 385),), "MS": ((386, 397),), "KY": ((400, 427),), "OH": ((430, 459),),
    "IN": ((460, 479),), "MI": ((480, 499),), "IA": ((500, 528),), "WI": ((530, 549),),
    "MN": ((550, 567),), "SD": ((570, 577),), "ND": ((580, 588),), "MT": ((590, 599),),
    "IL": ((600, 629),), "MO": ((630, 658),), "KS": ((660, 679),), "NE": ((680, 693),),
    "LA": ((700, 714),), "AR": ((716, 729),), "OK": ((730, 749),), "TX": ((750, 799),),
    "CO": ((800, 816),), "WY": ((820, 831),), "ID": ((832, 838),), "UT": ((840, 847),),
    "AZ": ((850, 865),), "NM": ((870, 884),), "NV": ((889, 898),), "CA": ((900, 961),),
    "HI": ((967, 968),), "OR": ((970, 979),), "WA": ((980, 994),), "AK": ((995, 999),),
}  # fmt: skip
# Counties whose names recur across many states; a state draws its pool from these.
COMMON_COUNTIES = (
    "Washington", "Jefferson", "Franklin", "Jackson", "Lincoln", "Madison", "Montgomery",
    "Clay", "Marion", "Monroe", "Union", "Wayne", "Warren", "Greene", "Grant", "Lake",
    "Marshall", "Polk", "Johnson", "Douglas", "Clark", "Fayette", "Hamilton", "Lee",
    "Adams", "Carroll", "Orange", "Perry", "Putnam", "Shelby", "Benton", "Brown",
    "Calhoun", "Crawford", "Cumberland", "Decatur", "Delaware", "Harrison", "Henry",
    "Howard", "Jasper", "Knox", "Lawrence", "Logan", "Morgan", "Randolph", "Scott",
    "Sullivan", "Taylor", "Butler", "Campbell", "Cass", "Columbia", "Hancock", "Lewis",
    "Mercer", "Mitchell", "Richland", "Boone", "Cherokee", "Clinton", "Fulton", "Hardin",
    "Houston", "Lafayette", "Macon", "Mason", "Pike", "Pulaski", "Sumner", "Allen",
    "Bedford", "Bradley", "Carter", "Coffee", "Dallas", "Dickinson", "Floyd", "Hall",
    "Hill", "Jones", "Kent", "Lyon", "Marshall", "Miller", "Nelson", "Osage", "Ottawa",
    "Pierce", "Ross", "Russell", "Saline", "Sevier", "Smith", "Stark", "Summit", "Tipton",
    "Van Buren", "Wabash", "Webster", "White", "Wilson", "Wood", "Worth",
)  # fmt: skip
COUNTIES_PER_STATE = 18
# The largest cities' real 3-digit ZIP areas and counties; smaller cities get a ZIP area
# of their state not taken by these and a county from their state's pool.
KNOWN_CITIES: dict[tuple[str, str], tuple[tuple[int, ...], str]] = {
    ("Houston", "TX"): ((770, 772), "Harris"), ("Dallas", "TX"): ((752, 753), "Dallas"),
    ("Atlanta", "GA"): ((303, 311), "Fulton"), ("Brooklyn", "NY"): ((112,), "Kings"),
    ("Cleveland", "OH"): ((441,), "Cuyahoga"), ("Philadelphia", "PA"): ((191,), "Philadelphia"),
    ("Phoenix", "AZ"): ((850,), "Maricopa"), ("San Diego", "CA"): ((921,), "San Diego"),
    ("San Francisco", "CA"): ((941,), "San Francisco"),
    ("Los Angeles", "CA"): ((900,), "Los Angeles"), ("Las Vegas", "NV"): ((891, 889), "Clark"),
    ("Cincinnati", "OH"): ((452,), "Hamilton"), ("Bronx", "NY"): ((104,), "Bronx"),
    ("Jacksonville", "FL"): ((322,), "Duval"), ("St. Louis", "MO"): ((631,), "St. Louis City"),
    ("Baltimore", "MD"): ((212,), "Baltimore City"), ("Milwaukee", "WI"): ((532,), "Milwaukee"),
    ("Albuquerque", "NM"): ((871,), "Bernalillo"), ("Denver", "CO"): ((802,), "Denver"),
    ("Miami", "FL"): ((331,), "Miami-Dade"), ("Seattle", "WA"): ((981,), "King"),
    ("Pittsburgh", "PA"): ((152,), "Allegheny"), ("Nashville", "TN"): ((372,), "Davidson"),
    ("Orlando", "FL"): ((328,), "Orange"), ("Indianapolis", "IN"): ((462,), "Marion"),
    ("Memphis", "TN"): ((381,), "Shelby"), ("Fort Worth", "TX"): ((761,), "Tarrant"),
    ("Austin", "TX"): ((787,), "Travis"), ("Columbus", "OH"): ((432,), "Franklin"),
    ("Louisville", "KY"): ((402,), "Jefferson"), ("Richmond", "VA"): ((232,), "Richmond City"),
    ("Oklahoma City", "OK"): ((731,), "Oklahoma"), ("Charlotte", "NC"): ((282,), "Mecklenburg"),
    ("Detroit", "MI"): ((482,), "Wayne"), ("Knoxville", "TN"): ((379,), "Knox"),
    ("Birmingham", "AL"): ((352,), "Jefferson"), ("Kansas City", "MO"): ((641,), "Jackson"),
    ("Colorado Springs", "CO"): ((809,), "El Paso"), ("Tulsa", "OK"): ((741,), "Tulsa"),
    ("Vancouver", "WA"): ((986,), "Clark"), ("Tampa", "FL"): ((336,), "Hillsborough"),
    ("Omaha", "NE"): ((681,), "Douglas"), ("Rochester", "NY"): ((146,), "Monroe"),
    ("Boca Raton", "FL"): ((334,), "Palm Beach"), ("Boston", "MA"): ((21,), "Suffolk"),
    ("Tucson", "AZ"): ((857,), "Pima"), ("Portland", "OR"): ((972,), "Multnomah"),
    ("Oakland", "CA"): ((946,), "Alameda"), ("Greensboro", "NC"): ((274,), "Guilford"),
    ("Salt Lake City", "UT"): ((841,), "Salt Lake"), ("San Jose", "CA"): ((951,), "Santa Clara"),
    ("Naples", "FL"): ((341,), "Collier"), ("Spokane", "WA"): ((992,), "Spokane"),
    ("Tallahassee", "FL"): ((323,), "Leon"), ("Grand Rapids", "MI"): ((495,), "Kent"),
    ("Fort Myers", "FL"): ((339,), "Lee"), ("Minneapolis", "MN"): ((554,), "Hennepin"),
    ("Scottsdale", "AZ"): ((852,), "Maricopa"), ("Little Rock", "AR"): ((722,), "Pulaski"),
    ("Irvine", "CA"): ((926,), "Orange"), ("Chattanooga", "TN"): ((374,), "Hamilton"),
    ("Virginia Beach", "VA"): ((234,), "Virginia Beach City"),
    ("Sacramento", "CA"): ((958,), "Sacramento"), ("Sarasota", "FL"): ((342,), "Sarasota"),
    ("Shreveport", "LA"): ((711,), "Caddo"), ("Columbia", "SC"): ((292,), "Richland"),
    ("Greenville", "SC"): ((296,), "Greenville"), ("El Paso", "TX"): ((799,), "El Paso"),
    ("Plano", "TX"): ((750,), "Collin"), ("New Orleans", "LA"): ((701,), "Orleans"),
    ("Jackson", "MS"): ((392,), "Hinds"), ("Mesa", "AZ"): ((852,), "Maricopa"),
    ("Fort Lauderdale", "FL"): ((333,), "Broward"), ("Durham", "NC"): ((277,), "Durham"),
    ("Newark", "NJ"): ((71,), "Essex"), ("Huntsville", "AL"): ((358,), "Madison"),
    ("Honolulu", "HI"): ((968,), "Honolulu"), ("Boise", "ID"): ((837,), "Ada"),
    ("Ann Arbor", "MI"): ((481,), "Washtenaw"), ("Raleigh", "NC"): ((276,), "Wake"),
    ("New York", "NY"): ((100,), "New York"), ("San Antonio", "TX"): ((782,), "Bexar"),
    ("Chicago", "IL"): ((606,), "Cook"), ("Buffalo", "NY"): ((142,), "Erie"),
}  # fmt: skip
US_STATES = frozenset(ZIP3_RANGES)
_CITY_STATE = re.compile(r"^(.+), ([A-Z]{2})$")
# A city's weight is the number of telephone exchanges (NPA-NXX) its prefixes cover, a
# whole area code counting 100, capped so no one city outweighs the rest.
MAX_CITY_WEIGHT = 250


@dataclass
class City:
    """A city with its state, telephone prefixes, weight, county and ZIPs."""

    name: str
    state: str
    prefixes: tuple[str, ...]  # national-number prefixes: NPA, NPA-N, NPA-NX or NPA-NXX
    weight: int
    county: str = ""
    zips: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How phonenumbers' geocoding data names it: `Austin, TX`."""
        return f"{self.name}, {self.state}"


@lru_cache(maxsize=1)
def _geodata() -> dict:
    from phonenumbers.geodata import GEOCODE_DATA

    return GEOCODE_DATA


@lru_cache(maxsize=1)
def us_cities() -> tuple[tuple[str, str, tuple[str, ...], int], ...]:
    """US cities in phonenumbers' geocoding data: (city, state, prefixes, weight).

    Largest first, then by state and name. A prefix (3 to 6 national digits) is kept
    when a number on it is valid and geocodes to the city.
    """
    found: dict[tuple[str, str], list[str]] = {}
    for key, names in _geodata().items():
        if not (4 <= len(key) <= 7) or key[0] != "1" or "en" not in names:
            continue
        match = _CITY_STATE.match(names["en"])
        if match and match.group(2) in US_STATES:
            found.setdefault((match.group(1), match.group(2)), []).append(key[1:])
    cities = []
    for (name, state), prefixes in found.items():
        label = f"{name}, {state}"
        usable = []
        for prefix in sorted(prefixes):
            sample = (prefix + "5550123")[:6] + "2345"
            if len(prefix) < 6:  # an area code or part of one: find an exchange in it
                sample = next(
                    (
                        n
                        for n in ((prefix + f"{x:03d}")[:6] + "2345" for x in range(200, 1000, 37))
                        if geocoded(n) == label and _valid(n)
                    ),
                    "",
                )
            if sample and geocoded(sample) == label and _valid(sample):
                usable.append(prefix)
        if usable:
            weight = min(MAX_CITY_WEIGHT, sum(min(100, 10 ** (6 - len(p))) for p in usable))
            cities.append((name, state, tuple(usable), weight))
    cities.sort(key=lambda c: (-c[3], c[1], c[0]))
    return tuple(cities)


def geocoded(national: str) -> str:
    """The place phonenumbers' geocoding data gives a 10-digit US number (longest prefix)."""
    data = _geodata()
    for length in range(7, 3, -1):
        names = data.get("1" + national[: length - 1])
        if names and "en" in names:
            return names["en"]
    return ""


def _valid(national: str) -> bool:
    """Whether a 10-digit US number is valid per phonenumbers."""
    return phonenumbers.is_valid_number(phonenumbers.parse("+1" + national))


def _stable(text: str) -> int:
    """A hash of `text` that does not change between runs (unlike hash())."""
    return zlib.crc32(text.encode())


def _zip3s(state: str) -> list[int]:
    return [z for low, high in ZIP3_RANGES[state] for z in range(low, high + 1)]


def _county(name: str, state: str) -> str:
    """The city's county: its real one when known, else one of its state's pool."""
    known = KNOWN_CITIES.get((name, state))
    if known:
        return known[1]
    pool = sorted(COMMON_COUNTIES, key=lambda c: _stable(f"{state}|{c}"))[:COUNTIES_PER_STATE]
    return pool[_stable(f"{name}|{state}") % len(pool)]


def build_places(rng: random.Random, rows: int) -> list[City]:
    """The cities a list of `rows` rows is spread over, each with its county and ZIPs.

    The pools grow with `rows`: about one city per BUSINESSES_PER_CITY rows (at least
    MIN_CITIES) and one ZIP per BUSINESSES_PER_ZIP rows, ZIPs shared out by city weight.
    The largest cities take ZIPs in their real 3-digit areas; the others in an area of
    their state those did not claim, a few ZIPs close together as real ones run.
    """
    available = us_cities()
    count = min(len(available), max(MIN_CITIES, rows // BUSINESSES_PER_CITY))
    cities = [
        City(name, state, prefixes, weight, _county(name, state))
        for name, state, prefixes, weight in available[:count]
    ]
    total_weight = sum(c.weight for c in cities)
    wanted_zips = max(count, rows // BUSINESSES_PER_ZIP)
    claimed = {z for zip3s, _ in KNOWN_CITIES.values() for z in zip3s}
    taken: set[str] = set()
    for city in cities:
        want = max(1, round(wanted_zips * city.weight / total_weight))
        known = KNOWN_CITIES.get((city.name, city.state))
        if known:
            areas = list(known[0])
        else:
            state_areas = _zip3s(city.state)
            free = [z for z in state_areas if z not in claimed] or state_areas
            start = _stable(city.name) % len(free)
            areas = free[start:] + free[:start]
        for zip3 in areas:
            offset = 1 if known else 1 + _stable(f"{city.name}|{zip3}") % 60
            while offset < 100 and len(city.zips) < want:
                code = f"{zip3:03d}{offset:02d}"
                if code not in taken:
                    taken.add(code)
                    city.zips.append(code)
                offset += rng.choice((1, 1, 2, 3))
            if len(city.zips) >= want:
                break
        if not city.zips:  # every ZIP of its areas is taken: share one
            city.zips.append(f"{areas[0]:03d}01")
    return cities


# ------------------------------------------------------------------------ people

FIRST_NAMES = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven",
    "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
    "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan",
    "Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory",
    "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron",
    "Jose", "Adam", "Nathan", "Henry", "Douglas", "Zachary", "Peter", "Kyle", "Ethan",
    "Walter", "Noah", "Jeremy", "Christian", "Keith", "Roger", "Terry", "Gerald", "Harold",
    "Sean", "Austin", "Carl", "Arthur", "Lawrence", "Dylan", "Jesse", "Jordan", "Bryan",
    "Billy", "Joe", "Bruce", "Gabriel", "Logan", "Albert", "Willie", "Alan", "Juan", "Wayne",
    "Elijah", "Randy", "Roy", "Vincent", "Ralph", "Eugene", "Russell", "Bobby", "Mason",
    "Philip", "Louis", "Carlos", "Luis", "Miguel", "Jorge", "Ricardo", "Alejandro", "Javier",
    "Manuel", "Rafael", "Hector", "Francisco", "Eduardo", "Fernando", "Tuan", "Minh", "Wei",
    "Raj", "Sanjay", "Vikram", "Amit", "Hiroshi", "Kenji", "Sung", "Jin", "Ahmed", "Omar",
    "Ali", "Tariq", "Dmitri", "Ivan", "Sergei", "Liam", "Connor", "Declan", "Malik",
    "Darnell", "Tyrone", "DeShawn", "Marcus", "Andre", "Terrell", "Cody", "Travis", "Dustin",
    "Chad", "Brett", "Shane", "Derek", "Troy", "Clayton", "Wade", "Dale", "Glenn", "Stanley",
    "Leonard", "Earl", "Howard", "Francis", "Martin", "Curtis", "Craig", "Todd", "Jimmy",
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
    "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly",
    "Emily", "Donna", "Michelle", "Carol", "Amanda", "Dorothy", "Melissa", "Deborah",
    "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia", "Kathleen", "Amy", "Angela",
    "Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen", "Samantha",
    "Katherine", "Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Maria",
    "Heather", "Diane", "Ruth", "Julie", "Olivia", "Joyce", "Virginia", "Victoria", "Kelly",
    "Lauren", "Christina", "Joan", "Evelyn", "Judith", "Megan", "Andrea", "Cheryl",
    "Hannah", "Jacqueline", "Martha", "Gloria", "Teresa", "Ann", "Sara", "Madison",
    "Frances", "Kathryn", "Janice", "Jean", "Abigail", "Alice", "Judy", "Sophia", "Grace",
    "Denise", "Amber", "Doris", "Marilyn", "Danielle", "Beverly", "Isabella", "Theresa",
    "Diana", "Natalie", "Brittany", "Charlotte", "Marie", "Kayla", "Alexis", "Lori",
    "Guadalupe", "Rosa", "Carmen", "Lucia", "Elena", "Sofia", "Ana", "Mei", "Lin", "Priya",
    "Anjali", "Yuki", "Fatima", "Aisha", "Olga", "Svetlana", "Siobhan", "Tamika", "Latoya",
    "Keisha", "Shanice", "Erin", "Colleen", "Molly", "Tiffany", "Crystal", "Wendy", "Tammy",
    "Dawn", "Tracy", "Rhonda", "Peggy", "Connie", "Vanessa", "Monica", "Veronica", "Yolanda",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins",
    "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez",
    "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James",
    "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
    "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson",
    "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West",
    "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
    "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen",
    "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson",
    "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon",
    "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd",
    "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt",
    "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan",
    "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce",
    "Vazquez", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott",
    "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley", "Andrews",
    "Alvarado", "Ray", "Delgado", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews",
    "Pena", "Richards", "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval",
    "O'Brien", "O'Connor", "O'Neil", "O'Malley", "McCarthy", "McLaughlin", "MacDonald",
    "McKenzie", "McBride", "McGuire", "de la Cruz", "De Leon", "del Rio", "Van Buren",
    "Van Dyke", "St. John", "Nakamura", "Tanaka", "Yamamoto", "Wong", "Liu", "Wang",
    "Zhang", "Huang", "Park", "Choi", "Shah", "Singh", "Kumar", "Das", "Khan", "Ali",
    "Cohen", "Levy", "Friedman", "Schwartz", "Kowalski", "Nowak", "Novak", "Horvath",
    "Ivanov", "Petrov", "Papadopoulos", "Rossi", "Russo", "Romano", "Esposito", "Bianchi",
    "Costa", "Ferreira", "Oliveira", "Dubois", "Laurent", "Fontaine", "Becker",
    "Schneider", "Fischer", "Weber", "Mueller", "Hoffmann", "Schulz", "Andersen", "Larsen",
    "Nielsen", "Johansson", "Lindqvist", "Okafor", "Adeyemi", "Mensah", "Haddad", "Nasser",
    "Abboud", "Smith-Jones", "Garcia-Lopez", "Pham", "Le", "Vu", "Hoang", "Dang", "Bui",
    "Yang", "Zhao", "Lin", "Chung", "Kang", "Cho", "Yoon", "Jung", "Sato", "Suzuki",
    "Watanabe", "Ito", "Gupta", "Sharma", "Mehta", "Reddy", "Iyer", "Chowdhury", "Rahman",
    "Hussain", "Yilmaz", "Kaya", "Demir", "Abdullah", "Osei", "Boateng", "Eze", "Nwosu",
    "Dlamini", "Fitzgerald", "Gallagher", "Donovan", "Brennan", "Callahan", "Quinn",
    "Doyle", "Walsh", "Byrne", "Keane", "Lynch", "Hogan", "Sweeney", "Duffy", "Kavanagh",
    "Lindsey", "Whitaker", "Blackwell", "Holloway", "Pruitt", "Kirby", "Crane", "Sutton",
    "Bowen", "Vaughn", "Hale", "Ingram", "Barker", "Stafford", "Rowe", "Cobb", "Pope",
    "Blake", "Logan", "Kline", "Sparks", "Frost", "Bishop", "Hardy", "Goodwin", "Mack",
)  # fmt: skip
MALE_FIRST_NAMES = frozenset(FIRST_NAMES[: FIRST_NAMES.index("Mary")])
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"
TITLES = (
    ("Owner", 34), ("President", 18), ("CEO", 7), ("Manager", 6), ("Partner", 5),
    ("Principal", 3), ("Owner/Operator", 3), ("General Manager", 3), ("Vice President", 2),
    ("Founder", 2), ("Managing Member", 2), ("Office Manager", 3), ("Director", 2),
    ("Managing Partner", 2), ("Co-Owner", 2), ("Administrator", 1), ("Branch Manager", 1),
    ("Executive Director", 1), ("", 3),
)  # fmt: skip

# -------------------------------------------------------------------- businesses

# SIC code, the industry text the vendor prints beside it, the words a name uses for the
# trade, and whether the trade is a profession (PLLC, PC, PA suffixes; Dr. owners).
TRADES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("1761", "Roofing Contractors", ("Roofing", "Roofing & Siding", "Roof Systems"), False),
    ("1711", "Plumbing Contractors", ("Plumbing", "Plumbing & Drain", "Plumbers"), False),
    (
        "1711",
        "Heating & Air Conditioning Contractors",
        ("Heating & Air", "HVAC", "Air Conditioning", "Comfort Systems"),
        False,
    ),
    ("1731", "Electric Contractors", ("Electric", "Electrical Services", "Electrical"), False),
    ("1521", "General Contractors", ("Construction", "Builders", "Homes", "Remodeling"), False),
    ("1742", "Drywall Contractors", ("Drywall", "Drywall & Plaster"), False),
    ("1721", "Painting Contractors", ("Painting", "Painters", "Paint & Decor"), False),
    ("1752", "Flooring Contractors", ("Flooring", "Floors", "Carpet & Tile"), False),
    ("1771", "Concrete Contractors", ("Concrete", "Paving", "Concrete & Masonry"), False),
    ("1799", "Fence Contractors", ("Fence", "Fencing", "Fence & Deck"), False),
    (
        "0782",
        "Landscape Contractors",
        ("Landscaping", "Lawn Care", "Lawn & Garden", "Tree Service"),
        False,
    ),
    ("7342", "Pest Control Services", ("Pest Control", "Exterminators", "Termite & Pest"), False),
    ("7349", "Janitorial Services", ("Cleaning", "Janitorial", "Maid Service"), False),
    ("7217", "Carpet & Upholstery Cleaning", ("Carpet Cleaning", "Steam Cleaning"), False),
    (
        "7538",
        "Auto Repair & Service",
        ("Auto Repair", "Automotive", "Auto Care", "Car Care"),
        False,
    ),
    ("7532", "Auto Body Repair & Painting", ("Auto Body", "Collision", "Paint & Body"), False),
    ("7549", "Towing Services", ("Towing", "Wrecker Service", "Towing & Recovery"), False),
    ("5531", "Tire Dealers", ("Tire", "Tire & Wheel", "Tires"), False),
    ("5521", "Used Car Dealers", ("Auto Sales", "Motors", "Used Cars"), False),
    ("7542", "Car Washes", ("Car Wash", "Auto Spa", "Express Wash"), False),
    ("8021", "Dentists", ("Dental", "Family Dentistry", "Dental Care", "Smiles"), True),
    (
        "8011",
        "Physicians & Surgeons",
        ("Family Medicine", "Medical Clinic", "Internal Medicine", "Pediatrics"),
        True,
    ),
    ("8041", "Chiropractors", ("Chiropractic", "Spine & Wellness"), True),
    ("8042", "Optometrists", ("Eye Care", "Vision Center", "Optometry"), True),
    ("8049", "Physical Therapists", ("Physical Therapy", "Rehab", "Sports Therapy"), True),
    ("0742", "Veterinarians", ("Animal Hospital", "Veterinary Clinic", "Pet Clinic"), True),
    ("8111", "Attorneys", ("Law Firm", "Law Group", "Law Office"), True),
    ("8721", "Accountants", ("Accounting", "CPAs", "Tax & Accounting", "Bookkeeping"), True),
    ("6411", "Insurance Agents", ("Insurance", "Insurance Agency", "Insurance Group"), False),
    ("6531", "Real Estate Agents", ("Realty", "Real Estate", "Properties"), False),
    ("6282", "Financial Advisors", ("Financial", "Wealth Management", "Financial Group"), False),
    (
        "8351",
        "Child Care Centers",
        ("Child Care", "Learning Center", "Daycare", "Early Learning"),
        False,
    ),
    ("8082", "Home Health Services", ("Home Health", "Home Care", "Senior Care"), False),
    ("7231", "Beauty Salons", ("Salon", "Hair Studio", "Beauty Salon"), False),
    ("7241", "Barber Shops", ("Barber Shop", "Barbers", "Cuts"), False),
    ("7299", "Nail Salons", ("Nails", "Nail Spa", "Nail Salon"), False),
    ("7991", "Health Clubs", ("Fitness", "Gym", "CrossFit", "Athletic Club"), False),
    ("7999", "Martial Arts Instruction", ("Karate", "Martial Arts", "Taekwondo"), False),
    ("8299", "Tutoring", ("Tutoring", "Learning", "Academy"), False),
    ("0752", "Pet Grooming", ("Pet Grooming", "Dog Grooming", "Pet Spa"), False),
    ("5812", "Restaurants", ("Grill", "Cafe", "Bistro", "Kitchen", "Diner"), False),
    ("5812", "Pizza", ("Pizza", "Pizzeria"), False),
    ("5461", "Bakeries", ("Bakery", "Bake Shop", "Donuts"), False),
    ("5813", "Bars & Taverns", ("Tavern", "Pub", "Bar & Grill"), False),
    ("5992", "Florists", ("Florist", "Flowers", "Floral Design"), False),
    ("5944", "Jewelers", ("Jewelers", "Jewelry", "Fine Jewelry"), False),
    ("5921", "Liquor Stores", ("Liquor", "Wine & Spirits", "Package Store"), False),
    ("5251", "Hardware Stores", ("Hardware", "Supply", "Hardware & Supply"), False),
    ("5712", "Furniture Stores", ("Furniture", "Home Furnishings", "Mattress"), False),
    ("5912", "Pharmacies", ("Pharmacy", "Drug Store", "Apothecary"), False),
    ("7216", "Dry Cleaners", ("Dry Cleaners", "Cleaners", "Laundry"), False),
    ("7221", "Photographers", ("Photography", "Photo Studio"), False),
    ("7261", "Funeral Homes", ("Funeral Home", "Funeral Services", "Memorial Chapel"), False),
    ("7699", "Locksmiths", ("Locksmith", "Lock & Key", "Lock & Safe"), False),
    ("7629", "Appliance Repair", ("Appliance Repair", "Appliance Service"), False),
    ("7378", "Computer Repair", ("Computer Repair", "PC Repair", "Tech Services"), False),
    ("7371", "Software Development", ("Software", "Technologies", "IT Solutions"), False),
    ("8742", "Management Consultants", ("Consulting", "Advisors", "Partners"), False),
    ("7311", "Advertising Agencies", ("Marketing", "Media", "Advertising"), False),
    ("7363", "Employment Agencies", ("Staffing", "Personnel", "Staffing Solutions"), False),
    ("4724", "Travel Agencies", ("Travel", "Tours", "Travel Agency"), False),
    ("4212", "Trucking", ("Trucking", "Freight", "Transport", "Logistics"), False),
    ("4214", "Moving Companies", ("Moving", "Movers", "Moving & Storage"), False),
    ("4225", "Self Storage", ("Storage", "Self Storage", "Mini Storage"), False),
    ("3599", "Machine Shops", ("Machine", "Machine Works", "Precision Machining"), False),
    ("7692", "Welding", ("Welding", "Fabrication", "Welding & Fabrication"), False),
    ("2434", "Cabinet Makers", ("Cabinets", "Cabinetry", "Woodworks"), False),
    ("2752", "Printing", ("Printing", "Print Shop", "Graphics"), False),
    ("3993", "Signs", ("Signs", "Sign Company", "Signs & Graphics"), False),
    ("7389", "Pool Service", ("Pool Service", "Pools", "Pool & Spa"), False),
    ("1794", "Excavating Contractors", ("Excavating", "Excavation", "Dirt Works"), False),
    ("7641", "Upholstery", ("Upholstery", "Upholstering"), False),
    ("5511", "New Car Dealers", ("Ford", "Chevrolet", "Auto Group"), False),
    ("7011", "Hotels & Motels", ("Inn", "Motel", "Lodge", "Suites"), False),
    ("7215", "Laundromats", ("Laundromat", "Coin Laundry", "Wash & Fold"), False),
)
PLACE_WORDS = (
    "Hillcrest", "Bluebonnet", "Keystone", "Capitol", "Summit", "Pioneer", "Liberty",
    "Heritage", "Cornerstone", "Riverside", "Lakeside", "Evergreen", "Silver Creek",
    "Red Rock", "Prairie", "Harbor", "Coastal", "Mountain View", "Valley", "Sunrise",
    "Sunset", "Northern", "Southern", "Eastside", "Westside", "Frontier", "Granite",
    "Cedar", "Oak Hill", "Maple", "Willow", "Magnolia", "Lone Star", "Desert Sun",
    "Blue Ridge", "Pinnacle", "Anchor", "Beacon", "Compass", "Horizon", "Legacy", "Patriot",
    "Eagle", "Falcon", "Crown", "Cypress", "Palmetto", "Sequoia", "Aspen", "Birchwood",
    "Brookside", "Creekside", "Fairview", "Glenwood", "Greenfield", "Highland", "Ironwood",
    "Kingsley", "Lakeview", "Meadowbrook", "Northgate", "Oakwood", "Parkside", "Pinecrest",
    "Ridgeview", "Rolling Hills", "Sandstone", "Shoreline", "Stonebridge", "Timberline",
    "Tri-County", "Twin Oaks", "Westwood", "Wildwood", "Windmill", "Bayview", "Canyon",
    "Clearwater", "Copper Creek", "Deer Park", "Driftwood", "Elmwood", "Foxfire",
    "Gateway", "Golden Valley", "Hidden Springs", "Indian Hills", "Juniper", "Laurel",
    "Mesa", "Mission", "Old Town", "Orchard", "Peachtree", "Quail Run", "Redwood",
    "Saddleback", "Seaside", "Southpoint", "Spring Valley", "Sugar Creek", "Tidewater",
    "Union Square", "Village", "Walnut Creek", "Whispering Pines", "Yellowstone", "Bayou",
    "Big Sky", "Blue Water", "Briarwood", "Cardinal", "Centennial", "Chestnut", "Crossroads",
    "Emerald", "Gulf Coast", "Harvest", "Heartland", "Hometown", "Keystone State",
    "Lighthouse", "Mainland", "Midwest", "Monarch", "Mustang", "North Star", "Olympic",
    "Pacific", "Piedmont", "Rocky Mountain", "Sandy Creek", "Sierra", "Southwind",
    "Stonegate", "Sycamore", "Tall Pines", "Thunderbird", "Trinity", "Upland", "Vista",
    "Wolf Creek",
)  # fmt: skip
ADJECTIVES = (
    "Precision", "Quality", "Reliable", "Premier", "Elite", "Superior", "Advanced",
    "Express", "Pro", "Total", "Complete", "Custom", "Affordable", "American",
    "All American", "First Choice", "Absolute", "Accurate", "Dependable", "Family",
    "Friendly", "Honest", "Integrity", "Trusted", "Ace", "Apex", "Prime", "Royal",
    "Modern", "Classic", "Signature", "Allied", "United", "National", "Metro", "City Wide",
    "Neighborhood", "Hometown", "Genuine", "Smart", "Rapid", "Right Way", "Blue Sky",
    "Bright", "Green Leaf", "Five Star", "True North", "Golden", "Platinum", "Diamond",
)  # fmt: skip
INITIALS = (
    "A1", "AAA", "ABC", "A-Plus", "J&R", "B&B", "K&M", "D&L", "T&S", "R&R", "JMT", "1st Choice",
    "24/7", "All Star", "A&M", "C&C", "M&M", "JB", "RJ", "TLC", "KC", "DJ", "S&W", "G&G",
)  # fmt: skip
SERVICE_WORDS = ("Services", "Solutions", "Group", "Center", "Company", "& Supply", "Pros")
LEGAL_SUFFIXES = (
    ("LLC", 30), ("Inc", 17), ("Inc.", 4), ("Co", 3), ("Corp", 3), ("Ltd", 1), ("", 42),
)  # fmt: skip
PROFESSIONAL_SUFFIXES = (("PLLC", 22), ("PC", 14), ("PA", 8), ("LLC", 18), ("Inc", 8), ("", 30))
# Suffixes a business name can be given in another list: the same legal entity.
SUFFIX_SWAPS = {
    "LLC": ("Inc", "", "L.L.C."), "Inc": ("LLC", "", "Inc."), "Inc.": ("LLC", "", "Inc"),
    "": ("LLC", "Inc"), "Co": ("Company", ""), "Corp": ("Inc", "Corporation"),
    "PLLC": ("", "PC", "P.L.L.C."), "PC": ("", "PLLC"), "PA": ("", "P.A."),
}  # fmt: skip
_LEGAL_WORDS = frozenset(
    {"llc", "inc", "co", "corp", "ltd", "pllc", "pc", "pa", "company", "corporation"}
)

STREET_NAMES = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Walnut", "Church", "Mill", "Center", "Spring", "River", "Jefferson", "Lincoln",
    "Madison", "Franklin", "Jackson", "Highland", "Sunset", "Ridge", "Meadow", "Forest",
    "Valley", "Cherry", "Willow", "Chestnut", "Dogwood", "Hickory", "Magnolia", "Poplar",
    "Sycamore", "Birch", "Laurel", "Vine", "Market", "Front", "Broad", "High", "Water",
    "Bridge", "Commerce", "Industrial", "Railroad", "Depot", "College", "University",
    "School", "Academy", "Airport", "Harbor", "Bay", "Ocean", "Beach", "Shore", "Canyon",
    "Mesa", "Prairie", "Ranch", "Farm", "Orchard", "Vineyard", "Country Club", "Golf",
    "Lakeview", "Parkview", "Riverview", "Fairview", "Grandview", "Mountain View", "Kings",
    "Queens", "Union", "Liberty", "Independence", "Freedom", "Heritage", "Pioneer",
    "Frontier", "Colonial", "Federal", "State", "Capitol", "Adams", "Monroe", "Wilson",
    "Grant", "Roosevelt", "Kennedy", "Martin Luther King Jr", "Cesar Chavez", "Dr Pepper",
    "Peachtree", "Magnolia Park", "Old Mill", "Old Post", "Stagecoach", "Wagon Wheel",
    "Blackberry", "Blueberry", "Briar", "Brook", "Cobblestone", "Deer Run", "Eagle",
    "Falcon", "Fox Run", "Hawthorne", "Heather", "Ivy", "Juniper", "Lilac", "Lavender",
    "Mockingbird", "Nightingale", "Partridge", "Quail", "Robin", "Sparrow", "Swallow",
    "Bluebird", "Cardinal", "Dove", "Raven", "Alamo", "Bandera", "Guadalupe", "San Pedro",
    "El Camino", "Santa Fe", "Rio Grande", "Congress", "Lamar", "Burnet", "Anderson",
    "Broadway", "Wall", "Canal", "Court", "Division", "Emerson", "Garfield", "Hamilton",
    "Irving", "Logan", "Marshall", "Nelson", "Oakland", "Patterson", "Quincy", "Sheridan",
    "Thompson", "Vernon", "Walker", "York", "Belmont", "Clinton", "Dayton", "Euclid",
    "Glenwood", "Hollywood", "Kingston", "Lexington", "Manchester", "Newport", "Oxford",
    "Princeton", "Richmond", "Salem", "Trenton", "Vermont", "Windsor", "Yale",
)  # fmt: skip
NUMBERED = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th",
            "12th", "14th", "15th", "16th", "18th", "21st", "23rd", "27th", "34th", "45th",
            "51st", "62nd", "79th", "86th", "112th", "135th")  # fmt: skip
# USPS abbreviation, how people spell it out, and how often lists use it.
STREET_SUFFIXES = (
    ("St", "Street", 24), ("Ave", "Avenue", 17), ("Rd", "Road", 15), ("Dr", "Drive", 12),
    ("Blvd", "Boulevard", 6), ("Ln", "Lane", 5), ("Way", "Way", 4), ("Ct", "Court", 3),
    ("Pkwy", "Parkway", 3), ("Hwy", "Highway", 2), ("Pl", "Place", 2), ("Cir", "Circle", 2),
    ("Trl", "Trail", 2), ("Ter", "Terrace", 1), ("Loop", "Loop", 1), ("Plz", "Plaza", 1),
)  # fmt: skip
DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West", "NE": "Northeast",
              "NW": "Northwest", "SE": "Southeast", "SW": "Southwest"}  # fmt: skip
UNIT_FORMS = ("Ste {n}", "Suite {n}", "# {n}", "Unit {a}", "Bldg {b}", "Ste {n}", "Ste {a}")

EMPLOYEES_TEXT = (
    ("1 to 4", 34), ("5 to 9", 24), ("10 to 19", 16), ("20 to 49", 12), ("50 to 99", 5),
    ("100 to 249", 3), ("250 to 499", 1), ("", 5),
)  # fmt: skip
EMPLOYEES_CODE = dict(zip("ABCDEFG", [e for e, _ in EMPLOYEES_TEXT], strict=False))
SALES_TEXT = (
    ("Less Than $500,000", 30), ("$500,000 to $1 Million", 24), ("$1 to 2.5 Million", 18),
    ("$2.5 to 5 Million", 10), ("$5 to 10 Million", 6), ("$10 to 20 Million", 3),
    ("$20 to 50 Million", 1), ("", 8),
)  # fmt: skip
SALES_CODE = dict(zip("ABCDEFG", [s for s, _ in SALES_TEXT], strict=False))
FREE_MAIL = ("gmail.com", "yahoo.com", "aol.com", "outlook.com", "hotmail.com", "att.net",
             "comcast.net", "icloud.com", "sbcglobal.net", "verizon.net")  # fmt: skip
TLDS = (("com", 80), ("net", 10), ("biz", 3), ("us", 3), ("org", 2), ("co", 2))

# ------------------------------------------------------------------- perturbations

PERTURBATIONS = (
    ("name_typo", 18),
    ("legal_suffix", 16),
    ("owner_order", 16),
    ("suite", 12),
    ("street_spelling", 12),
    ("phone_format", 16),
    ("email_case", 6),
    ("phone_missing", 4),
)
JUNK_KINDS = ("placeholder_name", "owner_no_phone", "owner_bad_phone", "empty_cells")
PLACEHOLDERS = ("N/A", "#N/A", "NULL", "-", "n/a", "(blank)", "none", "Unknown", "TBD", "")
BAD_PHONES = ("555-1234", "0000000000", "123", "111-111-1111", "999", "(000) 000-0000")


def _weighted(pairs: Sequence[tuple[object, int]]) -> tuple[list, list[int]]:
    values = [v for v, _ in pairs]
    cumulative = list(itertools.accumulate(w for _, w in pairs))
    return values, cumulative


class _Picker:
    """Weighted choices without building the cumulative weights each time."""

    def __init__(self, rng: random.Random, pairs: Sequence[tuple[object, int]]) -> None:
        self.rng = rng
        self.values, self.cumulative = _weighted(pairs)
        self.total = self.cumulative[-1]

    def __call__(self):
        return self.values[bisect.bisect(self.cumulative, self.rng.random() * self.total)]


def name_key(name: str) -> str:
    """A business name reduced for comparison: lower case, `&` -> and, no legal suffix."""
    text = name.lower().replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", re.sub(r"[.'’]", "", text)).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in _LEGAL_WORDS:
        words.pop()
    return " ".join(words)


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[1:] if len(digits) == 11 and digits[0] == "1" else digits


@dataclass
class Business:
    """One original business of the list, before it is written as a row."""

    truth: str
    core: str  # the name without its legal suffix
    suffix: str
    first: str
    middle: str
    last: str
    honorific: str
    name_suffix: str
    title: str
    number: str
    direction: str
    street: str
    street_suffix: tuple[str, str]  # (abbreviation, spelled out)
    unit: str
    city: City
    zip: str
    phone: str  # 10 digits
    mobile: str  # 10 digits or ""
    email: str
    website: str
    sic: str
    industry: str
    employees: str
    sales: str

    @property
    def name(self) -> str:
        """The business name as the list prints it."""
        return f"{self.core} {self.suffix}".strip()

    @property
    def contact(self) -> str:
        """The owner's name as the list prints it: `Dr. John A. Smith Jr.`."""
        parts = (self.honorific, self.first, self.middle, self.last, self.name_suffix)
        return " ".join(p for p in parts if p)


class ListGenerator:
    """Makes the businesses, their duplicates and the junk rows of one list."""

    def __init__(self, rows: int, seed: int = 7, dup_rate: float = 0.10) -> None:
        self.rows = rows
        self.dup_rate = dup_rate
        self.rng = random.Random(seed)
        rng = self.rng
        self.cities = build_places(rng, rows)
        self.pick_city = _Picker(rng, [(c, c.weight) for c in self.cities])
        self.pick_title = _Picker(rng, TITLES)
        self.pick_suffix = _Picker(rng, LEGAL_SUFFIXES)
        self.pick_professional_suffix = _Picker(rng, PROFESSIONAL_SUFFIXES)
        self.pick_street_suffix = _Picker(rng, [((a, s), w) for a, s, w in STREET_SUFFIXES])
        self.pick_employees = _Picker(rng, EMPLOYEES_TEXT)
        self.pick_sales = _Picker(rng, SALES_TEXT)
        self.pick_tld = _Picker(rng, TLDS)
        self.pick_perturbation = _Picker(rng, PERTURBATIONS)
        # What must stay unique among distinct businesses.
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.domains: set[str] = set()
        self.name_zips: set[tuple[str, str]] = set()
        self.owner_addresses: set[tuple[str, str, str]] = set()
        self.perturbed: Counter = Counter()
        self.shared: Counter = Counter()  # what second businesses share with the first
        self.phone_checks = 0

    # --- originals ---------------------------------------------------------------

    def _phone(self, city: City) -> str:
        """A valid, unused number on one of the city's prefixes."""
        rng = self.rng
        while True:
            prefix = rng.choice(city.prefixes)
            rest = 10 - len(prefix)
            national = prefix + f"{rng.randrange(10**rest):0{rest}d}"
            if national in self.phones or (rest > 4 and geocoded(national) != city.label):
                continue
            self.phone_checks += 1
            if _valid(national):
                self.phones.add(national)
                return national

    def _business_core(self, city: City, trade: tuple, last: str, first: str) -> str:
        rng = self.rng
        word = rng.choice(trade[2])
        kind = rng.random()
        if kind < 0.24:
            return f"{rng.choice(PLACE_WORDS)} {word}"
        if kind < 0.38:
            return f"{rng.choice((last, rng.choice(LAST_NAMES)))} {word}"
        if kind < 0.42:
            return f"{last} & Sons {word}"
        if kind < 0.47:
            other = rng.choice(LAST_NAMES)
            return f"{last} & {other}" if trade[3] else f"{last} & {other} {word}"
        if kind < 0.53:
            street = rng.choice(STREET_NAMES)
            return f"{street} Street {word}" if rng.random() < 0.6 else f"{street} {word}"
        if kind < 0.67:
            return f"{rng.choice(ADJECTIVES)} {word}"
        if kind < 0.75:
            return f"{rng.choice(INITIALS)} {word}"
        if kind < 0.81:
            return f"{first}'s {word}"
        if kind < 0.88:
            return f"{city.name} {word}"
        fits = [w for w in SERVICE_WORDS if w.strip("& ") not in word]
        service = rng.choice([w for w in fits if not ("&" in w and "&" in word)])
        return f"{rng.choice(PLACE_WORDS)} {word} {service}"

    def _street(self) -> tuple[str, str, str, tuple[str, str], str]:
        """House number, directional, street name, suffix and unit."""
        rng = self.rng
        size = rng.random()
        if size < 0.05:
            number = rng.randint(1, 99)
        elif size < 0.45:
            number = rng.randint(100, 999)
        elif size < 0.9:
            number = rng.randint(1000, 9999)
        else:
            number = rng.randint(10000, 29999)
        direction = rng.choice(tuple(DIRECTIONS)) if rng.random() < 0.2 else ""
        if rng.random() < 0.04:
            street, suffix = f"Highway {rng.randint(1, 299)}", ("", "")
        else:
            street = rng.choice(NUMBERED) if rng.random() < 0.12 else rng.choice(STREET_NAMES)
            suffix = self.pick_street_suffix()
        unit = ""
        if rng.random() < 0.18:
            unit = rng.choice(UNIT_FORMS).format(
                n=rng.choice((rng.randint(100, 450), rng.randint(1, 30))),
                a=rng.choice("ABCDEFGH"),
                b=rng.randint(1, 12),
            )
        return str(number), direction, street, suffix, unit

    def _domain(self, core: str, city: City) -> str:
        slug = re.sub(r"[^a-z0-9]+", "", core.lower().replace("&", "and"))[:28] or "biz"
        candidates = [slug, slug + re.sub(r"[^a-z]", "", city.name.lower())[:12]]
        while True:
            stem = candidates.pop(0) if candidates else f"{slug}{self.rng.randint(2, 9999)}"
            domain = f"{stem}.{self.pick_tld()}"
            if domain not in self.domains:
                self.domains.add(domain)
                return domain

    def _email(self, first: str, last: str, domain: str) -> str:
        rng = self.rng
        f = re.sub(r"[^a-z]", "", first.lower())
        surname = re.sub(r"[^a-z]", "", last.lower())
        for _ in range(20):
            style = rng.random() if f and surname else 0.7
            if style < 0.3:
                email = f"{f}@{domain}"
            elif style < 0.5:
                email = f"{f}.{surname}@{domain}"
            elif style < 0.62:
                email = f"{f[:1]}{surname}@{domain}"
            elif style < 0.8:
                email = f"{rng.choice(('info', 'office', 'contact', 'sales'))}@{domain}"
            else:
                tail = rng.choice(("", str(rng.randint(1, 99)), str(rng.randint(1950, 2005))))
                email = f"{f}{rng.choice(('.', '', '_'))}{surname}{tail}@{rng.choice(FREE_MAIL)}"
            if email not in self.emails:
                self.emails.add(email)
                return email
        email = f"{f or 'office'}.{surname}.{len(self.emails)}@{domain}"
        self.emails.add(email)
        return email

    def original(self, truth: str) -> Business:
        """A new business, unique on every strong identifier."""
        rng = self.rng
        city = self.pick_city()
        zip_code = rng.choice(city.zips)
        trade = rng.choice(TRADES)
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            core = self._business_core(city, trade, last, first)
            if (name_key(core), zip_code) not in self.name_zips:
                break
        self.name_zips.add((name_key(core), zip_code))
        suffix = self.pick_professional_suffix() if trade[3] else self.pick_suffix()
        while True:
            number, direction, street, street_suffix, unit = self._street()
            owner_address = (f"{first} {last}".lower(), f"{number} {street}".lower(), zip_code)
            if owner_address not in self.owner_addresses:
                break
        self.owner_addresses.add(owner_address)
        middle = rng.choice(MIDDLE_INITIALS) + rng.choice((".", "")) if rng.random() < 0.12 else ""
        honorific = "Dr." if trade[3] and trade[0] != "8111" and rng.random() < 0.25 else ""
        male = first in MALE_FIRST_NAMES
        name_suffix = (
            rng.choice(("Jr.", "Sr.", "III", "II")) if male and rng.random() < 0.05 else ""
        )
        title = self.pick_title()
        if rng.random() < NO_CONTACT_RATE:  # the vendor has no owner for this business
            first = middle = last = honorific = name_suffix = title = ""
        phone = self._phone(city) if rng.random() < 0.97 else ""
        mobile = self._phone(city) if first and rng.random() < 0.35 else ""
        business = Business(
            truth=truth,
            core=core,
            suffix=suffix,
            first=first,
            middle=middle,
            last=last,
            honorific=honorific,
            name_suffix=name_suffix,
            title=title,
            number=number,
            direction=direction,
            street=street,
            street_suffix=street_suffix,
            unit=unit,
            city=city,
            zip=zip_code,
            phone=phone,
            mobile=mobile,
            email="",
            website="",
            sic=trade[0],
            industry=trade[1],
            employees="",
            sales="",
        )
        self._finish(business)
        return business

    def _finish(self, b: Business, email: str = "") -> None:
        """Give a business its website, email (unless given), employees and sales."""
        rng = self.rng
        domain = self._domain(b.core, b.city) if rng.random() < 0.6 else ""
        if email:
            b.email = email
        elif rng.random() < 0.40:
            b.email = self._email(b.first, b.last, domain or self._domain(b.core, b.city))
        if domain:
            b.website = rng.choice(("www.", "www.", "", "http://www.")) + domain
        b.employees, b.sales = self.pick_employees(), self.pick_sales()
        if rng.random() < 0.12:  # some lists carry the vendor's letter codes instead
            b.employees = next((c for c, t in EMPLOYEES_CODE.items() if t == b.employees), "")
            b.sales = next((c for c, t in SALES_CODE.items() if t == b.sales), "")

    def second_business(self, owner: Business, truth: str) -> Business:
        """Another business of an earlier owner: the same person in the same ZIP.

        A different trade and name and its own office phone; half the time at the same
        street address (another suite), the owner's mobile when there is one, and half
        the time the owner's personal email. A resolver must keep the two apart.
        """
        rng = self.rng
        trade = rng.choice([t for t in TRADES if t[0] != owner.sic])
        while True:
            core = self._business_core(owner.city, trade, owner.last, owner.first)
            if (name_key(core), owner.zip) not in self.name_zips:
                break
        self.name_zips.add((name_key(core), owner.zip))
        if rng.random() < 0.5:
            street = (owner.number, owner.direction, owner.street, owner.street_suffix)
            unit = f"Ste {rng.randint(100, 450)}"
            self.shared["address"] += 1
        else:
            *street, unit = self._street()
        if owner.mobile:
            self.shared["mobile"] += 1
        personal = owner.email.rpartition("@")[2] in FREE_MAIL
        email = owner.email if personal and rng.random() < 0.5 else ""
        if email:
            self.shared["email"] += 1
        business = Business(
            truth=truth,
            core=core,
            suffix=self.pick_professional_suffix() if trade[3] else self.pick_suffix(),
            first=owner.first,
            middle=owner.middle,
            last=owner.last,
            honorific=owner.honorific,
            name_suffix=owner.name_suffix,
            title=self.pick_title(),
            number=street[0],
            direction=street[1],
            street=street[2],
            street_suffix=street[3],
            unit=unit,
            city=owner.city,
            zip=owner.zip,
            phone=self._phone(owner.city) if rng.random() < 0.97 else "",
            mobile=owner.mobile,
            email="",
            website="",
            sic=trade[0],
            industry=trade[1],
            employees="",
            sales="",
        )
        self._finish(business, email)
        return business

    # --- rows --------------------------------------------------------------------

    @staticmethod
    def _format_phone(national: str, style: str = "paren") -> str:
        if not national:
            return ""
        a, b, c = national[:3], national[3:6], national[6:]
        return {
            "paren": f"({a}) {b}-{c}",
            "dash": f"{a}-{b}-{c}",
            "dot": f"{a}.{b}.{c}",
            "intl": f"+1 {a} {b} {c}",
            "plain": national,
            "one": f"1-{a}-{b}-{c}",
        }[style]

    def row(self, b: Business, **changes) -> list[str]:
        """The CSV cells of a business, with `changes` over its printed values."""
        street_word = b.street_suffix[1] if changes.get("spelled") else b.street_suffix[0]
        direction = DIRECTIONS.get(b.direction, "") if changes.get("spelled") else b.direction
        unit = changes.get("unit", b.unit)
        address = " ".join(p for p in (b.number, direction, b.street, street_word, unit) if p)
        style = changes.get("phone_style", "paren")
        return [
            changes.get("name", b.name),
            changes.get("contact", b.contact),
            b.title,
            address,
            b.city.name,
            b.city.state,
            b.zip,
            b.city.county,
            "" if changes.get("no_phone") else self._format_phone(b.phone, style),
            self._format_phone(b.mobile, style),
            changes.get("email", b.email),
            b.website,
            b.sic,
            b.industry,
            b.employees,
            b.sales,
            b.truth,
        ]

    def _typo(self, core: str) -> str:
        """One adjacent swap or one dropped letter, away from the first two letters."""
        rng = self.rng
        spots = [i for i in range(2, len(core) - 1) if core[i].isalpha() and core[i + 1].isalpha()]
        if not spots:
            return core + "s"
        i = rng.choice(spots)
        if rng.random() < 0.5 and core[i] != core[i + 1]:
            return core[:i] + core[i + 1] + core[i] + core[i + 2 :]
        return core[:i] + core[i + 1 :]

    def _perturb(self, b: Business, kind: str, changes: dict) -> bool:
        """Apply one perturbation to `changes`; False when it does not fit this business."""
        rng = self.rng
        name = changes.get("name", b.name)
        if kind == "name_typo":
            core = self._typo(b.core)
            changes["name"] = f"{core} {name[len(b.core) :].strip()}".strip()
        elif kind == "legal_suffix":
            if b.suffix not in SUFFIX_SWAPS:
                return False
            core = name[: len(name) - len(b.suffix)].strip() if b.suffix else name
            changes["name"] = f"{core} {rng.choice(SUFFIX_SWAPS[b.suffix])}".strip()
        elif kind == "owner_order":
            if not b.last:
                return False
            given = " ".join(p for p in (b.first, b.middle) if p)
            changes["contact"] = rng.choice(
                (f"{b.last}, {given}", f"{b.last} {given}", b.contact.upper(), b.contact.upper())
            )
        elif kind == "suite":
            n = rng.randint(100, 450)
            changes["unit"] = rng.choice((f"Ste {n}", f"Suite {n}", f"# {n}", f"Unit {n}"))
        elif kind == "street_spelling":
            if b.street_suffix[0] == b.street_suffix[1] and not b.direction:
                return False
            changes["spelled"] = True
        elif kind == "phone_format":
            if not (b.phone or b.mobile):
                return False
            changes["phone_style"] = rng.choice(("dot", "intl", "plain", "one", "dash"))
        elif kind == "email_case":
            if not b.email:
                return False
            local, _, domain = b.email.partition("@")
            changes["email"] = rng.choice(
                (b.email.upper(), f"{local.title()}@{domain.title()}", f"{local}@{domain.upper()}")
            )
        elif kind == "phone_missing":
            if not b.phone:
                return False
            changes["no_phone"] = True
        return True

    def _keeps_identifier(self, b: Business, cells: list[str]) -> bool:
        """Whether a copy still shares a phone, an email or its exact name in its ZIP."""
        phones = {_digits(cells[8]), _digits(cells[9])} - {""}
        if phones & ({b.phone, b.mobile} - {""}):
            return True
        if b.email and cells[10].lower() == b.email.lower():
            return True
        return name_key(cells[0]) == name_key(b.name) and cells[6] == b.zip

    def duplicate(self, b: Business) -> list[str]:
        """A copy of `b` with one or two perturbations that keeps a strong identifier."""
        for _ in range(50):
            kinds: list[str] = []
            changes: dict = {}
            for _ in range(1 if self.rng.random() < 0.6 else 2):
                kind = self.pick_perturbation()
                if kind not in kinds and self._perturb(b, kind, changes):
                    kinds.append(kind)
            if not kinds:
                continue
            cells = self.row(b, **changes)
            if self._keeps_identifier(b, cells) and cells != self.row(b):
                self.perturbed.update(kinds)
                self.perturbed[f"{len(kinds)} perturbation{'s' if len(kinds) > 1 else ''}"] += 1
                return cells
        raise RuntimeError(f"could not make a duplicate of {b.truth}")  # pragma: no cover

    def junk(self, kind: str) -> list[str]:
        """A row that must be rejected: no usable name, or an owner without a valid phone."""
        rng = self.rng
        city = self.pick_city()
        cells = [""] * len(HEADER)
        cells[4], cells[5], cells[6] = city.name, city.state, rng.choice(city.zips)
        if kind == "placeholder_name":
            cells[0] = rng.choice(PLACEHOLDERS)
            cells[1] = rng.choice(PLACEHOLDERS)
            cells[8] = rng.choice(("", *BAD_PHONES))
        elif kind == "owner_no_phone":
            cells[1] = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            cells[2] = "Owner"
        elif kind == "owner_bad_phone":
            cells[1] = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            cells[8] = rng.choice(BAD_PHONES)
        else:  # empty_cells: only place columns, or stray punctuation
            cells[0] = rng.choice(("", "-", "--", "."))
            cells[3] = rng.choice(("", "N/A"))
        return cells

    # --- the whole list ------------------------------------------------------------

    def generate(self) -> tuple[list[list[str]], dict]:
        """Every row in file order, and figures about them."""
        rng = self.rng
        junk_count = round(self.rows * JUNK_RATE)
        dup_count = round(self.rows * self.dup_rate)
        original_count = self.rows - junk_count - dup_count
        originals: list[Business] = []
        seconds = 0
        for n in range(original_count):
            truth = f"T{n + 1:07d}"
            owner = originals[rng.randrange(n)] if n > 100 else None
            if owner and owner.last and rng.random() < SECOND_BUSINESS_RATE:
                originals.append(self.second_business(owner, truth))
                seconds += 1
            else:
                originals.append(self.original(truth))
        # Sort keys: originals in order; a copy lands anywhere after its original.
        keyed: list[tuple[float, int, list[str]]] = [
            ((n + 0.5) / original_count, 0, self.row(b)) for n, b in enumerate(originals)
        ]
        copies: Counter = Counter()
        for _ in range(dup_count):
            n = rng.randrange(original_count)
            copies[n] += 1
            low = (n + 0.5) / original_count
            keyed.append((rng.uniform(low, 1.0), 1, self.duplicate(originals[n])))
        junk_kinds: Counter = Counter()
        for _ in range(junk_count):
            kind = rng.choice(JUNK_KINDS)
            junk_kinds[kind] += 1
            keyed.append((rng.random(), 2, self.junk(kind)))
        keyed.sort(key=lambda item: (item[0], item[1]))
        rows = [cells for _, _, cells in keyed]
        per_zip = Counter(b.zip for b in originals)
        cluster_sizes = Counter(k + 1 for k in copies.values())
        stats = {
            "rows": len(rows),
            "originals": original_count,
            "duplicates": dup_count,
            "junk": junk_count,
            "junk_kinds": dict(junk_kinds),
            "second_businesses": seconds,
            "second_businesses_sharing": dict(self.shared),
            "without_contact": sum(1 for b in originals if not b.last),
            "true_pairs": sum(size * (size - 1) // 2 * n for size, n in cluster_sizes.items()),
            "cluster_sizes": {str(k): v for k, v in sorted(cluster_sizes.items())},
            "perturbations": dict(self.perturbed.most_common()),
            "cities": len(self.cities),
            "states": len({c.state for c in self.cities}),
            "zips": sum(len(c.zips) for c in self.cities),
            "zips_used": len(per_zip),
            "businesses_per_zip_mean": round(original_count / max(1, len(per_zip)), 1),
            "businesses_per_zip_max": max(per_zip.values(), default=0),
            "with_phone": sum(1 for b in originals if b.phone),
            "with_mobile": sum(1 for b in originals if b.mobile),
            "with_email": sum(1 for b in originals if b.email),
            "with_website": sum(1 for b in originals if b.website),
            "phone_validity_checks": self.phone_checks,
        }
        return rows, stats


def write_list(path: str | Path, rows: int, seed: int = 7, dup_rate: float = 0.10) -> dict:
    """Write a list of `rows` data rows (plus the header) to `path`; figures about it."""
    if rows < 10:
        raise ValueError("a list needs at least 10 rows")
    started = time.perf_counter()
    generator = ListGenerator(rows, seed=seed, dup_rate=dup_rate)
    data, stats = generator.generate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(data)
    stats["bytes"] = path.stat().st_size
    stats["seed"] = seed
    stats["dup_rate"] = dup_rate
    stats["seconds"] = round(time.perf_counter() - started, 2)
    return stats


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.bench.listgen OUT.csv --rows N`: write a list, print its figures."""
    import json

    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.listgen",
        description="Write a realistic business list with known duplicates (Truth column).",
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, default=100_000, help="data rows (default 100000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--dup-rate", type=float, default=0.10, help="share of duplicate rows (default 0.10)"
    )
    args = parser.parse_args(argv)
    stats = write_list(args.out, args.rows, seed=args.seed, dup_rate=args.dup_rate)
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
