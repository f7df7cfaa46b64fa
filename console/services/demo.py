"""The demo team: one user per role and a shipped sample of fictional businesses."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Business, Email, Lead, Owner, Phone, Role, Team, User
from console.services import accounts
from console.services.leads import allocate_codes
from console.services.normalize import normalized_business_name, parse_range, split_name
from console.services.phones import to_e164
from console.services.tenancy import of_team

DEMO_TEAM_NAME = "Demo Brokerage"
DEMO_PASSWORD = "demo-console"
DEMO_USERS: tuple[tuple[Role, str, str], ...] = (
    (Role.ADMIN, "admin@demo.example.com", "Ada Admin"),
    (Role.MANAGER, "manager@demo.example.com", "Morgan Manager"),
    (Role.OPERATOR, "operator@demo.example.com", "Oli Operator"),
    (Role.REVIEWER, "reviewer@demo.example.com", "Riley Reviewer"),
)
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "demo" / "sample_businesses.csv"
SAMPLE_SOURCE = "demo-sample"


def ensure_demo_team(session: Session, hash_method: str = accounts.DEFAULT_HASH_METHOD) -> Team:
    """The demo team with one user per role, created on first call."""
    team = accounts.get_or_create_team(session, DEMO_TEAM_NAME, is_demo=True)
    existing = set(session.scalars(select(User.email).where(of_team(User, team.id))))
    for role, email, name in DEMO_USERS:
        if email not in existing:
            accounts.create_user(
                session,
                team,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                name=name,
                hash_method=hash_method,
            )
    return team


def seed_sample(
    session: Session,
    team: Team,
    path: Path = SAMPLE_FILE,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Load the sample businesses into `team`; rows loaded before are skipped.

    `progress(done, total)` is called after each row. Returns the counts of rows read,
    leads created and rows skipped as already loaded.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    loaded = _loaded_rows(session, team.id, path.name)
    todo = [(n, row) for n, row in enumerate(rows, start=2) if n not in loaded]
    codes = iter(allocate_codes(session, team.id, len(todo))) if todo else iter(())
    for done, (row_number, row) in enumerate(todo, start=1):
        _add_sample_row(session, team.id, row, row_number, path.name, next(codes))
        if progress is not None:
            progress(done, len(todo))
    session.flush()
    return {"rows": len(rows), "created": len(todo), "skipped": len(rows) - len(todo)}


def _loaded_rows(session: Session, team_id: int, file_name: str) -> set[int]:
    provenances = session.scalars(select(Lead.provenance).where(of_team(Lead, team_id)))
    return {
        row
        for p in provenances
        if p and p.get("source") == SAMPLE_SOURCE and p.get("file") == file_name
        for row in p.get("rows", [])
    }


def _add_sample_row(
    session: Session, team_id: int, row: dict, row_number: int, file_name: str, code: str
) -> Lead:
    employees = parse_range(row.get("Employees", ""))
    revenue = parse_range(row.get("Sales Volume", ""))
    business = Business(
        team_id=team_id,
        name=row["Company Name"].strip(),
        normalized_name=normalized_business_name(row["Company Name"]),
        street=row.get("Address", "").strip(),
        city=row.get("City", "").strip(),
        state=row.get("State", "").strip().upper()[:2],
        zip=row.get("Zip", "").strip(),
        county=row.get("County", "").strip(),
        website=row.get("Web Address", "").strip(),
        sic_code=row.get("SIC Code", "").strip(),
        industry=row.get("Industry", "").strip(),
        employees_low=employees[0],
        employees_high=employees[1],
        revenue_low=revenue[0],
        revenue_high=revenue[1],
    )
    session.add(business)
    owner = None
    contact = row.get("Contact Name", "").strip()
    if contact:
        first, last = split_name(contact)
        owner = Owner(
            team_id=team_id,
            first_name=first,
            last_name=last,
            full_name=contact,
            title=row.get("Title", "").strip(),
        )
        session.add(owner)
    office = to_e164(row.get("Phone", ""))
    if office:
        session.add(
            Phone(
                team_id=team_id, business=business, e164=office, kind="office", source=SAMPLE_SOURCE
            )
        )
    mobile = to_e164(row.get("Mobile", ""))
    if mobile and owner is not None:
        session.add(
            Phone(team_id=team_id, owner=owner, e164=mobile, kind="mobile", source=SAMPLE_SOURCE)
        )
    email = row.get("Email", "").strip().lower()
    if email and owner is not None:
        session.add(Email(team_id=team_id, owner=owner, address=email, source=SAMPLE_SOURCE))
    lead = Lead(
        team_id=team_id,
        code=code,
        business=business,
        owner=owner,
        status="new",
        tags=["demo"],
        provenance={"source": SAMPLE_SOURCE, "file": file_name, "rows": [row_number]},
    )
    session.add(lead)
    return lead
