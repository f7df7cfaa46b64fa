"""Fast seeding of one team with many realistic leads, by SQLAlchemy core bulk inserts.

Locations and owner titles are drawn from the shipped demo sample and business names
carry their trade's SIC code and industry, so the data looks like a purchased business
list: businesses with names, addresses and industries, owners, about 60% of leads with a
mobile, some emails, tags, statuses spread across `LEAD_STATUSES` and quality scores.
Rows get explicit ids so they can be linked without reading anything back; on PostgreSQL
the id sequences are moved past them.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Column, Connection, Table, column, func, insert, inspect, select, table, text
from sqlalchemy.orm import Session

from console.models import Business, Email, Lead, Owner, Phone, Role, Team
from console.models.base import utcnow
from console.models.leads import LEAD_STATUSES
from console.services import accounts
from console.services.demo import SAMPLE_FILE
from console.services.lists.business_fields import normalized_business_name
from console.services.lists.leads import allocate_codes

TEAM_NAME = "Bench Capital"
PASSWORD = "bench-password-1"
SOURCE = "bench"
CHUNK = 2000
# A word found in about one business name in thirty, for the search benchmark.
SEARCH_WORD = "dental"
_OMIT = object()

PREFIXES = (
    "Hillcrest",
    "Bluebonnet",
    "Keystone",
    "Capitol",
    "Summit",
    "Pioneer",
    "Liberty",
    "Heritage",
    "Cornerstone",
    "Riverside",
    "Lakeside",
    "Evergreen",
    "Golden Gate",
    "Silver Creek",
    "Red Rock",
    "Prairie",
    "Harbor",
    "Coastal",
    "Mountain View",
    "Valley",
    "Sunrise",
    "Sunset",
    "Northern",
    "Southern",
    "Eastside",
    "Westside",
    "Premier",
    "Elite",
    "Allied",
    "United",
    "Frontier",
    "Granite",
    "Cedar",
    "Oak Hill",
    "Maple",
    "Willow",
    "Magnolia",
    "Lone Star",
    "Desert Sun",
    "Blue Ridge",
    "Pinnacle",
    "Anchor",
    "Beacon",
    "Compass",
    "Horizon",
    "Legacy",
    "Patriot",
    "Eagle",
    "Falcon",
    "Crown",
    "Royal",
)
# Trade words for business names, each with the SIC code and industry a list would carry.
TRADES = (
    ("Roofing", "1761", "Roofing, Siding and Sheet Metal Work"),
    ("Plumbing", "1711", "Plumbing, Heating, Air-Conditioning"),
    ("HVAC", "1711", "Plumbing, Heating, Air-Conditioning"),
    ("Auto Repair", "7538", "General Automotive Repair"),
    ("Child Care", "8351", "Child Day Care Services"),
    ("Dental", "8021", "Offices and Clinics of Dentists"),
    ("Landscaping", "0782", "Lawn and Garden Services"),
    ("Electric", "1731", "Electrical Work"),
    ("Pest Control", "7342", "Disinfecting and Pest Control Services"),
    ("Veterinary Clinic", "0742", "Veterinary Services for Animal Specialties"),
    ("Physical Therapy", "8049", "Offices of Health Practitioners, NEC"),
    ("Insurance Agency", "6411", "Insurance Agents, Brokers and Service"),
    ("Accounting", "8721", "Accounting, Auditing and Bookkeeping"),
    ("Printing", "2752", "Commercial Printing, Lithographic"),
    ("Machine Shop", "3599", "Industrial and Commercial Machinery, NEC"),
    ("Welding", "7692", "Welding Repair"),
    ("Bakery", "5461", "Retail Bakeries"),
    ("Car Wash", "7542", "Carwashes"),
    ("Fitness", "7991", "Physical Fitness Facilities"),
    ("Dry Cleaning", "7216", "Drycleaning Plants, Except Rug Cleaning"),
    ("Pool Service", "7389", "Business Services, NEC"),
    ("Flooring", "1752", "Floor Laying and Other Floor Work"),
    ("Signs", "3993", "Signs and Advertising Specialties"),
    ("Staffing", "7363", "Help Supply Services"),
    ("Trucking", "4212", "Local Trucking Without Storage"),
    ("Storage", "4225", "General Warehousing and Storage"),
    ("Home Health", "8082", "Home Health Care Services"),
    ("Pharmacy", "5912", "Drug Stores and Proprietary Stores"),
    ("Optometry", "8042", "Offices and Clinics of Optometrists"),
    ("Funeral Home", "7261", "Funeral Service and Crematories"),
)
SUFFIXES = ("LLC", "Inc", "Co", "Ltd", "Group", "& Sons", "", "", "")
FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "Ahmed",
    "Deborah",
    "Raj",
    "Priya",
    "Wei",
    "Mei",
    "Luis",
    "Maria",
    "Jose",
    "Ana",
    "Tuan",
    "Linh",
    "Omar",
    "Fatima",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Shah",
    "Kim",
    "Chen",
    "Wang",
    "O'Brien",
)
STREETS = (
    "Main St",
    "Oak Ave",
    "Market St",
    "Elm St",
    "Lakeview Dr",
    "5th Ave",
    "Park Rd",
    "Commerce Blvd",
    "Industrial Pkwy",
    "Washington St",
    "Maple Ave",
    "Cedar Ln",
    "Highland Ave",
    "Broadway",
    "Center St",
)
TAGS = ("purchased-list", "q3-2026", "hot", "retiring-owner", "referral", "revisit", "vip")
# Statuses weighted the way a working list looks: most leads untouched.
STATUS_WEIGHTS = dict(
    zip(LEAD_STATUSES, (46, 20, 16, 6, 4, 1, 5, 2), strict=True)  # sums to 100
)


@dataclass
class SeedResult:
    """What was inserted, how long it took, and how to sign in."""

    team_id: int
    operator_email: str
    password: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def leads_per_second(self) -> float:
        """Leads inserted per second of seeding."""
        return self.counts.get("leads", 0) / self.seconds if self.seconds else 0.0


def _sample() -> tuple[list[tuple[str, str, str, str, str]], list[str]]:
    """Locations (city, state, zip, county, area code) and owner titles of the demo sample."""
    with SAMPLE_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    locations = [
        (
            r["City"],
            r["State"],
            r["Zip"],
            r["County"],
            "".join(c for c in r["Phone"] if c.isdigit())[:3],
        )
        for r in rows
        if r["State"]
    ]
    titles = [r["Title"] for r in rows if r["Title"]]
    return locations, titles


def create_team(session: Session, hash_method: str) -> tuple[Team, str]:
    """The benchmark team with one user per role; returns it and the operator's email."""
    team = accounts.get_or_create_team(session, TEAM_NAME)
    emails = {}
    for role in Role:
        email = f"{role.value}@{team.slug}.example.com"
        accounts.create_user(
            session,
            team,
            email=email,
            password=PASSWORD,
            role=role,
            name=f"{role.label} Bench",
            hash_method=hash_method,
        )
        emails[role] = email
    session.flush()
    return team, emails[Role.OPERATOR]


def _next_id(conn: Connection, table: Table) -> int:
    return (conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _chunks(rows: list[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _default(column: Column):
    """The model's Python-side default of `column`, or `_OMIT` when it has none."""
    default = column.default
    if default is None:
        return _OMIT
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps it to take an execution context
    return _OMIT


def _bulk_insert(conn: Connection, model_table: Table, rows: list[dict]) -> None:
    """executemany in chunks: one compiled statement, many parameter sets.

    The statement names the columns the migrated table has, with the model's types (JSON
    and UTC timestamps bind as the app binds them). Columns the generator does not know
    get the model's default, so the seed keeps working while the models grow.
    """
    present = {c["name"] for c in inspect(conn).get_columns(model_table.name)}
    generated = set(rows[0]) if rows else set()
    columns = [c for c in model_table.c if c.name in present]
    extras = {
        c.name: value
        for c in columns
        if c.name not in generated and (value := _default(c)) is not _OMIT
    }
    names = [c.name for c in columns if c.name in generated or c.name in extras]
    statement = insert(table(model_table.name, *(column(c.name, c.type) for c in columns)))
    if set(names) != generated:
        keep = [n for n in names if n in generated]
        rows = [{**{n: row[n] for n in keep}, **extras} for row in rows]
    for chunk in _chunks(rows):
        conn.execute(statement, chunk)


def generate(team_id: int, codes: list[str], start_ids: dict[str, int], seed: int = 20261122):
    """Rows for every table, as lists of dicts keyed by column name, linked by explicit ids."""
    rng = random.Random(seed)
    locations, titles = _sample()
    now = utcnow()
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    business_id, owner_id = start_ids["businesses"], start_ids["owners"]
    phone_id, email_id, lead_id = start_ids["phones"], start_ids["emails"], start_ids["leads"]
    rows: dict[str, list[dict]] = {
        "businesses": [],
        "owners": [],
        "phones": [],
        "emails": [],
        "leads": [],
    }
    for n, code in enumerate(codes):
        # Oldest first, so ids and created_at agree as they would after real imports.
        created = now - timedelta(days=365) + timedelta(days=365) * (n + rng.random()) / len(codes)
        city, state, zip_code, county, area = rng.choice(locations)
        trade, sic, industry = rng.choice(TRADES)
        name = " ".join(
            part for part in (rng.choice(PREFIXES), trade, rng.choice(SUFFIXES)) if part
        )
        slug = "".join(c for c in name.lower() if c.isalnum())[:30]
        employees = rng.choice(((1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (None, None)))
        revenue = rng.choice(
            ((500_000, 1_000_000), (1_000_000, 2_500_000), (2_500_000, 5_000_000), (None, None))
        )
        rows["businesses"].append(
            {
                "id": business_id,
                "team_id": team_id,
                "name": name,
                "normalized_name": normalized_business_name(name),
                "street": f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state": state,
                "zip": zip_code,
                "county": county,
                "website": f"www.{slug}.example",
                "sic_code": sic,
                "naics_code": "",
                "industry": industry,
                "employees_low": employees[0],
                "employees_high": employees[1],
                "revenue_low": revenue[0],
                "revenue_high": revenue[1],
                "created_at": created,
                "updated_at": created,
            }
        )
        if rng.random() < 0.7:
            rows["phones"].append(
                _phone(phone_id, team_id, None, business_id, area, rng, "office", created)
            )
            phone_id += 1
        this_owner = None
        if rng.random() < 0.95:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            this_owner = owner_id
            rows["owners"].append(
                {
                    "id": owner_id,
                    "team_id": team_id,
                    "first_name": first,
                    "last_name": last,
                    "full_name": f"{first} {last}",
                    "title": rng.choice(titles),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            owner_id += 1
            # 0.95 * 0.632 ~ 60% of leads have a mobile.
            if rng.random() < 0.632:
                rows["phones"].append(
                    _phone(phone_id, team_id, this_owner, None, area, rng, "mobile", created)
                )
                phone_id += 1
            if rng.random() < 0.35:
                rows["emails"].append(
                    {
                        "id": email_id,
                        "team_id": team_id,
                        "owner_id": this_owner,
                        "business_id": None,
                        "address": f"{first.lower()}.{last.lower()}@{slug}.example",
                        "source": SOURCE,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                email_id += 1
        tags = rng.sample(TAGS, k=rng.choice((0, 1, 1, 1, 2, 3)))
        status = rng.choices(statuses, weights)[0]
        contacted = (
            min(now, created + timedelta(days=rng.uniform(1, 30)))
            if status not in ("new", "ready")
            else None
        )
        rows["leads"].append(
            {
                "id": lead_id,
                "team_id": team_id,
                "code": code,
                "business_id": business_id,
                "owner_id": this_owner,
                "status": status,
                "quality_score": None if rng.random() < 0.1 else rng.randint(5, 99),
                "priority": rng.choice((None, 1, 2, 3)),
                "tags": tags,
                "custom_fields": {},
                "provenance": {"source": SOURCE, "file": "bench.csv", "rows": [n + 2]},
                "last_contacted_at": contacted,
                "created_at": created,
                "updated_at": created,
            }
        )
        business_id += 1
        lead_id += 1
    return rows


def _phone(phone_id, team_id, owner_id, business_id, area, rng, kind, created) -> dict:
    validated = kind == "mobile" and rng.random() < 0.4
    return {
        "id": phone_id,
        "team_id": team_id,
        "owner_id": owner_id,
        "business_id": business_id,
        "e164": f"+1{area or '512'}555{rng.randint(0, 9999):04d}",
        "extension": "",
        "kind": kind,
        "line_type": ("mobile" if kind == "mobile" else "landline") if validated else "",
        "carrier": rng.choice(("Verizon Wireless", "T-Mobile USA", "AT&T Mobility"))
        if validated
        else "",
        "textable": True if validated else None,
        "source": SOURCE,
        "validated_at": created + timedelta(days=1) if validated else None,
        "created_at": created,
        "updated_at": created,
    }


def seed(session: Session, leads: int, hash_method: str) -> SeedResult:
    """Create the benchmark team and `leads` leads in one transaction, and commit."""
    started = time.perf_counter()
    team, operator_email = create_team(session, hash_method)
    codes = allocate_codes(session, team.id, leads)
    conn = session.connection()
    tables = {
        name: model.__table__
        for name, model in (
            ("businesses", Business),
            ("owners", Owner),
            ("phones", Phone),
            ("emails", Email),
            ("leads", Lead),
        )
    }
    start_ids = {name: _next_id(conn, table) for name, table in tables.items()}
    rows = generate(team.id, codes, start_ids)
    for name in ("businesses", "owners", "phones", "emails", "leads"):
        _bulk_insert(conn, tables[name], rows[name])
    if conn.dialect.name == "postgresql":
        for name in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    team_id = team.id
    session.commit()
    counts = {name: len(r) for name, r in rows.items()}
    counts["mobiles"] = sum(1 for p in rows["phones"] if p["kind"] == "mobile")
    return SeedResult(
        team_id=team_id,
        operator_email=operator_email,
        password=PASSWORD,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def analyze(engine) -> float:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum would soon after a bulk load; seconds taken."""
    if engine.dialect.name != "postgresql":
        return 0.0
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started
